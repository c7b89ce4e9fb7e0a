//! The quality-gate driver and rules.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Address, Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::score::{candidate, score};
use super::QualityGate;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::messaging::raw_tokio::CHANNEL_BOUND;
use crate::kinds::messaging::traffic::{yardstick, RoundResult};
use crate::kinds::rules::{capped, extra, Figures, Rules};
use crate::metrics::{Tallies, STRIPES};
use crate::report::{paths, Report};
use crate::resources::Usage;
use crate::scenario::Scenario;

/// Candidates that passed.
pub(crate) const PASSED: &str = "passed";
/// Candidates that failed.
pub(crate) const FAILED: &str = "failed";
/// Candidates raw tokio's scoring passed (must equal [`PASSED`]).
pub(crate) const RAW_PASSED: &str = "raw_tokio_passed";

/// Evaluations in the counted form.
const COUNTED_EVALUATIONS: usize = 500;

/// An evaluation may take at most this long before the submitter gives up.
const EVALUATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The gate agent: scores each candidate against the threshold.
struct GateAgent {
    threshold: f64,
}

impl Agent for GateAgent {
    type Msg = String;
    type Reply = bool;

    async fn handle(
        &mut self,
        text: String,
        _ctx: &mut Context<Self>,
    ) -> Result<bool, HandlerError> {
        Ok(score(&text) >= self.threshold)
    }
}

/// What one side's round measured.
struct Round {
    result: RoundResult,
    passed: u64,
    failed: u64,
}

/// The candidates submitter `d` sends: every `concurrency`-th one from `d`.
fn submitter_share(s: &Scenario, d: usize) -> impl Iterator<Item = u64> {
    (d as u64..s.total_ops()).step_by(s.concurrency)
}

async fn agent_round(ctx: &Arc<RunContext>, threshold: f64, tallies: &Arc<Tallies>) -> Round {
    let s = &ctx.scenario;
    let rt = AgentRuntime::new(RuntimeConfig::default());
    ctx.watch(&rt);
    let gates: Vec<Address<GateAgent>> = (0..s.agents)
        .map(|i| {
            rt.spawn(AgentConfig::named(format!("quality-gate-{i}")), move || {
                GateAgent { threshold }
            })
            .expect("a fresh runtime accepts agents")
        })
        .collect();
    let start = Instant::now();
    let usage_start = Usage::now();
    let submitters: Vec<_> = (0..s.concurrency)
        .map(|d| {
            let (gates, ctx, tallies) = (gates.clone(), Arc::clone(ctx), Arc::clone(tallies));
            let (seed, share) = (s.rng_seed, submitter_share(s, d));
            tokio::spawn(async move {
                let (mut passed, mut failed) = (0, 0);
                for i in share {
                    let gate = &gates[i as usize % gates.len()];
                    let t = Instant::now();
                    let verdict = gate.ask(candidate(seed, i), EVALUATION_TIMEOUT).await;
                    let total = t.elapsed();
                    tallies.with(d, |tally| match verdict {
                        Ok(pass) => {
                            tally.latency.record_total(total);
                            tally.ops.record(Ok(()));
                            if pass {
                                passed += 1;
                            } else {
                                failed += 1;
                            }
                        }
                        Err(_) => tally.ops.record(Err("evaluation_failed")),
                    });
                    ctx.done(1);
                }
                (passed, failed)
            })
        })
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for t in submitters {
        let (p, f) = t.await.expect("submitter task");
        passed += p;
        failed += f;
    }
    let elapsed = start.elapsed();
    let usage = Usage::since(usage_start);
    rt.shutdown(ShutdownConfig::default()).await;
    Round {
        result: RoundResult {
            elapsed,
            p99_ns: 0,
            usage,
            p99_from_send_ns: 0,
        },
        passed,
        failed,
    }
}

