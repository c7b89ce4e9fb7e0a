//! The mailbox under the loom model checker: every interleaving (up to loom's preemption bound)
//! of senders, the single receiver, blocked senders, close, abandon and drop-oldest eviction.
//!
//! Built only with the loom cfg, which swaps the mailbox's mutex, atomics and `Notify` for loom's
//! (`src/sync/`). `.ci/run` runs it:
//!
//! ```text
//! RUSTFLAGS="--cfg agent_core_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release -p agent-core --test loom
//! ```
//!
//! What each model proves, in every explored interleaving: no message is lost or delivered twice
//! (the receiver sees exactly the accepted, undropped messages); each sender's messages arrive in
//! the order sent; the conservation laws hold in the final snapshot; and no wake-up is lost (a
//! receiver or blocked sender that is never woken leaves its loom thread parked, which loom
//! reports as a deadlock).

#![cfg(agent_core_loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use agent_core::{Enqueued, Mailbox, MailboxConfig, OverflowPolicy, SendError};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

/// Runs `f` under loom with a preemption bound (2 unless `LOOM_MAX_PREEMPTIONS` says otherwise),
/// which keeps each model to seconds while covering the interleavings that matter: published
/// races need one or two preemptions.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

fn blocking(capacity: usize) -> Mailbox<u32> {
    Mailbox::new(MailboxConfig::bounded(
        capacity,
        OverflowPolicy::Block { timeout: None },
    ))
    .expect("valid config")
}

/// Receives until the mailbox is closed and empty.
fn drain(mailbox: &Mailbox<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    while let Some(v) = block_on(mailbox.recv()) {
        got.push(v);
    }
    got
}

/// `items` in the order they appear in `got` are exactly `expected`, in that order.
fn in_order(got: &[u32], sender: impl Fn(u32) -> bool) -> Vec<u32> {
    got.iter().copied().filter(|v| sender(*v)).collect()
}

/// Two senders block on a mailbox of one while the receiver takes: every message arrives once,
/// the first sender's in order, and no blocked sender is left asleep. (Two messages each makes
/// the model run for minutes; two and one cover the same hand-offs.)
#[test]
fn two_blocked_senders_and_the_receiver() {
    model(|| {
        let mailbox = Arc::new(blocking(1));
        let senders: Vec<_> = [(0u32, 2u32), (10, 1)]
            .into_iter()
            .map(|(base, count)| {
                let mailbox = Arc::clone(&mailbox);
                thread::spawn(move || {
                    for v in base..base + count {
                        let sent = block_on(mailbox.send(v));
                        assert_eq!(sent.ok(), Some(Enqueued::Queued));
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(block_on(mailbox.recv()).expect("three messages are sent"));
        }
        for s in senders {
            s.join().expect("sender");
        }
        assert_eq!(in_order(&got, |v| v < 10), vec![0, 1]);
        assert_eq!(in_order(&got, |v| v >= 10), vec![10]);
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert_eq!((snap.delivered, snap.pending), (3, 0));
    });
}

/// A batch in the receiver's hand still counts toward the capacity: with a mailbox of two, a
/// sender blocks while the receiver holds a batch, and is woken as the batch drains.
#[test]
fn blocked_sender_woken_while_the_receiver_drains_its_batch() {
    model(|| {
        let mailbox = Arc::new(blocking(2));
        let sender = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || {
                for v in 0..4 {
                    block_on(mailbox.send(v)).expect("queued");
                }
                mailbox.close();
            })
        };
        let got = drain(&mailbox);
        sender.join().expect("sender");
        assert_eq!(got, vec![0, 1, 2, 3]);
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert!(snap.max_depth <= 2, "{snap:?}");
    });
}

/// The store-buffering window: the receiver publishes its smaller hand (`hand_len`, relaxed)
/// and reads `blocked` (relaxed) without the state lock, while a sender registers in `blocked`
/// and reads `hand_len` under it. Both may read the other's old value: the sender sleeps though
/// there is room, and the receiver does not wake it. Only the wake at the receiver's next refill
/// (under the state lock, where the registration is visible) saves it: here the receiver takes
/// exactly three messages and nobody closes the mailbox, so a sender left asleep is a deadlock
/// (remove that wake and loom reports one).
#[test]
fn a_sender_that_misses_the_relaxed_wake_is_woken_at_the_next_refill() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(3));
    builder.check(|| {
        let mailbox = Arc::new(blocking(2));
        block_on(mailbox.send(1)).expect("room");
        block_on(mailbox.send(2)).expect("room");
        let sender = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || {
                block_on(mailbox.send(3)).expect("queued");
                block_on(mailbox.send(4)).expect("queued");
            })
        };
        let got: Vec<u32> = (0..4).map(|_| block_on(mailbox.recv()).unwrap()).collect();
        sender.join().expect("sender");
        assert_eq!(got, vec![1, 2, 3, 4]);
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
    });
}

