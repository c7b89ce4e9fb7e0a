//! One figure at one commit ([`Record`]), and the JSON Lines file that holds them: append-only,
//! one record per line, so that a branch of them merges and diffs line by line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ids;

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Blessed into `baselines/` at that commit (read from the git log).
    Blessed,
    /// Measured by a gate run on main (`load-tests history record`).
    Run,
}

/// One gated figure of one scenario at one commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The series' stable id, `<scenario>/<metric>` under today's names ([`ids::stable_id`]).
    pub id: String,
    /// The commit measured (`-dirty` when the tree had changes) or blessed at.
    pub commit: String,
    /// When, RFC 3339 (the commit date of a blessing, the start of a run).
    pub date: String,
    /// `debug` or `release`: series of the two profiles are never mixed.
    pub profile: String,
    /// `rustc -V` of the build.
    pub rustc: String,
    /// `valgrind --version` of a count, empty when the figure is not counted.
    #[serde(default)]
    pub valgrind: String,
    /// The CPU's model name, empty when unknown (a blessing does not say).
    #[serde(default)]
    pub cpu: String,
    /// The figure.
    pub value: f64,
    /// Blessed or measured.
    pub source: Source,
}

impl Record {
    /// The scenario part of the id.
    pub fn scenario(&self) -> &str {
        self.id.split_once('/').map_or(&self.id, |(s, _)| s)
    }

    /// The metric part of the id.
    pub fn metric(&self) -> &str {
        self.id.split_once('/').map_or("", |(_, m)| m)
    }
}

/// A history file that cannot be read; names the file (or branch) and the line.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {problem}")]
pub struct ParseError {
    /// The file, or `branch:file`.
    pub origin: String,
    /// The line, from 1.
    pub line: usize,
    /// What is wrong, with the field.
    pub problem: String,
}

/// Parses JSON Lines `text` (from `origin`), renaming ids to today's names. Blank lines are
/// skipped.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Record>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let mut r: Record = serde_json::from_str(l).map_err(|e| ParseError {
                origin: origin.to_owned(),
                line: i + 1,
                problem: e.to_string(),
            })?;
            if !r.value.is_finite() || !r.id.contains('/') {
                return Err(ParseError {
                    origin: origin.to_owned(),
                    line: i + 1,
                    problem: if r.value.is_finite() {
                        format!("field `id`: {:?} is not <scenario>/<metric>", r.id)
                    } else {
                        "field `value`: must be a finite number".to_owned()
                    },
                });
            }
            r.id = ids::current(&r.id);
            Ok(r)
        })
        .collect()
}

/// Reads a JSON Lines file; a missing file is an empty history.
pub fn read(path: &Path) -> Result<Vec<Record>, ParseError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ParseError {
            origin: path.display().to_string(),
            line: 0,
            problem: format!("cannot read: {e}"),
        }),
    }
}

/// `records` as JSON Lines, one per line, each ending in a newline.
pub fn to_lines(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).expect("a record always serializes") + "\n")
        .collect()
}
