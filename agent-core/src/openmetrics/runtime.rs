//! [`RuntimeMetrics`]: the runtime's agents, mailboxes, handlers and measured times, by agent kind.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;

use super::families::{single_counter, Families};
use super::kind::{KindStats, KindTally};
use crate::runtime::AgentRuntime;

/// Reads one figure of a kind's tally.
type Field = fn(&KindTally) -> u64;

/// Exports an [`AgentRuntime`]'s figures, read from its counters at each scrape (a message costs
/// nothing more for being exported). Register it with
/// [`Registry::register_collector`](prometheus_client::registry::Registry::register_collector).
///
/// Every metric is labelled `agent` with the agent's kind (its type's name): see the metric list
/// in the crate's README. Totals include agents that have ended, so counters never go down.
#[derive(Debug, Clone)]
pub struct RuntimeMetrics {
    runtime: AgentRuntime,
}

impl RuntimeMetrics {
    /// A collector for `runtime` (a handle on it: the runtime lives as long as the collector).
    pub fn new(runtime: &AgentRuntime) -> RuntimeMetrics {
        runtime.start_export();
        RuntimeMetrics {
            runtime: runtime.clone(),
        }
    }

    /// Each kind's figures now: its ended agents' plus its live agents', read with no agent
    /// ending meanwhile.
    fn tallies(&self) -> Vec<(Arc<KindStats>, KindTally)> {
        self.runtime
            .with_retirements_paused(|| self.tallies_paused())
    }

    fn tallies_paused(&self) -> Vec<(Arc<KindStats>, KindTally)> {
        let kinds = self.runtime.kinds();
        let mut live: BTreeMap<&'static str, KindTally> = BTreeMap::new();
        for probe in self.runtime.probes() {
            let tally = live.entry(probe.kind()).or_default();
            tally.live += 1;
            tally.absorb(&probe.counts());
        }
        let mut by_kind: BTreeMap<&'static str, (Arc<KindStats>, KindTally)> = BTreeMap::new();
        for (type_name, tally) in live {
            by_kind.insert(type_name, (kinds.of(type_name), tally));
        }
        for k in kinds.all() {
            let ended = k.ended();
            let (_, tally) = by_kind
                .entry(k.type_name)
                .or_insert_with(|| (Arc::clone(&k), KindTally::default()));
            tally.add(&ended);
        }
        let mut rows: Vec<_> = by_kind.into_values().collect();
        rows.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        rows
    }
}

impl Collector for RuntimeMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let rows = self.tallies();
        let snap = self.runtime.counters();
        single_counter(
            &mut encoder,
            "agent_core_agents_spawned",
            "Agents ever spawned.",
            snap.agents_spawned,
        )?;
        single_counter(
            &mut encoder,
            "agent_core_agents_stopped",
            "Agents that ended cleanly.",
            snap.agents_stopped,
        )?;
        single_counter(
            &mut encoder,
            "agent_core_agents_failed",
            "Agents that ended as failed.",
            snap.agents_failed,
        )?;
        single_counter(
            &mut encoder,
            "agent_core_failures_reported",
            "Handler and start-hook failures (errors and panics) reported.",
            snap.failures_reported,
        )?;
        let mut f = Families {
            encoder: &mut encoder,
            label: "agent",
        };
        let by =
            |get: fn(&KindTally) -> u64| rows.iter().map(move |(k, t)| (k.name.as_str(), get(t)));
        f.gauge("agent_core_agents", "Live agents.", None, by(|t| t.live))?;
        let counters: [(&str, &str, Field); 12] = [
            ("agent_core_mailbox_offered", "Sends attempted.", |t| {
                t.mailbox.offered
            }),
            (
                "agent_core_mailbox_accepted",
                "Sends the mailbox took.",
                |t| t.mailbox.accepted,
            ),
            (
                "agent_core_mailbox_rejected",
                "Sends refused (full under Reject, or closed).",
                |t| t.mailbox.rejected,
            ),
            (
                "agent_core_mailbox_timed_out",
                "Sends that gave up after the block timeout.",
                |t| t.mailbox.timed_out,
            ),
            (
                "agent_core_mailbox_delivered",
                "Messages handed to the agent.",
                |t| t.mailbox.delivered,
            ),
            (
                "agent_core_mailbox_dropped",
                "Accepted messages a drop policy discarded.",
                |t| t.mailbox.dropped,
            ),
            (
                "agent_core_mailbox_abandoned",
                "Accepted messages discarded undelivered when a mailbox closed without draining.",
                |t| t.mailbox.abandoned,
            ),
            (
                "agent_core_mailbox_blocked_sends",
                "Sends that waited for room.",
                |t| t.mailbox.blocked_sends,
            ),
            (
                "agent_core_handled",
                "Messages whose handler returned (ok or not).",
                |t| t.handled,
            ),
            (
                "agent_core_handler_errors",
                "Handler or start-hook errors.",
                |t| t.errors,
            ),
            (
                "agent_core_handler_panics",
                "Handler or start-hook panics.",
                |t| t.panics,
            ),
            (
                "agent_core_restarts",
                "Restarts performed by restart policies.",
                |t| t.restarts,
            ),
        ];
        for (name, help, get) in counters {
            f.counter(name, help, None, by(get))?;
        }
        f.gauge(
            "agent_core_mailbox_pending",
            "Messages waiting in mailboxes now.",
            None,
            by(|t| t.mailbox.pending),
        )?;
        f.gauge(
            "agent_core_mailbox_max_depth",
            "The deepest any one mailbox of the kind has been.",
            None,
            by(|t| t.mailbox.max_depth),
        )?;
        f.counter(
            "agent_core_measured_messages",
            "Messages whose queue and handling times were measured (see Timing).",
            None,
            by(|t| t.timed),
        )?;
        let seconds = |get: Field| {
            rows.iter()
                .map(move |(k, t)| (k.name.as_str(), get(t) as f64 * 1e-9))
        };
        f.counter(
            "agent_core_measured_queue_time",
            "Sum of the measured messages' queue times (enqueue to handler start).",
            Some(&Unit::Seconds),
            seconds(|t| t.queue_ns),
        )?;
        f.counter(
            "agent_core_measured_handling_time",
            "Sum of the measured messages' handler times.",
            Some(&Unit::Seconds),
            seconds(|t| t.service_ns),
        )?;
        if self.runtime.config().histograms {
            let with = |get: fn(&KindStats) -> &super::histogram::TimeHistogram| {
                rows.iter()
                    .map(move |(k, _)| (k.name.as_str(), get(k).read()))
            };
            f.histogram(
                "agent_core_queue_time",
                "Measured messages' queue times (enqueue to handler start).",
                with(|k| &k.queue),
            )?;
            f.histogram(
                "agent_core_handling_time",
                "Measured messages' handler times.",
                with(|k| &k.service),
            )?;
            f.histogram(
                "agent_core_ask_duration",
                "Measured asks from the send to the handler's reply (queue plus handling time).",
                with(|k| &k.ask),
            )?;
        }
        Ok(())
    }
}
