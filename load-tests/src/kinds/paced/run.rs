//! The paced driver and rules: one round of the schedule through agent-core, then the same
//! schedule over raw tokio channels, in the same process.

use std::sync::Arc;

use super::Paced;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::format::{ms, rate};
use crate::gate::Gate;
use crate::kinds::messaging::raw_tokio::raw_messaging;
use crate::kinds::messaging::run::counted;
use crate::kinds::messaging::traffic::{agent_round, yardstick, Traffic};
use crate::kinds::rules::{capped, extra, Figures, Rules, COUNTED_OPS};
use crate::report::{paths, Report};
use crate::scenario::{Arrival, Scenario};

/// The rate messages were offered at, per second.
pub(crate) const OFFERED_PER_S: &str = "offered_per_s";
/// The rate they were handled at, per second (the offered rate when the runtime keeps up).
pub(crate) const HANDLED_PER_S: &str = "handled_per_s";
/// Raw tokio's p99 latency on the same schedule (from the due time, like ours).
pub(crate) const RAW_P99_NS: &str = "raw_tokio_p99_ns";
/// Our p99 from each message's actual send, corrected for coordinated omission: the runtime's
/// share of the latency, without the pacer's timer ticks.
pub(crate) const P99_FROM_SEND_NS: &str = "p99_from_send_ns";
/// Raw tokio's p99 from the actual send, corrected the same way.
pub(crate) const RAW_P99_FROM_SEND_NS: &str = "raw_tokio_p99_from_send_ns";
/// How late the pacer's sends left their slots, p99 (tokio's timer wakes on millisecond ticks;
/// this is the harness's share of every latency, the same on both sides).
pub(crate) const SEND_LATENESS_P99_NS: &str = "send_lateness_p99_ns";

fn rate_of(s: &Scenario) -> f64 {
    match s.arrival {
        Arrival::Open { rate_per_s } => rate_per_s,
        Arrival::Closed | Arrival::Bursts { .. } => f64::NAN,
    }
}

impl Drive for Paced {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let traffic = Traffic {
            rate_per_s: Some(rate_of(&ctx.scenario)),
            ..Traffic::of(ctx)
        };
        if ctx.options.counting {
            return counted(ctx, traffic).await;
        }
        let ours = agent_round(ctx, traffic, true).await;
        let raw = raw_messaging(traffic).await;
        let mut out = DriverOutput {
            latency: ours.latency,
            max_depth: ours.max_depth,
            ..DriverOutput::default()
        };
        let d = ours.delivery;
        out.ops.total = d.sent;
        out.ops.succeeded = d.delivered - d.out_of_order.min(d.delivered);
        out.ops.failed = out.ops.total - out.ops.succeeded;
        if d.lost > 0 {
            out.ops.failures_by_cause.insert("lost".into(), d.lost);
        }
        let elapsed = ours.result.elapsed;
        out.extra
            .insert(OFFERED_PER_S.into(), traffic.rate_per_s.unwrap_or(0.0));
        out.extra.insert(
            HANDLED_PER_S.into(),
            d.delivered as f64 / elapsed.as_secs_f64().max(1e-9),
        );
        out.extra.insert(RAW_P99_NS.into(), raw.p99_ns as f64);
        out.extra
            .insert(P99_FROM_SEND_NS.into(), ours.result.p99_from_send_ns as f64);
        out.extra
            .insert(RAW_P99_FROM_SEND_NS.into(), raw.p99_from_send_ns as f64);
        if let Some(lateness) = &ours.send_lateness {
            out.extra.insert(
                SEND_LATENESS_P99_NS.into(),
                lateness.summary().total.p99_ns as f64,
            );
        }
        out.delivery = Some(d);
        out.yardstick = Some(yardstick(
            "the same schedule over tokio::sync::mpsc (bounded 1024), one receiver task per agent",
            &[ours.result],
            &[raw],
            traffic.messages,
        ));
        out.elapsed = Some(elapsed);
        out
    }
}

impl Rules for Paced {
    fn check(&self, s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if !matches!(s.arrival, Arrival::Open { .. }) {
            return l.invalid(
                "arrival",
                "a paced scenario needs `arrival = { type = \"open\", rate_per_s = ... }`".into(),
            );
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        Figures {
            split_latency: true,
            ..Figures::COMMON
        }
    }

    /// Counts are exact (the schedule is fixed); latencies are real time, reported beside raw
    /// tokio's on the same schedule, and not gated (no ratio was validated for them). CPU cost is
    /// gated by the instruction count of the counting form.
    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_DELIVERED),
            Gate::exact(paths::DELIVERY_LOST),
            Gate::exact(paths::DELIVERY_OUT_OF_ORDER),
        ]
    }

    /// The schedule's first [`COUNTED_OPS`] messages on the paused clock (the pacer's sleeps then
    /// take no time, and every send is on time).
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(capped(s, COUNTED_OPS))
    }

    /// The rate handled is the rate offered (the latency is the measurement).
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        vec![
            format!("extra.{OFFERED_PER_S}"),
            format!("extra.{HANDLED_PER_S}"),
            paths::THROUGHPUT.to_owned(),
            paths::ELAPSED_S.to_owned(),
        ]
    }

    /// The runtime's share (from the actual send) first, then from the due time, which adds
    /// the pacer's millisecond timer ticks on both sides.
    fn headline(&self, r: &Report) -> String {
        format!(
            "at {} msg/s offered: p99 {} from send (raw tokio {}), {} from due time (raw tokio {}); {} lost (real time)",
            rate(extra(r, OFFERED_PER_S)),
            ms(extra(r, P99_FROM_SEND_NS) as u64),
            ms(extra(r, RAW_P99_FROM_SEND_NS) as u64),
            ms(r.latency.total.p99_ns),
            ms(extra(r, RAW_P99_NS) as u64),
            r.delivery.as_ref().map_or(0, |d| d.lost),
        )
    }
}
