//! agent-core against raw tokio mpsc on the same workloads, rounds interleaved, medians and
//! paired ratios printed as a table.
//!
//! Run with: cargo bench -p benches --bench vs_tokio

use std::time::Duration;

use agent_core::Timing;
use benches::workloads::{self as w, latency_histogram, median};
use hdrhistogram::Histogram;

/// Interleaved rounds per workload (agent-core and tokio alternate, starting side swapped each round).
const ROUNDS: usize = 15;
/// Messages in the one-to-one tell workload.
const TELL_MESSAGES: u64 = 1_000_000;
/// Concurrent senders in the fan-in workload.
const FAN_IN_SENDERS: u64 = 100;
/// Messages per sender in the fan-in workload (1 KiB each).
const FAN_IN_PER_SENDER: u64 = 1_000;
/// Agents in the spawn / send / stop workload.
const SPAWN_STOP_AGENTS: u64 = 250;
/// Messages per agent in the spawn / send / stop workload.
const SPAWN_STOP_MESSAGES: u64 = 5;
/// Sequential asks per round in the latency workload.
const ASKS: u64 = 100_000;
/// Idle agents spawned per round.
const IDLE_AGENTS: u64 = 100_000;

fn main() {
    let rt = w::tokio_runtime();
    println!(
        "agent-core vs raw tokio mpsc (bounded {}), {ROUNDS} interleaved rounds, {} worker threads",
        w::CHANNEL_BOUND,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| workload | agent-core (median) | tokio mpsc (median) | ratio (median of paired) | target |");
    println!("|---|---|---|---|---|");

    // The same one-to-one tell under each timing setting, each against raw tokio.
    for (timing, name, target) in [
        (
            Timing::default(),
            "tell 1M x u64, one to one (timing: default sampling)",
            ">= 1.0x",
        ),
        (Timing::EVERY_MESSAGE, "tell 1M, every message timed", "-"),
        (Timing::Off, "tell 1M, timing off", "-"),
    ] {
        let (a, t) = paired(
            &rt,
            |rt| w::run_on(rt, w::tell_agent(TELL_MESSAGES, timing)),
            |rt| w::run_on(rt, w::tell_tokio(TELL_MESSAGES)),
        );
        row_throughput(name, TELL_MESSAGES, &a, &t, target);
    }

    let total = FAN_IN_SENDERS * FAN_IN_PER_SENDER;
    let (a, t) = paired(
        &rt,
        |rt| w::run_on(rt, w::fan_in_agent(FAN_IN_SENDERS, FAN_IN_PER_SENDER)),
        |rt| w::run_on(rt, w::fan_in_tokio(FAN_IN_SENDERS, FAN_IN_PER_SENDER)),
    );
    row_throughput(
        "fan-in 100 senders x 1,000 x 1 KiB",
        total,
        &a,
        &t,
        ">= 1.2x",
    );

    let (a, t) = paired(
        &rt,
        |rt| {
            w::run_on(
                rt,
                w::spawn_send_stop_agent(SPAWN_STOP_AGENTS, SPAWN_STOP_MESSAGES),
            )
        },
        |rt| {
            w::run_on(
                rt,
                w::spawn_send_stop_tokio(SPAWN_STOP_AGENTS, SPAWN_STOP_MESSAGES),
            )
        },
    );
    row_time("250 agents x 5 msgs, spawn+stop", &a, &t, "<= 1.1x");

    let (a, t) = paired(
        &rt,
        |rt| {
            let (d, agents) = w::run_on(rt, async { w::spawn_idle_agents(IDLE_AGENTS) });
            w::run_on(rt, async move {
                agents.shutdown(agent_core::ShutdownConfig::default()).await
            });
            d
        },
        |rt| {
            let _guard = rt.enter();
            let (d, idle) = w::spawn_idle_tokio(IDLE_AGENTS);
            w::run_on(rt, w::stop_idle_tokio(idle));
            d
        },
    );
    let per = |v: &[Duration]| median(v).as_nanos() as f64 / IDLE_AGENTS as f64;
    println!(
        "| spawn 100,000 idle (per agent) | {:.0} ns | {:.0} ns | {:.2}x time (IQR {}) | <= 400 ns |",
        per(&a),
        per(&t),
        median_ratio(&a, &t),
        time_spread(&a, &t)
    );

    ask_rows(&rt, "I/O driver off");
    ask_rows(&w::tokio_runtime_with_io(), "I/O driver on");
}

/// Sequential ask latency on `rt`: agent-core, raw tokio mpsc + oneshot, and the same with the
/// reply awaited under the same timeout agent-core's ask has. Rounds rotate the three.
fn ask_rows(rt: &tokio::runtime::Runtime, driver: &str) {
    let mut ha = latency_histogram();
    let mut ht = latency_histogram();
    let mut htt = latency_histogram();
    for round in 0..ROUNDS.div_ceil(2) {
        let runs: [&mut dyn FnMut(); 3] = [
            &mut || {
                ha.add(w::run_on(rt, w::ask_agent(ASKS)).1)
                    .expect("same bounds")
            },
            &mut || {
                ht.add(w::run_on(rt, w::ask_tokio(ASKS)).1)
                    .expect("same bounds")
            },
            &mut || {
                htt.add(w::run_on(rt, w::ask_tokio_timeout(ASKS)).1)
                    .expect("same bounds")
            },
        ];
        // Rotate the order each round so no side always runs first.
        let mut runs = runs;
        runs.rotate_left(round % 3);
        for run in runs {
            run();
        }
    }
    for (q, name, target) in [(0.5, "p50", "<= 1.2x"), (0.99, "p99", "<= 1.1x")] {
        let (qa, qt) = (ha.value_at_quantile(q), htt.value_at_quantile(q));
        println!(
            "| ask {name}, {driver}, vs tokio with the same timeout ({} asks) | {} | {} | {:.2}x | {target} |",
            ha.len(),
            fmt_ns(qa),
            fmt_ns(qt),
            qa as f64 / qt as f64
        );
    }
    for (q, name) in [(0.5, "p50"), (0.99, "p99"), (0.999, "p99.9")] {
        let (qa, qt) = (ha.value_at_quantile(q), ht.value_at_quantile(q));
        println!(
            "| ask {name}, {driver}, vs tokio without a timeout | {} | {} | {:.2}x | - |",
            fmt_ns(qa),
            fmt_ns(qt),
            qa as f64 / qt as f64
        );
    }
    summary(&format!("ask agent-core ({driver})"), &ha);
    summary(&format!("ask tokio ({driver})"), &ht);
    summary(&format!("ask tokio + timeout ({driver})"), &htt);
}

/// Runs `a` and `b` alternately (ABBA order), returning each side's samples.
fn paired(
    rt: &tokio::runtime::Runtime,
    mut a: impl FnMut(&tokio::runtime::Runtime) -> Duration,
    mut b: impl FnMut(&tokio::runtime::Runtime) -> Duration,
) -> (Vec<Duration>, Vec<Duration>) {
    // One warm-up of each side.
    a(rt);
    b(rt);
    let mut sa = Vec::with_capacity(ROUNDS);
    let mut sb = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            sa.push(a(rt));
            sb.push(b(rt));
        } else {
            sb.push(b(rt));
            sa.push(a(rt));
        }
    }
    (sa, sb)
}

