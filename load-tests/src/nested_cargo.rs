//! Running cargo from inside a process that cargo (or nextest) started: the CLI building its heap
//! worker under `cargo run`, the gate self-tests building injected binaries.
//!
//! Cargo gives the processes it runs variables that describe the package being run
//! (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, `OUT_DIR`, ...). A nested cargo inherits them, and
//! build scripts that watch such a variable (`ring`'s watches `CARGO_MANIFEST_DIR`,
//! `CARGO_PKG_NAME` and `OUT_DIR`) then record the running package's values in their
//! fingerprints: the nested build rebuilds `ring` and everything above it, and so does the next
//! plain `cargo nextest run` (24 s each time on the reference machine). [`command`] removes those
//! variables, so a nested build sees the environment a build from the shell sees.

use std::ffi::OsString;
use std::process::Command;

/// Variables cargo sets for the process it runs, by exact name.
const SET_BY_CARGO: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Variables cargo sets for the process it runs, by prefix.
const SET_BY_CARGO_PREFIX: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_"];

/// `cargo` (the one that started this process, else the one on `PATH`) without the variables
/// cargo set for this process. The caller adds the arguments.
pub fn command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    for name in inherited_package_variables(std::env::vars_os().map(|(name, _)| name)) {
        cmd.env_remove(name);
    }
    cmd
}

/// The names among `names` that cargo sets for the process it runs.
fn inherited_package_variables(names: impl Iterator<Item = OsString>) -> Vec<OsString> {
    names
        .filter(|name| {
            name.to_str().is_some_and(|name| {
                SET_BY_CARGO.contains(&name)
                    || SET_BY_CARGO_PREFIX.iter().any(|p| name.starts_with(p))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_variables_go_and_configuration_stays() {
        let names = [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_BIN_EXE_load-tests",
            "OUT_DIR",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "CARGO",
            "PATH",
        ];
        let removed = inherited_package_variables(names.iter().map(OsString::from));
        assert_eq!(
            removed,
            [
                "CARGO_MANIFEST_DIR",
                "CARGO_PKG_NAME",
                "CARGO_PKG_VERSION_MAJOR",
                "CARGO_BIN_EXE_load-tests",
                "OUT_DIR"
            ]
            .map(OsString::from)
        );
    }
}
