//! A bus's counters, per topic.

use serde::{Deserialize, Serialize};

use crate::mailbox::MailboxSnapshot;

/// Counters of one topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSnapshot {
    /// The topic.
    pub topic: String,
    /// Messages published on it.
    pub published: u64,
    /// Subscribers now.
    pub subscribers: u64,
    /// Mailbox counters summed over its subscribers, current and departed.
    pub mailboxes: MailboxSnapshot,
}

/// Counters of a whole bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusSnapshot {
    /// Per topic, sorted by name.
    pub topics: Vec<TopicSnapshot>,
}
