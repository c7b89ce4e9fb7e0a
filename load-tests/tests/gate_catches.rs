//! The gates catch regressions edited into agent-core itself, not into the harness.
//!
//! These tests build `load-tests-injected` (the same CLI, against agent-core with its
//! `inject-regressions` feature: see `agent-core/src/inject.rs`) into this build's target
//! directory, then run it on standard scenarios with `AGENT_CORE_INJECT` set, and read which gates
//! failed from its JSON report. The feature is never on in the binaries the other tests use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use load_tests::engine::SuiteReport;

/// Extra loop iterations per send that add a few percent to `phantom_high`'s instructions per
/// message, against the injected build's own baseline with nothing injected (measured in debug:
/// `send_spin=10` was +8.5%, 8,564 -> 9,293; `send_spin=3` is +3.4%, 8,564 -> 8,856).
const FEW_PERCENT_PER_SEND: &str = if cfg!(debug_assertions) {
    "send_spin=3"
} else {
    "send_spin=4"
};

/// Builds the injected binaries once per test process (cargo makes concurrent builds wait for
/// each other, and a second build is a no-op) and returns the CLI's path.
fn injected() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // This build's `load-tests` is in <target>/<profile>/; build beside it.
        let ours = Path::new(env!("CARGO_BIN_EXE_load-tests"));
        let profile_dir = ours.parent().expect("a binary has a directory");
        let target_dir = profile_dir
            .parent()
            .expect("a profile has a target directory");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut cmd = load_tests::nested_cargo::command();
        cmd.current_dir(&workspace)
            .args(["build", "--locked", "-p", "load-tests"])
            .args(["--features", "inject-regressions"])
            .args([
                "--bin",
                "load-tests-injected",
                "--bin",
                "load-tests-injected-heap",
            ])
            .arg("--target-dir")
            .arg(target_dir);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success(),
            "building the injected binaries failed: {status}"
        );
        profile_dir.join("load-tests-injected")
    })
}

/// Runs the injected CLI on `scenario` (test scale) with `inject`, against baselines blessed
/// from the injected build itself with nothing injected ([`own_baselines`]), and returns its
/// exit code and report. Against the checked-in baselines the hooks alone, idle, already fail:
/// see [`the_injected_build_with_nothing_injected_passes_against_its_own_baselines`].
fn run(scenario: &str, inject: &str) -> (i32, SuiteReport) {
    let baselines = own_baselines(scenario);
    run_against(injected(), scenario, inject, Some(baselines.path())).1
}

/// Baselines for `scenario` blessed from one run of the injected build with nothing injected.
fn own_baselines(scenario: &str) -> tempfile::TempDir {
    own_baselines_with(scenario, "")
}

/// Baselines for `scenario` blessed from one run of the injected build with `inject`.
fn own_baselines_with(scenario: &str, inject: &str) -> tempfile::TempDir {
    let baselines = tempfile::tempdir().unwrap();
    let (out, (code, _)) = run_against(injected(), scenario, inject, Some(baselines.path()));
    assert_eq!(code, 0, "{scenario}: no baseline yet is not a failure");
    let blessed = Command::new(injected())
        .arg("bless")
        .arg("--report")
        .arg(out.path().join("report.json"))
        .arg("--baselines")
        .arg(baselines.path())
        .env_remove("CI")
        .status()
        .unwrap();
    assert!(blessed.success());
    baselines
}

fn run_with(exe: &Path, scenario: &str, inject: &str) -> (i32, SuiteReport) {
    run_against(exe, scenario, inject, None).1
}

