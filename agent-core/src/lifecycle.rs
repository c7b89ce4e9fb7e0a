//! The loop that runs inside each agent's task: start, handle messages one at a time, catch
//! failures, apply the restart policy, stop.

use std::future::{poll_fn, Future};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use tokio::time::Instant;
use tracing::Instrument;

use crate::agent::{Address, Agent, Context};
use crate::error::HandlerFailure;
use crate::health::Health;
use crate::id::TraceId;
use crate::runtime::AgentRuntime;
use crate::shared::{AgentShared, Letter};
use crate::supervision::{
    panic_message, AfterFailure, FailureAction, FailureCause, FailureReport, RestartPolicy,
    RestartWindow,
};

/// A failure of a start hook (no trace id) or of a handler on one message.
struct Failure {
    cause: FailureCause,
    message: String,
    trace_id: Option<TraceId>,
}

/// Runs one agent until its mailbox is closed and drained, or its policy gives up.
// Not an `async fn` on purpose (see the comment in the body).
#[allow(clippy::manual_async_fn)]
pub(crate) fn run<A, F>(
    mut factory: F,
    address: Address<A>,
    runtime: AgentRuntime,
    policy: RestartPolicy,
) -> impl Future<Output = ()> + Send + 'static
where
    A: Agent,
    F: FnMut() -> A + Send + 'static,
{
    // An async block rather than an `async fn`: an `async fn` keeps its arguments and their
    // moved-into copies side by side in the future, bytes every idle agent's task would carry.
    async move {
        // Whatever way the task ends (even aborted at a shutdown deadline), the agent is retired.
        // The loop reaches the agent's shared state and the runtime through this guard rather than
        // through copies of their handles: each copy would be 8 more bytes in every agent's task.
        let mut retire = Retire {
            cell: Arc::clone(&address.cell),
            runtime,
            health: Health::Failed,
        };
        let mut ctx = Context::new(address, retire.runtime.clone());
        let mut window = RestartWindow::default();

        retire.health = loop {
            retire.cell.health.set(Health::Starting);
            let mut agent = match std::panic::catch_unwind(AssertUnwindSafe(&mut factory)) {
                Ok(agent) => agent,
                Err(payload) => {
                    let failure = Failure {
                        cause: FailureCause::Panic,
                        message: format!("agent factory: {}", panic_message(&*payload)),
                        trace_id: None,
                    };
                    match on_failure(&retire.cell, &retire.runtime, &policy, &mut window, failure) {
                        AfterFailure::Restart(delay) => {
                            backoff(delay).await;
                            continue;
                        }
                        AfterFailure::Stop => {
                            retire.cell.health.set(Health::Stopping);
                            drop(retire.cell.mailbox.abandon());
                            break Health::Failed;
                        }
                    }
                }
            };

            let start = AssertUnwindSafe(agent.on_start(&mut ctx))
                .catch_unwind()
                .await;
            let failure = 'handled: {
                // Out of scope before the loop's awaits, so that the task does not keep it.
                if let Some(failure) = start_failure(start) {
                    break 'handled Some(failure);
                }
                retire.cell.health.set(Health::Running);
                if retire.cell.trace_spans {
                    // Boxed: the traced loop's span stays out of every untraced agent's task.
                    Box::pin(handle_until_failure::<A, Traced>(
                        &mut agent,
                        &mut ctx,
                        &retire.cell,
                    ))
                    .await
                } else {
                    handle_until_failure::<A, Plain>(&mut agent, &mut ctx, &retire.cell).await
                }
            };

            let Some(failure) = failure else {
                // The mailbox was closed and has been drained: a clean stop.
                retire.cell.health.set(Health::Stopping);
                stop_hook(&mut agent, &mut ctx).await;
                break Health::Stopped;
            };
            match on_failure(&retire.cell, &retire.runtime, &policy, &mut window, failure) {
                AfterFailure::Restart(delay) => {
                    // The failed instance's state is suspect: it is dropped without its stop hook.
                    drop(agent);
                    backoff(delay).await;
                }
                AfterFailure::Stop => {
                    retire.cell.health.set(Health::Stopping);
                    drop(retire.cell.mailbox.abandon());
                    stop_hook(&mut agent, &mut ctx).await;
                    break Health::Failed;
                }
            }
        };
    }
}

