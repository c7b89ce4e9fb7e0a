//! The JSON report of one scenario run. Its schema is versioned (`schema_version`); every
//! numeric field names its unit. The baseline gate reads metrics from it by dotted path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instructions::InstructionReport;
use crate::metrics::Latencies;
use crate::resources::{HeapReport, OsReport};
use crate::scenario::{Clock, Scenario};

/// The version of the report schema; bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything one run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// What it measures.
    pub description: String,
    /// The seed report it reproduces.
    pub source: String,
    /// The scenario as run.
    pub config: Scenario,
    /// Where and how it ran.
    pub environment: Environment,
    /// The clock `elapsed_s` and the latencies are measured on.
    pub clock: Clock,
    /// Whether the run was cut short (then figures cover what ran).
    pub partial: bool,
    /// Duration on the scenario's clock (virtual seconds for a virtual scenario).
    pub elapsed_s: f64,
    /// Wall-clock duration.
    pub wall_s: f64,
    /// Operation counts.
    pub operations: Operations,
    /// Operations completed per second of `elapsed_s`.
    pub throughput_ops_per_s: f64,
    /// Latency percentiles.
    pub latency: Latencies,
    /// Heap use, counted by the allocator; `None` when no heap profiler ran.
    pub heap: Option<HeapReport>,
    /// RSS, CPU time, file descriptors.
    pub os: OsReport,
    /// Mailbox queue depth.
    pub queues: QueueReport,
    /// Pool utilization, for scenarios that use a pool.
    pub pool: Option<PoolReport>,
    /// Message accounting, for scenarios that send messages.
    pub delivery: Option<Delivery>,
    /// The same workload on raw tokio, measured in the same process, for real-time scenarios.
    pub calibration: Option<Calibration>,
    /// Scenario-specific figures, each named with its unit.
    pub extra: BTreeMap<String, f64>,
    /// Time series sampled during the run.
    pub samples: Vec<Sample>,
    /// Instructions per operation, counted under callgrind in a separate run of the scenario's
    /// counting form; `None` when not counted.
    pub instructions: Option<InstructionReport>,
}

/// Where and how a report was produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Logical cores available.
    pub cores: u64,
    /// `rustc -V` of the build.
    pub rustc: String,
    /// Git revision of the build (`-dirty` if the tree had changes).
    pub git_revision: String,
    /// `debug` or `release`.
    pub build_profile: String,
    /// Operating system and architecture.
    pub os: String,
    /// agent-core's version.
    pub agent_core_version: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix_s: u64,
}

impl Environment {
    /// The environment of this process.
    pub fn current() -> Environment {
        Environment {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            rustc: env!("LOAD_TESTS_RUSTC").to_owned(),
            git_revision: env!("LOAD_TESTS_GIT_REVISION").to_owned(),
            build_profile: build_profile().to_owned(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            agent_core_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

/// `debug` or `release`: the profile this crate was built with.
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Operation counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    /// Operations attempted.
    pub total: u64,
    /// Operations that succeeded.
    pub succeeded: u64,
    /// Operations that failed.
    pub failed: u64,
    /// Failures by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Operations by workflow type, for mixed workloads.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_type: BTreeMap<String, u64>,
    /// `succeeded / total`, in percent.
    pub success_rate_pct: f64,
}

impl Operations {
    /// Counts one outcome; `Err(kind)` names the failure.
    pub fn record(&mut self, outcome: Result<(), &str>) {
        self.record_n(outcome, 1);
    }

    /// Counts `n` operations with the same outcome.
    pub fn record_n(&mut self, outcome: Result<(), &str>, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        match outcome {
            Ok(()) => self.succeeded += n,
            Err(kind) => {
                self.failed += n;
                // Look the kind up before inserting: a String per failed operation would show up
                // as the run's own allocations in the heap figures.
                match self.errors_by_kind.get_mut(kind) {
                    Some(count) => *count += n,
                    None => {
                        self.errors_by_kind.insert(kind.to_owned(), n);
                    }
                }
            }
        }
    }

    /// Counts one operation of workflow type `kind` (allocating only the first time).
    pub fn count_type(&mut self, kind: &str) {
        match self.by_type.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                self.by_type.insert(kind.to_owned(), 1);
            }
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Operations) {
        self.total += other.total;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        for (k, v) in &other.errors_by_kind {
            *self.errors_by_kind.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_type {
            *self.by_type.entry(k.clone()).or_default() += v;
        }
    }

    /// Fills in the success rate.
    pub fn finish(&mut self) {
        self.success_rate_pct = if self.total == 0 {
            100.0
        } else {
            self.succeeded as f64 * 100.0 / self.total as f64
        };
    }
}

/// Mailbox queue depth across the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueReport {
    /// The deepest any mailbox got (exact, from its counters).
    pub max_depth: u64,
    /// Mean over the run's samples of the total messages pending in all mailboxes.
    pub avg_total_depth: f64,
    /// Whether every watched runtime's mailboxes conserved their messages, checked at the end.
    pub conserved: bool,
}

/// Pool utilization across the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolReport {
    /// Slots.
    pub capacity: u64,
    /// The most slots in use at once.
    pub max_in_use: u64,
    /// Time-weighted average of slots in use / capacity, in percent.
    pub avg_utilization_pct: f64,
    /// Acquires that had to wait.
    pub waits: u64,
    /// Acquires that gave up at their timeout.
    pub exhaustions: u64,
}

/// What happened to every message sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Messages the senders sent.
    pub sent: u64,
    /// Messages the receivers handled.
    pub delivered: u64,
    /// Sent, not delivered, and not accounted for by a policy: must be zero.
    pub lost: u64,
    /// Delivered out of order for their sender.
    pub out_of_order: u64,
    /// Discarded by an overflow policy.
    pub dropped: u64,
    /// Refused by a full or closed mailbox.
    pub rejected: u64,
    /// Gave up waiting for room.
    pub timed_out: u64,
    /// What agent-core's mailboxes counted as delivered, where the receivers count what they got
    /// themselves (`delivered`): the two must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_delivered: Option<u64>,
}

