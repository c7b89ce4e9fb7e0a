//! The standard suite: the seeds' scenarios, with their parameters. Test-suite sizes are the
//! seeds' own except where a comment says how and why a scenario is shortened; the CLI runs the
//! full seed scale.

mod base;
mod bus;
mod claims;
mod netra;
mod paced;
mod seed002;

use agent_core::OverflowPolicy;

use crate::kinds::{
    breaker::Breaker, contention::Contention, llm_concurrency::LlmConcurrency,
    messaging::Messaging, modes::Modes, monitoring_overhead::MonitoringOverhead,
    orchestration::Orchestration, pool_exhaustion::PoolExhaustion, quality_gate::QualityGate,
    queue_overflow::QueueOverflow, scheduled_day::ScheduledDay, sequential::Sequential,
    startup::Startup, state_persistence::StatePersistence, steps::Steps, streaming::Streaming,
};
use crate::scenario::{Arrival, Clock, Kind, Scenario, Workload};

use base::{base, netra_mix};
pub use claims::{published_claim, Basis, PublishedClaim, PUBLISHED_CLAIMS};

fn veritas_concurrent(agents: usize) -> Scenario {
    Scenario {
        agents,
        ops_per_agent: 5,
        concurrency: agents,
        workload: Workload::Io { wait_us: 1_000 },
        ..base(
            &format!("veritas_concurrent_{agents}"),
            &format!("{agents} agents x 5 steps of 1 ms simulated work, all at once"),
            "seed 000 (VERITAS), test_concurrent_agents",
            Kind::Steps(Steps {}),
        )
    }
}

fn phantom(name: &str, agents: usize, per_agent: usize, senders: usize, bytes: usize) -> Scenario {
    Scenario {
        agents,
        ops_per_agent: per_agent,
        concurrency: senders,
        message_bytes: bytes,
        clock: Clock::Real,
        ..base(
            &format!("phantom_{name}"),
            &format!(
                "{agents} agents x {per_agent} messages of {bytes} B from {senders} concurrent senders; no loss, FIFO per sender"
            ),
            "seed 001 (PhantomMesh), load profiles",
            Kind::Messaging(Messaging::default()),
        )
    }
}

/// [`phantom`] with the runtime exported (a collector attached, histograms on).
fn phantom_metrics(
    name: &str,
    agents: usize,
    per_agent: usize,
    senders: usize,
    bytes: usize,
) -> Scenario {
    let plain = phantom(name, agents, per_agent, senders, bytes);
    Scenario {
        name: format!("{}_metrics", plain.name),
        description: format!(
            "{}; OpenMetrics collector attached, histograms on",
            plain.description
        ),
        kind: Kind::Messaging(Messaging { metrics: true }),
        ..plain
    }
}

fn netra_workflows(n: usize) -> Scenario {
    Scenario {
        agents: n,
        ops_per_agent: 4,
        concurrency: n,
        workload: netra_mix(),
        ..base(
            &format!("netra_workflows_{n}"),
            &format!("{n} concurrent workflows x 4, mixed types with seeded variance and failures"),
            "seed 003 (Netra), test_N_concurrent_workflows",
            Kind::Steps(Steps {}),
        )
    }
}

fn overflow(policy_name: &str, policy: OverflowPolicy) -> Scenario {
    Scenario {
        agents: 1,
        ops_per_agent: 500,
        concurrency: 50,
        ..base(
            &format!("queue_overflow_{policy_name}"),
            &format!(
                "bursts of 50 into a mailbox of 16 under {policy_name}; 10 bursts, slow consumer"
            ),
            "seed 003 (Netra), test_queue_overflow_handling",
            Kind::QueueOverflow(QueueOverflow {
                capacity: 16,
                policy,
                consumer_us: 2_000,
                producer_us: 0,
            }),
        )
    }
}

fn orchestration(batch: usize) -> Scenario {
    Scenario {
        agents: batch,
        ops_per_agent: 1,
        concurrency: batch,
        ..base(
            &format!("orchestration_batch_{batch}"),
            &format!(
                "{batch} parallel executions of the 4-step, 3-domain workflow with a 2 s approval"
            ),
            "seed 004, multi-domain orchestration",
            Kind::Orchestration(Orchestration {}),
        )
    }
}

