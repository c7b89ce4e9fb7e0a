//! The CPU-use driver and rules.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Address, Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig,
};
use tokio::time::Instant;

use super::CpuUse;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, Rules};
use crate::report::Report;
use crate::resources::process_cpu;
use crate::scenario::Scenario;

/// CPU used while the agents start, percent of all cores.
pub(crate) const STARTUP_PCT: &str = "cpu_pct_startup";
/// CPU used while they sit idle, percent of all cores.
pub(crate) const IDLE_PCT: &str = "cpu_pct_idle";
/// CPU used under the load, percent of all cores.
pub(crate) const LOAD_PCT: &str = "cpu_pct_load";
/// Messages the agents handled in the load phase.
pub(crate) const HANDLED: &str = "messages_handled";

/// An agent that reads its message and counts it.
struct Reader {
    handled: Arc<AtomicU64>,
}

impl Agent for Reader {
    type Msg = Vec<u8>;
    type Reply = ();

    async fn handle(&mut self, msg: Vec<u8>, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        std::hint::black_box(msg.iter().map(|&b| u64::from(b)).sum::<u64>());
        self.handled.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Measures the process's CPU over a phase.
struct Phase {
    wall: std::time::Instant,
    cpu: Duration,
}

impl Phase {
    fn start() -> Phase {
        Phase {
            wall: std::time::Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// CPU time over wall time, as a percentage of all `cores`.
    fn pct(self, cores: usize) -> f64 {
        let used = process_cpu().saturating_sub(self.cpu).as_secs_f64();
        used * 100.0 / self.wall.elapsed().as_secs_f64().max(1e-9) / cores.max(1) as f64
    }
}

impl Drive for CpuUse {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut out = DriverOutput::default();

        let phase = Phase::start();
        let rt = AgentRuntime::new(RuntimeConfig::default());
        ctx.watch(&rt);
        let handled = Arc::new(AtomicU64::new(0));
        let agents: Vec<Address<Reader>> = (0..s.agents)
            .map(|i| {
                let handled = Arc::clone(&handled);
                rt.spawn(AgentConfig::named(format!("reader-{i}")), move || Reader {
                    handled: Arc::clone(&handled),
                })
                .expect("a fresh runtime accepts agents")
            })
            .collect();
        // Started means each agent has handled a first message.
        for a in &agents {
            a.ask(Vec::new(), Duration::from_secs(60))
                .await
                .expect("agent answers");
        }
        out.extra.insert(STARTUP_PCT.into(), phase.pct(cores));

        let phase = Phase::start();
        tokio::time::sleep(Duration::from_millis(self.idle_ms)).await;
        out.extra.insert(IDLE_PCT.into(), phase.pct(cores));

        let phase = Phase::start();
        let total = (self.rate_per_s * self.load_ms as f64 / 1000.0).round() as u64;
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < total {
            // Every message due by now goes out (the timer wakes on millisecond ticks).
            let due = start + Duration::from_secs_f64(sent as f64 / self.rate_per_s);
            tokio::time::sleep_until(due).await;
            while sent < total
                && start + Duration::from_secs_f64(sent as f64 / self.rate_per_s) <= Instant::now()
            {
                let agent = &agents[(sent % agents.len() as u64) as usize];
                if agent
                    .tell(vec![(sent & 0xff) as u8; s.message_bytes])
                    .await
                    .is_ok()
                {
                    ctx.done(1);
                }
                sent += 1;
            }
        }
        // Shutdown drains the mailboxes: every message sent is handled before it returns.
        rt.shutdown(ShutdownConfig::default()).await;
        out.extra.insert(LOAD_PCT.into(), phase.pct(cores));
        let handled = handled
            .load(Ordering::Relaxed)
            .saturating_sub(s.agents as u64);
        out.extra.insert(HANDLED.into(), handled as f64);
        // An operation succeeded when an agent handled its message, not when it was sent.
        out.ops.record_n(Ok(()), handled.min(sent));
        out.ops
            .record_n(Err("not handled"), sent.saturating_sub(handled));
        out
    }
}

impl Rules for CpuUse {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.seconds("kind.idle_ms", self.idle_ms, 1000)?;
        l.rate("kind.rate_per_s", self.rate_per_s)?;
        l.positive("kind.load_ms", self.load_ms)?;
        l.seconds("kind.load_ms", self.load_ms, 1000)
    }

    /// Counts only: the percentages are absolute real-time figures.
    fn figures(&self) -> Figures {
        Figures {
            latency: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![Gate::extra(HANDLED)]
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "CPU {:.1}% at idle, {:.1}% at {} msg/s, {:.1}% while starting {} agents (real time, {} cores; not gated)",
            extra(r, IDLE_PCT),
            extra(r, LOAD_PCT),
            crate::format::rate(self.rate_per_s),
            extra(r, STARTUP_PCT),
            r.config.agents,
            r.environment.cores
        )
    }
}
