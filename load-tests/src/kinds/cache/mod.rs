//! Cache hit rate (seed 002's state manager, test 2.1): agents read their state through a
//! bounded LRU cache ([`agent_core::orchestration::CachedStore::bounded`]) in front of a slower
//! store. Which agent reads next is drawn from a seeded Zipf distribution (a few busy agents,
//! a long tail), the cache starting cold and smaller than the working set, so that its eviction
//! policy decides the hit rate (a cache with room for every state would give 1 - distinct keys /
//! reads whatever it evicted); the same reads run against a still smaller cache beside it.

mod run;

use serde::{Deserialize, Serialize};

/// Parameters of the cache kind. The agents are the scenario's `agents` (one state each), the
/// reads its `ops_per_agent x agents`, made by `concurrency` readers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Entries the cache holds.
    pub capacity: usize,
    /// Entries of the undersized cache run beside it.
    pub undersized_capacity: usize,
    /// The Zipf exponent of which agent reads (0 is uniform; 1 is the classic "80/20"-like skew).
    pub zipf_exponent: f64,
    /// The modelled round trip to the cache (Redis in the seed), microseconds.
    pub cache_us: u64,
    /// The modelled read from the store behind it (PostgreSQL in the seed), microseconds.
    pub store_us: u64,
}
