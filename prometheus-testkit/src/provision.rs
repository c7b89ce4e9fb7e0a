//! Where the `prometheus` binary comes from: `$PROMETHEUS_BIN`, else `prometheus` on `PATH`,
//! else the project's copy under the cargo target directory, else Debian's package unpacked
//! there now (once: a lock file makes test processes that start together wait for one install).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg};

use crate::error::PrometheusError;

/// The variable naming the `prometheus` binary to use.
pub const BIN_VAR: &str = "PROMETHEUS_BIN";

/// The Debian package version the project unpacks for itself (Debian 12's).
pub const PINNED_VERSION: &str = "2.42.0+ds-5+deb12u1";

/// The package file in Debian's pool, and its SHA-256 (from the archive's `Packages` index).
const DEB_FILE: &str = "prometheus_2.42.0+ds-5+deb12u1_amd64.deb";
const DEB_URL: &str =
    "http://deb.debian.org/debian/pool/main/p/prometheus/prometheus_2.42.0+ds-5+deb12u1_amd64.deb";
const DEB_SHA256: &str = "81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55";

/// What to run by hand when the project cannot install the server itself.
pub const BY_HAND: &str = "sudo apt-get install prometheus (Debian, Ubuntu), or put a \
    prometheus 2.x binary on PATH or in PROMETHEUS_BIN";

/// The `prometheus` binary to use, found or installed once per process.
pub fn server_binary() -> Result<PathBuf, PrometheusError> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(locate)
        .clone()
        .map_err(|reason| PrometheusError::Unavailable { reason })
}

fn locate() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os(BIN_VAR) {
        let bin = PathBuf::from(bin);
        return runs(&bin)
            .then_some(bin.clone())
            .ok_or_else(|| format!("{BIN_VAR}={} does not run\n  fix: {BY_HAND}", bin.display()));
    }
    if let Some(bin) = on_path() {
        return Ok(bin);
    }
    let cache = cache_dir();
    let cached = cache.join(PINNED_VERSION).join("usr/bin/prometheus");
    if runs(&cached) {
        return Ok(cached);
    }
    install(&cache, &cached).map_err(|reason| {
        format!("no prometheus on PATH or in {BIN_VAR}, and unpacking Debian's {PINNED_VERSION} failed: {reason}\n  fix: {BY_HAND}")
    })
}

fn cache_dir() -> PathBuf {
    nats_testkit::target_dir()
        .map(|t| t.join("prometheus"))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/prometheus-testkit"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("prometheus-testkit"))
}

fn on_path() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("prometheus"))
        .find(|bin| runs(bin))
}

fn runs(bin: &Path) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Fetches the pinned `.deb`, checks its hash, unpacks it beside the cache and renames it into
/// place: the cached binary appears whole or not at all.
fn install(cache: &Path, cached: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(cache)
        .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let lock_path = cache.join("install.lock");
    let file = File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    let _lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("cannot lock {}: {e}", lock_path.display()))?;
    if runs(cached) {
        return Ok(cached.to_owned());
    }
    eprintln!(
        "prometheus-testkit: unpacking Debian's prometheus {PINNED_VERSION} (hash-pinned) into {} (once; later runs reuse it)",
        cache.display()
    );
    let staging = cache.join(format!("{PINNED_VERSION}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    let result = fetch_and_unpack(&staging).and_then(|()| {
        let done = cache.join(PINNED_VERSION);
        let _ = std::fs::remove_dir_all(&done);
        std::fs::rename(&staging, &done)
            .map_err(|e| format!("cannot move the unpacked package into place: {e}"))?;
        if runs(cached) {
            Ok(cached.to_owned())
        } else {
            Err(format!("{} does not run after unpacking", cached.display()))
        }
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn fetch_and_unpack(staging: &Path) -> Result<(), String> {
    let deb = staging.join(DEB_FILE);
    // apt-get download uses the machine's configured mirror; the pool URL is the fallback.
    let by_apt = Command::new("apt-get")
        .args(["download", "-q", &format!("prometheus={PINNED_VERSION}")])
        .current_dir(staging)
        .output()
        .is_ok_and(|o| o.status.success())
        && deb.is_file();
    if !by_apt {
        let curl = Command::new("curl")
            .args(["-fsSL", "--retry", "2", "-o"])
            .arg(&deb)
            .arg(DEB_URL)
            .output()
            .map_err(|e| format!("neither apt-get download nor curl could fetch {DEB_URL}: {e}"))?;
        if !curl.status.success() {
            return Err(format!(
                "neither apt-get download nor curl could fetch {DEB_URL}: {}",
                String::from_utf8_lossy(&curl.stderr).trim()
            ));
        }
    }
    let sum = Command::new("sha256sum")
        .arg(&deb)
        .output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    let digest = String::from_utf8_lossy(&sum.stdout);
    if digest.split_whitespace().next() != Some(DEB_SHA256) {
        return Err(format!(
            "{DEB_FILE} has SHA-256 {digest}, expected {DEB_SHA256}"
        ));
    }
    let unpack = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(staging)
        .output()
        .map_err(|e| format!("dpkg-deb (Debian's dpkg) is needed to unpack {DEB_FILE}: {e}"))?;
    if !unpack.status.success() {
        return Err(format!(
            "dpkg-deb -x failed: {}",
            String::from_utf8_lossy(&unpack.stderr).trim()
        ));
    }
    let _ = std::fs::remove_file(&deb);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_binary_that_does_not_run_is_not_run_with_the_fix() {
        // nextest runs each test in its own process: the variable is this test's alone.
        std::env::set_var(BIN_VAR, "/nonexistent/prometheus");
        let e = server_binary().unwrap_err().to_string();
        assert!(
            e.starts_with("not run: no Prometheus server: PROMETHEUS_BIN=/nonexistent/prometheus"),
            "{e}"
        );
    }

    #[test]
    fn the_pinned_package_is_named_by_version_and_hash() {
        assert!(DEB_URL.ends_with(DEB_FILE));
        assert!(DEB_FILE.contains(PINNED_VERSION));
        assert_eq!(DEB_SHA256.len(), 64);
    }
}
