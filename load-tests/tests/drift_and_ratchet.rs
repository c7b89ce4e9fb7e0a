//! The drift gate and the ratchet, replayed on synthetic series in a scratch git repository:
//! each "commit" measures, is judged, and (when it passes) re-blesses and commits, as a
//! developer running `UPDATE_BASELINES=1` after every change would. The series are checked in
//! as history records (`tests/data/history/*.jsonl`, written by the script in their README).

use std::path::Path;
use std::sync::Mutex;

use load_tests::baseline::{self, drift, Baseline, GateMode, Judgement, Outcome, Verdict};
use load_tests::history::record;
use load_tests::report::Report;

#[path = "support/scratch_git.rs"]
mod scratch_git;
#[path = "support/synthetic.rs"]
mod synthetic;
use scratch_git::git;

/// The drift reference variable is read from the environment: one test at a time under
/// `cargo test`, whose tests share a process.
static ENV: Mutex<()> = Mutex::new(());

const SCENARIO: &str = "queue_overflow_reject";

/// A repository with `baselines/`, the report blessed at `per_op` instructions and committed.
fn repo(per_op: f64) -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    git(root.path(), &["init", "-q"]);
    let dir = root.path().join("baselines");
    std::fs::create_dir(&dir).unwrap();
    bless(&dir, per_op, None);
    commit(root.path(), "first blessing");
    (root, dir)
}

/// The synthetic report with `per_op` instructions per operation; agent-core's one inclusive
/// function carries the change, so the attribution has something to name.
fn measured(per_op: f64) -> Report {
    let mut r = synthetic::report(10);
    let i = r.instructions.as_mut().unwrap();
    i.agent_core_inclusive[0].per_op += per_op - i.per_op;
    i.per_op = per_op;
    r
}

fn bless(dir: &Path, per_op: f64, accept: Option<&str>) {
    let mode = GateMode {
        bless: true,
        accept_drift: accept.map(str::to_owned),
        ..GateMode::default()
    };
    let outcome = baseline::gate_with(dir, &measured(per_op), &mode).unwrap();
    assert!(matches!(outcome, Outcome::Blessed(_)));
}

fn commit(root: &Path, subject: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--allow-empty", "-m", subject]);
}

fn judge(dir: &Path, per_op: f64) -> Judgement {
    baseline::judge(dir, &measured(per_op)).unwrap()
}

fn failed(j: &Judgement) -> Vec<String> {
    j.comparison
        .as_ref()
        .unwrap()
        .failures()
        .map(|r| r.metric.clone())
        .collect()
}

fn text(j: &Judgement) -> String {
    j.comparison.as_ref().unwrap().to_string()
}

fn reference(dir: &Path) -> drift::Reference {
    let path = baseline::path_for(dir, SCENARIO);
    Baseline::load(&path, SCENARIO).unwrap().reference.unwrap()
}

/// The values of a checked-in series, in order.
fn replay(file: &str) -> Vec<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/history")
        .join(file);
    record::read(&path)
        .unwrap()
        .iter()
        .map(|r| r.value)
        .collect()
}

#[test]
fn a_drift_of_half_a_percent_a_commit_is_caught_within_three_commits_of_crossing_3_percent() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let series = replay("instructions_drift_half_percent.jsonl");
    let (root, dir) = repo(series[0]);
    let crossed = series.iter().position(|v| *v > series[0] * 1.03).unwrap();
    let mut caught = None;
    for (k, &per_op) in series.iter().enumerate().skip(1) {
        let j = judge(&dir, per_op);
        if j.verdict == Verdict::Regression {
            caught = Some((k, j));
            break;
        }
        bless(&dir, per_op, None);
        commit(root.path(), &format!("step {k}: +0.5%"));
    }
    let (k, j) = caught.expect("the drift is never caught");
    assert!(
        k >= crossed && k - crossed <= 3,
        "caught at {k}, crossed 3% at {crossed}"
    );
    // The per-commit gate passed; the drift gate is what failed.
    assert_eq!(failed(&j), ["instructions.per_op drift"], "{}", text(&j));
    let t = text(&j);
    for step in 1..k {
        assert!(
            t.contains(&format!("step {step}: +0.5%")),
            "step {step} not named:\n{t}"
        );
    }
    assert!(t.contains("this build (not blessed)"), "{t}");
    assert!(
        t.contains("agent_core::address::Address<A>::tell"),
        "no function named:\n{t}"
    );
    assert!(
        t.contains(drift::ACCEPT_DRIFT_VAR),
        "no way out named:\n{t}"
    );
}

#[test]
fn a_single_step_of_1_2_percent_fails_at_once() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let series = replay("instructions_step_1_2_percent.jsonl");
    let (root, dir) = repo(series[0]);
    let step = series.iter().position(|v| *v != series[0]).unwrap();
    for (k, &per_op) in series.iter().enumerate().skip(1) {
        let j = judge(&dir, per_op);
        if k < step {
            assert_eq!(j.verdict, Verdict::Pass, "{}", text(&j));
            bless(&dir, per_op, None);
            commit(root.path(), &format!("step {k}"));
        } else {
            assert_eq!(failed(&j), ["instructions.per_op"], "{}", text(&j));
        }
    }
}

#[test]
fn an_improvement_fails_until_blessed_down_and_then_its_undoing_fails() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let (root, dir) = repo(1000.0);
    let j = judge(&dir, 950.0);
    assert_eq!(j.verdict, Verdict::Regression, "{}", text(&j));
    assert_eq!(failed(&j), ["instructions.per_op"], "{}", text(&j));
    assert!(text(&j).contains("improved: re-bless down"), "{}", text(&j));
    // Within the tolerance, a fall passes.
    assert_eq!(judge(&dir, 995.0).verdict, Verdict::Pass);

    bless(&dir, 950.0, None);
    commit(root.path(), "cheaper");
    assert_eq!(reference(&dir).metrics["instructions.per_op"], 950.0);
    let j = judge(&dir, 1000.0);
    assert_eq!(
        failed(&j),
        ["instructions.per_op", "instructions.per_op drift"],
        "{}",
        text(&j)
    );
}

#[test]
fn accepting_drift_restarts_the_series_with_its_reason_and_a_revision_can_be_the_reference() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let (root, dir) = repo(1000.0);
    let first = git(root.path(), &["rev-parse", "HEAD"]);
    for (k, per_op) in [1009.0, 1018.0, 1027.0].into_iter().enumerate() {
        bless(&dir, per_op, None);
        commit(root.path(), &format!("step {k}"));
    }
    assert_eq!(judge(&dir, 1036.0).verdict, Verdict::Regression);
    bless(&dir, 1036.0, Some("the scenario sends twice the bytes"));
    commit(root.path(), "accepted");
    let r = reference(&dir);
    assert_eq!(r.metrics["instructions.per_op"], 1036.0);
    assert!(
        r.since
            .contains("drift accepted: the scenario sends twice the bytes"),
        "{r:?}"
    );
    assert_eq!(judge(&dir, 1036.0).verdict, Verdict::Pass);

    // The value blessed at the first commit as the reference instead.
    std::env::set_var(drift::DRIFT_REFERENCE_VAR, &first);
    let j = judge(&dir, 1036.0);
    std::env::remove_var(drift::DRIFT_REFERENCE_VAR);
    assert_eq!(failed(&j), ["instructions.per_op drift"], "{}", text(&j));
    assert!(
        text(&j).contains(&format!("reference: blessed at {first}")),
        "{}",
        text(&j)
    );
}
