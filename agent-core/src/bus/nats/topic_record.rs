//! What the transport keeps per topic: its publish count and its local subscribers.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::envelope::Envelope;
use crate::mailbox::Mailbox;

/// A local subscription's bookkeeping, for [`Transport::snapshot`] and
/// [`NatsTransport::snapshot_all`].
#[derive(Debug)]
pub(super) struct Subscriber<M> {
    pub(super) consumer: String,
    pub(super) mailbox: Arc<Mailbox<Envelope<M>>>,
}

#[derive(Debug)]
pub(super) struct TopicRecord<M> {
    pub(super) published: AtomicU64,
    pub(super) subscribers: Mutex<Vec<Subscriber<M>>>,
}

impl<M> Default for TopicRecord<M> {
    fn default() -> Self {
        TopicRecord {
            published: AtomicU64::new(0),
            subscribers: Mutex::new(Vec::new()),
        }
    }
}
