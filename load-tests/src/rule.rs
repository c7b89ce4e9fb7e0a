//! How a metric is compared with its baseline value ([`Rule`]): a leaf, so that a kind's
//! parameters can name a rule (a team's own metric) without depending on the gates.

use serde::{Deserialize, Serialize};

/// How a metric is compared with its baseline value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Equal (for deterministic quantities: counts, virtual-time latencies, allocations).
    Exact,
    /// No more than `value * (1 + tolerance)`.
    AtMost,
    /// No less than `value * (1 - tolerance)`.
    AtLeast,
    /// Within `tolerance * |value|` either way.
    Within,
}

impl Rule {
    pub(crate) fn parse(s: &str) -> Option<Rule> {
        match s {
            "exact" => Some(Rule::Exact),
            "at_most" => Some(Rule::AtMost),
            "at_least" => Some(Rule::AtLeast),
            "within" => Some(Rule::Within),
            _ => None,
        }
    }

    /// The rule's name in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Exact => "exact",
            Rule::AtMost => "at_most",
            Rule::AtLeast => "at_least",
            Rule::Within => "within",
        }
    }

    /// Whether `actual` passes against `value` with `tolerance` (a fraction).
    pub fn passes(self, value: f64, actual: f64, tolerance: f64) -> bool {
        match self {
            Rule::Exact => actual == value || (actual - value).abs() <= 1e-9 * value.abs().max(1.0),
            Rule::AtMost => actual <= value * (1.0 + tolerance) + 1e-12,
            Rule::AtLeast => actual >= value * (1.0 - tolerance) - 1e-12,
            Rule::Within => (actual - value).abs() <= tolerance * value.abs() + 1e-12,
        }
    }
}
