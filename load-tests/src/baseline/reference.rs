//! A baseline's reference point for the drift gate (see [`super::drift`]): a leaf, so that the
//! baseline file can hold one without depending on the gate that reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A baseline's reference point for drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Why and when the series (re)started: first blessed, drift accepted (and why), counted
    /// with another compiler.
    pub since: String,
    /// The reference value of each drift-gated metric.
    pub metrics: BTreeMap<String, f64>,
}
