//! The cargo target directory this process was built into: where the project keeps what it
//! installs for itself (the pinned nats-server) and the reports it writes.

use std::path::PathBuf;

/// The target directory of the build this executable belongs to: the nearest ancestor of the
/// executable that holds cargo's `CACHEDIR.TAG` (cargo writes one at the root of every target
/// directory, `CARGO_TARGET_DIR` or not), else `$CARGO_TARGET_DIR` when it is an absolute path.
/// `None` for a binary outside any target directory (installed with `cargo install`, copied).
pub fn target_dir() -> Option<PathBuf> {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .map(std::path::Path::to_owned)
    });
    from_exe.or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_test_binary_finds_its_target_directory() {
        let dir = super::target_dir().expect("tests run from a target directory");
        assert!(dir.join("CACHEDIR.TAG").is_file(), "{}", dir.display());
        let exe = std::env::current_exe().unwrap();
        assert!(
            exe.starts_with(&dir),
            "{} in {}",
            exe.display(),
            dir.display()
        );
    }
}
