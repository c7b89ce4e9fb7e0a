//! Calibration workloads on raw tokio (tasks and `tokio::sync::mpsc`, bounded 1024): the yardstick
//! real-time scenarios are measured against, in the same process, rounds interleaved.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::messaging::{MeshMsg, OrderCheck, Traffic};
use super::steps::STRIPES;
use crate::metrics::Tallies;

/// The bound of every calibration channel, matching agent-core's default mailbox.
pub(crate) const CHANNEL_BOUND: usize = 1024;

/// One measured round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundResult {
    pub(crate) elapsed: Duration,
    pub(crate) p99_ns: u64,
    /// Process CPU time (user + system, every thread) over the round: cost on the side that is
    /// not the bottleneck shows here even when throughput does not move.
    pub(crate) cpu: Duration,
}

/// This process's CPU time so far, user and system, all threads (`getrusage`).
pub(crate) fn process_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec().max(0) as u64)
                + Duration::from_micros(t.tv_usec().max(0) as u64)
        };
        tv(u.user_time()) + tv(u.system_time())
    })
}

/// The messaging traffic over raw channels: one receiver task per agent, same senders, same
/// messages, same order check and latency recording.
pub(crate) async fn raw_messaging(traffic: Traffic) -> RoundResult {
    let latency = Arc::new(Tallies::new(STRIPES));
    let mut txs = Vec::with_capacity(traffic.agents);
    let mut receivers = Vec::with_capacity(traffic.agents);
    for i in 0..traffic.agents {
        let (tx, mut rx) = mpsc::channel::<MeshMsg>(CHANNEL_BOUND);
        txs.push(tx);
        let latency = Arc::clone(&latency);
        receivers.push(tokio::spawn(async move {
            let mut check = OrderCheck::new(latency, i);
            while let Some(msg) = rx.recv().await {
                check.see(&msg, None);
            }
            check.tally
        }));
    }
    let start = Instant::now();
    let cpu_start = process_cpu();
    let senders: Vec<_> = (0..traffic.senders)
        .map(|s| {
            let txs = txs.clone();
            tokio::spawn(async move {
                for (target, msg) in traffic.sender_messages(s) {
                    txs[target].send(msg).await.expect("receiver alive");
                }
            })
        })
        .collect();
    drop(txs);
    for s in senders {
        s.await.expect("sender task");
    }
    let mut received = 0;
    for r in receivers {
        received += r.await.expect("receiver task").received;
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    let latency = latency.merged().latency;
    assert_eq!(
        received, traffic.messages,
        "raw tokio calibration lost messages"
    );
    RoundResult {
        elapsed,
        p99_ns: latency.summary().total.p99_ns,
        cpu,
    }
}

/// The median of `v` (the upper middle for an even count); 0 for an empty slice.
pub(crate) fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}
