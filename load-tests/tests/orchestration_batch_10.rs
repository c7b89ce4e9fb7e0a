//! Seed 004: 10 parallel executions of the multi-domain workflow.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn orchestration_batch_10() {
    support::check("orchestration_batch_10").await;
}
