//! Joining a consumer: created (or found) on the server, pulled into a fresh local queue.

use std::sync::Arc;

use async_nats::jetstream::consumer::pull;
use serde::de::DeserializeOwned;

use super::consume::NatsConsumer;
use super::pump::{spawn_pump, Sink};
use super::settler::Settler;
use super::shared::Shared;
use super::NatsError;
use crate::mailbox::{Mailbox, MailboxConfig, OverflowPolicy};

/// Creates (or finds) the consumer and starts pulling into a fresh local queue.
pub(super) async fn join<M>(
    shared: &Arc<Shared>,
    stream: &str,
    config: pull::Config,
    of: &str,
    capacity: usize,
) -> Result<NatsConsumer<M>, NatsError>
where
    M: DeserializeOwned + Send + 'static,
{
    if capacity == 0 {
        return Err(NatsError::Config {
            field: "capacity",
            reason: "must be at least 1".to_owned(),
        });
    }
    let name = config.durable_name.clone().unwrap_or_default();
    let consumer = shared.consumer(stream, config).await?;
    let mailbox = Arc::new(
        Mailbox::new(MailboxConfig::bounded(
            capacity,
            OverflowPolicy::Block { timeout: None },
        ))
        .map_err(|reason| NatsError::Config {
            field: "capacity",
            reason: reason.to_owned(),
        })?,
    );
    let held = shared.held(capacity);
    let pump = spawn_pump(
        consumer,
        Settler::new(shared, of),
        Arc::clone(&held),
        Sink::Deliveries(Arc::clone(&mailbox)),
    );
    Ok(NatsConsumer {
        name,
        stream: stream.to_owned(),
        mailbox,
        pump,
        shared: Arc::clone(shared),
        held,
    })
}
