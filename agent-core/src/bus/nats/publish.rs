//! Publishing: every message carries an id; a publish whose acknowledgement is lost or late is
//! sent again with the same id, so the stream stores it once.

use std::future::IntoFuture;

use async_nats::jetstream::message::PublishMessage;
use async_nats::HeaderMap;
use bytes::Bytes;
use serde::Serialize;

use super::accounting::bump;
use super::{NatsError, Shared};
use crate::id::TraceId;

/// The W3C Trace Context header carrying the publisher's trace id, so a message published in
/// one process and handled in another stays in one trace (any tracer reading `traceparent`
/// sees it too).
pub(crate) const TRACEPARENT: &str = "traceparent";

/// The header earlier versions carried the trace id in (decimal); still read.
pub(crate) const LEGACY_TRACE_HEADER: &str = "Agent-Trace-Id";

/// What the stream said of a publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The stream's sequence number for the message.
    pub sequence: u64,
    /// The stream already held a message with this id (an earlier attempt or an earlier
    /// process's); it kept the first and dropped this one.
    pub duplicate: bool,
}

/// A message ready to publish: its JSON body and headers.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub(crate) headers: HeaderMap,
    pub(crate) payload: Bytes,
}

/// Encodes `msg` as JSON with the trace id as a header (the stream stamps the time itself).
pub(crate) fn encode<M: Serialize>(
    subject: &str,
    msg: &M,
    trace_id: TraceId,
) -> Result<Encoded, NatsError> {
    let payload = serde_json::to_vec(msg).map_err(|e| NatsError::Encode {
        subject: subject.to_owned(),
        reason: e.to_string(),
    })?;
    let mut headers = HeaderMap::new();
    // The parent-id is this publish's own (agent-core keeps no span ids): a fresh id. Trace id
    // 0 is "no trace", which W3C's all-zero trace-id also means: no header.
    if trace_id.0 != 0 {
        headers.insert(TRACEPARENT, trace_id.traceparent(TraceId::new().0).as_str());
    }
    Ok(Encoded {
        headers,
        payload: Bytes::from(payload),
    })
}

impl Shared {
    /// Publishes `body` on `subject` with message id `id` until the stream acknowledges it or the
    /// attempts run out.
    pub(crate) async fn publish_encoded(
        &self,
        subject: &str,
        id: &str,
        body: &Encoded,
    ) -> Result<Published, NatsError> {
        let config = &self.config;
        let mut pause = config.publish_backoff;
        let mut last_failure = String::new();
        for attempt in 1..=config.publish_attempts {
            if attempt > 1 {
                bump(&self.counters.publish_retries);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(super::config::MAX_BACKOFF);
            }
            let message = PublishMessage::build()
                .payload(body.payload.clone())
                .headers(body.headers.clone())
                .message_id(id);
            let sent = match self.js.send_publish(subject.to_owned(), message).await {
                Ok(ack) => tokio::time::timeout(config.publish_ack_timeout, ack.into_future())
                    .await
                    .map_err(|_| {
                        format!("no acknowledgement within {:?}", config.publish_ack_timeout)
                    })
                    .and_then(|r| r.map_err(|e| e.to_string())),
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(ack) if ack.duplicate => {
                    bump(&self.counters.deduplicated);
                    return Ok(Published {
                        sequence: ack.sequence,
                        duplicate: true,
                    });
                }
                Ok(ack) => {
                    bump(&self.counters.published);
                    return Ok(Published {
                        sequence: ack.sequence,
                        duplicate: false,
                    });
                }
                Err(reason) => {
                    tracing::debug!(subject, id, attempt, %reason, "publish not acknowledged");
                    last_failure = reason;
                }
            }
        }
        bump(&self.counters.publish_failed);
        Err(NatsError::PublishFailed {
            subject: subject.to_owned(),
            id: id.to_owned(),
            attempts: config.publish_attempts,
            reason: last_failure,
        })
    }
}
