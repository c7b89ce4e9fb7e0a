//! Seed 002 future scale: 100,000 agents registered and healthy.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn startup_100k() {
    support::check("startup_100k").await;
}
