//! Instructions per operation, counted under valgrind's callgrind: the CPU cost the paused clock
//! cannot see, as an exact count instead of a noisy time.
//!
//! [`count`] runs a scenario's counting form ([`counting_form`]) in a child process, the
//! `load-tests` binary's hidden `count-instructions` command, under
//! `valgrind --tool=callgrind --dump-before=*::counted_window --dump-before=*::window_closed`:
//! callgrind writes the events of the program's start, of [`counted_window`] and of its end as
//! three parts, and only the window's part is read: the scenario's run on a current-thread
//! runtime with a paused clock (so no timer depends on how slowly valgrind runs the program).
//! Start-up, argument parsing and teardown are not counted, system calls included (callgrind
//! counts those even where collection is toggled off, so a toggle would not exclude them).
//!
//! The gated figure is the program's own instructions per operation (agent-core, tokio, std
//! and the harness, all in the executable). Instructions in shared libraries (libc's `malloc`
//! and `memcpy`, whose variants glibc picks by CPU at run time) are reported beside it, not
//! gated: they would make the count depend on the host CPU. An extra allocation is caught by the
//! allocation gate instead.

mod callgrind;

pub use callgrind::{CYCLES_L1_HIT, CYCLES_LL_HIT, CYCLES_RAM};

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

pub use crate::attribution::{attribution, Unit};
use crate::drive::Drive;
use crate::report::Report;
pub use crate::report::{FunctionCost, InstructionReport};
use crate::runner::{self, RunOptions};
use crate::scenario::Scenario;

/// The hidden subcommand of the `load-tests` binary that runs one counting form.
pub const CHILD_COMMAND: &str = "count-instructions";

/// Functions kept per report and per baseline, the costliest first, to say where a change went.
pub const FUNCTIONS_KEPT: usize = 60;

/// Functions kept in the lists of estimated cycles (the system call lists keep every function
/// with a call).
pub const FUNCTIONS_KEPT_OTHER_EVENTS: usize = 20;

/// The caches callgrind simulates, fixed rather than read from the host CPU (its default), so
/// that estimated cycles are the same on every machine: a first-level instruction and data cache
/// of 32 KiB, 8-way, and a last-level cache of 8 MiB, 16-way, with 64-byte lines.
pub const CACHE_GEOMETRY: [&str; 3] = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"];

/// Why a count could not be taken.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CountError {
    /// valgrind is not installed.
    #[error("valgrind is not installed, and the instruction-count gate needs it: install it (Debian/Ubuntu: `sudo apt-get install valgrind`; Fedora: `sudo dnf install valgrind`), then run again")]
    NoValgrind,
    /// valgrind or the child could not be started, or a file could not be written or read.
    #[error("counting instructions of {scenario}: {what}: {source}")]
    Io {
        /// The scenario.
        scenario: String,
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The counted run failed.
    #[error("counting instructions of {scenario}: the counted run failed ({status}); valgrind's log: {log}")]
    Failed {
        /// The scenario.
        scenario: String,
        /// The child's exit status.
        status: String,
        /// Where valgrind's log and the child's output are.
        log: PathBuf,
    },
    /// The callgrind output could not be read.
    #[error("counting instructions of {scenario}: {file}:{line}: {problem}")]
    Parse {
        /// The scenario.
        scenario: String,
        /// The callgrind file.
        file: PathBuf,
        /// Its line.
        line: usize,
        /// What was wrong.
        problem: String,
    },
}

pub use crate::kinds::rules::{counting_form, COUNTED_MESSAGES, COUNTED_OPS};

/// Counts the instructions of `scenario`'s counting form, running `exe` (a `load-tests` binary
/// of the same build) under callgrind. `Ok(None)` when the scenario has no counting form.
pub fn count(exe: &Path, scenario: &Scenario) -> Result<Option<InstructionReport>, CountError> {
    let Some(form) = counting_form(scenario) else {
        return Ok(None);
    };
    let json = serde_json::to_string(&form).expect("a scenario always serializes");
    count_child(exe, &scenario.name, &[], |dir| {
        let file = dir.join("scenario.json");
        std::fs::write(&file, json)?;
        Ok(vec![CHILD_COMMAND.into(), file.into_os_string()])
    })
    .map(Some)
}

