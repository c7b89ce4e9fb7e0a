//! What a scenario may ask for: every field in range before anything runs, so that bad input (a
//! user's TOML file, a flag) is an error naming the scenario and the field, never a panic or an
//! aborted allocation. Sizes are bounded by what a run can hold in memory, and each limit says
//! why it is what it is.

use super::RunError;
use crate::scenario::{Arrival, Kind, Scenario, Workload};

/// Agents in one scenario: an idle agent holds about 1.4 KiB (task, mailbox, registry
/// entry, metrics), so a million is about 1.4 GiB before it does anything.
pub const MAX_AGENTS: usize = 1_000_000;
/// Operations in one scenario (agents x ops_per_agent): a drive of a hundred million
/// messages is minutes of work and tens of bytes each of bookkeeping.
pub const MAX_TOTAL_OPS: u64 = 100_000_000;
/// Concurrent senders or workers: each is a task (about 0.5 KiB).
pub const MAX_CONCURRENCY: usize = 1_000_000;
/// Bytes per message: every mailbox holds up to 1,024 of them, so with the largest payload a
/// full mailbox is 1 GiB.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Bytes in flight at once (concurrency x message_bytes): what senders may hold before their
/// sends block.
pub const MAX_BYTES_IN_FLIGHT: u64 = 4 << 30;
/// Any rate (messages, refills) per second: ten million per second is several times what one
/// process sustains here; a rate must also be positive and finite.
pub const MAX_RATE_PER_S: f64 = 1e7;
/// The slowest rate: once per simulated year (a slower one's period overflows a duration).
pub const MIN_RATE_PER_S: f64 = 1.0 / MAX_SECONDS as f64;
/// Any duration, in seconds of either clock: a simulated year.
pub const MAX_SECONDS: u64 = 365 * 24 * 3600;
/// Queue capacities, stream lengths, fleet sizes, pool slots.
pub const MAX_COUNT: usize = 1_000_000;
/// Iterations of simulated CPU work per operation.
pub const MAX_CPU_ITERATIONS: u64 = 1_000_000_000;

