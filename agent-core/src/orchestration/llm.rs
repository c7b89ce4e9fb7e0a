//! A simulated LLM provider: time to first token and inter-token time drawn from configured
//! ranges, responses streamed in chunks, a token-bucket rate limit that answers "rate limited,
//! retry after", seeded error injection, and exact token and cost accounting. Deterministic
//! under a seed and tokio's paused clock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::time::Instant;

use super::budget::Cost;

/// A uniform range of durations, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationRange {
    /// Shortest.
    pub min_us: u64,
    /// Longest.
    pub max_us: u64,
}

impl DurationRange {
    fn draw(&self, rng: &mut ChaCha8Rng) -> Duration {
        Duration::from_micros(rng.random_range(self.min_us..=self.max_us.max(self.min_us)))
    }
}

/// A simulated provider's behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmConfig {
    /// The provider's name (in errors and snapshots).
    pub name: String,
    /// Time to first token.
    pub time_to_first_token: DurationRange,
    /// Time between tokens.
    pub inter_token: DurationRange,
    /// Output tokens per response, drawn uniformly.
    pub output_tokens: (u32, u32),
    /// Tokens per streamed chunk.
    pub tokens_per_chunk: u32,
    /// Requests the bucket holds (burst size).
    pub bucket_capacity: u32,
    /// Requests per second the bucket refills.
    pub refill_per_s: f64,
    /// Injected failures per thousand requests.
    pub errors_per_mille: u32,
    /// Price per 1,000 input tokens.
    pub price_per_1k_input: Cost,
    /// Price per 1,000 output tokens.
    pub price_per_1k_output: Cost,
    /// Seed of every draw.
    pub seed: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            name: "sim".into(),
            time_to_first_token: DurationRange {
                min_us: 200_000,
                max_us: 600_000,
            },
            inter_token: DurationRange {
                min_us: 10_000,
                max_us: 30_000,
            },
            output_tokens: (50, 200),
            tokens_per_chunk: 10,
            bucket_capacity: 5,
            refill_per_s: 5.0,
            errors_per_mille: 0,
            price_per_1k_input: Cost::units(0.5),
            price_per_1k_output: Cost::units(1.5),
            seed: 0,
        }
    }
}

/// A request that produced no completion.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LlmError {
    /// The rate limit is exhausted; try again after the given time.
    #[error("provider {provider:?} rate limited, retry after {retry_after:?}")]
    RateLimited {
        /// The provider.
        provider: String,
        /// When a request will be accepted again.
        retry_after: Duration,
    },
    /// An injected failure.
    #[error("provider {0:?} failed (injected)")]
    Failed(String),
}

/// A finished completion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// Tokens in the prompt.
    pub input_tokens: u32,
    /// Tokens generated.
    pub output_tokens: u32,
    /// Chunks streamed.
    pub chunks: u32,
    /// The request's price.
    pub cost: Cost,
    /// Time to first token.
    pub time_to_first_token: Duration,
    /// Time to the last token.
    pub total: Duration,
}

/// A provider's counters: requests, refusals, tokens and money, exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmSnapshot {
    /// The provider.
    pub name: String,
    /// Requests received.
    pub requests: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
    /// Requests failed by injection.
    pub failed: u64,
    /// Requests completed.
    pub completed: u64,
    /// Input tokens of completed requests.
    pub input_tokens: u64,
    /// Output tokens of completed requests.
    pub output_tokens: u64,
    /// Total price of completed requests.
    pub cost: Cost,
}

/// A simulated provider. Cheap to clone; clones share the bucket, the RNG and the counters.
#[derive(Clone, Debug)]
pub struct SimulatedLlm {
    config: Arc<LlmConfig>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    rng: ChaCha8Rng,
    tokens: f64,
    refilled_at: Instant,
    snap: LlmSnapshot,
}

impl SimulatedLlm {
    /// A provider behaving as `config` says, its bucket full.
    pub fn new(config: LlmConfig) -> SimulatedLlm {
        SimulatedLlm {
            state: Arc::new(Mutex::new(State {
                rng: ChaCha8Rng::seed_from_u64(config.seed),
                tokens: f64::from(config.bucket_capacity),
                refilled_at: Instant::now(),
                snap: LlmSnapshot {
                    name: config.name.clone(),
                    ..LlmSnapshot::default()
                },
            })),
            config: Arc::new(config),
        }
    }

