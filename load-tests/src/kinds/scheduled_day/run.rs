//! Seed 002's scheduled-task accuracy: jobs on fixed intervals over a simulated working day;
//! drift, missed and duplicate firings are counted exactly on the virtual clock.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{Overrun, Schedule, Scheduler};

use super::ScheduledDay;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::{Limits, MAX_SECONDS};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Figures;
use crate::kinds::rules::Rules;
use crate::scenario::{Kind, Scenario};

/// Job runs that fired.
pub(crate) const FIRED: &str = "fired";
/// Job runs that should have fired and did not.
pub(crate) const MISSED: &str = "missed";
/// Job runs that fired twice.
pub(crate) const DUPLICATES: &str = "duplicates";
/// The latest any run fired, after its due time.
pub(crate) const DRIFT_MAX_MS: &str = "drift_max_ms";

impl Drive for ScheduledDay {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &ScheduledDay { hours, interval_s } = self;
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
        out.extra.insert(FIRED.into(), fired as f64);
        out.extra.insert(MISSED.into(), missed as f64);
        out.extra.insert(DUPLICATES.into(), duplicates as f64);
        out.extra
            .insert(DRIFT_MAX_MS.into(), drift_max as f64 / 1e6);
        out
    }
}

/// The kind's gated figures, all exact on the virtual clock.
const GATED: [&str; 4] = [FIRED, MISSED, DUPLICATES, DRIFT_MAX_MS];

impl Rules for ScheduledDay {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.hours", self.hours)?;
        l.at_most(
            "kind.hours",
            self.hours,
            MAX_SECONDS / 3600,
            "a simulated year",
        )?;
        l.positive("kind.interval_s", self.interval_s)?;
        l.seconds("kind.interval_s", self.interval_s, 1)
    }

    fn figures(&self) -> Figures {
        Figures {
            latency: false,
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        GATED.iter().map(|k| Gate::extra(k)).collect()
    }

    /// One simulated hour of the day.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            kind: Kind::ScheduledDay(ScheduledDay {
                hours: self.hours.min(1),
                ..self.clone()
            }),
            ..s.clone()
        })
    }
}
