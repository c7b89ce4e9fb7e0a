//! `run`: the suite with progress bars, a table per scenario, a summary, and the JSON and HTML
//! reports; and the heap worker it starts for heap-profiled scenarios.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::args::{scenarios, RunArgs};
use super::bars::Bars;
use super::live::Live;
use super::{CliError, Exit};
use crate::engine::{self, console, html};
use crate::scenario::Scenario;

pub(super) fn run(args: &RunArgs) -> Result<Exit, CliError> {
    if !args.baselines.is_dir() {
        return Err(CliError::NoBaselines(args.baselines.clone()));
    }
    let selected =
        engine::select(scenarios(&args.source)?, &args.scenario).map_err(CliError::NoMatch)?;
    let io = |path: &std::path::Path, what| {
        let path = path.to_owned();
        move |source| CliError::Io { path, what, source }
    };
    std::fs::create_dir_all(&args.out).map_err(io(&args.out, "create"))?;
    let stop = Arc::new(AtomicBool::new(false));
    watch_ctrl_c(Arc::clone(&stop));
    let mut helpers = helpers(args.no_instructions)?;
    if let Some(url) = &args.nats {
        let faults: Vec<&str> = selected
            .iter()
            .filter(|s| s.kind.rules().needs_own_server())
            .map(|s| s.name.as_str())
            .collect();
        if !faults.is_empty() {
            return Err(CliError::BadArgument {
                flag: "--nats",
                problem: format!(
                    "{} pause or kill the server, which a run against --nats does not control; \
                     select the others with --scenario (e.g. 'eventbus_*' 'delivery_*crash')",
                    faults.join(" and ")
                ),
            });
        }
        check_nats(url)?;
        helpers.nats = Some(url.clone());
    }
    let live = match args.metrics {
        Some(address) => {
            Some(
                Live::serve(address, &selected).map_err(|problem| CliError::BadArgument {
                    flag: "--metrics",
                    problem,
                })?,
            )
        }
        None => None,
    };
    if let Some(live) = &live {
        println!("Metrics: http://{}/metrics", live.address());
    }
    let mut bars = Bars::new(selected.len(), !args.no_progress);
    let report = match &live {
        Some(live) => engine::run_suite(
            &selected,
            &args.baselines,
            args.source.quick,
            &stop,
            &mut live.observe(&mut bars),
            &helpers,
        )?,
        None => engine::run_suite(
            &selected,
            &args.baselines,
            args.source.quick,
            &stop,
            &mut bars,
            &helpers,
        )?,
    };
    bars.done();
    print!("{}", console::summary(&report));
    let json = args.out.join("report.json");
    let page = args.out.join("report.html");
    let text = serde_json::to_string_pretty(&report).expect("a suite report always serializes");
    std::fs::write(&json, text + "\n").map_err(io(&json, "write"))?;
    let history = args.out.join("history.html");
    let linked = match super::history::page_for_run(&args.baselines, &report) {
        Ok(h) => {
            std::fs::write(&history, h).map_err(io(&history, "write"))?;
            Some("history.html")
        }
        Err(why) => {
            println!("History page not written: {why}");
            None
        }
    };
    std::fs::write(&page, html::render(&report, linked)).map_err(io(&page, "write"))?;
    println!(
        "\nReports: {} and {}{}{}",
        json.display(),
        page.display(),
        if linked.is_some() {
            format!(" (each scenario's history: {})", history.display())
        } else {
            String::new()
        },
        if report.partial { " (PARTIAL)" } else { "" }
    );
    if let Some(live) = &live {
        if !live.finish(std::time::Duration::from_secs(10)) {
            println!("Metrics: nobody scraped the final figures within 10 s");
        }
    }
    Ok(if report.partial && stop.load(Ordering::Relaxed) {
        Exit::Interrupted
    } else if report.regressed() {
        Exit::Regression
    } else if !report.not_run.is_empty() {
        // Could not run (a prerequisite missing): neither a pass nor a regression.
        Exit::Failure
    } else {
        Exit::Pass
    })
}

