//! Seed 003 (Netra) memory usage pattern.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn netra_memory_pattern() {
    support::check("netra_memory_pattern").await;
}
