//! Paired rounds of one workload, agent-core then raw tokio, one line per round, and the median
//! of the per-round ratios: the quick A/B used to compare two builds of agent-core on one
//! machine (e.g. a mailbox layout), one process per build, runs alternated. With `--side`, runs
//! one side once with 100,000 operations, for valgrind (cachegrind, callgrind) or `perf`.
//!
//! Run with: cargo run --release -p benches --example rounds -- WORKLOAD [ROUNDS] [--side agent|tokio]
//!
//! WORKLOAD: `tell` (1M x u64, one to one), `fan-in` (100 x 1,000 x 1 KiB), `spawn-stop`
//! (250 agents x 5 messages), `ask` (100,000 sequential asks per side per round; prints the
//! percentiles and the share of asks slower than 4 us), `spawn` (`--side` only: 100,000 idle).

use std::time::Duration;

use benches::workloads as w;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(workload) = args.first().cloned() else {
        eprintln!("usage: rounds WORKLOAD [ROUNDS] [--side agent|tokio]");
        std::process::exit(2);
    };
    let side = args
        .iter()
        .position(|a| a == "--side")
        .and_then(|i| args.get(i + 1).cloned());
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let rt = w::tokio_runtime();
    if let Some(side) = side {
        let took = one_side(&rt, &workload, &side);
        println!("{side} {workload}: {took:?}");
        return;
    }
    if workload == "ask" {
        ask_rounds(&rt, rounds);
        return;
    }
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (agent, tokio) = paired(&rt, &workload);
        // Throughput workloads: tokio's time over agent-core's (above 1: agent-core faster).
        let ratio = tokio.as_secs_f64() / agent.as_secs_f64();
        ratios.push(ratio);
        println!(
            "{round} agent-core {:>8.3} ms  tokio {:>8.3} ms  tokio/agent-core {ratio:.2}",
            agent.as_secs_f64() * 1e3,
            tokio.as_secs_f64() * 1e3
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median tokio/agent-core time: {:.2}",
        ratios[ratios.len() / 2]
    );
}

fn paired(rt: &tokio::runtime::Runtime, workload: &str) -> (Duration, Duration) {
    match workload {
        "tell" => (
            w::run_on(rt, w::tell_agent(1_000_000, agent_core::Timing::default())),
            w::run_on(rt, w::tell_tokio(1_000_000)),
        ),
        "fan-in" => (
            w::run_on(rt, w::fan_in_agent(100, 1_000)),
            w::run_on(rt, w::fan_in_tokio(100, 1_000)),
        ),
        "spawn-stop" => (
            w::run_on(rt, w::spawn_send_stop_agent(250, 5)),
            w::run_on(rt, w::spawn_send_stop_tokio(250, 5)),
        ),
        other => panic!("unknown workload {other:?}: tell, fan-in, spawn-stop, ask"),
    }
}

fn one_side(rt: &tokio::runtime::Runtime, workload: &str, side: &str) -> Duration {
    const N: u64 = 100_000;
    match (workload, side) {
        ("tell", "agent") => w::run_on(rt, w::tell_agent(N, agent_core::Timing::default())),
        ("tell", "tokio") => w::run_on(rt, w::tell_tokio(N)),
        ("fan-in", "agent") => w::run_on(rt, w::fan_in_agent(100, N / 100)),
        ("fan-in", "tokio") => w::run_on(rt, w::fan_in_tokio(100, N / 100)),
        ("ask", "agent") => w::run_on(rt, w::ask_agent(N)).0,
        ("ask", "tokio") => w::run_on(rt, w::ask_tokio(N)).0,
        ("spawn", "agent") => w::run_on(rt, async move {
            let (took, agents) = w::spawn_idle_agents(N);
            agents.shutdown(agent_core::ShutdownConfig::default()).await;
            took
        }),
        ("spawn", "tokio") => w::run_on(rt, async move {
            let (took, idle) = w::spawn_idle_tokio(N);
            w::stop_idle_tokio(idle).await;
            took
        }),
        other => panic!("unknown workload and side {other:?}"),
    }
}

fn ask_rounds(rt: &tokio::runtime::Runtime, rounds: usize) {
    let (mut agent, mut tokio) = (w::latency_histogram(), w::latency_histogram());
    for _ in 0..rounds {
        agent
            .add(w::run_on(rt, w::ask_agent(100_000)).1)
            .expect("same bounds");
        tokio
            .add(w::run_on(rt, w::ask_tokio(100_000)).1)
            .expect("same bounds");
    }
    for (name, h) in [("agent-core", &agent), ("tokio", &tokio)] {
        println!(
            "{name}: over 4 us {:.3}%  p50 {} ns  p90 {} ns  p99 {} ns  p99.9 {} ns",
            100.0 - h.percentile_below(4_000),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999)
        );
    }
}
