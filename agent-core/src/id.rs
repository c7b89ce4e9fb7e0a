//! Identifiers: [`AgentId`] names an agent for its whole life, [`TraceId`] follows one unit of work.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The identity of one spawned agent, unique within the process and never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgentId(u64);

impl AgentId {
    pub(crate) fn next() -> AgentId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        AgentId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The raw number behind this id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "agent#{}", self.0)
    }
}

/// Follows one unit of work (a message, a request and its reply, a workflow) across mailbox hops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TraceId(pub u64);

/// How many trace ids a thread reserves at once, so that minting one is a thread-local increment
/// instead of a contended atomic on every message.
const TRACE_BLOCK: u64 = 1024;

impl TraceId {
    /// A fresh trace id, unique within the process.
    pub fn new() -> TraceId {
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        RANGE.with(|range| {
            let (mut next, mut end) = range.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(TRACE_BLOCK, Ordering::Relaxed);
                end = next + TRACE_BLOCK;
            }
            range.set((next + 1, end));
            TraceId(next)
        })
    }
}

impl Default for TraceId {
    fn default() -> Self {
        TraceId::new()
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trace#{:x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn trace_ids_are_unique_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..5000).map(|_| TraceId::new()).collect::<Vec<_>>()))
            .collect();
        let mut seen = HashSet::new();
        for h in handles {
            for id in h.join().expect("thread panicked") {
                assert!(seen.insert(id), "duplicate {id}");
            }
        }
        assert_eq!(seen.len(), 20_000);
    }
}
