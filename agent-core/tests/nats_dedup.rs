//! De-duplication by construction, against a real `nats-server`: a stream remembers message ids
//! for its duplicate window, which must outlast a publish's retries (checked at connect, for
//! streams that exist already too), and a replay later than the window is stored twice: the
//! horizon ARCHITECTURE.md states. `Bus::publish_with_id` makes an application's retry
//! idempotent.

use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsError, NatsTransport};
use agent_core::{Bus, MailboxConfig, TraceId};
use nats_testkit::NatsServer;

/// One attempt of up to 500 ms (a retry span of 500 ms) and a window of 1.5 s.
fn short_window(server: &NatsServer) -> NatsConfig {
    NatsConfig {
        publish_attempts: 1,
        publish_ack_timeout: Duration::from_millis(500),
        duplicate_window: Duration::from_millis(1500),
        ..NatsConfig::new(server.url())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_within_the_window_is_stored_once_and_after_it_twice() {
    let server = NatsServer::start().unwrap();
    let nats = NatsTransport::<u64>::connect(short_window(&server))
        .await
        .unwrap();
    let first = nats
        .publish_with_id("jobs", "job-1", &1, TraceId(1))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let replay = nats
        .publish_with_id("jobs", "job-1", &1, TraceId(1))
        .await
        .unwrap();
    assert!(replay.duplicate, "within the window: stored once");
    assert_eq!(replay.sequence, first.sequence);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = nats
        .publish_with_id("jobs", "job-1", &1, TraceId(1))
        .await
        .unwrap();
    assert!(
        !late.duplicate && late.sequence > first.sequence,
        "past the window the stream no longer knows the id: stored twice ({late:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_forgets_ids_sooner_than_retries_last_is_refused_at_connect() {
    let server = NatsServer::start().unwrap();
    // This connection creates the streams with a 1.5 s window.
    drop(
        NatsTransport::<u64>::connect(short_window(&server))
            .await
            .unwrap(),
    );
    // One whose publishes may retry for 49.15 s (the defaults) must not use them.
    let defaults = NatsConfig::new(server.url());
    match NatsTransport::<u64>::connect(defaults.clone()).await {
        Err(NatsError::DuplicateWindow {
            stream,
            window,
            needed,
        }) => {
            assert_eq!(stream, "AGENTS");
            assert_eq!(window, Duration::from_millis(1500));
            assert_eq!(needed, defaults.publish_retry_span());
        }
        other => panic!("expected DuplicateWindow, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_retry_with_the_callers_id_is_stored_once() {
    let server = NatsServer::start().unwrap();
    let nats = NatsTransport::<u64>::connect(NatsConfig::new(server.url()))
        .await
        .unwrap();
    let bus = Bus::with_transport(nats);
    let sub = bus
        .subscribe("orders", MailboxConfig::default())
        .await
        .unwrap();
    // The first publish's outcome unknown to the application (say it failed): it retries.
    for _ in 0..2 {
        bus.publish_with_id("orders", "order-7", 7, TraceId(7))
            .await
            .unwrap();
    }
    bus.publish_with_id("orders", "order-8", 8, TraceId(8))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), sub.recv())
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(20), sub.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.msg, second.msg),
        (7, 8),
        "order-7 once, then order-8"
    );
    let c = bus.transport().counters();
    assert_eq!((c.published, c.deduplicated), (2, 1));
    assert_eq!(bus.snapshot().topics[0].published, 2);
}

/// What a server restart does to de-duplication: a restarted server rebuilds its message ids
/// from the messages it still stores, so an id whose message a work queue already delivered and
/// removed is forgotten, and a replay across the restart stores it again; an id still stored is
/// remembered. (The seeded chaos runs found this: a publisher and the server both killed, the
/// replayed job stored twice.) Handlers idempotent by message id absorb it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_forgets_the_ids_of_messages_a_work_queue_removed() {
    let mut server = NatsServer::start().unwrap();
    let config = NatsConfig {
        ping_interval: Duration::from_millis(200),
        ..NatsConfig::new(server.url())
    };
    let nats = NatsTransport::<u64>::connect(config).await.unwrap();
    let queue = nats.work_queue("jobs").await.unwrap();
    queue.submit("consumed", &1, TraceId(1)).await.unwrap();
    queue.submit("waiting", &2, TraceId(2)).await.unwrap();
    let worker = queue.join(1).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), worker.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.message_id(), "consumed");
    first.ack().await.unwrap();
    drop(worker);
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill();
    server.restart().unwrap();
    let still = queue.submit("waiting", &2, TraceId(2)).await.unwrap();
    assert!(still.duplicate, "an id still stored is remembered");
    let again = queue.submit("consumed", &1, TraceId(1)).await.unwrap();
    assert!(
        !again.duplicate,
        "the server remembered a removed message's id across a restart; if NATS now keeps \
         them, the work queue's de-duplication holds across restarts: update ARCHITECTURE.md"
    );
}

/// An outage longer than the window, on a real network fault: the publisher's acknowledgements
/// are held back (a one-way stall through nats-testkit's proxy), so its publish fails although
/// the stream stored the message; the application retries under the same id once the network
/// heals. Within the window the retry is stored once; past it, twice: the documented horizon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_an_outage_longer_than_the_window_is_stored_twice() {
    let server = NatsServer::start().unwrap();
    let proxy = nats_testkit::Proxy::start(server.port()).unwrap();
    let nats = NatsTransport::<u64>::connect(NatsConfig {
        url: proxy.url(),
        ..short_window(&server)
    })
    .await
    .unwrap();
    let through_outage = |id: &'static str, outage: Duration| {
        let (nats, proxy) = (&nats, &proxy);
        async move {
            proxy.stall(nats_testkit::Direction::ToClient);
            let lost = nats.publish_with_id("jobs", id, &1, TraceId(1)).await;
            assert!(
                matches!(lost, Err(NatsError::PublishFailed { .. })),
                "{lost:?}"
            );
            tokio::time::sleep(outage).await;
            proxy.heal();
            nats.publish_with_id("jobs", id, &1, TraceId(1))
                .await
                .unwrap()
        }
    };
    let short = through_outage("short", Duration::from_millis(300)).await;
    assert!(short.duplicate, "an outage inside the window: stored once");
    let long = through_outage("long", Duration::from_millis(2000)).await;
    assert!(
        !long.duplicate,
        "an outage past the 1.5 s window: the retry is a second message"
    );
}
