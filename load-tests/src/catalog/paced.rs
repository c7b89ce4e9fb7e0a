//! The seeds' messaging figures at the seeds' own rates: PhantomMesh's four profiles (seed 001)
//! at the middle of each published throughput range, and VERITAS's peak rate (seed 000), offered
//! open loop for a second (in the CLI's full run too: the seeds give rates, not durations). The closed-loop `phantom_*` scenarios stay
//! beside them as capacity tests.

use super::base::base;
use crate::kinds::paced::Paced;
use crate::scenario::{Arrival, Clock, Kind, Scenario};

fn paced(
    name: &str,
    agents: usize,
    senders: usize,
    bytes: usize,
    rate_per_s: f64,
    source: &str,
) -> Scenario {
    let total = rate_per_s as usize;
    Scenario {
        agents,
        ops_per_agent: total / agents,
        concurrency: senders,
        message_bytes: bytes,
        arrival: Arrival::Open { rate_per_s },
        clock: Clock::Real,
        ..base(
            name,
            &format!(
                "{rate_per_s:.0} msg/s offered by {senders} senders to {agents} agents, {bytes} B each, for 1 s; latency from each message's due time, beside raw tokio on the same schedule"
            ),
            source,
            Kind::Paced(Paced {}),
        )
    }
}

/// The paced scenarios.
pub(super) fn scenarios() -> Vec<Scenario> {
    const PHANTOM: &str = "seed 001 (PhantomMesh), load profiles at the published rate";
    vec![
        // The published ranges are 2-3k, 5-8k, 8-12k and 10-15k msg/s; each profile is offered
        // the middle of its range, with the profile's agents, senders and message size.
        paced("phantom_low_paced", 5, 10, 100, 2_500.0, PHANTOM),
        paced("phantom_medium_paced", 25, 20, 256, 6_500.0, PHANTOM),
        paced("phantom_high_paced", 50, 50, 512, 10_000.0, PHANTOM),
        paced("phantom_extreme_paced", 100, 100, 1_024, 12_500.0, PHANTOM),
        // VERITAS's peak (19,086 ops/s over 250 agents): 19,000 messages (76 per agent) offered at
        // that rate by 50 senders.
        paced(
            "veritas_paced_250",
            250,
            50,
            256,
            19_086.0,
            "seed 000 (VERITAS), peak throughput of test_concurrent_agents(250), as a paced rate",
        ),
    ]
}
