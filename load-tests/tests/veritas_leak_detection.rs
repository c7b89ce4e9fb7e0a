//! Seed 000 (VERITAS) test 3: 500 sequential operations, heap sampled every 50, nothing live after teardown.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn veritas_leak_detection() {
    support::check("veritas_leak_detection").await;
}
