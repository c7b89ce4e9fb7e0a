//! The messaging traffic, shared by the messaging and monitoring-overhead kinds: the messages,
//! the receiving agent that checks order per sender, one round through agent-core, and the paired
//! ratios of rounds to their raw tokio counterparts.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig,
};
use tokio::time::Instant;

use crate::metrics::{LatencyRecorder, Tallies, STRIPES};
use crate::report::{Delivery, Yardstick};
use crate::resources::process_cpu;
use crate::runner::context::RunContext;
use crate::stats::median;

/// One measured round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundResult {
    pub(crate) elapsed: Duration,
    pub(crate) p99_ns: u64,
    /// Process CPU time (user + system, every thread) over the round: cost on the side that is
    /// not the bottleneck shows here even when throughput does not move.
    pub(crate) cpu: Duration,
}

/// One message of the mesh traffic.
#[derive(Debug)]
pub(crate) struct MeshMsg {
    pub(crate) sender: u32,
    pub(crate) seq: u64,
    pub(crate) sent_at: Instant,
    pub(crate) payload: Vec<u8>,
}

/// What a mesh receiver is asked.
#[derive(Debug)]
pub(crate) enum MeshCmd {
    Msg(MeshMsg),
    Report,
}

/// A receiver's counts.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MeshTally {
    pub(crate) received: u64,
    pub(crate) out_of_order: u64,
}

/// Checks order per sender and records latency into the round's shared tallies. `next[s]` is
/// the sequence number expected next from sender `s`.
#[derive(Debug)]
pub(crate) struct OrderCheck {
    next: Vec<u64>,
    pub(crate) tally: MeshTally,
    latency: Arc<Tallies>,
    key: usize,
}

impl OrderCheck {
    pub(crate) fn new(latency: Arc<Tallies>, key: usize) -> OrderCheck {
        OrderCheck {
            next: Vec::new(),
            tally: MeshTally::default(),
            latency,
            key,
        }
    }

    pub(crate) fn see(&mut self, msg: &MeshMsg, queue: Option<Duration>) {
        let s = msg.sender as usize;
        if self.next.len() <= s {
            self.next.resize(s + 1, 0);
        }
        if msg.seq != self.next[s] {
            self.tally.out_of_order += 1;
        }
        self.next[s] = msg.seq + 1;
        self.tally.received += 1;
        std::hint::black_box(msg.payload.first());
        let total = msg.sent_at.elapsed();
        self.latency.with(self.key, |t| match queue {
            Some(q) => t.latency.record(total, q, total.saturating_sub(q)),
            None => t.latency.record_total(total),
        });
    }
}

struct MeshAgent {
    check: OrderCheck,
}

impl Agent for MeshAgent {
    type Msg = MeshCmd;
    type Reply = Option<MeshTally>;

    async fn handle(
        &mut self,
        cmd: MeshCmd,
        ctx: &mut Context<Self>,
    ) -> Result<Option<MeshTally>, HandlerError> {
        match cmd {
            MeshCmd::Msg(msg) => {
                self.check.see(&msg, Some(ctx.queue_time()));
                Ok(None)
            }
            MeshCmd::Report => Ok(Some(std::mem::take(&mut self.check.tally))),
        }
    }
}

/// The shape of one round of traffic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Traffic {
    pub(crate) agents: usize,
    pub(crate) senders: usize,
    pub(crate) messages: u64,
    pub(crate) bytes: usize,
}

impl Traffic {
    /// The messages sender `s` sends, in order, each with the index of its target agent. Made
    /// lazily, so each is stamped just before it is sent; the agent-core rounds and the raw tokio
    /// calibration both send exactly this traffic.
    pub(crate) fn sender_messages(self, s: usize) -> impl Iterator<Item = (usize, MeshMsg)> {
        let mut seq = vec![0u64; self.agents];
        (s as u64..self.messages)
            .step_by(self.senders)
            .map(move |j| {
                let target = (j % self.agents as u64) as usize;
                let msg = MeshMsg {
                    sender: s as u32,
                    seq: seq[target],
                    sent_at: Instant::now(),
                    payload: vec![(j & 0xff) as u8; self.bytes],
                };
                seq[target] += 1;
                (target, msg)
            })
    }

    pub(crate) fn of(ctx: &RunContext) -> Traffic {
        let s = &ctx.scenario;
        Traffic {
            agents: s.agents,
            senders: s.concurrency,
            messages: s.total_ops(),
            bytes: s.message_bytes,
        }
    }
}

/// One round of the traffic through agent-core.
pub(crate) struct AgentRound {
    pub(crate) result: RoundResult,
    pub(crate) latency: LatencyRecorder,
    pub(crate) delivery: Delivery,
    pub(crate) max_depth: u64,
}

