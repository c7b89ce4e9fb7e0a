//! Workloads shared by the benchmarks: each one exists twice, on agent-core and on raw
//! `tokio::sync::mpsc` (bounded 1024), so every figure can be read as a ratio to plain tokio
//! measured in the same process.

pub mod paired;
#[cfg(feature = "peers")]
pub mod peers;
pub mod probe;
pub mod stats;
pub mod workloads;
