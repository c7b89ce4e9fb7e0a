//! agent-core beside raw tokio mpsc and the peer actor crates actix, ractor and kameo, on the
//! same workloads in one run, rounds interleaved (the order of the five rotates every round),
//! printing per workload each side's median and its ratio to raw tokio.
//!
//! Run with: cargo bench -p benches --features peers --bench peers
//! (heap per idle actor: cargo bench -p benches --features peers --bench peers_heap)

use std::time::Duration;

use agent_core::Timing;
use benches::peers::{actix, kameo, ractor};
use benches::workloads::{self as w, latency_histogram, median};
use hdrhistogram::Histogram;
use tokio::runtime::Runtime;

/// Interleaved rounds per workload.
const ROUNDS: usize = 9;
/// Messages in the one-to-one tell workload.
const TELL_MESSAGES: u64 = 1_000_000;
/// Concurrent senders and 1 KiB messages per sender in the fan-in workload.
const FAN_IN: (u64, u64) = (100, 1_000);
/// Agents and messages per agent in the spawn / send / stop workload (seed VERITAS).
const SPAWN_STOP: (u64, u64) = (250, 5);
/// Sequential asks per round in the latency workload.
const ASKS: u64 = 50_000;
/// Idle actors spawned per round.
const IDLE: u64 = 100_000;

/// The sides, in table order; raw tokio first, as every ratio's denominator.
const SIDES: [&str; 5] = ["tokio mpsc", "agent-core", "actix", "ractor", "kameo"];

