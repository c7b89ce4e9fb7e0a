//! The scenarios on tokio's paused clock, one `#[rstest]` case each (nextest runs each case in a
//! process of its own): model behaviour exact and instant, the heap counted by dhat (this binary's
//! global allocator), instructions counted under valgrind, each compared with
//! `baselines/<name>.json`.

mod support;

use rstest::rstest;

load_tests::count_heap!();

#[rstest]
// Seed 002 (2.1): state reads through a bounded LRU cache from a cold start; hit rate over 90%,
// exact.
#[case::cache_hit_rate("cache_hit_rate")]
// Seed 002 (6.2): daily and every-5-minutes cron jobs over a simulated week; none missed or
// duplicated, no drift.
#[case::cron_schedule("cron_schedule")]
// Seed 002: 10 simultaneous LLM callers under a rate limit; no failures, exact cost.
#[case::llm_concurrency_10("llm_concurrency_10")]
// Seed 002 (5.1): time to first token per provider profile (a model check of the simulator).
#[case::llm_ttft("llm_ttft")]
// Seed 002 (4.1): heap per agent at 10, 20 and 30 agents, and a flat live heap over a long soak.
#[case::memory_per_agent("memory_per_agent")]
// Seed 002: the four execution modes at their target rates, at once.
#[case::modes_concurrent("modes_concurrent")]
// Seed 003 (Netra) memory usage pattern.
#[case::netra_memory_pattern("netra_memory_pattern")]
// Seed 003 (Netra): more requests than pool slots, exact exhaustion count, no deadlock.
#[case::netra_pool_exhaustion("netra_pool_exhaustion")]
// Seed 003 (Netra): 10 concurrent workflows of mixed types.
#[case::netra_workflows_10("netra_workflows_10")]
// Seed 003 (Netra): 25 concurrent workflows of mixed types.
#[case::netra_workflows_25("netra_workflows_25")]
// Seed 003 (Netra): 50 concurrent workflows of mixed types.
#[case::netra_workflows_50("netra_workflows_50")]
// Seed 003 (Netra) 50 concurrent workflows in bursts; outcomes by kind exact (seeded), latency
// percentiles.
#[case::netra_workflows_50_burst("netra_workflows_50_burst")]
// Seed 004: 10 parallel executions of the multi-domain workflow.
#[case::orchestration_batch_10("orchestration_batch_10")]
// Seed 004: 25 parallel executions of the multi-domain workflow.
#[case::orchestration_batch_25("orchestration_batch_25")]
// Seed 004: 5 parallel executions of the multi-domain workflow.
#[case::orchestration_batch_5("orchestration_batch_5")]
// Seed 004: 50 parallel executions of the multi-domain workflow.
#[case::orchestration_batch_50("orchestration_batch_50")]
// Seed 003 (Netra): bursts into a bounded mailbox under the block policy: nothing dropped.
#[case::queue_overflow_block("queue_overflow_block")]
// Seed 003 (Netra): bursts into a bounded mailbox under drop-newest: drops exactly as predicted.
#[case::queue_overflow_drop_newest("queue_overflow_drop_newest")]
// Seed 003 (Netra): bursts into a bounded mailbox under drop-oldest: drops exactly as predicted.
#[case::queue_overflow_drop_oldest("queue_overflow_drop_oldest")]
// Seed 003 (Netra): bursts into a bounded mailbox under reject: rejections exactly as predicted.
#[case::queue_overflow_reject("queue_overflow_reject")]
// Seed 002: scheduled jobs over a simulated 8-hour day; drift under 1 s, none missed or
// duplicated.
#[case::scheduled_day("scheduled_day")]
// Seed 002 future scale: 100,000 agents registered and healthy.
#[case::startup_100k("startup_100k")]
// Seed 002: fleets of 5 to 30 agents registered and healthy, on the virtual clock.
#[case::startup_5_to_30("startup_5_to_30")]
// Seed 003: a circuit breaker in front of an overloaded tool; failure rate and recovery time.
#[case::tool_circuit_breaker("tool_circuit_breaker")]
// Seed 000 (VERITAS) test 1: 100 agents x 5 steps of 1 ms simulated work, all at once.
#[case::veritas_concurrent_100("veritas_concurrent_100")]
// Seed 000 (VERITAS) test 2: 250 agents x 5 steps of 1 ms simulated work, all at once.
#[case::veritas_concurrent_250("veritas_concurrent_250")]
// Seed 000 (VERITAS) test 3: 500 sequential operations, heap sampled every 50, nothing live
// after teardown.
#[case::veritas_leak_detection("veritas_leak_detection")]
// Seed 000 (VERITAS) test_streaming(1000, 10): 100 streams of 10 chunks over the bus.
#[case::veritas_streaming("veritas_streaming")]
// Seed 000 (VERITAS) test_sustained_load, shortened: 50 agents under open-loop load.
#[case::veritas_sustained("veritas_sustained")]
#[tokio::test(start_paused = true)]
async fn virtual_clock(#[case] name: &str) {
    support::check(name).await;
}
