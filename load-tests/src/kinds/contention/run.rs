//! The resource-contention driver (seed 003): CPU-heavy and memory-heavy workflows at once,
//! through agents, against the same work on raw tokio tasks, rounds interleaved.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{AgentConfig, AgentRuntime, RuntimeConfig, ShutdownConfig};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Contention;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::{Limits, MAX_BYTES_IN_FLIGHT, MAX_COUNT, MAX_CPU_ITERATIONS};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::messaging::raw_tokio::CHANNEL_BOUND;
use crate::kinds::messaging::traffic::{yardstick, RoundResult};
use crate::kinds::rules::{Figures, Rules};
use crate::kinds::steps::agent::{
    ask_failure_cause, record_latency, Step, StepAgent, STEP_TIMEOUT,
};
use crate::metrics::{LatencyRecorder, Tallies, Tally, STRIPES};
use crate::report::paths;
use crate::report::Operations;
use crate::resources::Usage;
use crate::scenario::Scenario;
use crate::scenario::Workload;
use crate::workload::{burn_cpu, touch_memory};

struct Shape {
    cpu: usize,
    memory: usize,
    per_workflow: usize,
    cpu_iterations: u64,
    alloc_bytes: usize,
}

impl Drive for Contention {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &Contention {
            cpu_workflows,
            memory_workflows,
            cpu_iterations,
            alloc_bytes,
        } = self;
        let shape = Shape {
            cpu: cpu_workflows,
            memory: memory_workflows,
            per_workflow: s.ops_per_agent,
            cpu_iterations,
            alloc_bytes,
        };
        let mut out = DriverOutput::default();
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        let mut elapsed = Duration::ZERO;
        for round in 0..ctx.rounds() {
            if ctx.stopping() {
                break;
            }
            if round % 2 == 1 {
                raw.push(raw_round(&shape).await);
            }
            let (r, ops, latency) = agent_round(ctx, &shape).await;
            if round % 2 == 0 {
                raw.push(raw_round(&shape).await);
            }
            elapsed += r.elapsed;
            out.ops.merge(&ops);
            out.latency.merge(&latency);
            ours.push(r);
        }
        let total = ((shape.cpu + shape.memory) * shape.per_workflow) as u64;
        out.yardstick = Some(yardstick(
            "the same CPU and memory work in raw tokio worker tasks behind mpsc + oneshot",
            &ours,
            &raw,
            total,
        ));
        out.elapsed = Some(elapsed);
        out
    }
}

async fn agent_round(
    ctx: &Arc<RunContext>,
    shape: &Shape,
) -> (RoundResult, Operations, LatencyRecorder) {
    let s = &ctx.scenario;
    let rt = AgentRuntime::new(RuntimeConfig::default());
    ctx.watch(&rt);
    let tallies = Arc::new(Tallies::new(STRIPES));
    let start = Instant::now();
    let usage_start = Usage::now();
    let drivers: Vec<_> = (0..shape.cpu + shape.memory)
        .map(|i| {
            let workload = if i < shape.cpu {
                Workload::Cpu {
                    iterations: shape.cpu_iterations,
                }
            } else {
                Workload::Alloc {
                    bytes: shape.alloc_bytes,
                }
            };
            let factory = StepAgent::factory(workload, s.rng_seed, i as u64);
            let agent = rt
                .spawn(AgentConfig::default(), factory)
                .expect("a fresh runtime accepts agents");
            let per = shape.per_workflow;
            let ctx = Arc::clone(ctx);
            let tallies = Arc::clone(&tallies);
            tokio::spawn(async move {
                for _ in 0..per {
                    let t = Instant::now();
                    let outcome = agent.ask(Step, STEP_TIMEOUT).await;
                    let total = t.elapsed();
                    tallies.with(i, |tally| match outcome {
                        Ok(o) => {
                            record_latency(&mut tally.latency, total, o.queue, o.service);
                            tally.ops.record(o.result);
                        }
                        Err(e) => tally.ops.record(Err(ask_failure_cause(&e))),
                    });
                    ctx.done(1);
                }
            })
        })
        .collect();
    for d in drivers {
        d.await.expect("workflow task");
    }
    let elapsed = start.elapsed();
    let usage = Usage::since(usage_start);
    let Tally { ops, latency } = tallies.merged();
    rt.shutdown(ShutdownConfig::default()).await;
    let p99_ns = latency.summary().total.p99_ns;
    (
        RoundResult {
            elapsed,
            p99_ns,
            usage,
            p99_from_send_ns: 0,
        },
        ops,
        latency,
    )
}

async fn raw_round(shape: &Shape) -> RoundResult {
    let tallies = Arc::new(Tallies::new(STRIPES));
    let start = Instant::now();
    let usage_start = Usage::now();
    let drivers: Vec<_> = (0..shape.cpu + shape.memory)
        .map(|i| {
            let cpu = i < shape.cpu;
            let (iterations, bytes, per) =
                (shape.cpu_iterations, shape.alloc_bytes, shape.per_workflow);
            let tallies = Arc::clone(&tallies);
            tokio::spawn(async move {
                let (tx, mut rx) = mpsc::channel::<oneshot::Sender<()>>(CHANNEL_BOUND);
                let worker = tokio::spawn(async move {
                    while let Some(reply) = rx.recv().await {
                        if cpu {
                            burn_cpu(iterations);
                        } else {
                            touch_memory(bytes);
                        }
                        let _ = reply.send(());
                    }
                });
                for _ in 0..per {
                    let t = Instant::now();
                    let (rtx, rrx) = oneshot::channel();
                    tx.send(rtx).await.expect("worker alive");
                    rrx.await.expect("worker replies");
                    let total = t.elapsed();
                    tallies.with(i, |tally| tally.latency.record_total(total));
                }
                drop(tx);
                worker.await.expect("worker task");
            })
        })
        .collect();
    for d in drivers {
        d.await.expect("raw workflow task");
    }
    let elapsed = start.elapsed();
    let usage = Usage::since(usage_start);
    RoundResult {
        elapsed,
        p99_ns: tallies.merged().latency.summary().total.p99_ns,
        usage,
        p99_from_send_ns: 0,
    }
}

impl Rules for Contention {
    /// Its totals are rounds times the traffic, and the rounds differ between builds (debug 7,
    /// release 25, or `--rounds`): every failure is gated instead.
    fn figures(&self) -> Figures {
        Figures {
            exact_totals: false,
            ..Figures::COMMON
        }
    }

    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        let tasks = |n: usize| n as u64;
        l.at_most(
            "kind.cpu_workflows",
            tasks(self.cpu_workflows),
            MAX_COUNT as u64,
            "tasks",
        )?;
        l.at_most(
            "kind.memory_workflows",
            tasks(self.memory_workflows),
            MAX_COUNT as u64,
            "tasks",
        )?;
        l.at_most(
            "kind.cpu_iterations",
            self.cpu_iterations,
            MAX_CPU_ITERATIONS,
            "CPU work",
        )?;
        l.at_most(
            "kind.alloc_bytes",
            (self.alloc_bytes as u64).saturating_mul(self.memory_workflows as u64),
            MAX_BYTES_IN_FLIGHT,
            "alloc_bytes x memory_workflows, held at once",
        )
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::ratio(paths::YARDSTICK_THROUGHPUT),
            Gate::ratio(paths::YARDSTICK_CPU),
        ]
    }

    /// Its cost is CPU burn and memory traffic, the workload's, not the runtime's.
    fn counting_form(&self, _s: &Scenario) -> Option<Scenario> {
        None
    }
}
