//! What one consumer's process holds unsettled, in its local queue or in a handler's hands: at
//! most the consumer's bound at once (the pump asks the server for no more than the free room),
//! and kept from redelivery by progress acknowledgements while held, however slow the handler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::{Client, Subject};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The messages one consumer's process holds, at most `bound` at once.
#[derive(Debug)]
pub(crate) struct Held {
    room: Arc<Semaphore>,
    bound: usize,
    /// The reply subject of each held delivery, by token: where progress acks go.
    replies: Mutex<HashMap<u64, Subject>>,
    next_token: AtomicU64,
    count: AtomicUsize,
    peak: AtomicUsize,
}

/// How many messages a consumer's process holds unsettled (delivered, not yet acknowledged,
/// naked or dead-lettered): now, the most at once, and its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InHand {
    /// Held now.
    pub now: usize,
    /// The most held at once since the consumer started.
    pub peak: usize,
    /// The bound: the consumer's capacity (`in_flight` of a worker).
    pub bound: usize,
}

/// One held delivery; dropping it (after the settle, or unsettled) frees its room.
#[derive(Debug)]
pub(crate) struct Hold {
    held: Arc<Held>,
    token: u64,
    _room: OwnedSemaphorePermit,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.held.lock().remove(&self.token);
        self.held.count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Held {
    pub(crate) fn new(bound: usize) -> Arc<Held> {
        Arc::new(Held {
            room: Arc::new(Semaphore::new(bound)),
            bound,
            replies: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Subject>> {
        self.replies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for room for one message, then takes all the room there is: how many the next pull
    /// may ask for.
    pub(crate) async fn room(&self) -> Vec<OwnedSemaphorePermit> {
        let Ok(first) = Arc::clone(&self.room).acquire_owned().await else {
            return Vec::new();
        };
        let mut room = vec![first];
        while let Ok(more) = Arc::clone(&self.room).try_acquire_owned() {
            room.push(more);
        }
        room
    }

    /// Holds a delivered message in the room `permit` reserved for it.
    pub(crate) fn hold(
        self: &Arc<Self>,
        reply: Option<Subject>,
        permit: OwnedSemaphorePermit,
    ) -> Hold {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        if let Some(reply) = reply {
            self.lock().insert(token, reply);
        }
        let now = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        Hold {
            held: Arc::clone(self),
            token,
            _room: permit,
        }
    }

    pub(crate) fn in_hand(&self) -> InHand {
        InHand {
            now: self.count.load(Ordering::Relaxed),
            peak: self.peak.load(Ordering::Relaxed),
            bound: self.bound,
        }
    }
}

/// How often held messages are reported in progress, for a consumer whose ack wait is
/// `ack_wait`: three times per ack wait, so one lost report still leaves time for the next.
pub(crate) fn progress_interval(ack_wait: Duration) -> Duration {
    (ack_wait / 3).max(Duration::from_millis(10))
}

/// Sends a progress acknowledgement for every message `held` holds, every `every`, until the
/// consumer and all its holds are gone.
pub(crate) fn spawn_progress(client: Client, held: &Arc<Held>, every: Duration) {
    let held: Weak<Held> = Arc::downgrade(held);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(held) = held.upgrade() else { return };
            let replies: Vec<Subject> = held.lock().values().cloned().collect();
            drop(held);
            for reply in replies {
                if let Err(e) = client.publish(reply, AckKind::Progress.into()).await {
                    tracing::debug!(error = %e, "progress acknowledgement not sent");
                }
            }
        }
    });
}
