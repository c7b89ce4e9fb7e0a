//! Paced messaging (seed 001's profiles and seed 000's peak rate, offered at the seeds' own
//! rates): the messaging kind's traffic, open loop. Message `j` is due `j / rate` after the round
//! starts (the scenario's `arrival = { type = "open", rate_per_s }`), whether or not earlier ones
//! were accepted, and its latency is measured from that due time, so a stall is counted in full
//! (no coordinated omission). The same schedule over raw tokio channels runs in the same process
//! beside it: at a rate both keep up with, the comparison is latency at equal load, which is what
//! the seeds' tables report, where the messaging kind measures capacity.

mod run;

use serde::{Deserialize, Serialize};

/// The paced kind has no parameters of its own: the rate is the scenario's open-loop arrival
/// rate, the number of messages its `agents x ops_per_agent`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paced {}