/// The same evaluations scored by raw tokio tasks behind mpsc + oneshot.
async fn raw_round(s: &Scenario, threshold: f64) -> Round {
    let tallies = Arc::new(Tallies::new(STRIPES));
    let mut txs = Vec::with_capacity(s.agents);
    let mut workers = Vec::with_capacity(s.agents);
    for _ in 0..s.agents {
        let (tx, mut rx) = mpsc::channel::<(String, oneshot::Sender<bool>)>(CHANNEL_BOUND);
        txs.push(tx);
        workers.push(tokio::spawn(async move {
            while let Some((text, reply)) = rx.recv().await {
                let _ = reply.send(score(&text) >= threshold);
            }
        }));
    }
    let start = Instant::now();
    let usage_start = Usage::now();
    let submitters: Vec<_> = (0..s.concurrency)
        .map(|d| {
            let (txs, tallies) = (txs.clone(), Arc::clone(&tallies));
            let (seed, share) = (s.rng_seed, submitter_share(s, d));
            tokio::spawn(async move {
                let (mut passed, mut failed) = (0, 0);
                for i in share {
                    let t = Instant::now();
                    let (rtx, rrx) = oneshot::channel();
                    txs[i as usize % txs.len()]
                        .send((candidate(seed, i), rtx))
                        .await
                        .expect("worker alive");
                    let pass = rrx.await.expect("worker replies");
                    let total = t.elapsed();
                    tallies.with(d, |tally| tally.latency.record_total(total));
                    if pass {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                }
                (passed, failed)
            })
        })
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for t in submitters {
        let (p, f) = t.await.expect("raw submitter task");
        passed += p;
        failed += f;
    }
    let elapsed = start.elapsed();
    let usage = Usage::since(usage_start);
    drop(txs);
    for w in workers {
        w.await.expect("raw worker");
    }
    Round {
        result: RoundResult {
            elapsed,
            p99_ns: tallies.merged().latency.summary().total.p99_ns,
            usage,
            p99_from_send_ns: 0,
        },
        passed,
        failed,
    }
}

impl Drive for QualityGate {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let mut out = DriverOutput::default();
        // Three interleaved rounds a side: the work is mostly the scoring, the same on both
        // sides, so the ratios settle quickly.
        let rounds = if ctx.options.counting {
            1
        } else {
            ctx.rounds().min(3)
        };
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        let mut elapsed = Duration::ZERO;
        let mut verdicts = (0, 0);
        for round in 0..rounds {
            if ctx.stopping() {
                break;
            }
            let raw_first = round % 2 == 1;
            if raw_first {
                raw.push(raw_round(s, self.threshold).await);
            }
            let tallies = Arc::new(Tallies::new(ctx.stripes()));
            let mut r = agent_round(ctx, self.threshold, &tallies).await;
            let tally = tallies.merged();
            r.result.p99_ns = tally.latency.summary().total.p99_ns;
            elapsed += r.result.elapsed;
            out.ops.merge(&tally.ops);
            out.latency.merge(&tally.latency);
            verdicts = (r.passed, r.failed);
            ours.push(r);
            if !raw_first && !ctx.options.counting {
                raw.push(raw_round(s, self.threshold).await);
            }
        }
        // Every round scores the same candidates: one round's verdicts are the run's.
        out.extra.insert(PASSED.into(), verdicts.0 as f64);
        out.extra.insert(FAILED.into(), verdicts.1 as f64);
        if let Some(r) = raw.first() {
            out.extra.insert(RAW_PASSED.into(), r.passed as f64);
        }
        if !raw.is_empty() {
            let ours: Vec<RoundResult> = ours.iter().map(|r| r.result).collect();
            let raw: Vec<RoundResult> = raw.iter().map(|r| r.result).collect();
            out.yardstick = Some(yardstick(
                "the same scoring in raw tokio worker tasks behind mpsc + oneshot",
                &ours,
                &raw,
                s.total_ops(),
            ));
        }
        out.elapsed = Some(elapsed);
        out
    }
}

impl Rules for QualityGate {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return l.invalid("kind.threshold", "must be between 0 and 1".into());
        }
        Ok(())
    }

    /// Each round evaluates the scenario's candidates once; totals add up over the rounds.
    fn figures(&self) -> Figures {
        Figures {
            exact_totals: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::extra(PASSED),
            Gate::extra(FAILED),
            Gate::ratio(paths::YARDSTICK_THROUGHPUT),
            Gate::ratio(paths::YARDSTICK_CPU),
        ]
    }

    /// Every candidate judged, the same way on both sides.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        let judged = extra(r, PASSED) + extra(r, FAILED);
        if judged != r.config.total_ops() as f64 {
            broken.push(format!(
                "{judged} candidates judged of {}",
                r.config.total_ops()
            ));
        }
        if let Some(raw) = r.extra.get(RAW_PASSED) {
            if *raw != extra(r, PASSED) {
                broken.push(format!(
                    "raw tokio passed {raw} candidates, the gate agents {}",
                    extra(r, PASSED)
                ));
            }
        }
    }

    /// One round of 500 evaluations, without the raw rounds (each costs some hundred
    /// thousand instructions of scoring in a debug build).
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(capped(s, COUNTED_EVALUATIONS))
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "{} evaluations/s, p99 {}; {} passed, {} failed (real time)",
            crate::format::rate(r.throughput_ops_per_s),
            crate::format::ms(r.latency.total.p99_ns),
            extra(r, PASSED),
            extra(r, FAILED)
        )
    }
}
