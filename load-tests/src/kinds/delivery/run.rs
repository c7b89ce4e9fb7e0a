//! The delivery driver: a publisher (in this process, or a child process with an outbox for
//! the publisher crash) submits jobs at a steady rate to worker processes sharing a JetStream
//! work queue; a second in, the fault strikes; the run ends when every job has a result (or a
//! minute after the last submission).

use std::sync::Arc;
use std::time::Duration;

use agent_core::bus::nats::NatsTransport;
use tokio::time::Instant;

use super::{Fault, UnderFault};
use crate::distributed::{
    fleet_bin, nats_config, publish_jobs, run_id, Collector, Fleet, PublisherArgs,
    PublisherSummary, RunServer, Traffic, WorkerSummary, JOBS, REPLAY_HORIZON,
};
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::format::ms;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, Rules};
use crate::report::{paths, Delivery, Report};
use crate::scenario::Scenario;

/// Results stored beyond one per job: a job whose effect happened twice.
pub(crate) const STORED_TWICE: &str = "stored_twice";
/// Jobs done again after a fault (a worker found its result already stored, or the collector
/// got a result again): detected, counted, not stored twice.
pub(crate) const DUPLICATES_DETECTED: &str = "duplicates_detected";
/// Results of jobs delivered more than once to a worker.
pub(crate) const REDELIVERED: &str = "redelivered";
/// Milliseconds from the fault until every job submitted before it had its result.
pub(crate) const RECOVERY_MS: &str = "recovery_ms";
/// Jobs the restarted publisher replayed from its outbox.
pub(crate) const REPLAYED: &str = "replayed";
/// Publishes (replays included) the stream answered as duplicates.
pub(crate) const DEDUPLICATED_ON_PUBLISH: &str = "deduplicated_on_publish";

/// When the fault strikes.
const FAULT_AFTER: Duration = Duration::from_secs(1);
/// How long after the last submission the run waits for results.
const RESULTS_WITHIN: Duration = Duration::from_secs(60);
/// Jobs a worker holds at once.
const IN_FLIGHT: usize = 4;

impl Drive for UnderFault {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        match self.run(ctx).await {
            Ok(out) => out,
            Err(reason) => {
                eprintln!("{}: {reason}", ctx.scenario.name);
                let mut out = DriverOutput::default();
                out.ops
                    .record_n(Err(&format!("run_failed: {reason}")), self.jobs);
                out.delivery = Some(Delivery {
                    sent: self.jobs,
                    lost: self.jobs,
                    ..Delivery::default()
                });
                out
            }
        }
    }
}

/// The publisher of a run: a task here, or a child process (member `usize` of the fleet).
enum Publisher {
    Task(tokio::task::JoinHandle<Result<PublisherSummary, String>>),
    Child(usize),
}

