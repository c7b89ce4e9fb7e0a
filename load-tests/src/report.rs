//! The JSON report of one scenario run. Its schema is versioned (`schema_version`); every
//! numeric field names its unit. The baseline gate reads metrics from it by dotted path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::Latencies;
pub use crate::metrics::Operations;
use crate::resources::{HeapReport, OsReport};
use crate::scenario::{Clock, Scenario};

/// The version of the report schema; bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 3;

/// Dotted paths of the figures every kind may gate, defined once.
pub mod paths {
    /// Operations attempted.
    pub const OPERATIONS_TOTAL: &str = "operations.total";
    /// Operations that succeeded.
    pub const OPERATIONS_SUCCEEDED: &str = "operations.succeeded";
    /// Operations that failed.
    pub const OPERATIONS_FAILED: &str = "operations.failed";
    /// Duration on the scenario's clock.
    pub const ELAPSED_S: &str = "elapsed_s";
    /// Operations per second of that duration.
    pub const THROUGHPUT: &str = "throughput_ops_per_s";
    /// End-to-end latency percentiles.
    pub const LATENCY_TOTAL: [&str; 4] = [
        "latency.total.p50_ns",
        "latency.total.p95_ns",
        "latency.total.p99_ns",
        "latency.total.max_ns",
    ];
    /// Time waiting in a mailbox, p99.
    pub const LATENCY_QUEUE_P99: &str = "latency.queue.p99_ns";
    /// Time in the handler, p99.
    pub const LATENCY_SERVICE_P99: &str = "latency.service.p99_ns";
    /// The deepest any watched mailbox got.
    pub const MAX_QUEUE_DEPTH: &str = "queues.max_depth";
    /// Heap blocks allocated per operation.
    pub const HEAP_BLOCKS_PER_OP: &str = "heap.allocated_blocks_per_op";
    /// Heap bytes allocated per operation.
    pub const HEAP_BYTES_PER_OP: &str = "heap.allocated_bytes_per_op";
    /// The most heap bytes live at once.
    pub const HEAP_PEAK_LIVE: &str = "heap.peak_live_bytes";
    /// Messages that vanished.
    pub const DELIVERY_LOST: &str = "delivery.lost";
    /// Messages delivered out of order per sender.
    pub const DELIVERY_OUT_OF_ORDER: &str = "delivery.out_of_order";
    /// Messages delivered.
    pub const DELIVERY_DELIVERED: &str = "delivery.delivered";
    /// Throughput over raw tokio's, same traffic, same process.
    pub const YARDSTICK_THROUGHPUT: &str = "yardstick.throughput_ratio";
    /// Raw tokio's CPU per operation over ours.
    pub const YARDSTICK_CPU: &str = "yardstick.cpu_ratio";
    /// Instructions per operation, counted under callgrind.
    pub const INSTRUCTIONS: &str = "instructions.per_op";
    /// System calls per operation, counted in the same callgrind run, the allocator's memory
    /// mapping aside.
    pub const SYSCALLS: &str = "instructions.syscalls_per_op";
    /// The allocator's memory-mapping system calls per operation (reported only).
    pub const MEMORY_MAPPING_SYSCALLS: &str = "instructions.memory_mapping_syscalls_per_op";
    /// Estimated cycles per operation (instructions and simulated cache misses, weighted), in the
    /// same callgrind run.
    pub const ESTIMATED_CYCLES: &str = "instructions.estimated_cycles_per_op";
    /// The figures of the callgrind run: compared only with a count made alike.
    pub const COUNTED: [&str; 3] = [INSTRUCTIONS, SYSCALLS, ESTIMATED_CYCLES];

