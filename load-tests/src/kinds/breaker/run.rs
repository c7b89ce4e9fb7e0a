//! Seed 003's recommendation, measured: calls through a circuit breaker to a tool that is
//! overloaded for a while. The breaker fails fast while open, so callers stop piling onto the
//! tool; the failure rate and the time from the end of the overload to the breaker closing are
//! exact on the virtual clock.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{BreakerConfig, BreakerError, BreakerState, CircuitBreaker};
use tokio::time::Instant;

use super::Breaker;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Figures;
use crate::kinds::rules::Rules;
use crate::scenario::Scenario;

/// Times the breaker opened.
pub(crate) const BREAKER_OPENED: &str = "breaker_opened";
/// Calls it refused while open.
pub(crate) const BREAKER_REJECTED: &str = "breaker_rejected";
/// Calls that reached the tool during the overload.
pub(crate) const TOOL_CALLS_DURING_OVERLOAD: &str = "tool_calls_during_overload";
/// From the end of the overload to the breaker closing.
pub(crate) const RECOVERY_MS: &str = "recovery_ms";
/// Calls that failed, in percent.
pub(crate) const FAILURE_RATE_PCT: &str = "failure_rate_pct";

impl Drive for Breaker {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &Breaker {
            overload_from_ms,
            overload_until_ms,
        } = self;
        let start = Instant::now();
        let overload = (start + Duration::from_millis(overload_from_ms))
            ..(start + Duration::from_millis(overload_until_ms));
        let breaker = CircuitBreaker::new(
            "overloaded_tool",
            BreakerConfig {
                failure_threshold: 5,
                open_for: Duration::from_secs(1),
                success_threshold: 2,
            },
        );
        let mut out = DriverOutput::default();
        let mut tool_calls_during_overload = 0u64;
        let mut closed_again: Option<Instant> = None;
        // Calls arrive every 10 ms from one caller; the tool takes 20 ms, and during the overload it
        // fails after a 500 ms timeout.
        let period = Duration::from_millis(10);
        for i in 0..s.total_ops() {
            tokio::time::sleep_until(start + period * i as u32).await;
            let t = Instant::now();
            let overloaded = overload.contains(&t);
            let result = breaker
                .call(|| async {
                    if overloaded {
                        tool_calls_during_overload += 1;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        Err("timeout")
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(())
                    }
                })
                .await;
            out.latency.record_total(t.elapsed());
            out.ops.record(match result {
                Ok(()) => Ok(()),
                Err(BreakerError::Open(_)) => Err("breaker_open"),
                Err(_) => Err("tool_failed"),
            });
            if t >= overload.end
                && closed_again.is_none()
                && breaker.state() == BreakerState::Closed
            {
                closed_again = Some(Instant::now());
            }
            ctx.done(1);
        }
        let b = breaker.snapshot();
        out.extra.insert(BREAKER_OPENED.into(), b.opened as f64);
        out.extra.insert(BREAKER_REJECTED.into(), b.rejected as f64);
        out.extra.insert(
            TOOL_CALLS_DURING_OVERLOAD.into(),
            tool_calls_during_overload as f64,
        );
        out.extra.insert(
            RECOVERY_MS.into(),
            closed_again.map_or(-1.0, |t| {
                t.saturating_duration_since(overload.end).as_secs_f64() * 1e3
            }),
        );
        out.extra.insert(
            FAILURE_RATE_PCT.into(),
            out.ops.failed as f64 * 100.0 / out.ops.total.max(1) as f64,
        );
        out
    }
}

/// The kind's gated figures, all exact on the virtual clock.
const GATED: [&str; 5] = [
    BREAKER_OPENED,
    BREAKER_REJECTED,
    TOOL_CALLS_DURING_OVERLOAD,
    RECOVERY_MS,
    FAILURE_RATE_PCT,
];

impl Rules for Breaker {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.seconds("kind.overload_from_ms", self.overload_from_ms, 1_000)?;
        l.seconds("kind.overload_until_ms", self.overload_until_ms, 1_000)?;
        if self.overload_until_ms < self.overload_from_ms {
            return l.invalid(
                "kind.overload_until_ms",
                "must not be before overload_from_ms".into(),
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
}
