//! Tools: named async operations in a domain, each with a cost, a cap on concurrent calls, and
//! statistics (calls, errors, refusals, latency percentiles). A call reserves its cost on the
//! caller's budgets before it runs and settles it after.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::budget::{BudgetError, Budgets, Cost};

/// A boxed tool future.
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send>>;

/// An async operation an agent can call. Input and output are JSON values, since tools across
/// domains are heterogeneous and their results feed later workflow steps.
pub trait Tool: Send + Sync + 'static {
    /// Runs the tool; `Err` carries the tool's own error text.
    fn call(&self, input: serde_json::Value) -> ToolFuture;
}

impl<F, Fut> Tool for F
where
    F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<serde_json::Value, String>> + Send + 'static,
{
    fn call(&self, input: serde_json::Value) -> ToolFuture {
        Box::pin(self(input))
    }
}

/// How a tool is registered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolConfig {
    /// The domain whose budget pays for it.
    pub domain: String,
    /// What one call costs.
    pub cost: Cost,
    /// Calls allowed at once; further callers wait.
    pub max_concurrent: usize,
    /// How long a call may take.
    pub timeout: Duration,
}

impl ToolConfig {
    /// A tool in `domain` costing `cost`, 16 calls at once, 30 s timeout.
    pub fn new(domain: impl Into<String>, cost: Cost) -> ToolConfig {
        ToolConfig {
            domain: domain.into(),
            cost,
            max_concurrent: 16,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A tool call that did not produce a result.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolError {
    /// No tool by that name.
    #[error("no tool named {0:?}")]
    Unknown(String),
    /// The budget refused the call's cost; the tool did not run.
    #[error("tool {tool:?} refused")]
    Budget {
        /// The tool.
        tool: String,
        /// Which budget refused.
        #[source]
        source: BudgetError,
    },
    /// The tool returned an error (its cost is not spent).
    #[error("tool {tool:?} failed: {message}")]
    Failed {
        /// The tool.
        tool: String,
        /// The tool's error.
        message: String,
    },
    /// The call exceeded the tool's timeout.
    #[error("tool {tool:?} timed out after {after:?}")]
    Timeout {
        /// The tool.
        tool: String,
        /// The timeout.
        after: Duration,
    },
}

struct Registered {
    tool: Box<dyn Tool>,
    config: ToolConfig,
    slots: Semaphore,
    stats: ToolStats,
}

#[derive(Default)]
struct ToolStats {
    calls: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    refused: AtomicU64,
    latency: Mutex<Option<Histogram<u64>>>,
}

/// One tool's statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSnapshot {
    /// The tool.
    pub name: String,
    /// Its domain.
    pub domain: String,
    /// Calls that ran (successful or not).
    pub calls: u64,
    /// Calls whose tool returned an error.
    pub errors: u64,
    /// Calls cut off by the timeout.
    pub timeouts: u64,
    /// Calls refused by a budget before running.
    pub refused: u64,
    /// Calls running now.
    pub in_flight: u64,
    /// Median call latency (tokio's clock), nanoseconds.
    pub latency_p50_ns: u64,
    /// 99th percentile call latency, nanoseconds.
    pub latency_p99_ns: u64,
}

/// The tools agents may call.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: Arc<BTreeMap<String, Arc<Registered>>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRegistry")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> ToolRegistry {
        ToolRegistry::default()
    }

    /// This registry with `tool` added under `name` (replacing any tool of that name).
    pub fn with(
        mut self,
        name: impl Into<String>,
        config: ToolConfig,
        tool: impl Tool,
    ) -> ToolRegistry {
        let mut tools = (*self.tools).clone();
        tools.insert(
            name.into(),
            Arc::new(Registered {
                tool: Box::new(tool),
                slots: Semaphore::new(config.max_concurrent.max(1)),
                config,
                stats: ToolStats::default(),
            }),
        );
        self.tools = Arc::new(tools);
        self
    }

    /// The configuration of tool `name`.
    pub fn config(&self, name: &str) -> Option<&ToolConfig> {
        self.tools.get(name).map(|t| &t.config)
    }

