//! Seed 004: 5 parallel executions of the multi-domain workflow.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn orchestration_batch_5() {
    support::check("orchestration_batch_5").await;
}