impl UnderFault {
    async fn run(&self, ctx: &Arc<RunContext>) -> Result<DriverOutput, String> {
        let mut server = RunServer::for_run(&ctx.options)?;
        if self.fault.on_server() && server.own().is_none() {
            return Err(format!(
                "the {:?} fault acts on the server, which a run against --nats does not control",
                self.fault
            ));
        }
        let url = server.url().to_owned();
        let text = |e: &dyn std::fmt::Display| e.to_string();
        let nats = NatsTransport::<Traffic>::connect(nats_config(&url))
            .await
            .map_err(|e| text(&e))?;
        let run = run_id();
        let mut collector = Collector::start(&nats, &run).await.map_err(|e| text(&e))?;
        let queue = nats.work_queue(JOBS).await.map_err(|e| text(&e))?;
        let mut fleet = Fleet::new(fleet_bin(&ctx.options)?, url.clone());
        // The consumer crash: worker 0 SIGKILLs itself on the job it receives about a second in
        // (its share of the jobs submitted by then), so it surely dies holding jobs.
        let crash_at = (self.fault == Fault::ConsumerCrash).then(|| {
            (FAULT_AFTER.as_secs_f64() * self.rate_per_s / self.workers as f64).max(1.0) as u64
        });
        let mut workers = Vec::new();
        for w in 0..self.workers {
            let crash = if w == 0 { crash_at } else { None };
            workers.push(
                fleet
                    .start_worker(w as u32, IN_FLIGHT, crash)
                    .map_err(|e| text(&e))?,
            );
        }
        let outbox = tempfile::tempdir().map_err(|e| text(&e))?;
        let args = PublisherArgs {
            url,
            run,
            jobs: self.jobs,
            rate_per_s: self.rate_per_s,
            work_us: self.work_us,
            outbox: (self.fault == Fault::PublisherCrash)
                .then(|| outbox.path().join("outbox.redb")),
            // The publisher crash: the child SIGKILLs itself after the job due a second in is
            // acknowledged, before its outbox records that.
            crash_after_job: (self.fault == Fault::PublisherCrash)
                .then(|| (FAULT_AFTER.as_secs_f64() * self.rate_per_s) as u64),
            replay_horizon: REPLAY_HORIZON,
            server_patience: crate::distributed::SERVER_PATIENCE,
        };
        let started = Instant::now();
        let publisher = if self.fault == Fault::PublisherCrash {
            Publisher::Child(fleet.start_publisher(&args).map_err(|e| text(&e))?)
        } else {
            Publisher::Task(tokio::spawn(async move {
                publish_jobs(&args).await.map_err(|e| e.to_string())
            }))
        };
        let jobs = self.jobs;
        let deadline =
            started + Duration::from_secs_f64(jobs as f64 / self.rate_per_s) + RESULTS_WITHIN;
        let progress = Arc::clone(ctx);
        let collecting = tokio::spawn(async move {
            let done = collector
                .until_complete(jobs, deadline, || progress.done(1))
                .await;
            (collector, done)
        });

        if !matches!(self.fault, Fault::ConsumerCrash | Fault::PublisherCrash) {
            tokio::time::sleep_until(started + FAULT_AFTER).await;
        }
        let mut fault_at = Instant::now();
        match (self.fault, &publisher) {
            (Fault::ConsumerCrash, _) => {
                fault_at = crashed(&mut fleet, workers[0], deadline, "worker 0").await?;
            }
            (Fault::Partition, _) => {
                let own = server.own().expect("checked above");
                own.pause();
                tokio::time::sleep(Duration::from_secs(2)).await;
                own.resume();
            }
            (Fault::BrokerRestart, _) => {
                let own = server.own().expect("checked above");
                own.kill();
                tokio::time::sleep(Duration::from_secs(1)).await;
                own.restart().map_err(|e| text(&e))?;
            }
            (Fault::PublisherCrash, Publisher::Child(p)) => {
                fault_at = crashed(&mut fleet, *p, deadline, "the publisher").await?;
                tokio::time::sleep(Duration::from_millis(500)).await;
                fleet.restart(*p).map_err(|e| text(&e))?;
            }
            (Fault::PublisherCrash, Publisher::Task(_)) => unreachable!("a child publishes"),
        }
        // Jobs submitted before the fault: the publisher paces job n at n / rate.
        let before_fault = ((fault_at - started).as_secs_f64() * self.rate_per_s) as u64;

        let (collector, done) = collecting.await.map_err(|e| text(&e))?;
        done.map_err(|e| text(&e))?;
        let publisher = match publisher {
            Publisher::Task(t) => t.await.map_err(|e| text(&e))??,
            Publisher::Child(p) => {
                let (status, line) = fleet.wait(p).map_err(|e| text(&e))?;
                if !status.success() {
                    return Err(format!("the restarted publisher exited with {status}"));
                }
                serde_json::from_str(line.trim()).map_err(|e| text(&e))?
            }
        };
        // Wait for the queue to empty so late duplicate reports are in, then let workers leave.
        let settle_by = Instant::now() + Duration::from_secs(5);
        while Instant::now() < settle_by {
            match queue.backlog().await {
                Ok(b) if b.waiting + b.in_progress == 0 => break,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let mut duplicates_by_workers = 0;
        for w in workers {
            if let Ok((_, line)) = fleet.stop(w) {
                if let Ok(s) = serde_json::from_str::<WorkerSummary>(line.trim()) {
                    duplicates_by_workers += s.duplicates;
                }
            }
        }

        let got = &collector.got;
        let recovered_at = got
            .arrived
            .range(..before_fault)
            .map(|(_, at)| *at)
            .max()
            .unwrap_or(fault_at);
        let mut out = DriverOutput::default();
        let delivered = got.done.len() as u64;
        let missing = got.missing(jobs);
        out.ops.record_n(Ok(()), delivered);
        out.ops.record_n(Err("job_lost"), missing);
        out.delivery = Some(Delivery {
            sent: jobs,
            delivered,
            lost: missing,
            ..Delivery::default()
        });
        let redelivered = got.done.values().filter(|d| d.attempt > 1).count();
        for (key, value) in [
            (STORED_TWICE, got.stored_twice() as f64),
            (
                DUPLICATES_DETECTED,
                (got.duplicates_reported.max(duplicates_by_workers) + got.repeats) as f64,
            ),
            (REDELIVERED, redelivered as f64),
            (
                RECOVERY_MS,
                recovered_at
                    .saturating_duration_since(fault_at)
                    .as_secs_f64()
                    * 1e3,
            ),
            (REPLAYED, publisher.replayed as f64),
            ("publish_retries", publisher.retries as f64),
            (DEDUPLICATED_ON_PUBLISH, publisher.deduplicated as f64),
        ] {
            out.extra.insert(key.into(), value);
        }
        Ok(out)
    }
}

/// Waits until fleet member `member`, which kills itself at a known point, has died; reaps it
/// and returns when that was seen (within 5 ms).
async fn crashed(
    fleet: &mut Fleet,
    member: usize,
    deadline: Instant,
    who: &str,
) -> Result<Instant, String> {
    while !fleet.has_exited(member) {
        if Instant::now() > deadline {
            return Err(format!("{who} never reached the job it was to crash on"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at = Instant::now();
    fleet.kill(member);
    Ok(at)
}

impl Rules for UnderFault {
    fn needs_network(&self) -> bool {
        true
    }

    fn needs_own_server(&self) -> bool {
        self.fault.on_server()
    }

    fn check(&self, s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.jobs", self.jobs)?;
        l.rate("kind.rate_per_s", self.rate_per_s)?;
        l.seconds("kind.work_us", self.work_us, 1_000_000)?;
        l.count("kind.workers", self.workers)?;
        if self.fault == Fault::ConsumerCrash && self.workers < 2 {
            return l.invalid(
                "kind.workers",
                "a consumer crash needs a second worker to take over".into(),
            );
        }
        // The fault strikes a second in: the run must still be submitting then.
        if (self.jobs as f64 / self.rate_per_s) < 2.0 * FAULT_AFTER.as_secs_f64() {
            return l.invalid(
                "kind.jobs",
                format!(
                    "submitting must last at least 2 s (the fault strikes after 1 s): at \
                     least {} jobs at this rate",
                    (2.0 * self.rate_per_s).ceil()
                ),
            );
        }
        if s.total_ops() != self.jobs {
            return l.invalid(
                "ops_per_agent",
                format!(
                    "agents x ops_per_agent must be kind.jobs: agents = 1, ops_per_agent = {}",
                    self.jobs
                ),
            );
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        Figures {
            exact_totals: true,
            takes_time: false,
            latency: false,
            split_latency: false,
            queues: false,
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_DELIVERED),
            Gate::exact(paths::DELIVERY_LOST),
            Gate::extra(STORED_TWICE),
        ]
    }

    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        let twice = extra(r, STORED_TWICE);
        // Absent when the run failed before it began (its gate row says so).
        if twice.is_finite() && twice != 0.0 {
            broken.push(format!(
                "{twice} jobs had their result stored twice, must be 0"
            ));
        }
        // The crashed worker died holding jobs; another worker must have been given them.
        let redelivered = extra(r, REDELIVERED);
        if self.fault == Fault::ConsumerCrash && redelivered.is_finite() && redelivered < 1.0 {
            broken.push("no job was redelivered after the worker crashed mid-job".into());
        }
        // It died after the stream stored a job and before its outbox knew: the replay must
        // send that job again and the stream must drop it as a duplicate.
        if self.fault == Fault::PublisherCrash
            && extra(r, REPLAYED).is_finite()
            && (extra(r, REPLAYED) != 1.0 || extra(r, DEDUPLICATED_ON_PUBLISH) != 1.0)
        {
            broken.push(format!(
                "the restarted publisher replayed {} jobs, {} de-duplicated; must be 1 and 1",
                extra(r, REPLAYED),
                extra(r, DEDUPLICATED_ON_PUBLISH)
            ));
        }
    }

    fn headline(&self, r: &Report) -> String {
        let lost = r.delivery.as_ref().map_or(0, |d| d.lost);
        format!(
            "{lost} lost, {} duplicates detected and stored once, recovered in {} (real time)",
            extra(r, DUPLICATES_DETECTED),
            ms((extra(r, RECOVERY_MS) * 1e6) as u64)
        )
    }
}
