//! The own-agent example (`tests/kv_cache_agent.rs`) is gated for real: run against a copy of
//! its committed baseline it passes; against a copy with one figure doctored it fails, naming
//! the figure; and the agent made worse (a cache of 12 entries instead of 16, which never hits)
//! fails, on the example's own promise. The example runs as its own test binary (built by cargo here, into this build's
//! target directory), pointed at the copy with `LOAD_TESTS_BASELINES`.

use std::path::Path;
use std::process::Output;

/// Runs the example test with its baselines read from `dir`.
fn run_example(dir: &Path) -> Output {
    run_example_with(dir, None)
}

/// [`run_example`], with the example's cache of `capacity` entries (`None`: its own 16).
fn run_example_with(dir: &Path, capacity: Option<usize>) -> Output {
    let ours = Path::new(env!("CARGO_BIN_EXE_load-tests"));
    let target_dir = ours
        .parent()
        .and_then(Path::parent)
        .expect("a binary lives in <target>/<profile>/");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cmd = load_tests::nested_cargo::command();
    cmd.current_dir(&workspace)
        .args([
            "test",
            "--locked",
            "-p",
            "load-tests",
            "--test",
            "kv_cache_agent",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .env("LOAD_TESTS_BASELINES", dir)
        // Its reports (of a doctored baseline, of a worse agent) are not main's figures: they
        // stay beside the copy, out of what `load-tests history record` reads.
        .env(load_tests::load_test::REPORTS_VAR, dir.join("reports"))
        // A bless asked of the outer run must not rewrite the copy.
        .env_remove("UPDATE_BASELINES");
    match capacity {
        Some(c) => cmd.env("KV_CACHE_EXAMPLE_CAPACITY", c.to_string()),
        None => cmd.env_remove("KV_CACHE_EXAMPLE_CAPACITY"),
    };
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    // The example's load test alone: nextest's variables reach this nested `cargo test`, so the
    // example measures in place, and its other test must not run beside it.
    cmd.args(["--", "--exact", "kv_cache"]);
    cmd.output().expect("cargo runs")
}

/// A copy of the committed `kv_cache` baseline in a fresh folder, with `edit` applied to its
/// metrics.
fn copy_baseline(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../baselines/kv_cache.json");
    let text = std::fs::read_to_string(&committed).expect("the example's baseline is committed");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    edit(&mut json["metrics"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kv_cache.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn the_example_passes_its_baseline_and_fails_a_doctored_one() {
    let intact = copy_baseline(|_| {});
    let out = run_example(intact.path());
    assert!(
        out.status.success(),
        "the example failed against its own baseline:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One allocation fewer per hundred requests than the agents really make.
    let doctored = copy_baseline(|m| {
        let v = m["heap.allocated_blocks_per_op"]["value"].as_f64().unwrap();
        m["heap.allocated_blocks_per_op"]["value"] = serde_json::json!(v - 0.01);
    });
    let out = run_example(doctored.path());
    // libtest reports a failed test's panic on stdout.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a doctored baseline passed:\n{text}");
    assert!(
        text.contains("REGRESSION: scenario kv_cache")
            && text
                .lines()
                .any(|l| l.contains("heap.allocated_blocks_per_op") && l.contains("FAIL")),
        "the failure does not name the doctored figure:\n{text}"
    );
}

#[test]
fn a_worse_agent_fails_the_intact_baseline() {
    let intact = copy_baseline(|_| {});
    let out = run_example_with(intact.path(), Some(12));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a worse agent passed:\n{text}");
    // A cache of 12 for the 16 keys each agent reads in a cycle never hits (LRU's cliff): the
    // example's own promise (the cache answers a quarter of the reads) names it.
    assert!(
        text.contains("scenario kv_cache broke its promises")
            && text.contains("cache answers reads: 0 hits"),
        "the failure does not name what got worse:\n{text}"
    );
}
