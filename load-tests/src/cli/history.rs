//! `load-tests history`: every gated figure over the commits (blessed values from the git log,
//! recorded gate runs from the `perf-history` branch and files), change points in the noisy
//! ones, and a page of plots; `load-tests history record` appends a run's figures.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::args::default_baselines;
use super::error::{CliError, Exit};
use crate::engine::{self, SuiteReport};
use crate::history::changepoint::Config;
use crate::history::record::{self, Record};
use crate::history::series::{self, Kind, Series};
use crate::history::{blessed, git, runs};

/// The file on the history branch.
pub(super) const HISTORY_FILE: &str = "history.jsonl";
/// The branch gate runs on main append to.
pub(super) const HISTORY_BRANCH: &str = "perf-history";

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct HistoryArgs {
    #[command(subcommand)]
    command: Option<HistoryCommand>,
    #[command(flatten)]
    show: ShowArgs,
}

#[derive(Subcommand, Debug)]
enum HistoryCommand {
    /// Appends a gate run's figures to the history: one record per scenario and gated metric
    /// (commit, date, profile, rustc, valgrind, CPU model, value).
    Record(RecordArgs),
}

#[derive(Args, Debug)]
struct ShowArgs {
    /// The baselines directory, whose blessed values across the git log start the history.
    #[arg(long, default_value = default_baselines())]
    baselines: PathBuf,
    /// Leave the blessed values out.
    #[arg(long)]
    no_blessed: bool,
    /// Recorded runs from this JSON Lines file too (repeatable).
    #[arg(long, value_name = "FILE")]
    records: Vec<PathBuf>,
    /// Recorded runs from `history.jsonl` on this branch (or `origin/<branch>`), when it exists.
    #[arg(long, default_value = HISTORY_BRANCH, value_name = "BRANCH")]
    branch: String,
    /// Only scenarios matching this name or glob (repeatable).
    #[arg(long, value_name = "NAME|GLOB")]
    scenario: Vec<String>,
    /// Write the plots to this HTML file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RecordArgs {
    /// A directory of the tests' reports, a test's report, or a suite report [default: the
    /// reports the test command saved, <target>/debug/load-reports].
    #[arg(long, value_name = "PATH")]
    reports: Option<PathBuf>,
    /// Records already made (JSON Lines from `history record --append` on the machine that ran
    /// the tests, so that its CPU model is the one recorded), appended as they are.
    #[arg(long, value_name = "FILE", conflicts_with = "reports")]
    records: Option<PathBuf>,
    /// Append to this JSON Lines file.
    #[arg(long, value_name = "FILE", conflicts_with = "branch")]
    append: Option<PathBuf>,
    /// Append to `history.jsonl` on this branch, as one commit made without touching the work
    /// tree (what CI on main does before pushing the branch).
    #[arg(long, value_name = "BRANCH")]
    branch: Option<String>,
}

pub(super) fn history(args: &HistoryArgs) -> Result<Exit, CliError> {
    match &args.command {
        Some(HistoryCommand::Record(r)) => record_run(r),
        None => show(&args.show),
    }
}

fn record_run(args: &RecordArgs) -> Result<Exit, CliError> {
    let reports = args.reports.clone().unwrap_or_else(|| {
        nats_testkit::target_dir()
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("debug/load-reports")
    });
    let (records, from) = match &args.records {
        Some(file) => (read_records(file)?, file),
        None => (
            runs::from_reports(&reports).map_err(CliError::History)?,
            &reports,
        ),
    };
    if records.is_empty() {
        return Err(CliError::History(format!(
            "{}: nothing to record (run the tests or the suite first)",
            from.display()
        )));
    }
    let lines = record::to_lines(&records);
    let scenarios = records
        .iter()
        .map(Record::scenario)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    match (&args.append, &args.branch) {
        (Some(file), _) => {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
                .and_then(|mut f| f.write_all(lines.as_bytes()))
                .map_err(|source| CliError::Io {
                    path: file.clone(),
                    what: "append to",
                    source,
                })?;
            println!(
                "appended {} records ({scenarios} scenarios) to {}",
                records.len(),
                file.display()
            );
        }
        (None, Some(branch)) => {
            let message = format!(
                "history: {} at {} ({} records)",
                records[0].profile,
                records[0].commit,
                records.len()
            );
            let commit =
                git::append_to_branch(Path::new("."), branch, HISTORY_FILE, &lines, &message)
                    .map_err(CliError::History)?;
            println!(
                "appended {} records ({scenarios} scenarios) to {branch}:{HISTORY_FILE} as {}",
                records.len(),
                &commit[..commit.len().min(10)]
            );
        }
        (None, None) => print!("{lines}"),
    }
    Ok(Exit::Pass)
}

