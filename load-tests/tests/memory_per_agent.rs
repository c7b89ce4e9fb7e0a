//! Seed 002 (4.1): heap per agent at 10, 20 and 30 agents, and a flat live heap over a long soak.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn memory_per_agent() {
    support::check("memory_per_agent").await;
}
