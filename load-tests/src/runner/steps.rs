//! The steps driver (seed 000's concurrent agents and sequential leak test, seed 003's workflows,
//! sustained load): agents perform workload steps requested by drivers in a closed loop, or on an
//! open-loop schedule with latency measured from each step's intended start.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{Address, AgentConfig, AgentRuntime, AskError, RuntimeConfig, ShutdownConfig};
use tokio::time::Instant;

use super::agents::{Step, StepAgent, StepOutcome};
use super::{DriverOutput, RunContext};
use crate::metrics::Tallies;
use crate::resources::heap_now;
use crate::scenario::{Arrival, Kind};

/// How long a driver waits for one step before counting it failed.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(600);

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
    let s = &ctx.scenario;
    // Everything the driver keeps is allocated before `setup`, so that what is live after the
    // teardown, compared with `setup`, is what the runtime left behind: a leak.
    let tallies = Arc::new(Tallies::new(stripes(s.clock)));
    let mut heap_series = Vec::with_capacity(s.total_ops() as usize / heap_every(&s.kind) + 1);
    let sequential = matches!(s.kind, Kind::Sequential { .. });
    let mut out = DriverOutput::default();
    // tokio's scheduler allocates its yield list on the first yield; do that one now.
    tokio::task::yield_now().await;
    let setup = heap_now();
    let rt = AgentRuntime::new(RuntimeConfig::default());
    if !sequential {
        ctx.watch(&rt);
    }
    let agents: Vec<Address<StepAgent>> = (0..s.agents)
        .map(|i| {
            let factory = StepAgent::factory(s.workload.clone(), s.seed, i as u64);
            rt.spawn(AgentConfig::named(format!("step-{i}")), factory)
                .expect("a fresh runtime accepts agents")
        })
        .collect();

    match (&s.kind, &s.arrival) {
        (Kind::Sequential { sample_every }, _) => {
            // One operation after another; the heap is sampled every `sample_every` operations.
            let agent = &agents[0];
            for i in 0..s.total_ops() {
                if ctx.stopping() {
                    break;
                }
                step(agent, Instant::now(), &tallies, 0).await;
                ctx.done(1);
                if (i + 1) % *sample_every as u64 == 0 {
                    heap_series.push(heap_now().map(|h| h.live_bytes));
                }
            }
        }
        (_, Arrival::Closed) => {
            let drivers: Vec<_> = (0..s.concurrency)
                .map(|d| {
                    let targets: Vec<Address<StepAgent>> = (0..s.agents)
                        .filter(|a| a % s.concurrency == d)
                        .map(|a| agents[a].clone())
                        .collect();
                    let ctx = Arc::clone(ctx);
                    let tallies = Arc::clone(&tallies);
                    let per_target = s.ops_per_agent;
                    tokio::spawn(async move {
                        for _ in 0..per_target {
                            for agent in &targets {
                                if ctx.stopping() {
                                    return;
                                }
                                step(agent, Instant::now(), &tallies, d).await;
                                ctx.done(1);
                            }
                        }
                    })
                })
                .collect();
            for d in drivers {
                d.await.expect("driver task");
            }
        }
        (_, Arrival::Open { rate_per_s }) => {
            // Steps start on schedule whether or not earlier ones are done; each is its own task.
            let start = Instant::now();
            let period = Duration::from_secs_f64(1.0 / rate_per_s);
            let mut tasks = Vec::with_capacity(s.total_ops() as usize);
            for i in 0..s.total_ops() {
                if ctx.stopping() {
                    break;
                }
                let intended = start + period.mul_f64(i as f64);
                tokio::time::sleep_until(intended).await;
                let agent = agents[i as usize % agents.len()].clone();
                let ctx = Arc::clone(ctx);
                let tallies = Arc::clone(&tallies);
                tasks.push(tokio::spawn(async move {
                    step(&agent, intended, &tallies, i as usize).await;
                    ctx.done(1);
                }));
            }
            for t in tasks {
                t.await.expect("step task");
            }
        }
    }

    let max_depth = rt.snapshot().mailboxes.max_depth;
    let shutdown = rt.shutdown(ShutdownConfig::default()).await;
    debug_assert_eq!(shutdown.aborted, 0);
    drop(agents);
    drop(rt);
    if sequential {
        tokio::task::yield_now().await;
        if let (Some(a), Some(b)) = (setup, heap_now()) {
            out.extra.insert(
                "leaked_bytes".into(),
                b.live_bytes as f64 - a.live_bytes as f64,
            );
            out.extra.insert(
                "leaked_blocks".into(),
                b.live_blocks as f64 - a.live_blocks as f64,
            );
        }
    }
    let tally = tallies.merged();
    out.ops = tally.ops;
    out.latency = tally.latency;
    out.max_depth = max_depth;
    if !heap_series.is_empty() {
        for (i, live) in heap_series.iter().enumerate() {
            if let Some(bytes) = live {
                let at = (i + 1) * heap_every(&ctx.scenario.kind);
                out.extra
                    .insert(format!("heap_live_bytes_at_op_{at:05}"), *bytes as f64);
            }
        }
    }
    out
}

fn heap_every(kind: &Kind) -> usize {
    match kind {
        Kind::Sequential { sample_every } => *sample_every,
        _ => 1,
    }
}

/// Asks `agent` for one step; `intended` is when the step was meant to start. Mixed workloads
/// also count the workflow types drawn.
async fn step(agent: &Address<StepAgent>, intended: Instant, tallies: &Tallies, key: usize) {
    let outcome = agent.ask(Step, STEP_TIMEOUT).await;
    let total = intended.elapsed();
    tallies.with(key, |t| match outcome {
        Ok(StepOutcome {
            queue,
            service,
            result,
            kind,
        }) => {
            t.latency.record(total, queue, service);
            t.ops.record(result);
            if let Some(kind) = kind {
                t.ops.count_type(kind.as_str());
            }
        }
        Err(e) => {
            t.latency.record_total(total);
            t.ops.record(Err(ask_error_kind(&e)));
        }
    });
}

/// Lock stripes for shared tallies: enough that two worker threads rarely meet on one.
pub(crate) const STRIPES: usize = 8;

/// Stripes for a scenario: one on the virtual clock (a single thread never contends).
pub(crate) fn stripes(clock: crate::scenario::Clock) -> usize {
    match clock {
        crate::scenario::Clock::Virtual => 1,
        crate::scenario::Clock::Real => STRIPES,
    }
}

/// A short name for an ask failure, for `errors_by_kind`.
pub(crate) fn ask_error_kind<M>(e: &AskError<M>) -> &'static str {
    match e {
        AskError::Send(_) => "send_refused",
        AskError::Timeout(_) => "ask_timeout",
        AskError::Failed(_) => "handler_failed",
        _ => "dropped",
    }
}
