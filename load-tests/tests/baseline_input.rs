//! Bad baseline files get clear errors that name the file and the field, never a silent pass
//! and never a bare panic; blessing is refused under CI.

use std::path::PathBuf;

use load_tests::baseline::{self, gates::gates_for, Baseline, BaselineError, GateMode, Outcome};

#[path = "support/synthetic.rs"]
mod synthetic;
use load_tests::instructions::FunctionCost;
use synthetic::report;

fn path() -> PathBuf {
    PathBuf::from("baselines/queue_overflow_reject.json")
}

fn blessed() -> String {
    let r = report(10);
    Baseline::from_report(&r, &gates_for(&r.config), &path())
        .unwrap()
        .to_json()
}

#[track_caller]
fn check_error(text: &str, expected: &[&str]) {
    let err = Baseline::parse(text, &path()).expect_err("bad input must not parse");
    let msg = err.to_string();
    assert!(
        msg.starts_with("baselines/queue_overflow_reject.json"),
        "names the file: {msg}"
    );
    for part in expected {
        assert!(msg.contains(part), "{msg:?} should mention {part:?}");
    }
}

fn edit(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&blessed()).unwrap();
    f(&mut v);
    v.to_string()
}

#[test]
fn malformed_json_names_line_and_column() {
    check_error("{ \"schema_version\": 1,", &["EOF", "line 1"]);
}

#[test]
fn wrong_schema_version() {
    check_error(
        &edit(|v| v["schema_version"] = 1.into()),
        &["schema_version", "is 1"],
    );
}

#[test]
fn unknown_rule() {
    let text = edit(|v| v["metrics"]["operations.total"]["rule"] = "roughly".into());
    check_error(&text, &["metrics.operations.total.rule", "roughly"]);
}

#[test]
fn negative_tolerance() {
    let text = edit(|v| {
        v["metrics"]["heap.allocated_bytes_per_op"]["tolerance"] = (-0.1).into();
    });
    check_error(
        &text,
        &[
            "metrics.heap.allocated_bytes_per_op.tolerance",
            "non-negative",
        ],
    );
}

#[test]
fn nan_tolerance_cannot_even_be_written_in_json_and_a_string_one_is_refused() {
    let text = edit(|v| v["metrics"]["heap.allocated_bytes_per_op"]["tolerance"] = "NaN".into());
    check_error(&text, &["tolerance", "non-negative number"]);
}

#[test]
fn within_needs_a_tolerance() {
    let text = edit(|v| {
        v["metrics"]["heap.allocated_bytes_per_op"]
            .as_object_mut()
            .unwrap()
            .remove("tolerance");
    });
    check_error(
        &text,
        &["heap.allocated_bytes_per_op.tolerance", "required"],
    );
}

#[test]
fn unknown_field_in_an_entry() {
    let text = edit(|v| v["metrics"]["operations.total"]["tolerence"] = 0.1.into());
    check_error(&text, &["unknown field", "tolerence"]);
}

#[test]
fn non_numeric_value() {
    let text = edit(|v| v["metrics"]["operations.total"]["value"] = "ten".into());
    check_error(&text, &["metrics.operations.total.value", "finite number"]);
}

#[test]
fn missing_metric_is_an_error_not_a_pass() {
    let r = report(10);
    let text = edit(|v| {
        v["metrics"]
            .as_object_mut()
            .unwrap()
            .remove("operations.succeeded");
    });
    let b = Baseline::parse(&text, &path()).unwrap();
    let err = b.compare(&r, &gates_for(&r.config), &path()).unwrap_err();
    assert!(
        matches!(err, BaselineError::MissingMetric { ref metric, .. } if metric == "operations.succeeded")
    );
    assert!(err.to_string().contains("UPDATE_BASELINES=1"), "{err}");
}

#[test]
fn unknown_metric_is_an_error_not_a_pass() {
    let r = report(10);
    let text = edit(|v| {
        v["metrics"]["latency.total.p42_ns"] = serde_json::json!({"value": 1, "rule": "exact"})
    });
    let b = Baseline::parse(&text, &path()).unwrap();
    let err = b.compare(&r, &gates_for(&r.config), &path()).unwrap_err();
    assert!(
        err.to_string().contains("metrics.latency.total.p42_ns"),
        "{err}"
    );
}

