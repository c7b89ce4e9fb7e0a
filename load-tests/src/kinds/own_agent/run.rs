//! The own-agent driver (generic over a team's agent type) and the kind's rules.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{Address, Agent, AgentConfig, AgentRuntime, AskError, ShutdownConfig};
use tokio::time::Instant;

use super::OwnAgent;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Rules;
use crate::kinds::sequential::run::{record_leaks, LEAKED_BLOCKS, LEAKED_BYTES};
use crate::kinds::steps::agent::ask_failure_cause;
use crate::metrics::{stripes, Tallies};
use crate::report::{paths, Delivery, Report};
use crate::resources::heap_now;
use crate::scenario::{Arrival, Kind, Scenario};

/// Builds request number `index` with `bytes` of payload.
pub(crate) type RequestFn<A> = dyn Fn(u64, usize) -> <A as Agent>::Msg + Send + Sync;
/// Whether `reply` is the right answer to request number `index`.
pub(crate) type ExpectFn<A> = dyn Fn(u64, &<A as Agent>::Reply) -> bool + Send + Sync;
/// Makes one agent.
pub(crate) type FactoryFn<A> = dyn Fn() -> A + Send + Sync;
/// Reads one of the test's own figures after a run.
pub(crate) type MetricFn = dyn Fn() -> f64 + Send + Sync;

/// Drives a team's agents: asks them for requests built by the test, closed or open loop.
pub(crate) struct AgentDriver<A: Agent> {
    pub(crate) factory: Arc<FactoryFn<A>>,
    pub(crate) request: Arc<RequestFn<A>>,
    pub(crate) expect: Option<Arc<ExpectFn<A>>>,
    pub(crate) timeout: Duration,
    /// The test's own figures, by name (their rules are in the scenario's [`OwnAgent`]).
    pub(crate) metrics: Vec<(String, Arc<MetricFn>)>,
}

impl<A: Agent> Clone for AgentDriver<A> {
    fn clone(&self) -> Self {
        AgentDriver {
            factory: Arc::clone(&self.factory),
            request: Arc::clone(&self.request),
            expect: self.expect.clone(),
            timeout: self.timeout,
            metrics: self.metrics.clone(),
        }
    }
}

/// What one request came to, as its asker saw it.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Answered by the agent (a reply, right or wrong, or a handler failure).
    handled: u64,
    /// Refused by the mailbox, never enqueued (full, timed out waiting for room, closed). An ask
    /// whose reply timed out or was dropped was enqueued: what became of it is read from the
    /// agents' own counts after the run (handled, dropped by the policy, abandoned), and what
    /// none of them accounts for is lost.
    refused: u64,
}

impl<A: Agent> AgentDriver<A> {
    /// Asks `agent` for request `index`, intended to start at `intended`, and records it.
    async fn one(
        &self,
        agent: &Address<A>,
        index: u64,
        bytes: usize,
        intended: Instant,
        tallies: &Tallies,
        key: usize,
    ) -> Counts {
        let msg = (self.request)(index, bytes);
        let outcome = agent.ask(msg, self.timeout).await;
        let total = intended.elapsed();
        let mut counts = Counts::default();
        tallies.with(key, |t| {
            t.latency.record_total(total);
            match &outcome {
                Ok(reply) => {
                    counts.handled = 1;
                    let right = self
                        .expect
                        .as_ref()
                        .is_none_or(|expect| expect(index, reply));
                    t.ops
                        .record(if right { Ok(()) } else { Err("wrong_reply") });
                }
                Err(e) => {
                    match e {
                        AskError::Failed(_) => counts.handled = 1,
                        AskError::Send(_) => counts.refused = 1,
                        _ => {}
                    }
                    t.ops.record(Err(ask_failure_cause(e)));
                }
            }
        });
        counts
    }
}

