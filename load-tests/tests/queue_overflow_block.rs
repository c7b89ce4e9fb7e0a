//! Seed 003 (Netra): bursts into a bounded mailbox under the block policy: nothing dropped.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn queue_overflow_block() {
    support::check("queue_overflow_block").await;
}
