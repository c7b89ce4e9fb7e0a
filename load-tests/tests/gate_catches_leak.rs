//! Proves the gate works: one leaked block per operation must fail the leak scenario's
//! "nothing live after teardown" gate.

mod support;

use load_tests::{Injection, RunOptions};

#[tokio::test(start_paused = true)]
async fn one_leaked_block_per_operation_is_caught() {
    let scenario = support::scenario("veritas_leak_detection");
    let options = RunOptions {
        injection: Some(Injection::LeakPerOperation),
        ..RunOptions::default()
    };
    let report = support::measure(&scenario, &options).await;
    let c = support::compare(&report);
    eprintln!("{c}");
    let leaked = c
        .failures()
        .find(|r| r.metric == "extra.leaked_blocks")
        .unwrap_or_else(|| panic!("the leak was not flagged:\n{c}"));
    assert_eq!(
        leaked.actual - leaked.baseline,
        500.0,
        "one block per operation:\n{c}"
    );
    assert!(
        c.failures().any(|r| r.metric == "extra.leaked_bytes"),
        "{c}"
    );
}
