//! Seed 003 (Netra): bursts into a bounded mailbox under drop-oldest: drops exactly as predicted.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn queue_overflow_drop_oldest() {
    support::check("queue_overflow_drop_oldest").await;
}
