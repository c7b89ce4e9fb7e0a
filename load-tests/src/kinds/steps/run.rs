//! The steps driver and rules.

use std::sync::Arc;

use agent_core::{Address, AgentConfig, AgentRuntime, RuntimeConfig, ShutdownConfig};
use tokio::time::Instant;

use super::agent::{step, StepAgent};
use super::Steps;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::kinds::rules::{clock, ops_and_p95, success_and, Figures, FullScale, Rules};
use crate::metrics::{stripes, Tallies};
use crate::report::Report;
use crate::scenario::{Arrival, Clock, Scenario, Workload};

impl Drive for Steps {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let tallies = Arc::new(Tallies::new(stripes(s.clock)));
        let mut out = DriverOutput::default();
        // tokio's scheduler allocates its yield list on the first yield; do that one now.
        tokio::task::yield_now().await;
        let rt = AgentRuntime::new(RuntimeConfig::default());
        ctx.watch(&rt);
        let agents: Vec<Address<StepAgent>> = (0..s.agents)
            .map(|i| {
                let factory = StepAgent::factory(s.workload.clone(), s.rng_seed, i as u64);
                rt.spawn(AgentConfig::named(format!("step-{i}")), factory)
                    .expect("a fresh runtime accepts agents")
            })
            .collect();

        match s.arrival {
            Arrival::Closed => {
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
            Arrival::Open { .. } | Arrival::Bursts { .. } => {
                // Steps start on schedule whether or not earlier ones are done; each is its own
                // task.
                let start = Instant::now();
                let mut tasks = Vec::with_capacity(s.total_ops() as usize);
                for i in 0..s.total_ops() {
                    if ctx.stopping() {
                        break;
                    }
                    let intended = start + s.arrival.due(i).unwrap_or_default();
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

        out.max_depth = rt.snapshot().mailboxes.max_depth;
        let shutdown = rt.shutdown(ShutdownConfig::default()).await;
        debug_assert_eq!(shutdown.aborted, 0);
        drop(agents);
        drop(rt);
        let tally = tallies.merged();
        out.ops = tally.ops;
        out.latency = tally.latency;
        out
    }
}

impl Rules for Steps {
    fn figures(&self) -> Figures {
        Figures {
            split_latency: true,
            ..Figures::COMMON
        }
    }

    /// An open-loop scenario on the virtual clock runs the published sustained load's duration
    /// (or `scale.sustained_s`); a closed-loop or real-time one already runs at the published
    /// scale.
    fn full_scale(&self, s: &Scenario, scale: &FullScale) -> Option<Scenario> {
        let Arrival::Open { rate_per_s } = s.arrival else {
            return None;
        };
        if s.clock != Clock::Virtual {
            return None;
        }
        let sustained_s = scale.sustained_s;
        let total = (rate_per_s * sustained_s as f64).round() as usize;
        Some(Scenario {
            ops_per_agent: (total / s.agents.max(1)).max(1),
            name: if sustained_s == FullScale::PUBLISHED_SUSTAINED_S {
                format!("{}_full", s.name)
            } else {
                format!("{}_{sustained_s}s", s.name)
            },
            description: format!("{} for {sustained_s} s", s.description),
            ..s.clone()
        })
    }

    /// At most [`crate::kinds::rules::COUNTED_OPS`] steps; held memory at most 64 KiB a step
    /// (valgrind takes seconds to touch megabytes, and what is counted is the runtime's work).
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        if s.clock != Clock::Virtual {
            return None;
        }
        let mut form = crate::kinds::rules::capped(s, crate::kinds::rules::COUNTED_OPS);
        if let Workload::Hold { bytes, wait_us } = form.workload {
            form.workload = Workload::Hold {
                bytes: bytes.min(64 * 1024),
                wait_us,
            };
        }
        Some(form)
    }

    /// An open-loop or bursty run's throughput and duration are its schedule's.
    fn restated(&self, s: &Scenario) -> Vec<String> {
        match s.arrival {
            Arrival::Closed => Vec::new(),
            Arrival::Open { .. } | Arrival::Bursts { .. } => vec![
                crate::report::paths::THROUGHPUT.to_owned(),
                crate::report::paths::ELAPSED_S.to_owned(),
            ],
        }
    }

    /// Mixed workflows (which can fail) show how many succeed and their p99; CPU work on the
    /// real clock shows how busy the cores were; held memory its peak.
    fn headline(&self, r: &Report) -> String {
        match r.config.workload {
            Workload::Mixed { .. } => success_and(r, false),
            Workload::Cpu { .. } if r.clock == Clock::Real => {
                let peak = r
                    .samples
                    .iter()
                    .filter_map(|s| s.cpu_cores_used)
                    .fold(0.0, f64::max);
                let cores = r.environment.cores.max(1) as f64;
                format!(
                    "CPU {:.0}% of {} cores on average, {:.0}% at peak; {} of {} done (real time; the rate is the schedule's)",
                    r.os.cpu_cores_used * 100.0 / cores,
                    r.environment.cores,
                    peak * 100.0 / cores,
                    r.operations.succeeded,
                    r.operations.total
                )
            }
            Workload::Hold { .. } => format!(
                "peak live heap {:.1} MiB (allocator-counted; {})",
                r.heap.as_ref().map_or(0, |h| h.peak_live_bytes) as f64 / (1024.0 * 1024.0),
                clock(r)
            ),
            _ => ops_and_p95(r),
        }
    }
}
