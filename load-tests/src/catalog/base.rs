//! What every standard scenario starts from, and the workflow mix seed 003's scenarios share.

use crate::scenario::{Arrival, Clock, Kind, Scenario, WorkflowType, Workload};

const RNG_SEED: u64 = 0x5eed_2026;

/// A scenario with the suite's defaults and `kind`.
pub(crate) fn base(name: &str, description: &str, source: &str, kind: Kind) -> Scenario {
    Scenario {
        name: name.to_owned(),
        description: description.to_owned(),
        source: source.to_owned(),
        kind,
        agents: 1,
        ops_per_agent: 1,
        concurrency: 1,
        message_bytes: 0,
        workload: Workload::None,
        arrival: Arrival::Closed,
        clock: Clock::Virtual,
        rng_seed: RNG_SEED,
    }
}

/// Seed 003's workflow types, by weight.
pub(crate) fn netra_mix() -> Workload {
    Workload::Mixed {
        mix: vec![
            (WorkflowType::Simple, 40),
            (WorkflowType::Complex, 15),
            (WorkflowType::DataIntensive, 15),
            (WorkflowType::Optimization, 10),
            (WorkflowType::Reporting, 20),
        ],
    }
}
