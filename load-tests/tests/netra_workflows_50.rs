//! Seed 003 (Netra): 50 concurrent workflows of mixed types.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn netra_workflows_50() {
    support::check("netra_workflows_50").await;
}
