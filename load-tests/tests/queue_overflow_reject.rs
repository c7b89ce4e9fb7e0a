//! Seed 003 (Netra): bursts into a bounded mailbox under reject: rejections exactly as predicted.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn queue_overflow_reject() {
    support::check("queue_overflow_reject").await;
}
