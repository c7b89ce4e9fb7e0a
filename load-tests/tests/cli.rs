//! The `load-tests` command as a user meets it: listing, running with reports written, bad input
//! refused with the file, line and field named (exit 2), a regression (exit 1), comparing and
//! blessing, and Ctrl-C writing a partial report (exit 130).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_load-tests");

fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run load-tests")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const GOOD: &str = r#"
[[scenario]]
name = "my_steps"
description = "4 agents x 3 steps of 2 ms"
source = "a user"
agents = 4
ops_per_agent = 3
concurrency = 4
message_bytes = 0
clock = "virtual"
rng_seed = 1
kind = { type = "steps" }
workload = { type = "io", wait_us = 2000 }
arrival = { type = "closed" }
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn list_names_every_scenario_at_full_scale_and_user_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", GOOD);
    let o = cli(&["list", "--file", &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("phantom_extreme_full"), "{out}");
    assert!(out.contains("1000000 ops"), "{out}");
    assert!(out.contains("my_steps"), "{out}");
    let quick = String::from_utf8_lossy(&cli(&["list", "--quick"]).stdout).into_owned();
    assert!(
        quick.contains("phantom_extreme ") && !quick.contains("_full"),
        "{quick}"
    );
}

#[test]
fn bad_scenario_files_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            GOOD.replace("rng_seed = 1", "rng_seed = 1\nspeed = 3"),
            ":12:",
            "unknown field `speed`",
        ),
        (
            GOOD.replace("agents = 4\n", ""),
            ":",
            "missing field `agents`",
        ),
        (
            GOOD.replace("agents = 4", "agents = \"four\""),
            ":6:",
            "invalid type: string \"four\", expected usize",
        ),
        (
            GOOD.replace("agents = 4", "agents = 0"),
            ":3:",
            "field `agents`",
        ),
        (
            format!("{GOOD}\n{GOOD}"),
            ":18:",
            "scenario name \"my_steps\" is already taken",
        ),
        (
            GOOD.replace("my_steps", "scheduled_day"),
            ":3:",
            "already taken",
        ),
        ("[[scenario]\n".to_owned(), ":1:", ""),
        // Sizes past what memory holds: an error naming the limit, not an aborted allocation.
        (
            GOOD.replace("agents = 4", "agents = 1000000000000"),
            ":3:",
            "field `agents`: is 1000000000000, above the limit of 1000000",
        ),
        (
            GOOD.replace("message_bytes = 0", "message_bytes = 99999999999"),
            ":3:",
            "field `message_bytes`",
        ),
        // Floats must be finite and in range: NaN and negative rates were accepted, or panicked.
        (
            GOOD.replace(
                r#"kind = { type = "steps" }"#,
                r#"kind = { type = "llm_concurrency", bucket_capacity = 5, refill_per_s = nan }"#,
            ),
            ":3:",
            "field `kind.refill_per_s`: must be a positive finite number, got NaN",
        ),
        (
            GOOD.replace(
                r#"kind = { type = "steps" }"#,
                r#"kind = { type = "llm_concurrency", bucket_capacity = 5, refill_per_s = -5.0 }"#,
            ),
            ":3:",
            "field `kind.refill_per_s`: must be a positive finite number, got -5",
        ),
        (
            GOOD.replace(
                r#"{ type = "closed" }"#,
                r#"{ type = "open", rate_per_s = inf }"#,
            ),
            ":3:",
            "field `arrival.rate_per_s`",
        ),
        // A team's own agent kind needs its test, which has the agent type.
        (
            GOOD.replace(
                r#"kind = { type = "steps" }"#,
                r#"kind = { type = "own_agent", agent_type = "my::Agent" }"#,
            ),
            ":3:",
            "field `kind.type`: kind `own_agent` runs only from the test",
        ),
    ];
    for (i, (text, line, message)) in cases.iter().enumerate() {
        let file = write(dir.path(), &format!("bad{i}.toml"), text);
        let o = cli(&["run", "--quick", "--file", &file, "--no-progress"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}");
        assert!(
            err.contains(&format!("{file}{line}")),
            "case {i} names file and line: {err}"
        );
        assert!(err.contains(message), "case {i} names the field: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    let o = cli(&["run", "--file", "/nonexistent/s.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/s.toml: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_baselines_folder_that_does_not_exist_is_an_error() {
    let o = cli(&[
        "run",
        "--quick",
        "--scenario",
        "queue_overflow_reject",
        "--baselines",
        "/nonexistent/b",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--baselines /nonexistent/b: no such directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_usage_exits_2() {
    let o = cli(&["run", "--scenario", "nope*"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"nope*\" matches no scenario"),
        "{}",
        stderr(&o)
    );
    assert_eq!(cli(&["run", "--no-such-flag"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", "{ \"schema_version\": 1 }");
    let o = cli(&["compare", &old, &old]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("old.json:1:1: field `schema_version`: is 1, this build reads"),
        "{}",
        stderr(&o)
    );
    let junk = write(dir.path(), "junk.json", "{ \"schema_version\": 2 }");
    let o = cli(&["compare", &junk, &junk]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("junk.json:1:") && stderr(&o).contains("missing field"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_run_writes_json_and_html_compares_and_blesses() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", GOOD);
    let out = dir.path().join("out");
    let o = cli(&[
        "run",
        "--quick",
        "--no-progress",
        "--file",
        &file,
        "--scenario",
        "veritas_concurrent_100",
        "--scenario",
        "my_*",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", stderr(&o));
    assert!(stdout.contains("veritas_concurrent_100  [pass"), "{stdout}");
    assert!(stdout.contains("my_steps  [no baseline]"), "{stdout}");
    // Its virtual-clock timings restate the scenario's 1 ms steps: marked as model checks, and
    // the seed's 17,466 ops/s is not set beside them.
    assert!(
        stdout.contains("latency p95 (ns) (model check)"),
        "model checks marked: {stdout}"
    );
    assert!(
        stdout.contains("Not compared (our figures restate the scenario's inputs: model checks): veritas_concurrent_100"),
        "model checks not compared: {stdout}"
    );
    assert!(!stdout.contains("17,466 ops/s"), "{stdout}");
    assert!(
        stdout.contains(": 1 pass, 0 regression, 1 without baseline"),
        "{stdout}"
    );

    let json = out.join("report.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partial"], false);
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["results"][1]["report"]["operations"]["succeeded"],
        12
    );
    // A pass with rows it could not compare (blessed from another build profile) is counted
    // apart from a full pass.
    let mut suite = load_tests::engine::SuiteReport::read(&json).unwrap();
    suite.results[0].checks[0].note = Some("baseline from a release build".into());
    let summary = load_tests::engine::console::summary(&suite);
    assert!(
        summary.contains(": 0 pass, 1 pass on the rows compared (1 rows not compared"),
        "{summary}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<svg") && html.contains("latency by percentile"),
        "plots inline"
    );
    assert!(!html.contains("<script"), "no script");

    let o = cli(&["compare", json.to_str().unwrap(), json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("throughput_ops_per_s"));
    // A build 5% cheaper is an improvement to bless down, said so (not a failure of compare).
    let mut cheaper = report.clone();
    let counted = &mut cheaper["results"][0]["report"]["instructions"]["per_op"];
    *counted = (counted.as_f64().unwrap() * 0.95).into();
    let cheaper_path = dir.path().join("cheaper.json");
    std::fs::write(&cheaper_path, cheaper.to_string()).unwrap();
    let o = cli(&[
        "compare",
        json.to_str().unwrap(),
        cheaper_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let compared = String::from_utf8_lossy(&o.stdout);
    assert!(
        compared.contains("Improved: instructions per operation fell by more than 1%")
            && compared.contains("veritas_concurrent_100: ")
            && compared.contains("(-5.00%)"),
        "{compared}"
    );
    // Each scenario links to its history, drawn from the baselines' git log and this run.
    assert!(
        html.contains("href=\"history.html#veritas_concurrent_100\""),
        "no history link"
    );
    let history = std::fs::read_to_string(out.join("history.html")).unwrap();
    assert!(
        history.contains("<section id=\"veritas_concurrent_100\">")
            && history.contains("from this run"),
        "history page"
    );

    // Blessing writes a baseline for the user scenario; under CI it is refused.
    let baselines = dir.path().join("baselines");
    let b = baselines.to_str().unwrap();
    let o = Command::new(BIN)
        .args([
            "bless",
            "--report",
            json.to_str().unwrap(),
            "--scenario",
            "my_steps",
            "--baselines",
            b,
        ])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("CI is set"), "{}", stderr(&o));
    // A report without instruction counts (`--no-instructions`) cannot bless a scenario that
    // gates them: the refusal says why and how, instead of naming a metric as unknown.
    let mut uncounted = report;
    uncounted["results"][0]["report"]["instructions"] = serde_json::Value::Null;
    let uncounted_path = dir.path().join("uncounted.json");
    std::fs::write(&uncounted_path, uncounted.to_string()).unwrap();
    let o = cli(&[
        "bless",
        "--report",
        uncounted_path.to_str().unwrap(),
        "--scenario",
        "veritas_concurrent_100",
        "--baselines",
        b,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("counted no instructions"),
        "{}",
        stderr(&o)
    );
    assert!(!baselines.join("veritas_concurrent_100.json").exists());
    let o = cli(&[
        "bless",
        "--report",
        json.to_str().unwrap(),
        "--scenario",
        "my_steps",
        "--baselines",
        b,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(baselines.join("my_steps.json").exists());

    // The user scenario now has a baseline; doctor it and the run is a regression (exit 1).
    let path = baselines.join("my_steps.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["metrics"]["operations.total"]["value"] = 13.into();
    std::fs::write(&path, v.to_string()).unwrap();
    let o = cli(&[
        "run",
        "--quick",
        "--no-progress",
        "--file",
        &file,
        "--scenario",
        "my_steps",
        "--baselines",
        b,
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("REGRESSION my_steps: operations.total 12 vs 13"),
        "{stdout}"
    );
}

#[test]
fn ctrl_c_stops_and_writes_a_partial_report() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Real-time messaging scenarios take seconds each; the interrupt lands in the first ones.
    let child = Command::new(BIN)
        .args([
            "run",
            "--quick",
            "--no-progress",
            "--scenario",
            "phantom_*",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["partial"], true);
    assert!(report["results"].as_array().unwrap().len() < 4);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("PARTIAL"));
}

#[test]
fn the_example_scenario_file_lists_and_runs() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/example.toml");
    let o = cli(&["list", "--quick", "--file", example]);
    assert!(o.status.success(), "{}", stderr(&o));
    let listed = String::from_utf8_lossy(&o.stdout).into_owned();
    for name in ["my_fan_in", "my_steady_io", "my_bursts"] {
        assert!(listed.contains(name), "{name} not listed:\n{listed}");
    }
    let out = tempfile::tempdir().unwrap();
    let o = cli(&[
        "run",
        "--quick",
        "--no-progress",
        "--no-instructions",
        "--file",
        example,
        "--scenario",
        "my_*",
        "--out",
        &out.path().display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = load_tests::engine::SuiteReport::read(&out.path().join("report.json")).unwrap();
    let ran: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.report.scenario.as_str())
        .collect();
    assert_eq!(ran, ["my_fan_in", "my_steady_io", "my_bursts"]);
    for r in &report.results {
        assert!(
            r.violations.is_empty(),
            "{}: {:?}",
            r.report.scenario,
            r.violations
        );
        assert!(r.report.operations.failed == 0 || r.report.scenario == "my_bursts");
    }
}

#[test]
fn exit_codes_follow_the_table() {
    let help = cli(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    for code in [
        "0 every scenario",
        "1 a regression",
        "2 bad usage",
        "3 could not run",
        "130 stopped",
    ] {
        assert!(text.contains(code), "--help lacks {code:?}:\n{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    // A report that cannot be written (its folder is a file): an I/O failure, 3.
    let blocker = write(dir.path(), "not_a_dir", "");
    let o = cli(&[
        "run",
        "--quick",
        "--no-progress",
        "--no-instructions",
        "--scenario",
        "scheduled_day",
        "--out",
        &format!("{blocker}/out"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not_a_dir/out: cannot create"),
        "{}",
        stderr(&o)
    );
    // A report given that does not exist: bad input, 2.
    let o = cli(&["compare", "no_such_a.json", "no_such_b.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no_such_a.json: cannot read"),
        "{}",
        stderr(&o)
    );
}

/// No nats-server anywhere and the registry unreachable: the bus scenarios are "not run" with
/// the reason and the fix (exit 3), the others run and pass, and no message is reported lost.
#[test]
fn a_missing_nats_server_is_not_run_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let registry = format!("http://{}/simple", closed.local_addr().unwrap());
    drop(closed);
    let out = dir.path().join("out");
    let o = Command::new(BIN)
        .args(["run", "--quick", "--no-progress", "--no-instructions"])
        .args(["--scenario", "eventbus_burst_*", "--out"])
        .arg(&out)
        .env_remove("CI")
        .env_remove(nats_testkit::BIN_VAR)
        .env("PATH", "/usr/bin:/bin")
        .env(nats_testkit::CACHE_VAR, dir.path().join("cache"))
        .env("PIP_INDEX_URL", &registry)
        .env("PIP_FIND_LINKS", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{}", stderr(&o));
    assert!(
        stdout.contains("NOT RUN eventbus_burst_nats: nats-server unavailable")
            && stdout.contains(nats_testkit::BY_HAND),
        "{stdout}"
    );
    assert!(
        !stdout.contains("lost") && !stdout.contains("NaN"),
        "{stdout}"
    );
    let report = load_tests::engine::SuiteReport::read(&out.join("report.json")).unwrap();
    let ran: Vec<_> = report
        .results
        .iter()
        .map(|r| r.report.scenario.as_str())
        .collect();
    assert_eq!(ran, ["eventbus_burst_local"]);
    assert!(!report.regressed());
    assert_eq!(report.not_run.len(), 1);
    assert_eq!(report.not_run[0].what, "eventbus_burst_nats");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Not run") && html.contains("eventbus_burst_nats"));
}
