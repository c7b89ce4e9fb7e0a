//! The `load-tests` command's NATS input: every server that cannot be used is a clear error and
//! exit 2 before anything runs (a malformed URL, nothing listening, a server without
//! JetStream), and `worker` refuses the same way.

use std::process::{Command, Output};

use nats_testkit::NatsServer;

const BIN: &str = env!("CARGO_BIN_EXE_load-tests");

fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run load-tests")
}

fn refused(args: &[&str], says: &str) {
    let o = cli(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected {says:?} in: {err}");
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_unusable_server_is_exit_2_naming_why() {
    let out = std::env::temp_dir()
        .join("lt-nats-cli")
        .display()
        .to_string();
    let call = |url: &str, says: &str| {
        refused(
            &[
                "run",
                "--quick",
                "--no-instructions",
                "--scenario",
                "eventbus_sustained_nats",
                "--out",
                &out,
                "--nats",
                url,
            ],
            says,
        );
    };
    call("nats://host:port:extra", "invalid NATS setting `url`");
    let port = closed_port();
    call(
        &format!("nats://127.0.0.1:{port}"),
        "cannot reach a NATS server",
    );
    let plain = NatsServer::start_without_jetstream().unwrap();
    call(&plain.url(), "JetStream disabled");
}

#[test]
fn faults_on_the_server_are_refused_with_nats() {
    let server = NatsServer::start().unwrap();
    let out = std::env::temp_dir()
        .join("lt-nats-cli-faults")
        .display()
        .to_string();
    refused(
        &[
            "run",
            "--quick",
            "--no-instructions",
            "--scenario",
            "delivery_*",
            "--out",
            &out,
            "--nats",
            &server.url(),
        ],
        "delivery_partition and delivery_broker_restart pause or kill the server",
    );
}

#[test]
fn a_worker_refuses_an_unusable_server_too() {
    refused(
        &[
            "worker",
            "--nats",
            &format!("nats://127.0.0.1:{}", closed_port()),
        ],
        "cannot reach a NATS server",
    );
    refused(&["worker", "--nats", ""], "invalid NATS setting `url`");
}
