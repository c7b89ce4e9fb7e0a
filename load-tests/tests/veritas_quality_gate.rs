//! Seed 000 (VERITAS) `test_quality_gate(10000)`: pass and fail counts exact, throughput and CPU
//! per evaluation as ratios to raw tokio, instructions per evaluation.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veritas_quality_gate() {
    support::check("veritas_quality_gate").await;
}
