//! Acknowledging, naking and dead-lettering one consumer's messages with the server.

use std::sync::Arc;

use async_nats::jetstream::{self, AckKind};

use super::accounting::bump;
use super::publish::Encoded;
use super::shared::Shared;
use super::NatsError;

/// Settles messages of one consumer with the server and moves the hopeless ones to the dead
/// letters.
#[derive(Debug)]
pub(crate) struct Settler {
    pub(crate) shared: Arc<Shared>,
    /// Where this consumer's dead letters go.
    pub(crate) dead_subject: String,
}

impl Settler {
    /// The settler of the consumer `of`, dead-lettering to its own dead-letter subject.
    pub(crate) fn new(shared: &Arc<Shared>, of: &str) -> Arc<Settler> {
        Arc::new(Settler {
            shared: Arc::clone(shared),
            dead_subject: shared.subject("dead", of),
        })
    }

    pub(crate) async fn ack(&self, raw: &jetstream::Message, id: &str) -> Result<(), NatsError> {
        raw.ack().await.map_err(|e| settle_error(id, e))?;
        bump(&self.shared.counters.acked);
        Ok(())
    }

    pub(crate) async fn nak(&self, raw: &jetstream::Message, id: &str) -> Result<(), NatsError> {
        raw.ack_with(AckKind::Nak(Some(self.shared.config.nak_delay)))
            .await
            .map_err(|e| settle_error(id, e))?;
        bump(&self.shared.counters.naked);
        Ok(())
    }

    /// Publishes the message to the dead-letter stream (same payload and headers, the reason
    /// added; its id derived from the original so a repeat is de-duplicated), then terminates it.
    pub(crate) async fn dead_letter(
        &self,
        raw: &jetstream::Message,
        id: &str,
        reason: &str,
    ) -> Result<(), NatsError> {
        let mut headers = raw.headers.clone().unwrap_or_default();
        headers.insert("Agent-Dead-Reason", reason);
        let body = Encoded {
            headers,
            payload: raw.payload.clone(),
        };
        self.shared
            .publish_encoded(&self.dead_subject, &format!("dead-{id}"), &body)
            .await?;
        raw.ack_with(AckKind::Term)
            .await
            .map_err(|e| settle_error(id, e))?;
        bump(&self.shared.counters.dead_lettered);
        tracing::warn!(id, reason, "message dead-lettered");
        Ok(())
    }
}

fn settle_error(id: &str, e: impl std::fmt::Display) -> NatsError {
    NatsError::Settle {
        id: id.to_owned(),
        reason: e.to_string(),
    }
}
