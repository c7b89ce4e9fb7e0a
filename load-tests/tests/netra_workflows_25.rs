//! Seed 003 (Netra): 25 concurrent workflows of mixed types.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn netra_workflows_25() {
    support::check("netra_workflows_25").await;
}
