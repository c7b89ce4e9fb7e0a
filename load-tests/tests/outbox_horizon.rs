//! The outbox's replay horizon against a real `nats-server`: a job replayed from the outbox
//! within the stream's duplicate window is dropped as a duplicate (stored once); one that waited
//! longer than the horizon is replayed, counted as past it, and stored a second time: the limit
//! ARCHITECTURE.md states. A horizon the window does not cover is refused at start.

use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsTransport};
use agent_core::TraceId;
use load_tests::distributed::{
    nats_config, publish_jobs_with, run_id, Job, Outbox, PublisherArgs, PublisherError, Traffic,
    JOBS,
};
use nats_testkit::NatsServer;

/// A 1.5 s window, one publish attempt of up to 500 ms, a horizon of 900 ms: 1.5 > 0.9 + 0.5.
fn short_window(server: &NatsServer) -> NatsConfig {
    NatsConfig {
        duplicate_window: Duration::from_millis(1500),
        publish_attempts: 1,
        publish_ack_timeout: Duration::from_millis(500),
        ..nats_config(&server.url())
    }
}

const HORIZON: Duration = Duration::from_millis(900);

fn args(run: &str, outbox: &std::path::Path) -> PublisherArgs {
    PublisherArgs {
        url: String::new(),
        run: run.to_owned(),
        jobs: 1,
        rate_per_s: 100.0,
        work_us: 0,
        outbox: Some(outbox.to_owned()),
        crash_after_job: None,
        replay_horizon: HORIZON,
        server_patience: Duration::ZERO,
    }
}

/// Job 0 of `run`, accepted into the outbox at `path` and submitted, its acknowledgement never
/// recorded: a publisher that died right after the send.
async fn sent_then_crashed(config: &NatsConfig, run: &str, path: &std::path::Path) {
    let job = Job {
        run: run.to_owned(),
        seq: 0,
        work_us: 0,
    };
    Outbox::open(path).unwrap().accept(&job).unwrap();
    let nats = NatsTransport::<Traffic>::connect(config.clone())
        .await
        .unwrap();
    let queue = nats.work_queue(JOBS).await.unwrap();
    queue
        .submit(&job.id(), &Traffic::Job(job), TraceId(0))
        .await
        .unwrap();
}

async fn stored(config: &NatsConfig) -> u64 {
    let nats = NatsTransport::<Traffic>::connect(config.clone())
        .await
        .unwrap();
    let queue = nats.work_queue(JOBS).await.unwrap();
    queue.backlog().await.unwrap().waiting
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_within_the_horizon_is_stored_once_and_past_it_twice() {
    let server = NatsServer::start().unwrap();
    let config = short_window(&server);
    let dir = tempfile::tempdir().unwrap();

    let soon = dir.path().join("soon.redb");
    let run = run_id();
    sent_then_crashed(&config, &run, &soon).await;
    let replayed = publish_jobs_with(config.clone(), &args(&run, &soon))
        .await
        .unwrap();
    assert_eq!(
        (
            replayed.replayed,
            replayed.deduplicated,
            replayed.replayed_past_horizon
        ),
        (1, 1, 0),
        "{replayed:?}"
    );
    assert_eq!(
        stored(&config).await,
        1,
        "replayed within the window: stored once"
    );

    let late = dir.path().join("late.redb");
    let run = run_id();
    sent_then_crashed(&config, &run, &late).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let replayed = publish_jobs_with(config.clone(), &args(&run, &late))
        .await
        .unwrap();
    assert_eq!(
        (
            replayed.replayed,
            replayed.deduplicated,
            replayed.replayed_past_horizon
        ),
        (1, 0, 1),
        "{replayed:?}"
    );
    assert_eq!(
        stored(&config).await,
        3,
        "replayed past the window: the second run's job is stored twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_horizon_the_stream_forgets_sooner_than_is_refused_at_start() {
    let server = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(&run_id(), &dir.path().join("outbox.redb"));
    a.replay_horizon = Duration::from_secs(1);
    match publish_jobs_with(short_window(&server), &a).await {
        Err(e @ PublisherError::Horizon { .. }) => {
            let text = e.to_string();
            assert!(text.contains("1.5s") && text.contains("1s"), "{text}");
        }
        other => panic!("expected the horizon refused, got {other:?}"),
    }
}
