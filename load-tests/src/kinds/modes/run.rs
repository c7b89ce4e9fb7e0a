//! Seed 002's concurrent execution modes, all at once at their target rates: collaborative
//! (a chain of three agents, 5 tasks/s), autonomous (four workers pulling from a task queue,
//! 20 tasks/s), continuous (five agents each consuming a 10 msgs/s stream) and scheduled (a job
//! every second). Virtual time, so the rates achieved are exact.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{consume, Chain, Overrun, Schedule, Scheduler, TaskQueue};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Bus, Context, HandlerError, MailboxConfig, ShutdownConfig,
    TraceId,
};
use tokio::time::Instant;

use super::Modes;
use crate::baseline::Gate;
use crate::kinds::rules::{clock, extra, Figures};
use crate::kinds::rules::{Drive, Rules};
use crate::report::Report;
use crate::runner::context::RunError;
use crate::runner::context::{DriverOutput, RunContext};
use crate::runner::limits::Limits;
use crate::scenario::{Kind, Scenario};

struct Stage(Duration);

impl Agent for Stage {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        tokio::time::sleep(self.0).await;
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

impl Drive for Modes {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let &Modes { duration_s } = self;
        let duration = Duration::from_secs(duration_s);
        let rt = AgentRuntime::default();
        ctx.watch(&rt);
        let mut out = DriverOutput::default();

        // Collaborative: 5 tasks/s through research -> draft -> review (30, 50, 20 ms).
        let stages = [30, 50, 20].map(|ms| {
            rt.spawn(AgentConfig::default(), move || {
                Stage(Duration::from_millis(ms))
            })
            .expect("spawn")
        });
        let chain = Arc::new(Chain::new(stages.to_vec()));
        let collaborative = {
            let chain = Arc::clone(&chain);
            tokio::spawn(async move {
                let start = Instant::now();
                let mut tasks = Vec::new();
                for i in 0..(duration_s * 5) {
                    tokio::time::sleep_until(start + Duration::from_millis(200) * i as u32).await;
                    let chain = Arc::clone(&chain);
                    tasks.push(tokio::spawn(async move {
                        let t = Instant::now();
                        let ok = matches!(
                            chain.run(0, TraceId::new(), Duration::from_secs(10)).await,
                            Ok(3)
                        );
                        (t.elapsed(), ok)
                    }));
                }
                let mut results = Vec::new();
                for t in tasks {
                    results.push(t.await.expect("chain task"));
                }
                results
            })
        };

        // Autonomous: 20 tasks/s of 100 ms each, four workers pulling.
        let queue = TaskQueue::new(MailboxConfig::default()).expect("valid queue");
        let workers = queue.spawn_workers(4, |_, enqueued: Instant| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            std::hint::black_box(enqueued);
        });
        let producer = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                let start = Instant::now();
                for i in 0..(duration_s * 20) {
                    tokio::time::sleep_until(start + Duration::from_millis(50) * i as u32).await;
                    let _ = queue.push(Instant::now()).await;
                }
                queue.close();
            })
        };

        // Continuous: five agents, each consuming its own 10 msgs/s stream.
        let bus: Bus<u64> = Bus::local();
        let mut consumers = Vec::new();
        for a in 0..5 {
            let agent = rt
                .spawn(AgentConfig::default(), || Stage(Duration::from_millis(5)))
                .expect("spawn");
            let sub = bus
                .subscribe(&format!("stream-{a}"), MailboxConfig::default())
                .await
                .expect("open bus");
            consumers.push((consume(sub, agent.clone()), agent));
        }
        let publisher = {
            let bus = bus.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                for i in 0..(duration_s * 10) {
                    tokio::time::sleep_until(start + Duration::from_millis(100) * i as u32).await;
                    for a in 0..5 {
                        let _ = bus.publish(&format!("stream-{a}"), i).await;
                    }
                }
                bus.close();
            })
        };

        // Scheduled: a job every second.
        let mut scheduler = Scheduler::new();
        scheduler.add(
            "report",
            Schedule::Every {
                interval: Duration::from_secs(1),
                overrun: Overrun::Skip,
            },
            |_| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
            },
        );

        let collab = collaborative.await.expect("collaborative mode");
        producer.await.expect("producer");
        let mut autonomous = 0;
        for w in workers {
            autonomous += w.await.expect("worker");
        }
        publisher.await.expect("publisher");
        let mut continuous = 0;
        for (forwarder, _agent) in &mut consumers {
            continuous += forwarder.await.expect("forwarder");
        }
        let jobs = scheduler.stop().await;
        rt.shutdown(ShutdownConfig::default()).await;

        for (latency, ok) in &collab {
            out.latency.record_total(*latency);
            out.ops
                .record(if *ok { Ok(()) } else { Err("chain_failed") });
        }
        let secs = duration.as_secs_f64();
        out.extra
            .insert(COLLABORATIVE_TASKS_PER_S.into(), collab.len() as f64 / secs);
        out.extra
            .insert(AUTONOMOUS_TASKS_PER_S.into(), autonomous as f64 / secs);
        out.extra.insert(
            CONTINUOUS_MSGS_PER_S_PER_AGENT.into(),
            continuous as f64 / 5.0 / secs,
        );
        out.extra
            .insert(SCHEDULED_FIRED.into(), jobs[0].fired as f64);
        out.extra
            .insert(SCHEDULED_MISSED.into(), jobs[0].missed as f64);
        ctx.done(out.ops.total);
        out
    }
}

/// The kind's gated figures, all exact on the virtual clock.
const GATED: [&str; 5] = [
    COLLABORATIVE_TASKS_PER_S,
    AUTONOMOUS_TASKS_PER_S,
    CONTINUOUS_MSGS_PER_S_PER_AGENT,
    SCHEDULED_FIRED,
    SCHEDULED_MISSED,
];

impl Rules for Modes {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.duration_s", self.duration_s)?;
        l.seconds("kind.duration_s", self.duration_s, 1)
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

    /// Ten seconds of the modes.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            kind: Kind::Modes(Modes {
                duration_s: self.duration_s.min(10),
            }),
            ..s.clone()
        })
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "collaborative {:.1} tasks/s, autonomous {:.1} tasks/s ({})",
            extra(r, COLLABORATIVE_TASKS_PER_S),
            extra(r, AUTONOMOUS_TASKS_PER_S),
            clock(r)
        )
    }
}
