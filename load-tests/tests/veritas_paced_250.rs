//! Seed 000 (VERITAS) peak rate, 19,086 msg/s to 250 agents: no loss, FIFO per sender, latency from each
//! message's due time beside raw tokio on the same schedule, instructions per message.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veritas_paced_250() {
    support::check("veritas_paced_250").await;
}
