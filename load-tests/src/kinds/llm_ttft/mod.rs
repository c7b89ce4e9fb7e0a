//! Time to first token per provider (seed 002's LLM API latency, test 5.1): each provider
//! profile is a simulated LLM ([`agent_core::orchestration::SimulatedLlm`]) with its own time to
//! first token and token rate; `concurrency` callers per provider make `ops_per_agent` streamed
//! requests each. The provider profiles are this suite's choice (the seed names the providers
//! and their targets, not their behaviour), so the percentiles restate them: a model check of
//! the simulator and the accounting, not a measurement of any provider.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the TTFT kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmTtft {
    /// The provider profiles.
    pub providers: Vec<Provider>,
}

/// One provider's modelled behaviour and the seed's target for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Its name in reports (letters, digits and '_').
    pub name: String,
    /// Shortest time to first token, milliseconds.
    pub ttft_min_ms: u64,
    /// Longest time to first token, milliseconds.
    pub ttft_max_ms: u64,
    /// Slowest generation, tokens per second.
    pub tokens_per_s_min: f64,
    /// Fastest generation, tokens per second.
    pub tokens_per_s_max: f64,
    /// Injected failures per thousand requests.
    pub errors_per_mille: u32,
    /// The seed's target for p95 time to first token, milliseconds, if it gives one.
    pub ttft_target_ms: Option<u64>,
}
