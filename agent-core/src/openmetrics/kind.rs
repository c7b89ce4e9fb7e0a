//! Agent kinds: the label the runtime's metrics group agents by. A kind is the agent's Rust type
//! (its path segments shortened: `Worker`, `Router<Order>`), so 100,000 agents of five types
//! export five series per metric, never one per agent (agent ids and unique names would).
//!
//! Nothing here costs an agent a byte or a spawn an instruction: an agent's kind is its type,
//! read through the registry's probe; a kind's record is made when a scrape, an ended agent or a
//! histogram first needs it. Once a [`super::RuntimeMetrics`] is attached, each ended agent's
//! last counts are added to its kind (so counters never go down), and with
//! [`crate::RuntimeConfig::histograms`] the measured messages go into its histograms.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use super::histogram::TimeHistogram;
use crate::mailbox::MailboxSnapshot;
use crate::metrics::AgentSnapshot;

/// What one kind's agents counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KindTally {
    pub(crate) live: u64,
    pub(crate) mailbox: MailboxSnapshot,
    pub(crate) handled: u64,
    pub(crate) errors: u64,
    pub(crate) panics: u64,
    pub(crate) restarts: u64,
    pub(crate) timed: u64,
    pub(crate) queue_ns: u64,
    pub(crate) service_ns: u64,
}

impl KindTally {
    /// Adds another tally (`live` too).
    pub(crate) fn add(&mut self, other: &KindTally) {
        self.live += other.live;
        self.mailbox.absorb(&other.mailbox);
        self.handled += other.handled;
        self.errors += other.errors;
        self.panics += other.panics;
        self.restarts += other.restarts;
        self.timed += other.timed;
        self.queue_ns += other.queue_ns;
        self.service_ns += other.service_ns;
    }

    /// Adds an agent's counts.
    pub(crate) fn absorb(&mut self, a: &AgentSnapshot) {
        self.add(&KindTally {
            live: 0,
            mailbox: a.mailbox,
            handled: a.handled,
            errors: a.errors,
            panics: a.panics,
            restarts: a.restarts,
            timed: a.timed,
            queue_ns: a.queue_time_total_ns,
            service_ns: a.service_time_total_ns,
        });
    }
}

/// One agent kind's shared figures.
#[derive(Debug)]
pub(crate) struct KindStats {
    pub(crate) type_name: &'static str,
    /// The label value.
    pub(crate) name: String,
    pub(crate) queue: TimeHistogram,
    pub(crate) service: TimeHistogram,
    pub(crate) ask: TimeHistogram,
    ended: Mutex<KindTally>,
}

impl KindStats {
    fn new(type_name: &'static str, name: String) -> KindStats {
        KindStats {
            type_name,
            name,
            queue: TimeHistogram::default(),
            service: TimeHistogram::default(),
            ask: TimeHistogram::default(),
            ended: Mutex::default(),
        }
    }

    /// Adds an ended agent's last counts.
    pub(crate) fn retire(&self, last: &AgentSnapshot) {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .absorb(last);
    }

    pub(crate) fn ended(&self) -> KindTally {
        *self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The label of what agents counted before a collector was attached (their kinds were not
/// recorded then).
pub(crate) const ENDED_BEFORE_EXPORT: &str = "(ended before export)";

/// Every kind a runtime's metrics have needed, by type name. A handful of kinds: a read lock and
/// a short scan find one.
#[derive(Debug, Default)]
pub(crate) struct Kinds {
    by_type: RwLock<Vec<Arc<KindStats>>>,
}

impl Kinds {
    /// The record of the kind whose type is named `type_name` (made on first use).
    pub(crate) fn of(&self, type_name: &'static str) -> Arc<KindStats> {
        if let Some(k) = find(&self.read(), type_name) {
            return Arc::clone(k);
        }
        let mut all = self.by_type.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = find(&all, type_name) {
            return Arc::clone(k);
        }
        let k = Arc::new(KindStats::new(type_name, short_type_name(type_name)));
        all.push(Arc::clone(&k));
        k
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<KindStats>>> {
        self.by_type.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records what agents ended before the export began, under [`ENDED_BEFORE_EXPORT`].
    pub(crate) fn ended_before_export(&self, tally: KindTally) {
        *self
            .of(ENDED_BEFORE_EXPORT)
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = tally;
    }

    /// Records a measured message of an agent of type `type_name`: its queue and handling times,
    /// and for an ask its duration from the send to the reply (queue plus handling time).
    pub(crate) fn observe(
        &self,
        type_name: &'static str,
        queue: Duration,
        service: Duration,
        ask: bool,
    ) {
        let record = |k: &KindStats| {
            k.queue.observe(queue);
            k.service.observe(service);
            if ask {
                k.ask.observe(queue + service);
            }
        };
        // Under the read lock, without taking a count on the kind's `Arc` (which every agent of
        // the kind would otherwise bounce between cores on each measured message).
        if let Some(k) = find(&self.read(), type_name) {
            return record(k);
        }
        record(&self.of(type_name));
    }

    pub(crate) fn all(&self) -> Vec<Arc<KindStats>> {
        self.read().clone()
    }
}

/// The kind named `type_name` among `all` (the same `&'static str` usually, compared by address
/// first).
fn find<'a>(all: &'a [Arc<KindStats>], type_name: &str) -> Option<&'a Arc<KindStats>> {
    all.iter()
        .find(|k| std::ptr::eq(k.type_name, type_name) || k.type_name == type_name)
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
        assert_eq!(short_type_name(ENDED_BEFORE_EXPORT), ENDED_BEFORE_EXPORT);
    }

    #[test]
    fn a_kind_is_made_once_and_found_again() {
        let kinds = Kinds::default();
        let a = kinds.of("x::A");
        assert!(Arc::ptr_eq(&a, &kinds.of("x::A")));
        kinds.observe(
            "x::A",
            Duration::from_micros(3),
            Duration::from_micros(1),
            true,
        );
        assert_eq!(a.ask.read().count, 1);
        assert_eq!(kinds.all().len(), 1);
    }
}
