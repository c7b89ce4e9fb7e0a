//! The fixture against a real server, spoken to in NATS's text protocol over a plain TCP socket:
//! it starts ready with JetStream on a loopback port, a crash loses the connection, a restart
//! comes back on the same port with the same store (a stream and its message survive), a pause
//! stalls replies until resumed, and dropping it leaves no process behind.

mod common;

use std::time::Duration;

use common::Conn;
use nats_testkit::NatsServer;

/// A started server, or a failure saying what to install.
fn start() -> NatsServer {
    NatsServer::start().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn starts_ready_with_jetstream_on_a_loopback_port() {
    let server = start();
    assert_ne!(server.port(), 4222, "never the default port");
    assert_eq!(server.url(), format!("nats://127.0.0.1:{}", server.port()));
    let mut c = Conn::open(server.port()).expect("it accepts connections at once");
    assert!(c.info.starts_with("INFO "), "{}", c.info);
    assert!(c.info.contains("\"jetstream\":true"), "{}", c.info);
    assert!(
        c.info.contains(server.version().trim_start_matches('v')),
        "{}",
        c.info
    );
    assert!(c.ping(Duration::from_secs(5)));
}

#[test]
fn jetstream_flushes_every_write_before_acknowledging_it() {
    let server = start();
    let varz = server
        .monitor("/varz")
        .expect("the monitoring endpoint answers");
    assert!(varz.contains("\"sync_always\": true"), "{varz}");
}

#[test]
fn a_crash_and_restart_keeps_the_port_and_the_store() {
    let mut server = start();
    let port = server.port();
    let mut c = Conn::open(port).unwrap();
    let created = c.request(
        "$JS.API.STREAM.CREATE.KEEP",
        r#"{"name":"KEEP","subjects":["keep.>"],"storage":"file"}"#,
    );
    assert!(
        created.contains("stream_create_response") && !created.contains("\"error\""),
        "{created}"
    );
    let ack = c.request("keep.a", "hello");
    assert!(
        ack.contains("\"stream\":\"KEEP\"") && ack.contains("\"seq\":1"),
        "{ack}"
    );

    server.kill();
    assert!(server.pid().is_none());
    assert!(
        !c.ping(Duration::from_millis(500)),
        "a killed server still answered"
    );
    assert!(Conn::open(port).is_err(), "a killed server still accepts");

    server.restart().expect("it restarts");
    assert_eq!(server.port(), port);
    let mut c = Conn::open(port).unwrap();
    let info = c.request("$JS.API.STREAM.INFO.KEEP", "");
    assert!(
        info.contains("\"messages\":1"),
        "the store did not survive: {info}"
    );
}

#[test]
fn a_pause_stalls_replies_until_resumed() {
    let mut server = start();
    let mut c = Conn::open(server.port()).unwrap();
    assert!(c.ping(Duration::from_secs(5)));
    server.pause();
    assert!(
        !c.ping(Duration::from_millis(300)),
        "a paused server answered"
    );
    server.resume();
    // The PONG owed for the stalled PING arrives first, then this one's.
    assert!(c.ping(Duration::from_secs(5)));
}

#[test]
fn dropping_it_leaves_no_process_behind_even_when_paused_or_on_panic() {
    let mut server = start();
    let pid = server.pid().expect("running");
    server.pause();
    drop(server);
    assert!(!alive(pid), "nats-server {pid} outlived its fixture");

    let pid = std::thread::spawn(|| {
        let server = start();
        let pid = server.pid().expect("running");
        std::panic::panic_any(pid)
    })
    .join()
    .expect_err("the thread panicked")
    .downcast::<u32>()
    .expect("the pid");
    assert!(!alive(*pid), "nats-server {pid} outlived a panicking test");
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn an_old_server_is_refused_naming_the_version_needed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("nats-server");
    std::fs::write(&fake, "#!/bin/sh\necho 'nats-server: v2.9.10'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = NatsServer::start_with(&fake).unwrap_err().to_string();
    assert!(
        err.contains("v2.9.10") && err.contains("2.10.0 or newer"),
        "{err}"
    );
}
