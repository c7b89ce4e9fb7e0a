//! The in-process transport: a publish clones the message into each subscriber's mailbox.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dashmap::DashMap;

use super::snapshot::{BusSnapshot, TopicSnapshot};
use super::subscription::Subscription;
use super::transport::{Fanout, Transport};
use crate::envelope::Envelope;
use crate::error::{BusError, SendError};
use crate::mailbox::{Enqueued, Mailbox, MailboxConfig, MailboxSnapshot};
use crate::registry::{fixed_map, FixedState};

/// Fans published messages out to subscribers in this process.
#[derive(Debug)]
pub struct LocalTransport<M> {
    topics: DashMap<Arc<str>, Arc<Topic<M>>, FixedState>,
    closed: AtomicBool,
}

impl<M> Default for LocalTransport<M> {
    fn default() -> Self {
        LocalTransport {
            topics: fixed_map(),
            closed: AtomicBool::new(false),
        }
    }
}

/// A topic's subscribers' mailboxes.
type Subscribers<M> = Arc<[Arc<Mailbox<Envelope<M>>>]>;

#[derive(Debug)]
struct Topic<M> {
    name: Arc<str>,
    /// Copy-on-write, so a publish takes the list with one reference-count increment.
    subscribers: Mutex<Subscribers<M>>,
    published: AtomicU64,
    /// Counters of subscribers that have gone.
    departed: Mutex<MailboxSnapshot>,
}

impl<M> Topic<M> {
    fn list(&self) -> Subscribers<M> {
        Arc::clone(
            &self
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Drops subscribers whose mailbox is closed, keeping their final counts.
    fn prune(&self) {
        let mut list = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (gone, live): (Vec<_>, Vec<_>) = list.iter().cloned().partition(|m| m.is_closed());
        if gone.is_empty() {
            return;
        }
        *list = live.into();
        drop(list);
        let mut departed = self.departed.lock().unwrap_or_else(PoisonError::into_inner);
        for m in gone {
            departed.absorb(&m.snapshot());
        }
    }
}

impl<M: Clone + Send + 'static> LocalTransport<M> {
    fn topic(&self, name: &str) -> Arc<Topic<M>> {
        if let Some(t) = self.topics.get(name) {
            return Arc::clone(t.value());
        }
        let name: Arc<str> = Arc::from(name);
        let entry = self.topics.entry(Arc::clone(&name)).or_insert_with(|| {
            Arc::new(Topic {
                name,
                subscribers: Mutex::new(Arc::from(Vec::new())),
                published: AtomicU64::new(0),
                departed: Mutex::new(MailboxSnapshot::total([])),
            })
        });
        Arc::clone(entry.value())
    }
}

impl<M: Clone + Send + 'static> Transport<M> for LocalTransport<M> {
    async fn publish(&self, topic: &str, env: Envelope<M>) -> Result<Fanout, BusError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(BusError::Closed);
        }
        let topic = self.topic(topic);
        topic.published.fetch_add(1, Ordering::Relaxed);
        let subscribers = topic.list();
        let mut fanout = Fanout::default();
        let mut saw_closed = false;
        let Some((last, rest)) = subscribers.split_last() else {
            return Ok(fanout);
        };
        for mailbox in rest {
            let copy = Envelope {
                msg: env.msg.clone(),
                trace_id: env.trace_id,
                enqueued_at: env.enqueued_at,
            };
            saw_closed |= tally(&mut fanout, &mailbox.send(copy).await);
        }
        saw_closed |= tally(&mut fanout, &last.send(env).await);
        if saw_closed {
            topic.prune();
        }
        Ok(fanout)
    }

    async fn subscribe(
        &self,
        topic: &str,
        mailbox: MailboxConfig,
    ) -> Result<Subscription<M>, BusError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(BusError::Closed);
        }
        let mailbox = Arc::new(Mailbox::new(mailbox).map_err(BusError::InvalidMailbox)?);
        let topic = self.topic(topic);
        {
            let mut list = topic
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut grown: Vec<_> = list.iter().cloned().collect();
            grown.push(Arc::clone(&mailbox));
            *list = grown.into();
        }
        Ok(Subscription::new(Arc::clone(&topic.name), mailbox))
    }

    fn snapshot(&self) -> BusSnapshot {
        let mut topics: Vec<TopicSnapshot> = self
            .topics
            .iter()
            .map(|t| {
                let list = t.list();
                let departed = *t.departed.lock().unwrap_or_else(PoisonError::into_inner);
                let live: Vec<MailboxSnapshot> = list.iter().map(|m| m.snapshot()).collect();
                let mut mailboxes = departed;
                for s in &live {
                    mailboxes.absorb(s);
                }
                TopicSnapshot {
                    topic: t.name.to_string(),
                    published: t.published.load(Ordering::Relaxed),
                    subscribers: list.len() as u64,
                    mailboxes,
                }
            })
            .collect();
        topics.sort_by(|a, b| a.topic.cmp(&b.topic));
        BusSnapshot { topics }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for t in self.topics.iter() {
            for m in t.list().iter() {
                m.close();
            }
        }
    }
}

/// Adds one subscriber's outcome to the fanout; returns whether that subscriber is gone.
fn tally<M>(fanout: &mut Fanout, outcome: &Result<Enqueued, SendError<M>>) -> bool {
    match outcome {
        Ok(Enqueued::Queued) => fanout.queued += 1,
        Ok(Enqueued::DroppedOldest) => {
            fanout.queued += 1;
            fanout.dropped += 1;
        }
        Ok(Enqueued::DroppedNewest) => fanout.dropped += 1,
        Err(SendError::Full(_)) => fanout.rejected += 1,
        Err(SendError::Timeout(_)) => fanout.timed_out += 1,
        Err(SendError::Closed(_)) => {
            fanout.rejected += 1;
            return true;
        }
    }
    false
}
