//! The envelope a bus message travels in: payload plus the trace id and the enqueue instant that
//! give a subscriber its queue time. (An agent's mailbox holds a `Letter`, in `shared.rs`, whose
//! enqueue instant is there only for measured messages.)

use std::time::Duration;

use tokio::time::Instant;

use crate::id::TraceId;

/// A message in flight, with the metadata the runtime attaches at the send.
#[derive(Debug)]
pub struct Envelope<M> {
    /// The payload.
    pub msg: M,
    /// Where this message came from in the larger unit of work.
    pub trace_id: TraceId,
    /// When the message was offered to the mailbox (tokio's clock, so virtual under a paused clock).
    pub enqueued_at: Instant,
}

impl<M> Envelope<M> {
    /// Wraps `msg`, stamping it with `trace_id` and the current instant.
    pub fn new(msg: M, trace_id: TraceId) -> Envelope<M> {
        Envelope {
            msg,
            trace_id,
            enqueued_at: Instant::now(),
        }
    }

    /// How long the message has waited since it was enqueued.
    pub fn queue_time(&self) -> Duration {
        self.enqueued_at.elapsed()
    }
}
