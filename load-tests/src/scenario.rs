//! What a scenario is: plain data (serializable, so user scenarios can come from files) that names
//! the driver to run and its parameters.

use serde::{Deserialize, Serialize};

use agent_core::OverflowPolicy;

/// One load scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name; also the baseline's file name (`baselines/<name>.json`).
    pub name: String,
    /// One line saying what it measures.
    pub description: String,
    /// The seed report (and test) it reproduces.
    pub source: String,
    /// Which driver runs it, with the driver's own parameters.
    pub kind: Kind,
    /// Agents (workers, receivers) in play.
    pub agents: usize,
    /// Operations each agent (or driver) performs.
    pub ops_per_agent: usize,
    /// Concurrent drivers or senders.
    pub concurrency: usize,
    /// Payload size of each message, in bytes.
    pub message_bytes: usize,
    /// The work each operation does.
    pub workload: Workload,
    /// How operations arrive.
    pub arrival: Arrival,
    /// Virtual (tokio's paused clock: exact, instant) or real time.
    pub clock: Clock,
    /// Seed of every random choice the scenario makes.
    pub seed: u64,
}

/// The driver a scenario runs, and its own parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Kind {
    /// `agents` agents; `concurrency` drivers each ask their agent for `ops_per_agent` workload
    /// steps (closed loop) or a scheduler issues steps at a fixed rate (open loop).
    Steps,
    /// One agent, operations one after another; the heap is sampled every `sample_every`
    /// operations and must return to where it started after teardown.
    Sequential {
        /// Operations between heap samples.
        sample_every: usize,
    },
    /// `concurrency` senders spread `agents * ops_per_agent` messages over the agents; every
    /// message is checked for loss and for order per sender. Throughput and latency are compared
    /// with the same traffic over raw tokio channels, in the same process.
    Messaging,
    /// Streams of chunks published on a bus topic; consumers check order and completeness.
    Streaming {
        /// Chunks per stream.
        chunks_per_stream: usize,
        /// Simulated time between chunks, in microseconds.
        chunk_interval_us: u64,
    },
    /// More requests than pool slots: `concurrency` requests, each holding a slot for the
    /// workload's duration and waiting at most `acquire_timeout_ms` for one.
    PoolExhaustion {
        /// Slots in the pool (one worker each).
        slots: usize,
        /// How long a request waits for a slot.
        acquire_timeout_ms: u64,
    },
    /// A burst into one bounded mailbox whose consumer is slower than the producer.
    QueueOverflow {
        /// The mailbox bound.
        capacity: usize,
        /// The overflow policy under test.
        policy: OverflowPolicy,
        /// How long the consumer takes per message, in microseconds.
        consumer_us: u64,
        /// Time between sends, in microseconds.
        producer_us: u64,
    },
    /// Starts fleets of agents whose start hooks take `init_us`, and measures the time until all
    /// are registered and healthy.
    Startup {
        /// Fleet sizes, started one after another.
        counts: Vec<usize>,
        /// Simulated initialisation per agent (connect, load config), in microseconds.
        init_us: u64,
    },
    /// The same traffic with per-message timing on and off; reports the throughput ratio.
    MonitoringOverhead,
    /// Seed 004's multi-domain workflow (score, draft with a 2 s approval, assess, qualify across
    /// three budgeted domains), `agents` executions in parallel.
    Orchestration,
    /// `concurrency` simultaneous LLM calls, `ops_per_agent` each, under a token-bucket limit
    /// that they honour ("retry after").
    LlmConcurrency {
        /// Requests the bucket holds.
        bucket_capacity: u32,
        /// Requests per second it refills.
        refill_per_s: f64,
    },
    /// A simulated working day of interval jobs (`agents` jobs, one every `interval_s`).
    ScheduledDay {
        /// The day's length.
        hours: u64,
        /// Seconds between runs of each job.
        interval_s: u64,
    },
    /// `agents` agents each save their state `ops_per_agent` times to a durable store on disk
    /// while a heartbeat agent keeps answering.
    StatePersistence,
    /// Calls through a circuit breaker to a tool that is overloaded for a while; measures the
    /// failure rate and how long after the overload the breaker closes again.
    Breaker {
        /// When the overload starts, ms after the start.
        overload_from_ms: u64,
        /// When it ends.
        overload_until_ms: u64,
    },
    /// Seed 002's four execution modes at once, each at its target rate, for `duration_s`.
    Modes {
        /// How long the modes run (virtual seconds).
        duration_s: u64,
    },
    /// CPU-heavy and memory-heavy workflows at once, compared with the same work on raw tokio.
    Contention {
        /// Concurrent CPU-heavy workflows.
        cpu_workflows: usize,
        /// Concurrent memory-heavy workflows.
        memory_workflows: usize,
        /// CPU rounds per step of a CPU-heavy workflow.
        cpu_iterations: u64,
        /// Bytes allocated and touched per step of a memory-heavy workflow.
        alloc_bytes: usize,
    },
}

