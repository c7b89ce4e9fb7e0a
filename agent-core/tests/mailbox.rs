//! Mailbox policies and conservation: a model-based property test checks every counter and the
//! exact queue contents against a reference model over random operation sequences.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use agent_core::{Capacity, Enqueued, Mailbox, MailboxConfig, OverflowPolicy, SendError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Send,
    TrySend,
    Recv,
    Close,
    Abandon,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Send),
        2 => Just(Op::TrySend),
        4 => Just(Op::Recv),
        1 => Just(Op::Close),
        1 => Just(Op::Abandon),
    ]
}

fn policy() -> impl Strategy<Value = OverflowPolicy> {
    prop_oneof![
        (1u64..50).prop_map(|ms| OverflowPolicy::Block {
            timeout: Some(Duration::from_millis(ms))
        }),
        Just(OverflowPolicy::Reject),
        Just(OverflowPolicy::DropOldest),
        Just(OverflowPolicy::DropNewest),
    ]
}

fn capacity() -> impl Strategy<Value = Capacity> {
    prop_oneof![
        4 => (1usize..8).prop_map(Capacity::Bounded),
        1 => Just(Capacity::Unbounded),
    ]
}

/// A reference model of a mailbox: what the queue and counters must be after each operation.
#[derive(Default)]
struct Model {
    queue: VecDeque<u32>,
    closed: bool,
    offered: u64,
    accepted: u64,
    rejected: u64,
    timed_out: u64,
    delivered: u64,
    dropped: u64,
    abandoned: u64,
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counters_and_contents_match_the_model(
        capacity in capacity(),
        policy in policy(),
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let config = MailboxConfig { capacity, overflow: policy };
        let limit = match capacity { Capacity::Bounded(n) => n, Capacity::Unbounded => usize::MAX };
        let rt = paused_runtime();
        rt.block_on(async {
            let mb: Mailbox<u32> = Mailbox::new(config).unwrap();
            let mut m = Model::default();
            let mut next = 0u32;
            for op in &ops {
                match op {
                    Op::Send | Op::TrySend => {
                        next += 1;
                        m.offered += 1;
                        let got = if matches!(op, Op::Send) { mb.send(next).await } else { mb.try_send(next) };
                        let full = m.queue.len() >= limit;
                        if m.closed {
                            prop_assert_eq!(got, Err(SendError::Closed(next)));
                            m.rejected += 1;
                        } else if !full {
                            prop_assert_eq!(got, Ok(Enqueued::Queued));
                            m.accepted += 1;
                            m.queue.push_back(next);
                        } else {
                            match (policy, op) {
                                (OverflowPolicy::Block { .. }, Op::Send) => {
                                    // Nobody receives concurrently, so the send waits out its timeout.
                                    prop_assert_eq!(got, Err(SendError::Timeout(next)));
                                    m.timed_out += 1;
                                }
                                (OverflowPolicy::Block { .. }, _) | (OverflowPolicy::Reject, _) => {
                                    prop_assert_eq!(got, Err(SendError::Full(next)));
                                    m.rejected += 1;
                                }
                                (OverflowPolicy::DropOldest, _) => {
                                    prop_assert_eq!(got, Ok(Enqueued::DroppedOldest));
                                    m.queue.pop_front();
                                    m.queue.push_back(next);
                                    m.accepted += 1;
                                    m.dropped += 1;
                                }
                                (OverflowPolicy::DropNewest, _) => {
                                    prop_assert_eq!(got, Ok(Enqueued::DroppedNewest));
                                    m.accepted += 1;
                                    m.dropped += 1;
                                }
                            }
                        }
                    }
                    Op::Recv => {
                        let want = m.queue.pop_front();
                        if want.is_some() { m.delivered += 1; }
                        prop_assert_eq!(mb.try_recv(), want);
                    }
                    Op::Close => {
                        mb.close();
                        m.closed = true;
                    }
                    Op::Abandon => {
                        let gone = mb.abandon();
                        prop_assert_eq!(gone, m.queue.drain(..).collect::<Vec<_>>());
                        m.abandoned = m.accepted - m.delivered - m.dropped;
                        m.closed = true;
                    }
                }
                let s = mb.snapshot();
                prop_assert!(s.is_conserved(), "not conserved: {s:?}");
                prop_assert_eq!(
                    (s.offered, s.accepted, s.rejected, s.timed_out, s.delivered, s.dropped, s.abandoned, s.pending),
                    (m.offered, m.accepted, m.rejected, m.timed_out, m.delivered, m.dropped, m.abandoned, m.queue.len() as u64)
                );
            }
            // After a close, the receiver drains exactly the model's queue and then sees the end.
            mb.close();
            for want in m.queue.drain(..) {
                prop_assert_eq!(mb.recv().await, Some(want));
            }
            prop_assert_eq!(mb.recv().await, None);
            prop_assert!(mb.snapshot().is_conserved());
            Ok(())
        })?;
    }

