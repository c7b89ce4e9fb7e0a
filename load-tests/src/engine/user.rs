//! User-defined scenarios from a TOML file: the same fields as the built-in ones, one
//! `[[scenario]]` table each. Unknown fields are rejected; every error names the file, the line
//! and the field.
//!
//! A documented example, run by a test: `load-tests/scenarios/example.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::runner::{self, RunError};
use crate::scenario::Scenario;

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: Vec<Scenario>,
}

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, a field unknown, missing or of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A value out of range (the runner's own checks).
    #[error("{}:{line}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the scenario's `name`.
        line: usize,
        /// The runner's complaint, naming the scenario and field.
        source: RunError,
    },
    /// Two scenarios (or one and a built-in) share a name.
    #[error("{}:{line}: scenario name {name:?} is already taken", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line of the second `name`.
        line: usize,
        /// The name.
        name: String,
    },
}

/// Reads and validates the scenarios in `path`; `taken` are names already in use.
pub fn load(path: &Path, taken: &[String]) -> Result<Vec<Scenario>, UserScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| UserScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path, taken)
}

/// [`load`] on text already read.
pub fn parse(
    text: &str,
    path: &Path,
    taken: &[String],
) -> Result<Vec<Scenario>, UserScenarioError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((0, 0), |span| line_column(text, span.start));
        UserScenarioError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;
    let mut names: Vec<String> = taken.to_vec();
    for (i, s) in file.scenario.iter().enumerate() {
        let earlier = file.scenario[..i]
            .iter()
            .filter(|o| o.name == s.name)
            .count();
        let line = name_line(text, &s.name, earlier);
        runner::validate(s)
            .and_then(|()| match s.kind.standalone() {
                Some(_) => Ok(()),
                None => Err(RunError::NeedsItsTest {
                    scenario: s.name.clone(),
                    kind: s.kind.name(),
                }),
            })
            .map_err(|source| UserScenarioError::Invalid {
                path: path.to_owned(),
                line,
                source,
            })?;
        if names.contains(&s.name) {
            return Err(UserScenarioError::Duplicate {
                path: path.to_owned(),
                line,
                name: s.name.clone(),
            });
        }
        names.push(s.name.clone());
    }
    Ok(file.scenario)
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The line of the `nth` (from 0) `name = "<name>"` in `text` (0 when not found).
fn name_line(text: &str, name: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            l.starts_with("name") && l.contains(&format!("\"{name}\""))
        })
        .nth(nth)
        .map_or(0, |(i, _)| i + 1)
}
