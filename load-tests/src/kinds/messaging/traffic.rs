//! The messaging traffic, shared by the messaging and monitoring-overhead kinds: the messages,
//! the receiving agent that checks order per sender, one round through agent-core, and the paired
//! ratios of rounds to their raw tokio counterparts.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Address, Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig,
    ShutdownConfig, Timing,
};
use tokio::time::Instant;

use crate::drive::context::RunContext;
use crate::metrics::{LatencyRecorder, Tallies, STRIPES};
use crate::report::{Delivery, Yardstick};
use crate::resources::Usage;
use crate::stats::median;

/// One measured round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundResult {
    pub(crate) elapsed: Duration,
    pub(crate) p99_ns: u64,
    /// Process CPU time (user + system, every thread) over the round: cost on the side that is
    /// not the bottleneck shows here even when throughput does not move; and the context
    /// switches: waiting that neither CPU time nor instructions show.
    pub(crate) usage: Usage,
    /// For paced traffic: p99 latency from each message's actual send, corrected for
    /// coordinated omission (0 in a closed loop).
    pub(crate) p99_from_send_ns: u64,
}

/// One message of the mesh traffic.
#[derive(Debug)]
pub(crate) struct MeshMsg {
    pub(crate) sender: u32,
    /// For paced traffic, how many microseconds after its slot in the schedule the send was
    /// made (tokio's timer wakes on millisecond ticks); 0 in a closed loop. It fills what would
    /// be padding, so the message is no larger than a closed loop needs.
    pub(crate) late_us: u32,
    pub(crate) seq: u64,
    /// When the send was made. Latency is measured from the slot, `late_us` before it, so a
    /// late send is counted in full.
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
    /// For paced traffic: latency from the actual send, and each sender's interval.
    from_send: Option<(Arc<Tallies>, Duration)>,
}

impl OrderCheck {
    pub(crate) fn new(latency: Arc<Tallies>, key: usize) -> OrderCheck {
        OrderCheck {
            next: Vec::new(),
            tally: MeshTally::default(),
            latency,
            key,
            from_send: None,
        }
    }

    /// Also records latency from each message's actual send into `tallies`, corrected for
    /// coordinated omission with `interval`, each sender's time between messages.
    pub(crate) fn timing_sends(mut self, from_send: Option<(Arc<Tallies>, Duration)>) -> Self {
        self.from_send = from_send;
        self
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
        let from_send = msg.sent_at.elapsed();
        let total = from_send + Duration::from_micros(u64::from(msg.late_us));
        self.latency.with(self.key, |t| match queue {
            Some(q) => t.latency.record(total, q, total.saturating_sub(q)),
            None => t.latency.record_total(total),
        });
        if let Some((tallies, interval)) = &self.from_send {
            tallies.with(self.key, |t| {
                t.latency.record_total_corrected(from_send, *interval);
            });
        }
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
                self.check.see(&msg, ctx.queue_time());
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
    /// Closed loop (`None`: each sender sends as fast as its sends are accepted), or paced at
    /// this many messages per second in total (open loop: message `j` is due `j / rate` after
    /// the round starts, whatever happened to the ones before it).
    pub(crate) rate_per_s: Option<f64>,
}

impl Traffic {
    /// The messages sender `s` sends, in order, each with the index of its target agent. Made
    /// lazily, so each is stamped just before it is sent (closed loop) or with its slot in the
    /// schedule from `start` (paced); the agent-core rounds and the raw tokio calibration both
    /// send exactly this traffic.
    pub(crate) fn sender_messages(
        self,
        s: usize,
        start: Instant,
    ) -> impl Iterator<Item = (usize, MeshMsg)> {
        let mut seq = vec![0u64; self.agents];
        (s as u64..self.messages)
            .step_by(self.senders)
            .map(move |j| {
                let target = (j % self.agents as u64) as usize;
                let sent_at = match self.rate_per_s {
                    None => Instant::now(),
                    Some(rate) => start + Duration::from_secs_f64(j as f64 / rate),
                };
                let msg = MeshMsg {
                    sender: s as u32,
                    seq: seq[target],
                    late_us: 0,
                    sent_at,
                    payload: vec![(j & 0xff) as u8; self.bytes],
                };
                seq[target] += 1;
                (target, msg)
            })
    }

