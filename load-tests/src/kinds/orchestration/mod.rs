//! Orchestration (seed 004): the multi-domain workflow (score, draft with a 2 s approval, assess,
//! qualify across three budgeted domains), `agents` executions in parallel.

mod run;

use serde::{Deserialize, Serialize};

/// The orchestration kind has no parameters of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orchestration {}