/// The variable that tells a test process it is the counting child of [`count_in_test`].
pub const COUNT_IN_TEST_VAR: &str = "LOAD_TESTS_COUNT_IN_TEST";

/// Set to a directory, every count copies callgrind's raw output there
/// (`callgrind.<scenario>.out`), to read with `callgrind_annotate`.
pub const KEEP_CALLGRIND_VAR: &str = "LOAD_TESTS_KEEP_CALLGRIND";

/// Counts the instructions of `scenario`'s counting form as run by the test `test` of this test
/// binary (which must be the running process's executable): the binary is run again under
/// callgrind with `--exact test` and [`COUNT_IN_TEST_VAR`] set, and the test, seeing the
/// variable, runs the counting form in [`counted_window`] instead of its usual checks.
pub fn count_in_test(
    scenario: &Scenario,
    test: &str,
) -> Result<Option<InstructionReport>, CountError> {
    if counting_form(scenario).is_none() {
        return Ok(None);
    }
    let exe = std::env::current_exe().map_err(|source| CountError::Io {
        scenario: scenario.name.clone(),
        what: "finding this test binary".into(),
        source,
    })?;
    count_child(&exe, &scenario.name, &[(COUNT_IN_TEST_VAR, "1")], |_| {
        Ok(["--exact", test, "--nocapture", "--test-threads=1"]
            .map(std::ffi::OsString::from)
            .to_vec())
    })
    .map(Some)
}

/// Where the counting child's scratch directory goes when it can (a fixed path, so the child's
/// strings have the same length on every machine).
const FIXED_TEMP: &str = "/tmp";

/// Variables of this process the counting child gets too, each padded with spaces to
/// [`PASSED_WIDTH`] so that its value does not move the child's stack: what the injected build
/// injects (`agent_core::inject::VAR`, whose items are trimmed).
const PASSED: &[&str] = &["AGENT_CORE_INJECT"];
const PASSED_WIDTH: usize = 128;

/// `valgrind` as found on `PATH`.
fn which_valgrind() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("valgrind"))
            .find(|candidate| candidate.is_file())
    })
}

