//! Seed 002 (5.1): time to first token per provider profile (a model check of the simulator).

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn llm_ttft() {
    support::check("llm_ttft").await;
}
