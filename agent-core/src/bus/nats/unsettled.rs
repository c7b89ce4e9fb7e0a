//! The settle step of a plain bus subscription over NATS: each message its mailbox holds is
//! remembered here in the same order, and acknowledged when the subscriber, having taken it,
//! comes back for the next ([`Settle`]). What is queued or in hand when the process dies is
//! never acknowledged, so the server delivers it again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream;

use super::held::Hold;
use super::settler::Settler;
use crate::bus::Settle;

/// A message a subscription holds unacknowledged.
#[derive(Debug)]
pub(crate) struct Unsettling {
    pub(crate) raw: jetstream::Message,
    pub(crate) id: String,
    pub(crate) hold: Hold,
}

#[derive(Debug, Default)]
struct Order {
    /// In the mailbox, oldest first.
    queued: VecDeque<Unsettling>,
    /// Taken by the subscriber, not yet known handled.
    in_hand: Option<Unsettling>,
}

/// One subscription's unacknowledged messages, in its mailbox's order.
#[derive(Debug)]
pub(crate) struct Unsettled {
    order: Mutex<Order>,
    settler: Arc<Settler>,
    runtime: tokio::runtime::Handle,
}

impl Unsettled {
    /// For a subscription created on the current tokio runtime (where acknowledgements are sent).
    pub(crate) fn new(settler: Arc<Settler>) -> Arc<Unsettled> {
        Arc::new(Unsettled {
            order: Mutex::new(Order::default()),
            settler,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Order> {
        self.order.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A message about to enter the mailbox (before it does, so the subscriber always finds it).
    pub(crate) fn queue(&self, u: Unsettling) {
        self.lock().queued.push_back(u);
    }

    /// The message queued last, which the mailbox did not keep.
    pub(crate) fn unqueue_newest(&self) -> Option<Unsettling> {
        self.lock().queued.pop_back()
    }
}

impl Settle for Unsettled {
    fn handled(&self) {
        let Some(done) = self.lock().in_hand.take() else {
            return;
        };
        let settler = Arc::clone(&self.settler);
        self.runtime.spawn(async move {
            if let Err(e) = settler.ack(&done.raw, &done.id).await {
                // The server delivers it again after the ack wait: at least once.
                tracing::warn!(error = %e, "could not acknowledge a handled message");
            }
            drop(done.hold);
        });
    }

    fn took(&self) {
        let mut order = self.lock();
        order.in_hand = order.queued.pop_front();
    }
}
