//! Criterion benchmarks of agent-core's core paths, each next to the same workload on raw tokio.
//!
//! Run with: cargo bench -p benches --bench runtime

use std::time::Duration;

use benches::workloads as w;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Messages per iteration of the tell benchmark.
const TELL_MESSAGES: u64 = 100_000;
/// Senders and messages per sender in the fan-in benchmark.
const FAN_IN: (u64, u64) = (100, 1_000);
/// Agents and messages per agent in the spawn / send / stop benchmark.
const SPAWN_STOP: (u64, u64) = (250, 5);
/// Asks per iteration of the ask benchmark.
const ASKS: u64 = 1_000;

fn tell(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("tell_one_to_one");
    g.throughput(Throughput::Elements(TELL_MESSAGES));
    g.sample_size(20);
    g.bench_function("agent-core", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::tell_agent(TELL_MESSAGES, true)))
                .sum()
        })
    });
    g.bench_function("agent-core-timing-off", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::tell_agent(TELL_MESSAGES, false)))
                .sum()
        })
    });
    g.bench_function("tokio-mpsc", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::tell_tokio(TELL_MESSAGES)))
                .sum()
        })
    });
    g.finish();
}

fn fan_in(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("fan_in_1kib");
    g.throughput(Throughput::Elements(FAN_IN.0 * FAN_IN.1));
    g.sample_size(10);
    g.bench_function("agent-core", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::fan_in_agent(FAN_IN.0, FAN_IN.1)))
                .sum()
        })
    });
    g.bench_function("tokio-mpsc", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::fan_in_tokio(FAN_IN.0, FAN_IN.1)))
                .sum()
        })
    });
    g.finish();
}

fn spawn_send_stop(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("spawn_send_stop_250x5");
    g.bench_function("agent-core", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::spawn_send_stop_agent(SPAWN_STOP.0, SPAWN_STOP.1)))
                .sum()
        })
    });
    g.bench_function("tokio-mpsc", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::spawn_send_stop_tokio(SPAWN_STOP.0, SPAWN_STOP.1)))
                .sum()
        })
    });
    g.finish();
}

fn ask(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("ask_sequential");
    g.throughput(Throughput::Elements(ASKS));
    g.bench_function("agent-core", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::ask_agent(ASKS)).0)
                .sum::<Duration>()
        })
    });
    g.bench_function("tokio-mpsc-oneshot", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::ask_tokio(ASKS)).0)
                .sum::<Duration>()
        })
    });
    g.finish();
}

criterion_group!(benches, tell, fan_in, spawn_send_stop, ask);
criterion_main!(benches);
