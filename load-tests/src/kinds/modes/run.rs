//! Seed 002's concurrent execution modes, all at once at their target rates and with the seed's
//! agent counts: collaborative (each research task through a chain of `collaborative_agents`,
//! 20 ms each, 5 tasks/s), autonomous (`autonomous_agents` workers pulling 2 s analyses from one
//! queue, 20 tasks/s), continuous (`continuous_agents` agents each consuming a 10 msgs/s stream)
//! and scheduled (`scheduled_agents` reports, one every 5 s each). Virtual time: every rate is
//! exact. A rate counts completions: (completed - 1) over the time from the first completion to
//! the last, so a mode that falls behind shows below its target.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{consume, Chain, Overrun, Schedule, Scheduler, TaskQueue};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Bus, Context, HandlerError, MailboxConfig, ShutdownConfig,
    TraceId,
};
use tokio::time::Instant;

use super::Modes;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::{Limits, MAX_COUNT};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Rules;
use crate::kinds::rules::{clock, extra, Figures};
use crate::report::Report;
use crate::scenario::{Kind, Scenario};

/// How many completed, and the first and last time one did.
type Tally = (u64, Option<(Instant, Instant)>);

/// When work of one mode completed.
#[derive(Clone, Debug, Default)]
struct Completions(Arc<std::sync::Mutex<Tally>>);

impl Completions {
    fn note(&self) {
        let now = Instant::now();
        let mut c = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        c.0 += 1;
        c.1 = Some(c.1.map_or((now, now), |(first, _)| (first, now)));
    }

    fn count(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    /// Completions per second between the first and the last.
    fn rate(&self) -> f64 {
        let c = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match c.1 {
            Some((first, last)) if c.0 > 1 => {
                (c.0 - 1) as f64 / last.duration_since(first).as_secs_f64().max(1e-9)
            }
            _ => 0.0,
        }
    }
}

/// A stage that takes a while; it notes each message it finishes.
struct Stage(Duration, Option<Completions>);

impl Agent for Stage {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        tokio::time::sleep(self.0).await;
        if let Some(c) = &self.1 {
            c.note();
        }
        Ok(n + 1)
    }
}

/// Collaborative tasks completed per second.
pub(crate) const COLLABORATIVE_TASKS_PER_S: &str = "collaborative_tasks_per_s";
/// Autonomous tasks completed per second.
pub(crate) const AUTONOMOUS_TASKS_PER_S: &str = "autonomous_tasks_per_s";
/// Continuous messages handled per second, per agent.
pub(crate) const CONTINUOUS_MSGS_PER_S_PER_AGENT: &str = "continuous_msgs_per_s_per_agent";
/// Scheduled-job runs that fired.
pub(crate) const SCHEDULED_FIRED: &str = "scheduled_fired";
/// Scheduled-job runs missed.
pub(crate) const SCHEDULED_MISSED: &str = "scheduled_missed";
/// Failed work over all work, percent.
pub(crate) const ERROR_RATE_PCT: &str = "error_rate_pct";

/// The seed's targets.
const COLLABORATIVE_PER_S: u64 = 5;
const AUTONOMOUS_PER_S: u64 = 20;
const CONTINUOUS_PER_S: u64 = 10;
/// One collaborative stage; an autonomous analysis; a continuous message's handling.
const STAGE: Duration = Duration::from_millis(20);
const ANALYSIS: Duration = Duration::from_secs(2);
const SUPPORT_REPLY: Duration = Duration::from_millis(5);
const REPORT_EVERY: Duration = Duration::from_secs(5);

impl Drive for Modes {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let duration_s = self.duration_s;
        let rt = AgentRuntime::default();
        ctx.watch(&rt);
        let mut out = DriverOutput::default();
        let start = Instant::now();

