//! Seed 003 (Netra) CPU usage pattern.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netra_cpu_pattern() {
    support::check("netra_cpu_pattern").await;
}