/// The failure of a start hook, if it failed.
fn start_failure(
    outcome: Result<Result<(), crate::agent::HandlerError>, Box<dyn std::any::Any + Send>>,
) -> Option<Failure> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure {
            cause: FailureCause::Error,
            message: format!("start hook: {e}"),
            trace_id: None,
        }),
        Err(payload) => Some(Failure {
            cause: FailureCause::Panic,
            message: format!("start hook: {}", panic_message(&*payload)),
            trace_id: None,
        }),
    }
}

/// Handles messages until the mailbox is closed and empty (`None`) or a handler fails. An async
/// block rather than an `async fn`, like [`run`], so its arguments are stored once.
#[allow(clippy::manual_async_fn)]
fn handle_until_failure<'a, A: Agent, W: Wrap>(
    agent: &'a mut A,
    ctx: &'a mut Context<A>,
    cell: &'a AgentShared<A::Msg, A::Reply, A>,
) -> impl Future<Output = Option<Failure>> + 'a {
    async move {
        // A measured message (one that carries its enqueue instant) is timed from handler start to
        // end. While the mailbox stays busy, the end reading of a measured handler is also the next
        // message's start, so back-to-back measured messages cost one read each here.
        let mut last_reading: Option<Instant> = None;
        loop {
            // Destructured as it arrives: a whole letter kept as a local would be stored in
            // this future beside its parts.
            let (
                Some(Letter {
                    msg,
                    trace_id,
                    enqueued_at,
                    reply,
                }),
                waited,
            ) = cell.mailbox.recv_noting_wait().await
            else {
                break;
            };
            let started = match enqueued_at {
                Some(_) => match last_reading.take() {
                    Some(reading) if !waited => Some(reading),
                    _ => Some(Instant::now()),
                },
                None => {
                    last_reading = None;
                    None
                }
            };
            let queue_time = enqueued_at
                .zip(started)
                .map(|(enqueued, started)| started.saturating_duration_since(enqueued));
            ctx.begin(trace_id, queue_time);
            // Pinned where it is built and polled under `catch_unwind` each time, rather than moved
            // into `CatchUnwind`: every move of a handler future copies the message it holds.
            let result = {
                let mut handling = pin!(W::wrap::<A, _>(agent.handle(msg, ctx), trace_id));
                poll_fn(|cx| {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| handling.as_mut().poll(cx)))
                    {
                        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                        Ok(Poll::Pending) => Poll::Pending,
                        Err(payload) => Poll::Ready(Err(payload)),
                    }
                })
                .await
            };
            cell.stats.handled.add(1);
            if let (Some(queue), Some(started)) = (queue_time, started) {
                let finished = Instant::now();
                let service = finished.saturating_duration_since(started);
                cell.stats.record_times(queue, service);
                #[cfg(feature = "openmetrics")]
                if ctx.runtime().config().histograms {
                    ctx.runtime().kinds().observe(
                        std::any::type_name::<A>(),
                        queue,
                        service,
                        reply.is_some(),
                    );
                }
                last_reading = Some(finished);
            }
            let (cause, message) = match result {
                Ok(Ok(value)) => {
                    if let Some(reply) = reply {
                        // The asker may have timed out and gone; that is its business.
                        let _ = reply.send(Ok(value));
                    }
                    continue;
                }
                Ok(Err(e)) => (FailureCause::Error, e.to_string()),
                Err(payload) => (FailureCause::Panic, panic_message(&*payload)),
            };
            if let Some(reply) = reply {
                let failure = match cause {
                    FailureCause::Error => HandlerFailure::Error(message.clone()),
                    FailureCause::Panic => HandlerFailure::Panic(message.clone()),
                };
                let _ = reply.send(Err(failure));
            }
            return Some(Failure {
                cause,
                message,
                trace_id: Some(trace_id),
            });
        }
        None
    }
}