/// Paired ratios (agent time / tokio time), sorted.
fn ratios(a: &[Duration], t: &[Duration]) -> Vec<f64> {
    let mut r: Vec<f64> = a
        .iter()
        .zip(t)
        .map(|(a, t)| a.as_secs_f64() / t.as_secs_f64())
        .collect();
    r.sort_by(f64::total_cmp);
    r
}

/// Median over rounds of (agent time / tokio time).
fn median_ratio(a: &[Duration], t: &[Duration]) -> f64 {
    let r = ratios(a, t);
    r[r.len() / 2]
}

/// The inter-quartile range of 1 / ratio (throughput ratios), as "lo-hi".
fn throughput_spread(a: &[Duration], t: &[Duration]) -> String {
    let r = ratios(a, t);
    let (q1, q3) = (r[r.len() / 4], r[3 * r.len() / 4]);
    format!("{:.2}-{:.2}", 1.0 / q3, 1.0 / q1)
}

/// The inter-quartile range of time ratios, as "lo-hi".
fn time_spread(a: &[Duration], t: &[Duration]) -> String {
    let r = ratios(a, t);
    format!("{:.2}-{:.2}", r[r.len() / 4], r[3 * r.len() / 4])
}

fn row_throughput(name: &str, msgs: u64, a: &[Duration], t: &[Duration], target: &str) {
    let rate = |d: Duration| msgs as f64 / d.as_secs_f64() / 1e6;
    println!(
        "| {name} | {:.2} M msg/s | {:.2} M msg/s | {:.2}x throughput (IQR {}) | {target} |",
        rate(median(a)),
        rate(median(t)),
        1.0 / median_ratio(a, t),
        throughput_spread(a, t)
    );
}

fn row_time(name: &str, a: &[Duration], t: &[Duration], target: &str) {
    println!(
        "| {name} | {:?} | {:?} | {:.2}x time (IQR {}) | {target} |",
        median(a),
        median(t),
        median_ratio(a, t),
        time_spread(a, t)
    );
}

fn fmt_ns(ns: u64) -> String {
    if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.1} us", ns as f64 / 1e3)
    }
}

fn summary(name: &str, h: &Histogram<u64>) {
    eprintln!(
        "{name}: n={} min={} p50={} p90={} p99={} p99.9={} max={}",
        h.len(),
        fmt_ns(h.min()),
        fmt_ns(h.value_at_quantile(0.5)),
        fmt_ns(h.value_at_quantile(0.9)),
        fmt_ns(h.value_at_quantile(0.99)),
        fmt_ns(h.value_at_quantile(0.999)),
        fmt_ns(h.max())
    );
}
