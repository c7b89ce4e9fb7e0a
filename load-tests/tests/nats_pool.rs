//! Agent pools across processes (issue 12, item 2): worker processes share a JetStream work
//! queue; one is killed with SIGKILL while it holds jobs, one leaves on SIGTERM between jobs,
//! and every job still gets exactly one result.

use std::path::PathBuf;
use std::time::Duration;

use agent_core::bus::nats::NatsTransport;
use load_tests::distributed::{
    nats_config, publish_jobs, run_id, Collector, Fleet, PublisherArgs, Traffic, WorkerSummary,
    JOBS, REPLAY_HORIZON,
};
use nats_testkit::NatsServer;
use tokio::time::Instant;

const JOBS_IN_RUN: u64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_queue_and_a_crash_or_a_leave_loses_nothing() {
    let server = NatsServer::start().expect("nats-server");
    let url = server.url();
    let nats = NatsTransport::<Traffic>::connect(nats_config(&url))
        .await
        .unwrap();
    let run = run_id();
    let mut collector = Collector::start(&nats, &run).await.unwrap();
    let queue = nats.work_queue(JOBS).await.unwrap();

    let mut fleet = Fleet::new(PathBuf::from(env!("CARGO_BIN_EXE_load-tests")), url.clone());
    let crashes = fleet.start_worker(0, 4, None).unwrap();
    let leaves = fleet.start_worker(1, 4, None).unwrap();
    let stays = fleet.start_worker(2, 4, None).unwrap();
    // Jobs of 10 ms arrive at 600/s, faster than three workers finish them, so every worker
    // always holds jobs: the SIGKILL strands some.
    let publisher = tokio::spawn(publish_jobs_owned(PublisherArgs {
        url: url.clone(),
        run: run.clone(),
        jobs: JOBS_IN_RUN,
        rate_per_s: 600.0,
        work_us: 10_000,
        outbox: None,
        crash_after_job: None,
        replay_horizon: REPLAY_HORIZON,
        server_patience: load_tests::distributed::SERVER_PATIENCE,
    }));
    tokio::time::sleep(Duration::from_millis(250)).await;
    fleet.kill(crashes);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, summary) = fleet.stop(leaves).unwrap();
    assert!(
        status.success(),
        "a worker asked to leave exits 0: {status}"
    );
    let left: WorkerSummary = serde_json::from_str(summary.trim()).unwrap();
    assert!(left.done > 0, "the leaving worker had done jobs: {left:?}");

    let summary = publisher.await.unwrap();
    assert_eq!(summary.submitted, JOBS_IN_RUN);
    let deadline = Instant::now() + Duration::from_secs(30);
    collector
        .until_complete(JOBS_IN_RUN, deadline, || ())
        .await
        .unwrap();
    let got = &collector.got;
    let backlog = queue.backlog().await.unwrap();
    assert_eq!(
        got.missing(JOBS_IN_RUN),
        0,
        "every job has a result; backlog {backlog:?}, first missing {:?}",
        (0..JOBS_IN_RUN).find(|s| !got.done.contains_key(s))
    );
    let redelivered = got.done.values().filter(|d| d.attempt > 1).count();
    assert!(
        redelivered > 0,
        "the killed worker's jobs were redelivered to another"
    );
    let workers: std::collections::BTreeSet<u32> = got.done.values().map(|d| d.worker).collect();
    assert!(workers.contains(&2) && workers.len() >= 2, "{workers:?}");
    // The queue is empty: work-queue retention removed every acknowledged job.
    let backlog = queue.until_empty(Duration::from_secs(20)).await.unwrap();
    assert_eq!((backlog.waiting, backlog.in_progress), (0, 0));
    assert_eq!(got.stored_twice(), 0, "a job done twice stored one result");
    let (status, _) = fleet.stop(stays).unwrap();
    assert!(status.success());
}

async fn publish_jobs_owned(args: PublisherArgs) -> load_tests::distributed::PublisherSummary {
    publish_jobs(&args).await.expect("publisher")
}
