//! Seed 003 (Netra): more requests than pool slots, exact exhaustion count, no deadlock.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn netra_pool_exhaustion() {
    support::check("netra_pool_exhaustion").await;
}