#[test]
fn a_regression_fails_with_a_table() {
    let r = report(10);
    let b = Baseline::parse(&blessed(), &path()).unwrap();
    let c = b
        .compare(&report(9), &gates_for(&r.config), &path())
        .unwrap();
    assert!(!c.passed());
    let table = c.to_string();
    for column in [
        "metric",
        "baseline",
        "actual",
        "delta %",
        "tolerance",
        "verdict",
    ] {
        assert!(table.contains(column), "{table}");
    }
    let row = table
        .lines()
        .find(|l| l.starts_with("operations.succeeded"))
        .unwrap();
    assert!(row.contains("-10.00") && row.ends_with("FAIL"), "{row}");
    assert!(b
        .compare(&r, &gates_for(&r.config), &path())
        .unwrap()
        .passed());
}

#[test]
fn a_missing_baseline_says_how_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Baseline::load(&dir.path().join("x.json"), "x").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("UPDATE_BASELINES=1") && msg.contains("x.json"),
        "{msg}"
    );
}

#[test]
fn blessing_writes_a_file_that_loads_back_and_is_refused_under_ci() {
    let dir = tempfile::tempdir().unwrap();
    let r = report(10);
    let bless = GateMode {
        bless: true,
        ..GateMode::default()
    };
    let Outcome::Blessed(path) = baseline::gate_with(dir.path(), &r, &bless).unwrap() else {
        panic!("expected a blessing");
    };
    let back = Baseline::load(&path, &r.scenario).unwrap();
    assert!(back
        .compare(&r, &gates_for(&r.config), &path)
        .unwrap()
        .passed());
    let compare = GateMode::default();
    let Outcome::Judged(j) = baseline::gate_with(dir.path(), &report(9), &compare).unwrap() else {
        panic!("expected a judgement");
    };
    assert_eq!(j.verdict, baseline::Verdict::Regression);
    assert!(!j.comparison.expect("a baseline exists").passed());

    let in_ci = GateMode {
        bless: true,
        ci: true,
        ..GateMode::default()
    };
    let err = baseline::gate_with(dir.path(), &report(9), &in_ci).unwrap_err();
    assert!(matches!(err, BaselineError::BlessInCi { .. }), "{err}");
    assert!(err.to_string().contains("refusing"), "{err}");
    // Nothing was rewritten: the file still holds the blessed values.
    assert_eq!(Baseline::load(&path, &r.scenario).unwrap(), back);
}

#[test]
fn a_baseline_without_its_profile_is_refused() {
    let text = edit(|v| {
        v.as_object_mut().unwrap().remove("profile");
    });
    check_error(&text, &["field `profile`", "debug"]);
}

#[test]
fn a_rule_in_the_file_that_differs_from_the_code_is_an_error() {
    let r = report(10);
    let text = edit(|v| {
        v["metrics"]["operations.total"] =
            serde_json::json!({"value": 10, "rule": "within", "tolerance": 0.5})
    });
    let b = Baseline::parse(&text, &path()).unwrap();
    let err = b.compare(&r, &gates_for(&r.config), &path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("metrics.operations.total.rule") && msg.contains("the code gates it exact"),
        "{msg}"
    );
}

#[test]
fn more_instructions_fail_and_name_the_function_that_grew() {
    let r = report(10);
    let b = Baseline::parse(&blessed(), &path()).unwrap();
    let mut slower = report(10);
    let i = slower.instructions.as_mut().unwrap();
    i.per_op = 1060.0;
    i.functions[0].per_op = 460.0;
    i.agent_core_inclusive[0].per_op = 660.0;
    let c = b.compare(&slower, &gates_for(&r.config), &path()).unwrap();
    assert!(!c.passed());
    let text = c.to_string();
    assert!(
        text.contains(
            "+60.0 instructions/op in `agent_core::mailbox::Mailbox<T>::send` (400.0 -> 460.0)"
        ),
        "{text}"
    );
    // Within the tolerance: passes.
    let i = slower.instructions.as_mut().unwrap();
    i.per_op = 1005.0;
    assert!(b
        .compare(&slower, &gates_for(&r.config), &path())
        .unwrap()
        .passed());
}

