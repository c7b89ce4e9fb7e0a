//! git in a scratch repository, for tests of what the history and the drift gate read from a
//! git log.

use std::path::Path;
use std::process::Command;

/// Runs `git args` in `dir` (as a committer named `t`) and returns its trimmed stdout; panics
/// with git's output when it fails.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
