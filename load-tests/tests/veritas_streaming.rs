//! Seed 000 (VERITAS) test_streaming(1000, 10): 100 streams of 10 chunks over the bus.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn veritas_streaming() {
    support::check("veritas_streaming").await;
}