        // Collaborative: each task through every stage agent in turn.
        let stages: Vec<_> = (0..self.collaborative_agents)
            .map(|_| {
                rt.spawn(AgentConfig::default(), || Stage(STAGE, None))
                    .expect("spawn")
            })
            .collect();
        let chain = Arc::new(Chain::new(stages));
        let hops = self.collaborative_agents as u64;
        let collab_done = Completions::default();
        let collaborative = {
            let chain = Arc::clone(&chain);
            let collab_done = collab_done.clone();
            tokio::spawn(async move {
                let tasks: Vec<_> = (0..duration_s * COLLABORATIVE_PER_S)
                    .map(|i| {
                        let (chain, collab_done) = (Arc::clone(&chain), collab_done.clone());
                        let due =
                            start + Duration::from_secs(1) * i as u32 / COLLABORATIVE_PER_S as u32;
                        tokio::spawn(async move {
                            tokio::time::sleep_until(due).await;
                            let done = chain.run(0, TraceId::new(), Duration::from_secs(10)).await;
                            let ok = matches!(done, Ok(n) if n == hops);
                            if ok {
                                collab_done.note();
                            }
                            (due.elapsed(), ok)
                        })
                    })
                    .collect();
                let mut results = Vec::new();
                for t in tasks {
                    results.push(t.await.expect("chain task"));
                }
                results
            })
        };

        // Autonomous: analyses pulled by the workers from one queue.
        let queue = TaskQueue::new(MailboxConfig::default()).expect("valid queue");
        let analyses = Completions::default();
        let workers = {
            let analyses = analyses.clone();
            queue.spawn_workers(self.autonomous_agents, move |_, enqueued: Instant| {
                let analyses = analyses.clone();
                async move {
                    tokio::time::sleep(ANALYSIS).await;
                    std::hint::black_box(enqueued);
                    analyses.note();
                }
            })
        };
        let producer = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                for i in 0..(duration_s * AUTONOMOUS_PER_S) {
                    let due = start + Duration::from_secs(1) * i as u32 / AUTONOMOUS_PER_S as u32;
                    tokio::time::sleep_until(due).await;
                    let _ = queue.push(Instant::now()).await;
                }
                queue.close();
            })
        };

        // Continuous: each agent consuming its own stream.
        let bus: Bus<u64> = Bus::local();
        let mut consumers = Vec::new();
        let replies: Vec<Completions> = (0..self.continuous_agents)
            .map(|_| Completions::default())
            .collect();
        for (a, done) in replies.iter().enumerate() {
            let done = done.clone();
            let agent = rt
                .spawn(AgentConfig::default(), move || {
                    Stage(SUPPORT_REPLY, Some(done.clone()))
                })
                .expect("spawn");
            let sub = bus
                .subscribe(&format!("stream-{a}"), MailboxConfig::default())
                .await
                .expect("open bus");
            consumers.push((consume(sub, agent.clone()), agent));
        }
        let publisher = {
            let bus = bus.clone();
            let streams = self.continuous_agents;
            tokio::spawn(async move {
                for i in 0..(duration_s * CONTINUOUS_PER_S) {
                    let due = start + Duration::from_secs(1) * i as u32 / CONTINUOUS_PER_S as u32;
                    tokio::time::sleep_until(due).await;
                    for a in 0..streams {
                        let _ = bus.publish(&format!("stream-{a}"), i).await;
                    }
                }
                bus.close();
            })
        };

        // Scheduled: one periodic report per agent.
        let mut scheduler = Scheduler::new();
        for r in 0..self.scheduled_agents {
            scheduler.add(
                format!("report-{r}"),
                Schedule::Every {
                    interval: REPORT_EVERY,
                    overrun: Overrun::Skip,
                },
                |_| async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                },
            );
        }

        let collab = collaborative.await.expect("collaborative mode");
        producer.await.expect("producer");
        let mut autonomous = 0;
        for w in workers {
            autonomous += w.await.expect("worker");
        }
        publisher.await.expect("publisher");
        for (forwarder, _agent) in &mut consumers {
            forwarder.await.expect("forwarder");
        }
        // The scheduled reports run over the same window as the rest.
        tokio::time::sleep_until(start + Duration::from_secs(duration_s)).await;
        let jobs = scheduler.stop().await;
        // Shutdown drains the continuous agents' mailboxes.
        rt.shutdown(ShutdownConfig::default()).await;
        let continuous: u64 = replies.iter().map(Completions::count).sum();
        let continuous_rate = replies.iter().map(Completions::rate).sum::<f64>()
            / self.continuous_agents.max(1) as f64;

        let mut failed = 0u64;
        for (latency, ok) in &collab {
            out.latency.record_total(*latency);
            out.ops
                .record(if *ok { Ok(()) } else { Err("chain_failed") });
            failed += u64::from(!ok);
        }
        let (fired, missed) = jobs
            .iter()
            .fold((0, 0), |(f, m), j| (f + j.fired, m + j.missed));
        let expected_continuous = duration_s * CONTINUOUS_PER_S * self.continuous_agents as u64;
        let expected_autonomous = duration_s * AUTONOMOUS_PER_S;
        failed += expected_continuous.saturating_sub(continuous)
            + expected_autonomous.saturating_sub(autonomous)
            + missed;
        let all = collab.len() as u64 + expected_continuous + expected_autonomous + fired + missed;
        for (key, value) in [
            (COLLABORATIVE_TASKS_PER_S, collab_done.rate()),
            (AUTONOMOUS_TASKS_PER_S, analyses.rate()),
            (CONTINUOUS_MSGS_PER_S_PER_AGENT, continuous_rate),
            (SCHEDULED_FIRED, fired as f64),
            (SCHEDULED_MISSED, missed as f64),
            (ERROR_RATE_PCT, failed as f64 * 100.0 / all.max(1) as f64),
        ] {
            out.extra.insert(key.into(), value);
        }
        ctx.done(out.ops.total);
        out
    }
}

