//! The agent-memory driver and rules.

use std::sync::Arc;
use std::time::Duration;

use agent_core::ShutdownConfig;
use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig};

use super::AgentMemory;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::{Limits, MAX_SECONDS};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, FullScale, Rules};
use crate::report::Report;
use crate::resources::heap_now;
use crate::scenario::{Kind, Scenario};

/// Live heap per agent after the first step, bytes.
pub(crate) const PER_AGENT_FIRST: &str = "heap_per_agent_bytes_first_step";
/// Live heap per agent over all steps, bytes.
pub(crate) const PER_AGENT: &str = "heap_per_agent_bytes";
/// Least-squares slope of the live heap over the soak, bytes per simulated hour.
pub(crate) const SLOPE: &str = "soak_live_heap_slope_bytes_per_hour";
/// Messages handled in the soak.
pub(crate) const SOAK_MESSAGES: &str = "soak_messages";

/// The seed's ceiling per agent.
const SEED_CEILING_BYTES: f64 = 50.0 * 1024.0 * 1024.0;
/// How much the live heap may grow per simulated hour and still count as flat: less than one
/// 16-byte block per agent per hour at the suite's 30 agents.
const FLAT_BYTES_PER_HOUR: f64 = 256.0;

/// History each agent keeps: bounded, as a long-running agent's must be.
const HISTORY: usize = 64;

/// An agent keeping a bounded history of what it handled.
struct Worker {
    history: Vec<u64>,
    next: usize,
}

impl Agent for Worker {
    type Msg = u64;
    type Reply = ();

    async fn handle(&mut self, msg: u64, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        if self.history.len() < HISTORY {
            self.history.push(msg);
        } else {
            self.history[self.next] = msg;
            self.next = (self.next + 1) % HISTORY;
        }
        Ok(())
    }
}

fn live() -> f64 {
    heap_now().map_or(f64::NAN, |h| h.live_bytes as f64)
}

/// Least-squares slope of `ys` over `0, 1, 2, ...`.
fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return f64::NAN;
    }
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in ys.iter().enumerate() {
        num += (x as f64 - mx) * (y - my);
        den += (x as f64 - mx).powi(2);
    }
    num / den
}

impl Drive for AgentMemory {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let mut out = DriverOutput::default();
        let steps = s.agents / self.step;
        // Everything the driver keeps is allocated before the first reading.
        let mut agents = Vec::with_capacity(s.agents);
        let mut readings = Vec::with_capacity(steps + 1);
        let mut soak = Vec::with_capacity(self.soak_hours as usize + 1);
        tokio::task::yield_now().await;
        let rt = AgentRuntime::new(RuntimeConfig::default());
        ctx.watch(&rt);
        readings.push(live());
        for step in 0..steps {
            for i in 0..self.step {
                let factory = || Worker {
                    history: Vec::with_capacity(HISTORY),
                    next: 0,
                };
                let name = format!("worker-{}", step * self.step + i);
                agents.push(rt.spawn(AgentConfig::named(name), factory).expect("spawn"));
            }
            // Let every new agent start (its task's first poll allocates).
            tokio::task::yield_now().await;
            readings.push(live());
            out.extra.insert(
                format!("live_heap_bytes_at_{}_agents", (step + 1) * self.step),
                readings[step + 1] - readings[0],
            );
        }
        let per_agent = |from: usize, to: usize| {
            (readings[to] - readings[from]) / ((to - from) * self.step) as f64
        };
        out.extra.insert(PER_AGENT_FIRST.into(), per_agent(0, 1));
        out.extra.insert(PER_AGENT.into(), per_agent(0, steps));

        // The soak: one message to every agent every `message_every_s`, heap read hourly.
        let per_hour = 3600 / self.message_every_s.max(1);
        let mut messages = 0u64;
        for _hour in 0..self.soak_hours {
            for _ in 0..per_hour {
                tokio::time::sleep(Duration::from_secs(self.message_every_s)).await;
                for a in &agents {
                    a.tell(messages).await.expect("agent alive");
                    messages += 1;
                }
                ctx.done(agents.len() as u64);
            }
            // Let the agents drain their mailboxes before reading.
            tokio::time::sleep(Duration::from_millis(1)).await;
            soak.push(live());
        }
        out.ops.record_n(Ok(()), messages);
        out.extra.insert(SOAK_MESSAGES.into(), messages as f64);
        out.extra.insert(SLOPE.into(), slope(&soak));
        drop(agents);
        rt.shutdown(ShutdownConfig::default()).await;
        out
    }
}

impl Rules for AgentMemory {
    fn check(&self, s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.step", self.step as u64)?;
        if s.agents % self.step != 0 {
            return l.invalid("kind.step", format!("must divide agents ({})", s.agents));
        }
        l.positive("kind.soak_hours", self.soak_hours)?;
        l.at_most(
            "kind.soak_hours",
            self.soak_hours,
            MAX_SECONDS / 3600,
            "a simulated year",
        )?;
        l.positive("kind.message_every_s", self.message_every_s)?;
        l.at_most(
            "kind.message_every_s",
            self.message_every_s,
            3600,
            "an hour",
        )
    }

    fn figures(&self) -> Figures {
        Figures {
            latency: false,
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, s: &Scenario) -> Vec<Gate> {
        let mut g: Vec<Gate> = [PER_AGENT_FIRST, PER_AGENT]
            .iter()
            .map(|k| Gate::within(&format!("extra.{k}"), Gate::HEAP_BYTES_TOLERANCE))
            .collect();
        g.extend((1..=s.agents / self.step.max(1)).map(|k| {
            Gate::within(
                &format!("extra.live_heap_bytes_at_{}_agents", k * self.step),
                Gate::HEAP_BYTES_TOLERANCE,
            )
        }));
        g.extend([Gate::extra(SOAK_MESSAGES), Gate::extra(SLOPE)]);
        g
    }

    /// The seed's criteria: under 50 MB per agent, and no growth over the long run.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        let per_agent = extra(r, PER_AGENT);
        if per_agent.is_nan() || per_agent >= SEED_CEILING_BYTES {
            broken.push(format!("{per_agent} bytes per agent (seed: < 50 MB)"));
        }
        let slope = extra(r, SLOPE);
        if slope.is_nan() || slope > FLAT_BYTES_PER_HOUR {
            broken.push(format!(
                "live heap grows {slope:.0} bytes per simulated hour over the soak (flat: at most {FLAT_BYTES_PER_HOUR})"
            ));
        }
    }

    /// Two agents' steps and one simulated hour.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            agents: self.step * 2.min(s.agents / self.step.max(1)).max(1),
            kind: Kind::AgentMemory(AgentMemory {
                soak_hours: 1,
                ..self.clone()
            }),
            ..s.clone()
        })
    }

    /// The seed's 24 hours.
    fn full_scale(&self, s: &Scenario, _scale: &FullScale) -> Option<Scenario> {
        (self.soak_hours < 24).then(|| Scenario {
            name: format!("{}_full", s.name),
            description: s.description.replace(
                &format!("{} simulated hours", self.soak_hours),
                "24 simulated hours",
            ),
            kind: Kind::AgentMemory(AgentMemory {
                soak_hours: 24,
                ..self.clone()
            }),
            ..s.clone()
        })
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "{:.0} B per agent (allocator-counted), live heap slope {:.1} B/h over the soak (virtual clock)",
            extra(r, PER_AGENT),
            extra(r, SLOPE)
        )
    }
}
