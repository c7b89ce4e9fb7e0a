//! Seed 002: the four execution modes at their target rates, at once.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn modes_concurrent() {
    support::check("modes_concurrent").await;
}
