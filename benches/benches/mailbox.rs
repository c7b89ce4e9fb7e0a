//! Mailbox paths: a raw mailbox under each overflow policy, then tell, fan-in and ask through
//! agents, each next to the same workload on raw tokio.
//!
//! Run with: cargo bench -p benches --bench mailbox

use std::time::Duration;

use agent_core::Timing;
use agent_core::{Mailbox, MailboxConfig, OverflowPolicy};
use benches::workloads as w;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

/// Messages per iteration of the tell benchmark.
const TELL_MESSAGES: u64 = 100_000;
/// Senders and messages per sender in the fan-in benchmark.
const FAN_IN: (u64, u64) = (100, 1_000);
/// Capacity of the raw mailbox; every policy benchmark offers twice as many items.
const MAILBOX_CAPACITY: usize = 1024;
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
                .map(|_| w::run_on(&rt, w::tell_agent(TELL_MESSAGES, Timing::default())))
                .sum()
        })
    });
    g.bench_function("agent-core-timing-off", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, w::tell_agent(TELL_MESSAGES, Timing::Off)))
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

/// Offers `2 * MAILBOX_CAPACITY` items to a raw mailbox without a receiver, then drains it:
/// the cost of the policy decision and the counters, with no task switch.
fn policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("mailbox_try_send_then_drain");
    g.throughput(Throughput::Elements(2 * MAILBOX_CAPACITY as u64));
    for (name, policy) in [
        ("reject", OverflowPolicy::Reject),
        ("drop-newest", OverflowPolicy::DropNewest),
        ("drop-oldest", OverflowPolicy::DropOldest),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || Mailbox::new(MailboxConfig::bounded(MAILBOX_CAPACITY, policy)).unwrap(),
                |mb: Mailbox<u64>| {
                    for n in 0..2 * MAILBOX_CAPACITY as u64 {
                        let _ = std::hint::black_box(mb.try_send(n));
                    }
                    while let Some(n) = mb.try_recv() {
                        std::hint::black_box(n);
                    }
                    mb
                },
                BatchSize::SmallInput,
            )
        });
    }
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

criterion_group!(benches, policies, tell, fan_in, ask);
criterion_main!(benches);
