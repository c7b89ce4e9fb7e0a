//! The values blessed into `baselines/` across the git log, as history records: a fresh clone
//! has a history from its first commit, before any run recorded one.

use std::path::Path;

use super::git;
use super::ids::stable_id;
use super::record::{Record, Source};

/// Every value blessed in the baseline files under `dir` at each commit that changed them (as of
/// `HEAD`), oldest first. A file of any schema version is read for what it has: its profile
/// (`debug` before profiles were recorded), its counting conditions, its metrics' values.
pub fn blessed(dir: &Path) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    for v in git::versions(dir, ".json", "HEAD")?.into_iter().rev() {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&v.text) else {
            continue;
        };
        let scenario = json.get("scenario").and_then(|s| s.as_str()).map_or_else(
            || v.file.trim_end_matches(".json").to_owned(),
            str::to_owned,
        );
        let text =
            |v: Option<&serde_json::Value>| v.and_then(|s| s.as_str()).unwrap_or("").to_owned();
        let counted = json.get("instructions");
        let profile = json
            .get("profile")
            .and_then(|p| p.as_str())
            .unwrap_or("debug");
        let Some(metrics) = json.get("metrics").and_then(|m| m.as_object()) else {
            continue;
        };
        for (metric, entry) in metrics {
            let Some(value) = entry.get("value").and_then(serde_json::Value::as_f64) else {
                continue;
            };
            records.push(Record {
                id: stable_id(&scenario, metric),
                commit: v.commit.clone(),
                date: v.date.clone(),
                profile: profile.to_owned(),
                rustc: text(counted.and_then(|c| c.get("rustc"))),
                valgrind: text(counted.and_then(|c| c.get("valgrind"))),
                cpu: String::new(),
                value,
                source: Source::Blessed,
            });
        }
    }
    Ok(records)
}
