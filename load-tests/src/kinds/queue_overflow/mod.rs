//! Queue overflow (seed 003): bursts of `concurrency` messages into one bounded mailbox whose
//! consumer is slower than the producer, `agents x ops_per_agent` messages in all. Each burst
//! lands while the consumer is parked on an empty mailbox, so the policy's effect is exactly
//! predictable; the prediction is reported next to the counts.

mod run;

use agent_core::OverflowPolicy;
use serde::{Deserialize, Serialize};

/// Parameters of the queue-overflow kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueOverflow {
    /// The mailbox bound.
    pub capacity: usize,
    /// The overflow policy under test.
    pub policy: OverflowPolicy,
    /// How long the consumer takes per message, in microseconds.
    pub consumer_us: u64,
    /// Time between sends, in microseconds.
    pub producer_us: u64,
}
