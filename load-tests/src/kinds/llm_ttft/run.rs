//! The TTFT driver and rules.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{DurationRange, LlmConfig, SimulatedLlm};
use tokio::time::Instant;

use super::LlmTtft;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, Rules};
use crate::metrics::LatencyRecorder;
use crate::report::Report;
use crate::scenario::Scenario;

/// The per-provider figures, as `<provider>_<figure>` in `extra`.
const FIGURES: [&str; 6] = [
    "ttft_p50_ms",
    "ttft_p95_ms",
    "completion_p95_ms",
    "tokens_per_s",
    "errors",
    "output_tokens",
];

fn key(provider: &str, figure: &str) -> String {
    format!("{provider}_{figure}")
}

fn micros_per_token(tokens_per_s: f64) -> u64 {
    (1e6 / tokens_per_s.max(1e-3)).round() as u64
}

impl Drive for LlmTtft {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let mut out = DriverOutput::default();
        for (p_index, p) in self.providers.iter().enumerate() {
            let llm = SimulatedLlm::new(LlmConfig {
                name: p.name.clone(),
                time_to_first_token: DurationRange {
                    min_us: p.ttft_min_ms * 1000,
                    max_us: p.ttft_max_ms * 1000,
                },
                inter_token: DurationRange {
                    min_us: micros_per_token(p.tokens_per_s_max),
                    max_us: micros_per_token(p.tokens_per_s_min),
                },
                // Every token streamed as it comes, so the first chunk is the first token.
                tokens_per_chunk: 1,
                // No rate limit: this scenario is about the provider's own latency.
                bucket_capacity: u32::MAX,
                refill_per_s: 1e9,
                errors_per_mille: p.errors_per_mille,
                seed: s.rng_seed ^ p_index as u64,
                ..LlmConfig::default()
            });
            let callers: Vec<_> = (0..s.concurrency)
                .map(|c| {
                    let (llm, ctx) = (llm.clone(), Arc::clone(ctx));
                    let per = s.ops_per_agent;
                    tokio::spawn(async move {
                        let mut seen = Vec::with_capacity(per);
                        for i in 0..per {
                            let start = Instant::now();
                            let mut first: Option<Duration> = None;
                            let prompt = format!("caller {c} request {i}: draft a reply");
                            let r = llm
                                .complete(&prompt, |_| {
                                    first.get_or_insert_with(|| start.elapsed());
                                })
                                .await;
                            seen.push((first, start.elapsed(), r.is_ok()));
                            ctx.done(1);
                        }
                        seen
                    })
                })
                .collect();
            let (mut ttft, mut total) = (LatencyRecorder::default(), LatencyRecorder::default());
            let mut busy = Duration::ZERO;
            for c in callers {
                for (first, elapsed, ok) in c.await.expect("caller task") {
                    out.ops.record(if ok { Ok(()) } else { Err("llm_failed") });
                    if let Some(first) = first {
                        ttft.record_total(first);
                        total.record_total(elapsed);
                        out.latency.record_total(first);
                        busy += elapsed;
                    }
                }
            }
            let snap = llm.snapshot();
            let ms = |ns: u64| ns as f64 / 1e6;
            let values = [
                ms(ttft.summary().total.p50_ns),
                ms(ttft.summary().total.p95_ns),
                ms(total.summary().total.p95_ns),
                snap.output_tokens as f64 / busy.as_secs_f64().max(1e-9),
                snap.failed as f64,
                snap.output_tokens as f64,
            ];
            for (figure, value) in FIGURES.iter().zip(values) {
                out.extra.insert(key(&p.name, figure), value);
            }
        }
        out
    }
}

impl Rules for LlmTtft {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if self.providers.is_empty() {
            return l.invalid("kind.providers", "needs at least one provider".into());
        }
        for p in &self.providers {
            l.key_part("kind.providers.name", &p.name)?;
            if p.ttft_min_ms > p.ttft_max_ms {
                return l.invalid(
                    "kind.providers.ttft_min_ms",
                    format!("{}: larger than ttft_max_ms", p.name),
                );
            }
            l.seconds("kind.providers.ttft_max_ms", p.ttft_max_ms, 1000)?;
            l.rate("kind.providers.tokens_per_s_min", p.tokens_per_s_min)?;
            l.rate("kind.providers.tokens_per_s_max", p.tokens_per_s_max)?;
            if p.tokens_per_s_min > p.tokens_per_s_max {
                return l.invalid(
                    "kind.providers.tokens_per_s_min",
                    format!("{}: larger than tokens_per_s_max", p.name),
                );
            }
            l.at_most(
                "kind.providers.errors_per_mille",
                u64::from(p.errors_per_mille),
                1000,
                "a thousand per thousand",
            )?;
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        Figures {
            queues: false,
            ..Figures::COMMON
        }
    }

    /// Two requests per caller (every token is a timer, which valgrind makes slow).
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            ops_per_agent: s.ops_per_agent.min(2),
            ..s.clone()
        })
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        self.providers
            .iter()
            .flat_map(|p| FIGURES.iter().map(|f| Gate::extra(&key(&p.name, f))))
            .collect()
    }

    /// The seed's targets, where it gives one: p95 time to first token under the target.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for p in &self.providers {
            let Some(target) = p.ttft_target_ms else {
                continue;
            };
            let p95 = extra(r, &key(&p.name, "ttft_p95_ms"));
            if p95.is_nan() || p95 >= target as f64 {
                broken.push(format!(
                    "{}: p95 time to first token {p95:.0} ms, the seed's target is < {target} ms",
                    p.name
                ));
            }
        }
    }

    /// Every latency and rate of a provider restates its profile.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        self.providers
            .iter()
            .flat_map(|p| {
                [
                    "ttft_p50_ms",
                    "ttft_p95_ms",
                    "completion_p95_ms",
                    "tokens_per_s",
                ]
                .map(|f| format!("extra.{}", key(&p.name, f)))
            })
            .collect()
    }

    /// A model check: the profiles' ranges come back out.
    fn headline(&self, r: &Report) -> String {
        let parts: Vec<String> = self
            .providers
            .iter()
            .map(|p| {
                format!(
                    "{} p95 {:.0} ms",
                    p.name,
                    extra(r, &key(&p.name, "ttft_p95_ms"))
                )
            })
            .collect();
        format!(
            "TTFT {} (model check: restates the profiles)",
            parts.join(", ")
        )
    }
}
