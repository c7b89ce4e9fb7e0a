//! A scheduler of interval, at-time and cron jobs with an overrun policy, on tokio's clock. Each job
//! counts its firings, missed and duplicate slots, and records its drift (how late each firing
//! started) in a histogram, so schedule accuracy over a simulated day is exact and instant.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::cron::{CronInstants, CronSchedule};

/// What to do with slots that passed while the previous firing was still running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overrun {
    /// Skip them (counted as missed) and wait for the next slot.
    Skip,
    /// Run them back to back, late (their drift shows it).
    CatchUp,
}

/// When a job fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Every `interval`, the first time `interval` after the scheduler starts the job.
    Every {
        /// Time between slots.
        interval: Duration,
        /// Overrun policy.
        overrun: Overrun,
    },
    /// Once at each of these instants.
    At(Vec<Instant>),
    /// At the times of a cron expression. Firings whose time passed while the previous one
    /// ran are skipped (counted as missed), as cron does.
    Cron(Box<CronSchedule>),
}

impl Schedule {
    /// The instants its slots are due at, when the job starts at `start`.
    fn slots(&self, start: Instant) -> Slots {
        match self {
            Schedule::Every { interval, .. } => Slots::Every {
                start,
                interval: *interval,
                k: 1,
            },
            Schedule::At(times) => Slots::At(times.clone().into_iter()),
            Schedule::Cron(cron) => Slots::Cron(cron.instants(start)),
        }
    }

    /// Whether slots already past when a firing ends are skipped.
    fn skips_overruns(&self) -> bool {
        matches!(
            self,
            Schedule::Every {
                overrun: Overrun::Skip,
                ..
            } | Schedule::Cron(_)
        )
    }
}

/// The instants a job's slots are due at, in order (without an allocation per job).
// One per job, held by its task: boxing the large cron variant would allocate per job.
#[allow(clippy::large_enum_variant)]
enum Slots {
    Every {
        start: Instant,
        interval: Duration,
        k: u32,
    },
    At(std::vec::IntoIter<Instant>),
    Cron(CronInstants),
}

impl Iterator for Slots {
    type Item = Instant;

    fn next(&mut self) -> Option<Instant> {
        match self {
            Slots::Every { start, interval, k } => {
                let due = *start + *interval * *k;
                *k += 1;
                Some(due)
            }
            Slots::At(times) => times.next(),
            Slots::Cron(cron) => cron.next(),
        }
    }
}

/// One firing, as the job sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Firing {
    /// The slot's number, from 0.
    pub slot: u64,
    /// When the slot was due.
    pub scheduled: Instant,
}

/// A job's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSnapshot {
    /// The job's name.
    pub name: String,
    /// Firings.
    pub fired: u64,
    /// Slots skipped by the overrun policy.
    pub missed: u64,
    /// Slots fired more than once (always zero unless something is wrong).
    pub duplicates: u64,
    /// Median drift (start - due), nanoseconds.
    pub drift_p50_ns: u64,
    /// 99th percentile drift, nanoseconds.
    pub drift_p99_ns: u64,
    /// Largest drift, nanoseconds.
    pub drift_max_ns: u64,
}

type JobFn = Arc<dyn Fn(Firing) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Runs scheduled jobs until stopped.
#[derive(Debug)]
pub struct Scheduler {
    stop: watch::Sender<bool>,
    jobs: Vec<(Arc<JobStats>, JoinHandle<()>)>,
}

#[derive(Debug)]
struct JobStats {
    name: String,
    inner: Mutex<StatsInner>,
}

#[derive(Debug)]
struct StatsInner {
    fired: u64,
    missed: u64,
    duplicates: u64,
    last_slot: Option<u64>,
    drift: Histogram<u64>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    /// A scheduler with no jobs.
    pub fn new() -> Scheduler {
        Scheduler {
            stop: watch::channel(false).0,
            jobs: Vec::new(),
        }
    }

    /// Starts `job` on `schedule` (on the current tokio runtime).
    pub fn add<F, Fut>(&mut self, name: impl Into<String>, schedule: Schedule, job: F)
    where
        F: Fn(Firing) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stats = Arc::new(JobStats {
            name: name.into(),
            inner: Mutex::new(StatsInner {
                fired: 0,
                missed: 0,
                duplicates: 0,
                last_slot: None,
                drift: Histogram::new_with_bounds(1, 86_400_000_000_000, 3)
                    .expect("static histogram bounds"),
            }),
        });
        let job: JobFn = Arc::new(move |f| Box::pin(job(f)));
        let handle = tokio::spawn(run_job(
            schedule,
            job,
            Arc::clone(&stats),
            self.stop.subscribe(),
        ));
        self.jobs.push((stats, handle));
    }

    /// Every job's counters, in the order they were added.
    pub fn snapshot(&self) -> Vec<JobSnapshot> {
        self.jobs.iter().map(|(s, _)| s.snapshot()).collect()
    }

    /// Stops every job (a firing under way finishes first) and waits for them.
    pub async fn stop(self) -> Vec<JobSnapshot> {
        let _ = self.stop.send(true);
        let mut out = Vec::with_capacity(self.jobs.len());
        for (stats, handle) in self.jobs {
            let _ = handle.await;
            out.push(stats.snapshot());
        }
        out
    }
}

