//! Everything the NATS transport can refuse or fail with, each a typed value.

use thiserror::Error;

/// Why the NATS transport refused a setting or failed an operation.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatsError {
    /// A [`super::NatsConfig`] field is invalid.
    #[error("invalid NATS setting `{field}`: {reason}")]
    Config {
        /// The field, as named in [`super::NatsConfig`].
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No server answered at the URL.
    #[error("cannot reach a NATS server at {url}: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What the client reported.
        reason: String,
    },
    /// The server runs without JetStream.
    #[error("the NATS server at {url} has JetStream disabled (start it with `-js`)")]
    NoJetStream {
        /// The server's URL.
        url: String,
    },
    /// The server is older than the features this transport uses.
    #[error(
        "the NATS server at {url} is version {version}; this transport needs {required} or newer"
    )]
    OldServer {
        /// The server's URL.
        url: String,
        /// The version the server reported.
        version: String,
        /// The oldest version the transport works with.
        required: &'static str,
    },
    /// A topic, group or queue name that is not a valid NATS subject token or JetStream name.
    #[error("invalid {what} {name:?}: {reason}")]
    BadName {
        /// "topic", "group" or "queue".
        what: &'static str,
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A stream that exists already forgets message ids sooner than a publish's retries last.
    #[error(
        "stream {stream} drops repeated message ids for {window:?}, shorter than a publish's \
         retries can last ({needed:?}): a late retry would be stored twice; raise the stream's \
         duplicate_window or shorten publish_attempts or publish_ack_timeout"
    )]
    DuplicateWindow {
        /// The stream.
        stream: String,
        /// Its duplicate window.
        window: std::time::Duration,
        /// [`crate::bus::nats::NatsConfig::publish_retry_span`].
        needed: std::time::Duration,
    },
    /// A JetStream request (creating a stream or consumer, asking for its state) failed.
    #[error("JetStream could not {action}: {reason}")]
    JetStream {
        /// What was asked, e.g. "create stream AGENTS".
        action: String,
        /// What the server or client reported.
        reason: String,
    },
    /// Every publish attempt went without an acknowledgement from the stream.
    #[error("message {id} on {subject} was not acknowledged after {attempts} attempts: {reason}")]
    PublishFailed {
        /// The subject published to.
        subject: String,
        /// The message id, the same on every attempt.
        id: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        reason: String,
    },
    /// A message could not be encoded as JSON.
    #[error("cannot encode a message for {subject}: {reason}")]
    Encode {
        /// The subject it was for.
        subject: String,
        /// serde_json's error.
        reason: String,
    },
    /// An acknowledgement could not be sent to the server.
    #[error("cannot settle message {id}: {reason}")]
    Settle {
        /// The message id.
        id: String,
        /// What the client reported.
        reason: String,
    },
    /// The transport was closed.
    #[error("the NATS transport is closed")]
    Closed,
}