/// Runs `exe` with the arguments `args` makes (given a scratch directory) and the variables
/// `envs` (and no others) under callgrind, and reads the count.
fn count_child(
    exe: &Path,
    scenario: &str,
    envs: &[(&str, &str)],
    args: impl FnOnce(&Path) -> std::io::Result<Vec<std::ffi::OsString>>,
) -> Result<InstructionReport, CountError> {
    let valgrind = valgrind_version()?;
    let name = &scenario.to_owned();
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| CountError::Io {
            scenario: name.clone(),
            what,
            source,
        }
    };
    // The counted program's stack starts below its argument and environment strings, so their
    // lengths move where everything on the stack sits in the simulated caches (estimated cycles
    // moved by up to 1% between a test run alone and inside the whole suite, whose runner sets
    // other variables). So the child gets the same strings wherever it runs: a scratch
    // directory of a fixed length under /tmp, the program through a link in it, and only the
    // variables the count needs.
    let mut scratch = tempfile::Builder::new();
    scratch.prefix("load-tests-count-");
    let dir = scratch
        .tempdir_in(FIXED_TEMP)
        .or_else(|_| scratch.tempdir())
        .map_err(io("creating a temporary directory"))?;
    let program = dir.path().join("program");
    std::os::unix::fs::symlink(exe, &program).map_err(io("linking the program"))?;
    let valgrind_bin = which_valgrind().ok_or_else(|| CountError::Io {
        scenario: name.clone(),
        what: "finding valgrind on PATH".into(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })?;
    let out_file = dir.path().join("callgrind.out");
    let log_file = dir.path().join("valgrind.log");
    let args = args(dir.path()).map_err(io("writing the scenario"))?;
    let output = Command::new(valgrind_bin)
        .env_clear()
        .arg("--tool=callgrind")
        .arg("--dump-before=*::counted_window")
        .arg("--dump-before=*::window_closed")
        .arg("--cache-sim=yes")
        .args(CACHE_GEOMETRY)
        .arg("--collect-systime=yes")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(format!("--log-file={}", log_file.display()))
        .arg(&program)
        .args(&args)
        .envs(envs.iter().copied())
        .envs(PASSED.iter().filter_map(|var| {
            let value = std::env::var(var).ok()?;
            Some((var, format!("{value:<PASSED_WIDTH$}")))
        }))
        .output()
        .map_err(io("starting valgrind"))?;
    let ops = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("ops=")
                .and_then(|n| n.trim().parse::<u64>().ok())
        });
    let (true, Some(ops)) = (output.status.success(), ops) else {
        // Keep the evidence: the temporary directory would delete it.
        let kept = dir.keep();
        let _ = std::fs::write(kept.join("child.stderr"), &output.stderr);
        let _ = std::fs::write(kept.join("child.stdout"), &output.stdout);
        return Err(CountError::Failed {
            scenario: name.clone(),
            status: output.status.to_string(),
            log: kept.join("valgrind.log"),
        });
    };
    let text = match window_part(dir.path()) {
        Ok(text) => text,
        Err(source) => {
            let kept = dir.keep();
            return Err(CountError::Io {
                scenario: name.clone(),
                what: format!("reading callgrind's output (kept in {})", kept.display()),
                source,
            });
        }
    };
    if let Some(keep) = std::env::var_os(KEEP_CALLGRIND_VAR) {
        // For `callgrind_annotate`: the count's raw output, one file per scenario.
        let kept = Path::new(&keep).join(format!("callgrind.{name}.out"));
        match std::fs::create_dir_all(&keep).and_then(|()| std::fs::write(&kept, &text)) {
            Ok(_) => eprintln!("load-tests: callgrind's output kept in {}", kept.display()),
            Err(e) => eprintln!(
                "load-tests: could not keep callgrind's output in {}: {e}",
                kept.display()
            ),
        }
    }
    let profile = callgrind::parse(&text).map_err(|e| CountError::Parse {
        scenario: name.clone(),
        file: out_file.clone(),
        line: e.line,
        problem: e.problem,
    })?;
    let exe_name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let own = profile.in_object(&exe_name);
    let total = profile.total();
    let memory_mapping = profile.memory_mapping();
    let per = |n: u64| n as f64 / ops.max(1) as f64;
    let own_list = |event: fn(&callgrind::Costs) -> u64, keep: usize| {
        ranked(
            profile
                .by_function
                .iter()
                .map(|(name, (_, c))| (name, per(event(c)))),
            keep,
        )
    };
    let agent_core_list = |event: fn(&callgrind::Costs) -> u64, keep: usize| {
        ranked(
            profile
                .inclusive
                .iter()
                .filter(|(name, _)| is_agent_core(name))
                .map(|(name, c)| (name, per(event(c)))),
            keep,
        )
    };
    let (ir, syscalls, cycles): (fn(&callgrind::Costs) -> u64, _, _) = (
        |c| c.ir,
        |c: &callgrind::Costs| c.syscalls,
        |c: &callgrind::Costs| c.estimated_cycles(),
    );
    Ok(InstructionReport {
        per_op: per(own.ir),
        libraries_per_op: per(total.ir - own.ir),
        ops,
        valgrind,
        rustc: env!("LOAD_TESTS_RUSTC").to_owned(),
        build_profile: crate::report::build_profile().to_owned(),
        functions: own_list(ir, FUNCTIONS_KEPT),
        agent_core_inclusive: agent_core_list(ir, FUNCTIONS_KEPT),
        syscalls_per_op: per(total.syscalls - memory_mapping.syscalls),
        memory_mapping_syscalls_per_op: per(memory_mapping.syscalls),
        estimated_cycles_per_op: per(own.estimated_cycles()),
        libraries_estimated_cycles_per_op: per(total.estimated_cycles() - own.estimated_cycles()),
        cache: CACHE_GEOMETRY.join(" "),
        // Every function that makes a system call, and every agent-core function above one.
        syscall_functions: own_list(syscalls, usize::MAX),
        agent_core_syscalls: agent_core_list(syscalls, usize::MAX),
        cycle_functions: own_list(cycles, FUNCTIONS_KEPT_OTHER_EVENTS),
        agent_core_cycles: agent_core_list(cycles, FUNCTIONS_KEPT_OTHER_EVENTS),
    })
}

