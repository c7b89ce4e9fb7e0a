//! Slow handlers against a real `nats-server`: a handler that takes three times the ack wait
//! keeps its message (progress acknowledgements while it is queued locally and while it is
//! handled), so no message is handled twice and none is dead-lettered; and a worker never holds
//! more than its `in_flight`, measured by the transport and by the handlers themselves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsTransport};
use agent_core::{Bus, MailboxConfig, OverflowPolicy, TraceId};
use nats_testkit::NatsServer;
use tokio::time::timeout;

const ACK_WAIT: Duration = Duration::from_millis(300);
const HANDLING: Duration = Duration::from_millis(900);
const IN_FLIGHT: usize = 2;
const JOBS: u64 = 8;

fn config(server: &NatsServer) -> NatsConfig {
    NatsConfig {
        ack_wait: ACK_WAIT,
        max_deliver: 2,
        ..NatsConfig::new(server.url())
    }
}

/// The application's idempotency check: how many times each message id was handled.
type Handled = Arc<Mutex<HashMap<String, u32>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_three_times_the_ack_wait_run_once_each_within_the_bound() {
    assert_eq!(HANDLING, ACK_WAIT * 3);
    let server = NatsServer::start().unwrap();
    let submitter = NatsTransport::<u64>::connect(config(&server))
        .await
        .unwrap();
    let queue = submitter.work_queue("slow").await.unwrap();
    let handled: Handled = Arc::default();
    let mut workers = Vec::new();
    // Two workers, each its own connection (as two processes would be), each handling up to
    // `IN_FLIGHT` jobs at once; more jobs than they can hold, so some wait in the stream.
    for _ in 0..2 {
        let nats = NatsTransport::<u64>::connect(config(&server))
            .await
            .unwrap();
        let jobs = nats
            .work_queue("slow")
            .await
            .unwrap()
            .join(IN_FLIGHT)
            .await
            .unwrap();
        let handled = Arc::clone(&handled);
        workers.push(tokio::spawn(async move {
            let busy = Arc::new(AtomicUsize::new(0));
            let most_busy = Arc::new(AtomicUsize::new(0));
            let mut handlers = Vec::new();
            loop {
                let job = match timeout(Duration::from_millis(50), jobs.recv()).await {
                    Ok(Some(job)) => job,
                    Ok(None) => break,
                    Err(_) if handled.lock().unwrap().len() as u64 == JOBS => break,
                    Err(_) => continue,
                };
                let (handled, busy, most_busy) = (
                    Arc::clone(&handled),
                    Arc::clone(&busy),
                    Arc::clone(&most_busy),
                );
                handlers.push(tokio::spawn(async move {
                    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most_busy.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(HANDLING).await;
                    *handled
                        .lock()
                        .unwrap()
                        .entry(job.message_id().to_owned())
                        .or_default() += 1;
                    busy.fetch_sub(1, Ordering::SeqCst);
                    job.ack().await.unwrap();
                }));
            }
            for h in handlers {
                h.await.unwrap();
            }
            (jobs.in_hand(), most_busy.load(Ordering::SeqCst), nats)
        }));
    }
    for n in 0..JOBS {
        queue
            .submit(&format!("job-{n}"), &n, TraceId(n))
            .await
            .unwrap();
    }
    let mut redelivered = 0;
    let mut dead = 0;
    for w in workers {
        let (in_hand, most_busy, nats) = timeout(Duration::from_secs(30), w)
            .await
            .expect("the workers finish")
            .unwrap();
        assert!(
            in_hand.peak <= IN_FLIGHT && most_busy <= IN_FLIGHT,
            "a worker held {} deliveries ({most_busy} in handlers) with in_flight {IN_FLIGHT}",
            in_hand.peak
        );
        redelivered += nats.counters().redelivered;
        dead += nats.dead_letters().await.unwrap();
    }
    let handled = handled.lock().unwrap().clone();
    let twice: Vec<_> = handled.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert_eq!(handled.len() as u64, JOBS, "{handled:?}");
    assert_eq!((redelivered, dead), (0, 0), "redelivered, dead-lettered");
    let backlog = queue.until_empty(Duration::from_secs(20)).await.unwrap();
    assert_eq!((backlog.waiting, backlog.in_progress), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_bus_subscriber_keeps_its_messages_and_holds_no_more_than_its_mailbox() {
    let server = NatsServer::start().unwrap();
    let bus = Bus::with_transport(
        NatsTransport::<u64>::connect(config(&server))
            .await
            .unwrap(),
    );
    let capacity = 2;
    let sub = bus
        .subscribe_durable(
            "slow",
            "auditor",
            MailboxConfig::bounded(capacity, OverflowPolicy::Reject),
        )
        .await
        .unwrap();
    for n in 0..3u64 {
        bus.publish("slow", n).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let env = timeout(HANDLING * 4, sub.recv()).await.unwrap().unwrap();
        got.push(env.msg);
        // Handling takes three ack waits; the message behind it waits in the mailbox as long.
        tokio::time::sleep(HANDLING).await;
        assert!(sub.snapshot().pending <= capacity as u64);
    }
    assert_eq!(got, vec![0, 1, 2], "each once, in order");
    let c = bus.transport().counters();
    assert_eq!((c.redelivered, c.naked), (0, 0), "{c:?}");
    assert!(sub.snapshot().rejected == 0, "the mailbox never overflowed");
}
