//! Seeded fault schedules against real processes and a real server or cluster
//! (`load-tests chaos`): a publisher with an outbox and two workers share a work queue while
//! faults drawn from a seed hit the network between each client and the server (latency,
//! dropped connections, black holes, one-way stalls), the processes (SIGKILL, SIGSTOP of a
//! worker, SIGKILL of the publisher) and the servers (SIGKILL, SIGSTOP; on a three-node cluster
//! with R3 streams, a member killed, paused or partitioned, and the jobs stream's leader paused,
//! some of them past the ack wait). After the faults heal, the
//! invariants the transport promises are checked (see [`Outcome`]), and a quiet tail of jobs
//! slower than the ack wait must each be handled once. The same seed replays the same schedule.

mod schedule;
mod topology;
mod world;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use agent_core::bus::nats::NatsTransport;
use serde::Serialize;

pub use schedule::{Client, Fault, Schedule, Scheduled};
pub use topology::Topology;
use world::{gone, World, JOBS};

use crate::distributed::{nats_config, run_id, Collector, Job, Traffic};

/// How long after the start every job must have its result.
const RESULTS_WITHIN: Duration = Duration::from_secs(60);
/// How long after the last result the queue must be empty and the processes gone.
const SETTLE_WITHIN: Duration = Duration::from_secs(20);
/// Jobs submitted once the faults have healed, each taking longer than the ack wait (1 s): with
/// no fault to explain a redelivery, each must be handled exactly once (progress acks).
const SLOW_TAIL: u64 = 3;
const SLOW_WORK: Duration = Duration::from_millis(1200);

/// What one schedule did and what broke.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Where.
    pub topology: Topology,
    /// The faults injected, in order, as text.
    pub faults: Vec<String>,
    /// Faults by kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Invariants checked.
    pub checked: u64,
    /// The invariants that did not hold, each with what was seen.
    pub violations: Vec<String>,
    /// Jobs done again after a redelivery, and results the stream dropped as duplicates.
    pub redelivered: u64,
    /// Jobs stored a second time because a restarted server had forgotten their ids (see
    /// invariant 4); their effects were stored once.
    pub stored_again_after_restart: u64,
    /// Wall time of the schedule.
    pub took_ms: u64,
}

/// Runs the schedule `seed` draws for `topology`, with worker and publisher processes started
/// from `bin` (the `load-tests` binary). An error is a run that could not be set up (no server,
/// say), not a violation.
pub async fn run_seed(seed: u64, topology: Topology, bin: &Path) -> Result<Outcome, String> {
    run_schedule(Schedule::draw(seed, topology), topology, bin).await
}

