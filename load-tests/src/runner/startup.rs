//! The startup driver (seed 002's scaling test): fleets of agents whose start hooks take a
//! simulated initialisation time; measures the time until every agent is registered and
//! answering.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, Health, ShutdownConfig};
use tokio::time::Instant;

use super::{DriverOutput, RunContext};
use crate::scenario::Kind;

struct Service {
    init: Duration,
}

impl Agent for Service {
    type Msg = ();
    type Reply = ();

    async fn handle(&mut self, _: (), _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        Ok(())
    }

    async fn on_start(&mut self, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        if !self.init.is_zero() {
            tokio::time::sleep(self.init).await;
        }
        Ok(())
    }
}

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
    let s = &ctx.scenario;
    let Kind::Startup { counts, init_us } = &s.kind else {
        unreachable!("the runner dispatches only startup scenarios here")
    };
    let init = Duration::from_micros(*init_us);
    let mut out = DriverOutput::default();
    for &count in counts {
        if ctx.stopping() {
            break;
        }
        let rt = AgentRuntime::default();
        let start = Instant::now();
        let wall = std::time::Instant::now();
        let agents: Vec<_> = (0..count)
            .map(|i| {
                rt.spawn(AgentConfig::named(format!("svc-{i}")), move || Service {
                    init,
                })
                .expect("a fresh runtime accepts agents")
            })
            .collect();
        let spawned_wall = wall.elapsed();
        // An agent answers only after its start hook: the last answer marks the fleet ready.
        let mut healthy = 0u64;
        for a in &agents {
            let t = Instant::now();
            let ok = a.ask((), Duration::from_secs(3600)).await.is_ok();
            out.latency.record_total(t.elapsed());
            if ok && a.health() == Health::Running {
                healthy += 1;
            }
            out.ops.record(if ok { Ok(()) } else { Err("not_ready") });
        }
        let ready = start.elapsed();
        let ready_wall = wall.elapsed();
        ctx.done(count as u64);
        out.extra.insert(
            format!("fleet_{count:06}_ready_ms"),
            ready.as_secs_f64() * 1e3,
        );
        out.extra
            .insert(format!("fleet_{count:06}_healthy"), healthy as f64);
        out.extra
            .insert(format!("fleet_{count:06}_registered"), rt.len() as f64);
        out.extra.insert(
            format!("fleet_{count:06}_spawn_wall_ns_per_agent"),
            spawned_wall.as_nanos() as f64 / count as f64,
        );
        out.extra.insert(
            format!("fleet_{count:06}_ready_wall_ms"),
            ready_wall.as_secs_f64() * 1e3,
        );
        drop(agents);
        let report = rt.shutdown(ShutdownConfig::default()).await;
        debug_assert_eq!(report.stopped, count as u64);
    }
    out
}
