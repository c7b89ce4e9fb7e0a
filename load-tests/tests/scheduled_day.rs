//! Seed 002: scheduled jobs over a simulated 8-hour day; drift under 1 s, none missed or duplicated.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn scheduled_day() {
    support::check("scheduled_day").await;
}
