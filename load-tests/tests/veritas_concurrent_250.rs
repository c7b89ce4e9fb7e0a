//! Seed 000 (VERITAS) test 2: 250 agents x 5 steps of 1 ms simulated work, all at once.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn veritas_concurrent_250() {
    support::check("veritas_concurrent_250").await;
}
