//! Lifecycle and supervision: spawning, draining and stopping agents, and what a failed message
//! costs when the agent is restarted (error and panic paths).
//!
//! Run with: cargo bench -p benches --bench supervision

use std::time::{Duration, Instant};

use agent_core::{Agent, AgentConfig, AgentRuntime, Backoff, Context, HandlerError, RestartPolicy};
use benches::workloads as w;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Agents and messages per agent in the spawn / send / stop benchmark (seed VERITAS's 250 x 5).
const SPAWN_STOP: (u64, u64) = (250, 5);
/// Failing messages per iteration of the restart benchmarks.
const FAILURES: u64 = 200;
/// Ask timeout, far above any expected reply time.
const ASK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum Job {
    Fail,
    Panic,
    Count,
}

#[derive(Debug, Default)]
struct Fragile {
    handled: u64,
}

impl Agent for Fragile {
    type Msg = Job;
    type Reply = u64;
    async fn handle(&mut self, job: Job, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        match job {
            Job::Fail => Err("injected failure".into()),
            Job::Panic => panic!("injected panic"),
            Job::Count => {
                self.handled += 1;
                Ok(self.handled)
            }
        }
    }
}

/// Restart immediately, and never give up within a benchmark.
fn always_restart() -> RestartPolicy {
    RestartPolicy::OnFailure {
        max_restarts: u32::MAX,
        within: Duration::from_secs(1),
        backoff: Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            factor: 1,
        },
    }
}

/// Sends `FAILURES` failing messages of one kind, then one ask that proves all were handled.
async fn fail_and_restart(job: fn() -> Job) -> Duration {
    let rt = AgentRuntime::default();
    let a = rt
        .spawn(
            AgentConfig::default().with_restart(always_restart()),
            Fragile::default,
        )
        .expect("spawn");
    let start = Instant::now();
    for _ in 0..FAILURES {
        a.tell(job()).await.expect("tell");
    }
    a.ask(Job::Count, ASK_TIMEOUT).await.expect("ask");
    let elapsed = start.elapsed();
    assert_eq!(a.snapshot().restarts, FAILURES);
    elapsed
}

fn spawn_send_stop(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("spawn_send_stop_250x5");
    g.throughput(Throughput::Elements(SPAWN_STOP.0));
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

fn restart(c: &mut Criterion) {
    // Panics are the thing measured; their default message on stderr is not.
    std::panic::set_hook(Box::new(|_| {}));
    let rt = w::tokio_runtime();
    let mut g = c.benchmark_group("restart_after_failure");
    g.throughput(Throughput::Elements(FAILURES));
    g.bench_function("handler-error", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, fail_and_restart(|| Job::Fail)))
                .sum()
        })
    });
    g.bench_function("handler-panic", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::run_on(&rt, fail_and_restart(|| Job::Panic)))
                .sum()
        })
    });
    g.finish();
    drop(std::panic::take_hook());
}

criterion_group!(benches, spawn_send_stop, restart);
criterion_main!(benches);
