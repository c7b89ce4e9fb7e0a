//! The startup driver (seed 002's scaling test): fleets of agents whose start hooks take a
//! simulated initialisation time; measures the time until every agent is registered and
//! answering.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, Health, ShutdownConfig};
use tokio::time::Instant;

use super::Startup;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Rules;
use crate::kinds::rules::{clock, extra, Figures};
use crate::report::Report;
use crate::scenario::{Kind, Scenario};

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

impl Drive for Startup {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let Startup { counts, init_us } = self;
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
            out.extra
                .insert(fleet_key(count, READY_MS), ready.as_secs_f64() * 1e3);
            out.extra.insert(fleet_key(count, HEALTHY), healthy as f64);
            out.extra
                .insert(fleet_key(count, REGISTERED), rt.len() as f64);
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
}

/// Time until every agent of a fleet answered, on the scenario's clock.
const READY_MS: &str = "ready_ms";
/// Agents of a fleet that answered and were running.
const HEALTHY: &str = "healthy";
/// Agents of a fleet the registry held.
const REGISTERED: &str = "registered";

/// The key of figure `what` of the fleet of `count` agents (`fleet_000020_ready_ms`).
fn fleet_key(count: usize, what: &str) -> String {
    use std::fmt::Write;
    // One allocation, the size a literal key's `format!` reserves: the heap figures are exact.
    let mut key = String::with_capacity(32);
    let _ = write!(key, "fleet_{count:06}_{what}");
    key
}

impl Rules for Startup {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if self.counts.is_empty() {
            return l.invalid("kind.counts", "must list fleet sizes of at least 1".into());
        }
        for c in &self.counts {
            l.count("kind.counts", *c)?;
        }
        l.seconds("kind.init_us", self.init_us, 1_000_000)
    }

    /// A fleet with no start-up work takes no time on the virtual clock; its time is not gated.
    fn figures(&self) -> Figures {
        Figures {
            takes_time: self.init_us > 0,
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        let mut g = Vec::new();
        for c in &self.counts {
            if self.init_us > 0 {
                g.push(Gate::extra(&fleet_key(*c, READY_MS)));
            }
            g.push(Gate::extra(&fleet_key(*c, HEALTHY)));
            g.push(Gate::extra(&fleet_key(*c, REGISTERED)));
        }
        g
    }

    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for c in &self.counts {
            for what in [HEALTHY, REGISTERED] {
                let key = fleet_key(*c, what);
                let actual = r.extra.get(&key).copied().unwrap_or(0.0);
                if actual != *c as f64 {
                    broken.push(format!("extra.{key} is {actual}, must be {c}"));
                }
            }
        }
    }

    /// Fleets of at most 1,000 agents.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            kind: Kind::Startup(Startup {
                counts: self.counts.iter().map(|c| (*c).min(1_000)).collect(),
                init_us: self.init_us,
            }),
            ..s.clone()
        })
    }

    /// On the virtual clock, time to ready is the simulated connect (`init_us`).
    fn restated(&self, s: &Scenario) -> Vec<String> {
        if s.clock != crate::scenario::Clock::Virtual {
            return Vec::new();
        }
        self.counts
            .iter()
            .map(|c| format!("extra.{}", fleet_key(*c, READY_MS)))
            .collect()
    }

    fn headline(&self, r: &Report) -> String {
        let ready: Vec<f64> = self
            .counts
            .iter()
            .map(|c| extra(r, &fleet_key(*c, READY_MS)))
            .collect();
        let times = if ready.windows(2).all(|w| w[0] == w[1]) {
            let (lo, hi) = (self.counts.iter().min(), self.counts.iter().max());
            match (lo, hi, ready.first()) {
                (Some(lo), Some(hi), Some(t)) if lo != hi => {
                    format!("every fleet of {lo} to {hi} agents ready in {t} ms")
                }
                (_, Some(hi), Some(t)) => format!("{hi} agents ready in {t} ms"),
                _ => "no fleet".to_owned(),
            }
        } else {
            let each: Vec<String> = self
                .counts
                .iter()
                .zip(&ready)
                .map(|(c, t)| format!("{c} in {t} ms"))
                .collect();
            format!("agents ready: {}", each.join(", "))
        };
        format!(
            "{times} ({}, {} ms init each)",
            clock(r),
            self.init_us as f64 / 1e3
        )
    }
}
