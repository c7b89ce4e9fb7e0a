//! The fault-injecting proxy against a real server, spoken to in NATS's text protocol: traffic
//! passes; a black hole and a one-way stall hold replies back until healed (then they arrive);
//! latency delays them; dropped connections are closed on the client and new ones work.

mod common;

use std::time::{Duration, Instant};

use common::Conn;
use nats_testkit::{Direction, NatsServer, Proxy};

#[test]
fn faults_stall_delay_and_cut_traffic_until_healed() {
    let server = NatsServer::start().unwrap();
    let proxy = Proxy::start(server.port()).unwrap();
    assert_ne!(proxy.port(), server.port());
    let mut c = Conn::open(proxy.port()).expect("connect through the proxy");
    assert!(c.info.contains("\"jetstream\":true"), "{}", c.info);
    assert!(c.ping(Duration::from_secs(5)), "traffic passes");

    proxy.black_hole();
    assert!(!c.ping(Duration::from_millis(300)), "a black hole answered");
    proxy.heal();
    // The held-back PONG arrives once healed, then this ping's own.
    assert!(c.ping(Duration::from_secs(5)));
    assert_eq!(c.line().unwrap(), "PONG");

    proxy.stall(Direction::ToClient);
    assert!(
        !c.ping(Duration::from_millis(300)),
        "a one-way stall answered"
    );
    proxy.heal();
    assert!(c.ping(Duration::from_secs(5)));
    assert_eq!(c.line().unwrap(), "PONG");

    proxy.set_latency(Duration::from_millis(150));
    let began = Instant::now();
    assert!(c.ping(Duration::from_secs(5)));
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "both ways delayed"
    );
    proxy.heal();

    proxy.drop_connections();
    assert!(
        !c.ping(Duration::from_millis(500)),
        "a cut connection answered"
    );
    let mut again = Conn::open(proxy.port()).expect("new connections are accepted");
    assert!(again.ping(Duration::from_secs(5)));
}

#[test]
fn a_proxy_to_a_server_that_is_down_closes_its_clients() {
    let mut server = NatsServer::start().unwrap();
    let proxy = Proxy::start(server.port()).unwrap();
    server.kill();
    let cut = Conn::open(proxy.port()).map_or(true, |mut c| {
        c.info.is_empty() && !c.ping(Duration::from_millis(300))
    });
    assert!(cut, "a proxy to nothing answered");
    server.restart().unwrap();
    let mut c = Conn::open(proxy.port()).expect("reachable again after the restart");
    assert!(c.ping(Duration::from_secs(5)));
}
