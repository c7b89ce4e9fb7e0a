//! Sharp edges found in review, one test each: every one of them failed before its fix (the
//! commits are named in the fix's message).

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use agent_core::{
    Agent, AgentConfig, AgentRuntime, AskError, Context, Enqueued, HandlerError, Mailbox,
    MailboxConfig, OverflowPolicy, ShutdownConfig,
};
use common::Summer;

/// Runs `f` on a thread of its own and fails if it has not returned within `limit` (a deadlock
/// or a hang fails the test instead of hanging the run).
fn within(limit: Duration, what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what}: still running after {limit:?} (deadlocked or hung)"),
    }
}

// --- Deadlines saturate, as tokio's `timeout` does -------------------------------------------

#[tokio::test(start_paused = true)]
async fn an_ask_with_the_longest_timeout_is_answered() {
    let rt = AgentRuntime::default();
    let sum = rt.spawn(AgentConfig::default(), Summer::default).unwrap();
    assert_eq!(sum.ask(5, Duration::MAX).await.unwrap(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_block_policy_with_the_longest_timeout_waits_for_room() {
    let mailbox = Arc::new(
        Mailbox::new(MailboxConfig::bounded(
            1,
            OverflowPolicy::Block {
                timeout: Some(Duration::MAX),
            },
        ))
        .unwrap(),
    );
    mailbox.send(1u32).await.unwrap();
    let m = Arc::clone(&mailbox);
    let second = tokio::spawn(async move { m.send(2u32).await });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(mailbox.recv().await, Some(1));
    assert!(matches!(second.await.unwrap(), Ok(Enqueued::Queued)));
    assert_eq!(mailbox.recv().await, Some(2));
}

// --- A dropped message's `Drop` runs outside the mailbox lock ---------------------------------

/// A message whose `Drop` sends to the mailbox it was in, or panics.
struct Boomerang {
    back: Option<Arc<Mailbox<Boomerang>>>,
    panic: bool,
}

impl std::fmt::Debug for Boomerang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boomerang")
            .field("panic", &self.panic)
            .finish()
    }
}

impl Drop for Boomerang {
    fn drop(&mut self) {
        if let Some(mailbox) = self.back.take() {
            let _ = mailbox.try_send(Boomerang {
                back: None,
                panic: false,
            });
        }
        if self.panic && !std::thread::panicking() {
            panic!("a message's Drop panicked");
        }
    }
}

fn plain() -> Boomerang {
    Boomerang {
        back: None,
        panic: false,
    }
}

#[test]
fn a_dropped_message_may_send_to_its_own_mailbox() {
    for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
        within(Duration::from_secs(10), &format!("{policy:?}"), move || {
            let mailbox = Arc::new(Mailbox::new(MailboxConfig::bounded(1, policy)).unwrap());
            let dropped = Boomerang {
                back: Some(Arc::clone(&mailbox)),
                panic: false,
            };
            let (first, second) = match policy {
                OverflowPolicy::DropOldest => (dropped, plain()),
                _ => (plain(), dropped),
            };
            mailbox.try_send(first).unwrap();
            // Full: the policy drops one of the two, whose Drop sends (and is refused or drops).
            mailbox.try_send(second).unwrap();
            let snap = mailbox.snapshot();
            assert!(snap.is_conserved(), "{policy:?}: {snap:?}");
            assert_eq!(snap.offered, 3, "{policy:?}: {snap:?}");
        });
    }
}

#[test]
fn a_panicking_drop_leaves_the_mailbox_conserved_and_usable() {
    for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
        let mailbox = Mailbox::new(MailboxConfig::bounded(1, policy)).unwrap();
        let bomb = Boomerang {
            back: None,
            panic: true,
        };
        let (first, second) = match policy {
            OverflowPolicy::DropOldest => (bomb, plain()),
            _ => (plain(), bomb),
        };
        mailbox.try_send(first).unwrap();
        let sent = std::panic::catch_unwind(AssertUnwindSafe(|| mailbox.try_send(second)));
        assert!(
            sent.is_err(),
            "{policy:?}: the Drop's panic reaches the sender"
        );
        let snap = mailbox.snapshot();
        assert!(snap.is_conserved(), "{policy:?}: {snap:?}");
        assert_eq!((snap.offered, snap.dropped), (2, 1), "{policy:?}: {snap:?}");
        // The kept message is there and the mailbox still works.
        assert!(mailbox.try_recv().is_some(), "{policy:?}");
        mailbox.try_send(plain()).unwrap();
        assert!(mailbox.try_recv().is_some(), "{policy:?}");
    }
}

// --- An ask's deadline does not depend on another runtime being driven -------------------------

/// Answers after a short real pause; or never, for `u64::MAX`.
struct Slow;

impl Agent for Slow {
    type Msg = u64;
    type Reply = u64;

    async fn handle(&mut self, msg: u64, _: &mut Context<Self>) -> Result<u64, HandlerError> {
        if msg == u64::MAX {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(msg)
    }
}

#[test]
fn an_ask_times_out_while_the_runtime_of_the_first_ask_is_idle() {
    within(Duration::from_secs(20), "the second ask", || {
        let agents = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let rt = AgentRuntime::default();
        let slow = {
            let _in = agents.enter();
            rt.spawn(AgentConfig::default(), || Slow).unwrap()
        };
        // The first ask that waits is made on a current-thread runtime, which is then left alive
        // but idle (nothing drives it once `block_on` returns).
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(
            first.block_on(slow.ask(7, Duration::from_secs(5))).unwrap(),
            7
        );
        let outcome = agents.block_on(slow.ask(u64::MAX, Duration::from_millis(100)));
        assert!(matches!(outcome, Err(AskError::Timeout(_))), "{outcome:?}");
        drop(first);
    });
}

// --- Shutdown's report never underflows -------------------------------------------------------

/// Its stop hook blocks its thread past the shutdown's grace period, then ends normally: the
/// abort requested meanwhile finds the task running and does not take effect.
struct StubbornStop(Arc<AtomicBool>);

impl Agent for StubbornStop {
    type Msg = ();
    type Reply = ();

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), HandlerError> {
        Ok(())
    }

    async fn on_stop(&mut self, _: &mut Context<Self>) {
        self.0.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(400));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_that_comes_too_late_is_not_counted_as_one() {
    let rt = AgentRuntime::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stopping);
    let agent = rt
        .spawn(AgentConfig::default(), move || StubbornStop(Arc::clone(&s)))
        .unwrap();
    agent.tell(()).await.unwrap();
    let report = rt
        .shutdown(ShutdownConfig {
            drain_deadline: Duration::from_millis(20),
            grace: Duration::from_millis(50),
        })
        .await;
    assert!(stopping.load(Ordering::SeqCst));
    assert_eq!(report.agents, 1, "{report:?}");
    assert_eq!(
        report.stopped + report.failed + report.aborted,
        1,
        "{report:?}"
    );
    assert_eq!(report.aborted, 0, "the task ended by itself: {report:?}");
}
