//! The cron driver and rules.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{CronSchedule, Schedule, Scheduler};
use chrono::{DateTime, TimeZone, Utc};

use super::CronScheduleKind;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::{Limits, MAX_SECONDS};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, FullScale, Rules};
use crate::report::Report;
use crate::scenario::{Kind, Scenario};

/// The per-job figures, as `<job>_<figure>` in `extra`.
const FIGURES: [&str; 5] = ["expected", "fired", "missed", "duplicates", "drift_max_ns"];

fn key(job: &str, figure: &str) -> String {
    format!("{job}_{figure}")
}

/// Monday 2026-01-05 00:00 UTC: the scheduler's start stands for it.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn parse(expression: &str) -> Result<CronSchedule, String> {
    CronSchedule::parse(expression, epoch()).map_err(|e| e.to_string())
}

impl Drive for CronScheduleKind {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let window = Duration::from_secs(self.days * 86_400);
        let end = epoch() + chrono::Duration::seconds((self.days * 86_400) as i64);
        let mut scheduler = Scheduler::new();
        let mut expected = Vec::new();
        for job in &self.jobs {
            let cron = parse(&job.expression).expect("checked before the run");
            // What the expression itself says, read straight from the calendar.
            expected.push(cron.times().take_while(|t| *t < end).count() as u64);
            let (ctx, work) = (Arc::clone(ctx), Duration::from_millis(self.work_ms));
            scheduler.add(
                job.name.clone(),
                Schedule::Cron(Box::new(cron)),
                move |_| {
                    let ctx = Arc::clone(&ctx);
                    async move {
                        tokio::time::sleep(work).await;
                        ctx.done(1);
                    }
                },
            );
        }
        // Just short of the window's end, so a firing at the end itself is not half-done; the
        // expected counts stop before it too.
        tokio::time::sleep(window - Duration::from_millis(1)).await;
        let jobs = scheduler.stop().await;
        let mut out = DriverOutput::default();
        for ((job, snap), expected) in self.jobs.iter().zip(&jobs).zip(expected) {
            out.ops.record_n(Ok(()), snap.fired);
            out.ops.record_n(Err("missed"), snap.missed);
            let values = [
                expected as f64,
                snap.fired as f64,
                snap.missed as f64,
                snap.duplicates as f64,
                // The histogram's least value is 1 ns, which means on time.
                snap.drift_max_ns.saturating_sub(1) as f64,
            ];
            for (figure, value) in FIGURES.iter().zip(values) {
                out.extra.insert(key(&job.name, figure), value);
            }
        }
        out
    }
}

impl Rules for CronScheduleKind {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if self.jobs.is_empty() {
            return l.invalid("kind.jobs", "needs at least one job".into());
        }
        for job in &self.jobs {
            l.key_part("kind.jobs.name", &job.name)?;
            if let Err(e) = parse(&job.expression) {
                return l.invalid("kind.jobs.expression", e);
            }
        }
        l.positive("kind.days", self.days)?;
        l.at_most(
            "kind.days",
            self.days,
            MAX_SECONDS / 86_400,
            "a simulated year",
        )?;
        l.seconds("kind.work_ms", self.work_ms, 1000)
    }

    fn figures(&self) -> Figures {
        Figures {
            latency: false,
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        self.jobs
            .iter()
            .flat_map(|j| FIGURES.iter().map(|f| Gate::extra(&key(&j.name, f))))
            .collect()
    }

    /// The seed's criteria: every expected firing, none missed or twice, drift under a second.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for j in &self.jobs {
            let v = |f: &str| extra(r, &key(&j.name, f));
            if v("fired") != v("expected") || v("missed") != 0.0 || v("duplicates") != 0.0 {
                broken.push(format!(
                    "{}: fired {} of {} expected, {} missed, {} duplicates",
                    j.name,
                    v("fired"),
                    v("expected"),
                    v("missed"),
                    v("duplicates")
                ));
            }
            if v("drift_max_ns").is_nan() || v("drift_max_ns") >= 1e9 {
                broken.push(format!(
                    "{}: drift {} ns (seed: < 1 s)",
                    j.name,
                    v("drift_max_ns")
                ));
            }
        }
    }

    /// Drift on the paused clock: a timer fires at its instant and the work it starts takes no
    /// virtual time to begin, so the drift is 0 by construction (a model check). Fired, missed
    /// and duplicates are checked against the calendar and can fail.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        self.jobs
            .iter()
            .map(|j| format!("extra.{}", key(&j.name, "drift_max_ns")))
            .collect()
    }

    /// One simulated day.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        Some(Scenario {
            kind: Kind::CronSchedule(CronScheduleKind {
                days: self.days.min(1),
                ..self.clone()
            }),
            ..s.clone()
        })
    }

    /// A simulated month.
    fn full_scale(&self, s: &Scenario, _scale: &FullScale) -> Option<Scenario> {
        (self.days < 30).then(|| Scenario {
            name: format!("{}_full", s.name),
            description: s
                .description
                .replace(&format!("{} days", self.days), "30 days"),
            kind: Kind::CronSchedule(CronScheduleKind {
                days: 30,
                ..self.clone()
            }),
            ..s.clone()
        })
    }

    fn headline(&self, r: &Report) -> String {
        let parts: Vec<String> = self
            .jobs
            .iter()
            .map(|j| {
                format!(
                    "{} {}/{} fired, drift {} ns",
                    j.name,
                    extra(r, &key(&j.name, "fired")),
                    extra(r, &key(&j.name, "expected")),
                    extra(r, &key(&j.name, "drift_max_ns"))
                )
            })
            .collect();
        format!(
            "{} (virtual clock: drift 0 by construction, a model check)",
            parts.join("; ")
        )
    }
}
