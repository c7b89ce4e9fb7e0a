//! Seed 000 (VERITAS) test_monitoring_overhead: timing on vs off, as a ratio.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veritas_monitoring_overhead() {
    support::check("veritas_monitoring_overhead").await;
}
