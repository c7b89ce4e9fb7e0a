//! Runs the one-to-one tell workload in a loop, for profilers.
//!
//! Run with: cargo run --release -p benches --example tell_profile [-- ROUNDS]

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let rt = benches::workloads::tokio_runtime();
    for _ in 0..rounds {
        let d = benches::workloads::run_on(
            &rt,
            benches::workloads::tell_agent(1_000_000, agent_core::Timing::default()),
        );
        println!("{:.2} M msg/s", 1.0 / d.as_secs_f64());
    }
}
