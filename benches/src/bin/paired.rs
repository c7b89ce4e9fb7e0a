//! Paired benchmark comparison of two revisions, and its calibration.
//!
//! `paired compare --base main` builds the probe at `main` (in a temporary git worktree) and in
//! the working tree, runs them alternately, prints a table and exits 1 when a benchmark is slower
//! past the threshold. `paired calibrate` measures the method on this machine: how often a
//! revision compared with itself raises a false alarm, and how often injected slowdowns are caught.
//!
//! Exit codes: 0 no slowdown, 1 a slowdown past the threshold, 2 bad usage or a failed build.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benches::paired::{self, build, Arm, Settings, Verdict};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    about = "Paired (ABBA) benchmark comparison of two git revisions",
    after_help = "Exit codes: 0 no slowdown past the threshold, 1 a slowdown, 2 bad usage or a failed build."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Compares the working tree (or --head) against --base.
    Compare {
        /// The base revision (branch, tag or commit).
        #[arg(long)]
        base: String,
        /// The head revision; the working tree as it is when omitted.
        #[arg(long)]
        head: Option<String>,
        #[command(flatten)]
        opts: Opts,
        /// Appends the Markdown table to this file (for example "$GITHUB_STEP_SUMMARY").
        #[arg(long)]
        summary: Option<PathBuf>,
        /// Writes every sample and estimate as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Measures false alarms (HEAD against itself) and detection of injected slowdowns.
    Calibrate {
        /// Comparisons per condition.
        #[arg(long, default_value_t = 20)]
        comparisons: usize,
        /// Injected slowdowns to try, as fractions.
        #[arg(long, value_delimiter = ',', default_value = "0.10,0.25")]
        slowdowns: Vec<f64>,
        #[command(flatten)]
        opts: Opts,
    },
}

#[derive(Args, Debug)]
struct Opts {
    /// A benchmark to run (repeatable); all the probe offers when omitted.
    #[arg(long = "bench")]
    benches: Vec<String>,
    /// ABBA rounds; each gives two paired ratios per benchmark.
    #[arg(long, default_value_t = 8)]
    rounds: usize,
    /// Timed iterations per probe run.
    #[arg(long, default_value_t = 7)]
    iterations: usize,
    /// Slowdown threshold in percent, applied to the interval's lower bound.
    #[arg(long, default_value_t = 2.0)]
    threshold: f64,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("paired: {e}");
            ExitCode::from(2)
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn run(cli: Cli) -> Result<ExitCode, Error> {
    let root = build::repo_root()?;
    let work = root.join("target/paired");
    std::fs::create_dir_all(&work)?;
    match cli.command {
        Cmd::Compare {
            base,
            head,
            opts,
            summary,
            json,
        } => {
            let base_arm = build_arm(&root, &work, Some(&base), "base")?;
            let head_arm = build_arm(&root, &work, head.as_deref(), "head")?;
            let settings = settings(&opts, &head_arm)?;
            let results = paired::compare(&base_arm, &head_arm, &settings, |p| {
                eprintln!("paired: {p}");
            })?;
            let table = paired::table(&base_arm, &head_arm, &settings, &results);
            println!("{table}");
            if let Some(path) = summary {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                writeln!(f, "{table}")?;
            }
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&results)?)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            let slower: Vec<&str> = results
                .iter()
                .filter(|r| r.verdict == Verdict::Slower)
                .map(|r| r.name.as_str())
                .collect();
            if slower.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("paired: slower past the threshold: {}", slower.join(", "));
                Ok(ExitCode::from(1))
            }
        }
        Cmd::Calibrate {
            comparisons,
            slowdowns,
            opts,
        } => calibrate(&root, &work, comparisons, &slowdowns, &opts),
    }
}

