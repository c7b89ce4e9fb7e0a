//! The history's sources, against a scratch git repository: blessings read across the git log
//! (a renamed metric carrying its series over), runs appended to a branch without touching the
//! work tree, and history files with a bad line named.

use std::path::Path;
use std::process::Command;

#[path = "support/scratch_git.rs"]
mod scratch_git;
use scratch_git::git as git_in;

use load_tests::history::record::{self, Source};
use load_tests::history::{blessed, git, series};

fn baseline(metric: &str, value: f64) -> String {
    format!(
        r#"{{"schema_version": 2, "scenario": "phantom_high", "metrics": {{"{metric}": {{"value": {value}, "rule": "at_least", "tolerance": 0.4}}}}}}"#
    )
}

#[test]
fn blessings_are_read_across_the_git_log_and_a_renamed_metric_keeps_its_series() {
    let root = tempfile::tempdir().unwrap();
    git_in(root.path(), &["init", "-q"]);
    let dir = root.path().join("baselines");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("phantom_high.json");
    for (metric, value) in [
        ("calibration.throughput_ratio", 1.1),
        ("calibration.throughput_ratio", 1.2),
        ("yardstick.throughput_ratio", 1.3),
    ] {
        std::fs::write(&file, baseline(metric, value)).unwrap();
        git_in(root.path(), &["add", "-A"]);
        git_in(
            root.path(),
            &["commit", "-q", "-m", &format!("bless {value}")],
        );
    }
    // Not committed: not history.
    std::fs::write(&file, baseline("yardstick.throughput_ratio", 9.0)).unwrap();

    let records = blessed::blessed(&dir).unwrap();
    let all = series::build(records, &Default::default());
    assert_eq!(all.len(), 1, "{all:?}");
    let s = &all[0];
    assert_eq!(s.id, "phantom_high/yardstick.throughput_ratio");
    assert_eq!(
        s.profile, "debug",
        "a file from before profiles counts as debug"
    );
    assert_eq!(s.values(), [1.1, 1.2, 1.3]);
    assert!(s.points.iter().all(|p| p.source == Source::Blessed));
    let head = git_in(root.path(), &["rev-parse", "HEAD"]);
    assert_eq!(s.points[2].commit, head);
}

#[test]
fn a_run_is_appended_to_the_branch_without_touching_the_work_tree() {
    let root = tempfile::tempdir().unwrap();
    git_in(root.path(), &["init", "-q"]);
    std::fs::write(root.path().join("README"), "x").unwrap();
    git_in(root.path(), &["add", "-A"]);
    git_in(root.path(), &["commit", "-q", "-m", "main"]);
    let head = git_in(root.path(), &["rev-parse", "HEAD"]);
    let line = |v: f64| {
        format!(
            "{{\"id\":\"phantom_high/yardstick.cpu_ratio\",\"commit\":\"{head}\",\"date\":\"2026-12-04T10:00:00+00:00\",\"profile\":\"debug\",\"rustc\":\"rustc 1.95.0\",\"value\":{v},\"source\":\"run\"}}\n"
        )
    };
    let first = git::append_to_branch(
        root.path(),
        "perf-history",
        "history.jsonl",
        &line(1.0),
        "one",
    )
    .unwrap();
    let second = git::append_to_branch(
        root.path(),
        "perf-history",
        "history.jsonl",
        &line(1.5),
        "two",
    )
    .unwrap();
    assert_ne!(first, second);
    let text = git::show_from_root(root.path(), "perf-history", "history.jsonl")
        .unwrap()
        .unwrap();
    let records = record::parse(&text, "perf-history:history.jsonl").unwrap();
    assert_eq!(
        records.iter().map(|r| r.value).collect::<Vec<_>>(),
        [1.0, 1.5]
    );
    assert_eq!(
        git_in(root.path(), &["rev-list", "--count", "perf-history"]),
        "2"
    );
    // main and the work tree are as they were.
    assert_eq!(git_in(root.path(), &["rev-parse", "HEAD"]), head);
    assert_eq!(git_in(root.path(), &["status", "--porcelain"]), "");
}

#[test]
fn a_bad_history_line_is_named_by_file_line_and_field() {
    let good = r#"{"id":"a/b","commit":"c","date":"2026-12-04T10:00:00+00:00","profile":"debug","rustc":"r","value":1,"source":"run"}"#;
    let cases = [
        (
            format!("{good}\n{{\"id\":\"a/b\"}}\n"),
            "h.jsonl:2: missing field `commit`",
        ),
        (good.replace("a/b", "ab"), "h.jsonl:1: field `id`"),
        (
            good.replace("\"run\"", "\"guessed\""),
            "h.jsonl:1: unknown variant `guessed`",
        ),
    ];
    for (text, expected) in cases {
        let err = record::parse(&text, "h.jsonl").unwrap_err().to_string();
        assert!(err.starts_with(expected), "{err}");
    }
}

#[test]
fn the_cli_appends_records_to_the_branch_and_reads_them_back() {
    let root = tempfile::tempdir().unwrap();
    git_in(root.path(), &["init", "-q"]);
    std::fs::create_dir(root.path().join("baselines")).unwrap();
    std::fs::write(root.path().join("baselines/README"), "x").unwrap();
    git_in(root.path(), &["add", "-A"]);
    git_in(root.path(), &["commit", "-q", "-m", "main"]);
    let noise = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/history/ratio_noise.jsonl");
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_load-tests"))
            .current_dir(root.path())
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code(),
            text + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = cli(&[
        "history",
        "record",
        "--records",
        noise.to_str().unwrap(),
        "--branch",
        "perf-history",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("appended 664 records (4 scenarios) to perf-history:history.jsonl"),
        "{out}"
    );
    let (code, out) = cli(&["history", "--no-blessed", "--baselines", "baselines"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("8 series: 664 recorded on perf-history"),
        "{out}"
    );
    // A file that is not there is bad input, named.
    let (code, out) = cli(&[
        "history",
        "record",
        "--records",
        "nope.jsonl",
        "--branch",
        "b",
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--records: nope.jsonl: no such file"), "{out}");
}