/// The kind's gated figures, all exact on the virtual clock.
const GATED: [&str; 6] = [
    COLLABORATIVE_TASKS_PER_S,
    AUTONOMOUS_TASKS_PER_S,
    CONTINUOUS_MSGS_PER_S_PER_AGENT,
    SCHEDULED_FIRED,
    SCHEDULED_MISSED,
    ERROR_RATE_PCT,
];

impl Rules for Modes {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.duration_s", self.duration_s)?;
        l.seconds("kind.duration_s", self.duration_s, 1)?;
        for (field, n) in [
            ("kind.collaborative_agents", self.collaborative_agents),
            ("kind.autonomous_agents", self.autonomous_agents),
            ("kind.continuous_agents", self.continuous_agents),
            ("kind.scheduled_agents", self.scheduled_agents),
        ] {
            l.count(field, n)?;
            l.at_most(field, n as u64, MAX_COUNT as u64 / 1000, "agents per mode")?;
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        Figures {
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        GATED.iter().map(|k| Gate::extra(k)).collect()
    }

    /// The seed's criteria: each mode at its rate, under 1% errors.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for (key, floor) in [
            (COLLABORATIVE_TASKS_PER_S, COLLABORATIVE_PER_S),
            (AUTONOMOUS_TASKS_PER_S, AUTONOMOUS_PER_S),
            (CONTINUOUS_MSGS_PER_S_PER_AGENT, CONTINUOUS_PER_S),
        ] {
            let v = extra(r, key);
            // Completions of a mode that keeps up come at its arrival rate, exactly.
            if v.is_nan() || v < floor as f64 {
                broken.push(format!("{key} {v:.2}, the seed's target is {floor}"));
            }
        }
        let errors = extra(r, ERROR_RATE_PCT);
        if errors.is_nan() || errors >= 1.0 {
            broken.push(format!("error rate {errors:.2}% (seed: < 1%)"));
        }
    }

    /// Ten seconds of the modes.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            kind: Kind::Modes(Modes {
                duration_s: self.duration_s.min(10),
                ..self.clone()
            }),
            ..s.clone()
        })
    }

    /// The rates completed are the rates offered, as long as the modes keep up.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        [
            COLLABORATIVE_TASKS_PER_S,
            AUTONOMOUS_TASKS_PER_S,
            CONTINUOUS_MSGS_PER_S_PER_AGENT,
        ]
        .map(|k| format!("extra.{k}"))
        .to_vec()
    }

    /// A model check of capacity: the offered rates come back when the modes keep up.
    fn headline(&self, r: &Report) -> String {
        format!(
            "completed: collaborative {:.2} tasks/s, autonomous {:.2} tasks/s, continuous {:.2} msgs/s per agent; {:.2}% errors ({}; model check: the offered rates, kept up with)",
            extra(r, COLLABORATIVE_TASKS_PER_S),
            extra(r, AUTONOMOUS_TASKS_PER_S),
            extra(r, CONTINUOUS_MSGS_PER_S_PER_AGENT),
            extra(r, ERROR_RATE_PCT),
            clock(r)
        )
    }
}
