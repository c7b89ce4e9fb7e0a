//! Seed 002's LLM concurrency: simultaneous calls to a simulated provider under a token-bucket
//! rate limit; callers honour "retry after", so nothing fails, and tokens and cost add up exactly.

use std::sync::Arc;

use agent_core::orchestration::{LlmConfig, SimulatedLlm};
use tokio::time::Instant;

use super::{DriverOutput, RunContext};
use crate::scenario::Kind;

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
    let s = &ctx.scenario;
    let Kind::LlmConcurrency {
        bucket_capacity,
        refill_per_s,
    } = s.kind
    else {
        unreachable!("the runner dispatches only LLM scenarios here")
    };
    let llm = SimulatedLlm::new(LlmConfig {
        bucket_capacity,
        refill_per_s,
        seed: s.seed,
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
                    let prompt = format!("caller {c} request {i}: summarise the account history");
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
        .insert("retries_after_rate_limit".into(), waits as f64);
    out.extra
        .insert("rate_limited".into(), snap.rate_limited as f64);
    out.extra
        .insert("input_tokens".into(), snap.input_tokens as f64);
    out.extra
        .insert("output_tokens".into(), snap.output_tokens as f64);
    out.extra.insert("cost_units".into(), snap.cost.as_units());
    out
}