/// The same workload on raw tokio, measured in the same process, rounds interleaved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// What the calibration workload is.
    pub workload: String,
    /// Interleaved rounds (each side ran this many times).
    pub rounds: u32,
    /// Median throughput of the calibration workload.
    pub ops_per_s: f64,
    /// Median over rounds of (scenario throughput / calibration throughput).
    pub throughput_ratio: f64,
    /// Median over rounds of (scenario p99 latency / calibration p99 latency).
    pub p99_latency_ratio: f64,
    /// Median over rounds of (calibration CPU time per operation / scenario CPU time per
    /// operation), process CPU time from `getrusage`: below 1 when agent-core costs more CPU.
    pub cpu_ratio: f64,
}

/// One point of the run's time series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Time since the run started, on the scenario's clock.
    pub t_ms: f64,
    /// Operations completed so far.
    pub ops_done: u64,
    /// Messages pending in all mailboxes.
    pub queue_depth: u64,
    /// Heap bytes live (when profiled).
    pub heap_live_bytes: Option<u64>,
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// What the scenario promises whatever its baseline says: no message lost or reordered, no
    /// leak, overflow exactly as predicted, every agent of a fleet healthy. Empty when all hold.
    pub fn violations(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.queues.conserved {
            v.push("a mailbox's counts do not add up (offered = accepted + rejected + timed out; accepted = delivered + dropped + abandoned + pending)".into());
        }
        let mut expect = |what: &str, actual: f64, want: f64| {
            if actual != want {
                v.push(format!("{what} is {actual}, must be {want}"));
            }
        };
        if let Some(d) = &self.delivery {
            expect("delivery.lost", d.lost as f64, 0.0);
            expect("delivery.out_of_order", d.out_of_order as f64, 0.0);
            if let Some(counted) = d.counted_delivered {
                expect(
                    "agent-core's delivered count (delivery.counted_delivered)",
                    counted as f64,
                    d.delivered as f64,
                );
            }
        }

        let extra = |k: &str| self.extra.get(k).copied();
        match &self.config.kind {
            crate::scenario::Kind::Sequential { .. } if !self.partial => {
                if let (Some(bytes), Some(blocks)) = (extra("leaked_bytes"), extra("leaked_blocks"))
                {
                    expect("extra.leaked_bytes", bytes, 0.0);
                    expect("extra.leaked_blocks", blocks, 0.0);
                }
            }
            crate::scenario::Kind::QueueOverflow { .. } if !self.partial => {
                expect(
                    "extra.matches_prediction",
                    extra("matches_prediction").unwrap_or(0.0),
                    1.0,
                );
            }
            crate::scenario::Kind::Startup { counts, .. } if !self.partial => {
                for c in counts {
                    for what in ["healthy", "registered"] {
                        let key = format!("fleet_{c:06}_{what}");
                        expect(
                            &format!("extra.{key}"),
                            extra(&key).unwrap_or(0.0),
                            *c as f64,
                        );
                    }
                }
            }
            _ => {}
        }
        v
    }

    /// Looks a numeric metric up by dotted path (`latency.total.p95_ns`, `extra.startup_30_ms`).
    pub fn metric(&self, path: &str) -> Option<f64> {
        let value = serde_json::to_value(self).ok()?;
        lookup(&value, path)
    }
}

/// Follows a dotted path through JSON objects to a number (booleans read as 0 or 1).
pub fn lookup(value: &serde_json::Value, path: &str) -> Option<f64> {
    let mut v = value;
    for part in path.split('.') {
        v = v.as_object()?.get(part)?;
    }
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}
