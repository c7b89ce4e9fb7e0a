//! Error types. Every failed send hands the message back to the caller.

use std::time::Duration;

use thiserror::Error;

use crate::id::AgentId;

/// A send that did not enqueue its message; the message is handed back.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<M> {
    /// The mailbox was full and its policy is to reject.
    #[error("mailbox full")]
    Full(M),
    /// The mailbox is closed: its agent is stopping, stopped or failed.
    #[error("mailbox closed")]
    Closed(M),
    /// The mailbox stayed full for the whole block timeout.
    #[error("mailbox stayed full until the send timed out")]
    Timeout(M),
}

impl<M> SendError<M> {
    /// Takes the message back out of the error.
    pub fn into_inner(self) -> M {
        match self {
            SendError::Full(m) | SendError::Closed(m) | SendError::Timeout(m) => m,
        }
    }

    pub(crate) fn map<N>(self, f: impl FnOnce(M) -> N) -> SendError<N> {
        match self {
            SendError::Full(m) => SendError::Full(f(m)),
            SendError::Closed(m) => SendError::Closed(f(m)),
            SendError::Timeout(m) => SendError::Timeout(f(m)),
        }
    }
}

/// Why a handler did not produce a reply.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerFailure {
    /// The handler returned an error.
    #[error("handler returned an error: {0}")]
    Error(String),
    /// The handler panicked.
    #[error("handler panicked: {0}")]
    Panic(String),
}

/// A request/reply that did not produce a reply.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AskError<M> {
    /// The request was never enqueued; the message is handed back.
    #[error("request not enqueued")]
    Send(#[source] SendError<M>),
    /// No reply arrived within the timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The handler failed on this request.
    #[error("handler failed")]
    Failed(#[source] HandlerFailure),
    /// The request was dropped unanswered: evicted by an overflow policy or abandoned at shutdown.
    #[error("request dropped before it was handled")]
    Dropped,
}

/// Spawning an agent failed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// Another live agent already has this name.
    #[error("an agent named {0:?} is already registered")]
    NameTaken(String),
    /// The runtime is shutting down and accepts no new agents.
    #[error("the runtime is shutting down")]
    ShuttingDown,
    /// The mailbox configuration is invalid.
    #[error("invalid mailbox configuration: {0}")]
    InvalidMailbox(&'static str),
}

/// Acquiring a pool slot failed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// Every slot stayed busy for the whole acquire timeout.
    #[error("pool {pool:?} exhausted: no slot free within {waited:?}")]
    Exhausted {
        /// The pool's name.
        pool: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// The pool has been shut down.
    #[error("pool {0:?} is closed")]
    Closed(String),
    /// A pool needs at least one worker.
    #[error("a pool needs at least one worker")]
    Empty,
    /// A worker could not be spawned.
    #[error("could not spawn a pool worker")]
    Spawn(#[from] SpawnError),
}

/// Looking an agent up failed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No live agent has this id or name.
    #[error("no agent {0}")]
    NotFound(String),
    /// The agent exists but its type is not the one asked for.
    #[error("agent {0} is not of type {1}")]
    WrongType(AgentId, &'static str),
}

/// A bus operation failed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusError {
    /// The bus is closed.
    #[error("bus is closed")]
    Closed,
    /// The subscriber's mailbox configuration is invalid.
    #[error("invalid mailbox configuration: {0}")]
    InvalidMailbox(&'static str),
    /// A networked transport failed (unreachable server, publish never acknowledged, ...).
    #[error("transport failed: {0}")]
    Transport(String),
}
