//! Change points in a noisy series (real-time ratios to raw tokio, paced latencies): where its
//! level moved, as MongoDB's and Apache Otava's (formerly Hunter) performance tooling finds
//! them. Candidates come from the E-Divisive energy statistic (Matteson and James, "A
//! Nonparametric Approach for Multiple Change Point Analysis of Multivariate Data", JASA 2014);
//! each is kept only when Student's two-sided t-test between the segments on either side is
//! significant, as Hunter (now Apache Otava) does instead of E-Divisive's permutation test (Daly
//! et al., "The Use of Change Point Detection to Identify Software Performance Regressions in a
//! Continuous Integration System", ICPE 2020; Fleming et al., "Hunter: Using Change Point
//! Detection to Hunt for Performance Regressions", ICPE 2023), and when the level moved by at
//! least Otava's minimum magnitude (the larger of the forward and backward relative change).
//! Accepted points split the series and each part is searched again.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// When a split counts as a change point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// The largest two-sided p-value of Student's t-test between the two sides (Otava's
    /// default: 0.001).
    pub p_value: f64,
    /// The smallest relative move of the mean: the larger of `|after / before - 1|` and
    /// `|before / after - 1|` (Otava's default: 0.05).
    pub min_magnitude: f64,
    /// The fewest points on either side of a split.
    pub min_segment: usize,
}

impl Default for Config {
    /// Otava's defaults: p < 0.001, a move of at least 5%; three points a side at least. On this
    /// machine's recorded ratio noise (`load-tests/tests/data/history/`), 200-point draws raised a
    /// false alarm in 3% of series and found a 15% shift within five points in 64% of them
    /// (`load-tests/tests/change_points.rs`): a change point is a lead to look at, not a verdict.
    fn default() -> Config {
        Config {
            p_value: 0.001,
            min_magnitude: 0.05,
            min_segment: 3,
        }
    }
}

/// A level shift: the series' first point at the new level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChangePoint {
    /// Index of the first point after the change.
    pub index: usize,
    /// Mean of the segment before it (up to the previous change point).
    pub before: f64,
    /// Mean of the segment after it (up to the next change point).
    pub after: f64,
    /// Student's two-sided p-value between the two segments.
    pub p_value: f64,
}

impl ChangePoint {
    /// The move in percent of the level before.
    pub fn change_pct(&self) -> f64 {
        100.0 * (self.after - self.before) / self.before.abs().max(f64::MIN_POSITIVE)
    }
}

/// The change points of `series`, in order.
pub fn change_points(series: &[f64], config: &Config) -> Vec<ChangePoint> {
    let mut splits = Vec::new();
    split(series, 0, series.len(), config, &mut splits);
    splits.sort_unstable();
    // Report each with the means and p-value of its final neighbouring segments.
    let mut bounds = vec![0];
    bounds.extend(&splits);
    bounds.push(series.len());
    bounds
        .windows(3)
        .map(|w| {
            let (a, b) = (&series[w[0]..w[1]], &series[w[1]..w[2]]);
            ChangePoint {
                index: w[1],
                before: mean(a),
                after: mean(b),
                p_value: student_p(a, b),
            }
        })
        .collect()
}

fn split(x: &[f64], lo: usize, hi: usize, config: &Config, out: &mut Vec<usize>) {
    let min = config.min_segment.max(2);
    if hi - lo < 2 * min {
        return;
    }
    let Some(tau) = best_split(&x[lo..hi], min).map(|t| lo + t) else {
        return;
    };
    let (a, b) = (&x[lo..tau], &x[tau..hi]);
    if student_p(a, b) < config.p_value && magnitude(mean(a), mean(b)) >= config.min_magnitude {
        out.push(tau);
        split(x, lo, tau, config, out);
        split(x, tau, hi, config, out);
    }
}

