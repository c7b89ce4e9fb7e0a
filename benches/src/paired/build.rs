//! Building the probe at a revision: a detached `git worktree` for a commit, or the working tree
//! as it is, built with cargo into the shared target directory, the binary copied out so the
//! next build cannot overwrite it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a build or a git step failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A command could not be started.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command exited with failure.
    #[error("`{command}` failed:\n{stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its standard error (last lines).
        stderr: String,
    },
    /// The revision's tree has no probe (it predates the paired comparison).
    #[error("revision {rev} has no bench-probe binary (benches/src/bin/bench-probe.rs); compare against a revision that has one")]
    NoProbe {
        /// The revision.
        rev: String,
    },
    /// Copying the built binary failed.
    #[error("could not copy {from} to {to}: {source}")]
    Copy {
        /// Source path.
        from: PathBuf,
        /// Destination path.
        to: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs `cmd`, returning its standard output, or an error with its standard error.
pub fn run(cmd: &mut Command) -> Result<String, BuildError> {
    let command = format!("{cmd:?}");
    let out = cmd.output().map_err(|source| BuildError::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        return Err(BuildError::Failed {
            command,
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The repository's top-level directory.
pub fn repo_root() -> Result<PathBuf, BuildError> {
    let out = run(Command::new("git").args(["rev-parse", "--show-toplevel"]))?;
    Ok(PathBuf::from(out.trim()))
}

/// The full commit id `rev` names.
pub fn resolve(root: &Path, rev: &str) -> Result<String, BuildError> {
    let out = run(Command::new("git").current_dir(root).args([
        "rev-parse",
        "--verify",
        &format!("{rev}^{{commit}}"),
    ]))?;
    Ok(out.trim().to_owned())
}

/// A checkout of one commit in a temporary directory, removed (with its worktree entry) on drop.
#[derive(Debug)]
pub struct Worktree {
    root: PathBuf,
    dir: tempfile::TempDir,
}

impl Worktree {
    /// Checks out `commit` of the repository at `root`.
    pub fn add(root: &Path, commit: &str) -> Result<Worktree, BuildError> {
        let dir = tempfile::Builder::new()
            .prefix("paired-")
            .tempdir()
            .map_err(|source| BuildError::Spawn {
                program: "tempdir".into(),
                source,
            })?;
        run(Command::new("git").current_dir(root).args([
            "worktree",
            "add",
            "--detach",
            "--force",
            &dir.path().to_string_lossy(),
            commit,
        ]))?;
        Ok(Worktree {
            root: root.to_owned(),
            dir,
        })
    }

    /// Where the checkout is.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = Command::new("git")
            .current_dir(&self.root)
            .args(["worktree", "remove", "--force"])
            .arg(self.dir.path())
            .output();
    }
}

/// Builds `bench-probe` (release) from the tree at `src`, using `target_dir`, and copies the
/// binary to `dest`. `rev` names the tree in errors.
pub fn build_probe(
    src: &Path,
    target_dir: &Path,
    dest: &Path,
    rev: &str,
) -> Result<(), BuildError> {
    if !src.join("benches/src/bin/bench-probe.rs").exists() {
        return Err(BuildError::NoProbe {
            rev: rev.to_owned(),
        });
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .current_dir(src)
        .env("CARGO_TARGET_DIR", target_dir)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "benches",
            "--bin",
            "bench-probe",
        ]))?;
    let built = target_dir.join("release/bench-probe");
    std::fs::copy(&built, dest).map_err(|source| BuildError::Copy {
        from: built,
        to: dest.to_owned(),
        source,
    })?;
    Ok(())
}