#[test]
fn one_more_system_call_fails_and_names_the_caller() {
    let r = report(10);
    let b = Baseline::parse(&blessed(), &path()).unwrap();
    let mut more = report(10);
    let i = more.instructions.as_mut().unwrap();
    // One system call in a counted run of 10 operations.
    i.syscalls_per_op = 0.6;
    i.syscall_functions.push(FunctionCost {
        name: "sched_yield".into(),
        per_op: 0.1,
    });
    i.agent_core_syscalls.push(FunctionCost {
        name: "agent_core::mailbox::Mailbox<T>::send_until".into(),
        per_op: 0.1,
    });
    let c = b.compare(&more, &gates_for(&r.config), &path()).unwrap();
    assert!(!c.passed());
    let text = c.to_string();
    assert!(
        text.contains("+0.1000 system calls/op in `agent_core::mailbox::Mailbox<T>::send_until`")
            && text.contains("+0.1000 system calls/op in `sched_yield`"),
        "{text}"
    );
    // Fewer system calls fail too, until re-blessed: the ratchet keeps the gain.
    more.instructions.as_mut().unwrap().syscalls_per_op = 0.4;
    let c = b.compare(&more, &gates_for(&r.config), &path()).unwrap();
    assert!(!c.passed());
    assert!(c.to_string().contains("improved: re-bless down"), "{c}");
}

#[test]
fn more_estimated_cycles_fail_and_name_the_function() {
    let r = report(10);
    let b = Baseline::parse(&blessed(), &path()).unwrap();
    let mut slower = report(10);
    let i = slower.instructions.as_mut().unwrap();
    i.estimated_cycles_per_op = 1530.0;
    i.cycle_functions[0].per_op = 730.0;
    let c = b.compare(&slower, &gates_for(&r.config), &path()).unwrap();
    assert!(!c.passed());
    let text = c.to_string();
    assert!(
        text.contains("+30.0 estimated cycles/op in `agent_core::mailbox::Mailbox<T>::send`"),
        "{text}"
    );
    slower
        .instructions
        .as_mut()
        .unwrap()
        .estimated_cycles_per_op = 1514.0;
    assert!(b
        .compare(&slower, &gates_for(&r.config), &path())
        .unwrap()
        .passed());
}

#[test]
fn counts_from_another_valgrind_fail_with_what_to_do() {
    let b = Baseline::parse(&blessed(), &path()).unwrap();
    let mut other = report(10);
    other.instructions.as_mut().unwrap().valgrind = "valgrind-3.22.0".into();
    let c = b
        .compare(&other, &gates_for(&other.config), &path())
        .unwrap();
    assert!(!c.passed());
    let text = c.to_string();
    assert!(
        text.contains("valgrind-3.19.0")
            && text.contains("valgrind-3.22.0")
            && text.contains("re-bless"),
        "{text}"
    );
}

#[test]
fn a_profile_bound_metric_is_not_compared_across_profiles_and_says_so() {
    let b = Baseline::parse(
        &edit(|v| {
            let other = if cfg!(debug_assertions) {
                "release"
            } else {
                "debug"
            };
            v["profile"] = other.into();
        }),
        &path(),
    )
    .unwrap();
    let mut r = report(10);
    r.instructions.as_mut().unwrap().per_op = 5000.0;
    let c = b.compare(&r, &gates_for(&r.config), &path()).unwrap();
    assert!(c.passed(), "{c}");
    let text = c.to_string();
    let row = text
        .lines()
        .find(|l| l.starts_with("instructions.per_op"))
        .unwrap();
    assert!(
        row.contains("skipped: not compared: the baseline is from a"),
        "{row}"
    );
    // Profile-free metrics are still compared.
    assert!(!b
        .compare(&report(9), &gates_for(&r.config), &path())
        .unwrap()
        .passed());
}

/// A time, latency or queue depth gated at exactly zero cannot fail: the gate must not list it.
#[test]
fn no_committed_gate_is_a_time_or_depth_stuck_at_zero() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../baselines");
    let mut stuck = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (metric, e) in v["metrics"].as_object().unwrap() {
            let timed = ["latency.", "elapsed_s", "throughput", "queues.", "_ms"]
                .iter()
                .any(|p| metric.contains(p));
            if timed && e["value"].as_f64() == Some(0.0) {
                stuck.push(format!("{}: {metric}", path.display()));
            }
        }
    }
    assert!(stuck.is_empty(), "gates that cannot fail: {stuck:#?}");
}
