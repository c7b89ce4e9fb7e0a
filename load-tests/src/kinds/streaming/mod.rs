//! Streaming (seed 000's `test_streaming`): `agents` streams of `chunks_per_stream` chunks of
//! `message_bytes` are published on a bus topic by `concurrency` producers; consumers check
//! order and completeness. `ops_per_agent` is not used (the chunk count is).

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the streaming kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Streaming {
    /// Chunks per stream.
    pub chunks_per_stream: usize,
    /// Simulated time between chunks, in microseconds.
    pub chunk_interval_us: u64,
}
