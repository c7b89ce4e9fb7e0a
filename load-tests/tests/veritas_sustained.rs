//! Seed 000 (VERITAS) test_sustained_load, shortened: 50 agents under open-loop load.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn veritas_sustained() {
    support::check("veritas_sustained").await;
}
