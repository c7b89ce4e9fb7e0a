//! Seed 003: a circuit breaker in front of an overloaded tool; failure rate and recovery time.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn tool_circuit_breaker() {
    support::check("tool_circuit_breaker").await;
}