/// The split of `x` (at least `min` points a side) with the largest E-Divisive statistic
/// (alpha = 1): `Q = mn/(m+n) * (2/(mn) sum|Xi - Yj| - 1/C(m,2) sum|Xi - Xk| - 1/C(n,2)
/// sum|Yj - Yk|)`, updated in O(n) per candidate.
fn best_split(x: &[f64], min: usize) -> Option<usize> {
    let n = x.len();
    let d = |i: usize, j: usize| (x[i] - x[j]).abs();
    // Sums for the split at `tau = min`: within the left part, within the right, across.
    let tau0 = min;
    let mut left: f64 = (0..tau0)
        .flat_map(|i| (i + 1..tau0).map(move |k| (i, k)))
        .map(|(i, k)| d(i, k))
        .sum();
    let mut right: f64 = (tau0..n)
        .flat_map(|j| (j + 1..n).map(move |k| (j, k)))
        .map(|(j, k)| d(j, k))
        .sum();
    let mut across: f64 = (0..tau0)
        .flat_map(|i| (tau0..n).map(move |j| (i, j)))
        .map(|(i, j)| d(i, j))
        .sum();
    let mut best: Option<(usize, f64)> = None;
    let mut tau = tau0;
    loop {
        let (m, r) = (tau as f64, (n - tau) as f64);
        let e =
            2.0 * across / (m * r) - left / (m * (m - 1.0) / 2.0) - right / (r * (r - 1.0) / 2.0);
        let q = m * r / (m + r) * e;
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((tau, q));
        }
        if tau + 1 > n - min {
            break;
        }
        // Move point `tau` from the right part to the left.
        let to_left: f64 = (0..tau).map(|i| d(i, tau)).sum();
        let to_right: f64 = (tau + 1..n).map(|j| d(tau, j)).sum();
        left += to_left;
        right -= to_right;
        across += to_right - to_left;
        tau += 1;
    }
    best.map(|(t, _)| t)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// The larger of the forward and backward relative change between two levels.
fn magnitude(before: f64, after: f64) -> f64 {
    let tiny = f64::MIN_POSITIVE;
    ((after / before.abs().max(tiny) - 1.0).abs()).max((before / after.abs().max(tiny) - 1.0).abs())
}

/// Student's two-sided p-value (pooled variance) for a difference of means between `a` and
/// `b`, at least three points in all.
pub fn student_p(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    if df < 1.0 {
        return 1.0;
    }
    let squares = |x: &[f64], m: f64| x.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    let pooled = (squares(a, ma) + squares(b, mb)) / df;
    let se2 = pooled * (1.0 / na + 1.0 / nb);
    if se2 <= 0.0 {
        return if ma == mb { 1.0 } else { 0.0 };
    }
    let t = (mb - ma).abs() / se2.sqrt();
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * (1.0 - dist.cdf(t))).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_matches_scipy() {
        // scipy 1.17: ttest_ind(a, b) gives t = -2.0740, df = 18, p = 0.052700.
        let a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
        let b = [28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7];
        let p = student_p(&a, &b);
        assert!((p - 0.052700).abs() < 1e-5, "{p}");
        // t = -6.9903, df = 9, p = 6.3925e-5.
        let p = student_p(
            &[1.0, 1.1, 0.9, 1.05],
            &[1.5, 1.4, 1.45, 1.6, 1.3, 1.35, 1.4],
        );
        assert!((p - 6.3925e-5).abs() < 1e-8, "{p}");
    }

    /// The statistic computed from its definition, for every split.
    fn naive_best(x: &[f64], min: usize) -> usize {
        let q = |tau: usize| {
            let (a, b) = (&x[..tau], &x[tau..]);
            let (m, n) = (a.len() as f64, b.len() as f64);
            let sum = |p: &[f64], q: &[f64]| -> f64 {
                p.iter()
                    .map(|u| q.iter().map(|v| (u - v).abs()).sum::<f64>())
                    .sum()
            };
            let e = 2.0 * sum(a, b) / (m * n)
                - sum(a, a) / (m * (m - 1.0))
                - sum(b, b) / (n * (n - 1.0));
            m * n / (m + n) * e
        };
        (min..=x.len() - min)
            .max_by(|a, b| q(*a).total_cmp(&q(*b)).then(b.cmp(a)))
            .unwrap()
    }

    #[test]
    fn the_incremental_statistic_picks_the_split_its_definition_picks() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..200 {
            let n = rng.random_range(6..60);
            let shift = rng.random_range(0..n);
            let x: Vec<f64> = (0..n)
                .map(|i| rng.random::<f64>() + if i >= shift { 0.5 } else { 0.0 })
                .collect();
            assert_eq!(
                best_split(&x, 3),
                Some(naive_best(&x, 3)),
                "case {case}: {x:?}"
            );
        }
    }

    #[test]
    fn a_step_is_found_where_it_is() {
        let mut x: Vec<f64> = (0..40)
            .map(|i| 1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0))
            .collect();
        for v in &mut x[25..] {
            *v *= 1.2;
        }
        let cps = change_points(&x, &Config::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert_eq!(cps[0].index, 25);
        assert!((cps[0].change_pct() - 20.0).abs() < 1.0, "{cps:?}");
    }

    #[test]
    fn a_constant_series_has_none_and_too_short_a_series_is_not_split() {
        assert!(change_points(&[1.0; 50], &Config::default()).is_empty());
        assert!(change_points(&[1.0, 2.0, 3.0, 9.0, 9.0], &Config::default()).is_empty());
    }
}
