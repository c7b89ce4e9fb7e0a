//! A model of `tokio::sync::Notify` built from loom's mutex, for the loom build only (see the
//! module above). It keeps the semantics the mailbox relies on:
//!
//! - `notify_one` wakes the oldest registered waiter that is not yet notified, or stores one
//!   permit when there is none, which the next `Notified` consumes at once;
//! - `notify_waiters` wakes every registered waiter, and every `Notified` created before the call
//!   even if it never registered, and stores no permit;
//! - a `Notified` registers when enabled or first polled; dropped after a `notify_one` chose it
//!   but before it completed, it hands the notification on (tokio does the same).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::sync::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Notify {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    permit: bool,
    /// How many times `notify_waiters` has run.
    epoch: u64,
    next_id: u64,
    /// Registered waiters, oldest first.
    waiters: Vec<Waiter>,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    waker: Option<Waker>,
    notified: Option<Kind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    One,
    All,
}

impl Notify {
    pub(crate) fn new() -> Notify {
        Notify::default()
    }

    pub(crate) fn notified(&self) -> Notified<'_> {
        let epoch = self.lock().epoch;
        Notified {
            notify: self,
            epoch,
            id: None,
            done: false,
        }
    }

    pub(crate) fn notify_one(&self) {
        let mut st = self.lock();
        notify_one_locked(&mut st);
    }

    pub(crate) fn notify_waiters(&self) {
        let mut st = self.lock();
        st.epoch += 1;
        for w in st.waiters.iter_mut().filter(|w| w.notified.is_none()) {
            w.notified = Some(Kind::All);
            if let Some(waker) = w.waker.take() {
                waker.wake();
            }
        }
    }

    fn lock(&self) -> loom::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the model's lock is never poisoned")
    }
}

fn notify_one_locked(st: &mut State) {
    match st.waiters.iter_mut().find(|w| w.notified.is_none()) {
        Some(w) => {
            w.notified = Some(Kind::One);
            if let Some(waker) = w.waker.take() {
                waker.wake();
            }
        }
        None => st.permit = true,
    }
}

/// The future of [`Notify::notified`].
#[derive(Debug)]
pub(crate) struct Notified<'a> {
    notify: &'a Notify,
    epoch: u64,
    id: Option<u64>,
    done: bool,
}

impl Notified<'_> {
    /// Registers without a waker, so that notifications from now on are not missed; returns
    /// whether it has already been notified.
    pub(crate) fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_with(None).is_ready()
    }

    fn poll_with(&mut self, waker: Option<&Waker>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let mut st = self.notify.lock();
        match self.id {
            Some(id) => {
                let at = st
                    .waiters
                    .iter()
                    .position(|w| w.id == id)
                    .expect("a registered waiter stays listed until it completes or drops");
                if st.waiters[at].notified.is_some() {
                    st.waiters.remove(at);
                    self.id = None;
                    self.done = true;
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    st.waiters[at].waker = Some(waker.clone());
                }
                Poll::Pending
            }
            None => {
                if st.epoch != self.epoch || std::mem::take(&mut st.permit) {
                    self.done = true;
                    return Poll::Ready(());
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push(Waiter {
                    id,
                    waker: waker.cloned(),
                    notified: None,
                });
                self.id = Some(id);
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_with(Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let mut st = self.notify.lock();
        if let Some(at) = st.waiters.iter().position(|w| w.id == id) {
            let waiter = st.waiters.remove(at);
            if waiter.notified == Some(Kind::One) {
                notify_one_locked(&mut st);
            }
        }
    }
}
