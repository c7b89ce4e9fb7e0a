//! The cargo target directory this process was built into: where the project keeps what it
//! installs for itself (the pinned nats-server) and the reports it writes.

use std::path::{Path, PathBuf};

/// The target directory of the build this executable belongs to, `CARGO_TARGET_DIR` or not:
/// cargo puts binaries in `<target>/<profile>/` (tests and benches in its `deps/`, examples in
/// `examples/`; `<target>/<triple>/<profile>/` with `--target`), and every profile directory
/// holds cargo's `.fingerprint/`. Else `$CARGO_TARGET_DIR` when it is an absolute path. `None`
/// for a binary outside any target directory (installed with `cargo install`, copied).
pub fn target_dir() -> Option<PathBuf> {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| of_profile_dir(exe.ancestors().skip(1).find(|d| is_profile_dir(d))?));
    from_exe.or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
    })
}

fn is_profile_dir(dir: &Path) -> bool {
    dir.join(".fingerprint").is_dir()
}

/// The target directory above profile directory `profile`: its parent, or with `--target`,
/// the parent of the triple's directory (which has no `CACHEDIR.TAG`, while cargo writes one at
/// the target directory's root when it creates it).
fn of_profile_dir(profile: &Path) -> Option<PathBuf> {
    let parent = profile.parent()?;
    match parent.parent() {
        Some(root)
            if !parent.join("CACHEDIR.TAG").exists() && root.join("CACHEDIR.TAG").exists() =>
        {
            Some(root.to_owned())
        }
        _ => Some(parent.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_test_binary_finds_its_target_directory() {
        let dir = super::target_dir().expect("tests run from a target directory");
        let exe = std::env::current_exe().unwrap();
        assert!(
            exe.starts_with(&dir),
            "{} in {}",
            exe.display(),
            dir.display()
        );
        // <target>/<profile>/deps/<test binary>
        let profile = exe.parent().unwrap().parent().unwrap();
        assert_eq!(profile.parent().unwrap(), dir);
        assert!(super::is_profile_dir(profile), "{}", profile.display());
    }

    #[test]
    fn a_target_directory_made_before_cargo_ran_is_found_without_its_tag() {
        // .ci/run makes target/ci-tools before cargo runs, so cargo writes no CACHEDIR.TAG.
        let root = tempfile::tempdir().unwrap();
        let profile = root.path().join("debug");
        std::fs::create_dir_all(profile.join(".fingerprint")).unwrap();
        assert_eq!(super::of_profile_dir(&profile).unwrap(), root.path());
        // With --target: <target>/<triple>/<profile>, the tag at the root.
        std::fs::write(root.path().join("CACHEDIR.TAG"), "").unwrap();
        let triple = root.path().join("x86_64-unknown-linux-gnu").join("release");
        std::fs::create_dir_all(triple.join(".fingerprint")).unwrap();
        assert_eq!(super::of_profile_dir(&triple).unwrap(), root.path());
    }
}
