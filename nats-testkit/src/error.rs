//! Why a server could not be started.

use std::path::PathBuf;

use thiserror::Error;

use crate::limits::{MIN_VERSION, READY_WITHIN};

/// Why a server could not be started. Its `Debug` is its message, so that a test's
/// `NatsServer::start().unwrap()` fails with the reason in its first line.
#[derive(Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No usable binary, and the pinned one could not be installed ([`server_binary`](crate::server_binary)).
    #[error("nats-server unavailable: {reason}")]
    Unavailable {
        /// Why, and what to run by hand.
        reason: String,
    },
    /// The binary is older than [`MIN_VERSION`], or its version cannot be read.
    #[error("{}: version {found:?} is not supported; nats-server {}.{}.{} or newer is needed", bin.display(), MIN_VERSION.0, MIN_VERSION.1, MIN_VERSION.2)]
    Version {
        /// The binary.
        bin: PathBuf,
        /// What `--version` printed.
        found: String,
    },
    /// Starting the process, or making its store directory, failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The server did not say it was ready in time.
    #[error("nats-server did not become ready within {READY_WITHIN:?}; its log:\n{log}")]
    NotReady {
        /// What it logged.
        log: String,
    },
}

impl std::fmt::Debug for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
