//! Seed 002: 10 simultaneous LLM callers under a rate limit; no failures, exact cost.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn llm_concurrency_10() {
    support::check("llm_concurrency_10").await;
}
