//! Retries with exponential backoff and seeded jitter: bounded attempts, delays on tokio's
//! clock, so a test on the paused clock sees exact, reproducible timings.

use std::future::Future;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the second attempt.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth per attempt.
    pub multiplier: f64,
    /// Each delay is scaled by a factor drawn uniformly from `[1 - jitter, 1 + jitter]`.
    pub jitter: f64,
    /// Seed of the jitter, so runs are reproducible.
    pub seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.2,
            seed: 0,
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `n` (1-based), with jitter drawn from `rng`.
    fn delay(&self, n: u32, rng: &mut ChaCha8Rng) -> Duration {
        let base = self.initial.as_secs_f64() * self.multiplier.powi(n.saturating_sub(1) as i32);
        let capped = base.min(self.max.as_secs_f64());
        let unit: f64 = rng.random();
        let factor = 1.0 + self.jitter.clamp(0.0, 1.0) * (2.0 * unit - 1.0);
        Duration::from_secs_f64((capped * factor).max(0.0))
    }
}

/// What a retried call went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryStats {
    /// Attempts made.
    pub attempts: u32,
    /// Time spent waiting between attempts.
    pub backoff: Duration,
}

/// Runs `op` until it succeeds, `retryable` says an error is final, or the attempts run out.
/// `op` gets the attempt number (1-based). Returns the last result and what it took.
pub async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    mut retryable: impl FnMut(&E) -> bool,
    mut op: F,
) -> (Result<T, E>, RetryStats)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut stats = RetryStats::default();
    // Seeded per call: reproducible, and independent of any global RNG.
    let mut rng = ChaCha8Rng::seed_from_u64(policy.seed);
    loop {
        stats.attempts += 1;
        let result = op(stats.attempts).await;
        match result {
            Err(e) if stats.attempts < policy.max_attempts.max(1) && retryable(&e) => {
                let delay = policy.delay(stats.attempts, &mut rng);
                stats.backoff += delay;
                tokio::time::sleep(delay).await;
            }
            result => return (result, stats),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn backs_off_exponentially_and_stops_at_max_attempts() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let start = tokio::time::Instant::now();
        let (result, stats) =
            retry(&policy, |_: &&str| true, |_| async { Err::<(), _>("down") }).await;
        assert_eq!(result, Err("down"));
        assert_eq!(stats.attempts, 4);
        // 100 + 200 + 400 ms.
        assert_eq!(stats.backoff, Duration::from_millis(700));
        assert_eq!(start.elapsed(), Duration::from_millis(700));
    }

    #[tokio::test(start_paused = true)]
    async fn succeeds_on_a_later_attempt_and_honours_final_errors() {
        let policy = RetryPolicy::default();
        let (result, stats) = retry(
            &policy,
            |_: &&str| true,
            |n| async move {
                if n < 3 {
                    Err("busy")
                } else {
                    Ok(n)
                }
            },
        )
        .await;
        assert_eq!((result, stats.attempts), (Ok(3), 3));
        let (result, stats) = retry(
            &policy,
            |e: &&str| *e != "forbidden",
            |_| async { Err::<(), _>("forbidden") },
        )
        .await;
        assert_eq!((result, stats.attempts), (Err("forbidden"), 1));
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_is_bounded_and_reproducible_per_seed() {
        let policy = RetryPolicy {
            max_attempts: 6,
            jitter: 0.5,
            seed: 42,
            ..RetryPolicy::default()
        };
        let run = || retry(&policy, |_: &()| true, |_| async { Err::<(), ()>(()) });
        let (_, a) = run().await;
        let (_, b) = run().await;
        assert_eq!(a, b, "same seed, same delays");
        let nominal = Duration::from_millis(100 + 200 + 400 + 800 + 1600);
        assert!(
            a.backoff >= nominal / 2 && a.backoff <= nominal * 3 / 2,
            "{:?}",
            a.backoff
        );
        assert_ne!(a.backoff, nominal, "jitter moved the delays");
    }
}
