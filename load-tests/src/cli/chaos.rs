//! `load-tests chaos`: runs seeded fault schedules (see [`crate::chaos`]) and prints the faults
//! injected by kind, the invariants checked, and the violations with the seeds that replay them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::distributed::runtime;
use super::{CliError, Exit};
use crate::chaos::{run_seed, Outcome, Schedule, Topology};

/// `load-tests chaos`'s options.
#[derive(Args, Debug)]
pub(super) struct ChaosOptions {
    /// How many schedules: seeds FIRST, FIRST+1, ...
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Replay this one seed (as a failure report names it).
    #[arg(long, conflicts_with_all = ["seeds", "first_seed"])]
    seed: Option<u64>,
    /// On a three-node JetStream cluster with R3 streams (members killed, paused and
    /// partitioned) instead of a single server behind per-client proxies.
    #[arg(long)]
    cluster: bool,
    /// Print the schedules the seeds draw, without running them.
    #[arg(long)]
    plan: bool,
    /// Also write every schedule's outcome as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the schedules one after another; exit 1 if any invariant broke.
pub(super) fn chaos(o: &ChaosOptions) -> Result<Exit, CliError> {
    let topology = if o.cluster {
        Topology::Cluster
    } else {
        Topology::Single
    };
    let seeds: Vec<u64> = match o.seed {
        Some(s) => vec![s],
        None => (o.first_seed..o.first_seed + o.seeds).collect(),
    };
    if o.plan {
        for &seed in &seeds {
            let faults = Schedule::draw(seed, topology).describe();
            println!("seed {seed:>4}: {}", faults.join(", "));
        }
        return Ok(Exit::Pass);
    }
    let bin = std::env::current_exe().map_err(|source| CliError::Io {
        path: PathBuf::from("the load-tests executable"),
        what: "find",
        source,
    })?;
    let rt = runtime()?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    for &seed in &seeds {
        let outcome = rt
            .block_on(run_seed(seed, topology, &bin))
            .map_err(|reason| CliError::ChaosSetup { seed, reason })?;
        let verdict = if outcome.violations.is_empty() {
            "ok".to_owned()
        } else {
            format!("VIOLATED: {}", outcome.violations.join("; "))
        };
        println!(
            "seed {seed:>4}: {} ({:.1} s): {verdict}",
            outcome.faults.join(", "),
            outcome.took_ms as f64 / 1e3
        );
        outcomes.push(outcome);
    }
    if let Some(path) = &o.json {
        let text = serde_json::to_string_pretty(&outcomes).unwrap_or_default();
        std::fs::write(path, text).map_err(|source| CliError::Io {
            path: path.clone(),
            what: "write",
            source,
        })?;
    }
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for o in &outcomes {
        for (k, n) in &o.by_kind {
            *kinds.entry(k).or_default() += n;
        }
    }
    let faults: u64 = kinds.values().sum();
    let checked: u64 = outcomes.iter().map(|o| o.checked).sum();
    let failed: Vec<u64> = outcomes
        .iter()
        .filter(|o| !o.violations.is_empty())
        .map(|o| o.seed)
        .collect();
    let violations: usize = outcomes.iter().map(|o| o.violations.len()).sum();
    let redelivered: u64 = outcomes.iter().map(|o| o.redelivered).sum();
    let stored_again: u64 = outcomes.iter().map(|o| o.stored_again_after_restart).sum();
    let place = match topology {
        Topology::Single => "a single server",
        Topology::Cluster => "a three-node cluster (R3)",
    };
    println!(
        "\n{} schedules on {place}: {faults} faults injected; {checked} invariants checked; \
         {violations} violations; {redelivered} jobs redelivered or repeated, {stored_again} \
         stored again after a server restart (all absorbed: effects stored once)",
        outcomes.len()
    );
    for (kind, n) in &kinds {
        println!("  {n:>5}  {kind}");
    }
    if failed.is_empty() {
        return Ok(Exit::Pass);
    }
    let flag = if o.cluster { " --cluster" } else { "" };
    println!("\nfailing seeds: {failed:?}; replay one with: load-tests chaos --seed <SEED>{flag}");
    Ok(Exit::Regression)
}
