//! Every load check in a process of its own, under `cargo test` as under nextest.
//!
//! nextest runs each test in a process of its own. `cargo test` runs a binary's tests on threads
//! of one process, and what one test measures would then include its neighbours: dhat counts
//! every thread's allocations (a test thread starting while another test counts its heap adds
//! blocks to that count), and a real-time ratio shares the cores. So a check that is not alone
//! runs its test again in a child process (`--exact <test> --test-threads=1`), shows the child's
//! output, and takes the child's verdict.

use std::process::Command;

/// Set in the child [`rerun_alone`] starts.
const ALONE_VAR: &str = "LOAD_TESTS_ALONE";

/// What the running test should do: measure here, or take the verdict of a child that did.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// This process runs only this test (nextest, or a child of this module or of the
    /// instruction counter): measure here.
    MeasureHere,
    /// The child passed.
    ChildPassed,
    /// The child failed, or could not be started: why.
    ChildFailed(String),
}

/// Whether this process runs only the current test; if not, runs `test` (the running test's
/// name) alone in a child and returns its verdict.
pub(crate) fn rerun_alone(test: Option<&str>) -> Verdict {
    let alone = [
        "NEXTEST_RUN_ID",
        ALONE_VAR,
        crate::instructions::COUNT_IN_TEST_VAR,
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some());
    // Without the test's name there is no child to start: measure here.
    let (false, Some(test)) = (alone, test) else {
        return Verdict::MeasureHere;
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Verdict::ChildFailed(format!("finding this test binary: {e}")),
    };
    let output = match Command::new(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ALONE_VAR, "1")
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            return Verdict::ChildFailed(format!(
                "running {} alone in {}: {e}",
                test,
                exe.display()
            ))
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Shown by libtest when this test fails (captured otherwise).
    eprintln!(
        "{test} ran alone in a child process:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    judge_child(test, output.status.success(), &stdout)
}

/// The child's verdict from its exit status and libtest's summary line, which must say that
/// exactly one test ran: a name that matched nothing would pass with zero tests.
fn judge_child(test: &str, success: bool, stdout: &str) -> Verdict {
    let ran_one = stdout
        .lines()
        .any(|line| line.starts_with("test result: ") && line.contains(" 1 passed;"));
    match (success, ran_one) {
        (true, true) => Verdict::ChildPassed,
        (true, false) => Verdict::ChildFailed(format!(
            "{test} was run alone in a child process, which did not run it (no \"1 passed\")"
        )),
        (false, _) => Verdict::ChildFailed(format!(
            "{test} failed, run alone in a child process (its output is above)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_passes_only_when_it_ran_the_one_test_and_succeeded() {
        let one = "running 1 test\ntest t ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored";
        let none = "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored";
        assert!(matches!(judge_child("t", true, one), Verdict::ChildPassed));
        assert!(matches!(
            judge_child("t", true, none),
            Verdict::ChildFailed(_)
        ));
        assert!(matches!(
            judge_child("t", false, one),
            Verdict::ChildFailed(_)
        ));
    }
}
