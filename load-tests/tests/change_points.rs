//! Change points on this machine's real-time noise (`tests/data/history/ratio_noise.jsonl`: the
//! throughput and CPU ratios to raw tokio of the four `phantom_*` scenarios from consecutive
//! `load-tests run --quick` runs of a release build on a 2 vCPU AMD EPYC, recorded in order; see
//! the README there). The detector must stay quiet on that noise and find a 15% level shift in it
//! quickly. The runs were fewer than 200, so the 200-point series are drawn from them with
//! replacement (seeded), which keeps their spread and drops their order.

use std::collections::BTreeMap;
use std::path::Path;

use load_tests::history::changepoint::{change_points, Config};
use load_tests::history::record;
use rand::{Rng, SeedableRng};

/// Each recorded series, by id, in the order recorded.
fn recorded() -> BTreeMap<String, Vec<f64>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/history/ratio_noise.jsonl");
    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in record::read(&path).unwrap() {
        series.entry(r.id.clone()).or_default().push(r.value);
    }
    assert_eq!(series.len(), 8, "{:?}", series.keys());
    series
}

/// 200 points drawn from `values` with replacement.
fn resample(values: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..200)
        .map(|_| values[rng.random_range(0..values.len())])
        .collect()
}

/// How many points after a 15% rise at `at` the detector needs to report a change point there
/// (within one point), trying up to `most`.
fn points_to_find(noise: &[f64], at: usize, most: usize) -> Option<usize> {
    (1..=most).find(|&after| {
        let mut x = noise[..at].to_vec();
        x.extend(noise[at..at + after].iter().map(|v| v * 1.15));
        change_points(&x, &Config::default())
            .iter()
            .any(|c| c.index.abs_diff(at) <= 1)
    })
}

/// The headline scenario's throughput ratio, chosen before the data was seen, drawn with the
/// issue's number as the seed: no change point in 200 points, and a 15% shift found within five.
#[test]
fn two_hundred_points_of_phantom_high_noise_have_no_change_point_and_a_15_percent_shift_is_found_within_5(
) {
    let all = recorded();
    let noise = resample(&all["phantom_high/yardstick.throughput_ratio"], 24);
    let found = change_points(&noise, &Config::default());
    assert!(found.is_empty(), "{found:?}");
    for at in [100, 150, 190] {
        let after = points_to_find(&noise, at, 10);
        assert!(
            after.is_some_and(|n| n <= 5),
            "shift at {at}: found after {after:?} points"
        );
    }
}

/// Every recorded series, 20 draws of 200 points each: how often the detector raises a false
/// alarm, and how often a 15% shift at point 150 is found within five points. Measured: false
/// alarms in 5 of the 160 series (3.1%; four of them in a draw's last six points), a shift found
/// within five points in 102 (64%) and within ten in 118 (74%); the misses are mostly the noisiest
/// series (`phantom_low`, whose ratios spread 12-17%). The bounds (at most 5%, at least half, at
/// least two thirds) leave room for another draw, none for a detector that cries wolf or goes
/// blind.
#[test]
fn over_every_recorded_series_false_alarms_stay_rare_and_shifts_are_found() {
    let (mut series, mut alarms, mut within_5, mut within_10) = (0, 0, 0, 0);
    for (id, values) in recorded() {
        for seed in 0..20 {
            let noise = resample(&values, 1000 + seed);
            series += 1;
            let found = change_points(&noise, &Config::default());
            if !found.is_empty() {
                alarms += 1;
                eprintln!("false alarm in {id}, draw {seed}: {found:?}");
            }
            match points_to_find(&noise, 150, 10) {
                Some(n) if n <= 5 => (within_5, within_10) = (within_5 + 1, within_10 + 1),
                Some(_) => within_10 += 1,
                None => {}
            }
        }
    }
    eprintln!(
        "{series} series: {alarms} false alarms; a 15% shift found within 5 points in \
         {within_5}, within 10 in {within_10}"
    );
    assert!(
        alarms * 20 <= series,
        "{alarms} false alarms in {series} series"
    );
    assert!(
        within_5 * 2 >= series,
        "found within 5 in {within_5} of {series}"
    );
    assert!(
        within_10 * 3 >= series * 2,
        "found within 10 in {within_10} of {series}"
    );
}