/// Checks every field the drivers rely on.
pub fn validate(s: &Scenario) -> Result<(), RunError> {
    let invalid = |field: &'static str, problem: String| {
        Err(RunError::Invalid {
            scenario: s.name.clone(),
            field,
            problem,
        })
    };
    let at_most = |field: &'static str, value: u64, max: u64, why: &str| {
        if value > max {
            invalid(
                field,
                format!("is {value}, above the limit of {max} ({why})"),
            )
        } else {
            Ok(())
        }
    };
    let positive = |field: &'static str, value: u64| {
        if value == 0 {
            invalid(field, "must be at least 1".into())
        } else {
            Ok(())
        }
    };
    let rate = |field: &'static str, value: f64| {
        if !(value.is_finite() && value > 0.0) {
            invalid(
                field,
                format!("must be a positive finite number, got {value}"),
            )
        } else if value < MIN_RATE_PER_S {
            invalid(
                field,
                format!("is {value}, below the limit of {MIN_RATE_PER_S} per second (one per simulated year)"),
            )
        } else if value > MAX_RATE_PER_S {
            invalid(
                field,
                format!(
                    "is {value}, above the limit of {} per second",
                    MAX_RATE_PER_S
                ),
            )
        } else {
            Ok(())
        }
    };
    if s.name.is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return invalid(
            "name",
            "must be non-empty ASCII letters, digits, '_' or '-'".into(),
        );
    }
    positive("agents", s.agents as u64)?;
    at_most(
        "agents",
        s.agents as u64,
        MAX_AGENTS as u64,
        "about 1.4 KiB of heap each",
    )?;
    positive("ops_per_agent", s.ops_per_agent as u64)?;
    let total = (s.agents as u64).saturating_mul(s.ops_per_agent as u64);
    at_most(
        "ops_per_agent",
        total,
        MAX_TOTAL_OPS,
        "agents x ops_per_agent, in total",
    )?;
    positive("concurrency", s.concurrency as u64)?;
    at_most(
        "concurrency",
        s.concurrency as u64,
        MAX_CONCURRENCY as u64,
        "one task each",
    )?;
    at_most(
        "message_bytes",
        s.message_bytes as u64,
        MAX_MESSAGE_BYTES as u64,
        "a full mailbox holds 1,024 messages",
    )?;
    at_most(
        "message_bytes",
        (s.concurrency as u64).saturating_mul(s.message_bytes as u64),
        MAX_BYTES_IN_FLIGHT,
        "concurrency x message_bytes, the bytes senders hold at once",
    )?;
    if let Arrival::Open { rate_per_s } = s.arrival {
        rate("arrival.rate_per_s", rate_per_s)?;
    }
    match &s.workload {
        Workload::Mixed { mix } => {
            if mix.is_empty() || mix.iter().all(|(_, w)| *w == 0) {
                return invalid(
                    "workload.mix",
                    "needs at least one type with a positive weight".into(),
                );
            }
        }
        Workload::Io { wait_us } => at_most(
            "workload.wait_us",
            *wait_us,
            MAX_SECONDS * 1_000_000,
            "a simulated year",
        )?,
        Workload::Cpu { iterations } => at_most(
            "workload.iterations",
            *iterations,
            MAX_CPU_ITERATIONS,
            "CPU work per operation",
        )?,
        Workload::Alloc { bytes } => at_most(
            "workload.bytes",
            *bytes as u64,
            MAX_MESSAGE_BYTES as u64,
            "allocated per operation",
        )?,
        Workload::None => {}
    }
    let count = |field: &'static str, value: usize| {
        positive(field, value as u64)?;
        at_most(
            field,
            value as u64,
            MAX_COUNT as u64,
            "a count held in memory",
        )
    };
    let seconds = |field: &'static str, value: u64, per_s: u64| {
        at_most(field, value, MAX_SECONDS * per_s, "a simulated year")
    };
    match &s.kind {
        Kind::Steps | Kind::Messaging | Kind::MonitoringOverhead | Kind::StatePersistence => Ok(()),
        Kind::Orchestration => Ok(()),
        Kind::Sequential { sample_every } => count("kind.sample_every", *sample_every),
        Kind::Streaming {
            chunks_per_stream,
            chunk_interval_us,
        } => {
            count("kind.chunks_per_stream", *chunks_per_stream)?;
            seconds("kind.chunk_interval_us", *chunk_interval_us, 1_000_000)
        }
        Kind::PoolExhaustion {
            slots,
            acquire_timeout_ms,
        } => {
            count("kind.slots", *slots)?;
            seconds("kind.acquire_timeout_ms", *acquire_timeout_ms, 1_000)
        }
        Kind::QueueOverflow {
            capacity,
            consumer_us,
            producer_us,
            ..
        } => {
            count("kind.capacity", *capacity)?;
            seconds("kind.consumer_us", *consumer_us, 1_000_000)?;
            seconds("kind.producer_us", *producer_us, 1_000_000)
        }
        Kind::Startup { counts, init_us } => {
            if counts.is_empty() {
                return invalid("kind.counts", "must list fleet sizes of at least 1".into());
            }
            for c in counts {
                count("kind.counts", *c)?;
            }
            seconds("kind.init_us", *init_us, 1_000_000)
        }
        Kind::LlmConcurrency {
            bucket_capacity,
            refill_per_s,
        } => {
            count("kind.bucket_capacity", *bucket_capacity as usize)?;
            rate("kind.refill_per_s", *refill_per_s)
        }
        Kind::ScheduledDay { hours, interval_s } => {
            positive("kind.hours", *hours)?;
            at_most("kind.hours", *hours, MAX_SECONDS / 3600, "a simulated year")?;
            positive("kind.interval_s", *interval_s)?;
            seconds("kind.interval_s", *interval_s, 1)
        }
        Kind::Breaker {
            overload_from_ms,
            overload_until_ms,
        } => {
            seconds("kind.overload_from_ms", *overload_from_ms, 1_000)?;
            seconds("kind.overload_until_ms", *overload_until_ms, 1_000)?;
            if overload_until_ms < overload_from_ms {
                return invalid(
                    "kind.overload_until_ms",
                    "must not be before overload_from_ms".into(),
                );
            }
            Ok(())
        }
        Kind::Modes { duration_s } => {
            positive("kind.duration_s", *duration_s)?;
            seconds("kind.duration_s", *duration_s, 1)
        }
        Kind::Contention {
            cpu_workflows,
            memory_workflows,
            cpu_iterations,
            alloc_bytes,
        } => {
            at_most(
                "kind.cpu_workflows",
                *cpu_workflows as u64,
                MAX_COUNT as u64,
                "tasks",
            )?;
            at_most(
                "kind.memory_workflows",
                *memory_workflows as u64,
                MAX_COUNT as u64,
                "tasks",
            )?;
            at_most(
                "kind.cpu_iterations",
                *cpu_iterations,
                MAX_CPU_ITERATIONS,
                "CPU work",
            )?;
            at_most(
                "kind.alloc_bytes",
                (*alloc_bytes as u64).saturating_mul(*memory_workflows as u64),
                MAX_BYTES_IN_FLIGHT,
                "alloc_bytes x memory_workflows, held at once",
            )
        }
    }
}
