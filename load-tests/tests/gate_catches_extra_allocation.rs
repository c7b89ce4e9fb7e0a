//! Proves the gate works: one extra heap allocation per message must fail the exact
//! allocations-per-operation gate of a virtual-clock scenario.

mod support;

use load_tests::{Injection, RunOptions};

#[tokio::test(start_paused = true)]
async fn one_extra_allocation_per_message_is_caught() {
    let scenario = support::scenario("veritas_concurrent_100");
    let options = RunOptions {
        injection: Some(Injection::ExtraAllocationPerMessage),
        ..RunOptions::default()
    };
    let report = support::measure(&scenario, &options).await;
    let c = support::compare(&report);
    eprintln!("{c}");
    assert!(!c.passed(), "the injected allocation went unnoticed:\n{c}");
    let row = c
        .failures()
        .find(|r| r.metric == "heap.allocated_blocks_per_op")
        .unwrap_or_else(|| panic!("allocations per op not flagged:\n{c}"));
    assert!(
        (row.actual - row.baseline - 1.0).abs() < 1e-9,
        "exactly one more block per operation:\n{c}"
    );
}
