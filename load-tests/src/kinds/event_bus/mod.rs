//! EventBus throughput (seed 002, test 3.1): publishers at fixed rates, each on its own topic,
//! subscribers receiving every event; on the in-process bus or on NATS JetStream, so the report
//! shows both side by side. `agents` is 1 and `ops_per_agent` the number of events the rates
//! and duration make (checked), so progress counts events.

mod run;

use serde::{Deserialize, Serialize};

/// Which bus carries the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusTransport {
    /// agent-core's in-process bus.
    Local,
    /// agent-core's JetStream transport, against a server the run starts (or `--nats URL`).
    Nats,
}

/// Parameters of the eventbus kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBus {
    /// The bus.
    pub transport: BusTransport,
    /// Events per second of each publisher (one topic each).
    pub rates_per_s: Vec<f64>,
    /// How long the publishers publish, in milliseconds.
    pub publish_ms: u64,
    /// Subscribers per topic; each receives every event of its topic.
    pub subscribers: usize,
}

impl EventBus {
    /// Events publisher `i` publishes.
    pub fn events_of(&self, i: usize) -> u64 {
        (self.rates_per_s[i] * self.publish_ms as f64 / 1000.0).round() as u64
    }

    /// Events all publishers publish.
    pub fn events(&self) -> u64 {
        (0..self.rates_per_s.len()).map(|i| self.events_of(i)).sum()
    }
}