/// This binary's companions: `<this binary>-heap` beside it runs the heap-profiled scenarios,
/// and this binary itself is what valgrind counts.
fn helpers(no_instructions: bool) -> Result<engine::Helpers, CliError> {
    let exe = std::env::current_exe().map_err(|source| CliError::Io {
        path: PathBuf::from("/proc/self/exe"),
        what: "find this binary",
        source,
    })?;
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let heap_worker = exe.with_file_name(format!("{name}-heap"));
    // Missing, or older than this binary (built from older code: a heap worker left from an
    // earlier build ran the old scenarios and judged them against the new baselines).
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let stale = match (modified(&heap_worker), modified(&exe)) {
        (Some(worker), Some(this)) => worker < this,
        _ => true,
    };
    if stale {
        build_companion(&exe, &heap_worker);
    }
    // Missing prerequisites leave what needs them not run (engine::NotRun), the rest runs.
    let counting_unavailable = if no_instructions {
        None
    } else {
        crate::instructions::valgrind_version()
            .err()
            .map(|e| engine::NotRun {
                what: "instruction counts (every scenario's instructions per operation)".into(),
                reason: e.to_string(),
                fix: engine::INSTALL_VALGRIND.into(),
            })
    };
    Ok(engine::Helpers {
        heap_worker,
        counter: (!no_instructions && counting_unavailable.is_none()).then(|| exe.clone()),
        fleet: exe,
        nats: None,
        counting_unavailable,
    })
}

/// Builds a missing or stale companion binary when this one was started by `cargo run` (which
/// builds only the binary it runs): the README's `cargo run --release -p load-tests` then works on a fresh
/// checkout. The same profile as this binary's (its directory's name). Anything else (not started
/// by cargo, a build failure) leaves the companion missing, which the caller reports.
fn build_companion(exe: &std::path::Path, companion: &std::path::Path) {
    // Only under cargo: a binary started otherwise has no build to add to.
    let (Some(_), Some(bin)) = (
        std::env::var_os("CARGO"),
        companion.file_name().and_then(|n| n.to_str()),
    ) else {
        return;
    };
    let profile = exe
        .parent()
        .and_then(|dir| dir.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    eprintln!("load-tests: building its heap worker `{bin}` ({profile} profile), missing or older than this binary...");
    let mut build = crate::nested_cargo::command();
    build.args(["build", "--quiet", "-p", "load-tests", "--bin", bin]);
    if profile != "debug" {
        build.args(["--profile", profile]);
    }
    if bin.contains("injected") {
        build.args(["--features", "inject-regressions"]);
    }
    if let Err(e) = build.status() {
        eprintln!("load-tests: could not run cargo to build `{bin}`: {e}");
    }
}

/// Connects to `--nats` once before anything runs, so a server that cannot be used (a malformed
/// or unreachable URL, no JetStream, too old) is a clear error and exit 2, not a failed scenario.
fn check_nats(url: &str) -> Result<(), CliError> {
    let rt = super::distributed::runtime()?;
    let config = crate::distributed::nats_config(url);
    rt.block_on(agent_core::bus::nats::NatsTransport::<
        crate::distributed::Traffic,
    >::connect(config))?;
    Ok(())
}

/// The heap worker (`load-tests-heap`): runs the scenario in the JSON file named by its one
/// argument with dhat counting the heap, and prints its report as JSON.
pub fn heap_worker_main() -> ExitCode {
    let Some(file) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: load-tests-heap SCENARIO.json (started by load-tests)");
        return Exit::BadInput.into();
    };
    let result = (|| -> Result<String, CliError> {
        let text = std::fs::read_to_string(&file).map_err(|source| CliError::Io {
            path: file.clone(),
            what: "read",
            source,
        })?;
        let scenario: Scenario =
            serde_json::from_str(&text).map_err(|e| engine::ReportFileError::Parse {
                path: file.clone(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        let report = engine::run_here(&scenario, &crate::runner::RunOptions::default())?;
        Ok(report.to_json())
    })();
    match result {
        Ok(json) => {
            println!("{json}");
            Exit::Pass.into()
        }
        Err(e) => {
            eprintln!("load-tests-heap: {e}");
            e.exit().into()
        }
    }
}

/// The first Ctrl-C asks the suite to stop (the current scenario ends early, the partial report
/// is written); a second one exits at once.
fn watch_ctrl_c(stop: Arc<AtomicBool>) {
    let result = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nload-tests: stopping after the current scenario's partial run (Ctrl-C again to quit at once)");
    });
    if let Err(e) = result {
        eprintln!("load-tests: Ctrl-C will not stop cleanly: {e}");
    }
}
