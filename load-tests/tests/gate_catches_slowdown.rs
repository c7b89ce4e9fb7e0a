//! Proves the gate works: a 2x slowdown must fail the gates on both clocks: exact virtual-time
//! latency, and the real-time throughput ratio to raw tokio measured in the same process.

mod support;

use load_tests::{Injection, RunOptions};

#[tokio::test(start_paused = true)]
async fn a_2x_slowdown_on_the_virtual_clock_is_caught() {
    let scenario = support::scenario("veritas_concurrent_100");
    let options = RunOptions {
        injection: Some(Injection::Slowdown2x),
        ..RunOptions::default()
    };
    let report = support::measure(&scenario, &options).await;
    let c = support::compare(&report);
    eprintln!("{c}");
    let p95 = c
        .failures()
        .find(|r| r.metric == "latency.total.p95_ns")
        .unwrap_or_else(|| panic!("the slowdown was not flagged:\n{c}"));
    assert!((p95.actual / p95.baseline - 2.0).abs() < 0.01, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2x_slowdown_on_the_real_clock_is_caught() {
    let scenario = support::scenario("phantom_medium");
    // More rounds than the suite's seven: the median ratio then moves less with machine noise,
    // so a 2x slowdown lands clearly below the gate's 60% threshold on every run.
    let options = RunOptions {
        injection: Some(Injection::Slowdown2x),
        rounds: Some(11),
        ..RunOptions::default()
    };
    let report = support::measure(&scenario, &options).await;
    let c = support::compare(&report);
    eprintln!("{c}");
    assert!(
        c.failures()
            .any(|r| r.metric == "calibration.throughput_ratio"),
        "the slowdown was not flagged:\n{c}"
    );
}
