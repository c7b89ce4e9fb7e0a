//! The peer comparison's workloads on other actor crates, each written the way that crate's
//! documentation does it. Compiled only with `--features peers`.
//!
//! Every module offers the same functions as the agent-core and raw tokio workloads in
//! [`crate::workloads`]: `tell`, `fan_in`, `spawn_send_stop`, `ask` and `spawn_idle` /
//! `stop_idle`, each returning the time it measured (runtime construction excluded).
//!
//! Mailboxes differ and the table says so: agent-core, kameo and the tokio baseline use bounded
//! mailboxes of [`crate::workloads::CHANNEL_BOUND`] with senders waiting for room; ractor's
//! mailboxes are unbounded; actix's `do_send` ignores its mailbox bound. actix runs every actor on
//! the one thread of its `System` (its default), the others on the 2-worker tokio runtime.

pub mod actix;
pub mod kameo;
pub mod ractor;
