//! The messaging driver and rules: rounds of the traffic through agent-core and over raw tokio,
//! interleaved, each repeated until it lasts long enough to measure.

use std::sync::Arc;
use std::time::Duration;

use super::raw_tokio::raw_messaging;
use super::traffic::{accumulate, agent_round, yardstick, RoundResult, Traffic};
use super::Messaging;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::format::{ms, rate};
use crate::gate::Gate;
use crate::kinds::rules::{capped, Figures, FullScale, Rules, COUNTED_MESSAGES, COUNTED_OPS};
use crate::report::{paths, Delivery, Report};
use crate::scenario::{Clock, Scenario};
use crate::stats::median;

/// The shortest a measured round may be: shorter runs on a shared machine measure noise.
const MIN_ROUND: Duration = Duration::from_millis(40);

/// The longest our side's round is made to be, when raw tokio's round would be shorter than
/// [`MIN_ROUND`] at that length.
const MAX_ROUND: Duration = Duration::from_millis(160);

impl Drive for Messaging {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let traffic = Traffic::of(ctx);
        if ctx.options.counting {
            return counted(ctx, traffic).await;
        }
        let rounds = ctx.rounds();
        // A warm-up of each side sizes the rounds: each round repeats the traffic, the same number
        // of times on both sides, until raw tokio's lasts at least MIN_ROUND, unless ours would
        // then last more than MAX_ROUND (a debug build, many times slower than raw tokio on a
        // small traffic, would otherwise run for minutes on one unlucky warm-up).
        // The warm-up's messages are accounted like any other (a message it lost is lost); its
        // times are not measured.
        let raw = raw_messaging(traffic).await.elapsed.as_secs_f64().max(1e-9);
        let warm_up = agent_round(ctx, traffic, true).await;
        let ours = warm_up.result.elapsed.as_secs_f64().max(1e-9);
        let reps = (MIN_ROUND.as_secs_f64() / raw)
            .min(MAX_ROUND.as_secs_f64() / ours)
            .ceil()
            .clamp(1.0, 200.0) as u32;
        let mut out = DriverOutput::default();
        let mut delivery = Delivery::default();
        accumulate(&mut delivery, &warm_up.delivery);
        out.max_depth = warm_up.max_depth;
        let mut agent_results = Vec::new();
        let mut raw_results = Vec::new();
        let mut elapsed = Duration::ZERO;
        for round in 0..rounds {
            if ctx.stopping() {
                break;
            }
            let raw_first = round % 2 == 1;
            if raw_first {
                raw_results.push(repeat_raw(traffic, reps).await);
            }
            let mut ours = Vec::new();
            for _ in 0..reps {
                let r = agent_round(ctx, traffic, true).await;
                elapsed += r.result.elapsed;
                out.latency.merge(&r.latency);
                out.max_depth = out.max_depth.max(r.max_depth);
                accumulate(&mut delivery, &r.delivery);
                ours.push(r.result);
            }
            agent_results.push(combine(&ours));
            if !raw_first {
                raw_results.push(repeat_raw(traffic, reps).await);
            }
        }
        out.ops.total = delivery.sent;
        out.ops.succeeded = delivery.delivered - delivery.out_of_order.min(delivery.delivered);
        out.ops.failed = out.ops.total - out.ops.succeeded;
        if delivery.lost > 0 {
            out.ops
                .failures_by_cause
                .insert("lost".into(), delivery.lost);
        }
        if delivery.out_of_order > 0 {
            out.ops
                .failures_by_cause
                .insert("out_of_order".into(), delivery.out_of_order);
        }
        let refused = delivery.sent - delivery.delivered - delivery.lost;
        if refused > 0 {
            out.ops.failures_by_cause.insert("refused".into(), refused);
        }
        out.extra
            .insert("messages_per_repetition".into(), traffic.messages as f64);
        out.extra
            .insert("repetitions_per_round".into(), f64::from(reps));
        out.delivery = Some(delivery);
        out.yardstick = Some(yardstick(
            "the same traffic over tokio::sync::mpsc (bounded 1024), one receiver task per agent",
            &agent_results,
            &raw_results,
            traffic.messages * u64::from(reps),
        ));
        out.elapsed = Some(elapsed);
        out
    }
}

/// The traffic once through agent-core, for counting its instructions: no sizing, no raw rounds.
pub(crate) async fn counted(ctx: &Arc<RunContext>, traffic: Traffic) -> DriverOutput {
    let r = agent_round(ctx, traffic, true).await;
    let mut out = DriverOutput {
        latency: r.latency,
        max_depth: r.max_depth,
        ..DriverOutput::default()
    };
    out.ops.total = r.delivery.sent;
    out.ops.succeeded = r.delivery.delivered;
    out.ops.failed = r.delivery.sent - r.delivery.delivered;
    out.delivery = Some(r.delivery);
    out.elapsed = Some(r.result.elapsed);
    out
}

async fn repeat_raw(traffic: Traffic, reps: u32) -> RoundResult {
    let mut results = Vec::new();
    for _ in 0..reps {
        results.push(raw_messaging(traffic).await);
    }
    combine(&results)
}

/// Repetitions as one round: their total time, and the median of their p99s.
fn combine(results: &[RoundResult]) -> RoundResult {
    let p99s: Vec<f64> = results.iter().map(|r| r.p99_ns as f64).collect();
    RoundResult {
        elapsed: results.iter().map(|r| r.elapsed).sum(),
        p99_ns: median(&p99s) as u64,
        usage: results.iter().map(|r| r.usage).sum(),
        p99_from_send_ns: 0,
    }
}

impl Rules for Messaging {
    /// The driver repeats its traffic until a round lasts long enough to measure, so totals
    /// depend on the machine's speed: every failure is gated instead.
    fn figures(&self) -> Figures {
        Figures {
            exact_totals: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        // The p99 ratio is reported but not gated: under saturating bursts p99 is queueing luck,
        // and over ten suite runs its ratio to raw tokio ranged from 0.1x to 8x.
        vec![
            Gate::exact(paths::DELIVERY_LOST),
            Gate::exact(paths::DELIVERY_OUT_OF_ORDER),
            Gate::ratio(paths::YARDSTICK_THROUGHPUT),
            Gate::ratio(paths::YARDSTICK_CPU),
        ]
    }

    /// One round of the traffic through agent-core, at most [`COUNTED_MESSAGES`], without the
    /// raw tokio rounds, which measure tokio, not us.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(match s.clock {
            Clock::Real => capped(s, COUNTED_MESSAGES),
            Clock::Virtual => capped(s, COUNTED_OPS),
        })
    }

    /// The published totals are agents x messages x 10; the suite runs one tenth of that.
    fn full_scale(&self, s: &Scenario, _scale: &FullScale) -> Option<Scenario> {
        Some(Scenario {
            ops_per_agent: s.ops_per_agent * 10,
            description: format!("{} (the published full totals)", s.description),
            name: format!("{}_full", s.name),
            ..s.clone()
        })
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "{} msg/s, p99 {}; {} lost (real time, {} cores)",
            rate(r.throughput_ops_per_s),
            ms(r.latency.total.p99_ns),
            r.delivery.as_ref().map_or(0, |d| d.lost),
            r.environment.cores
        )
    }
}