fn main() {
    // The I/O driver on, as the peer crates' own runtimes have it (actix-rt turns on `net`).
    let rt = w::tokio_runtime_with_io();
    println!(
        "Peer comparison, {ROUNDS} interleaved rounds, tokio runtime with {} worker threads \
         (actix: its own single-threaded System). Cells: median, and its ratio to raw tokio.",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| workload | {} |", SIDES.join(" | "));
    println!("|---|{}", "---|".repeat(SIDES.len()));

    let tell = measure(|side| match side {
        0 => w::run_on(&rt, w::tell_tokio(TELL_MESSAGES)),
        1 => w::run_on(&rt, w::tell_agent(TELL_MESSAGES, Timing::default())),
        2 => actix::run(|| actix::tell(TELL_MESSAGES)),
        3 => w::run_on(&rt, ractor::tell(TELL_MESSAGES)),
        _ => w::run_on(&rt, kameo::tell(TELL_MESSAGES)),
    });
    row_rate("tell 1M x u64, one to one (M msg/s)", TELL_MESSAGES, &tell);

    let (s, p) = FAN_IN;
    let fan = measure(|side| match side {
        0 => w::run_on(&rt, w::fan_in_tokio(s, p)),
        1 => w::run_on(&rt, w::fan_in_agent(s, p)),
        2 => actix::run(|| actix::fan_in(s, p)),
        3 => w::run_on(&rt, ractor::fan_in(s, p)),
        _ => w::run_on(&rt, kameo::fan_in(s, p)),
    });
    row_rate("fan-in 100 x 1,000 x 1 KiB (M msg/s)", s * p, &fan);

    let (a, m) = SPAWN_STOP;
    let sss = measure(|side| match side {
        0 => w::run_on(&rt, w::spawn_send_stop_tokio(a, m)),
        1 => w::run_on(&rt, w::spawn_send_stop_agent(a, m)),
        2 => actix::run(|| actix::spawn_send_stop(a, m)),
        3 => w::run_on(&rt, ractor::spawn_send_stop(a, m)),
        _ => w::run_on(&rt, kameo::spawn_send_stop(a, m)),
    });
    row_time("250 agents x 5 msgs, spawn + send + stop (ms)", &sss);

    let idle = measure(|side| spawn_idle(&rt, side));
    row_per("spawn 100,000 idle (ns per agent)", IDLE, &idle);

    let mut hists: Vec<Histogram<u64>> = SIDES.iter().map(|_| latency_histogram()).collect();
    measure(|side| {
        let (d, h) = match side {
            0 => w::run_on(&rt, w::ask_tokio(ASKS)),
            1 => w::run_on(&rt, w::ask_agent(ASKS)),
            2 => actix::run(|| actix::ask(ASKS)),
            3 => w::run_on(&rt, ractor::ask(ASKS)),
            _ => w::run_on(&rt, kameo::ask(ASKS)),
        };
        hists[side].add(h).expect("same bounds");
        d
    });
    for (q, name) in [(0.5, "p50"), (0.99, "p99"), (0.999, "p99.9")] {
        let base = hists[0].value_at_quantile(q) as f64;
        let cells: Vec<String> = hists
            .iter()
            .map(|h| {
                let v = h.value_at_quantile(q) as f64;
                format!("{:.2} us ({:.2}x)", v / 1e3, v / base)
            })
            .collect();
        println!(
            "| sequential ask latency {name} ({} asks per side) | {} |",
            hists[0].len(),
            cells.join(" | ")
        );
    }
}

/// Spawns `IDLE` idle actors on `side`, returns the spawn time, and stops them (not timed).
fn spawn_idle(rt: &Runtime, side: usize) -> Duration {
    match side {
        0 => {
            let _guard = rt.enter();
            let (d, idle) = w::spawn_idle_tokio(IDLE);
            w::run_on(rt, w::stop_idle_tokio(idle));
            d
        }
        1 => {
            let (d, agents) = w::run_on(rt, async { w::spawn_idle_agents(IDLE) });
            w::run_on(rt, async move {
                agents.shutdown(agent_core::ShutdownConfig::default()).await
            });
            d
        }
        2 => actix::run(|| async {
            let (d, idle) = actix::spawn_idle(IDLE).await;
            actix::stop_idle(idle).await;
            d
        }),
        3 => w::run_on(rt, async {
            let (d, idle) = ractor::spawn_idle(IDLE).await;
            ractor::stop_idle(idle).await;
            d
        }),
        _ => w::run_on(rt, async {
            let (d, idle) = kameo::spawn_idle(IDLE);
            kameo::stop_idle(idle).await;
            d
        }),
    }
}

/// One warm-up of each side, then `ROUNDS` rounds of all sides, the order rotating each round.
/// Returns each side's samples.
fn measure(mut run: impl FnMut(usize) -> Duration) -> Vec<Vec<Duration>> {
    for side in 0..SIDES.len() {
        run(side);
    }
    let mut samples = vec![Vec::with_capacity(ROUNDS); SIDES.len()];
    for round in 0..ROUNDS {
        for k in 0..SIDES.len() {
            let side = (round + k) % SIDES.len();
            samples[side].push(run(side));
        }
    }
    samples
}

fn row(name: &str, samples: &[Vec<Duration>], cell: impl Fn(Duration, Duration) -> String) {
    let base = median(&samples[0]);
    let cells: Vec<String> = samples.iter().map(|s| cell(median(s), base)).collect();
    println!("| {name} | {} |", cells.join(" | "));
}

fn row_rate(name: &str, msgs: u64, samples: &[Vec<Duration>]) {
    row(name, samples, |d, base| {
        format!(
            "{:.2} ({:.2}x)",
            msgs as f64 / d.as_secs_f64() / 1e6,
            base.as_secs_f64() / d.as_secs_f64()
        )
    });
}

fn row_time(name: &str, samples: &[Vec<Duration>]) {
    row(name, samples, |d, base| {
        format!(
            "{:.2} ({:.2}x)",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / base.as_secs_f64()
        )
    });
}

fn row_per(name: &str, n: u64, samples: &[Vec<Duration>]) {
    row(name, samples, |d, base| {
        format!(
            "{:.0} ({:.2}x)",
            d.as_nanos() as f64 / n as f64,
            d.as_secs_f64() / base.as_secs_f64()
        )
    });
}
