//! Records the compiler version and git revision for the reports' environment section.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(Command::new(rustc).arg("-V")).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LOAD_TESTS_RUSTC={version}");
    let revision = output(Command::new("git").args(["rev-parse", "--short=12", "HEAD"]))
        .map(|rev| {
            let dirty =
                // `--no-optional-locks`: status would otherwise refresh .git/index, which this
                // script watches, and the next build would run it (and rebuild load-tests) again.
                output(Command::new("git").args([
                    "--no-optional-locks",
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                ]))
                    .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LOAD_TESTS_GIT_REVISION={revision}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/index");
    println!("cargo:rerun-if-env-changed=RUSTC");
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
