//! A gate run's figures as history records: from the reports the tests save
//! (`<target>/<profile>/load-reports/<scenario>.json`) or a suite report written by `run`.

use std::path::Path;

use super::ids::stable_id;
use super::record::{Record, Source};
use crate::baseline::gates::gates_for;
use crate::report::Report;

/// The records of `report`: one per metric its scenario gates, measured on a `cpu`.
pub fn records(report: &Report, cpu: &str) -> Vec<Record> {
    let e = &report.environment;
    let date = chrono::DateTime::from_timestamp(i64::try_from(e.started_unix_s).unwrap_or(0), 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default();
    let valgrind = report
        .instructions
        .as_ref()
        .map(|i| i.valgrind.clone())
        .unwrap_or_default();
    gates_for(&report.config)
        .iter()
        .filter_map(|g| {
            let value = report.metric(&g.metric).filter(|v| v.is_finite())?;
            Some(Record {
                id: stable_id(&report.scenario, &g.metric),
                commit: e.git_revision.clone(),
                date: date.clone(),
                profile: e.build_profile.clone(),
                rustc: e.rustc.clone(),
                valgrind: if crate::report::paths::COUNTED.contains(&g.metric.as_str()) {
                    valgrind.clone()
                } else {
                    String::new()
                },
                cpu: cpu.to_owned(),
                value,
                source: Source::Run,
            })
        })
        .collect()
}

/// The records of every report in `path`: a directory of the tests' reports, one test report, or
/// a suite report (`report.json` of `run`). Partial runs are left out.
pub fn from_reports(path: &Path) -> Result<Vec<Record>, String> {
    let cpu = crate::report::cpu_model();
    let files = if path.is_dir() {
        let mut f: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: cannot list: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        f.sort();
        f
    } else {
        vec![path.to_owned()]
    };
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let reports: Vec<Report> = if let Some(results) = json.get("results") {
            serde_json::from_value::<Vec<serde_json::Value>>(results.clone())
                .map_err(|e| format!("{}: field `results`: {e}", file.display()))?
                .into_iter()
                .map(|r| serde_json::from_value(r.get("report").cloned().unwrap_or_default()))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: field `results[].report`: {e}", file.display()))?
        } else {
            vec![serde_json::from_value(json)
                .map_err(|e| format!("{}: not a load-test report: {e}", file.display()))?]
        };
        for r in reports.iter().filter(|r| !r.partial) {
            out.extend(records(r, &cpu));
        }
    }
    Ok(out)
}