/// Runs `schedule` (drawn from a seed, or written by hand for one fault at one point) and checks
/// the invariants, like [`run_seed`].
pub async fn run_schedule(
    schedule: Schedule,
    topology: Topology,
    bin: &Path,
) -> Result<Outcome, String> {
    let seed = schedule.seed;
    let began = Instant::now();
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let mut world = World::start(topology, bin)?;
    let observer = NatsTransport::<Traffic>::connect(nats_config(&world.observer_url()))
        .await
        .map_err(|e| text(&e))?;
    let run = run_id();
    let mut collector = Collector::start(&observer, &run)
        .await
        .map_err(|e| text(&e))?;
    let queue = observer
        .work_queue(crate::distributed::JOBS)
        .await
        .map_err(|e| text(&e))?;
    let outbox = tempfile::tempdir().map_err(|e| text(&e))?;
    world.start_processes(&run, outbox.path().join("outbox.redb"))?;
    let started = Instant::now();
    let collecting = tokio::spawn(async move {
        let done = collector
            .until_complete(JOBS, (started + RESULTS_WITHIN).into(), || {})
            .await;
        (collector, done)
    });

    // Starts and ends, in time order (an end before a start at the same instant).
    let mut events: Vec<(Duration, bool, Fault)> = schedule
        .faults
        .iter()
        .flat_map(|s| [(s.at, true, s.fault), (s.at + s.lasts, false, s.fault)])
        .collect();
    events.sort_by_key(|&(at, start, _)| (at, start));
    for (at, start, fault) in events {
        tokio::time::sleep_until((started + at).into()).await;
        if start {
            let leader = match fault {
                Fault::PauseLeader => queue.stream_leader().await.map_err(|e| text(&e))?,
                _ => None,
            };
            world.apply(fault, leader.as_deref())?;
        } else {
            world.undo(fault)?;
        }
    }

    let mut violations = Vec::new();
    let mut checked = 0u64;
    let (mut collector, done) = collecting.await.map_err(|e| text(&e))?;
    done.map_err(|e| text(&e))?;
    // The quiet tail: slow jobs with every fault healed.
    if collector.got.missing(JOBS) == 0 {
        for seq in JOBS..JOBS + SLOW_TAIL {
            let job = Job {
                run: run.clone(),
                seq,
                work_us: SLOW_WORK.as_micros() as u64,
            };
            queue
                .submit(&job.id(), &Traffic::Job(job), agent_core::TraceId(seq))
                .await
                .map_err(|e| text(&e))?;
        }
        let deadline = Instant::now() + SLOW_WORK * 4 + Duration::from_secs(5);
        collector
            .until_complete(JOBS + SLOW_TAIL, deadline.into(), || {})
            .await
            .map_err(|e| text(&e))?;
        // A redelivered copy would finish about an ack wait after the first.
        collector
            .drain_duplicates(SLOW_WORK)
            .await
            .map_err(|e| text(&e))?;
    }
    let got = &collector.got;

    // 1. Every job the publisher had acknowledged is handled at least once. (The publisher
    //    exits successfully only once the stream acknowledged every job; checked in 6.)
    checked += 1;
    let missing = got.missing(JOBS);
    if missing > 0 {
        let lost: Vec<u64> = (0..JOBS).filter(|j| !got.done.contains_key(j)).collect();
        violations.push(format!("{missing} jobs never handled: {lost:?}"));
    }
    // 2. Its effect is stored once (results carry ids derived from the job).
    checked += 1;
    if got.stored_twice() > 0 {
        violations.push(format!("{} results stored twice", got.stored_twice()));
    }
    // 3. Per-publisher order: the stream stored the jobs in the order they were published.
    checked += 1;
    let sequences: Vec<(u64, u64)> = got
        .done
        .range(..JOBS)
        .map(|(job, d)| (*job, d.job_sequence))
        .collect();
    if let Some(w) = sequences.windows(2).find(|w| w[1].1 <= w[0].1) {
        violations.push(format!(
            "job {} stored at sequence {} after job {} at {}",
            w[1].0, w[1].1, w[0].0, w[0].1
        ));
    }
    // 4. Each publish stored once: every handling of a job saw the same stream sequence. The
    //    one exception NATS has: a server restarted after a SIGKILL rebuilds its message ids
    //    from what it still stores, so a job a worker had already taken (and the work queue
    //    removed) and the outbox replays across the restart is stored again
    //    (agent-core/tests/nats_dedup.rs shows it); it is counted, and its effect must still be
    //    stored once (2).
    checked += 1;
    let server_killed = schedule
        .faults
        .iter()
        .any(|s| matches!(s.fault, Fault::KillServer(_)));
    let mut stored_again = 0;
    for (job, handlings) in &got.handlings {
        let mut stored: Vec<u64> = handlings.iter().map(|d| d.job_sequence).collect();
        stored.sort_unstable();
        stored.dedup();
        if stored.len() > 1 && server_killed {
            stored_again += 1;
        } else if stored.len() > 1 {
            violations.push(format!(
                "job {job} stored {} times: {stored:?}",
                stored.len()
            ));
        }
    }
    // 5. In quiet, a handler slower than the ack wait keeps its job: handled once.
    checked += 1;
    for seq in JOBS..JOBS + SLOW_TAIL {
        let handlings = got.handlings.get(&seq).map_or(&[][..], Vec::as_slice);
        let attempts: Vec<u64> = handlings.iter().map(|d| d.attempt).collect();
        if attempts != [1] {
            violations.push(format!(
                "slow job {seq}, with no fault, handled {} times (deliveries {attempts:?})",
                handlings.len()
            ));
        }
    }
    // 6. No handled message dead-lettered.
    checked += 1;
    match observer.dead_letters().await {
        Ok(0) => {}
        Ok(n) => violations.push(format!("{n} messages dead-lettered")),
        Err(e) => violations.push(format!("dead letters unreadable: {e}")),
    }
    // 7. Lag back to zero once the faults healed.
    checked += 1;
    let settle_by = Instant::now() + SETTLE_WITHIN;
    loop {
        match queue.backlog().await {
            Ok(b) if b.waiting + b.in_progress == 0 => break,
            Ok(b) if Instant::now() > settle_by => {
                violations.push(format!("lag stayed at {b:?}"));
                break;
            }
            Err(e) if Instant::now() > settle_by => {
                violations.push(format!("backlog unreadable: {e}"));
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    // 8. Every process exits cleanly: the publisher (all jobs acknowledged) and the workers.
    checked += 1;
    let failed = tokio::task::block_in_place(|| world.finish(settle_by + SETTLE_WITHIN));
    violations.extend(failed);
    // 9. Nothing left behind once the run is torn down.
    checked += 1;
    let pids = world.pids();
    drop(world);
    drop(observer);
    let left: Vec<u32> = pids.into_iter().filter(|&p| !gone(p)).collect();
    if !left.is_empty() {
        violations.push(format!("processes left running: {left:?}"));
    }
    let redelivered = got.done.values().filter(|d| d.attempt > 1).count() as u64
        + got.repeats
        + got.duplicates_reported;
    Ok(Outcome {
        seed,
        topology,
        faults: schedule.describe(),
        by_kind: schedule.by_kind(),
        checked,
        violations,
        redelivered,
        stored_again_after_restart: stored_again,
        took_ms: began.elapsed().as_millis() as u64,
    })
}
