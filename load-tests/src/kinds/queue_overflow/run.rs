//! The queue-overflow driver (seed 003): bursts into one bounded mailbox whose consumer is slower
//! than the producer. Each burst lands while the consumer is parked on an empty mailbox, so the
//! policy's effect is exactly predictable; the driver reports the prediction next to the counts.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, MailboxConfig, OverflowPolicy,
    SendError, ShutdownConfig,
};
use tokio::time::Instant;

use super::QueueOverflow;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{Figures, Rules};
use crate::report::{paths, Delivery, Report};
use crate::scenario::Scenario;

struct SlowConsumer {
    per_message: Duration,
    received: Vec<u64>,
}

enum Cmd {
    Msg(u64),
    Report,
}

impl Agent for SlowConsumer {
    type Msg = Cmd;
    type Reply = Vec<u64>;

    async fn handle(
        &mut self,
        cmd: Cmd,
        _ctx: &mut Context<Self>,
    ) -> Result<Vec<u64>, HandlerError> {
        match cmd {
            Cmd::Msg(n) => {
                tokio::time::sleep(self.per_message).await;
                self.received.push(n);
                Ok(Vec::new())
            }
            Cmd::Report => Ok(std::mem::take(&mut self.received)),
        }
    }
}

/// 1 when the drops and refusals are exactly the predicted ones, else 0.
pub(crate) const MATCHES_PREDICTION: &str = "matches_prediction";
/// 1 when the messages the consumer received are exactly the ones the policy keeps (drop-oldest
/// the newest `capacity` of each burst, drop-newest and reject the oldest, block all), else 0:
/// counts alone cannot tell drop-oldest from drop-newest.
pub(crate) const KEPT_AS_POLICY_SAYS: &str = "kept_as_policy_says";

/// The messages a burst of ids `first..first + burst` leaves in a mailbox of `capacity` that it
/// finds empty, under `policy`.
fn kept(policy: OverflowPolicy, first: u64, burst: u64, capacity: u64) -> std::ops::Range<u64> {
    let room = burst.min(capacity);
    match policy {
        OverflowPolicy::Block { .. } => first..first + burst,
        OverflowPolicy::DropOldest => first + burst - room..first + burst,
        OverflowPolicy::Reject | OverflowPolicy::DropNewest => first..first + room,
    }
}

impl Drive for QueueOverflow {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &QueueOverflow {
            capacity,
            policy,
            consumer_us,
            producer_us,
        } = self;
        let burst = s.concurrency;
        let bursts = s.total_ops() / burst as u64;
        let per_message = Duration::from_micros(consumer_us);
        let rt = AgentRuntime::default();
        ctx.watch(&rt);
        let consumer = rt
            .spawn(
                AgentConfig::named("consumer")
                    .with_mailbox(MailboxConfig::bounded(capacity, policy)),
                move || SlowConsumer {
                    per_message,
                    received: Vec::new(),
                },
            )
            .expect("a valid mailbox");
        // A burst period long enough for the consumer to drain the whole mailbox in between.
        let period = Duration::from_micros(producer_us).max(per_message * (burst as u32 + 1));
        let mut delivery = Delivery::default();
        let mut next = 0u64;
        for _ in 0..bursts {
            if ctx.stopping() {
                break;
            }
            let burst_start = Instant::now();
            for _ in 0..burst {
                delivery.sent += 1;
                match consumer.tell(Cmd::Msg(next)).await {
                    Ok(_) => {}
                    Err(SendError::Full(_)) => delivery.rejected += 1,
                    Err(SendError::Timeout(_)) => delivery.timed_out += 1,
                    Err(_) => delivery.rejected += 1,
                }
                next += 1;
            }
            ctx.done(burst as u64);
            // Also after the last burst: the report request below must find the mailbox drained, or
            // it would itself be subject to the policy.
            tokio::time::sleep_until(burst_start + period).await;
        }
        let received = consumer
            .ask(Cmd::Report, Duration::from_secs(3600))
            .await
            .unwrap_or_default();
        let m = consumer.mailbox();
        rt.shutdown(ShutdownConfig::default()).await;

        delivery.delivered = received.len() as u64;
        delivery.dropped = m.dropped;
        delivery.out_of_order = received.windows(2).filter(|w| w[0] >= w[1]).count() as u64;
        delivery.lost = delivery.sent.saturating_sub(
            delivery.delivered + delivery.dropped + delivery.rejected + delivery.timed_out,
        );

        // The prediction: each burst meets an empty mailbox and a parked consumer, so it keeps
        // `capacity` messages and the policy disposes of the rest (block: none; the sender waits).
        let excess = bursts * burst.saturating_sub(capacity) as u64;
        let (pred_dropped, pred_rejected) = match policy {
            OverflowPolicy::Block { .. } => (0, 0),
            OverflowPolicy::Reject => (0, excess),
            OverflowPolicy::DropOldest | OverflowPolicy::DropNewest => (excess, 0),
        };
        let predicted_kept: Vec<u64> = (0..bursts)
            .flat_map(|b| kept(policy, b * burst as u64, burst as u64, capacity as u64))
            .collect();
        let mut out = DriverOutput::default();
        out.extra.insert(
            KEPT_AS_POLICY_SAYS.into(),
            f64::from(u8::from(received == predicted_kept)),
        );
        out.extra
            .insert("predicted_dropped".into(), pred_dropped as f64);
        out.extra
            .insert("predicted_rejected".into(), pred_rejected as f64);
        out.extra.insert(
            MATCHES_PREDICTION.into(),
            f64::from(u8::from(
                delivery.dropped == pred_dropped && delivery.rejected == pred_rejected,
            )),
        );
        out.ops.total = delivery.sent;
        out.ops.succeeded = delivery.delivered;
        out.ops.failed = delivery.sent - delivery.delivered;
        for (kind, n) in [
            ("dropped", delivery.dropped),
            ("rejected", delivery.rejected),
            ("timed_out", delivery.timed_out),
            ("lost", delivery.lost),
        ] {
            if n > 0 {
                out.ops.failures_by_cause.insert(kind.into(), n);
            }
        }
        out.max_depth = m.max_depth;
        out.delivery = Some(delivery);
        out
    }
}

impl Rules for QueueOverflow {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.count("kind.capacity", self.capacity)?;
        l.seconds("kind.consumer_us", self.consumer_us, 1_000_000)?;
        l.seconds("kind.producer_us", self.producer_us, 1_000_000)
    }

    fn figures(&self) -> Figures {
        Figures {
            latency: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_DELIVERED),
            Gate::exact("delivery.dropped"),
            Gate::exact("delivery.rejected"),
            Gate::exact("delivery.timed_out"),
            Gate::exact(paths::DELIVERY_LOST),
            Gate::exact(paths::DELIVERY_OUT_OF_ORDER),
            Gate::extra(MATCHES_PREDICTION),
            Gate::extra(KEPT_AS_POLICY_SAYS),
        ]
    }

    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        for key in [MATCHES_PREDICTION, KEPT_AS_POLICY_SAYS] {
            let matches = r.extra.get(key).copied().unwrap_or(0.0);
            if matches != 1.0 {
                broken.push(format!("extra.{key} is {matches}, must be 1"));
            }
        }
    }
}
