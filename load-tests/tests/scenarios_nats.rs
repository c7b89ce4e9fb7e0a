//! The scenarios on NATS JetStream (seed 002's EventBus and its delivery faults), one `#[rstest]`
//! case each, each against a nats-server of its own on a loopback port (the project installs the
//! pinned server on first use: nats-testkit), with worker and publisher processes where the fault
//! needs them.

mod support;

use rstest::rstest;

#[rstest]
// Seed 002 EventBus 3.2: the server SIGKILLed and restarted on its store mid-stream; none lost,
// no result stored twice.
#[case::delivery_broker_restart("delivery_broker_restart")]
// Seed 002 EventBus 3.2: a worker process SIGKILLs itself holding jobs; none lost, its jobs
// redelivered, no result stored twice.
#[case::delivery_consumer_crash("delivery_consumer_crash")]
// Seed 002 EventBus 3.2: the server paused 2 s (SIGSTOP) mid-stream; none lost, no result stored
// twice.
#[case::delivery_partition("delivery_partition")]
// Seed 002 EventBus 3.2: the publisher process dies after a send, before its outbox knew; the
// restart replays it, the stream drops the duplicate, none lost.
#[case::delivery_publisher_crash("delivery_publisher_crash")]
// Seed 002 EventBus 3.1, burst: 500 events/s on NATS JetStream; every event once, backlog
// cleared.
#[case::eventbus_burst_nats("eventbus_burst_nats")]
// Seed 002 EventBus 3.1, sustained: 210 events/s from four publishers on NATS JetStream (a
// server this test starts); every event once and in order, no backlog left (latency reported,
// not gated).
#[case::eventbus_sustained_nats("eventbus_sustained_nats")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats(#[case] name: &str) {
    support::check(name).await;
}
