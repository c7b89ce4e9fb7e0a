//! A three-node JetStream cluster from the fixture: the members elect a metadata leader, every
//! member syncs each write, an R3 stream accepts writes with one member killed and holds them
//! all once it is back, and dropping the cluster stops every member.

mod common;

use std::time::{Duration, Instant};

use common::Conn;
use nats_testkit::NatsCluster;

/// `request` until a reply without an error comes (a stream's leader election after a member
/// loss takes a moment, during which a request may go unanswered).
/// Publishes carry the body as their message id, so a repeat is stored once.
fn until_ok(c: &mut Conn, subject: &str, body: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = (!subject.starts_with("$JS")).then_some(body);
    loop {
        let reply = c.request_with_id(subject, id, body, Duration::from_millis(500));
        match reply {
            Some(r) if !r.contains("\"error\"") => return r,
            Some(r) if Instant::now() > deadline => return r,
            _ if Instant::now() > deadline => return "no reply".to_owned(),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn an_r3_stream_keeps_every_write_through_a_member_loss() {
    let mut cluster = NatsCluster::start(3).unwrap();
    assert_eq!(cluster.len(), 3);
    assert_eq!(cluster.url().split(',').count(), 3);
    for node in cluster.nodes() {
        let varz = node
            .monitor("/varz")
            .expect("the monitoring endpoint answers");
        assert!(varz.contains("\"sync_always\": true"), "{varz}");
    }
    let mut c = Conn::open(cluster.nodes()[0].port()).unwrap();
    let created = until_ok(
        &mut c,
        "$JS.API.STREAM.CREATE.R3",
        r#"{"name":"R3","subjects":["r3.>"],"storage":"file","num_replicas":3}"#,
    );
    assert!(!created.contains("\"error\""), "{created}");
    let first = until_ok(&mut c, "r3.a", "one");
    assert!(first.contains("\"seq\":1"), "{first}");

    cluster.node(2).kill();
    let second = until_ok(&mut c, "r3.a", "two");
    assert!(
        second.contains("\"seq\":2"),
        "with one member down: {second}"
    );
    cluster.node(2).restart().unwrap();
    let mut back = Conn::open(cluster.nodes()[2].port()).unwrap();
    let info = until_ok(&mut back, "$JS.API.STREAM.INFO.R3", "");
    assert!(info.contains("\"messages\":2"), "{info}");
    let pids: Vec<u32> = cluster.nodes().iter().filter_map(|n| n.pid()).collect();
    drop(cluster);
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z ")),
            "member {pid} left running"
        );
    }
}

#[test]
fn a_partitioned_member_is_cut_off_and_the_majority_keeps_writing() {
    let cluster = NatsCluster::start_partitionable(3).unwrap();
    let mut c = Conn::open(cluster.nodes()[0].port()).unwrap();
    let created = until_ok(
        &mut c,
        "$JS.API.STREAM.CREATE.P3",
        r#"{"name":"P3","subjects":["p3.>"],"storage":"file","num_replicas":3}"#,
    );
    assert!(!created.contains("\"error\""), "{created}");
    assert!(until_ok(&mut c, "p3.a", "one").contains("\"seq\":1"));
    assert!(cluster.partition(2));
    // The majority (members 1 and 2, reached through member 1) still accepts writes.
    let second = until_ok(&mut c, "p3.a", "two");
    assert!(second.contains("\"seq\":2"), "{second}");
    // The cut-off member cannot take a write: no quorum behind it.
    let mut alone = Conn::open(cluster.nodes()[2].port()).unwrap();
    let refused = alone.request_with_id("p3.a", Some("three"), "three", Duration::from_secs(2));
    assert!(
        refused.as_deref().is_none_or(|r| r.contains("\"error\"")),
        "a partitioned member stored a write: {refused:?}"
    );
    cluster.heal();
    let mut back = Conn::open(cluster.nodes()[2].port()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = until_ok(&mut back, "$JS.API.STREAM.INFO.P3", "");
        if info.contains("\"messages\":2") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the member never caught up: {info}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
