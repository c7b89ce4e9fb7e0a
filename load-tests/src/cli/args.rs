//! What `run` and `list` take from the command line: which scenarios, at which scale, and where
//! the reports and baselines are.

use std::path::PathBuf;

use clap::Args;

use super::error::CliError;
use crate::catalog;
use crate::engine;
use crate::scenario::Scenario;

#[derive(Args, Debug, Default)]
pub(super) struct Source {
    /// Scenarios of your own, from a TOML file (`[[scenario]]` tables, the built-in fields).
    #[arg(long, value_name = "FILE")]
    pub(super) file: Option<PathBuf>,
    /// Test scale (what `cargo nextest run` gates) instead of the published reports' full scale.
    #[arg(long)]
    pub(super) quick: bool,
    /// Duration of the sustained-load scenario at full scale, in seconds (the published report's: 180).
    #[arg(long, default_value_t = engine::FullScale::PUBLISHED_SUSTAINED_S, value_name = "SECS")]
    pub(super) sustained_secs: u64,
    /// How long the EventBus loads are held, in seconds (the published report's: 60). Without
    /// it they are held as the test suite holds them (4 s and 3 s), so the run stays short.
    #[arg(long, value_name = "SECS")]
    pub(super) hold_secs: Option<u64>,
}

#[derive(Args, Debug, Default)]
pub(super) struct RunArgs {
    /// Only scenarios matching this name or glob, `*` and `?` (repeatable).
    #[arg(long, value_name = "NAME|GLOB")]
    pub(super) scenario: Vec<String>,
    #[command(flatten)]
    pub(super) source: Source,
    /// Where the reports go [default: load-report/ in the cargo target directory this binary
    /// was built in (`CARGO_TARGET_DIR` respected), else ./target/load-report].
    #[arg(long, value_name = "DIR", default_value_os_t = default_report_dir())]
    pub(super) out: PathBuf,
    /// The baselines directory.
    #[arg(long, default_value = default_baselines())]
    pub(super) baselines: PathBuf,
    /// No progress bars.
    #[arg(long)]
    pub(super) no_progress: bool,
    /// Do not count instructions under valgrind (their gates then say "not counted").
    #[arg(long)]
    pub(super) no_instructions: bool,
    /// Run the bus scenarios against this NATS server or cluster (comma-separated URLs) instead
    /// of a server each scenario starts; the partition and broker-restart faults need a server
    /// the run controls and fail with --nats.
    #[arg(long, value_name = "URL")]
    pub(super) nats: Option<String>,
    /// Serve the run's figures live at http://ADDR/metrics (OpenMetrics text, for Prometheus),
    /// e.g. 127.0.0.1:9464; port 0 picks one. At the end the run waits up to 10 s for one
    /// scrape of the final figures.
    #[arg(long, value_name = "ADDR")]
    pub(super) metrics: Option<std::net::SocketAddr>,
}

/// `load-report/` in the target directory this binary was built in.
pub(super) fn default_report_dir() -> PathBuf {
    nats_testkit::target_dir()
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("load-report")
}

pub(super) fn default_baselines() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../baselines")
}

/// The scenarios `source` names: the standard ones at full or test scale, then the file's.
pub(super) fn scenarios(source: &Source) -> Result<Vec<Scenario>, CliError> {
    let mut all = if source.quick {
        catalog::standard()
    } else {
        engine::full_suite(&engine::FullScale {
            sustained_s: source.sustained_secs,
            hold_s: source.hold_secs,
        })
    };
    if let Some(file) = &source.file {
        let taken: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
        all.extend(engine::user::load(file, &taken)?);
    }
    Ok(all)
}
