//! The cache driver and rules.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{CachedStore, MemoryStore, StateError, StateStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use super::Cache;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Figures, Rules};
use crate::metrics::LatencyRecorder;
use crate::report::Report;
use crate::scenario::Scenario;

/// Reads answered by the cache.
pub(crate) const HITS: &str = "cache_hits";
/// Reads that went to the store.
pub(crate) const MISSES: &str = "cache_misses";
/// Entries evicted to make room.
pub(crate) const EVICTIONS: &str = "cache_evictions";
/// Hits over reads, percent.
pub(crate) const HIT_RATE_PCT: &str = "hit_rate_pct";
/// The same reads through the undersized cache: hits over reads, percent.
pub(crate) const UNDERSIZED_HIT_RATE_PCT: &str = "undersized_hit_rate_pct";
/// The undersized cache's evictions.
pub(crate) const UNDERSIZED_EVICTIONS: &str = "undersized_evictions";
/// p95 of reads the cache answered (a model check: the modelled round trip).
pub(crate) const HIT_P95_MS: &str = "hit_p95_ms";
/// p95 of reads that went to the store (a model check: round trip plus the modelled read).
pub(crate) const MISS_P95_MS: &str = "miss_p95_ms";

/// The seed's acceptance criterion.
const TARGET_HIT_RATE_PCT: f64 = 90.0;

/// A store that takes a modelled time per read.
#[derive(Clone, Debug)]
struct SlowStore {
    inner: MemoryStore,
    read: Duration,
}

impl StateStore for SlowStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        tokio::time::sleep(self.read).await;
        self.inner.load(key).await
    }

    async fn save(&self, key: &str, value: Vec<u8>) -> Result<(), StateError> {
        self.inner.save(key, value).await
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.inner.delete(key).await
    }
}

/// Cumulative Zipf weights over `n` ranks.
fn zipf_cdf(n: usize, exponent: f64) -> Vec<f64> {
    let mut total = 0.0;
    (1..=n)
        .map(|k| {
            total += 1.0 / (k as f64).powf(exponent);
            total
        })
        .collect()
}

fn draw(cdf: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let u = rng.random::<f64>() * cdf.last().copied().unwrap_or(0.0);
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

struct Outcome {
    hits: u64,
    misses: u64,
    evictions: u64,
    hit_latency: LatencyRecorder,
    miss_latency: LatencyRecorder,
    all: LatencyRecorder,
}

impl Outcome {
    fn hit_rate_pct(&self) -> f64 {
        self.hits as f64 * 100.0 / (self.hits + self.misses).max(1) as f64
    }
}

/// The scenario's reads through a cache of `capacity`, starting cold.
async fn reads(ctx: &Arc<RunContext>, k: &Cache, capacity: usize, count_done: bool) -> Outcome {
    let s = &ctx.scenario;
    let states = MemoryStore::default();
    for a in 0..s.agents {
        states
            .save(
                &format!("agent-{a}"),
                format!("{{\"agent\":{a}}}").into_bytes(),
            )
            .await
            .expect("memory store");
    }
    let store = CachedStore::bounded(
        SlowStore {
            inner: states,
            read: Duration::from_micros(k.store_us),
        },
        NonZeroUsize::new(capacity.max(1)).expect("at least one"),
    );
    let cdf = Arc::new(zipf_cdf(s.agents, k.zipf_exponent));
    let per_reader = s.total_ops() as usize / s.concurrency;
    let readers: Vec<_> = (0..s.concurrency)
        .map(|r| {
            let (store, cdf, ctx) = (store.clone(), Arc::clone(&cdf), Arc::clone(ctx));
            let cache_rtt = Duration::from_micros(k.cache_us);
            let store_read = Duration::from_micros(k.store_us.max(1));
            let seed = s.rng_seed ^ (r as u64).wrapping_mul(0x9e37_79b9);
            tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut out = Vec::with_capacity(per_reader);
                for _ in 0..per_reader {
                    let agent = draw(&cdf, &mut rng);
                    let t = Instant::now();
                    tokio::time::sleep(cache_rtt).await;
                    let asked = Instant::now();
                    let state = store.load(&format!("agent-{agent}")).await;
                    // A miss waits for the store's modelled read; a hit does not.
                    let hit = asked.elapsed() < store_read;
                    assert!(matches!(state, Ok(Some(_))), "agent-{agent} has a state");
                    out.push((t.elapsed(), hit));
                    if count_done {
                        ctx.done(1);
                    }
                }
                out
            })
        })
        .collect();
    let mut o = Outcome {
        hits: 0,
        misses: 0,
        evictions: 0,
        hit_latency: LatencyRecorder::default(),
        miss_latency: LatencyRecorder::default(),
        all: LatencyRecorder::default(),
    };
    for r in readers {
        for (elapsed, hit) in r.await.expect("reader task") {
            o.all.record_total(elapsed);
            if hit {
                o.hit_latency.record_total(elapsed);
            } else {
                o.miss_latency.record_total(elapsed);
            }
        }
    }
    let snap = store.snapshot();
    (o.hits, o.misses, o.evictions) = (snap.hits, snap.misses, snap.evictions);
    o
}