async fn run_job(
    schedule: Schedule,
    job: JobFn,
    stats: Arc<JobStats>,
    mut stop: watch::Receiver<bool>,
) {
    let mut slots = schedule.slots(Instant::now()).peekable();
    let skips = schedule.skips_overruns();
    let mut k = 0u64;
    while let Some(due) = slots.next() {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep_until(due) => {}
        }
        stats.fire(k, due);
        job(Firing {
            slot: k,
            scheduled: due,
        })
        .await;
        k += 1;
        if skips {
            // Slots already past when the firing finished are skipped.
            let now = Instant::now();
            while slots.next_if(|&t| t < now).is_some() {
                stats.miss();
                k += 1;
            }
        }
    }
}

impl JobStats {
    fn lock(&self) -> std::sync::MutexGuard<'_, StatsInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fire(&self, slot: u64, due: Instant) {
        let drift = Instant::now().saturating_duration_since(due);
        let mut s = self.lock();
        if s.last_slot.is_some_and(|last| slot <= last) {
            s.duplicates += 1;
        }
        s.last_slot = Some(slot);
        s.fired += 1;
        let ns = u64::try_from(drift.as_nanos()).unwrap_or(u64::MAX).max(1);
        s.drift.saturating_record(ns);
    }

    fn miss(&self) {
        self.lock().missed += 1;
    }

    fn snapshot(&self) -> JobSnapshot {
        let s = self.lock();
        let q = |q: f64| {
            if s.drift.is_empty() {
                0
            } else {
                s.drift.value_at_quantile(q)
            }
        };
        JobSnapshot {
            name: self.name.clone(),
            fired: s.fired,
            missed: s.missed,
            duplicates: s.duplicates,
            drift_p50_ns: q(0.5),
            drift_p99_ns: q(0.99),
            drift_max_ns: if s.drift.is_empty() { 0 } else { s.drift.max() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[tokio::test(start_paused = true)]
    async fn an_eight_hour_day_of_three_minute_jobs_is_exact() {
        let mut s = Scheduler::new();
        let runs = Arc::new(AtomicU64::new(0));
        let r = Arc::clone(&runs);
        s.add(
            "save_state",
            Schedule::Every {
                interval: Duration::from_secs(180),
                overrun: Overrun::Skip,
            },
            move |_| {
                let r = Arc::clone(&r);
                async move {
                    r.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            },
        );
        // Just past the day's last slot, 8 h after the start.
        tokio::time::sleep(Duration::from_secs(8 * 3600 + 1)).await;
        let jobs = s.stop().await;
        let j = &jobs[0];
        assert_eq!((j.fired, j.missed, j.duplicates), (160, 0, 0));
        assert_eq!(runs.load(Ordering::Relaxed), 160);
        assert!(j.drift_max_ns < 1_000_000_000, "drift under 1 s: {j:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn overruns_skip_or_catch_up() {
        let slow = |_: Firing| async { tokio::time::sleep(Duration::from_millis(250)).await };
        let mut s = Scheduler::new();
        s.add(
            "skip",
            Schedule::Every {
                interval: Duration::from_millis(100),
                overrun: Overrun::Skip,
            },
            slow,
        );
        s.add(
            "catch_up",
            Schedule::Every {
                interval: Duration::from_millis(100),
                overrun: Overrun::CatchUp,
            },
            slow,
        );
        let at = Instant::now() + Duration::from_millis(50);
        s.add("once", Schedule::At(vec![at]), |_| async {});
        tokio::time::sleep(Duration::from_millis(1001)).await;
        let jobs = s.stop().await;
        // Skip: slots at 100, 400, 700, 1000 ms fire on time; each 250 ms firing overruns the
        // two slots after it, which are skipped (the last firing ends at 1250 ms).
        assert_eq!(
            (jobs[0].fired, jobs[0].missed, jobs[0].drift_max_ns),
            (4, 8, 1)
        );
        // Catch-up: firings start at 100, 350, 600, 850, each later behind its slot.
        assert_eq!((jobs[1].fired, jobs[1].missed), (4, 0));
        assert_eq!(jobs[1].drift_max_ns / 1_000_000, 450);
        assert_eq!((jobs[2].fired, jobs[2].drift_max_ns), (1, 1));
    }
}
