//! The baseline file: its format, its validation, and comparison against a report.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::BaselineError;
use super::reference::Reference;
use super::table::{Comparison, Row};
use crate::attribution::{attribution, Unit};
use crate::format::delta_pct;
use crate::gate::{Gate, Rule};
use crate::report::{paths, Report};
use crate::report::{FunctionCost, InstructionReport};

/// The version of the baseline file format.
pub const BASELINE_SCHEMA_VERSION: u32 = 4;

/// A validated baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// The scenario.
    pub scenario: String,
    /// The build profile of the run it was blessed from (`debug` or `release`).
    pub profile: String,
    /// Gated metrics: value, rule, tolerance.
    pub metrics: BTreeMap<String, Entry>,
    /// How the instructions were counted, and where they went, when the scenario counts them.
    pub instructions: Option<CountedWith>,
    /// The drift gate's reference point for the exact figures ([`Reference`]).
    pub reference: Option<Reference>,
}

/// The conditions of a baseline's instruction count, and its costliest functions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountedWith {
    /// `rustc -V` of the counted build.
    pub rustc: String,
    /// `valgrind --version` of the count.
    pub valgrind: String,
    /// Operations in the counted run.
    pub ops: u64,
    /// The functions with the most own instructions per operation.
    pub functions: Vec<FunctionCost>,
    /// agent-core's functions with the most inclusive instructions per operation.
    pub agent_core_inclusive: Vec<FunctionCost>,
    /// The simulated caches of the estimated cycles.
    pub cache: String,
    /// Every function that made system calls, with its calls per operation.
    pub syscall_functions: Vec<FunctionCost>,
    /// agent-core's functions with system calls made in them or their callees.
    pub agent_core_syscalls: Vec<FunctionCost>,
    /// The functions with the most own estimated cycles per operation.
    pub cycle_functions: Vec<FunctionCost>,
    /// agent-core's functions with the most inclusive estimated cycles per operation.
    pub agent_core_cycles: Vec<FunctionCost>,
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
    // Optional for the parser only so that an old file gets the clear schema_version error.
    #[serde(default)]
    profile: Option<serde_json::Value>,
    metrics: BTreeMap<String, RawEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instructions: Option<CountedWith>,
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
        let profile =
            match raw.profile.as_ref().and_then(|p| p.as_str()) {
                Some(p @ ("debug" | "release")) => p.to_owned(),
                _ => return Err(invalid(
                    path,
                    "profile",
                    "must be \"debug\" or \"release\" (the build the baseline was blessed from)"
                        .into(),
                )),
            };
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
        Ok(Baseline {
            scenario,
            profile,
            metrics,
            instructions: raw.instructions,
            reference: raw.reference,
        })
    }

    /// A baseline holding `report`'s values for `gates`.
    pub fn from_report(
        report: &Report,
        gates: &[Gate],
        path: &Path,
    ) -> Result<Baseline, BaselineError> {
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
                    tolerance: g.tolerance_for(&report.environment.build_profile),
                },
            );
        }
        Ok(Baseline {
            scenario: report.scenario.clone(),
            profile: report.environment.build_profile.clone(),
            metrics,
            instructions: report.instructions.as_ref().map(|i| CountedWith {
                rustc: i.rustc.clone(),
                valgrind: i.valgrind.clone(),
                ops: i.ops,
                functions: i.functions.clone(),
                agent_core_inclusive: i.agent_core_inclusive.clone(),
                cache: i.cache.clone(),
                syscall_functions: i.syscall_functions.clone(),
                agent_core_syscalls: i.agent_core_syscalls.clone(),
                cycle_functions: i.cycle_functions.clone(),
                agent_core_cycles: i.agent_core_cycles.clone(),
            }),
            reference: None,
        })
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        let raw = RawBaseline {
            schema_version: BASELINE_SCHEMA_VERSION.into(),
            scenario: self.scenario.clone().into(),
            note: Some("written by UPDATE_BASELINES=1; values from one run, rules from load-tests/src/baseline/gates.rs".into()),
            profile: Some(self.profile.clone().into()),
            reference: self.reference.clone(),
            instructions: self.instructions.clone(),
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
    /// `gates`, each with the code's rule and tolerance, and the report must have each of them.
    ///
    /// A profile-bound metric is compared only when the report's build profile is the
    /// baseline's; otherwise its row says why it was not compared. An instruction count is
    /// compared only when rustc and valgrind are the baseline's; otherwise its row fails and
    /// says what to install or re-bless. When it fails, the comparison's notes name the functions
    /// whose own counts moved most.
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
        let profile = &report.environment.build_profile;
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        for (name, e) in &self.metrics {
            let unknown = || BaselineError::UnknownMetric {
                path: path.to_owned(),
                scenario: self.scenario.clone(),
                metric: name.clone(),
            };
            let gate = gates
                .iter()
                .find(|g| &g.metric == name)
                .ok_or_else(unknown)?;
            let tolerance = gate.tolerance_for(&self.profile);
            if gate.rule != e.rule || (tolerance - e.tolerance).abs() > 1e-12 {
                return Err(invalid(
                    path,
                    &format!("metrics.{name}.rule"),
                    format!(
                        "is {} with tolerance {}, but the code gates it {} with tolerance {} \
                         (load-tests/src/baseline/gates.rs decides rules; re-bless to update the file)",
                        e.rule.as_str(),
                        e.tolerance,
                        gate.rule.as_str(),
                        gate.tolerance
                    ),
                ));
            }
            let mut row = Row {
                metric: name.clone(),
                baseline: e.value,
                actual: f64::NAN,
                rule: e.rule,
                tolerance: e.tolerance,
                passed: true,
                note: None,
            };
            if gate.profile_bound && &self.profile != profile {
                row.note = Some(format!(
                    "not compared: the baseline is from a {} build, this is a {profile} build",
                    self.profile
                ));
                row.actual = report.metric(name).unwrap_or(f64::NAN);
                rows.push(row);
                continue;
            }
            let counted_metric = paths::COUNTED.contains(&name.as_str());
            if counted_metric {
                let Some(counted) = &report.instructions else {
                    row.note = Some(
                        "not counted in this run (--no-instructions, or valgrind missing)".into(),
                    );
                    rows.push(row);
                    continue;
                };
                if let Some(problem) = self.counted_elsewhere(counted) {
                    row.passed = false;
                    row.note = Some(problem);
                    row.actual = report.metric(name).unwrap_or(f64::NAN);
                    rows.push(row);
                    continue;
                }
            }
            let Some(actual) = report.metric(name) else {
                // The baseline is fine; the run did not produce the figure (it failed early).
                row.passed = false;
                row.note =
                    Some("missing from this run's report: the run did not produce it".into());
                rows.push(row);
                continue;
            };
            row.actual = actual;
            row.passed = e.rule.passes(e.value, row.actual, e.tolerance);
            if row.passed {
                row.note = ratchet(name, e, actual);
                row.passed = row.note.is_none();
            }
            if counted_metric && !row.passed {
                if let (Some(b), Some(a)) = (&self.instructions, &report.instructions) {
                    notes.extend(b.blame(a, name, row.actual - row.baseline));
                }
            }
            rows.push(row);
        }
        Ok(Comparison {
            scenario: self.scenario.clone(),
            path: path.to_owned(),
            rows,
            notes,
        })
    }

    /// Why this baseline's instruction count cannot be compared with `a`, if it cannot:
    /// a different compiler or valgrind counts differently.
    fn counted_elsewhere(&self, a: &InstructionReport) -> Option<String> {
        let Some(b) = &self.instructions else {
            return Some(
                "the baseline has no `instructions` section to compare with: re-bless it".into(),
            );
        };
        let mut differences = Vec::new();
        if b.rustc != a.rustc {
            differences.push(format!(
                "the baseline was counted with {:?}, this build is {:?} (rust-toolchain.toml pins \
                 the compiler: `rustup show` installs it)",
                b.rustc, a.rustc
            ));
        }
        if b.cache != a.cache {
            differences.push(format!(
                "the baseline's cycles were estimated with the simulated caches {:?}, this run's \
                 with {:?} (re-bless)",
                b.cache, a.cache
            ));
        }
        if b.valgrind != a.valgrind {
            differences.push(format!(
                "the baseline was counted with {}, this machine has {} (install that version, or \
                 re-bless on a branch of its own with UPDATE_BASELINES=1 and review the diff)",
                b.valgrind, a.valgrind
            ));
        }
        (!differences.is_empty()).then(|| {
            format!(
                "not comparable, counts differ between versions: {}",
                differences.join("; ")
            )
        })
    }
}