/// The records in `file`, given with `--records`: a file that is not there is bad input (the
/// history's own reader takes a missing file as an empty history).
fn read_records(file: &Path) -> Result<Vec<Record>, CliError> {
    if !file.exists() {
        return Err(CliError::BadArgument {
            flag: "--records",
            problem: format!("{}: no such file", file.display()),
        });
    }
    Ok(record::read(file)?)
}

/// Every record `args` names: blessings, the branch's, the files'.
fn gather(args: &ShowArgs) -> Result<(Vec<Record>, Vec<String>), CliError> {
    let (mut records, mut sources) =
        recorded(&args.baselines, !args.no_blessed, &args.branch).map_err(CliError::History)?;
    for file in &args.records {
        let r = read_records(file)?;
        sources.push(format!("{} from {}", r.len(), file.display()));
        records.extend(r);
    }
    if !args.scenario.is_empty() {
        records.retain(|r| {
            args.scenario
                .iter()
                .any(|p| engine::matches(p, r.scenario()))
        });
        sources.push(format!(
            "{} of them of {}",
            records.len(),
            args.scenario.join(", ")
        ));
    }
    Ok((records, sources))
}

/// The blessings in `baselines`' git log (when `with_blessed`) and the runs recorded on
/// `branch` (or `origin/<branch>`), with a phrase for each source.
fn recorded(
    baselines: &Path,
    with_blessed: bool,
    branch: &str,
) -> Result<(Vec<Record>, Vec<String>), String> {
    let mut records = Vec::new();
    let mut sources = Vec::new();
    if with_blessed {
        if !baselines.is_dir() {
            return Err(format!("{}: no baselines directory", baselines.display()));
        }
        let b = blessed::blessed(baselines)?;
        sources.push(format!("{} blessed values from the git log", b.len()));
        records.extend(b);
    }
    let repo = if baselines.is_dir() {
        baselines
    } else {
        Path::new(".")
    };
    for rev in [branch.to_owned(), format!("origin/{branch}")] {
        if git::resolve(repo, &rev).is_none() {
            continue;
        }
        if let Some(text) = git::show_from_root(repo, &rev, HISTORY_FILE)? {
            let r = record::parse(&text, &format!("{rev}:{HISTORY_FILE}"))
                .map_err(|e| e.to_string())?;
            sources.push(format!("{} recorded on {rev}", r.len()));
            records.extend(r);
            break;
        }
    }
    Ok((records, sources))
}

/// The history page beside a suite run's report: the blessings, the recorded runs, and this
/// run's figures as the newest points.
pub(super) fn page_for_run(baselines: &Path, suite: &SuiteReport) -> Result<String, String> {
    let (mut records, mut sources) = recorded(baselines, true, HISTORY_BRANCH)?;
    let cpu = &suite.cpu_model;
    let this_run: Vec<Record> = suite
        .results
        .iter()
        .filter(|r| !r.report.partial)
        .flat_map(|r| runs::records(&r.report, cpu))
        .collect();
    sources.push(format!("{} from this run", this_run.len()));
    records.extend(this_run);
    let all = series::build(records, &Config::default());
    Ok(engine::history_page::render(&all, &sources.join(", ")))
}

fn show(args: &ShowArgs) -> Result<Exit, CliError> {
    let (records, sources) = gather(args)?;
    let all = series::build(records, &Config::default());
    let what = sources.join(", ");
    println!("{} series: {what}", all.len());
    print_changes(&all);
    if let Some(path) = &args.html {
        std::fs::write(path, engine::history_page::render(&all, &what)).map_err(|source| {
            CliError::Io {
                path: path.clone(),
                what: "write",
                source,
            }
        })?;
        println!("plots: {}", path.display());
    }
    Ok(Exit::Pass)
}

fn print_changes(all: &[Series]) {
    let noisy = all.iter().filter(|s| s.kind == Kind::Noisy).count();
    let changes: usize = all.iter().map(|s| s.change_points.len()).sum();
    println!("change points in the {noisy} real-time ratio series: {changes}");
    for s in all {
        for c in &s.change_points {
            let p = &s.points[c.index];
            println!(
                "  {} ({}): {:.3} -> {:.3} ({:+.1}%, p = {:.1e}) from {} {}",
                s.id,
                s.profile,
                c.before,
                c.after,
                c.change_pct(),
                c.p_value,
                &p.commit[..p.commit.len().min(10)],
                &p.date[..p.date.len().min(10)]
            );
        }
    }
}
