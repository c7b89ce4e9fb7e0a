//! Seed 002: fleets of 5 to 30 agents registered and healthy, on the virtual clock.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn startup_5_to_30() {
    support::check("startup_5_to_30").await;
}
