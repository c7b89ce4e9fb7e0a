//! Agent kinds: the label the runtime's metrics group agents by. A kind is the agent's Rust type
//! (its last path segment: `Worker`, `Router<Order>`), so 100,000 agents of five types export
//! five series per metric, never one per agent: agent ids and unique names are per agent and
//! would make a series per agent.
//!
//! Each kind keeps what its ended agents counted (so a counter never goes down when an agent
//! stops) and the histograms of its measured messages.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::histogram::TimeHistogram;
use crate::metrics::AgentSnapshot;

/// What one kind's agents counted: the live ones at scrape time plus the ended ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KindTally {
    pub(crate) live: u64,
    pub(crate) mailbox: crate::mailbox::MailboxSnapshot,
    pub(crate) handled: u64,
    pub(crate) errors: u64,
    pub(crate) panics: u64,
    pub(crate) restarts: u64,
    pub(crate) timed: u64,
    pub(crate) queue_ns: u64,
    pub(crate) service_ns: u64,
}

impl KindTally {
    pub(crate) fn absorb(&mut self, a: &AgentSnapshot) {
        self.mailbox.absorb(&a.mailbox);
        self.handled += a.handled;
        self.errors += a.errors;
        self.panics += a.panics;
        self.restarts += a.restarts;
        self.timed += a.timed;
        self.queue_ns += a.queue_time_total_ns;
        self.service_ns += a.service_time_total_ns;
    }
}

/// One agent kind's shared figures.
#[derive(Debug)]
pub(crate) struct KindStats {
    pub(crate) name: String,
    /// Whether the histograms are written ([`crate::RuntimeConfig::histograms`]).
    pub(crate) histograms: bool,
    pub(crate) queue: TimeHistogram,
    pub(crate) service: TimeHistogram,
    pub(crate) ask: TimeHistogram,
    ended: Mutex<KindTally>,
}

impl KindStats {
    /// Records a measured message's queue and service times.
    #[inline]
    pub(crate) fn observe(&self, queue: Duration, service: Duration) {
        if self.histograms {
            self.queue.observe(queue);
            self.service.observe(service);
        }
    }

    /// Adds an ended agent's last counts.
    pub(crate) fn retire(&self, last: &AgentSnapshot) {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        ended.absorb(last);
    }

    pub(crate) fn ended(&self) -> KindTally {
        *self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every kind a runtime has spawned, by type name.
#[derive(Debug, Default)]
pub(crate) struct Kinds {
    by_type: Mutex<BTreeMap<&'static str, Arc<KindStats>>>,
}

impl Kinds {
    /// The shared figures of agent type `A` (made on its first spawn).
    pub(crate) fn of<A: 'static>(&self, histograms: bool) -> Arc<KindStats> {
        let type_name = std::any::type_name::<A>();
        let mut by_type = self.by_type.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(by_type.entry(type_name).or_insert_with(|| {
            Arc::new(KindStats {
                name: short_type_name(type_name),
                histograms,
                queue: TimeHistogram::default(),
                service: TimeHistogram::default(),
                ask: TimeHistogram::default(),
                ended: Mutex::default(),
            })
        }))
    }

    pub(crate) fn all(&self) -> Vec<Arc<KindStats>> {
        let by_type = self.by_type.lock().unwrap_or_else(PoisonError::into_inner);
        by_type.values().cloned().collect()
    }
}

/// `a::b::Worker<c::Order, d::E>` as `Worker<Order, E>`: every path shortened to its last
/// segment.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            continue;
        }
        out.push_str(last_segment(&full[segment_start..i]));
        out.push(c);
        segment_start = i + c.len_utf8();
    }
    out.push_str(last_segment(&full[segment_start..]));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_keep_their_last_segments() {
        assert_eq!(short_type_name("a::b::Worker"), "Worker");
        assert_eq!(
            short_type_name("app::Router<app::msg::Order, u64>"),
            "Router<Order, u64>"
        );
        assert_eq!(short_type_name("(x::A, [y::B; 2])"), "(A, [B; 2])");
        assert_eq!(short_type_name("Plain"), "Plain");
    }
}