    /// Calls tool `name`: reserves its cost on `budgets`, waits for a free slot, runs it under
    /// its timeout, then settles the cost (spent on success, released on failure).
    pub async fn call(
        &self,
        name: &str,
        input: serde_json::Value,
        budgets: &Budgets,
    ) -> Result<serde_json::Value, ToolError> {
        let t = self
            .tools
            .get(name)
            .ok_or_else(|| ToolError::Unknown(name.to_owned()))?;
        let reservation = match budgets.reserve(&t.config.domain, t.config.cost) {
            Ok(r) => r,
            Err(source) => {
                t.stats.refused.fetch_add(1, Ordering::Relaxed);
                return Err(ToolError::Budget {
                    tool: name.to_owned(),
                    source,
                });
            }
        };
        let _slot = t
            .slots
            .acquire()
            .await
            .expect("tool semaphores are never closed");
        t.stats.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = tokio::time::timeout(t.config.timeout, t.tool.call(input)).await;
        t.stats.record(started.elapsed());
        match result {
            Ok(Ok(value)) => {
                reservation.settle(t.config.cost);
                Ok(value)
            }
            Ok(Err(message)) => {
                t.stats.errors.fetch_add(1, Ordering::Relaxed);
                Err(ToolError::Failed {
                    tool: name.to_owned(),
                    message,
                })
            }
            Err(_elapsed) => {
                t.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(ToolError::Timeout {
                    tool: name.to_owned(),
                    after: t.config.timeout,
                })
            }
        }
    }

    /// Every tool's statistics, by name.
    pub fn snapshot(&self) -> Vec<ToolSnapshot> {
        self.tools
            .iter()
            .map(|(name, t)| {
                let h = t
                    .stats
                    .latency
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let q = |q: f64| h.as_ref().map_or(0, |h| h.value_at_quantile(q));
                ToolSnapshot {
                    name: name.clone(),
                    domain: t.config.domain.clone(),
                    calls: t.stats.calls.load(Ordering::Relaxed),
                    errors: t.stats.errors.load(Ordering::Relaxed),
                    timeouts: t.stats.timeouts.load(Ordering::Relaxed),
                    refused: t.stats.refused.load(Ordering::Relaxed),
                    in_flight: (t.config.max_concurrent.max(1) - t.slots.available_permits())
                        as u64,
                    latency_p50_ns: q(0.5),
                    latency_p99_ns: q(0.99),
                }
            })
            .collect()
    }
}

impl ToolStats {
    fn record(&self, latency: Duration) {
        let mut h = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let h = h.get_or_insert_with(|| {
            Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("static histogram bounds")
        });
        h.saturating_record(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleepy(ms: u64) -> impl Tool {
        move |input: serde_json::Value| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            if input == "fail" {
                Err("bad input".to_owned())
            } else {
                Ok(serde_json::json!({ "echo": input }))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn calls_reserve_and_settle_their_cost_and_are_counted() {
        let tools = ToolRegistry::new()
            .with(
                "score",
                ToolConfig::new("scoring", Cost::units(0.5)),
                sleepy(10),
            )
            .with(
                "draft",
                ToolConfig::new("writing", Cost::units(1.0)),
                sleepy(20),
            );
        let budgets = Budgets::unlimited().with_domain("scoring", Cost::units(1.0));
        let out = tools
            .call("score", "lead-1".into(), &budgets)
            .await
            .unwrap();
        assert_eq!(out["echo"], "lead-1");
        let err = tools
            .call("score", "fail".into(), &budgets)
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::Failed { .. }));
        tools
            .call("score", "lead-2".into(), &budgets)
            .await
            .unwrap();
        // 1.0 units spent: the failed call spent nothing, so the third fitted; a fourth does not.
        let err = tools
            .call("score", "lead-3".into(), &budgets)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Budget { source: BudgetError::Exceeded { ref budget, .. }, .. } if budget == "scoring")
        );
        let s = &tools.snapshot()[1];
        assert_eq!(
            (s.name.as_str(), s.calls, s.errors, s.refused),
            ("score", 3, 1, 1)
        );
        assert_eq!(s.latency_p50_ns / 1_000_000, 10);
        let b = &budgets.snapshot()[0];
        assert_eq!(
            (b.spent, b.reserved, b.released),
            (Cost::units(1.0), Cost::ZERO, 1)
        );
        assert!(matches!(
            tools.call("nope", serde_json::Value::Null, &budgets).await,
            Err(ToolError::Unknown(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_and_timeouts_are_exact() {
        let mut config = ToolConfig::new("d", Cost::ZERO);
        config.max_concurrent = 2;
        config.timeout = Duration::from_millis(250);
        let tools = ToolRegistry::new().with("slow", config, sleepy(100));
        let budgets = Budgets::unlimited();
        let start = Instant::now();
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let (t, b) = (tools.clone(), budgets.clone());
                tokio::spawn(async move { t.call("slow", serde_json::Value::Null, &b).await })
            })
            .collect();
        for c in calls {
            c.await.unwrap().unwrap();
        }
        // Two at a time: two waves of 100 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        let mut config = ToolConfig::new("d", Cost::ZERO);
        config.timeout = Duration::from_millis(50);
        let tools = ToolRegistry::new().with("slow", config, sleepy(100));
        let err = tools
            .call("slow", serde_json::Value::Null, &budgets)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ToolError::Timeout {
                tool: "slow".into(),
                after: Duration::from_millis(50)
            }
        );
        assert_eq!(tools.snapshot()[0].timeouts, 1);
    }
}