    /// The headline figures of any run, with their labels: the console's table and `compare`
    /// show these (and then every other gated figure).
    pub const HEADLINE: [(&str, &str); 14] = [
        ("operations succeeded", OPERATIONS_SUCCEEDED),
        ("throughput (ops/s)", THROUGHPUT),
        ("latency p50 (ns)", LATENCY_TOTAL[0]),
        ("latency p95 (ns)", LATENCY_TOTAL[1]),
        ("latency p99 (ns)", LATENCY_TOTAL[2]),
        ("max queue depth", MAX_QUEUE_DEPTH),
        ("heap blocks per op", HEAP_BLOCKS_PER_OP),
        ("heap peak live (bytes)", HEAP_PEAK_LIVE),
        ("ratio to raw tokio", YARDSTICK_THROUGHPUT),
        ("CPU per op, ratio to raw tokio", YARDSTICK_CPU),
        ("instructions per op (callgrind)", INSTRUCTIONS),
        ("estimated cycles per op (callgrind)", ESTIMATED_CYCLES),
        ("system calls per op (callgrind)", SYSCALLS),
        (
            "memory-mapping calls per op (callgrind)",
            MEMORY_MAPPING_SYSCALLS,
        ),
    ];
}

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
    pub yardstick: Option<Yardstick>,
    /// Scenario-specific figures, each named with its unit.
    pub extra: BTreeMap<String, f64>,
    /// Time series sampled during the run.
    pub samples: Vec<Sample>,
    /// Instructions per operation, counted under callgrind in a separate run of the scenario's
    /// counting form; `None` when not counted.
    pub instructions: Option<InstructionReport>,
    /// Figures (dotted paths, or prefixes ending in `.`) that restate the scenario's inputs: on
    /// the virtual clock every time figure is the model's (1 ms of simulated work gives a p95 of
    /// 1 ms), and some kinds' own figures echo what they were offered. Model checks, not
    /// measurements: shown as such, never as headlines.
    #[serde(default)]
    pub model_checks: Vec<String>,
    /// Invariants a team's own test added ([`crate::AgentLoad::invariant`]) that this run broke,
    /// each named; part of [`Report::violations`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_invariants_broken: Vec<String>,
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
            ..Environment::of_build()
        }
    }

    /// What the build alone says, without asking the machine: `cores` is 0. A counted run
    /// reports this, since finding the cores reads cgroup files whose number differs between
    /// machines, and each read is a system call the count would include.
    pub fn of_build() -> Environment {
        Environment {
            cores: 0,
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
pub struct Yardstick {
    /// What the yardstick workload is.
    pub workload: String,
    /// Interleaved rounds (each side ran this many times).
    pub rounds: u32,
    /// Median throughput of the yardstick workload.
    pub ops_per_s: f64,
    /// Median over rounds of (scenario throughput / yardstick throughput).
    pub throughput_ratio: f64,
    /// Median over rounds of (scenario p99 latency / yardstick p99 latency).
    pub p99_latency_ratio: f64,
    /// Median over rounds of (yardstick CPU time per operation / scenario CPU time per
    /// operation), process CPU time from `getrusage`: below 1 when agent-core costs more CPU.
    pub cpu_ratio: f64,
    /// Voluntary context switches per operation (a thread gave up its core to wait: a parked
    /// worker, a contended lock, a sleep), agent-core's side, all rounds (`getrusage`).
    #[serde(default)]
    pub voluntary_switches_per_op: f64,
    /// The same on the raw tokio side.
    #[serde(default)]
    pub raw_voluntary_switches_per_op: f64,
    /// Involuntary context switches per operation (the kernel preempted a thread), agent-core's
    /// side.
    #[serde(default)]
    pub involuntary_switches_per_op: f64,
    /// The same on the raw tokio side.
    #[serde(default)]
    pub raw_involuntary_switches_per_op: f64,
    /// Raw tokio's voluntary switches over agent-core's, all rounds, one added to each: below 1
    /// when agent-core waits more.
    #[serde(default)]
    pub voluntary_switch_ratio: f64,
    /// The same for involuntary switches.
    #[serde(default)]
    pub involuntary_switch_ratio: f64,
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
    /// CPU time the process used since the previous sample over the wall time between them
    /// (1.0 is one core busy); real-time scenarios only.
    #[serde(default)]
    pub cpu_cores_used: Option<f64>,
}

impl Report {
    /// Whether the figure at `path` restates the scenario's inputs (see
    /// [`Report::model_checks`]).
    pub fn is_model_check(&self, path: &str) -> bool {
        self.model_checks.iter().any(|m| {
            if m.ends_with('.') {
                path.starts_with(m.as_str())
            } else {
                path == m
            }
        })
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
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

/// Instructions one scenario executed, per operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionReport {
    /// Instructions executed in the program's own code (the executable) per operation: gated.
    pub per_op: f64,
    /// Instructions executed in shared libraries (libc, the loader) per operation: reported only.
    pub libraries_per_op: f64,
    /// Operations in the counted run (its counting form, see `counting_form`).
    pub ops: u64,
    /// `valgrind --version` of the counting run.
    pub valgrind: String,
    /// `rustc -V` of the build.
    pub rustc: String,
    /// `debug` or `release`.
    pub build_profile: String,
    /// The functions with the most own instructions per operation, costliest first.
    pub functions: Vec<FunctionCost>,
    /// agent-core's functions with the most inclusive instructions (their own and their
    /// callees') per operation: where in the runtime a change entered.
    pub agent_core_inclusive: Vec<FunctionCost>,
    /// System calls per operation made in the counted window, but for the allocator's memory
    /// mapping (`memory_mapping_syscalls_per_op`): gated.
    #[serde(default)]
    pub syscalls_per_op: f64,
    /// `brk`, `mmap`, `munmap`, `mremap` and `madvise` per operation in the counted window:
    /// reported only. They follow where the heap's top happens to be, which moves with what
    /// the process allocated before the window (one more or one fewer was seen between two
    /// machines running the same build); the allocation gates watch the heap itself.
    #[serde(default)]
    pub memory_mapping_syscalls_per_op: f64,
    /// Estimated cycles per operation in the program's own code: every instruction fetch, data
    /// read and data write weighted by where the simulated caches found it (see
    /// `instructions::CYCLES_L1_HIT`): gated.
    #[serde(default)]
    pub estimated_cycles_per_op: f64,
    /// Estimated cycles per operation in shared libraries: reported only, like their
    /// instructions.
    #[serde(default)]
    pub libraries_estimated_cycles_per_op: f64,
    /// The simulated caches (valgrind's `--I1`, `--D1`, `--LL`), on which the estimate depends.
    #[serde(default)]
    pub cache: String,
    /// The functions that made the system calls (their own calls per operation), most first.
    #[serde(default)]
    pub syscall_functions: Vec<FunctionCost>,
    /// agent-core's functions with the most system calls made in them or their callees.
    #[serde(default)]
    pub agent_core_syscalls: Vec<FunctionCost>,
    /// The functions with the most own estimated cycles per operation.
    #[serde(default)]
    pub cycle_functions: Vec<FunctionCost>,
    /// agent-core's functions with the most inclusive estimated cycles per operation.
    #[serde(default)]
    pub agent_core_cycles: Vec<FunctionCost>,
}

/// One function's count of one event (instructions, system calls, estimated cycles) per
/// operation, its own or inclusive as the list holding it says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCost {
    /// Demangled name, generic parameters elided (monomorphizations add up).
    pub name: String,
    /// The count per operation.
    pub per_op: f64,
}

/// The CPU's model name, for naming the machine in reports.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
