//! The sequential driver and rules: one operation after another, the heap sampled, and what is
//! live after teardown compared with before setup.

use std::sync::Arc;

use agent_core::{Address, AgentConfig, AgentRuntime, RuntimeConfig, ShutdownConfig};
use tokio::time::Instant;

use super::Sequential;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, Rules};
use crate::kinds::steps::agent::{step, StepAgent};
use crate::metrics::{stripes, Tallies};
use crate::report::Report;
use crate::resources::{heap_now, HeapPoint};
use crate::scenario::Scenario;

/// Bytes live after teardown that were not before setup.
pub(crate) const LEAKED_BYTES: &str = "leaked_bytes";
/// Blocks live after teardown that were not before setup.
pub(crate) const LEAKED_BLOCKS: &str = "leaked_blocks";

impl Drive for Sequential {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let every = self.sample_every;
        // Everything the driver keeps is allocated before `setup`, so that what is live after
        // the teardown, compared with `setup`, is what the runtime left behind: a leak.
        let tallies = Arc::new(Tallies::new(stripes(s.clock)));
        let mut heap_series = Vec::with_capacity(s.total_ops() as usize / every + 1);
        let mut out = DriverOutput::default();
        // tokio's scheduler allocates its yield list on the first yield; do that one now.
        tokio::task::yield_now().await;
        let setup = heap_now();
        let rt = AgentRuntime::new(RuntimeConfig::default());
        let agents: Vec<Address<StepAgent>> = (0..s.agents)
            .map(|i| {
                let factory = StepAgent::factory(s.workload.clone(), s.rng_seed, i as u64);
                rt.spawn(AgentConfig::named(format!("step-{i}")), factory)
                    .expect("a fresh runtime accepts agents")
            })
            .collect();
        let agent = &agents[0];
        for i in 0..s.total_ops() {
            if ctx.stopping() {
                break;
            }
            step(agent, Instant::now(), &tallies, 0).await;
            ctx.done(1);
            if (i + 1) % every as u64 == 0 {
                heap_series.push(heap_now().map(|h| h.live_bytes));
            }
        }
        out.max_depth = rt.snapshot().mailboxes.max_depth;
        let shutdown = rt.shutdown(ShutdownConfig::default()).await;
        debug_assert_eq!(shutdown.aborted, 0);
        drop(agents);
        drop(rt);
        record_leaks(setup, &mut out).await;
        let tally = tallies.merged();
        out.ops = tally.ops;
        out.latency = tally.latency;
        for (i, live) in heap_series.iter().enumerate() {
            if let Some(bytes) = live {
                let at = (i + 1) * every;
                out.extra
                    .insert(format!("heap_live_bytes_at_op_{at:05}"), *bytes as f64);
            }
        }
        out
    }
}

/// Lets the runtime reap what teardown ended, then records what is live now that was not at
/// `setup` as [`LEAKED_BYTES`] and [`LEAKED_BLOCKS`]. Everything the caller keeps must have been
/// allocated before `setup`.
pub(crate) async fn record_leaks(setup: Option<HeapPoint>, out: &mut DriverOutput) {
    tokio::task::yield_now().await;
    if let (Some(a), Some(b)) = (setup, heap_now()) {
        out.extra.insert(
            LEAKED_BYTES.into(),
            b.live_bytes as f64 - a.live_bytes as f64,
        );
        out.extra.insert(
            LEAKED_BLOCKS.into(),
            b.live_blocks as f64 - a.live_blocks as f64,
        );
    }
}

impl Rules for Sequential {
    fn check(&self, _s: &Scenario, limits: &Limits<'_>) -> Result<(), RunError> {
        limits.count("kind.sample_every", self.sample_every)
    }

    fn figures(&self) -> Figures {
        Figures {
            split_latency: true,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(&format!("extra.{LEAKED_BYTES}")),
            Gate::exact(&format!("extra.{LEAKED_BLOCKS}")),
        ]
    }

    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for key in [LEAKED_BYTES, LEAKED_BLOCKS] {
            if let Some(v) = r.extra.get(key).filter(|v| **v != 0.0) {
                broken.push(format!("extra.{key} is {v}, must be 0"));
            }
        }
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "{} bytes in {} blocks left after teardown (dhat)",
            extra(r, LEAKED_BYTES),
            extra(r, LEAKED_BLOCKS)
        )
    }
}
