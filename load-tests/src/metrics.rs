//! Latency histograms (HdrHistogram) and their summaries. Latency is recorded in nanoseconds;
//! summaries give percentiles, never an average alone.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram records (longer values are clamped): one hour.
const MAX_NS: u64 = 3_600_000_000_000;

/// Total, queue and service latency of the operations of one run.
#[derive(Clone, Debug)]
pub struct LatencyRecorder {
    total: Histogram<u64>,
    queue: Histogram<u64>,
    service: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        LatencyRecorder {
            total: histogram(),
            queue: histogram(),
            service: histogram(),
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("static histogram bounds are valid")
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl LatencyRecorder {
    /// Records one operation: end-to-end, and its split into time queued and time in service.
    // Always inlined: it runs once per message inside the counted window, and left to the
    // optimizer its inlining moved with unrelated edits, shifting instructions per message.
    #[inline(always)]
    pub fn record(&mut self, total: Duration, queue: Duration, service: Duration) {
        self.total.saturating_record(ns(total).max(1));
        self.queue.saturating_record(ns(queue).max(1));
        self.service.saturating_record(ns(service).max(1));
    }

    /// Records an operation whose split is unknown (only end-to-end).
    #[inline(always)]
    pub fn record_total(&mut self, total: Duration) {
        self.total.saturating_record(ns(total).max(1));
    }

    /// Records the end-to-end latency of an operation that was due every `expected_interval`,
    /// measured from when it actually started, with HdrHistogram's correction for coordinated
    /// omission (a sample longer than the interval adds the samples a stalled sender would
    /// have taken meanwhile).
    pub fn record_total_corrected(&mut self, total: Duration, expected_interval: Duration) {
        let v = ns(total).clamp(1, MAX_NS);
        // In range by the clamp, so recording cannot fail.
        let _ = self.total.record_correct(v, ns(expected_interval));
    }

    /// Adds another recorder's samples.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Same bounds on both sides, so `add` cannot fail. An empty histogram (a stripe no task
        // picked, a part not timed) is skipped: adding one still walks all its buckets.
        for (mine, theirs) in [
            (&mut self.total, &other.total),
            (&mut self.queue, &other.queue),
            (&mut self.service, &other.service),
        ] {
            if !theirs.is_empty() {
                let _ = mine.add(theirs);
            }
        }
    }

    /// Operations recorded.
    pub fn count(&self) -> u64 {
        self.total.len()
    }

    /// The summaries.
    pub fn summary(&self) -> Latencies {
        Latencies {
            total: LatencySummary::of(&self.total),
            queue: LatencySummary::of(&self.queue),
            service: LatencySummary::of(&self.service),
        }
    }

    /// The end-to-end histogram, for plots.
    pub fn total_histogram(&self) -> &Histogram<u64> {
        &self.total
    }
}

/// End-to-end latency, and its split into queue time (waiting in a mailbox) and service time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latencies {
    /// From the operation's (intended) start to its completion.
    pub total: LatencySummary,
    /// Time in the mailbox before a handler started on it.
    pub queue: LatencySummary,
    /// Time in the handler.
    pub service: LatencySummary,
}

/// Percentiles of one histogram, in nanoseconds. All zero when nothing was recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min_ns: u64,
    /// Arithmetic mean (given with the percentiles, never alone).
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

impl LatencySummary {
    /// Summarises `h`.
    pub fn of(h: &Histogram<u64>) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            min_ns: h.min(),
            mean_ns: h.mean(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p95_ns: h.value_at_quantile(0.95),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = LatencyRecorder::default();
        for ms in 1..=100u64 {
            r.record(
                Duration::from_millis(ms),
                Duration::from_millis(ms / 2),
                Duration::from_millis(ms - ms / 2),
            );
        }
        let s = r.summary().total;
        assert_eq!(s.count, 100);
        // HdrHistogram with 3 significant digits: within 0.1%.
        let close = |got: u64, want_ms: u64| {
            let want = want_ms * 1_000_000;
            got.abs_diff(want) * 1000 <= want
        };
        assert!(close(s.p50_ns, 50), "{}", s.p50_ns);
        assert!(close(s.p95_ns, 95), "{}", s.p95_ns);
        assert!(close(s.p99_ns, 99), "{}", s.p99_ns);
        assert!(close(s.max_ns, 100), "{}", s.max_ns);
        assert!(close(s.min_ns, 1), "{}", s.min_ns);
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(LatencySummary::of(&histogram()), LatencySummary::default());
    }
}