/// The work one operation does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Workload {
    /// Nothing beyond handling the message.
    None,
    /// Waits (simulated I/O) on tokio's clock.
    Io {
        /// The wait, in microseconds.
        wait_us: u64,
    },
    /// Burns CPU: `iterations` rounds of a hash mix.
    Cpu {
        /// Rounds of work.
        iterations: u64,
    },
    /// Allocates, touches and frees `bytes`.
    Alloc {
        /// Bytes per operation.
        bytes: usize,
    },
    /// Workflow types drawn by weight from the seeded RNG, each with its own duration, variance,
    /// CPU, memory and failure rate.
    Mixed {
        /// `(type, weight)` pairs.
        mix: Vec<(WorkflowType, u32)>,
    },
}

/// The workflow types of seed 003 (Netra), each with a characteristic profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowType {
    /// Short I/O-bound request.
    Simple,
    /// Several dependent steps.
    Complex,
    /// Large allocations.
    DataIntensive,
    /// CPU-bound search.
    Optimization,
    /// Aggregation and formatting.
    Reporting,
}

/// The parameters behind one [`WorkflowType`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkflowProfile {
    /// Mean simulated I/O time, in microseconds.
    pub io_mean_us: u64,
    /// Spread of the I/O time: uniform in `mean ± jitter`.
    pub io_jitter_us: u64,
    /// CPU rounds.
    pub cpu_iterations: u64,
    /// Bytes allocated and touched.
    pub alloc_bytes: usize,
    /// Failures per thousand workflows.
    pub failures_per_mille: u32,
}

impl WorkflowType {
    /// Every type, in a fixed order.
    pub const ALL: [WorkflowType; 5] = [
        WorkflowType::Simple,
        WorkflowType::Complex,
        WorkflowType::DataIntensive,
        WorkflowType::Optimization,
        WorkflowType::Reporting,
    ];

    /// The type's profile. Durations are scaled to keep the suite fast; their ratios follow
    /// seed 003's description (simple fastest, complex and optimization slowest).
    pub fn profile(self) -> WorkflowProfile {
        let p = |io_mean_us, io_jitter_us, cpu_iterations, alloc_bytes, failures_per_mille| {
            WorkflowProfile {
                io_mean_us,
                io_jitter_us,
                cpu_iterations,
                alloc_bytes,
                failures_per_mille,
            }
        };
        match self {
            WorkflowType::Simple => p(20_000, 10_000, 0, 1024, 10),
            WorkflowType::Complex => p(120_000, 60_000, 0, 4096, 30),
            WorkflowType::DataIntensive => p(60_000, 30_000, 0, 256 * 1024, 20),
            WorkflowType::Optimization => p(90_000, 45_000, 0, 8192, 40),
            WorkflowType::Reporting => p(50_000, 20_000, 0, 16 * 1024, 15),
        }
    }

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowType::Simple => "simple",
            WorkflowType::Complex => "complex",
            WorkflowType::DataIntensive => "data_intensive",
            WorkflowType::Optimization => "optimization",
            WorkflowType::Reporting => "reporting",
        }
    }
}

/// How operations arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Arrival {
    /// Each driver starts its next operation when the previous one finishes.
    Closed,
    /// Operations start on a fixed schedule whether or not earlier ones have finished; latency is
    /// measured from the scheduled start, so a stall is not hidden (no coordinated omission).
    Open {
        /// Operations per second across the whole scenario.
        rate_per_s: f64,
    },
}

/// Which clock a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// tokio's paused clock: time advances only when every task waits, so timings are exact,
    /// reproducible and instant. Models behaviour (queueing, timeouts), not overhead.
    Virtual,
    /// Wall-clock time on a multi-threaded runtime: measures overhead. Gated only as ratios.
    Real,
}

impl Scenario {
    /// Total operations the scenario performs.
    pub fn total_ops(&self) -> u64 {
        (self.agents * self.ops_per_agent) as u64
    }

    /// Whether runs count the heap with dhat's profiler: always on the virtual clock (where the
    /// profiler's cost cannot distort timings) and for the contention scenario (whose subject is
    /// memory); not for the other real-time scenarios, whose subject is speed.
    pub fn profiles_heap(&self) -> bool {
        self.clock == Clock::Virtual
    }

    /// A copy scaled down for a quick run: operations divided by `factor` (at least one each).
    pub fn scaled_down(&self, factor: usize) -> Scenario {
        let mut s = self.clone();
        s.ops_per_agent = (s.ops_per_agent / factor).max(1);
        s
    }
}
