//! Seed 002 (4.2): the process's CPU use while agents start, sit idle and take a paced load
//! (reported, not gated: absolute real-time figures); every message handled.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_use() {
    support::check("cpu_use").await;
}
