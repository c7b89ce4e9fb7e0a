//! Pools: clients acquiring a lease, asking the leased worker and releasing, under both dispatch
//! strategies, next to the same pattern on a raw tokio semaphore and worker tasks.
//!
//! Run with: cargo bench -p benches --bench pool

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_core::{AgentRuntime, Dispatch, Pool, PoolConfig};
use benches::workloads as w;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Worker agents in the pool.
const WORKERS: usize = 8;
/// Concurrent clients, more than workers so acquiring contends.
const CLIENTS: u64 = 32;
/// Lease-ask-release cycles per client per iteration.
const CYCLES: u64 = 100;
/// Acquire and ask timeout, far above any expected wait.
const TIMEOUT: Duration = Duration::from_secs(60);

async fn pool_agent(dispatch: Dispatch) -> Duration {
    let rt = AgentRuntime::default();
    let pool = Pool::new(
        &rt,
        PoolConfig::new("bench", WORKERS).with_dispatch(dispatch),
        w::Echo::default,
    )
    .expect("pool");
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in 0..CYCLES {
                    let lease = pool.acquire(TIMEOUT).await.expect("acquire");
                    let n = c * CYCLES + i;
                    assert_eq!(lease.ask(n, TIMEOUT).await.expect("ask"), n);
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    let elapsed = start.elapsed();
    assert_eq!(pool.snapshot().acquires, CLIENTS * CYCLES);
    elapsed
}

type Request = (u64, oneshot::Sender<u64>);

async fn pool_tokio() -> Duration {
    let semaphore = Arc::new(Semaphore::new(WORKERS));
    let workers: Arc<Vec<mpsc::Sender<Request>>> = Arc::new(
        (0..WORKERS)
            .map(|_| {
                let (tx, mut rx) = mpsc::channel::<Request>(w::CHANNEL_BOUND);
                tokio::spawn(async move {
                    while let Some((n, reply)) = rx.recv().await {
                        let _ = reply.send(n);
                    }
                });
                tx
            })
            .collect(),
    );
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (semaphore, workers) = (Arc::clone(&semaphore), Arc::clone(&workers));
            tokio::spawn(async move {
                for i in 0..CYCLES {
                    let _permit = semaphore.acquire().await.expect("open");
                    let n = c * CYCLES + i;
                    let (tx, rx) = oneshot::channel();
                    workers[(n as usize) % WORKERS]
                        .send((n, tx))
                        .await
                        .expect("send");
                    assert_eq!(rx.await.expect("reply"), n);
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    start.elapsed()
}

fn lease_ask_release(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("pool_lease_ask_release");
    g.throughput(Throughput::Elements(CLIENTS * CYCLES));
    g.bench_function("agent-core-round-robin", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, pool_agent(Dispatch::RoundRobin)))
                .sum()
        })
    });
    g.bench_function("agent-core-least-loaded", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, pool_agent(Dispatch::LeastLoaded)))
                .sum()
        })
    });
    g.bench_function("tokio-semaphore", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| w::run_on(&rt, pool_tokio())).sum())
    });
    g.finish();
}

criterion_group!(benches, lease_ask_release);
criterion_main!(benches);
