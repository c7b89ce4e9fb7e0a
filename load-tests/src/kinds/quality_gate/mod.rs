//! Quality gate (seed 000's `test_quality_gate(10000)`, which the seed left pending): candidate
//! responses, generated from the seed, are sent to quality-gate agents that score each with a
//! deterministic function (length, citations, vocabulary, banned terms) and pass it when the
//! score reaches the threshold. Pass and fail counts are exact; throughput, latency and CPU per
//! evaluation are compared with the same scoring behind raw tokio channels, rounds interleaved.

mod run;
pub(crate) mod score;

use serde::{Deserialize, Serialize};

/// Parameters of the quality-gate kind. `agents` gate agents serve `concurrency` submitters; the
/// evaluations are `agents x ops_per_agent`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityGate {
    /// The score a candidate needs to pass, between 0 and 1.
    pub threshold: f64,
}
