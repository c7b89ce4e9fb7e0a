//! The mailbox's synchronization primitives, named in one place so that the loom model checker
//! can swap in its own (as tokio does with its `loom` module).
//!
//! A normal build re-exports `std`'s mutex and atomics and tokio's `Notify`. Built with
//! `RUSTFLAGS="--cfg agent_core_loom"` they are loom's, and `Notify` is [`notify::Notify`], a
//! model of tokio's built from loom's mutex, so that every interleaving of the mailbox's senders,
//! receiver and blocked senders can be explored (`agent-core/tests/loom.rs`, run by `.ci/run`).
//! The cfg is our own rather than `loom` because tokio reads `cfg(loom)` too, and would then
//! need loom as a dependency of its own.

#[cfg(not(agent_core_loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(not(agent_core_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(agent_core_loom))]
pub(crate) use tokio::sync::Notify;

#[cfg(agent_core_loom)]
mod notify;
#[cfg(agent_core_loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(agent_core_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(agent_core_loom)]
pub(crate) use notify::Notify;
