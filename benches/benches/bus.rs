//! Publish/subscribe: one publisher fanning out to N subscriber mailboxes, each drained by its
//! own task, next to the same fan-out over N raw tokio mpsc channels.
//!
//! Run with: cargo bench -p benches --bench bus

use std::time::{Duration, Instant};

use agent_core::{Bus, MailboxConfig};
use benches::workloads as w;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::sync::mpsc;

/// Messages published per iteration.
const MESSAGES: u64 = 10_000;
/// Subscriber counts to compare.
const SUBSCRIBERS: [u64; 3] = [1, 10, 100];

async fn publish_bus(subscribers: u64) -> Duration {
    let bus: Bus<u64> = Bus::local();
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let sub = bus
            .subscribe("topic", MailboxConfig::default())
            .await
            .expect("subscribe");
        readers.push(tokio::spawn(async move {
            let mut got = 0u64;
            while got < MESSAGES {
                let env = sub.recv().await.expect("open");
                std::hint::black_box(env.msg);
                got += 1;
            }
            got
        }));
    }
    let start = Instant::now();
    for n in 0..MESSAGES {
        bus.publish("topic", n).await.expect("publish");
    }
    for r in readers {
        assert_eq!(r.await.expect("reader"), MESSAGES);
    }
    start.elapsed()
}

async fn publish_tokio(subscribers: u64) -> Duration {
    let (txs, readers): (Vec<_>, Vec<_>) = (0..subscribers)
        .map(|_| {
            let (tx, mut rx) = mpsc::channel::<u64>(w::CHANNEL_BOUND);
            let reader = tokio::spawn(async move {
                let mut got = 0u64;
                while let Some(v) = rx.recv().await {
                    std::hint::black_box(v);
                    got += 1;
                }
                got
            });
            (tx, reader)
        })
        .unzip();
    let start = Instant::now();
    for n in 0..MESSAGES {
        for tx in &txs {
            tx.send(n).await.expect("send");
        }
    }
    drop(txs);
    for r in readers {
        assert_eq!(r.await.expect("reader"), MESSAGES);
    }
    start.elapsed()
}

fn fan_out(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("publish_fan_out");
    g.sample_size(20);
    for subs in SUBSCRIBERS {
        g.throughput(Throughput::Elements(MESSAGES * subs));
        g.bench_with_input(BenchmarkId::new("agent-core", subs), &subs, |b, &s| {
            b.iter_custom(|iters| (0..iters).map(|_| w::run_on(&rt, publish_bus(s))).sum())
        });
        g.bench_with_input(BenchmarkId::new("tokio-mpsc", subs), &subs, |b, &s| {
            b.iter_custom(|iters| (0..iters).map(|_| w::run_on(&rt, publish_tokio(s))).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
