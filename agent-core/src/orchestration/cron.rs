//! Cron expressions for the [`Scheduler`](super::Scheduler): calendar times read against a
//! wall-clock epoch that the scheduler's start stands for, so a simulated week of "daily at
//! 09:00" runs on tokio's paused clock exactly and instantly.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;
use thiserror::Error;
use tokio::time::Instant;

/// A cron expression that does not parse.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("cron expression {expression:?}: {reason}")]
pub struct CronError {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A cron expression (five fields, or six with seconds first; `croner`'s dialect), read in
/// UTC. The scheduler's start is taken to be `epoch`: the first firing is the expression's
/// first time after it.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    expression: String,
    cron: Cron,
    epoch: DateTime<Utc>,
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression && self.epoch == other.epoch
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    /// Parses `expression`, to be read from `epoch` on.
    pub fn parse(expression: &str, epoch: DateTime<Utc>) -> Result<CronSchedule, CronError> {
        let cron = Cron::from_str(expression).map_err(|e| CronError {
            expression: expression.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(CronSchedule {
            expression: expression.to_owned(),
            cron,
            epoch,
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The wall-clock times it fires at after the epoch, in order.
    pub fn times(&self) -> impl Iterator<Item = DateTime<Utc>> + Send + 'static {
        let cron = self.cron.clone();
        std::iter::successors(
            self.cron.find_next_occurrence(&self.epoch, false).ok(),
            move |t| cron.find_next_occurrence(t, false).ok(),
        )
    }

    /// The instants it fires at, when `start` stands for the epoch.
    pub(crate) fn instants(&self, start: Instant) -> CronInstants {
        CronInstants {
            next: self.cron.find_next_occurrence(&self.epoch, false).ok(),
            cron: self.cron.clone(),
            epoch: self.epoch,
            start,
        }
    }
}

/// The instants a cron schedule fires at, from a start that stands for its epoch.
#[derive(Debug)]
pub(crate) struct CronInstants {
    cron: Cron,
    epoch: DateTime<Utc>,
    start: Instant,
    next: Option<DateTime<Utc>>,
}

impl Iterator for CronInstants {
    type Item = Instant;

    fn next(&mut self) -> Option<Instant> {
        let t = self.next?;
        self.next = self.cron.find_next_occurrence(&t, false).ok();
        Some(self.start + (t - self.epoch).to_std().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::orchestration::{Schedule, Scheduler};

    fn monday() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_week_of_daily_and_five_minute_jobs_fires_exactly() {
        let mut s = Scheduler::new();
        let daily_at = Arc::new(std::sync::Mutex::new(Vec::new()));
        let start = Instant::now();
        let d = Arc::clone(&daily_at);
        s.add(
            "daily_report",
            Schedule::Cron(Box::new(
                CronSchedule::parse("0 9 * * *", monday()).unwrap(),
            )),
            move |f| {
                d.lock().unwrap().push(f.scheduled - start);
                async {}
            },
        );
        let runs = Arc::new(AtomicU64::new(0));
        let r = Arc::clone(&runs);
        s.add(
            "poll",
            Schedule::Cron(Box::new(
                CronSchedule::parse("*/5 * * * *", monday()).unwrap(),
            )),
            move |_| {
                r.fetch_add(1, Ordering::Relaxed);
                async {}
            },
        );
        tokio::time::sleep(Duration::from_secs(7 * 86_400) - Duration::from_secs(1)).await;
        let jobs = s.stop().await;
        let daily = daily_at.lock().unwrap().clone();
        let expected: Vec<Duration> = (0..7)
            .map(|day| Duration::from_secs(day * 86_400 + 9 * 3600))
            .collect();
        assert_eq!(daily, expected);
        // 00:05 on the first day to 23:55 on the last (the epoch itself is not a firing).
        assert_eq!(runs.load(Ordering::Relaxed), 7 * 288 - 1);
        for j in &jobs {
            // Drift is recorded in a histogram whose least value is 1 ns: 1 means on time.
            assert_eq!((j.missed, j.duplicates, j.drift_max_ns), (0, 0, 1), "{j:?}");
        }
    }

    #[test]
    fn a_bad_expression_names_itself() {
        let err = CronSchedule::parse("0 25 * * *", monday()).unwrap_err();
        assert_eq!(err.expression, "0 25 * * *");
        assert!(
            err.to_string()
                .starts_with("cron expression \"0 25 * * *\""),
            "{err}"
        );
    }
}