/// Close races a blocked sender: the send either got in (and is delivered) or is refused as
/// closed; the blocked sender is woken either way, and the counts add up.
#[test]
fn close_wakes_a_blocked_sender() {
    model(|| {
        let mailbox = Arc::new(blocking(1));
        block_on(mailbox.send(0)).expect("room for one");
        let sender = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || block_on(mailbox.send(1)))
        };
        let closer = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || mailbox.close())
        };
        let got = drain(&mailbox);
        let second = sender.join().expect("sender");
        closer.join().expect("closer");
        match second {
            Ok(Enqueued::Queued) => assert_eq!(got, vec![0, 1]),
            Err(SendError::Closed(1)) => assert_eq!(got, vec![0]),
            other => panic!("unexpected send outcome {other:?}"),
        }
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert_eq!(snap.pending, 0);
    });
}

/// Abandon races a sender and the receiver: every accepted message is either delivered or
/// abandoned, exactly once.
#[test]
fn abandon_races_send_and_receive() {
    model(|| {
        let mailbox = Arc::new(blocking(2));
        let sender = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || {
                let mut accepted = 0;
                for v in 0..2 {
                    if block_on(mailbox.send(v)).is_ok() {
                        accepted += 1;
                    }
                }
                accepted
            })
        };
        let abandoner = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || mailbox.abandon())
        };
        let got = drain(&mailbox);
        let accepted = sender.join().expect("sender");
        let abandoned = abandoner.join().expect("abandoner");
        let mut all: Vec<u32> = got.iter().chain(abandoned.iter()).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..accepted).collect::<Vec<_>>());
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert_eq!(snap.abandoned, abandoned.len() as u64);
        assert_eq!(snap.delivered, got.len() as u64);
    });
}

/// Drop-oldest with a mailbox of one, a sender racing the receiver: every message is delivered
/// or dropped exactly once, delivered ones in order, and the last one is never the one dropped.
#[test]
fn drop_oldest_evicts_only_undelivered_messages() {
    model(|| {
        let mailbox: Arc<Mailbox<u32>> = Arc::new(
            Mailbox::new(MailboxConfig::bounded(1, OverflowPolicy::DropOldest))
                .expect("valid config"),
        );
        let sender = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || {
                let outcomes: Vec<Enqueued> = (0..3)
                    .map(|v| block_on(mailbox.send(v)).expect("never refused"))
                    .collect();
                mailbox.close();
                outcomes
            })
        };
        let got = drain(&mailbox);
        let outcomes = sender.join().expect("sender");
        let evictions = outcomes
            .iter()
            .filter(|o| **o == Enqueued::DroppedOldest)
            .count();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        assert_eq!(got.last(), Some(&2), "the newest message survives");
        assert_eq!(got.len() + evictions, 3);
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert_eq!(snap.dropped, evictions as u64);
    });
}

/// A blocked send cancelled (its future dropped) while the receiver frees room: it counts as
/// timed out, never as accepted, and leaves no registration behind, so a later blocked sender is
/// still woken.
#[test]
fn cancelled_blocked_send_is_counted_and_unregistered() {
    model(|| {
        let mailbox = Arc::new(blocking(1));
        block_on(mailbox.send(0)).expect("room for one");
        let canceller = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || {
                let mut send = pin!(mailbox.send(1));
                let mut cx = Context::from_waker(Waker::noop());
                // One poll: it either finds room at once or blocks; then it is dropped.
                matches!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(_)))
            })
        };
        assert_eq!(block_on(mailbox.recv()), Some(0));
        let second_got_in = canceller.join().expect("canceller");
        // A later sender blocks and must still be woken by the receiver.
        let late = {
            let mailbox = Arc::clone(&mailbox);
            thread::spawn(move || block_on(mailbox.send(2)).expect("queued"))
        };
        if second_got_in {
            assert_eq!(block_on(mailbox.recv()), Some(1));
        }
        assert_eq!(block_on(mailbox.recv()), Some(2));
        late.join().expect("late sender");
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{snap:?}");
        assert_eq!(snap.timed_out, u64::from(!second_got_in));
        assert_eq!(snap.pending, 0);
    });
}
