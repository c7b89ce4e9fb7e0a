//! The `load-tests` command line: runs the load suite and writes its reports. The binaries in
//! `src/main.rs` and `src/bin/` are thin wrappers around [`main`] and [`heap_worker_main`].
//!
//! ```text
//! cargo run --release -p load-tests                   # the whole suite at the published reports' full scale
//! cargo run --release -p load-tests -- list           # scenarios, one line each
//! cargo run --release -p load-tests -- run --scenario 'phantom_*' --quick
//! cargo run --release -p load-tests -- compare old.json new.json
//! cargo run --release -p load-tests -- bless --scenario '*_full'
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::catalog;
use crate::scenario::Scenario;
use crate::suite::{self, console, html, Observer, ScenarioResult, SuiteReport};
use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

const EXIT_HELP: &str = "Exit codes: 0 every scenario within its baseline (or without one), \
1 a regression (a gated metric outside its baseline, or a broken invariant), \
2 bad usage or input, 130 stopped by Ctrl-C (the partial report is still written).";

#[derive(Parser, Debug)]
#[command(
    name = "load-tests",
    about = "Runs agent-core's load suite and writes JSON and HTML reports",
    after_help = EXIT_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `run`'s options, when no subcommand is given.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists the scenarios with one-line descriptions.
    List {
        #[command(flatten)]
        source: Source,
    },
    /// Runs the suite (the default): progress, a table per scenario, a summary, reports.
    Run(RunArgs),
    /// Compares two suite reports: a table of deltas per scenario. Exits 1 when a scenario's
    /// instructions per operation rose by more than the instruction gate's tolerance (counts are
    /// exact, so this is a noise-free verdict between two builds, e.g. a branch and its base).
    Compare {
        /// The older report (JSON written by `run`).
        a: PathBuf,
        /// The newer report.
        b: PathBuf,
    },
    /// Rewrites baselines from a run's report (refused when CI is set).
    Bless {
        /// The suite report to bless from.
        #[arg(long, default_value = "target/load-report/report.json")]
        report: PathBuf,
        /// Only scenarios matching this name or glob (repeatable).
        #[arg(long)]
        scenario: Vec<String>,
        /// The baselines directory.
        #[arg(long, default_value = default_baselines())]
        baselines: PathBuf,
    },
    /// Runs one scenario's counting form inside the window callgrind counts (the child side of
    /// instruction counting; started by the suite under valgrind, not by hand).
    #[command(name = crate::instructions::CHILD_COMMAND, hide = true)]
    CountInstructions {
        /// The scenario, as JSON.
        scenario: PathBuf,
    },
}

#[derive(Args, Debug, Default)]
struct Source {
    /// Scenarios of your own, from a TOML file (`[[scenario]]` tables, the built-in fields).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Test scale (what `cargo nextest run` gates) instead of the published reports' full scale.
    #[arg(long)]
    quick: bool,
    /// Duration of the sustained-load scenario at full scale, in seconds (the published report's: 180).
    #[arg(long, default_value_t = suite::PUBLISHED_SUSTAINED_S, value_name = "SECS")]
    sustained_secs: u64,
}

#[derive(Args, Debug, Default)]
struct RunArgs {
    /// Only scenarios matching this name or glob, `*` and `?` (repeatable).
    #[arg(long, value_name = "NAME|GLOB")]
    scenario: Vec<String>,
    #[command(flatten)]
    source: Source,
    /// Where the reports go.
    #[arg(long, default_value = "target/load-report")]
    out: PathBuf,
    /// The baselines directory.
    #[arg(long, default_value = default_baselines())]
    baselines: PathBuf,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
    /// Do not count instructions under valgrind (their gates then say "not counted").
    #[arg(long)]
    no_instructions: bool,
}

fn default_baselines() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../baselines")
}

/// An error for the user: the message, and the exit code.
struct Failure(String, u8);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string(), 2)
    }
}

/// Runs the command line (the `load-tests` binary).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::List { source }) => list(&source),
        Some(Command::Run(args)) => run(&args),
        None => run(&cli.run),
        Some(Command::Compare { a, b }) => compare(&a, &b),
        Some(Command::Bless {
            report,
            scenario,
            baselines,
        }) => bless(&report, &scenario, &baselines),
        Some(Command::CountInstructions { scenario }) => count_instructions(&scenario),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message, code)) => {
            eprintln!("load-tests: {message}");
            ExitCode::from(code)
        }
    }
}

fn scenarios(source: &Source) -> Result<Vec<Scenario>, Failure> {
    let mut all = if source.quick {
        catalog::standard()
    } else {
        suite::full_suite(source.sustained_secs)
    };
    if let Some(file) = &source.file {
        let taken: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
        all.extend(suite::user::load(file, &taken)?);
    }
    Ok(all)
}

