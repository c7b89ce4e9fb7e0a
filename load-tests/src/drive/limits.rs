//! What a scenario may ask for: every field in range before anything runs, so that bad input (a
//! user's TOML file, a flag) is an error naming the scenario and the field, never a panic or an
//! aborted allocation. Sizes are bounded by what a run can hold in memory, and each limit says
//! why it is what it is.

use super::context::RunError;
use crate::scenario::{Arrival, Scenario, Workload};

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
/// The most bytes one operation may hold at once.
pub const MAX_HELD_BYTES: u64 = 256 << 20;
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

/// Range checks that name the scenario and the field they reject.
#[derive(Clone, Copy, Debug)]
pub struct Limits<'a> {
    scenario: &'a str,
}

impl<'a> Limits<'a> {
    /// Checks for the scenario named `scenario`.
    pub fn new(scenario: &'a str) -> Limits<'a> {
        Limits { scenario }
    }

    /// `name` as a part of a metric key: non-empty ASCII letters, digits or '_'.
    pub fn key_part(&self, field: &'static str, name: &str) -> Result<(), RunError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return self.invalid(
                field,
                format!("{name:?} must be non-empty ASCII letters, digits or '_'"),
            );
        }
        Ok(())
    }

    /// The error for `field`.
    pub fn invalid(&self, field: &'static str, problem: String) -> Result<(), RunError> {
        Err(RunError::Invalid {
            scenario: self.scenario.to_owned(),
            field,
            problem,
        })
    }

    /// `value` must not exceed `max`; `why` says what the limit protects.
    pub fn at_most(
        &self,
        field: &'static str,
        value: u64,
        max: u64,
        why: &str,
    ) -> Result<(), RunError> {
        if value > max {
            self.invalid(
                field,
                format!("is {value}, above the limit of {max} ({why})"),
            )
        } else {
            Ok(())
        }
    }

    /// `value` must be at least 1.
    pub fn positive(&self, field: &'static str, value: u64) -> Result<(), RunError> {
        if value == 0 {
            self.invalid(field, "must be at least 1".into())
        } else {
            Ok(())
        }
    }

    /// A rate per second: positive, finite, between [`MIN_RATE_PER_S`] and [`MAX_RATE_PER_S`].
    pub fn rate(&self, field: &'static str, value: f64) -> Result<(), RunError> {
        if !(value.is_finite() && value > 0.0) {
            self.invalid(
                field,
                format!("must be a positive finite number, got {value}"),
            )
        } else if value < MIN_RATE_PER_S {
            self.invalid(
                field,
                format!("is {value}, below the limit of {MIN_RATE_PER_S} per second (one per simulated year)"),
            )
        } else if value > MAX_RATE_PER_S {
            self.invalid(
                field,
                format!("is {value}, above the limit of {MAX_RATE_PER_S} per second"),
            )
        } else {
            Ok(())
        }
    }

    /// A count held in memory: at least 1, at most [`MAX_COUNT`].
    pub fn count(&self, field: &'static str, value: usize) -> Result<(), RunError> {
        self.positive(field, value as u64)?;
        self.at_most(
            field,
            value as u64,
            MAX_COUNT as u64,
            "a count held in memory",
        )
    }

    /// A duration in units of `1 / per_s` seconds: at most [`MAX_SECONDS`].
    pub fn seconds(&self, field: &'static str, value: u64, per_s: u64) -> Result<(), RunError> {
        self.at_most(field, value, MAX_SECONDS * per_s, "a simulated year")
    }
}

/// Checks the fields every kind shares; each kind checks its own ([`crate::kinds::rules::Rules::check`]).
pub fn check_common(s: &Scenario) -> Result<(), RunError> {
    let l = Limits::new(&s.name);
    if s.name.is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return l.invalid(
            "name",
            "must be non-empty ASCII letters, digits, '_' or '-'".into(),
        );
    }
    l.positive("agents", s.agents as u64)?;
    l.at_most(
        "agents",
        s.agents as u64,
        MAX_AGENTS as u64,
        "about 1.4 KiB of heap each",
    )?;
    l.positive("ops_per_agent", s.ops_per_agent as u64)?;
    let total = (s.agents as u64).saturating_mul(s.ops_per_agent as u64);
    l.at_most(
        "ops_per_agent",
        total,
        MAX_TOTAL_OPS,
        "agents x ops_per_agent, in total",
    )?;
    l.positive("concurrency", s.concurrency as u64)?;
    l.at_most(
        "concurrency",
        s.concurrency as u64,
        MAX_CONCURRENCY as u64,
        "one task each",
    )?;
    l.at_most(
        "message_bytes",
        s.message_bytes as u64,
        MAX_MESSAGE_BYTES as u64,
        "a full mailbox holds 1,024 messages",
    )?;
    l.at_most(
        "message_bytes",
        (s.concurrency as u64).saturating_mul(s.message_bytes as u64),
        MAX_BYTES_IN_FLIGHT,
        "concurrency x message_bytes, the bytes senders hold at once",
    )?;
    match s.arrival {
        Arrival::Open { rate_per_s } => l.rate("arrival.rate_per_s", rate_per_s)?,
        Arrival::Bursts { size, every_ms } => {
            l.count("arrival.size", size)?;
            l.seconds("arrival.every_ms", every_ms, 1000)?;
        }
        Arrival::Closed => {}
    }
    match &s.workload {
        Workload::Mixed { mix } => {
            if mix.is_empty() || mix.iter().all(|(_, w)| *w == 0) {
                return l.invalid(
                    "workload.mix",
                    "needs at least one type with a positive weight".into(),
                );
            }
        }
        Workload::Io { wait_us } => l.at_most(
            "workload.wait_us",
            *wait_us,
            MAX_SECONDS * 1_000_000,
            "a simulated year",
        )?,
        Workload::Cpu { iterations } => l.at_most(
            "workload.iterations",
            *iterations,
            MAX_CPU_ITERATIONS,
            "CPU work per operation",
        )?,
        Workload::Alloc { bytes } => l.at_most(
            "workload.bytes",
            *bytes as u64,
            MAX_MESSAGE_BYTES as u64,
            "allocated per operation",
        )?,
        Workload::Hold { bytes, wait_us } => {
            l.at_most(
                "workload.bytes",
                *bytes as u64,
                MAX_HELD_BYTES,
                "held per operation",
            )?;
            l.seconds("workload.wait_us", *wait_us, 1_000_000)?;
        }
        Workload::None => {}
    }
    Ok(())
}
