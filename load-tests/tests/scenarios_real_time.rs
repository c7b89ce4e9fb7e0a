//! The scenarios on real time, one `#[rstest]` case each (nextest runs each case in a process of
//! its own): throughput and CPU as ratios to raw tokio measured in the same process, no counting
//! allocator in what they time. Those that compare real time with raw tokio run alone
//! (`.config/nextest.toml`, `threads-required`).

mod support;

use rstest::rstest;

#[rstest]
// Seed 002 (4.2): the process's CPU use while agents start, sit idle and take a paced load
// (reported, not gated: absolute real-time figures); every message handled.
#[case::cpu_use("cpu_use")]
// Seed 002 EventBus 3.1, burst: 500 events/s on the in-process bus; every event once, backlog
// cleared.
#[case::eventbus_burst_local("eventbus_burst_local")]
// Seed 002 EventBus 3.1, sustained: 210 events/s from four publishers on the in-process bus;
// every event once and in order, no backlog left (latency reported, not gated).
#[case::eventbus_sustained_local("eventbus_sustained_local")]
// Seed 003 (Netra) CPU usage pattern.
#[case::netra_cpu_pattern("netra_cpu_pattern")]
// Seed 003 (Netra): CPU- and memory-heavy workflows at once, against raw tokio.
#[case::netra_resource_contention("netra_resource_contention")]
// Seed 001 (PhantomMesh) extreme profile, one round: no loss, FIFO per sender, ratio to raw
// tokio.
#[case::phantom_extreme("phantom_extreme")]
// Seed 001 (PhantomMesh) extreme profile paced at 12,500 msg/s: no loss, FIFO per sender,
// latency from each message's due time beside raw tokio on the same schedule, instructions per
// message.
#[case::phantom_extreme_paced("phantom_extreme_paced")]
// Seed 001 (PhantomMesh) high profile: no loss, FIFO per sender, throughput as a ratio to raw
// tokio.
#[case::phantom_high("phantom_high")]
// Seed 001 (PhantomMesh) high profile paced at 10,000 msg/s: no loss, FIFO per sender, latency
// from each message's due time beside raw tokio on the same schedule, instructions per message.
#[case::phantom_high_paced("phantom_high_paced")]
// phantom_high with the OpenMetrics export on (collector attached, histograms): what it costs a
// message, in instructions and heap, beside phantom_high's.
#[case::phantom_high_metrics("phantom_high_metrics")]
// Seed 001 (PhantomMesh) low profile: no loss, FIFO per sender, throughput as a ratio to raw
// tokio.
#[case::phantom_low("phantom_low")]
// Seed 001 (PhantomMesh) low profile paced at 2,500 msg/s: no loss, FIFO per sender, latency
// from each message's due time beside raw tokio on the same schedule, instructions per message.
#[case::phantom_low_paced("phantom_low_paced")]
// Seed 001 (PhantomMesh) medium profile: no loss, FIFO per sender, throughput as a ratio to raw
// tokio.
#[case::phantom_medium("phantom_medium")]
// Seed 001 (PhantomMesh) medium profile paced at 6,500 msg/s: no loss, FIFO per sender, latency
// from each message's due time beside raw tokio on the same schedule, instructions per message.
#[case::phantom_medium_paced("phantom_medium_paced")]
// phantom_medium with the OpenMetrics export on.
#[case::phantom_medium_metrics("phantom_medium_metrics")]
// Seed 002: 20 agents x 160 saves to disk, states verified after reopening.
#[case::state_persistence("state_persistence")]
// Seed 000 (VERITAS) test_monitoring_overhead: timing on vs off, as a ratio.
#[case::veritas_monitoring_overhead("veritas_monitoring_overhead")]
// Seed 000 (VERITAS) peak rate, 19,086 msg/s to 250 agents: no loss, FIFO per sender, latency
// from each message's due time beside raw tokio on the same schedule, instructions per message.
#[case::veritas_paced_250("veritas_paced_250")]
// Seed 000 (VERITAS) `test_quality_gate(10000)`: pass and fail counts exact, throughput and CPU
// per evaluation as ratios to raw tokio, instructions per evaluation.
#[case::veritas_quality_gate("veritas_quality_gate")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_time(#[case] name: &str) {
    support::check(name).await;
}