fn list(source: &Source) -> Result<ExitCode, Failure> {
    for s in scenarios(source)? {
        println!(
            "{:<32} {:<8} {:>9} ops  {}",
            s.name,
            format!("{:?}", s.clock).to_lowercase(),
            s.total_ops(),
            s.description
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: &RunArgs) -> Result<ExitCode, Failure> {
    if !args.baselines.is_dir() {
        return Err(Failure(
            format!(
                "--baselines {}: no such directory (every scenario would run without a baseline \
                 and pass unchecked)",
                args.baselines.display()
            ),
            2,
        ));
    }
    let selected = suite::select(scenarios(&args.source)?, &args.scenario)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    watch_ctrl_c(Arc::clone(&stop));
    let helpers = helpers(args.no_instructions)?;
    let mut bars = Bars::new(selected.len(), !args.no_progress);
    let report = suite::run_suite(
        &selected,
        &args.baselines,
        args.source.quick,
        &stop,
        &mut bars,
        &helpers,
    )?;
    bars.done();
    print!("{}", console::summary(&report));
    let json = args.out.join("report.json");
    let page = args.out.join("report.html");
    std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")
        .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    std::fs::write(&page, html::render(&report))
        .map_err(|e| format!("cannot write {}: {e}", page.display()))?;
    println!(
        "\nReports: {} and {}{}",
        json.display(),
        page.display(),
        if report.partial { " (PARTIAL)" } else { "" }
    );
    Ok(if report.partial && stop.load(Ordering::Relaxed) {
        ExitCode::from(130)
    } else if report.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// This binary's companions: `<this binary>-heap` beside it runs the heap-profiled scenarios,
/// and this binary itself is what valgrind counts.
fn helpers(no_instructions: bool) -> Result<suite::Helpers, Failure> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let heap_worker = exe.with_file_name(format!("{name}-heap"));
    if !heap_worker.exists() {
        return Err(Failure(
            format!(
                "{} is missing; it is built with this binary (`cargo build -p load-tests --bins`)",
                heap_worker.display()
            ),
            2,
        ));
    }
    if !no_instructions {
        crate::instructions::valgrind_version()
            .map_err(|e| Failure(format!("{e} (or pass --no-instructions)"), 2))?;
    }
    Ok(suite::Helpers {
        heap_worker,
        counter: (!no_instructions).then_some(exe),
    })
}

/// The heap worker (`load-tests-heap`): runs the scenario in the JSON file named by its one
/// argument with dhat counting the heap, and prints its report as JSON.
pub fn heap_worker_main() -> ExitCode {
    let Some(file) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: load-tests-heap SCENARIO.json (started by load-tests)");
        return ExitCode::from(2);
    };
    let result = (|| -> Result<String, Failure> {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let scenario: Scenario = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a scenario: {e}", file.display()))?;
        let report = suite::run_here(&scenario, &crate::runner::RunOptions::default())?;
        Ok(report.to_json())
    })();
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(Failure(message, code)) => {
            eprintln!("load-tests-heap: {message}");
            ExitCode::from(code)
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

/// Progress bars: the suite, and the scenario running. The runner reports operations into an
/// atomic; a ticker moves the bar ten times a second, so the measured code never takes the bar's
/// lock.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    current: Option<(ProgressBar, Arc<AtomicU64>, Arc<AtomicBool>)>,
    enabled: bool,
}

impl Bars {
    fn new(total: usize, enabled: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30.green/white}] {pos}/{len} scenarios, {elapsed} elapsed",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        overall.set_prefix("suite");
        Bars {
            multi,
            overall,
            current: None,
            enabled,
        }
    }

    fn end_current(&mut self) {
        if let Some((bar, _, running)) = self.current.take() {
            running.store(false, Ordering::Relaxed);
            bar.finish_and_clear();
        }
    }

    fn done(&mut self) {
        self.end_current();
        self.overall.finish_and_clear();
    }
}

impl Observer for Bars {
    fn start(&mut self, _index: usize, _total: usize, scenario: &Scenario, ops: u64) {
        self.end_current();
        let bar = self.multi.add(ProgressBar::new(ops.max(1)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30.cyan/blue}] {human_pos}/{human_len} ops, {per_sec}, {elapsed} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix("running");
        bar.set_message(scenario.name.clone());
        let done = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        // A profiled scenario counts every allocation, drawing included: its bar stays still.
        if self.enabled && !scenario.profiles_heap() {
            let (b, d, r) = (bar.clone(), Arc::clone(&done), Arc::clone(&running));
            std::thread::spawn(move || {
                while r.load(Ordering::Relaxed) {
                    b.set_position(d.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        self.current = Some((bar, done, running));
    }

    fn progress(&mut self) -> Option<Arc<dyn Fn(u64) + Send + Sync>> {
        let done = Arc::clone(&self.current.as_ref()?.1);
        Some(Arc::new(move |n| done.store(n, Ordering::Relaxed)))
    }

    fn finish(&mut self, result: &ScenarioResult) {
        self.end_current();
        self.overall.inc(1);
        let table = console::scenario_table(result);
        if self.enabled {
            let _ = self.multi.println(table.trim_end());
        } else {
            println!("{}", table.trim_end());
        }
    }
}

fn compare(a: &Path, b: &Path) -> Result<ExitCode, Failure> {
    let (ra, rb) = (SuiteReport::read(a)?, SuiteReport::read(b)?);
    println!(
        "A: {} (revision {})",
        a.display(),
        ra.environment.git_revision
    );
    println!(
        "B: {} (revision {})",
        b.display(),
        rb.environment.git_revision
    );
    let metrics = [
        "operations.succeeded",
        "throughput_ops_per_s",
        "latency.total.p50_ns",
        "latency.total.p95_ns",
        "latency.total.p99_ns",
        "heap.allocated_blocks_per_op",
        "heap.peak_live_bytes",
        "yardstick.throughput_ratio",
        "yardstick.cpu_ratio",
        "instructions.per_op",
    ];
    let mut common = 0;
    let mut rose = Vec::new();
    for x in &ra.results {
        let Some(y) = rb
            .results
            .iter()
            .find(|y| y.report.scenario == x.report.scenario)
        else {
            continue;
        };
        common += 1;
        println!(
            "\n== {}  [{} -> {}]",
            x.report.scenario,
            x.verdict.as_str(),
            y.verdict.as_str()
        );
        println!("   {:<32} {:>16} {:>16} {:>9}", "metric", "A", "B", "delta");
        for m in metrics {
            let (Some(va), Some(vb)) = (x.report.metric(m), y.report.metric(m)) else {
                continue;
            };
            let delta = crate::baseline::delta_pct(va, vb)
                .map_or_else(|| "-".to_owned(), |d| format!("{d:+.1}%"));
            println!(
                "   {:<32} {:>16} {:>16} {:>9}",
                m,
                console::num(va),
                console::num(vb),
                delta
            );
        }
        if let (Some(ia), Some(ib)) = (&x.report.instructions, &y.report.instructions) {
            let comparable = ia.rustc == ib.rustc
                && ia.valgrind == ib.valgrind
                && ia.build_profile == ib.build_profile
                && ia.ops == ib.ops;
            let limit = crate::baseline::Gate::INSTRUCTION_TOLERANCE;
            if !comparable {
                println!("   (instruction counts not comparable: different rustc, valgrind, profile or scale)");
            } else if !crate::baseline::Rule::AtMost.passes(ia.per_op, ib.per_op, limit) {
                rose.push(format!(
                    "{}: {:.1} -> {:.1} instructions/op ({:+.2}%)",
                    x.report.scenario,
                    ia.per_op,
                    ib.per_op,
                    (ib.per_op / ia.per_op - 1.0) * 100.0
                ));
                for line in crate::instructions::attribution(
                    &ia.agent_core_inclusive,
                    &ib.agent_core_inclusive,
                    6,
                ) {
                    println!("   {line}");
                }
            }
        }
    }
    let only = |r: &SuiteReport, o: &SuiteReport| -> Vec<String> {
        r.results
            .iter()
            .filter(|x| {
                !o.results
                    .iter()
                    .any(|y| y.report.scenario == x.report.scenario)
            })
            .map(|x| x.report.scenario.clone())
            .collect()
    };
    for (label, names) in [("only in A", only(&ra, &rb)), ("only in B", only(&rb, &ra))] {
        if !names.is_empty() {
            println!("\n{label}: {}", names.join(", "));
        }
    }
    if common == 0 {
        return Err(Failure("the two reports share no scenario".into(), 2));
    }
    if rose.is_empty() {
        println!(
            "\nInstructions per operation: no scenario rose by more than {:.0}%.",
            crate::baseline::Gate::INSTRUCTION_TOLERANCE * 100.0
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\nInstructions per operation rose by more than {:.0}% in:",
            crate::baseline::Gate::INSTRUCTION_TOLERANCE * 100.0
        );
        for r in &rose {
            println!("  {r}");
        }
        Ok(ExitCode::from(1))
    }
}

fn count_instructions(file: &Path) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let scenario: Scenario = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a scenario: {e}", file.display()))?;
    let ops = crate::instructions::run_counted(&scenario)?;
    println!("ops={ops}");
    Ok(ExitCode::SUCCESS)
}

fn bless(report: &Path, patterns: &[String], dir: &Path) -> Result<ExitCode, Failure> {
    let suite = SuiteReport::read(report)?;
    let written = suite::bless(&suite, dir, patterns).map_err(|e| Failure(e, 2))?;
    if written.is_empty() {
        return Err(Failure(
            format!("no scenario in {} matches {patterns:?}", report.display()),
            2,
        ));
    }
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