impl CountedWith {
    /// Where a counted metric (`metric`, which moved by `delta` per operation) went: agent-core's
    /// functions (callees included) whose count moved most, then the functions whose own count
    /// moved most.
    fn blame(&self, a: &InstructionReport, metric: &str, delta: f64) -> Vec<String> {
        let (what, unit, (b_core, a_core), (b_own, a_own)) = match metric {
            paths::SYSCALLS => (
                "system calls",
                Unit::SYSCALLS,
                (&self.agent_core_syscalls, &a.agent_core_syscalls),
                (&self.syscall_functions, &a.syscall_functions),
            ),
            paths::ESTIMATED_CYCLES => (
                "estimated cycles",
                Unit::CYCLES,
                (&self.agent_core_cycles, &a.agent_core_cycles),
                (&self.cycle_functions, &a.cycle_functions),
            ),
            _ => (
                "instructions",
                Unit::INSTRUCTIONS,
                (&self.agent_core_inclusive, &a.agent_core_inclusive),
                (&self.functions, &a.functions),
            ),
        };
        let d = unit.decimals;
        let mut notes = vec![format!(
            "{what} per operation moved {delta:+.d$}; where in agent-core (its functions, callees \
             included):"
        )];
        notes.extend(attribution(b_core, a_core, 6, unit));
        notes.push(format!("the functions whose own {what} moved most:"));
        notes.extend(attribution(b_own, a_own, 8, unit));
        notes
    }
}

/// The ratchet: an exact figure gated only upward that fell by more than its tolerance fails
/// until re-blessed, so that the slack an improvement opens does not let a later regression of
/// the same size through. The note says what to do.
fn ratchet(metric: &str, e: &Entry, actual: f64) -> Option<String> {
    let floor = e.value * (1.0 - e.tolerance) - 1e-12;
    (Gate::ratchets(metric) && e.rule == Rule::AtMost && actual < floor).then(|| {
        format!(
            "improved: re-bless down ({}=1, or `load-tests bless`), so that a later regression \
             of the same size fails; {:.2}% below the baseline, more than its {:.0}% tolerance",
            super::UPDATE_VAR,
            -delta_pct(e.value, actual).unwrap_or(0.0),
            e.tolerance * 100.0
        )
    })
}

fn invalid(path: &Path, field: &str, problem: String) -> BaselineError {
    BaselineError::InvalidField {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    }
}