pub(crate) async fn agent_round(
    ctx: &Arc<RunContext>,
    traffic: Traffic,
    timing: bool,
) -> AgentRound {
    let rt = AgentRuntime::new(RuntimeConfig {
        timing,
        ..RuntimeConfig::default()
    });
    ctx.watch(&rt);
    let latency = Arc::new(Tallies::new(STRIPES));
    let agents: Vec<_> = (0..traffic.agents)
        .map(|i| {
            let latency = Arc::clone(&latency);
            rt.spawn(AgentConfig::named(format!("mesh-{i}")), move || MeshAgent {
                check: OrderCheck::new(Arc::clone(&latency), i),
            })
            .expect("a fresh runtime accepts agents")
        })
        .collect();
    let start = Instant::now();
    let cpu_start = process_cpu();
    let senders: Vec<_> = (0..traffic.senders)
        .map(|s| {
            let agents = agents.clone();
            let ctx = Arc::clone(ctx);
            tokio::spawn(async move {
                let mut sent = 0u64;
                let mut refused = 0u64;
                for (target, msg) in traffic.sender_messages(s) {
                    sent += 1;
                    if agents[target].tell(MeshCmd::Msg(msg)).await.is_err() {
                        refused += 1;
                    }
                    if sent % 1024 == 0 {
                        ctx.done(1024);
                    }
                }
                ctx.done(sent % 1024);
                (sent, refused)
            })
        })
        .collect();
    let (mut sent, mut refused) = (0, 0);
    for s in senders {
        let (a, b) = s.await.expect("sender task");
        sent += a;
        refused += b;
    }
    let mut tally = MeshTally::default();
    for a in &agents {
        if let Ok(Some(t)) = a.ask(MeshCmd::Report, Duration::from_secs(600)).await {
            tally.received += t.received;
            tally.out_of_order += t.out_of_order;
        }
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    let snap = rt.snapshot();
    rt.shutdown(ShutdownConfig::default()).await;
    let m = snap.mailboxes;
    // Loss is judged by what the receivers got: a message the mailbox counted as delivered but
    // no handler saw is lost. agent-core's own count (less one report request per agent) is kept
    // beside it, to be checked, not trusted.
    let delivery = Delivery {
        sent,
        delivered: tally.received,
        lost: sent.saturating_sub(tally.received + m.dropped + refused),
        out_of_order: tally.out_of_order,
        dropped: m.dropped,
        rejected: m.rejected,
        timed_out: m.timed_out,
        counted_delivered: Some(m.delivered.saturating_sub(traffic.agents as u64)),
    };
    let latency = latency.merged().latency;
    AgentRound {
        result: RoundResult {
            elapsed,
            p99_ns: latency.summary().total.p99_ns,
            cpu,
        },
        latency,
        delivery,
        max_depth: m.max_depth,
    }
}

pub(crate) fn accumulate(total: &mut Delivery, d: &Delivery) {
    total.sent += d.sent;
    total.delivered += d.delivered;
    total.lost += d.lost;
    total.out_of_order += d.out_of_order;
    total.dropped += d.dropped;
    total.rejected += d.rejected;
    total.timed_out += d.timed_out;
    if let Some(n) = d.counted_delivered {
        *total.counted_delivered.get_or_insert(0) += n;
    }
}

/// Paired ratios of interleaved rounds.
pub(crate) fn yardstick(
    workload: &str,
    ours: &[RoundResult],
    raw: &[RoundResult],
    ops: u64,
) -> Yardstick {
    let n = ours.len().min(raw.len());
    let throughput: Vec<f64> = (0..n)
        .map(|i| raw[i].elapsed.as_secs_f64() / ours[i].elapsed.as_secs_f64())
        .collect();
    let p99: Vec<f64> = (0..n)
        .map(|i| ours[i].p99_ns as f64 / raw[i].p99_ns.max(1) as f64)
        .collect();
    let cpu: Vec<f64> = (0..n)
        .map(|i| raw[i].cpu.as_secs_f64() / ours[i].cpu.as_secs_f64().max(1e-9))
        .collect();
    let raw_rates: Vec<f64> = raw[..n]
        .iter()
        .map(|r| ops as f64 / r.elapsed.as_secs_f64())
        .collect();
    Yardstick {
        workload: workload.to_owned(),
        rounds: n as u32,
        ops_per_s: median(&raw_rates),
        throughput_ratio: median(&throughput),
        p99_latency_ratio: median(&p99),
        cpu_ratio: median(&cpu),
    }
}