/// Builds the probe at `rev` (a temporary worktree) or of the working tree (`None`).
fn build_arm(root: &Path, work: &Path, rev: Option<&str>, side: &str) -> Result<Arm, Error> {
    let binary = work.join(format!("bench-probe-{side}"));
    let target = root.join("target");
    let label = match rev {
        Some(rev) => {
            let commit = build::resolve(root, rev)?;
            eprintln!("paired: building {side} at {rev} ({})", &commit[..12]);
            let tree = build::Worktree::add(root, &commit)?;
            build::build_probe(tree.path(), &target, &binary, rev)?;
            format!("{rev} ({})", &commit[..12])
        }
        None => {
            eprintln!("paired: building {side} from the working tree");
            build::build_probe(root, &target, &binary, "working tree")?;
            "working tree".to_owned()
        }
    };
    Ok(Arm {
        label,
        binary,
        inject: 0.0,
    })
}

fn settings(opts: &Opts, head: &Arm) -> Result<Settings, Error> {
    let known = paired::list(head)?;
    let benches = if opts.benches.is_empty() {
        known
    } else {
        for b in &opts.benches {
            if !known.contains(b) {
                return Err(format!("no benchmark named {b:?}; the probe offers {known:?}").into());
            }
        }
        opts.benches.clone()
    };
    if opts.rounds < 2 {
        return Err("--rounds must be at least 2 (4 pairs) for an interval".into());
    }
    if !(0.0..100.0).contains(&opts.threshold) {
        return Err(format!(
            "--threshold must be a percentage in 0..100, got {}",
            opts.threshold
        )
        .into());
    }
    Ok(Settings {
        benches,
        rounds: opts.rounds,
        iterations: opts.iterations.max(1),
        threshold: opts.threshold / 100.0,
        confidence: 0.95,
    })
}

/// HEAD built twice (a worktree and the working tree, as a real comparison does), compared with
/// itself `comparisons` times, then with each slowdown injected into the head side.
fn calibrate(
    root: &Path,
    work: &Path,
    comparisons: usize,
    slowdowns: &[f64],
    opts: &Opts,
) -> Result<ExitCode, Error> {
    let base = build_arm(root, work, Some("HEAD"), "base")?;
    let head = build_arm(root, work, None, "head")?;
    let settings = settings(opts, &head)?;
    let mut conditions = vec![0.0];
    conditions.extend_from_slice(slowdowns);
    println!(
        "Calibration: {comparisons} comparisons per condition, {} ABBA rounds x {} iterations, \
         threshold {:.0}%, benchmarks {:?}",
        settings.rounds,
        settings.iterations,
        settings.threshold * 100.0,
        settings.benches
    );
    println!();
    println!("| injected slowdown | comparisons failing (any benchmark) | benchmark verdicts \"slower\" | median head/base (min - max over comparisons) |");
    println!("|---|---|---|---|");
    for &inject in &conditions {
        let head = Arm {
            inject,
            ..head.clone()
        };
        let (mut failing, mut slower, mut verdicts) = (0, 0, 0);
        let mut medians = Vec::new();
        for i in 0..comparisons {
            let results = paired::compare(&base, &head, &settings, |_| {})?;
            let flagged = results
                .iter()
                .filter(|r| r.verdict == Verdict::Slower)
                .count();
            failing += usize::from(flagged > 0);
            slower += flagged;
            verdicts += results.len();
            medians.extend(results.iter().map(|r| r.estimate.median));
            eprintln!(
                "paired: slowdown {:.0}% comparison {}/{comparisons}: {}",
                inject * 100.0,
                i + 1,
                results
                    .iter()
                    .map(|r| format!(
                        "{} {:.3} [{:.3}, {:.3}] {:?}",
                        r.name, r.estimate.median, r.estimate.low, r.estimate.high, r.verdict
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        medians.sort_by(f64::total_cmp);
        println!(
            "| {:.0}% | {failing}/{comparisons} | {slower}/{verdicts} | {:.3} ({:.3} - {:.3}) |",
            inject * 100.0,
            benches::stats::median(&medians),
            medians.first().copied().unwrap_or(f64::NAN),
            medians.last().copied().unwrap_or(f64::NAN),
        );
    }
    Ok(ExitCode::SUCCESS)
}
