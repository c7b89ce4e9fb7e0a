//! The baseline file: its format, its validation, and comparison against a report.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::table::{Comparison, Row};
use super::BaselineError;
use crate::report::Report;

/// The version of the baseline file format.
pub const BASELINE_SCHEMA_VERSION: u32 = 1;

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
    fn parse(s: &str) -> Option<Rule> {
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

/// One gated metric: its rule and tolerance (a fraction, e.g. 0.02 for 2%).
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// Dotted path into the report (`latency.total.p95_ns`).
    pub metric: String,
    /// How it is compared.
    pub rule: Rule,
    /// The allowed relative deviation for `at_most`, `at_least` and `within`.
    pub tolerance: f64,
}

/// A validated baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// The scenario.
    pub scenario: String,
    /// Gated metrics: value, rule, tolerance.
    pub metrics: BTreeMap<String, Entry>,
}

/// One metric's baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// The baseline value.
    pub value: f64,
    /// How it is compared.
    pub rule: Rule,
    /// The allowed relative deviation (0 for `exact`).
    pub tolerance: f64,
}

/// The file as written on disk, before validation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    schema_version: serde_json::Value,
    scenario: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    metrics: BTreeMap<String, RawEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    value: serde_json::Value,
    rule: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerance: Option<serde_json::Value>,
}

impl Baseline {
    /// Reads and validates the baseline at `path`, which must be for `scenario`.
    pub fn load(path: &Path, scenario: &str) -> Result<Baseline, BaselineError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BaselineError::Missing {
                    path: path.to_owned(),
                    scenario: scenario.to_owned(),
                })
            }
            Err(source) => {
                return Err(BaselineError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let b = Baseline::parse(&text, path)?;
        if b.scenario != scenario {
            return Err(invalid(
                path,
                "scenario",
                format!(
                    "is {:?}, but this is the baseline of {scenario:?}",
                    b.scenario
                ),
            ));
        }
        Ok(b)
    }

    /// Parses and validates baseline text; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let raw: RawBaseline =
            serde_json::from_str(text).map_err(|e| BaselineError::Malformed {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        match raw.schema_version.as_u64() {
            Some(v) if v == u64::from(BASELINE_SCHEMA_VERSION) => {}
            _ => {
                return Err(invalid(
                    path,
                    "schema_version",
                    format!(
                        "is {}, this build reads version {BASELINE_SCHEMA_VERSION}",
                        raw.schema_version
                    ),
                ))
            }
        }
        let scenario = raw
            .scenario
            .as_str()
            .ok_or_else(|| invalid(path, "scenario", "must be a string".into()))?
            .to_owned();
        let mut metrics = BTreeMap::new();
        for (name, e) in raw.metrics {
            let field = |f: &str| format!("metrics.{name}.{f}");
            let value = e.value.as_f64().filter(|v| v.is_finite()).ok_or_else(|| {
                invalid(
                    path,
                    &field("value"),
                    format!("must be a finite number, got {}", e.value),
                )
            })?;
            let rule = e.rule.as_str().and_then(Rule::parse).ok_or_else(|| {
                invalid(
                    path,
                    &field("rule"),
                    format!(
                        "unknown rule {}; expected one of exact, at_most, at_least, within",
                        e.rule
                    ),
                )
            })?;
            let tolerance = match (&e.tolerance, rule) {
                (None, Rule::Within) => {
                    return Err(invalid(
                        path,
                        &field("tolerance"),
                        "is required by rule within".into(),
                    ))
                }
                (None, _) => 0.0,
                (Some(t), _) => t
                    .as_f64()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| {
                        invalid(
                            path,
                            &field("tolerance"),
                            format!("must be a non-negative number, got {t}"),
                        )
                    })?,
            };
            if rule == Rule::Exact && tolerance != 0.0 {
                return Err(invalid(
                    path,
                    &field("tolerance"),
                    "must be absent or 0 for rule exact".into(),
                ));
            }
            metrics.insert(
                name,
                Entry {
                    value,
                    rule,
                    tolerance,
                },
            );
        }
        Ok(Baseline { scenario, metrics })
    }

    /// A baseline holding `report`'s values for `gates`.
    pub fn bless(report: &Report, gates: &[Gate], path: &Path) -> Result<Baseline, BaselineError> {
        let mut metrics = BTreeMap::new();
        for g in gates {
            let value = report
                .metric(&g.metric)
                .ok_or_else(|| BaselineError::UnknownMetric {
                    path: path.to_owned(),
                    scenario: report.scenario.clone(),
                    metric: g.metric.clone(),
                })?;
            metrics.insert(
                g.metric.clone(),
                Entry {
                    value,
                    rule: g.rule,
                    tolerance: g.tolerance,
                },
            );
        }
        Ok(Baseline {
            scenario: report.scenario.clone(),
            metrics,
        })
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        let raw = RawBaseline {
            schema_version: BASELINE_SCHEMA_VERSION.into(),
            scenario: self.scenario.clone().into(),
            note: Some("written by UPDATE_BASELINES=1; values from one run, rules from load-tests/src/baseline/gates.rs".into()),
            metrics: self
                .metrics
                .iter()
                .map(|(k, e)| {
                    let value = if e.value.fract() == 0.0 && e.value.abs() < 9e15 {
                        serde_json::Value::from(e.value as i64)
                    } else {
                        serde_json::Value::from(e.value)
                    };
                    let entry = RawEntry {
                        value,
                        rule: e.rule.as_str().into(),
                        tolerance: (e.rule != Rule::Exact).then(|| e.tolerance.into()),
                    };
                    (k.clone(), entry)
                })
                .collect(),
        };
        let mut s = serde_json::to_string_pretty(&raw).expect("a baseline always serializes");
        s.push('\n');
        s
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| BaselineError::Write {
                path: path.to_owned(),
                source,
            })?;
        }
        std::fs::write(path, self.to_json()).map_err(|source| BaselineError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Compares `report` with this baseline. The baseline must gate exactly the metrics in
    /// `gates`, and the report must have each of them.
    pub fn compare(
        &self,
        report: &Report,
        gates: &[Gate],
        path: &Path,
    ) -> Result<Comparison, BaselineError> {
        for g in gates {
            if !self.metrics.contains_key(&g.metric) {
                return Err(BaselineError::MissingMetric {
                    path: path.to_owned(),
                    scenario: self.scenario.clone(),
                    metric: g.metric.clone(),
                });
            }
        }
        let mut rows = Vec::new();
        for (name, e) in &self.metrics {
            let known = gates.iter().any(|g| &g.metric == name);
            let actual = report.metric(name).filter(|_| known).ok_or_else(|| {
                BaselineError::UnknownMetric {
                    path: path.to_owned(),
                    scenario: self.scenario.clone(),
                    metric: name.clone(),
                }
            })?;
            rows.push(Row {
                metric: name.clone(),
                baseline: e.value,
                actual,
                rule: e.rule,
                tolerance: e.tolerance,
                passed: e.rule.passes(e.value, actual, e.tolerance),
            });
        }
        Ok(Comparison {
            scenario: self.scenario.clone(),
            path: path.to_owned(),
            rows,
        })
    }
}

fn invalid(path: &Path, field: &str, problem: String) -> BaselineError {
    BaselineError::InvalidField {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    }
}
