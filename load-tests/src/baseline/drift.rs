//! The drift gate: the per-commit gate lets an exact figure (instructions per operation, heap
//! bytes per operation and at peak; [`Gate::drifts`]) rise by its tolerance at every re-blessing, so ten commits of +0.9%
//! would add up to +9.4% with no gate failing. Each baseline therefore keeps a reference point
//! for those figures ([`Reference`]): the lowest value blessed since the series started (an
//! improvement lowers it, nothing raises it). A run fails when it is more than
//! [`Gate::DRIFT_TOLERANCE`] above it, and the failure names the commits that contributed,
//! largest first, with the functions whose counts moved in each.
//!
//! A series restarts (the reference is set to the new value) only when told why
//! ([`ACCEPT_DRIFT_VAR`], `load-tests bless --accept-drift`), when the file is first blessed, or
//! when the counts come from another profile, compiler or valgrind. [`DRIFT_REFERENCE_VAR`]
//! compares with the value blessed at a git revision instead (a release tag, `HEAD~20`).

use std::collections::BTreeMap;
use std::path::Path;

use super::file::{Baseline, CountedWith};
pub use super::reference::Reference;
use super::table::{Comparison, Row};
use crate::attribution::{attribution, Unit};
use crate::gate::{Gate, Rule};
use crate::history::git;
use crate::report::{paths, FunctionCost, Report};

/// Set to a reason (`LOAD_TESTS_ACCEPT_DRIFT="scenario now sends 1 KiB"`) with
/// `UPDATE_BASELINES=1`: the baselines written restart their drift series at the new values,
/// and the reason is kept in the file.
pub const ACCEPT_DRIFT_VAR: &str = "LOAD_TESTS_ACCEPT_DRIFT";

/// Set to a git revision (`v0.3.0`, `HEAD~20`): drift is measured from the value blessed at that
/// revision instead of the file's reference point.
pub const DRIFT_REFERENCE_VAR: &str = "LOAD_TESTS_DRIFT_REFERENCE";

/// The reference point of `new`, about to replace `old`: carried over (lowered where `new` is
/// lower) unless `accept` gives a reason to restart, or the counts are not comparable.
pub(super) fn next_reference(
    old: Option<&Baseline>,
    new: &Baseline,
    accept: Option<&str>,
) -> Option<Reference> {
    let values: BTreeMap<String, f64> = new
        .metrics
        .iter()
        .filter(|(m, _)| Gate::drifts(m))
        .map(|(m, e)| (m.clone(), e.value))
        .collect();
    if values.is_empty() {
        return None;
    }
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let restart = |why: String| {
        Some(Reference {
            since: format!("{why} ({today})"),
            metrics: values.clone(),
        })
    };
    if let Some(why) = accept {
        return restart(format!("drift accepted: {why}"));
    }
    let Some(old) = old else {
        return restart("first blessed".into());
    };
    let Some(old_ref) = &old.reference else {
        return restart("first blessed with a reference point".into());
    };
    if old.profile != new.profile {
        return restart(format!(
            "blessed from a {} build, was {}",
            new.profile, old.profile
        ));
    }
    if let (Some(a), Some(b)) = (&old.instructions, &new.instructions) {
        if (&a.rustc, &a.valgrind, &a.cache) != (&b.rustc, &b.valgrind, &b.cache) {
            return restart(format!("counted with {}, {}", b.rustc, b.valgrind));
        }
    }
    let metrics = values
        .iter()
        .map(|(m, v)| {
            let r = old_ref.metrics.get(m).map_or(*v, |r| r.min(*v));
            (m.clone(), r)
        })
        .collect();
    Some(Reference {
        since: old_ref.since.clone(),
        metrics,
    })
}

/// Adds to `c` (`b`'s comparison with `report`) a drift row per drift-gated metric that was
/// compared and, for each that failed, the commits that contributed.
pub(super) fn check(b: &Baseline, report: &Report, c: &mut Comparison) {
    let (rows, path) = (&c.rows, c.path.as_path());
    let at_rev = std::env::var(DRIFT_REFERENCE_VAR)
        .ok()
        .filter(|r| !r.is_empty());
    let mut drift_rows = Vec::new();
    let mut notes = Vec::new();
    for row in rows {
        if !Gate::drifts(&row.metric) || row.note.is_some() || !row.actual.is_finite() {
            continue;
        }
        let metric = &row.metric;
        let mut drift = Row {
            metric: format!("{metric} drift"),
            baseline: f64::NAN,
            actual: row.actual,
            rule: Rule::AtMost,
            tolerance: Gate::DRIFT_TOLERANCE,
            passed: true,
            note: None,
        };
        let reference = match &at_rev {
            Some(rev) => value_at(path, rev, metric).map_err(|e| (e, false)),
            None => b
                .reference
                .as_ref()
                .and_then(|r| r.metrics.get(metric))
                .copied()
                .ok_or((
                    "no reference point yet: re-bless (UPDATE_BASELINES=1) to start one".to_owned(),
                    true,
                )),
        };
        match reference {
            Ok(r) => {
                drift.baseline = r;
                drift.passed = Rule::AtMost.passes(r, row.actual, Gate::DRIFT_TOLERANCE);
                if let Some(rev) = &at_rev {
                    drift.note = (!drift.passed).then(|| format!("reference: blessed at {rev}"));
                }
            }
            Err((why, passes)) => {
                drift.passed = passes;
                drift.note = Some(why);
            }
        }
        if !drift.passed && drift.baseline.is_finite() {
            notes.extend(contributions(b, report, path, row, drift.baseline));
        }
        drift_rows.push(drift);
    }
    c.rows.extend(drift_rows);
    c.notes.extend(notes);
}