impl<A: Agent> Drive for AgentDriver<A> {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let tallies = Arc::new(Tallies::new(stripes(s.clock)));
        let mut out = DriverOutput::default();
        // Everything the harness keeps is allocated before `setup`, so that what is live after
        // the teardown, compared with `setup`, is what the agents and their runtime left behind.
        ctx.reserve_watch(1);
        // tokio's scheduler allocates its yield list on the first yield; do that one now.
        tokio::task::yield_now().await;
        let setup = heap_now();
        // Read in place: a copy would still be live when the leak check below runs.
        let (mailbox, restart, runtime) = match &s.kind {
            Kind::OwnAgent(own) => (own.mailbox, own.restart, own.runtime.as_ref()),
            _ => (None, None, None),
        };
        let rt = AgentRuntime::new(runtime.map(|r| (**r).clone()).unwrap_or_default());
        ctx.watch(&rt);
        let agents: Vec<Address<A>> = (0..s.agents)
            .map(|i| {
                let factory = Arc::clone(&self.factory);
                let mut config = AgentConfig::named(format!("agent-{i}"));
                if let Some(mailbox) = mailbox {
                    config = config.with_mailbox(mailbox);
                }
                if let Some(restart) = restart {
                    config = config.with_restart(restart);
                }
                rt.spawn(config, move || factory())
                    .expect("a fresh runtime accepts agents")
            })
            .collect();
        let total = s.total_ops();
        let bytes = s.message_bytes;
        let mut counts = Counts::default();
        match s.arrival {
            Arrival::Closed => {
                // Sender `d` sends requests d, d + senders, ...; request i goes to agent
                // i mod agents, so every agent gets `ops_per_agent`.
                let senders = s.concurrency as u64;
                let tasks: Vec<_> = (0..senders)
                    .map(|d| {
                        let (this, ctx, tallies) =
                            (self.clone(), Arc::clone(ctx), Arc::clone(&tallies));
                        let agents = agents.clone();
                        tokio::spawn(async move {
                            let mut c = Counts::default();
                            for i in (d..total).step_by(senders as usize) {
                                if ctx.stopping() {
                                    break;
                                }
                                let agent = &agents[(i % agents.len() as u64) as usize];
                                let r = this
                                    .one(agent, i, bytes, Instant::now(), &tallies, d as usize)
                                    .await;
                                c.handled += r.handled;
                                c.refused += r.refused;
                                ctx.done(1);
                            }
                            c
                        })
                    })
                    .collect();
                for t in tasks {
                    let c = t.await.expect("sender task");
                    counts.handled += c.handled;
                    counts.refused += c.refused;
                }
            }
            Arrival::Open { .. } | Arrival::Bursts { .. } => {
                // Requests start on schedule whatever earlier ones are doing; latency runs from
                // each one's intended start.
                let start = Instant::now();
                let mut tasks = Vec::with_capacity(total as usize);
                for i in 0..total {
                    if ctx.stopping() {
                        break;
                    }
                    let intended = start + s.arrival.due(i).unwrap_or_default();
                    tokio::time::sleep_until(intended).await;
                    let agent = agents[(i % agents.len() as u64) as usize].clone();
                    let (this, ctx, tallies) =
                        (self.clone(), Arc::clone(ctx), Arc::clone(&tallies));
                    tasks.push(tokio::spawn(async move {
                        let c = this
                            .one(&agent, i, bytes, intended, &tallies, i as usize)
                            .await;
                        ctx.done(1);
                        c
                    }));
                }
                for t in tasks {
                    let c = t.await.expect("request task");
                    counts.handled += c.handled;
                    counts.refused += c.refused;
                }
            }
        }
        let shutdown = rt.shutdown(ShutdownConfig::default()).await;
        debug_assert_eq!(shutdown.aborted, 0);
        // After the shutdown's drain: what the agents' handlers took, what the policies dropped
        // and what was abandoned, counted by the runtime per agent.
        let after = rt.snapshot();
        out.max_depth = after.mailboxes.max_depth;
        // The run's last handle on the runtime goes, so that what is live below is a leak.
        ctx.retire(&rt);
        drop(agents);
        drop(rt);
        record_leaks(setup, &mut out).await;
        let tally = tallies.merged();
        let sent = tally.ops.total;
        // Dropped by an overflow policy, or abandoned when the shutdown's drain ran out.
        let dropped = after.mailboxes.dropped + after.mailboxes.abandoned;
        out.delivery = Some(Delivery {
            sent,
            delivered: after.handled,
            rejected: counts.refused,
            dropped,
            lost: sent.saturating_sub(counts.refused + after.handled + dropped),
            counted_delivered: Some(after.mailboxes.delivered),
            ..Delivery::default()
        });
        out.ops = tally.ops;
        out.latency = tally.latency;
        for (name, value) in &self.metrics {
            out.extra.insert(name.clone(), value());
        }
        out
    }
}

impl Rules for OwnAgent {
    fn gates(&self, s: &Scenario) -> Vec<Gate> {
        let mut g = vec![Gate::exact(paths::DELIVERY_LOST)];
        g.extend(self.metrics.iter().map(|m| Gate {
            tolerance: m.tolerance,
            rule: m.rule,
            ..Gate::extra(&m.name)
        }));
        if s.profiles_heap() {
            g.extend([Gate::extra(LEAKED_BYTES), Gate::extra(LEAKED_BLOCKS)]);
        }
        g
    }

    /// Nothing the agents allocated may stay live after their runtime is shut down.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for key in [LEAKED_BYTES, LEAKED_BLOCKS] {
            if let Some(v) = r.extra.get(key).filter(|v| **v != 0.0) {
                broken.push(format!("extra.{key} is {v}, must be 0"));
            }
        }
    }
}
