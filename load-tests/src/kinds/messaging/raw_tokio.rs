//! The yardstick: the messaging traffic on raw tokio (tasks and `tokio::sync::mpsc`, bounded
//! 1024), which real-time scenarios are measured against in the same process, rounds
//! interleaved.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::traffic::{p99_of, MeshMsg, OrderCheck, RoundResult, Traffic};
use crate::metrics::{Tallies, STRIPES};
use crate::resources::Usage;

/// The bound of every yardstick channel, matching agent-core's default mailbox.
pub(crate) const CHANNEL_BOUND: usize = 1024;

/// The messaging traffic over raw channels: one receiver task per agent, same senders, same
/// messages, same order check and latency recording.
pub(crate) async fn raw_messaging(traffic: Traffic) -> RoundResult {
    let latency = Arc::new(Tallies::new(STRIPES));
    let from_send = traffic.send_tallies(false);
    let mut txs = Vec::with_capacity(traffic.agents);
    let mut receivers = Vec::with_capacity(traffic.agents);
    for i in 0..traffic.agents {
        let (tx, mut rx) = mpsc::channel::<MeshMsg>(CHANNEL_BOUND);
        txs.push(tx);
        let latency = Arc::clone(&latency);
        let from_send = from_send.clone();
        receivers.push(tokio::spawn(async move {
            let mut check = OrderCheck::new(latency, i).timing_sends(from_send);
            while let Some(msg) = rx.recv().await {
                check.see(&msg, None);
            }
            check.tally
        }));
    }
    let start = Instant::now();
    let usage_start = Usage::now();
    let senders: Vec<_> = (0..traffic.senders)
        .map(|s| {
            let txs = txs.clone();
            tokio::spawn(async move {
                for (target, mut msg) in traffic.sender_messages(s, start) {
                    traffic.pace(&mut msg).await;
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
    let usage = Usage::since(usage_start);
    let latency = latency.merged().latency;
    assert_eq!(
        received, traffic.messages,
        "raw tokio calibration lost messages"
    );
    RoundResult {
        elapsed,
        p99_ns: latency.summary().total.p99_ns,
        usage,
        p99_from_send_ns: p99_of(from_send.as_ref()),
    }
}