    /// Concurrent blocked senders and a slow receiver: nothing is lost, everything is counted.
    #[test]
    fn concurrent_blocking_senders_conserve(
        capacity in 1usize..6,
        senders in 1usize..6,
        per_sender in 1u32..40,
        timeout_ms in prop::option::of(1u64..20),
    ) {
        let rt = paused_runtime();
        rt.block_on(async {
            let policy = OverflowPolicy::Block { timeout: timeout_ms.map(Duration::from_millis) };
            let mb = Arc::new(Mailbox::new(MailboxConfig::bounded(capacity, policy)).unwrap());
            let mut tasks = Vec::new();
            for s in 0..senders {
                let mb = Arc::clone(&mb);
                tasks.push(tokio::spawn(async move {
                    let mut ok = 0u64;
                    for i in 0..per_sender {
                        if mb.send((s, i)).await.is_ok() { ok += 1; }
                    }
                    ok
                }));
            }
            let rx = {
                let mb = Arc::clone(&mb);
                tokio::spawn(async move {
                    let mut got = 0u64;
                    while let Some(_item) = mb.recv().await {
                        got += 1;
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    got
                })
            };
            let mut sent = 0;
            for t in tasks { sent += t.await.unwrap(); }
            mb.close();
            let received = rx.await.unwrap();
            let s = mb.snapshot();
            prop_assert!(s.is_conserved(), "{s:?}");
            prop_assert_eq!(received, sent);
            prop_assert_eq!(s.delivered, sent);
            prop_assert_eq!(s.offered, senders as u64 * u64::from(per_sender));
            prop_assert_eq!(s.accepted + s.timed_out, s.offered);
            if timeout_ms.is_none() { prop_assert_eq!(s.timed_out, 0); }
            prop_assert!(s.max_depth <= capacity as u64);
            Ok(())
        })?;
    }
}

#[tokio::test(start_paused = true)]
async fn block_with_timeout_waits_exactly_the_timeout() {
    let mb = Mailbox::new(MailboxConfig::bounded(
        1,
        OverflowPolicy::Block {
            timeout: Some(Duration::from_millis(250)),
        },
    ))
    .unwrap();
    mb.send(1).await.unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(mb.send(2).await, Err(SendError::Timeout(2)));
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn blocked_sender_proceeds_when_room_frees() {
    let mb = Arc::new(Mailbox::new(MailboxConfig::bounded(1, OverflowPolicy::default())).unwrap());
    mb.send(1).await.unwrap();
    let sender = {
        let mb = Arc::clone(&mb);
        tokio::spawn(async move { mb.send(2).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mb.recv().await, Some(1));
    assert_eq!(sender.await.unwrap(), Ok(Enqueued::Queued));
    assert_eq!(mb.recv().await, Some(2));
    let s = mb.snapshot();
    assert_eq!(s.blocked_sends, 1);
    assert!(s.is_conserved());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_blocked_send_counts_as_timed_out() {
    let mb = Mailbox::new(MailboxConfig::bounded(1, OverflowPolicy::default())).unwrap();
    mb.send(1).await.unwrap();
    let res = tokio::time::timeout(Duration::from_millis(10), mb.send(2)).await;
    assert!(res.is_err());
    let s = mb.snapshot();
    assert_eq!((s.offered, s.accepted, s.timed_out), (2, 1, 1));
    assert!(s.is_conserved());
    // The cancelled waiter is unregistered: a receive does not leave a stale wake-up behind.
    assert_eq!(mb.recv().await, Some(1));
}

#[tokio::test]
async fn closing_wakes_a_blocked_sender_with_its_message() {
    let mb = Arc::new(Mailbox::new(MailboxConfig::bounded(1, OverflowPolicy::default())).unwrap());
    mb.send(1).await.unwrap();
    let sender = {
        let mb = Arc::clone(&mb);
        tokio::spawn(async move { mb.send(2).await })
    };
    tokio::task::yield_now().await;
    mb.close();
    assert_eq!(sender.await.unwrap(), Err(SendError::Closed(2)));
}

#[test]
fn zero_capacity_is_refused() {
    assert!(Mailbox::<u8>::new(MailboxConfig::bounded(0, OverflowPolicy::Reject)).is_err());
}

/// Real threads, a tiny capacity and blocking senders: a lost wake-up between a sender that
/// finds the mailbox full and the receiver that frees room would hang this test.
#[test]
fn blocking_senders_on_real_threads_never_miss_a_wake_up() {
    for capacity in [1, 2, 7] {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            const SENDERS: u32 = 4;
            const PER_SENDER: u32 = 20_000;
            let mb = Arc::new(
                Mailbox::new(MailboxConfig::bounded(capacity, OverflowPolicy::default())).unwrap(),
            );
            let senders: Vec<_> = (0..SENDERS)
                .map(|s| {
                    let mb = Arc::clone(&mb);
                    tokio::spawn(async move {
                        for i in 0..PER_SENDER {
                            mb.send((s, i)).await.unwrap();
                        }
                    })
                })
                .collect();
            let rx = {
                let mb = Arc::clone(&mb);
                tokio::spawn(async move {
                    let mut next = [0u32; SENDERS as usize];
                    while let Some((s, i)) = mb.recv().await {
                        assert_eq!(i, next[s as usize], "FIFO per sender");
                        next[s as usize] += 1;
                    }
                    next
                })
            };
            for s in senders {
                s.await.unwrap();
            }
            mb.close();
            assert_eq!(rx.await.unwrap(), [PER_SENDER; SENDERS as usize]);
            let snap = mb.snapshot();
            assert!(snap.is_conserved(), "{snap:?}");
            assert!(snap.max_depth <= capacity as u64, "{snap:?}");
        });
    }
}
