//! What a scenario is: plain data (serializable, so user scenarios can come from files): the
//! fields every kind shares, and its [`Kind`] with the kind's own parameters.

use serde::{Deserialize, Serialize};

pub use crate::kinds::Kind;

/// One load scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name; also the baseline's file name (`baselines/<name>.json`).
    pub name: String,
    /// One line saying what it measures.
    pub description: String,
    /// The published load-test report (one of the seeds) and the test in it that this reproduces.
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
    pub rng_seed: u64,
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
    /// Allocates `bytes` and holds them through a wait of `wait_us` on tokio's clock (data kept
    /// while its I/O runs), then touches and frees them: memory that is live for a while.
    Hold {
        /// Bytes per operation.
        bytes: usize,
        /// The wait, in microseconds.
        wait_us: u64,
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
            // The CPU-bound types burn CPU (rounds of a hash mix), which the virtual clock does
            // not see and the instruction count does.
            WorkflowType::Simple => p(20_000, 10_000, 0, 1024, 10),
            WorkflowType::Complex => p(120_000, 60_000, 20_000, 4096, 30),
            WorkflowType::DataIntensive => p(60_000, 30_000, 0, 256 * 1024, 20),
            WorkflowType::Optimization => p(90_000, 45_000, 100_000, 8192, 40),
            WorkflowType::Reporting => p(50_000, 20_000, 5_000, 16 * 1024, 15),
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
    /// Operations arrive in bursts of `size` at once, one burst every `every_ms`; open loop like
    /// `Open` (latency from the burst's start).
    Bursts {
        /// Operations per burst.
        size: usize,
        /// Milliseconds from one burst to the next.
        every_ms: u64,
    },
}

impl Arrival {
    /// When operation `i` is due after the run starts, or `None` in a closed loop.
    pub fn due(&self, i: u64) -> Option<std::time::Duration> {
        match *self {
            Arrival::Closed => None,
            Arrival::Open { rate_per_s } => {
                Some(std::time::Duration::from_secs_f64(i as f64 / rate_per_s))
            }
            Arrival::Bursts { size, every_ms } => Some(std::time::Duration::from_millis(
                (i / size.max(1) as u64) * every_ms,
            )),
        }
    }
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

    /// Whether runs count the heap with dhat's profiler: on the virtual clock, where the
    /// profiler's cost cannot distort timings; never on the real clock, whose subject is speed
    /// (dhat's allocator takes a lock on every allocation).
    pub fn profiles_heap(&self) -> bool {
        self.clock == Clock::Virtual
    }
}