impl Drive for Cache {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let main = reads(ctx, self, self.capacity, true).await;
        let small = reads(ctx, self, self.undersized_capacity, false).await;
        let mut out = DriverOutput::default();
        out.ops.record_n(Ok(()), main.hits + main.misses);
        let ms = |l: &LatencyRecorder| l.summary().total.p95_ns as f64 / 1e6;
        for (key, value) in [
            (HITS, main.hits as f64),
            (MISSES, main.misses as f64),
            (EVICTIONS, main.evictions as f64),
            (HIT_RATE_PCT, main.hit_rate_pct()),
            (UNDERSIZED_HIT_RATE_PCT, small.hit_rate_pct()),
            (UNDERSIZED_EVICTIONS, small.evictions as f64),
            (HIT_P95_MS, ms(&main.hit_latency)),
            (MISS_P95_MS, ms(&main.miss_latency)),
        ] {
            out.extra.insert(key.into(), value);
        }
        out.latency = main.all;
        out
    }
}

const GATED: [&str; 5] = [
    HITS,
    MISSES,
    EVICTIONS,
    UNDERSIZED_HIT_RATE_PCT,
    UNDERSIZED_EVICTIONS,
];

impl Rules for Cache {
    fn check(&self, s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.positive("kind.capacity", self.capacity as u64)?;
        l.positive("kind.undersized_capacity", self.undersized_capacity as u64)?;
        if !(0.0..=10.0).contains(&self.zipf_exponent) {
            return l.invalid("kind.zipf_exponent", "must be between 0 and 10".into());
        }
        l.seconds("kind.cache_us", self.cache_us, 1_000_000)?;
        l.seconds("kind.store_us", self.store_us, 1_000_000)?;
        if s.total_ops() as usize % s.concurrency != 0 {
            return l.invalid(
                "concurrency",
                "must divide agents x ops_per_agent (each reader makes the same number of reads)"
                    .into(),
            );
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        Figures {
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        GATED.iter().map(|k| Gate::extra(k)).collect()
    }

    /// The seed's criterion: more than 90% of reads answered by the cache.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        let rate = extra(r, HIT_RATE_PCT);
        if rate.is_nan() || rate < TARGET_HIT_RATE_PCT {
            broken.push(format!(
                "cache hit rate {rate:.1}% is below the seed's {TARGET_HIT_RATE_PCT}%"
            ));
        }
    }

    /// The hit and miss latencies are the modelled round trips.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        [HIT_P95_MS, MISS_P95_MS]
            .map(|k| format!("extra.{k}"))
            .to_vec()
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "hit rate {:.1}% from a cache of {} ({:.1}% with {}); exact (virtual clock)",
            extra(r, HIT_RATE_PCT),
            self.capacity,
            extra(r, UNDERSIZED_HIT_RATE_PCT),
            self.undersized_capacity
        )
    }
}
