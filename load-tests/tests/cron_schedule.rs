//! Seed 002 (6.2): daily and every-5-minutes cron jobs over a simulated week; none missed or duplicated, no drift.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn cron_schedule() {
    support::check("cron_schedule").await;
}
