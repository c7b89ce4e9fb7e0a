//! Seed 004: 50 parallel executions of the multi-domain workflow.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn orchestration_batch_50() {
    support::check("orchestration_batch_50").await;
}