/// [`run_with`] against the baselines in `baselines` (default: the checked-in ones); also
/// returns where the report was written.
fn run_against(
    exe: &Path,
    scenario: &str,
    inject: &str,
    baselines: Option<&Path>,
) -> (tempfile::TempDir, (i32, SuiteReport)) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["run", "--quick", "--no-progress", "--scenario", scenario]);
    if let Some(dir) = baselines {
        cmd.arg("--baselines").arg(dir);
    }
    let output = cmd
        .arg("--out")
        .arg(out.path())
        .env("AGENT_CORE_INJECT", inject)
        .output()
        .expect("the injected CLI runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = SuiteReport::read(&out.path().join("report.json")).unwrap_or_else(|e| {
        panic!(
            "{e}\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    eprintln!("AGENT_CORE_INJECT={inject:?}\n{stdout}");
    (out, (output.status.code().unwrap_or(-1), report))
}

/// The gated metrics that failed.
fn failed(report: &SuiteReport) -> Vec<String> {
    report.results[0]
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.metric.clone())
        .collect()
}

/// The control for every injection below: the injected build with nothing injected passes
/// against the baselines it blessed itself, in each scenario the injections use. (Against the
/// checked-in baselines it does not: its idle hooks change how the send path compiles, +3.2%
/// instructions per message on `phantom_high` in debug; an injection compared with those would
/// prove the hooks, not the injection.)
#[test]
fn the_injected_build_with_nothing_injected_passes_against_its_own_baselines() {
    for scenario in [
        "phantom_high",
        "phantom_low",
        "veritas_concurrent_100",
        "veritas_leak_detection",
    ] {
        let (code, report) = run(scenario, "");
        assert_eq!(code, 0, "{scenario}: {:?}", failed(&report));
        assert!(report.results[0].violations.is_empty(), "{scenario}");
    }
}

/// The unmodified build (this package's own `load-tests`) passes the same runs.
#[test]
fn unchanged_code_passes_every_gate() {
    let ours = Path::new(env!("CARGO_BIN_EXE_load-tests"));
    for scenario in ["phantom_high", "veritas_leak_detection"] {
        let (code, report) = run_with(ours, scenario, "");
        assert_eq!(code, 0, "{scenario}: {:?}", failed(&report));
        assert!(report.results[0].violations.is_empty());
    }
}

#[test]
fn a_few_percent_more_instructions_per_send_fail_the_instruction_gate_and_name_the_send() {
    let (code, report) = run("phantom_high", FEW_PERCENT_PER_SEND);
    assert_eq!(code, 1);
    assert!(
        failed(&report).contains(&"instructions.per_op".to_owned()),
        "{:?}",
        failed(&report)
    );
    // The notes point at where the cost entered agent-core: the send path, and the injection.
    let notes = report.results[0].notes.join("\n");
    assert!(
        notes.contains("`agent_core::mailbox::Mailbox<T>::offer")
            && notes.contains("`agent_core::inject::on_send`"),
        "{notes}"
    );
}

/// Extra loop iterations per send that make `phantom_high` costlier in instructions per message
/// than the same build with nothing injected: debug `send_spin=5` +4.9% (8,498 -> 8,915), release
/// `send_spin=6` +2.9% (1,393 -> 1,433; measured on the 2 vCPU AMD EPYC).
const RATCHET_SEND_SPIN: &str = if cfg!(debug_assertions) {
    "send_spin=5"
} else {
    "send_spin=6"
};

/// The ratchet, on agent-core's real send path: baselines blessed from the costlier build, the
/// cheaper one (nothing injected) fails as improved; blessed down from the cheaper one, the cost
/// put back fails the instruction gate.
#[test]
fn a_cheaper_send_path_fails_as_improved_until_blessed_down_and_then_the_old_cost_fails() {
    let costlier = own_baselines_with("phantom_high", RATCHET_SEND_SPIN);
    let (code, report) = run_against(injected(), "phantom_high", "", Some(costlier.path())).1;
    assert_eq!(code, 1, "{:?}", failed(&report));
    let per_op = report.results[0]
        .checks
        .iter()
        .find(|c| c.metric == "instructions.per_op")
        .expect("a gated row");
    assert!(
        !per_op.passed
            && per_op
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("improved: re-bless down")),
        "{per_op:?}"
    );
    eprintln!(
        "cheaper by {:.2}% instructions per message",
        -per_op.delta_pct().unwrap()
    );

    let blessed_down = own_baselines("phantom_high");
    let (code, report) = run_against(
        injected(),
        "phantom_high",
        RATCHET_SEND_SPIN,
        Some(blessed_down.path()),
    )
    .1;
    assert_eq!(code, 1);
    let per_op = report.results[0]
        .checks
        .iter()
        .find(|c| c.metric == "instructions.per_op")
        .expect("a gated row");
    assert!(!per_op.passed && per_op.note.is_none(), "{per_op:?}");
}

