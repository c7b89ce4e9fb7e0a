//! Seed 003 (Netra) 50 concurrent workflows in bursts; outcomes by kind exact (seeded), latency percentiles.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn netra_workflows_50_burst() {
    support::check("netra_workflows_50_burst").await;
}
