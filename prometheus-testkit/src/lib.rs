//! A real Prometheus server for tests: started on a loopback port with a temporary store,
//! scraping the targets a test names at the interval it names, ready when
//! [`PrometheusServer::start`] returns, queried with PromQL through its HTTP API
//! ([`PrometheusServer::query`]), and stopped when dropped (also when a test panics).
//!
//! The binary is `$PROMETHEUS_BIN` if set, else `prometheus` on `PATH`, else the project's own
//! copy of Debian's package [`PINNED_VERSION`], cached under the cargo target directory and
//! unpacked there on first use (the `.deb` from `apt-get download`, else from
//! deb.debian.org's pool, checked against its pinned SHA-256): see [`server_binary`]. Nothing
//! needs installing by hand on Debian or Ubuntu; elsewhere the error says what to do.

mod error;
mod provision;
mod server;

pub use error::PrometheusError;
pub use provision::{server_binary, BIN_VAR, BY_HAND, PINNED_VERSION};
pub use server::{PrometheusServer, Sample, Target};
