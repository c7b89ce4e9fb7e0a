//! A durable bus subscription over NATS survives its process: a subscriber process killed with
//! SIGKILL while it handles a message, with more queued in its local mailbox, and started again
//! under the same name, gets every message it had not finished. Before the settle step a message
//! was acknowledged as it entered the mailbox, and this test lost the queued ones.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agent_core::bus::nats::NatsTransport;
use agent_core::{Bus, TraceId};
use load_tests::distributed::{nats_config, run_id, Job, Traffic, EVENTS};
use nats_testkit::NatsServer;

const BIN: &str = env!("CARGO_BIN_EXE_load-tests");
const MESSAGES: u64 = 60;

/// A subscriber process, killed when dropped.
struct Subscriber(Child);

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `load-tests subscriber` and waits for its "subscribed" line.
fn subscriber(url: &str, run: &str, record: &Path, crash_at: Option<u64>) -> Subscriber {
    let mut command = Command::new(BIN);
    command.args(["subscriber", "--nats", url, "--run", run, "--name", "audit"]);
    command.args(["--capacity", "8", "--handle-ms", "20", "--record"]);
    command.arg(record);
    if let Some(n) = crash_at {
        command.args(["--crash-at", &n.to_string()]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start load-tests subscriber");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the subscriber's first line");
    assert_eq!(first.trim(), "subscribed", "the subscriber did not start");
    Subscriber(child)
}

fn recorded(record: &Path) -> Vec<u64> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_subscriber_killed_mid_message_loses_nothing_when_it_returns() {
    let server = NatsServer::start().unwrap();
    let run = run_id();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("handled.txt");
    // Killed while handling its 10th message: 9 handled, the 10th in hand, up to 7 queued.
    let mut first = subscriber(&server.url(), &run, &record, Some(10));
    let bus = Bus::with_transport(
        NatsTransport::<Traffic>::connect(nats_config(&server.url()))
            .await
            .unwrap(),
    );
    let topic = format!("{EVENTS}.{run}");
    for seq in 0..MESSAGES {
        let job = Traffic::Job(Job {
            run: run.clone(),
            seq,
            work_us: 0,
        });
        bus.publish_traced(&topic, job, TraceId(seq)).await.unwrap();
    }
    let status = tokio::task::spawn_blocking(move || first.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "the first subscriber was to crash");
    let before = recorded(&record);
    assert_eq!(before.len(), 9, "handled before the crash: {before:?}");

    let _second = subscriber(&server.url(), &run, &record, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let handled: BTreeSet<u64> = recorded(&record).into_iter().collect();
        if handled.len() as u64 == MESSAGES {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lost: {:?}",
            (0..MESSAGES)
                .filter(|s| !handled.contains(s))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // At least once: only the last message handled before the kill may come twice (its
    // acknowledgement, sent when the subscriber came back for the next, may not have left).
    let all = recorded(&record);
    assert!(all.len() as u64 <= MESSAGES + 1, "{all:?}");
}
