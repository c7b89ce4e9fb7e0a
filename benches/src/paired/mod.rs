//! The paired comparison of two builds: the probe of each revision run alternately (ABBA within
//! every round, so drift of the machine hits both sides alike), one head/base ratio per adjacent
//! pair, and per benchmark the median ratio with a bootstrap confidence interval. A benchmark is
//! a regression when even the interval's lower bound is past the threshold.

pub mod build;
pub mod stats;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

pub use stats::Estimate;

/// One side of the comparison: a built probe binary, and (for calibration only) a slowdown
/// injected into every iteration it runs.
#[derive(Clone, Debug)]
pub struct Arm {
    /// What the side is, for tables (a revision, or "working tree").
    pub label: String,
    /// The probe binary.
    pub binary: PathBuf,
    /// The fraction of extra busy time per iteration (0 for real comparisons).
    pub inject: f64,
}

/// How to compare.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Benchmarks to run, by probe name.
    pub benches: Vec<String>,
    /// ABBA rounds; each gives two pairs per benchmark.
    pub rounds: usize,
    /// Timed iterations per probe run (the run reports their median).
    pub iterations: usize,
    /// A slowdown past this fraction (0.05 = 5%) at the interval's lower bound fails.
    pub threshold: f64,
    /// The confidence of the interval (0.95).
    pub confidence: f64,
}

/// What a benchmark's interval says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Head is slower by more than the threshold even at the interval's lower bound.
    Slower,
    /// Head is faster by more than the threshold even at the interval's upper bound.
    Faster,
    /// Neither.
    NoChange,
}

/// One benchmark's result.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// The benchmark.
    pub name: String,
    /// Base run medians, in nanoseconds, in run order.
    pub base_ns: Vec<u64>,
    /// Head run medians, in nanoseconds, in run order.
    pub head_ns: Vec<u64>,
    /// Head/base time ratios of adjacent pairs.
    pub ratios: Vec<f64>,
    /// Median ratio and its interval.
    pub estimate: Estimate,
    /// The verdict at the threshold.
    pub verdict: Verdict,
}

/// Why a probe run failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The probe could not be run or failed.
    #[error(transparent)]
    Run(#[from] build::BuildError),
    /// The probe printed something that is not a duration.
    #[error("{binary} printed {output:?}, not a duration in nanoseconds")]
    Output {
        /// The probe binary.
        binary: String,
        /// What it printed.
        output: String,
    },
}

/// Runs `bench` once on `arm`: the median of `iterations` iterations, in nanoseconds.
pub fn probe(arm: &Arm, bench: &str, iterations: usize) -> Result<u64, ProbeError> {
    let out = build::run(
        Command::new(&arm.binary)
            .args(["run", bench, "--iterations"])
            .arg(iterations.to_string())
            .arg("--inject-slowdown")
            .arg(arm.inject.to_string()),
    )?;
    out.trim().parse().map_err(|_| ProbeError::Output {
        binary: arm.binary.display().to_string(),
        output: out,
    })
}

/// The benchmarks `arm`'s probe offers.
pub fn list(arm: &Arm) -> Result<Vec<String>, ProbeError> {
    let out = build::run(Command::new(&arm.binary).arg("list"))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split('\t').next())
        .map(str::to_owned)
        .collect())
}

/// Compares `head` with `base`: `rounds` ABBA rounds over every benchmark (benchmarks
/// interleaved within a round). `progress` hears about each completed probe run.
pub fn compare(
    base: &Arm,
    head: &Arm,
    settings: &Settings,
    mut progress: impl FnMut(&str),
) -> Result<Vec<BenchResult>, ProbeError> {
    let n = settings.benches.len();
    let mut base_ns = vec![Vec::new(); n];
    let mut head_ns = vec![Vec::new(); n];
    let mut ratios = vec![Vec::new(); n];
    for round in 0..settings.rounds {
        for (i, bench) in settings.benches.iter().enumerate() {
            // A B B A: the first pair has base first, the second head first.
            let a1 = probe(base, bench, settings.iterations)?;
            let b1 = probe(head, bench, settings.iterations)?;
            let b2 = probe(head, bench, settings.iterations)?;
            let a2 = probe(base, bench, settings.iterations)?;
            ratios[i].push(b1 as f64 / a1 as f64);
            ratios[i].push(b2 as f64 / a2 as f64);
            base_ns[i].extend([a1, a2]);
            head_ns[i].extend([b1, b2]);
            progress(&format!("round {}/{} {bench}", round + 1, settings.rounds));
        }
    }
    Ok(settings
        .benches
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let estimate = stats::bootstrap_median(&ratios[i], settings.confidence);
            BenchResult {
                name: name.clone(),
                base_ns: std::mem::take(&mut base_ns[i]),
                head_ns: std::mem::take(&mut head_ns[i]),
                ratios: std::mem::take(&mut ratios[i]),
                verdict: verdict(&estimate, settings.threshold),
                estimate,
            }
        })
        .collect())
}

/// The verdict of an interval at `threshold`.
pub fn verdict(e: &Estimate, threshold: f64) -> Verdict {
    if e.low > 1.0 + threshold {
        Verdict::Slower
    } else if e.high < 1.0 - threshold {
        Verdict::Faster
    } else {
        Verdict::NoChange
    }
}

/// The results as a Markdown table (for a terminal or a GitHub job summary).
pub fn table(base: &Arm, head: &Arm, settings: &Settings, results: &[BenchResult]) -> String {
    let ms = |v: &[u64]| {
        let f: Vec<f64> = v.iter().map(|&n| n as f64).collect();
        Duration::from_nanos(crate::stats::median(&f) as u64).as_secs_f64() * 1e3
    };
    let mut t = format!(
        "Paired comparison: head `{}` vs base `{}`, {} ABBA rounds ({} pairs per benchmark), \
         threshold {:.0}%, {:.0}% bootstrap interval of the median head/base time ratio.\n\n\
         | benchmark | base (ms) | head (ms) | head/base | {:.0}% interval | verdict |\n\
         |---|---|---|---|---|---|\n",
        head.label,
        base.label,
        settings.rounds,
        2 * settings.rounds,
        settings.threshold * 100.0,
        settings.confidence * 100.0,
        settings.confidence * 100.0,
    );
    for r in results {
        t.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} - {:.3} | {} |\n",
            r.name,
            ms(&r.base_ns),
            ms(&r.head_ns),
            r.estimate.median,
            r.estimate.low,
            r.estimate.high,
            match r.verdict {
                Verdict::Slower => "**slower**",
                Verdict::Faster => "faster",
                Verdict::NoChange => "no change",
            }
        ));
    }
    t
}
