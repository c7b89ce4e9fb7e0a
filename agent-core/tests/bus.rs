//! Publish/subscribe: each subscriber's mailbox applies its own policy and counts everything.

use std::time::Duration;

use agent_core::{Bus, BusError, MailboxConfig, OverflowPolicy, TraceId};

#[tokio::test]
async fn every_subscriber_gets_every_message_in_order() {
    let bus: Bus<u32> = Bus::local();
    let a = bus.subscribe("t", MailboxConfig::default()).await.unwrap();
    let b = bus.subscribe("t", MailboxConfig::default()).await.unwrap();
    let other = bus
        .subscribe("other", MailboxConfig::default())
        .await
        .unwrap();
    let trace = TraceId::new();
    for n in 0..100 {
        let f = bus.publish_traced("t", n, trace).await.unwrap();
        assert_eq!(f.queued, 2);
    }
    for sub in [&a, &b] {
        for n in 0..100 {
            let env = sub.recv().await.unwrap();
            assert_eq!((env.msg, env.trace_id), (n, trace));
        }
    }
    assert!(other.try_recv().is_none());
}

#[tokio::test]
async fn subscriber_policies_are_independent_and_counted() {
    let bus: Bus<u32> = Bus::local();
    let oldest = bus
        .subscribe("t", MailboxConfig::bounded(3, OverflowPolicy::DropOldest))
        .await
        .unwrap();
    let newest = bus
        .subscribe("t", MailboxConfig::bounded(3, OverflowPolicy::DropNewest))
        .await
        .unwrap();
    let reject = bus
        .subscribe("t", MailboxConfig::bounded(3, OverflowPolicy::Reject))
        .await
        .unwrap();
    for n in 0..10 {
        bus.publish("t", n).await.unwrap();
    }
    let drain = |s: &agent_core::Subscription<u32>| {
        std::iter::from_fn(|| s.try_recv().map(|e| e.msg)).collect::<Vec<_>>()
    };
    assert_eq!(drain(&oldest), [7, 8, 9]);
    assert_eq!(drain(&newest), [0, 1, 2]);
    assert_eq!(drain(&reject), [0, 1, 2]);
    assert_eq!(
        (
            oldest.snapshot().dropped,
            newest.snapshot().dropped,
            reject.snapshot().rejected
        ),
        (7, 7, 7)
    );
    let topic = &bus.snapshot().topics[0];
    assert_eq!(topic.published, 10);
    assert_eq!(topic.mailboxes.offered, 30);
    assert!(topic.mailboxes.is_conserved());
}

#[tokio::test(start_paused = true)]
async fn a_blocking_subscriber_applies_backpressure_to_the_publisher() {
    let bus: Bus<u32> = Bus::local();
    let slow = bus
        .subscribe(
            "t",
            MailboxConfig::bounded(
                1,
                OverflowPolicy::Block {
                    timeout: Some(Duration::from_millis(30)),
                },
            ),
        )
        .await
        .unwrap();
    bus.publish("t", 1).await.unwrap();
    let start = tokio::time::Instant::now();
    let f = bus.publish("t", 2).await.unwrap();
    assert_eq!((f.queued, f.timed_out), (0, 1));
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    assert_eq!(slow.snapshot().timed_out, 1);
}

#[tokio::test]
async fn a_departed_subscriber_is_pruned_and_its_backlog_counted_as_abandoned() {
    let bus: Bus<u32> = Bus::local();
    let stays = bus.subscribe("t", MailboxConfig::default()).await.unwrap();
    let leaves = bus.subscribe("t", MailboxConfig::default()).await.unwrap();
    bus.publish("t", 1).await.unwrap();
    drop(leaves);
    let f = bus.publish("t", 2).await.unwrap();
    assert_eq!(f.queued, 1);
    let f = bus.publish("t", 3).await.unwrap();
    assert_eq!(
        (f.queued, f.rejected),
        (1, 0),
        "pruned after the first miss"
    );
    let topic = &bus.snapshot().topics[0];
    assert_eq!(topic.subscribers, 1);
    assert_eq!(topic.mailboxes.abandoned, 1);
    assert!(topic.mailboxes.is_conserved());
    assert_eq!(stays.try_recv().unwrap().msg, 1);
}

#[tokio::test]
async fn closing_the_bus_ends_subscriptions_after_they_drain() {
    let bus: Bus<u32> = Bus::local();
    let sub = bus.subscribe("t", MailboxConfig::default()).await.unwrap();
    bus.publish("t", 1).await.unwrap();
    bus.close();
    assert_eq!(bus.publish("t", 2).await.unwrap_err(), BusError::Closed);
    assert_eq!(sub.recv().await.unwrap().msg, 1);
    assert!(sub.recv().await.is_none());
}
