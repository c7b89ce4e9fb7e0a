//! Where a chaos run's faults act.

use serde::Serialize;

/// Where the faults act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// One server, each client process behind a proxy of its own.
    Single,
    /// Three members with R3 streams and proxied routes.
    Cluster,
}