/// The text of the part of callgrind's output that [`counted_window`] wrote as it ended
/// ([`window_closed`]): the files in `dir` are `callgrind.out.1` (start-up), `.2` (the window)
/// and `callgrind.out` (the rest), and the window's names its trigger.
fn window_part(dir: &Path) -> std::io::Result<String> {
    for n in 1.. {
        let file = dir.join(format!("callgrind.out.{n}"));
        if !file.exists() {
            break;
        }
        let text = std::fs::read_to_string(&file)?;
        if text
            .lines()
            .take_while(|l| !l.starts_with("fn="))
            .any(|l| l.starts_with("desc: Trigger: --dump-before") && l.ends_with("window_closed"))
        {
            return Ok(text);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!(
            "no part of callgrind's output in {} was dumped as counted_window ended",
            dir.display()
        ),
    ))
}

/// The `keep` largest non-zero entries, largest first (ties by name).
fn ranked<'a>(entries: impl Iterator<Item = (&'a String, f64)>, keep: usize) -> Vec<FunctionCost> {
    let mut list: Vec<FunctionCost> = entries
        .filter(|(_, n)| *n > 0.0)
        .map(|(name, per_op)| FunctionCost {
            name: name.clone(),
            per_op,
        })
        .collect();
    list.sort_by(|a, b| b.per_op.total_cmp(&a.per_op).then(a.name.cmp(&b.name)));
    list.truncate(keep);
    list
}

/// Whether a demangled name is agent-core's (a method of its type, or a trait impl for it).
fn is_agent_core(name: &str) -> bool {
    name.starts_with("agent_core::")
        || name.starts_with("<agent_core::")
        || name.contains(" for agent_core::")
}

/// `valgrind --version`, or [`CountError::NoValgrind`]; asked once per process.
pub fn valgrind_version() -> Result<String, CountError> {
    static VERSION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new("valgrind").arg("--version").output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        })
        .clone()
        .ok_or(CountError::NoValgrind)
}

/// The child side of [`count`]: runs `scenario` (a counting form) on a current-thread runtime
/// with a paused clock, inside [`counted_window`], and returns its operation count.
pub fn run_counted(scenario: &Scenario) -> Result<u64, runner::RunError> {
    counted(|rt, options| rt.block_on(runner::run(scenario, options)))
}

/// The child side of [`count_in_test`]: [`run_counted`] with the test's own driver.
pub(crate) fn run_counted_driven<D: Drive>(
    scenario: &Scenario,
    driver: &D,
) -> Result<u64, runner::RunError> {
    counted(|rt, options| rt.block_on(runner::run_driven(scenario, options, driver)))
}

fn counted(
    run: impl FnOnce(&tokio::runtime::Runtime, &RunOptions) -> Result<Report, runner::RunError>,
) -> Result<u64, runner::RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime always builds");
    let options = RunOptions {
        counting: true,
        ..RunOptions::default()
    };
    let mut run = Some(run);
    let mut result = None;
    counted_window(&mut || {
        if let Some(run) = run.take() {
            result = Some(run(&rt, &options));
        }
    });
    drop(rt);
    let report = result.expect("the window ran")?;
    Ok(report.operations.total)
}

/// The counted window: callgrind writes what ran before it as one part of its output
/// (`--dump-before`), and what ran in it as the next, when `window_closed` is called.
#[inline(never)]
pub fn counted_window(f: &mut dyn FnMut()) {
    f();
    window_closed();
}

/// Called as [`counted_window`] ends, for callgrind's `--dump-before`. (Its `--dump-after` on
/// `counted_window` itself never fired in valgrind 3.19.)
#[inline(never)]
fn window_closed() {
    std::hint::black_box(());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_virtual_scenarios_and_the_runtimes_own_real_time_traffic_are_counted() {
        use crate::scenario::Kind;
        for s in crate::catalog::standard() {
            let counted = counting_form(&s).is_some();
            // Real-time kinds whose cost is the runtime's (not disk, CPU burn, timing on/off or
            // a broker) have a counting form on the paused clock.
            let expected = s.clock == crate::scenario::Clock::Virtual
                || matches!(
                    s.kind,
                    Kind::Messaging(_)
                        | Kind::Paced(_)
                        | Kind::QualityGate(_)
                        | Kind::MonitoringOverhead(_)
                );
            assert_eq!(counted, expected, "{}", s.name);
        }
    }
}