/// Every standard scenario, in suite order.
pub fn standard() -> Vec<Scenario> {
    let mut all = seeds();
    all.extend(netra::scenarios());
    all.extend(seed002::scenarios());
    all.extend(paced::scenarios());
    all.extend(bus::scenarios());
    all
}

/// The scenarios of seeds 000 to 004 that run in one process.
fn seeds() -> Vec<Scenario> {
    vec![
        veritas_concurrent(100),
        veritas_concurrent(250),
        Scenario {
            agents: 1,
            ops_per_agent: 500,
            workload: Workload::Io { wait_us: 15_000 },
            ..base(
                "veritas_leak_detection",
                "500 sequential operations, heap sampled every 50; nothing may stay live after teardown",
                "seed 000 (VERITAS), test_memory_leaks",
                Kind::Sequential(Sequential { sample_every: 50 }),
            )
        },
        Scenario {
            agents: 4,
            ops_per_agent: 25_000,
            concurrency: 4,
            message_bytes: 64,
            clock: Clock::Real,
            ..base(
                "veritas_monitoring_overhead",
                "the same traffic with per-message timing on and off; the throughput ratio is the overhead",
                "seed 000 (VERITAS), test_monitoring_overhead",
                Kind::MonitoringOverhead(MonitoringOverhead {}),
            )
        },
        Scenario {
            agents: 100,
            ops_per_agent: 10,
            concurrency: 100,
            message_bytes: 256,
            ..base(
                "veritas_streaming",
                "1,000 messages as 100 streams of 10 chunks over the bus, 5 ms between chunks",
                "seed 000 (VERITAS), test_streaming(1000, 10)",
                Kind::Streaming(Streaming {
                    chunks_per_stream: 10,
                    chunk_interval_us: 5_000,
                }),
            )
        },
        Scenario {
            // The seed names the test (10,000 evaluations) and left it pending; the check is
            // this suite's: see `kinds/quality_gate/score.rs`.
            agents: 4,
            ops_per_agent: 2_500,
            concurrency: 100,
            clock: Clock::Real,
            ..base(
                "veritas_quality_gate",
                "10,000 candidate responses from 100 submitters scored by 4 quality-gate agents (length, citations, vocabulary, banned terms; pass at 0.6)",
                "seed 000 (VERITAS), test_quality_gate(10000)",
                Kind::QualityGate(QualityGate { threshold: 0.6 }),
            )
        },
        Scenario {
            // The seed sustains 50 agents for 3 minutes; the suite runs 30 virtual seconds (the CLI
            // runs the full duration), at 500 operations per second, open loop.
            agents: 50,
            ops_per_agent: 300,
            concurrency: 50,
            workload: Workload::Io { wait_us: 20_000 },
            arrival: Arrival::Open { rate_per_s: 500.0 },
            ..base(
                "veritas_sustained",
                "50 agents under a steady 500 ops/s open-loop load with 20 ms steps, latency from intended start",
                "seed 000 (VERITAS), test_sustained_load(50, 3)",
                Kind::Steps(Steps {}),
            )
        },
        // The seed's totals are agents x messages x 10 (5,000 to 1,000,000 messages); each profile
        // here is one tenth of that, repeated by the driver until a round lasts long enough to
        // measure. The CLI runs the seed's full totals.
        phantom("low", 5, 100, 10, 100),
        phantom("medium", 25, 200, 20, 256),
        phantom("high", 50, 500, 50, 512),
        phantom("extreme", 100, 1_000, 100, 1_024),
        phantom_metrics("medium", 25, 200, 20, 256),
        phantom_metrics("high", 50, 500, 50, 512),
        netra_workflows(10),
        netra_workflows(25),
        netra_workflows(50),
        Scenario {
            ops_per_agent: 20,
            clock: Clock::Real,
            ..base(
                "netra_resource_contention",
                "20 CPU-heavy and 15 memory-heavy workflows at once, against the same work on raw tokio",
                "seed 003 (Netra), test_resource_contention_scenarios",
                Kind::Contention(Contention {
                    cpu_workflows: 20,
                    memory_workflows: 15,
                    cpu_iterations: 20_000,
                    alloc_bytes: 256 * 1024,
                }),
            )
        },
        Scenario {
            agents: 1,
            ops_per_agent: 1,
            concurrency: 100,
            workload: Workload::Io { wait_us: 100_000 },
            ..base(
                "netra_pool_exhaustion",
                "100 requests at once for a pool of 8 slots held 100 ms, each waiting at most 250 ms",
                "seed 003 (Netra), test_agent_pool_exhaustion",
                Kind::PoolExhaustion(PoolExhaustion {
                    slots: 8,
                    acquire_timeout_ms: 250,
                }),
            )
        },
        overflow("block", OverflowPolicy::Block { timeout: None }),
        overflow("reject", OverflowPolicy::Reject),
        overflow("drop_oldest", OverflowPolicy::DropOldest),
        overflow("drop_newest", OverflowPolicy::DropNewest),
        Scenario {
            ..base(
                "startup_5_to_30",
                "fleets of 5, 10, 15, 20, 25 and 30 agents with a 50 ms simulated connect each: time until all are healthy",
                "seed 002, agent scaling startup benchmark",
                Kind::Startup(Startup {
                    counts: vec![5, 10, 15, 20, 25, 30],
                    init_us: 50_000,
                }),
            )
        },
        orchestration(5),
        orchestration(10),
        orchestration(25),
        orchestration(50),
        Scenario {
            agents: 10,
            ops_per_agent: 5,
            concurrency: 10,
            ..base(
                "llm_concurrency_10",
                "10 simultaneous callers x 5 LLM calls under a 5-request bucket refilling 2/s; retry-after honoured",
                "seed 002, LLM concurrency",
                Kind::LlmConcurrency(LlmConcurrency {
                    bucket_capacity: 5,
                    refill_per_s: 2.0,
                }),
            )
        },
        Scenario {
            agents: 20,
            ops_per_agent: 160,
            ..base(
                "scheduled_day",
                "20 jobs every 3 minutes over a simulated 8-hour day: drift, missed and duplicate firings",
                "seed 002, scheduled-task accuracy",
                Kind::ScheduledDay(ScheduledDay {
                    hours: 8,
                    interval_s: 180,
                }),
            )
        },
        Scenario {
            agents: 20,
            ops_per_agent: 160,
            concurrency: 20,
            clock: Clock::Real,
            ..base(
                "state_persistence",
                "20 agents x 160 saves to a redb file while a heartbeat agent keeps answering; states verified after reopening",
                "seed 002, state persistence under load",
                Kind::StatePersistence(StatePersistence {}),
            )
        },
        Scenario {
            agents: 1,
            ops_per_agent: 1_000,
            ..base(
                "tool_circuit_breaker",
                "a call every 10 ms through a breaker to a tool overloaded from 2 s to 5 s: failure rate, recovery time",
                "seed 003, recommendations: backpressure and circuit breakers",
                Kind::Breaker(Breaker {
                    overload_from_ms: 2_000,
                    overload_until_ms: 5_000,
                }),
            )
        },
        Scenario {
            agents: 1,
            ops_per_agent: 1,
            ..base(
                "modes_concurrent",
                "collaborative 5 tasks/s through 10 agents, autonomous 20 tasks/s on 50 workers, continuous 10 msgs/s to each of 20 agents, 15 scheduled reports, for 60 s",
                "seed 002, concurrent execution modes (1.2)",
                Kind::Modes(Modes {
                    duration_s: 60,
                    collaborative_agents: 10,
                    autonomous_agents: 50,
                    continuous_agents: 20,
                    scheduled_agents: 15,
                }),
            )
        },
        Scenario {
            ..base(
                "startup_100k",
                "100,000 agents registered and healthy; heap per agent counted by the allocator",
                "seed 002, future scale",
                Kind::Startup(Startup {
                    counts: vec![100_000],
                    init_us: 0,
                }),
            )
        },
    ]
}

/// The standard scenario named `name`.
pub fn by_name(name: &str) -> Option<Scenario> {
    standard().into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_valid() {
        let all = standard();
        let mut names: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for s in &all {
            crate::runner::validate(s).unwrap();
        }
    }
}
