//! The monitoring-overhead driver (seed 000's `test_monitoring_overhead`): the messaging traffic
//! with per-message timing on and off, rounds interleaved; reports the throughput ratio.

use std::sync::Arc;
use std::time::Duration;

use super::MonitoringOverhead;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::messaging::run::counted;
use crate::kinds::messaging::traffic::{accumulate, agent_round, Traffic};
use crate::kinds::rules::{capped, Figures, Rules, COUNTED_MESSAGES};
use crate::report::{paths, Delivery};
use crate::scenario::Scenario;
use crate::stats::median;

/// Throughput with timing on over throughput with it off.
pub(crate) const ON_OVER_OFF: &str = "timing_on_over_off_throughput_ratio";

impl Drive for MonitoringOverhead {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let traffic = Traffic::of(ctx);
        if ctx.options.counting {
            // The traffic with timing on, once: its instructions per message are gated, so the
            // cost of timing is held exactly (the on/off ratio cannot tell a few percent).
            return counted(ctx, traffic).await;
        }
        let mut out = DriverOutput::default();
        let mut delivery = Delivery::default();
        let mut ratios = Vec::new();
        let mut elapsed = Duration::ZERO;
        for round in 0..ctx.rounds() {
            if ctx.stopping() {
                break;
            }
            let (on, off) = if round % 2 == 0 {
                let on = agent_round(ctx, traffic, true).await;
                (on, agent_round(ctx, traffic, false).await)
            } else {
                let off = agent_round(ctx, traffic, false).await;
                (agent_round(ctx, traffic, true).await, off)
            };
            ratios.push(off.result.elapsed.as_secs_f64() / on.result.elapsed.as_secs_f64());
            elapsed += on.result.elapsed;
            out.latency.merge(&on.latency);
            out.max_depth = out.max_depth.max(on.max_depth);
            accumulate(&mut delivery, &on.delivery);
        }
        out.ops.total = delivery.sent;
        out.ops.succeeded = delivery.delivered;
        out.ops.failed = delivery.sent - delivery.delivered;
        out.extra.insert(ON_OVER_OFF.into(), median(&ratios));
        out.extra.insert(
            "timing_overhead_pct".into(),
            (1.0 / median(&ratios) - 1.0) * 100.0,
        );
        out.delivery = Some(delivery);
        out.elapsed = Some(elapsed);
        out
    }
}

impl Rules for MonitoringOverhead {
    /// Its totals are rounds times the traffic, and the rounds differ between builds (debug 7,
    /// release 25, or `--rounds`): every failure is gated instead.
    fn figures(&self) -> Figures {
        Figures {
            exact_totals: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_LOST),
            Gate::ratio(&format!("extra.{ON_OVER_OFF}")),
        ]
    }

    /// The traffic with timing on, counted: the real-time ratio's floor (40% below its
    /// baseline, 0.56) lets even timing every message through (about 0.63), so the cost of
    /// timing is held by instructions per message instead (+1%).
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(capped(s, COUNTED_MESSAGES))
    }
}
