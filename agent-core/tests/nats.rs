//! The JetStream transport against a real `nats-server` (see nats-testkit): publishing with ids
//! and de-duplication, explicit acknowledgement, redelivery, dead letters, the bus's plain
//! subscriptions, work queues, connection loss, and every refusal at connect.

use std::collections::BTreeMap;
use std::time::Duration;

use agent_core::bus::nats::{
    ConnectionState, NatsConfig, NatsError, NatsTransport, Retry, MIN_SERVER_VERSION,
};
use agent_core::{Bus, MailboxConfig, OverflowPolicy, TraceId};
use nats_testkit::NatsServer;
use tokio::time::timeout;

/// Longest any single wait in these tests may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

fn config(server: &NatsServer) -> NatsConfig {
    NatsConfig {
        ack_wait: Duration::from_millis(800),
        nak_delay: Duration::from_millis(50),
        max_deliver: 3,
        ping_interval: Duration::from_millis(300),
        publish_ack_timeout: Duration::from_millis(500),
        ..NatsConfig::new(server.url())
    }
}

async fn connect(server: &NatsServer) -> NatsTransport<u64> {
    NatsTransport::connect(config(server))
        .await
        .expect("connect to the test server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_gets_every_message_once_and_acks_it() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let group = nats.group("orders", "billing", 16).await.unwrap();
    for n in 0..200u64 {
        let id = nats.next_message_id();
        let p = nats
            .publish_with_id("orders", &id, &n, TraceId(n))
            .await
            .unwrap();
        assert!(!p.duplicate);
    }
    let mut seen = Vec::new();
    while seen.len() < 200 {
        let d = timeout(PATIENCE, group.recv()).await.unwrap().unwrap();
        assert_eq!(d.attempt(), 1);
        assert_eq!(d.trace_id(), TraceId(*d.msg()));
        assert!(d.published_at().is_some());
        seen.push(*d.msg());
        d.ack().await.unwrap();
    }
    assert_eq!(seen, (0..200).collect::<Vec<_>>(), "in publish order");
    let c = nats.counters();
    assert_eq!((c.published, c.delivered, c.acked), (200, 200, 200));
    assert_eq!((c.redelivered, c.deduplicated, c.dead_lettered), (0, 0, 0));
    let s = group.snapshot().await.unwrap();
    assert_eq!((s.pending, s.ack_pending), (0, 0), "{s:?}");
    assert!(s.local.is_conserved());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_message_id_is_stored_once() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let group = nats.group("t", "g", 4).await.unwrap();
    let first = nats
        .publish_with_id("t", "order-7", &7, TraceId(1))
        .await
        .unwrap();
    let again = nats
        .publish_with_id("t", "order-7", &7, TraceId(1))
        .await
        .unwrap();
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(first.sequence, again.sequence);
    nats.publish_with_id("t", "order-8", &8, TraceId(2))
        .await
        .unwrap();
    let a = timeout(PATIENCE, group.recv()).await.unwrap().unwrap();
    let b = timeout(PATIENCE, group.recv()).await.unwrap().unwrap();
    assert_eq!((a.message_id(), *a.msg()), ("order-7", 7));
    assert_eq!((b.message_id(), *b.msg()), ("order-8", 8));
    let c = nats.counters();
    assert_eq!((c.published, c.deduplicated), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_retried_then_dead_lettered() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let group = nats.group("jobs", "workers", 4).await.unwrap();
    nats.publish_with_id("jobs", "poison", &13, TraceId(0))
        .await
        .unwrap();
    nats.publish_with_id("jobs", "fine", &14, TraceId(0))
        .await
        .unwrap();
    let mut attempts = BTreeMap::new();
    let mut outcomes = Vec::new();
    while outcomes.len() < 4 {
        let d = timeout(PATIENCE, group.recv()).await.unwrap().unwrap();
        attempts.insert(d.message_id().to_owned(), d.attempt());
        if *d.msg() == 13 {
            outcomes.push(Some(d.nak().await.unwrap()));
        } else {
            d.ack().await.unwrap();
            outcomes.push(None);
        }
    }
    // max_deliver 3: two retries, then the third failure moves it to the dead letters.
    assert_eq!(attempts["poison"], 3);
    assert_eq!(attempts["fine"], 1);
    let naks: Vec<_> = outcomes.into_iter().flatten().collect();
    assert_eq!(naks, [Retry::Later, Retry::Later, Retry::DeadLettered]);
    let c = nats.counters();
    assert_eq!(
        (c.naked, c.redelivered, c.dead_lettered, c.acked),
        (2, 2, 1, 1)
    );
    assert_eq!(nats.dead_letters().await.unwrap(), 1);
    // Nothing more arrives: the dead letter is terminated, not redelivered.
    assert!(timeout(Duration::from_millis(1200), group.recv())
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_dies_mid_message_loses_nothing() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let doomed = nats.group("work", "pool", 1).await.unwrap();
    let survivor_transport = connect(&server).await;
    nats.publish_with_id("work", "job-1", &1, TraceId(0))
        .await
        .unwrap();
    let taken = timeout(PATIENCE, doomed.recv()).await.unwrap().unwrap();
    assert_eq!(*taken.msg(), 1);
    // The member dies holding it: never acknowledged.
    drop(taken);
    drop(doomed);
    let survivor = survivor_transport.group("work", "pool", 1).await.unwrap();
    let again = timeout(PATIENCE, survivor.recv()).await.unwrap().unwrap();
    assert_eq!((again.message_id(), again.attempt()), ("job-1", 2));
    again.ack().await.unwrap();
    assert_eq!(survivor_transport.counters().redelivered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_subscribers_each_get_every_message_and_account_for_it() {
    let server = NatsServer::start().unwrap();
    let bus: Bus<u64, NatsTransport<u64>> = Bus::with_transport(connect(&server).await);
    let a = bus
        .subscribe("ticks", MailboxConfig::default())
        .await
        .unwrap();
    let b = bus
        .subscribe("ticks", MailboxConfig::bounded(2, OverflowPolicy::Reject))
        .await
        .unwrap();
    for n in 0..100u64 {
        let fanout = bus.publish("ticks", n).await.unwrap();
        assert_eq!(fanout.queued, 1, "stored by the stream");
    }
    let mut got_a = Vec::new();
    let mut got_b = Vec::new();
    while got_a.len() < 100 {
        got_a.push(timeout(PATIENCE, a.recv()).await.unwrap().unwrap().msg);
    }
    // b's queue holds 2: the rest is refused locally, naked, and delivered again later.
    while got_b.len() < 100 {
        got_b.push(timeout(PATIENCE, b.recv()).await.unwrap().unwrap().msg);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    got_b.sort_unstable();
    got_b.dedup();
    assert_eq!(got_a, (0..100).collect::<Vec<_>>());
    assert_eq!(got_b, (0..100).collect::<Vec<_>>());
    let topics = bus.snapshot().topics;
    assert_eq!(topics.len(), 1);
    assert_eq!((topics[0].published, topics[0].subscribers), (100, 2));
    assert!(topics[0].mailboxes.is_conserved());
    assert!(topics[0].mailboxes.delivered >= 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_queue_is_shared_and_emptied() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let queue = nats.work_queue("resize").await.unwrap();
    let w1 = queue.join(4).await.unwrap();
    let w2 = queue.join(4).await.unwrap();
    for n in 0..100u64 {
        queue
            .submit(&format!("img-{n}"), &n, TraceId(n))
            .await
            .unwrap();
    }
    let mut done = Vec::new();
    while done.len() < 100 {
        let d = timeout(PATIENCE, async {
            tokio::select! {
                d = w1.recv() => d,
                d = w2.recv() => d,
            }
        })
        .await
        .expect("a job within the patience")
        .unwrap();
        done.push(*d.msg());
        d.ack().await.unwrap();
    }
    done.sort_unstable();
    assert_eq!(done, (0..100).collect::<Vec<_>>());
    // Acknowledgements are sent without waiting for the server, which applies them a moment
    // later (longer on a busy machine): the queue empties, soon.
    let backlog = queue.until_empty(PATIENCE).await.unwrap();
    assert_eq!((backlog.waiting, backlog.in_progress), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_visible_and_publishing_resumes() {
    let mut server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    assert_eq!(nats.health().state, ConnectionState::Connected);
    server.kill();
    wait_for(|| nats.health().state == ConnectionState::Disconnected).await;
    server.restart().unwrap();
    wait_for(|| nats.health().state == ConnectionState::Connected).await;
    let h = nats.health();
    assert!(h.disconnects >= 1 && h.reconnects >= 1, "{h:?}");
    // The stream survived on disk; publishing works again.
    let p = nats
        .publish_with_id("t", "after", &1, TraceId(0))
        .await
        .unwrap();
    assert!(!p.duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_is_noticed_by_the_ping_interval() {
    let mut server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    server.pause();
    // ping_interval 300 ms: a lost connection is declared after a few missed pongs.
    wait_for(|| nats.health().state == ConnectionState::Disconnected).await;
    server.resume();
    wait_for(|| nats.health().state == ConnectionState::Connected).await;
    nats.publish_with_id("t", "x", &1, TraceId(0))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_servers_and_urls_are_refused_with_typed_errors() {
    let malformed = NatsTransport::<u64>::connect(NatsConfig::new("nats://host:port:extra")).await;
    assert!(
        matches!(malformed, Err(NatsError::Config { field: "url", .. })),
        "{malformed:?}"
    );

    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable =
        NatsTransport::<u64>::connect(NatsConfig::new(format!("nats://127.0.0.1:{port}"))).await;
    let Err(NatsError::Unreachable { url, .. }) = &unreachable else {
        panic!("expected unreachable, got {unreachable:?}");
    };
    assert!(url.ends_with(&port.to_string()));

    let plain = NatsServer::start_without_jetstream().unwrap();
    let no_js = NatsTransport::<u64>::connect(NatsConfig::new(plain.url())).await;
    assert!(
        matches!(no_js, Err(NatsError::NoJetStream { .. })),
        "{no_js:?}"
    );
    let message = no_js.unwrap_err().to_string();
    assert!(message.contains("-js"), "{message}");
    // Version refusal: the rule is unit-tested in the module; here, that the server passes it.
    let version = plain.version().trim_start_matches('v').to_owned();
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap());
    assert!((parts.next().unwrap(), parts.next().unwrap()) >= MIN_SERVER_VERSION);

    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let bad_topic = nats.group("a b", "g", 1).await;
    assert!(matches!(
        bad_topic,
        Err(NatsError::BadName { what: "topic", .. })
    ));
    let bad_group = nats.group("t", "g.1", 1).await;
    assert!(matches!(
        bad_group,
        Err(NatsError::BadName { what: "group", .. })
    ));
}

/// Polls `ready` every 20 ms until it holds, failing the test after [`PATIENCE`].
async fn wait_for(ready: impl Fn() -> bool) {
    timeout(PATIENCE, async {
        while !ready() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("condition not reached in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_name_taken_by_another_topic_is_refused() {
    let server = NatsServer::start().unwrap();
    let nats = connect(&server).await;
    let _first = nats.group("a", "shared-name", 4).await.unwrap();
    let second = nats.group("b", "shared-name", 4).await;
    let Err(NatsError::JetStream { reason, .. }) = &second else {
        panic!("expected a refusal, got {second:?}");
    };
    assert!(reason.contains("already reads"), "{reason}");
    // The same group on the same topic is joined, not refused.
    nats.group("a", "shared-name", 4).await.unwrap();
}

#[cfg(feature = "openmetrics")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_exports_its_counters_and_each_consumers_lag() {
    use agent_core::bus::nats::NatsSnapshot;
    use agent_core::openmetrics::prometheus_client::registry::Registry;
    use agent_core::openmetrics::{encode, NatsMetrics};

    let server = NatsServer::start().unwrap();
    let bus: Bus<u64, NatsTransport<u64>> = Bus::with_transport(connect(&server).await);
    // A bounded local queue of 2 that nobody reads: the rest waits on the server (lag).
    let _idle = bus
        .subscribe("ticks", MailboxConfig::bounded(2, OverflowPolicy::Reject))
        .await
        .unwrap();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(NatsMetrics::new(&bus, Duration::from_millis(50))));
    for n in 0..20u64 {
        bus.publish("ticks", n).await.unwrap();
    }
    let value = |text: &str, series: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    // The lag is the server's answer, refreshed every 50 ms: wait for one after the publishes.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let (text, snapshot): (String, NatsSnapshot) = loop {
        let text = encode(&registry);
        let snapshot = bus.transport().snapshot_all().await.unwrap();
        let consumer = &snapshot.consumers[0].name;
        let lag = value(
            &text,
            &format!("agent_core_nats_consumer_lag{{consumer=\"{consumer}\"}}"),
        );
        if lag == Some(snapshot.consumers[0].pending as f64) && lag > Some(0.0) {
            break (text, snapshot);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no lag exported: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        value(&text, "agent_core_nats_published_total"),
        Some(snapshot.counters.published as f64)
    );
    assert_eq!(snapshot.counters.published, 20);
    assert_eq!(value(&text, "agent_core_nats_connected"), Some(1.0));
    assert!(
        text.contains("# TYPE agent_core_nats_consumer_lag gauge"),
        "{text}"
    );
}
