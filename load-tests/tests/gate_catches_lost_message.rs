//! Proves the gate works: one message counted as sent but never sent must fail the exact
//! zero-loss gate of a messaging scenario.

mod support;

use load_tests::{Injection, RunOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lost_message_is_caught() {
    let scenario = support::scenario("phantom_low");
    let options = RunOptions {
        injection: Some(Injection::LoseOneMessage),
        rounds: Some(1),
        ..RunOptions::default()
    };
    let report = support::measure(&scenario, &options).await;
    let c = support::compare(&report);
    eprintln!("{c}");
    let lost = c
        .failures()
        .find(|r| r.metric == "delivery.lost")
        .unwrap_or_else(|| panic!("the lost message was not flagged:\n{c}"));
    // The message is lost once in every repetition of the traffic.
    let reps = report.extra["repetitions_per_round"];
    assert_eq!(lost.actual, reps, "{c}");
    assert!(c.failures().any(|r| r.metric == "operations.failed"), "{c}");
}
