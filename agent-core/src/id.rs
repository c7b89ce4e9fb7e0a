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

/// Follows one unit of work (a message, a request and its reply, a workflow) across mailbox hops,
/// and across processes in the W3C `traceparent` header ([`TraceId::traceparent`]). Fresh ids
/// start from a per-process random point, so two processes do not mint the same ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TraceId(pub u64);

/// How many trace ids a thread reserves at once, so that minting one is a thread-local increment
/// instead of a contended atomic on every message.
const TRACE_BLOCK: u64 = 1024;

impl TraceId {
    /// A fresh trace id, unique within the process.
    pub fn new() -> TraceId {
        // 0 until the first block is taken, then where the next block starts.
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(0);
        thread_local! {
            static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        RANGE.with(|range| {
            let (mut next, mut end) = range.get();
            if next == end {
                if NEXT_BLOCK.load(Ordering::Relaxed) == 0 {
                    let _ = NEXT_BLOCK.compare_exchange(
                        0,
                        process_start_point(),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                next = NEXT_BLOCK.fetch_add(TRACE_BLOCK, Ordering::Relaxed);
                end = next + TRACE_BLOCK;
            }
            range.set((next + 1, end));
            TraceId(next)
        })
    }

    /// This id as a W3C Trace Context `traceparent` header value: version 00, the id as the
    /// 128-bit trace-id (high half zero), `parent` as the parent-id, sampled.
    pub fn traceparent(self, parent: u64) -> String {
        format!("00-{:032x}-{:016x}-01", u128::from(self.0), parent.max(1))
    }

    /// The trace id in a `traceparent` value: the trace-id's low 64 bits (the high half of an
    /// id minted by another tracer is dropped); `None` for anything malformed or all zero.
    pub fn from_traceparent(value: &str) -> Option<TraceId> {
        let mut parts = value.trim().split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(version, 2)
            || version == "ff"
            || !hex(trace, 32)
            || !hex(parent, 16)
            || !hex(flags, 2)
        {
            return None;
        }
        let id = u128::from_str_radix(trace, 16).ok()?;
        let low = id as u64;
        let folded = if low == 0 { (id >> 64) as u64 } else { low };
        (folded != 0).then_some(TraceId(folded))
    }

    /// The id as the 32 hexadecimal digits of a W3C trace-id (what the handling span records).
    pub fn w3c(self) -> impl fmt::Display {
        W3c(self.0)
    }
}

struct W3c(u64);

impl fmt::Display for W3c {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", u128::from(self.0))
    }
}

/// Where this process's trace ids start, below 2^63 (so the ids never wrap) and never 0: a mix
/// of where the address-space layout randomization put this code's static data and this
/// thread's stack. No system call (a clock read or getpid would be one more in every counted
/// run), and different in every process that ASLR randomizes (Linux's default).
fn process_start_point() -> u64 {
    static ANCHOR: u8 = 0;
    let stack = 0u8;
    let data = std::ptr::addr_of!(ANCHOR) as u64;
    let stack = std::hint::black_box(std::ptr::addr_of!(stack)) as u64;
    // splitmix64 of the two.
    let mut z = data.rotate_left(32) ^ stack ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 1).max(1)
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
    fn traceparent_round_trips_and_refuses_malformed_values() {
        let id = TraceId(0xabc);
        let header = id.traceparent(7);
        assert_eq!(
            header,
            "00-00000000000000000000000000000abc-0000000000000007-01"
        );
        assert_eq!(TraceId::from_traceparent(&header), Some(id));
        assert_eq!(id.w3c().to_string(), "00000000000000000000000000000abc");
        // Another tracer's 128-bit id keeps its low half, or its high half if that is all.
        assert_eq!(
            TraceId::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some(TraceId(0xa3ce929d0e0e4736))
        );
        assert_eq!(
            TraceId::from_traceparent("00-00000000000000050000000000000000-00f067aa0ba902b7-01"),
            Some(TraceId(5))
        );
        for bad in [
            "",
            "00-0000-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceId::from_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fresh_ids_start_from_a_per_process_point() {
        assert!(TraceId::new().0 > TRACE_BLOCK, "not from 1");
    }

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
