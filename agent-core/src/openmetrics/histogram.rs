//! [`TimeHistogram`]: lock-free fixed buckets for durations, shared by every agent of one kind,
//! written only for the messages the runtime measures anyway (see [`crate::Timing`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Bucket upper bounds are 2^k microseconds for k in `0..BOUNDS` (1 µs to about 8.4 s), then
/// `+Inf`.
pub(crate) const BOUNDS: usize = 24;

/// A histogram of durations: one atomic per bucket, a sum and a count. Recording is three
/// relaxed `fetch_add`s and no allocation; reading (at scrape time) copies the buckets.
#[derive(Debug, Default)]
pub(crate) struct TimeHistogram {
    buckets: [AtomicU64; BOUNDS + 1],
    sum_ns: AtomicU64,
}

/// What a scrape reads from a [`TimeHistogram`]: each bucket's own count (the encoder writes
/// them cumulated, as the format wants), the sum in seconds and the count.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HistogramReading {
    pub(crate) buckets: Vec<(f64, u64)>,
    pub(crate) sum_seconds: f64,
    pub(crate) count: u64,
}

/// The bucket a duration of `ns` nanoseconds falls in: the first whose bound is at least it.
pub(crate) fn bucket_of(ns: u64) -> usize {
    let us = ns.div_ceil(1000);
    if us <= 1 {
        return 0;
    }
    ((64 - (us - 1).leading_zeros()) as usize).min(BOUNDS)
}

/// The upper bound of bucket `i` in seconds (`+Inf` for the last).
pub(crate) fn bound_seconds(i: usize) -> f64 {
    if i >= BOUNDS {
        f64::INFINITY
    } else {
        (1u64 << i) as f64 * 1e-6
    }
}

impl TimeHistogram {
    #[inline]
    pub(crate) fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> HistogramReading {
        let buckets: Vec<(f64, u64)> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, b)| (bound_seconds(i), b.load(Ordering::Relaxed)))
            .collect();
        HistogramReading {
            count: buckets.iter().map(|b| b.1).sum(),
            buckets,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 * 1e-9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_falls_in_the_first_bucket_whose_bound_holds_it() {
        for ns in [
            0,
            1,
            999,
            1000,
            1001,
            1999,
            2000,
            2001,
            4000,
            4001,
            1_000_000,
            8_388_608_000,
        ] {
            let i = bucket_of(ns);
            let seconds = ns as f64 * 1e-9;
            assert!(
                seconds <= bound_seconds(i) + 1e-15,
                "{ns} ns above bucket {i}"
            );
            if i > 0 {
                assert!(
                    seconds > bound_seconds(i - 1),
                    "{ns} ns fits bucket {}",
                    i - 1
                );
            }
        }
        assert_eq!(bucket_of(u64::MAX), BOUNDS);
    }

    #[test]
    fn readings_count_every_observation_in_its_bucket() {
        let h = TimeHistogram::default();
        for us in [1, 3, 3, 100, 20_000_000] {
            h.observe(Duration::from_micros(us));
        }
        let r = h.read();
        assert_eq!(r.count, 5);
        assert_eq!(r.buckets.len(), BOUNDS + 1);
        assert_eq!(r.buckets[0], (1e-6, 1));
        assert_eq!(r.buckets[2].1, 2);
        assert_eq!(r.buckets[7].1, 1);
        assert_eq!(r.buckets[BOUNDS], (f64::INFINITY, 1));
        assert!((r.sum_seconds - 20.000107).abs() < 1e-9);
    }
}
