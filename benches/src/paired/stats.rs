//! The paired statistic: the median of head/base time ratios, with a percentile bootstrap
//! confidence interval from a seeded generator (the same samples give the same interval).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::stats::median;

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 4_000;
/// Seed of the bootstrap's generator.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// A median with its two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The median of the sample.
    pub median: f64,
    /// The interval's lower bound.
    pub low: f64,
    /// The interval's upper bound.
    pub high: f64,
}

/// The median of `ratios` with a `confidence` (for example 0.95) percentile bootstrap interval.
///
/// # Panics
/// If `ratios` is empty.
pub fn bootstrap_median(ratios: &[f64], confidence: f64) -> Estimate {
    assert!(!ratios.is_empty(), "no ratios to bootstrap");
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut resample = vec![0.0; ratios.len()];
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for slot in &mut resample {
                *slot = ratios[rng.random_range(0..ratios.len())];
            }
            median(&resample)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| medians[((q * RESAMPLES as f64) as usize).min(RESAMPLES - 1)];
    Estimate {
        median: median(ratios),
        low: at(tail),
        high: at(1.0 - tail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_median_and_is_reproducible() {
        let r: Vec<f64> = (0..16).map(|i| 1.0 + f64::from(i % 5) * 0.01).collect();
        let e = bootstrap_median(&r, 0.95);
        assert!(e.low <= e.median && e.median <= e.high, "{e:?}");
        assert_eq!(e, bootstrap_median(&r, 0.95));
    }

    #[test]
    fn a_clear_shift_excludes_one_and_no_shift_includes_it() {
        let slow: Vec<f64> = (0..12).map(|i| 1.20 + f64::from(i % 3) * 0.01).collect();
        assert!(bootstrap_median(&slow, 0.95).low > 1.15);
        let same: Vec<f64> = (0..12).map(|i| 0.97 + f64::from(i % 7) * 0.01).collect();
        let e = bootstrap_median(&same, 0.95);
        assert!(e.low < 1.0 && e.high > 1.0, "{e:?}");
    }
}