    /// Waits for `msg`'s slot when the traffic is paced; returns how late the send leaves
    /// (the pacer's own error: tokio's timer wakes on millisecond ticks).
    #[inline(always)]
    pub(crate) async fn pace(self, msg: &mut MeshMsg) -> Duration {
        if self.rate_per_s.is_none() {
            return Duration::ZERO;
        }
        let slot = msg.sent_at;
        tokio::time::sleep_until(slot).await;
        msg.sent_at = Instant::now();
        let late = msg.sent_at - slot;
        msg.late_us = u32::try_from(late.as_micros()).unwrap_or(u32::MAX);
        late
    }

    /// Each sender's time between messages, for paced traffic.
    pub(crate) fn interval(self) -> Option<Duration> {
        self.rate_per_s
            .map(|rate| Duration::from_secs_f64(self.senders as f64 / rate))
    }

    /// Tallies of latency from the actual send, for paced traffic (`None` in a closed loop and
    /// in the counted form, whose histograms would be most of what is counted).
    pub(crate) fn send_tallies(self, counting: bool) -> Option<(Arc<Tallies>, Duration)> {
        let interval = self.interval().filter(|_| !counting)?;
        Some((Arc::new(Tallies::new(STRIPES)), interval))
    }

    /// The scenario's traffic, closed loop.
    pub(crate) fn of(ctx: &RunContext) -> Traffic {
        let s = &ctx.scenario;
        Traffic {
            agents: s.agents,
            senders: s.concurrency,
            messages: s.total_ops(),
            bytes: s.message_bytes,
            rate_per_s: None,
        }
    }
}

/// What a sender reports: sent, refused, and for paced traffic how late each send left.
type Sent = (u64, u64, Option<Vec<Duration>>);

/// Sender `s` of a closed loop: each send as soon as the previous one is accepted.
async fn closed_sender(
    traffic: Traffic,
    s: usize,
    start: Instant,
    agents: Vec<Address<MeshAgent>>,
    ctx: Arc<RunContext>,
) -> Sent {
    let mut sent = 0u64;
    let mut refused = 0u64;
    for (target, msg) in traffic.sender_messages(s, start) {
        sent += 1;
        if agents[target].tell(MeshCmd::Msg(msg)).await.is_err() {
            refused += 1;
        }
        if sent % 1024 == 0 {
            ctx.done(1024);
        }
    }
    ctx.done(sent % 1024);
    (sent, refused, None)
}

/// Sender `s` of paced traffic: each send at its slot. Lateness is not kept in the counted form
/// (its histograms would be most of what is counted).
async fn paced_sender(
    traffic: Traffic,
    s: usize,
    start: Instant,
    agents: Vec<Address<MeshAgent>>,
    ctx: Arc<RunContext>,
) -> Sent {
    let mut sent = 0u64;
    let mut refused = 0u64;
    let mut lateness = (!ctx.options.counting).then(Vec::new);
    for (target, mut msg) in traffic.sender_messages(s, start) {
        let late = traffic.pace(&mut msg).await;
        if let Some(lateness) = &mut lateness {
            lateness.push(late);
        }
        sent += 1;
        if agents[target].tell(MeshCmd::Msg(msg)).await.is_err() {
            refused += 1;
        }
        if sent % 1024 == 0 {
            ctx.done(1024);
        }
    }
    ctx.done(sent % 1024);
    (sent, refused, lateness)
}

/// One round of the traffic through agent-core.
pub(crate) struct AgentRound {
    pub(crate) result: RoundResult,
    pub(crate) latency: LatencyRecorder,
    pub(crate) delivery: Delivery,
    pub(crate) max_depth: u64,
    /// How late paced sends left their slots (`None` for closed-loop traffic).
    pub(crate) send_lateness: Option<LatencyRecorder>,
}

pub(crate) async fn agent_round(
    ctx: &Arc<RunContext>,
    traffic: Traffic,
    timing: bool,
) -> AgentRound {
    let exported = matches!(&ctx.scenario.kind, crate::kinds::Kind::Messaging(m) if m.metrics);
    let rt = AgentRuntime::new(RuntimeConfig {
        timing: if timing {
            Timing::default()
        } else {
            Timing::Off
        },
        histograms: exported,
        ..RuntimeConfig::default()
    });
    // Attached for the whole round: every ended agent is then added to its kind, every measured
    // message to the histograms. Scrapes are the application's, not counted here.
    let _collector = exported.then(|| agent_core::openmetrics::RuntimeMetrics::new(&rt));
    ctx.watch(&rt);
    let latency = Arc::new(Tallies::new(ctx.stripes()));
    let from_send = traffic.send_tallies(ctx.options.counting);
    let agents: Vec<_> = (0..traffic.agents)
        .map(|i| {
            let latency = Arc::clone(&latency);
            let from_send = from_send.clone();
            rt.spawn(AgentConfig::named(format!("mesh-{i}")), move || MeshAgent {
                check: OrderCheck::new(Arc::clone(&latency), i).timing_sends(from_send.clone()),
            })
            .expect("a fresh runtime accepts agents")
        })
        .collect();
    let start = Instant::now();
    let usage_start = Usage::now();
    let senders: Vec<_> = (0..traffic.senders)
        .map(|s| {
            let agents = agents.clone();
            let ctx = Arc::clone(ctx);
            // Two separate tasks, so that the closed loop is compiled exactly as it is measured
            // (the paced loop beside it in one future moved the optimizer's inlining of `tell`).
            if traffic.rate_per_s.is_none() {
                tokio::spawn(closed_sender(traffic, s, start, agents, ctx))
            } else {
                tokio::spawn(paced_sender(traffic, s, start, agents, ctx))
            }
        })
        .collect();
    let (mut sent, mut refused) = (0, 0);
    let mut send_lateness: Option<LatencyRecorder> = None;
    for s in senders {
        let (a, b, lateness) = s.await.expect("sender task");
        sent += a;
        refused += b;
        if let Some(lateness) = lateness {
            let recorder = send_lateness.get_or_insert_with(LatencyRecorder::default);
            for late in lateness {
                recorder.record_total(late);
            }
        }
    }
    let mut tally = MeshTally::default();
    for a in &agents {
        if let Ok(Some(t)) = a.ask(MeshCmd::Report, Duration::from_secs(600)).await {
            tally.received += t.received;
            tally.out_of_order += t.out_of_order;
        }
    }
    let elapsed = start.elapsed();
    let usage = Usage::since(usage_start);
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
            usage,
            p99_from_send_ns: p99_of(from_send.as_ref()),
        },
        latency,
        delivery,
        max_depth: m.max_depth,
        send_lateness,
    }
}

