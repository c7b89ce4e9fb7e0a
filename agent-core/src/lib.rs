//! A tokio multi-agent runtime in which every queue accounts for every message.
//!
//! Agents own their state, receive typed messages through bounded [`Mailbox`]es with an explicit
//! [`OverflowPolicy`], and are supervised: a handler that fails or panics is reported and restarted
//! by its [`RestartPolicy`] without taking anything else down. Every mailbox counts what was offered,
//! accepted, rejected, timed out, delivered, dropped and abandoned, and the counts always add up.
//!
//! ```
//! use std::time::Duration;
//! use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, ShutdownConfig};
//!
//! struct Doubler;
//!
//! impl Agent for Doubler {
//!     type Msg = u64;
//!     type Reply = u64;
//!     async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
//!         Ok(n * 2)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = AgentRuntime::default();
//! let doubler = runtime.spawn(AgentConfig::named("doubler"), || Doubler)?;
//! assert_eq!(doubler.ask(21, Duration::from_secs(1)).await?, 42);
//! let report = runtime.shutdown(ShutdownConfig::default()).await;
//! assert_eq!(report.stopped, 1);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod agent;
pub mod bus;
mod deadlines;
mod envelope;
mod error;
mod health;
mod id;
#[cfg(feature = "inject-regressions")]
#[doc(hidden)]
pub mod inject;
mod lifecycle;
pub mod mailbox;
mod metrics;
#[cfg(feature = "openmetrics")]
pub mod openmetrics;
pub mod orchestration;
pub mod pool;
mod registry;
mod runtime;
mod shared;
mod shutdown;
mod spawn;
mod supervision;
mod sync;

pub use agent::{Address, Agent, Context, HandlerError};
pub use bus::{Bus, BusSnapshot, Subscription};
pub use envelope::Envelope;
pub use error::{
    AskError, BusError, HandlerFailure, LookupError, PoolError, SendError, SpawnError,
};
pub use health::Health;
pub use id::{AgentId, TraceId};
pub use mailbox::{Capacity, Enqueued, Mailbox, MailboxConfig, MailboxSnapshot, OverflowPolicy};
pub use metrics::{AgentSnapshot, RuntimeSnapshot};
pub use pool::{Dispatch, Pool, PoolConfig, PoolLease, PoolSnapshot};
pub use runtime::{AgentConfig, AgentRuntime, RuntimeConfig, Timing};
pub use shutdown::{ShutdownConfig, ShutdownReport};
pub use supervision::{Backoff, FailureAction, FailureCause, FailureReport, RestartPolicy};