/// How the handler's future is run: as it is, or inside a span.
trait Wrap {
    type Out<F: Future>: Future<Output = F::Output>;
    fn wrap<A: 'static, F: Future>(handling: F, trace_id: TraceId) -> Self::Out<F>;
}

/// The handler's future as it is.
struct Plain;

impl Wrap for Plain {
    type Out<F: Future> = F;
    #[inline(always)]
    fn wrap<A: 'static, F: Future>(handling: F, _trace_id: TraceId) -> F {
        handling
    }
}

/// Inside an `agent_core::handle` span with the agent's type and the W3C trace-id
/// ([`crate::RuntimeConfig::trace_spans`]).
struct Traced;

impl Wrap for Traced {
    type Out<F: Future> = tracing::instrument::Instrumented<F>;
    fn wrap<A: 'static, F: Future>(handling: F, trace_id: TraceId) -> Self::Out<F> {
        handling.instrument(tracing::info_span!(
            target: "agent_core::handle",
            "handle",
            agent = std::any::type_name::<A>(),
            trace_id = %trace_id.w3c(),
        ))
    }
}

/// Counts and reports a failure, and asks the policy what to do.
fn on_failure<M, R, K>(
    cell: &AgentShared<M, R, K>,
    runtime: &AgentRuntime,
    policy: &RestartPolicy,
    window: &mut RestartWindow,
    failure: Failure,
) -> AfterFailure {
    match failure.cause {
        FailureCause::Error => cell.stats.errors.add(1),
        FailureCause::Panic => cell.stats.panics.add(1),
    }
    let decision = window.decide(policy, Instant::now());
    let action = match decision {
        AfterFailure::Restart(delay) => {
            cell.stats.restarts.add(1);
            FailureAction::Restarted {
                backoff_ms: delay.as_millis() as u64,
            }
        }
        AfterFailure::Stop => FailureAction::Stopped,
    };
    runtime.report_failure(FailureReport {
        agent: cell.id,
        agent_name: cell.name.as_deref().map(str::to_owned),
        trace_id: failure.trace_id,
        cause: failure.cause,
        message: failure.message,
        action,
    });
    decision
}

/// Waits out a restart backoff. The timer is boxed so that its size is paid only on a restart,
/// not carried in every idle agent's task. A zero backoff only yields: tokio's timer wheel ticks
/// in milliseconds, so even a zero-length sleep would cost up to a millisecond per restart.
async fn backoff(delay: std::time::Duration) {
    if delay.is_zero() {
        tokio::task::yield_now().await;
    } else {
        Box::pin(tokio::time::sleep(delay)).await;
    }
}

async fn stop_hook<A: Agent>(agent: &mut A, ctx: &mut Context<A>) {
    if let Err(payload) = AssertUnwindSafe(agent.on_stop(ctx)).catch_unwind().await {
        tracing::warn!(
            agent = %ctx.id(),
            "stop hook panicked: {}",
            panic_message(&*payload)
        );
    }
}

/// Retires the agent from the runtime when its task ends, however it ends.
struct Retire<M, R, K: 'static> {
    cell: Arc<AgentShared<M, R, K>>,
    runtime: AgentRuntime,
    health: Health,
}

impl<M, R, K> Drop for Retire<M, R, K> {
    fn drop(&mut self) {
        // An aborted task leaves queued messages behind; they are abandoned, not lost.
        if !self.cell.mailbox.is_empty() || !self.cell.mailbox.is_closed() {
            drop(self.cell.mailbox.abandon());
        }
        self.runtime.retire(&*self.cell, self.health);
        self.cell.end(self.health);
    }
}
