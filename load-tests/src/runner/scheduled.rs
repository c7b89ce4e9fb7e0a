//! Seed 002's scheduled-task accuracy: jobs on fixed intervals over a simulated working day;
//! drift, missed and duplicate firings are counted exactly on the virtual clock.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{Overrun, Schedule, Scheduler};

use super::{DriverOutput, RunContext};
use crate::scenario::Kind;

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
    let s = &ctx.scenario;
    let Kind::ScheduledDay { hours, interval_s } = s.kind else {
        unreachable!("the runner dispatches only scheduler scenarios here")
    };
    let mut scheduler = Scheduler::new();
    for j in 0..s.agents {
        let ctx = Arc::clone(ctx);
        scheduler.add(
            format!("job-{j}"),
            Schedule::Every {
                interval: Duration::from_secs(interval_s),
                overrun: Overrun::Skip,
            },
            move |_| {
                let ctx = Arc::clone(&ctx);
                async move {
                    // A report that takes a little while to produce.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    ctx.done(1);
                }
            },
        );
    }
    // Just past the day's last slot.
    tokio::time::sleep(Duration::from_secs(hours * 3600) + Duration::from_millis(500)).await;
    let jobs = scheduler.stop().await;
    let mut out = DriverOutput::default();
    let (mut fired, mut missed, mut duplicates, mut drift_max) = (0, 0, 0, 0);
    for j in &jobs {
        fired += j.fired;
        missed += j.missed;
        duplicates += j.duplicates;
        drift_max = drift_max.max(j.drift_max_ns);
    }
    out.ops.record_n(Ok(()), fired);
    out.ops.record_n(Err("missed"), missed);
    out.extra.insert("fired".into(), fired as f64);
    out.extra.insert("missed".into(), missed as f64);
    out.extra.insert("duplicates".into(), duplicates as f64);
    out.extra
        .insert("drift_max_ms".into(), drift_max as f64 / 1e6);
    out
}