#[test]
fn more_instructions_per_ask_fail_the_instruction_gate() {
    let (code, report) = run("veritas_concurrent_100", "ask_spin=40");
    assert_eq!(code, 1);
    // The extra instructions are cache hits, so the estimated cycles rise with them; +3.3% per
    // step is past the drift gate's 3% over the reference point too.
    assert_eq!(
        failed(&report),
        [
            "instructions.estimated_cycles_per_op",
            "instructions.per_op",
            "instructions.per_op drift"
        ]
    );
}

#[test]
fn one_extra_allocation_per_message_fails_the_allocation_gate() {
    let (code, report) = run("veritas_concurrent_100", "alloc_per_send");
    assert_eq!(code, 1);
    let failed = failed(&report);
    assert!(
        failed.contains(&"heap.allocated_blocks_per_op".to_owned()),
        "{failed:?}"
    );
}

#[test]
fn one_leaked_block_per_operation_fails_the_leak_gate() {
    let (code, report) = run("veritas_leak_detection", "leak_per_send");
    assert_eq!(code, 1);
    let failed = failed(&report);
    assert!(
        failed.contains(&"extra.leaked_blocks".to_owned()),
        "{failed:?}"
    );
    assert!(!report.results[0].violations.is_empty());
}

#[test]
fn one_message_dropped_but_counted_fails_the_loss_gate() {
    let (code, report) = run("phantom_low", "lose_nth=100");
    assert_eq!(code, 1);
    let failed = failed(&report);
    assert!(failed.contains(&"delivery.lost".to_owned()), "{failed:?}");
    let violations = report.results[0].violations.join("\n");
    // Caught twice: by what the receivers got, and by agent-core's count disagreeing with it.
    assert!(
        violations.contains("delivery.lost") && violations.contains("counted_delivered"),
        "{violations}"
    );
}

/// Regressions that cost time more than instructions (issue 22), each against a baseline blessed
/// from the injected build itself with nothing injected (its hooks, idle, already move the
/// counted figures by a few percent in a debug build): a system call every 64 sends and a 1 us
/// sleep every 1,024 deliveries fail the system-call gate; one scattered cache-line write per
/// received message fails the estimated-cycles gate; the mailbox's state lock held across 32 loop
/// iterations per send fails the instruction gate. Nothing injected passes. The system call's
/// test is in the build with nothing injected too, so that injection adds the system call alone:
/// the instruction and estimated-cycles gates must not see it (only the system-call gate can).
#[test]
fn costs_in_time_fail_their_gates_against_the_same_build_with_nothing_injected() {
    let baselines = own_baselines("phantom_high");
    let cases: [(&str, &[&str]); 5] = [
        ("", &[]),
        ("syscall_every=64", &["instructions.syscalls_per_op"]),
        ("sleep_every=1024", &["instructions.syscalls_per_op"]),
        (
            "spill_per_receive=1",
            &["instructions.estimated_cycles_per_op"],
        ),
        ("lock_spin=32", &["instructions.per_op"]),
    ];
    for (inject, expected) in cases {
        let (_, (code, report)) =
            run_against(injected(), "phantom_high", inject, Some(baselines.path()));
        let failed = failed(&report);
        for gate in expected {
            assert!(failed.contains(&gate.to_string()), "{inject}: {failed:?}");
        }
        if inject.starts_with("syscall_every") {
            for gate in [
                "instructions.per_op",
                "instructions.estimated_cycles_per_op",
            ] {
                assert!(!failed.contains(&gate.to_owned()), "{inject}: {failed:?}");
            }
        }
        assert_eq!(code, if expected.is_empty() { 0 } else { 1 }, "{inject}");
    }
}
