//! What a [`super::NatsTransport`] connects to and how its streams and consumers are configured.

use std::time::Duration;

use async_nats::ServerAddr;
use serde::{Deserialize, Serialize};

use super::NatsError;

/// Connection, stream and consumer settings. [`NatsConfig::new`] gives the defaults below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatsConfig {
    /// One server URL, or several separated by commas (the members of a cluster):
    /// `nats://127.0.0.1:4222`.
    pub url: String,
    /// The JetStream stream holding bus topics; work queues and dead letters get streams named
    /// after it (`<stream>_Q_<queue>`, `<stream>_DEAD`). Default `AGENTS`.
    pub stream: String,
    /// The first subject token of everything this transport publishes. Default `agents`.
    pub subject_prefix: String,
    /// How long a publish waits for the stream's acknowledgement before it is sent again with the
    /// same message id. Default 2 s.
    pub publish_ack_timeout: Duration,
    /// Publish attempts before [`NatsError::PublishFailed`]. Default 15.
    pub publish_attempts: u32,
    /// The pause before the first retry, doubled on each further retry up to 2 s. Default 50 ms.
    pub publish_backoff: Duration,
    /// The window in which the stream drops a message whose id it already has. Default 2 min.
    /// Must be longer than [`NatsConfig::publish_retry_span`]; a stream that exists already is
    /// checked at connect against the same bound. A message published again with the same id
    /// later than this after it was stored (an outbox replayed after a long outage) is stored
    /// twice.
    pub duplicate_window: Duration,
    /// Copies of each stream the servers keep (its `num_replicas`): 1 on a single server; 3 on
    /// a cluster of three or more, so that a stream keeps every acknowledged message through the
    /// loss of one node. At most 5. Only applies when this connection creates the stream.
    /// Default 1.
    pub replicas: usize,
    /// How long a consumer's message may go unacknowledged before the server delivers it again
    /// (to this consumer or, for a shared group, to another member). Default 5 s.
    pub ack_wait: Duration,
    /// Deliveries of one message after which it goes to the dead-letter stream instead of the
    /// handler. Default 5.
    pub max_deliver: u32,
    /// The most messages all workers of one work queue hold unsettled at once (the shared
    /// consumer's max-ack-pending); each worker also holds no more than its own `in_flight`.
    /// Default 1024.
    pub work_queue_max_ack_pending: u32,
    /// How long a negatively acknowledged message waits before it is delivered again. Default
    /// 200 ms.
    pub nak_delay: Duration,
    /// How often the client pings the server; two missed pongs mark the connection lost.
    /// Default 2 s.
    pub ping_interval: Duration,
    /// How long the first connection may take. Default 2 s.
    pub connect_timeout: Duration,
    /// The connection's name, shown by the server's monitoring. Default `agent-core`.
    pub name: String,
}

impl NatsConfig {
    /// The defaults, connecting to `url`.
    pub fn new(url: impl Into<String>) -> NatsConfig {
        NatsConfig {
            url: url.into(),
            stream: "AGENTS".to_owned(),
            subject_prefix: "agents".to_owned(),
            publish_ack_timeout: Duration::from_secs(2),
            publish_attempts: 15,
            publish_backoff: Duration::from_millis(50),
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
            ack_wait: Duration::from_secs(5),
            max_deliver: 5,
            work_queue_max_ack_pending: 1024,
            nak_delay: Duration::from_millis(200),
            ping_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            name: "agent-core".to_owned(),
        }
    }

