//! Seed 003's (Netra) scenarios beyond its concurrent-workflow ones: its memory-usage and
//! CPU-usage patterns, and the burst pattern of its 50-workflow test.

use super::base::{base, netra_mix};
use crate::kinds::steps::Steps;
use crate::scenario::{Arrival, Clock, Kind, Scenario, Workload};

/// The scenarios.
pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            // `test_memory_usage_patterns`: batch processing, memory allocated and cleaned up.
            // Batches of 10 data-heavy workflows a second, each holding 8 MiB through 300 ms of
            // I/O; the live heap over time is the pattern.
            agents: 10,
            ops_per_agent: 5,
            concurrency: 10,
            workload: Workload::Hold {
                bytes: 8 << 20,
                wait_us: 300_000,
            },
            arrival: Arrival::Bursts {
                size: 10,
                every_ms: 1_000,
            },
            ..base(
                "netra_memory_pattern",
                "5 batches of 10 workflows, one a second, each holding 8 MiB through 300 ms of I/O: live heap over time, peak, nothing left",
                "seed 003 (Netra), test_memory_usage_patterns, peak < 1 GB",
                Kind::Steps(Steps {}),
            )
        },
        Scenario {
            // `test_cpu_usage_patterns`: CPU-intensive workflows at a steady rate, the cores'
            // use over time; the seed's floor is 5 requests a second.
            agents: 4,
            ops_per_agent: 10,
            concurrency: 4,
            workload: Workload::Cpu {
                iterations: 2_000_000,
            },
            arrival: Arrival::Open { rate_per_s: 20.0 },
            clock: Clock::Real,
            ..base(
                "netra_cpu_pattern",
                "40 CPU-heavy workflows (2M rounds of a hash mix each) arriving at 20/s on 4 agents: CPU use over time, throughput",
                "seed 003 (Netra), test_cpu_usage_patterns, throughput > 5 req/s, CPU < 95%",
                Kind::Steps(Steps {}),
            )
        },
        Scenario {
            // `test_50_concurrent_workflows` with its "burst patterns": the 50 workflows arrive
            // at once, four bursts two seconds apart, instead of a closed loop.
            agents: 50,
            ops_per_agent: 4,
            concurrency: 50,
            workload: netra_mix(),
            arrival: Arrival::Bursts {
                size: 50,
                every_ms: 2_000,
            },
            ..base(
                "netra_workflows_50_burst",
                "4 bursts of 50 mixed workflows, 2 s apart, with seeded variance and failures",
                "seed 003 (Netra), test_50_concurrent_workflows (burst patterns)",
                Kind::Steps(Steps {}),
            )
        },
    ]
}
