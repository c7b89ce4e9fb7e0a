//! Monitoring overhead (seed 000's `test_monitoring_overhead`): the messaging kind's traffic with
//! per-message timing on and off, rounds interleaved; reports the throughput ratio.

mod run;

use serde::{Deserialize, Serialize};

/// The monitoring-overhead kind has no parameters of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringOverhead {}