/// The value of `metric` blessed in `path` at git revision `rev`.
fn value_at(path: &Path, rev: &str, metric: &str) -> Result<f64, String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = git::show(dir, rev, &name)
        .map_err(|e| format!("{DRIFT_REFERENCE_VAR}={rev}: {e}"))?
        .ok_or_else(|| format!("{DRIFT_REFERENCE_VAR}={rev}: no {name} at that revision"))?;
    lenient(&text)
        .value(metric)
        .ok_or_else(|| format!("{DRIFT_REFERENCE_VAR}={rev}: {name} has no {metric} there"))
}

/// A baseline file of any schema version, read for what history needs.
struct Lenient {
    json: serde_json::Value,
    parsed: Option<Baseline>,
}

fn lenient(text: &str) -> Lenient {
    Lenient {
        json: serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        parsed: Baseline::parse(text, Path::new("")).ok(),
    }
}

impl Lenient {
    fn value(&self, metric: &str) -> Option<f64> {
        self.json
            .get("metrics")?
            .get(metric)?
            .get("value")?
            .as_f64()
    }

    fn counted(&self) -> Option<&CountedWith> {
        self.parsed.as_ref()?.instructions.as_ref()
    }

    fn since(&self) -> Option<&str> {
        self.json.get("reference")?.get("since")?.as_str()
    }
}

/// One blessing (or this build) that moved a drift-gated metric up.
struct Step {
    delta: f64,
    what: String,
    functions: Vec<String>,
}

/// agent-core's functions whose inclusive instructions moved most between two counts (the
/// one drift-gated figure with function lists; heap bytes have none).
fn moved(older: &[FunctionCost], newer: &[FunctionCost], metric: &str) -> Vec<String> {
    if metric == paths::INSTRUCTIONS {
        attribution(older, newer, 3, Unit::INSTRUCTIONS)
    } else {
        Vec::new()
    }
}

/// The commits that raised `row.metric` since the reference point, largest first, with this
/// build's own step when it is not blessed.
fn contributions(
    b: &Baseline,
    report: &Report,
    path: &Path,
    row: &Row,
    reference: f64,
) -> Vec<String> {
    let metric = &row.metric;
    let pct = |d: f64| 100.0 * d / reference.abs().max(f64::MIN_POSITIVE);
    let mut notes = vec![format!(
        "{metric} is {:+.2}% above its reference point ({}; {}), more than the drift gate's \
         {:.0}%. What raised it, largest first:",
        pct(row.actual - reference),
        crate::format::num(reference),
        b.reference
            .as_ref()
            .map_or("from git", |r| r.since.as_str()),
        Gate::DRIFT_TOLERANCE * 100.0,
    )];
    let mut steps = Vec::new();
    if row.actual > row.baseline {
        steps.push(Step {
            delta: row.actual - row.baseline,
            what: "this build (not blessed)".into(),
            functions: match (&b.instructions, &report.instructions) {
                (Some(c), Some(a)) => {
                    moved(&c.agent_core_inclusive, &a.agent_core_inclusive, metric)
                }
                _ => Vec::new(),
            },
        });
    }
    let current_since = b.reference.as_ref().map(|r| r.since.clone());
    match git::versions(path, ".json", "HEAD") {
        Err(e) => notes.push(format!(
            "  (the blessings that contributed are unknown: {e})"
        )),
        Ok(committed) => {
            let on_disk = std::fs::read_to_string(path).unwrap_or_default();
            let mut versions: Vec<(String, Lenient)> = Vec::new();
            if committed.first().is_none_or(|v| v.text != on_disk) {
                versions.push((
                    "blessed in the work tree, not committed".into(),
                    lenient(&on_disk),
                ));
            }
            versions.extend(committed.iter().map(|v| {
                (
                    format!(
                        "{} {} {}",
                        v.short(),
                        &v.date[..v.date.len().min(10)],
                        v.subject
                    ),
                    lenient(&v.text),
                )
            }));
            for pair in versions.windows(2) {
                let [(what, newer), (_, older)] = pair else {
                    continue;
                };
                let in_series = |l: &Lenient| same_series(l.since(), current_since.as_deref());
                if !in_series(newer) || !in_series(older) {
                    break;
                }
                if let (Some(n), Some(o)) = (newer.value(metric), older.value(metric)) {
                    if n > o {
                        steps.push(Step {
                            delta: n - o,
                            what: what.clone(),
                            functions: match (older.counted(), newer.counted()) {
                                (Some(o), Some(n)) => {
                                    moved(&o.agent_core_inclusive, &n.agent_core_inclusive, metric)
                                }
                                _ => Vec::new(),
                            },
                        });
                    }
                }
            }
        }
    }
    steps.sort_by(|a, b| b.delta.total_cmp(&a.delta));
    for s in steps.iter().take(8) {
        notes.push(format!("  {:+.2}%  {}", pct(s.delta), s.what));
        notes.extend(
            s.functions
                .iter()
                .map(|f| format!("      {}", f.trim_start())),
        );
    }
    if steps.is_empty() {
        notes.push("  (no blessing since the reference point raised it)".into());
    }
    notes.push(format!(
        "Fix the regression, or restart the series with its reason: {ACCEPT_DRIFT_VAR}=\"why\" \
         UPDATE_BASELINES=1 (or `load-tests bless --accept-drift \"why\"`)."
    ));
    notes
}

/// Whether a version whose reference started at `since` is in the series that started at
/// `current` (a version from before references existed is not).
fn same_series(since: Option<&str>, current: Option<&str>) -> bool {
    since.is_some() && since == current
}