/// The p99 of latencies recorded from the actual send, or 0 when none were.
pub(crate) fn p99_of(from_send: Option<&(Arc<Tallies>, Duration)>) -> u64 {
    from_send.map_or(0, |(t, _)| t.merged().latency.summary().total.p99_ns)
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
        .map(|i| raw[i].usage.cpu.as_secs_f64() / ours[i].usage.cpu.as_secs_f64().max(1e-9))
        .collect();
    // Switches are counted over all rounds together: a short round may switch a handful of
    // times, or none, on either side.
    let ours_usage: Usage = ours[..n].iter().map(|r| r.usage).sum();
    let raw_usage: Usage = raw[..n].iter().map(|r| r.usage).sum();
    let total_ops = (ops * n as u64).max(1) as f64;
    let per_op = |u: Usage| {
        (
            u.voluntary_switches as f64 / total_ops,
            u.involuntary_switches as f64 / total_ops,
        )
    };
    let ((v_ours, i_ours), (v_raw, i_raw)) = (per_op(ours_usage), per_op(raw_usage));
    // Raw tokio's switches per operation over ours; with one switch added to each side, so that
    // a side that never switched gives a finite ratio.
    let switches = |raw: u64, ours: u64| (raw + 1) as f64 / (ours + 1) as f64;
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
        voluntary_switches_per_op: v_ours,
        raw_voluntary_switches_per_op: v_raw,
        involuntary_switches_per_op: i_ours,
        raw_involuntary_switches_per_op: i_raw,
        voluntary_switch_ratio: switches(
            raw_usage.voluntary_switches,
            ours_usage.voluntary_switches,
        ),
        involuntary_switch_ratio: switches(
            raw_usage.involuntary_switches,
            ours_usage.involuntary_switches,
        ),
    }
}
