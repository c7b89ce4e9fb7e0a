//! The monitoring-overhead driver (seed 000's `test_monitoring_overhead`): the messaging traffic
//! with per-message timing on and off, rounds interleaved; reports the throughput ratio.

use std::sync::Arc;
use std::time::Duration;

use super::calibrate::median;
use super::messaging::{accumulate, agent_round, Traffic};
use super::{DriverOutput, RunContext};
use crate::report::Delivery;

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
    let traffic = Traffic::of(ctx);
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
    out.extra.insert(
        "timing_on_over_off_throughput_ratio".into(),
        median(&ratios),
    );
    out.extra.insert(
        "timing_overhead_pct".into(),
        (1.0 / median(&ratios) - 1.0) * 100.0,
    );
    out.delivery = Some(delivery);
    out.elapsed = Some(elapsed);
    out
}