    /// The longest one publish can keep sending the same message id: each attempt waits up to
    /// `publish_ack_timeout` for the stream, with the backoff pauses between attempts. A stream
    /// must remember ids at least this long (`duplicate_window`), or a late retry of a message
    /// whose first attempt was stored is stored again.
    pub fn publish_retry_span(&self) -> Duration {
        let mut span = self.publish_ack_timeout * self.publish_attempts;
        let mut pause = self.publish_backoff;
        for _ in 1..self.publish_attempts {
            span += pause;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
        span
    }

    /// The server addresses, or the first invalid field.
    pub(crate) fn validate(&self) -> Result<Vec<ServerAddr>, NatsError> {
        let bad = |field, reason: &str| NatsError::Config {
            field,
            reason: reason.to_owned(),
        };
        let addrs = self
            .url
            .split(',')
            .map(|part| {
                let part = part.trim();
                if part.is_empty() {
                    return Err(bad("url", "empty (expected e.g. nats://127.0.0.1:4222)"));
                }
                part.parse::<ServerAddr>().map_err(|e| NatsError::Config {
                    field: "url",
                    reason: format!("{part:?} is not a NATS URL: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_name(&self.stream).map_err(|r| bad("stream", r))?;
        for token in self.subject_prefix.split('.') {
            check_token(token).map_err(|r| bad("subject_prefix", r))?;
        }
        let positive = [
            ("publish_ack_timeout", self.publish_ack_timeout),
            ("publish_backoff", self.publish_backoff),
            ("duplicate_window", self.duplicate_window),
            ("ack_wait", self.ack_wait),
            ("ping_interval", self.ping_interval),
            ("connect_timeout", self.connect_timeout),
        ];
        for (field, d) in positive {
            if d.is_zero() {
                return Err(bad(field, "must be more than zero"));
            }
        }
        if self.publish_attempts == 0 {
            return Err(bad("publish_attempts", "must be at least 1"));
        }
        if self.max_deliver == 0 {
            return Err(bad("max_deliver", "must be at least 1"));
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(bad("replicas", "must be from 1 to 5"));
        }
        if self.work_queue_max_ack_pending == 0 {
            return Err(bad("work_queue_max_ack_pending", "must be at least 1"));
        }
        let span = self.publish_retry_span();
        if self.duplicate_window <= span {
            return Err(bad(
                "duplicate_window",
                &format!(
                    "{:?} is not longer than a publish's retries can last ({span:?}: {} attempts \
                     of up to {:?} each, with backoff between), so a late retry would be stored \
                     twice; lengthen it, or shorten publish_attempts or publish_ack_timeout",
                    self.duplicate_window, self.publish_attempts, self.publish_ack_timeout
                ),
            ));
        }
        Ok(addrs)
    }
}

/// A JetStream stream or consumer name: no whitespace, `.`, `*`, `>`, `/` or `\`.
pub(crate) fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\'))
    {
        return Err("must not contain whitespace, '.', '*', '>', '/' or '\\'");
    }
    Ok(())
}

/// The longest pause between two publish attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// One token of a subject: no whitespace or wildcards, not empty.
pub(crate) fn check_token(token: &str) -> Result<(), &'static str> {
    if token.is_empty() {
        return Err("has an empty subject token (two dots, or a dot at an end)");
    }
    if token
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '*' | '>'))
    {
        return Err("must not contain whitespace, '*' or '>'");
    }
    Ok(())
}

/// Whether `topic` is a NATS subject of valid tokens.
pub(crate) fn check_topic(topic: &str) -> Result<(), NatsError> {
    topic
        .split('.')
        .try_for_each(check_token)
        .map_err(|reason| NatsError::BadName {
            what: "topic",
            name: topic.to_owned(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(
            NatsConfig::new("nats://127.0.0.1:4222")
                .validate()
                .unwrap()
                .len(),
            1
        );
        let cluster = NatsConfig::new("nats://127.0.0.1:4222, nats://127.0.0.1:4223");
        assert_eq!(cluster.validate().unwrap().len(), 2);
    }

    #[test]
    fn the_retry_span_counts_every_attempt_and_pause() {
        let c = NatsConfig::new("nats://127.0.0.1:4222");
        // 15 attempts of 2 s, pauses 50, 100, ..., 1600 ms then eight of 2 s.
        assert_eq!(
            c.publish_retry_span(),
            Duration::from_millis(30_000 + 3_150 + 16_000)
        );
        let one = NatsConfig {
            publish_attempts: 1,
            ..c
        };
        assert_eq!(one.publish_retry_span(), Duration::from_secs(2));
    }

    #[test]
    fn a_duplicate_window_shorter_than_the_retries_is_refused_with_the_numbers() {
        let c = NatsConfig {
            duplicate_window: Duration::from_secs(30),
            ..NatsConfig::new("nats://127.0.0.1:4222")
        };
        match c.validate() {
            Err(NatsError::Config { field, reason }) => {
                assert_eq!(field, "duplicate_window");
                assert!(
                    reason.contains("30s") && reason.contains("49.15s"),
                    "{reason}"
                );
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |c: NatsConfig| match c.validate() {
            Err(NatsError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(field(NatsConfig::new("")), "url");
        assert_eq!(field(NatsConfig::new("http://[::1")), "url");
        let base = || NatsConfig::new("nats://127.0.0.1:4222");
        assert_eq!(
            field(NatsConfig {
                stream: "a.b".into(),
                ..base()
            }),
            "stream"
        );
        assert_eq!(
            field(NatsConfig {
                subject_prefix: "a..b".into(),
                ..base()
            }),
            "subject_prefix"
        );
        assert_eq!(
            field(NatsConfig {
                max_deliver: 0,
                ..base()
            }),
            "max_deliver"
        );
        assert_eq!(
            field(NatsConfig {
                ack_wait: Duration::ZERO,
                ..base()
            }),
            "ack_wait"
        );
        assert_eq!(
            field(NatsConfig {
                publish_attempts: 0,
                ..base()
            }),
            "publish_attempts"
        );
    }
}