    /// Completes `prompt`, calling `on_chunk` with the token count of each chunk as it streams.
    pub async fn complete(
        &self,
        prompt: &str,
        mut on_chunk: impl FnMut(u32),
    ) -> Result<Completion, LlmError> {
        let c = &*self.config;
        let input_tokens = prompt.split_whitespace().count() as u32;
        // Every draw for this request is made up front, under one lock: the sequence of
        // requests alone decides the outcome, whatever the timing of their streams.
        let (ttft, gaps, output_tokens) = {
            let mut s = self.lock();
            s.snap.requests += 1;
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(s.refilled_at).as_secs_f64();
            s.tokens = (s.tokens + elapsed * c.refill_per_s).min(f64::from(c.bucket_capacity));
            s.refilled_at = now;
            if s.tokens < 1.0 {
                s.snap.rate_limited += 1;
                let wait = (1.0 - s.tokens) / c.refill_per_s.max(1e-9);
                return Err(LlmError::RateLimited {
                    provider: c.name.clone(),
                    retry_after: Duration::from_secs_f64(wait),
                });
            }
            s.tokens -= 1.0;
            if s.rng.random_range(0..1000) < c.errors_per_mille {
                s.snap.failed += 1;
                return Err(LlmError::Failed(c.name.clone()));
            }
            let (lo, hi) = c.output_tokens;
            let output_tokens = s.rng.random_range(lo..=hi.max(lo));
            let ttft = c.time_to_first_token.draw(&mut s.rng);
            let gaps: Vec<Duration> = (1..output_tokens)
                .map(|_| c.inter_token.draw(&mut s.rng))
                .collect();
            (ttft, gaps, output_tokens)
        };
        let start = Instant::now();
        tokio::time::sleep(ttft).await;
        let per_chunk = c.tokens_per_chunk.max(1);
        let mut chunks = 0;
        let mut sent = 0;
        let mut pending = Duration::ZERO;
        for token in 0..output_tokens {
            if token > 0 {
                pending += gaps[token as usize - 1];
            }
            let last = token + 1 == output_tokens;
            if (token + 1 - sent) == per_chunk || last {
                tokio::time::sleep(pending).await;
                pending = Duration::ZERO;
                on_chunk(token + 1 - sent);
                sent = token + 1;
                chunks += 1;
            }
        }
        let cost = Cost(
            (u64::from(input_tokens) * c.price_per_1k_input.0
                + u64::from(output_tokens) * c.price_per_1k_output.0)
                / 1000,
        );
        let mut s = self.lock();
        s.snap.completed += 1;
        s.snap.input_tokens += u64::from(input_tokens);
        s.snap.output_tokens += u64::from(output_tokens);
        s.snap.cost.0 += cost.0;
        Ok(Completion {
            input_tokens,
            output_tokens,
            chunks,
            cost,
            time_to_first_token: ttft,
            total: start.elapsed(),
        })
    }

    /// [`SimulatedLlm::complete`], honouring "retry after" up to `max_waits` times; returns the
    /// result and how many times it waited.
    pub async fn complete_honouring_limits(
        &self,
        prompt: &str,
        max_waits: u32,
    ) -> (Result<Completion, LlmError>, u32) {
        let mut waits = 0;
        loop {
            match self.complete(prompt, |_| {}).await {
                Err(LlmError::RateLimited { retry_after, .. }) if waits < max_waits => {
                    waits += 1;
                    tokio::time::sleep(retry_after).await;
                }
                result => return (result, waits),
            }
        }
    }

    /// The counters.
    pub fn snapshot(&self) -> LlmSnapshot {
        self.lock().snap.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> LlmConfig {
        LlmConfig {
            time_to_first_token: DurationRange {
                min_us: 300_000,
                max_us: 300_000,
            },
            inter_token: DurationRange {
                min_us: 20_000,
                max_us: 20_000,
            },
            output_tokens: (25, 25),
            tokens_per_chunk: 10,
            bucket_capacity: 2,
            refill_per_s: 1.0,
            ..LlmConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn streams_in_chunks_with_exact_timing_and_cost() {
        let llm = SimulatedLlm::new(fixed());
        let mut chunks = Vec::new();
        let c = llm
            .complete("score this lead please", |n| chunks.push(n))
            .await
            .unwrap();
        assert_eq!(chunks, [10, 10, 5]);
        assert_eq!(c.time_to_first_token, Duration::from_millis(300));
        // 300 ms to the first token, then 24 gaps of 20 ms.
        assert_eq!(c.total, Duration::from_millis(300 + 24 * 20));
        // 4 input tokens at 0.5 per 1k, 25 output tokens at 1.5 per 1k.
        assert_eq!(c.cost, Cost((4 * 500 + 25 * 1500) / 1000));
        let s = llm.snapshot();
        assert_eq!(
            (s.completed, s.input_tokens, s.output_tokens, s.cost),
            (1, 4, 25, c.cost)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_answers_retry_after_and_callers_honour_it() {
        let llm = SimulatedLlm::new(fixed());
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let llm = llm.clone();
                tokio::spawn(async move { llm.complete_honouring_limits("hi", 10).await })
            })
            .collect();
        let mut waits = Vec::new();
        for c in calls {
            let (r, w) = c.await.unwrap();
            r.unwrap();
            waits.push(w);
        }
        waits.sort_unstable();
        // Two fit the bucket. The other two are told to come back in 1 s, when one token has
        // refilled: one gets it, the last is told to wait another second.
        assert_eq!(waits, [0, 0, 1, 2]);
        let s = llm.snapshot();
        assert_eq!((s.requests, s.rate_limited, s.completed), (7, 3, 4));
    }

    #[tokio::test(start_paused = true)]
    async fn injected_errors_are_seeded() {
        let run = || async {
            let llm = SimulatedLlm::new(LlmConfig {
                errors_per_mille: 300,
                bucket_capacity: 1000,
                ..fixed()
            });
            let mut outcomes = Vec::new();
            for _ in 0..50 {
                outcomes.push(llm.complete("x", |_| {}).await.is_ok());
            }
            (outcomes, llm.snapshot().failed)
        };
        let (a, failed) = run().await;
        let (b, _) = run().await;
        assert_eq!(a, b);
        assert!((5..=25).contains(&failed), "{failed} failures of 50 at 30%");
    }
}