/// Lock stripes for shared tallies on the real clock: enough that two worker threads rarely
/// meet on one.
pub(crate) const STRIPES: usize = 8;

/// Stripes for a scenario on `clock`: one on the virtual clock (a single thread never contends).
pub(crate) fn stripes(clock: crate::scenario::Clock) -> usize {
    match clock {
        crate::scenario::Clock::Virtual => 1,
        crate::scenario::Clock::Real => STRIPES,
    }
}

/// Operation counts and latencies that many tasks record into: a few lock stripes, so the
/// (large) histograms exist a few times per run instead of once per task or agent.
#[derive(Debug)]
pub struct Tallies {
    stripes: Vec<std::sync::Mutex<Tally>>,
}

/// Counts and latencies of some operations.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Outcomes.
    pub ops: Operations,
    /// Latencies.
    pub latency: LatencyRecorder,
}

impl Tallies {
    /// `stripes` independent locks (at least one); tasks pick one by a key of their own.
    pub fn new(stripes: usize) -> Tallies {
        Tallies {
            stripes: (0..stripes.max(1))
                .map(|_| std::sync::Mutex::default())
                .collect(),
        }
    }

    /// Records into the stripe for `key`.
    #[inline(always)]
    pub fn with<R>(&self, key: usize, f: impl FnOnce(&mut Tally) -> R) -> R {
        let stripe = &self.stripes[key % self.stripes.len()];
        f(&mut stripe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Everything recorded, merged.
    pub fn merged(&self) -> Tally {
        let mut all = Tally::default();
        for s in &self.stripes {
            let s = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            all.ops.merge(&s.ops);
            all.latency.merge(&s.latency);
        }
        all
    }
}

/// Operation counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    /// Operations attempted.
    pub total: u64,
    /// Operations that succeeded.
    pub succeeded: u64,
    /// Operations that failed.
    pub failed: u64,
    /// Failures by kind.
    pub failures_by_cause: BTreeMap<String, u64>,
    /// Operations by workflow type, for mixed workloads.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_type: BTreeMap<String, u64>,
    /// `succeeded / total`, in percent.
    pub success_rate_pct: f64,
}

impl Operations {
    /// Counts one outcome; `Err(kind)` names the failure.
    pub fn record(&mut self, outcome: Result<(), &str>) {
        self.record_n(outcome, 1);
    }

    /// Counts `n` operations with the same outcome.
    pub fn record_n(&mut self, outcome: Result<(), &str>, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        match outcome {
            Ok(()) => self.succeeded += n,
            Err(kind) => {
                self.failed += n;
                // Look the kind up before inserting: a String per failed operation would show up
                // as the run's own allocations in the heap figures.
                match self.failures_by_cause.get_mut(kind) {
                    Some(count) => *count += n,
                    None => {
                        self.failures_by_cause.insert(kind.to_owned(), n);
                    }
                }
            }
        }
    }

    /// Counts one operation of workflow type `kind` (allocating only the first time).
    pub fn count_type(&mut self, kind: &str) {
        match self.by_type.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                self.by_type.insert(kind.to_owned(), 1);
            }
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Operations) {
        self.total += other.total;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        for (k, v) in &other.failures_by_cause {
            *self.failures_by_cause.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_type {
            *self.by_type.entry(k.clone()).or_default() += v;
        }
    }

    /// Fills in the success rate.
    pub fn finish(&mut self) {
        self.success_rate_pct = if self.total == 0 {
            100.0
        } else {
            self.succeeded as f64 * 100.0 / self.total as f64
        };
    }
}
