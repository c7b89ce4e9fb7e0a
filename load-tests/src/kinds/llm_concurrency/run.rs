//! Seed 002's LLM concurrency: simultaneous calls to a simulated provider under a token-bucket
//! rate limit; callers honour "retry after", so nothing fails, and tokens and cost add up exactly.

use std::sync::Arc;

use agent_core::orchestration::{LlmConfig, SimulatedLlm};
use tokio::time::Instant;

use super::LlmConcurrency;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Figures;
use crate::kinds::rules::Rules;
use crate::scenario::Scenario;

/// Waits honouring the limiter's "retry after".
pub(crate) const RETRIES_AFTER_RATE_LIMIT: &str = "retries_after_rate_limit";
/// Calls the limiter refused.
pub(crate) const RATE_LIMITED: &str = "rate_limited";
/// Prompt tokens of every call.
pub(crate) const INPUT_TOKENS: &str = "input_tokens";
/// Completion tokens of every call.
pub(crate) const OUTPUT_TOKENS: &str = "output_tokens";
/// Their cost, in the budget's units.
pub(crate) const COST_UNITS: &str = "cost_units";

impl Drive for LlmConcurrency {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &LlmConcurrency {
            bucket_capacity,
            refill_per_s,
        } = self;
        let llm = SimulatedLlm::new(LlmConfig {
            bucket_capacity,
            refill_per_s,
            seed: s.rng_seed,
            ..LlmConfig::default()
        });
        let callers: Vec<_> = (0..s.concurrency)
            .map(|c| {
                let llm = llm.clone();
                let ctx = Arc::clone(ctx);
                let per = s.ops_per_agent;
                tokio::spawn(async move {
                    let mut results = Vec::with_capacity(per);
                    for i in 0..per {
                        let t = Instant::now();
                        let prompt =
                            format!("caller {c} request {i}: summarise the account history");
                        let (r, waits) = llm.complete_honouring_limits(&prompt, 100).await;
                        results.push((t.elapsed(), r.is_ok(), waits));
                        ctx.done(1);
                    }
                    results
                })
            })
            .collect();
        let mut out = DriverOutput::default();
        let mut waits = 0u64;
        for c in callers {
            for (elapsed, ok, w) in c.await.expect("caller task") {
                out.latency.record_total(elapsed);
                out.ops.record(if ok { Ok(()) } else { Err("llm_failed") });
                waits += u64::from(w);
            }
        }
        let snap = llm.snapshot();
        out.extra
            .insert(RETRIES_AFTER_RATE_LIMIT.into(), waits as f64);
        out.extra
            .insert(RATE_LIMITED.into(), snap.rate_limited as f64);
        out.extra
            .insert(INPUT_TOKENS.into(), snap.input_tokens as f64);
        out.extra
            .insert(OUTPUT_TOKENS.into(), snap.output_tokens as f64);
        out.extra.insert(COST_UNITS.into(), snap.cost.as_units());
        out
    }
}

/// The kind's gated figures, all exact on the virtual clock.
const GATED: [&str; 5] = [
    RETRIES_AFTER_RATE_LIMIT,
    RATE_LIMITED,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    COST_UNITS,
];

impl Rules for LlmConcurrency {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.count("kind.bucket_capacity", self.bucket_capacity as usize)?;
        l.rate("kind.refill_per_s", self.refill_per_s)
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
}
