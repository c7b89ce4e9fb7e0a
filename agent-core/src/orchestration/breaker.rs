//! Circuit breakers per tool or provider: closed (calls pass), open (calls fail fast for a
//! cool-down), half-open (a few trial calls decide). States and transitions are counted.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::time::Instant;

/// When a breaker opens and how it recovers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before trying again.
    pub open_for: Duration,
    /// Consecutive successes in half-open that close it again.
    pub success_threshold: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
            success_threshold: 2,
        }
    }
}

/// A breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// One trial call at a time passes.
    HalfOpen,
}

/// A call through a breaker that did not succeed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerError<E> {
    /// The breaker is open (or half-open with a trial under way); the call did not run.
    #[error("circuit breaker {0:?} is open")]
    Open(String),
    /// The call ran and failed.
    #[error("call through breaker failed")]
    Failed(#[source] E),
}

/// A breaker's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerSnapshot {
    /// Its name.
    pub name: String,
    /// Its state now.
    pub state: BreakerState,
    /// Calls that ran.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Calls refused while open.
    pub rejected: u64,
    /// Closed or half-open to open.
    pub opened: u64,
    /// Open to half-open.
    pub half_opened: u64,
    /// Half-open to closed.
    pub closed: u64,
}

/// A circuit breaker. Cheap to clone; clones share state.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    name: Arc<str>,
    config: BreakerConfig,
    state: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    consecutive_successes: u32,
    opened_at: Option<Instant>,
    trial_running: bool,
    snap: BreakerSnapshot,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> CircuitBreaker {
        let name: String = name.into();
        CircuitBreaker {
            config,
            state: Arc::new(Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                consecutive_successes: 0,
                opened_at: None,
                trial_running: false,
                snap: BreakerSnapshot {
                    name: name.clone(),
                    state: BreakerState::Closed,
                    calls: 0,
                    failures: 0,
                    rejected: 0,
                    opened: 0,
                    half_opened: 0,
                    closed: 0,
                },
            })),
            name: name.into(),
        }
    }

    /// Runs `op` unless the breaker is open; its outcome moves the breaker.
    pub async fn call<T, E, Fut>(&self, op: impl FnOnce() -> Fut) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.admit()?;
        let result = op().await;
        self.record(result.is_ok());
        result.map_err(BreakerError::Failed)
    }

    /// The state now (an open breaker past its cool-down reads as half-open).
    pub fn state(&self) -> BreakerState {
        let mut s = self.lock();
        self.tick(&mut s);
        s.state
    }

    /// The counters.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let mut s = self.lock();
        self.tick(&mut s);
        let mut snap = s.snap.clone();
        snap.state = s.state;
        snap
    }

    fn admit<E>(&self) -> Result<(), BreakerError<E>> {
        let mut s = self.lock();
        self.tick(&mut s);
        match s.state {
            BreakerState::Closed => {}
            BreakerState::HalfOpen if !s.trial_running => s.trial_running = true,
            BreakerState::HalfOpen | BreakerState::Open => {
                s.snap.rejected += 1;
                return Err(BreakerError::Open(self.name.to_string()));
            }
        }
        s.snap.calls += 1;
        Ok(())
    }

    fn record(&self, ok: bool) {
        let mut s = self.lock();
        s.trial_running = false;
        if ok {
            s.consecutive_failures = 0;
            s.consecutive_successes += 1;
            if s.state == BreakerState::HalfOpen
                && s.consecutive_successes >= self.config.success_threshold
            {
                s.state = BreakerState::Closed;
                s.snap.closed += 1;
            }
        } else {
            s.snap.failures += 1;
            s.consecutive_successes = 0;
            s.consecutive_failures += 1;
            let trip = match s.state {
                BreakerState::HalfOpen => true,
                BreakerState::Closed => s.consecutive_failures >= self.config.failure_threshold,
                BreakerState::Open => false,
            };
            if trip {
                s.state = BreakerState::Open;
                s.opened_at = Some(Instant::now());
                s.snap.opened += 1;
            }
        }
    }

    /// Moves an open breaker to half-open once its cool-down has passed.
    fn tick(&self, s: &mut Inner) {
        if s.state == BreakerState::Open
            && s.opened_at
                .is_some_and(|t| t.elapsed() >= self.config.open_for)
        {
            s.state = BreakerState::HalfOpen;
            s.consecutive_successes = 0;
            s.snap.half_opened += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn call(b: &CircuitBreaker, ok: bool) -> Result<(), BreakerError<()>> {
        b.call(|| async move {
            if ok {
                Ok(())
            } else {
                Err(())
            }
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn opens_fails_fast_half_opens_and_closes() {
        let b = CircuitBreaker::new(
            "llm",
            BreakerConfig {
                failure_threshold: 3,
                open_for: Duration::from_secs(10),
                success_threshold: 2,
            },
        );
        for _ in 0..3 {
            assert_eq!(call(&b, false).await, Err(BreakerError::Failed(())));
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(call(&b, true).await, Err(BreakerError::Open("llm".into())));
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // A failed trial reopens it for another cool-down.
        assert_eq!(call(&b, false).await, Err(BreakerError::Failed(())));
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::sleep(Duration::from_secs(10)).await;
        call(&b, true).await.unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        call(&b, true).await.unwrap();
        assert_eq!(b.state(), BreakerState::Closed);
        let s = b.snapshot();
        assert_eq!((s.calls, s.failures, s.rejected), (6, 4, 1));
        assert_eq!((s.opened, s.half_opened, s.closed), (2, 2, 1));
    }
}
