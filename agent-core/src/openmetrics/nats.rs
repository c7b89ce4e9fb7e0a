//! [`NatsMetrics`]: the NATS transport's counters, its connection, and each local consumer's lag
//! as the server reports it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::task::AbortHandle;

use super::families::{single_counter, Families};
use crate::bus::nats::{
    ConnectionHealth, ConnectionState, ConsumerSnapshot, NatsCounters, NatsTransport,
};
use crate::bus::Bus;

type Read<T> = Box<dyn Fn() -> T + Send + Sync>;

/// Exports a NATS bus. The counters are read at scrape time; consumer lag needs a request to the
/// server, so a task refreshes it every `refresh` and a scrape reports its last answer (a failed
/// refresh keeps the previous one). The task stops when the collector is dropped.
pub struct NatsMetrics {
    /// The counters and the connection, read together at each scrape.
    read: Read<(NatsCounters, ConnectionHealth)>,
    consumers: Arc<Mutex<Vec<ConsumerSnapshot>>>,
    refresher: AbortHandle,
}

impl fmt::Debug for NatsMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsMetrics").finish_non_exhaustive()
    }
}

impl Drop for NatsMetrics {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

impl NatsMetrics {
    /// A collector for `bus`, refreshing consumer lag every `refresh`. Must be called from
    /// within a tokio runtime.
    pub fn new<M>(bus: &Bus<M, NatsTransport<M>>, refresh: Duration) -> NatsMetrics
    where
        M: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let consumers = Arc::new(Mutex::new(Vec::new()));
        let (read, refreshing) = (bus.clone(), bus.clone());
        let shared = Arc::clone(&consumers);
        let refresher = tokio::spawn(async move {
            loop {
                if let Ok(snapshot) = refreshing.transport().snapshot_all().await {
                    *shared.lock().unwrap_or_else(PoisonError::into_inner) = snapshot.consumers;
                }
                tokio::time::sleep(refresh).await;
            }
        })
        .abort_handle();
        NatsMetrics {
            read: Box::new(move || (read.transport().counters(), read.transport().health())),
            consumers,
            refresher,
        }
    }
}

impl Collector for NatsMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let (c, h) = (self.read)();
        let counters: [(&str, &str, u64); 10] = [
            (
                "agent_core_nats_published",
                "Messages a stream stored on this process's publish.",
                c.published,
            ),
            (
                "agent_core_nats_publish_retries",
                "Publish attempts repeated after a lost or late acknowledgement.",
                c.publish_retries,
            ),
            (
                "agent_core_nats_deduplicated",
                "Publishes the stream answered as duplicates.",
                c.deduplicated,
            ),
            (
                "agent_core_nats_publish_failed",
                "Publishes given up after every attempt.",
                c.publish_failed,
            ),
            (
                "agent_core_nats_delivered",
                "Messages delivered to this process's consumers, redeliveries included.",
                c.delivered,
            ),
            ("agent_core_nats_acked", "Deliveries acknowledged.", c.acked),
            (
                "agent_core_nats_naked",
                "Deliveries negatively acknowledged.",
                c.naked,
            ),
            (
                "agent_core_nats_redelivered",
                "Deliveries that were not the message's first.",
                c.redelivered,
            ),
            (
                "agent_core_nats_dead_lettered",
                "Messages moved to the dead-letter stream.",
                c.dead_lettered,
            ),
            (
                "agent_core_nats_undecodable",
                "Messages whose payload did not decode (dead-lettered too).",
                c.undecodable,
            ),
        ];
        for (name, help, value) in counters {
            single_counter(&mut encoder, name, help, value)?;
        }
        single_counter(
            &mut encoder,
            "agent_core_nats_disconnects",
            "Times the connection was lost.",
            h.disconnects,
        )?;
        single_counter(
            &mut encoder,
            "agent_core_nats_reconnects",
            "Times it came back.",
            h.reconnects,
        )?;
        encoder
            .encode_descriptor(
                "agent_core_nats_connected",
                "1 while connected, 0 otherwise.",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?
            .encode_gauge(&u64::from(h.state == ConnectionState::Connected))?;
        let consumers = self
            .consumers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut f = Families {
            encoder: &mut encoder,
            label: "consumer",
        };
        let by = |get: fn(&ConsumerSnapshot) -> u64| {
            consumers.iter().map(move |s| (s.name.as_str(), get(s)))
        };
        f.gauge(
            "agent_core_nats_consumer_lag",
            "Messages in the stream not yet delivered to the consumer (server's view).",
            None,
            by(|s| s.pending),
        )?;
        f.gauge(
            "agent_core_nats_consumer_ack_pending",
            "Messages delivered and not yet acknowledged.",
            None,
            by(|s| s.ack_pending),
        )?;
        f.gauge(
            "agent_core_nats_consumer_redelivering",
            "Messages delivered more than once and not yet acknowledged.",
            None,
            by(|s| s.redelivering),
        )?;
        f.gauge(
            "agent_core_nats_consumer_local_pending",
            "Messages waiting in the consumer's local queue in this process.",
            None,
            by(|s| s.local.pending),
        )
    }
}
