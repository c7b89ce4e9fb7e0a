//! The pool-exhaustion driver (seed 003): more requests than pool slots, each waiting a bounded
//! time for a slot. On the virtual clock the number that gives up is exact.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{AgentRuntime, Pool, PoolConfig, PoolError, ShutdownConfig};
use tokio::time::Instant;

use super::PoolExhaustion;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{Figures, Rules};
use crate::kinds::steps::agent::{ask_failure_cause, Step, StepAgent, STEP_TIMEOUT};
use crate::metrics::{stripes, Tallies};
use crate::report::PoolReport;
use crate::scenario::Scenario;

impl Drive for PoolExhaustion {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &PoolExhaustion {
            slots,
            acquire_timeout_ms,
        } = self;
        let rt = AgentRuntime::default();
        ctx.watch(&rt);
        let factory = StepAgent::factory(s.workload.clone(), s.rng_seed, 0);
        let pool = Pool::new(&rt, PoolConfig::new("pool", slots), move || {
            let mut f = factory.clone();
            f()
        })
        .expect("a valid pool");
        let acquire_timeout = Duration::from_millis(acquire_timeout_ms);
        // `concurrency` requesters arrive together, each making `ops_per_agent` requests in turn.
        let tallies = Arc::new(Tallies::new(stripes(s.clock)));
        let requesters: Vec<_> = (0..s.concurrency)
            .map(|r| {
                let pool = pool.clone();
                let ctx = Arc::clone(ctx);
                let tallies = Arc::clone(&tallies);
                let per = s.ops_per_agent;
                tokio::spawn(async move {
                    for _ in 0..per {
                        let t = Instant::now();
                        let outcome = match pool.acquire(acquire_timeout).await {
                            Ok(lease) => lease
                                .ask(Step, STEP_TIMEOUT)
                                .await
                                .map_err(|e| ask_failure_cause(&e)),
                            Err(PoolError::Exhausted { .. }) => Err("pool_exhausted"),
                            Err(_) => Err("pool_closed"),
                        };
                        let total = t.elapsed();
                        tallies.with(r, |tally| match outcome {
                            Ok(o) => {
                                // Queue time here includes the wait for a slot.
                                tally.latency.record(
                                    total,
                                    total.saturating_sub(o.service),
                                    o.service,
                                );
                                tally.ops.record(o.result);
                            }
                            Err(kind) => {
                                tally.latency.record_total(total);
                                tally.ops.record(Err(kind));
                            }
                        });
                        ctx.done(1);
                    }
                })
            })
            .collect();
        let mut out = DriverOutput::default();
        for r in requesters {
            r.await.expect("requester task");
        }
        let tally = tallies.merged();
        out.ops = tally.ops;
        out.latency = tally.latency;
        let p = pool.snapshot();
        out.pool = Some(PoolReport {
            capacity: p.capacity,
            max_in_use: p.max_in_use,
            avg_utilization_pct: p.avg_utilization * 100.0,
            waits: p.waits,
            exhaustions: p.exhaustions,
        });
        out.max_depth = rt.snapshot().mailboxes.max_depth;
        pool.close();
        drop(pool);
        rt.shutdown(ShutdownConfig::default()).await;
        out
    }
}

impl Rules for PoolExhaustion {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.count("kind.slots", self.slots)?;
        l.seconds("kind.acquire_timeout_ms", self.acquire_timeout_ms, 1_000)
    }

    fn figures(&self) -> Figures {
        Figures {
            split_latency: true,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact("pool.max_in_use"),
            Gate::exact("pool.waits"),
            Gate::exact("pool.exhaustions"),
            Gate::within("pool.avg_utilization_pct", 0.001),
        ]
    }
}
