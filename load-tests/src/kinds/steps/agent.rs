//! The step agent, shared by the kinds that ask for workload steps (steps, sequential, pool
//! exhaustion, contention): [`StepAgent`] performs one step per message and reports how long the
//! step waited in its mailbox and how long it ran; [`step`] asks for one and records it.

use std::time::Duration;

use agent_core::{Address, Agent, AskError, Context, HandlerError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::metrics::{LatencyRecorder, Tallies};
use crate::scenario::{WorkflowType, Workload};
use crate::workload::perform;

/// A request for one workload step.
#[derive(Debug)]
pub(crate) struct Step;

/// What one step did and how long it took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepOutcome {
    /// Time in the mailbox; `None` only with the runtime's timing off (every ask is measured
    /// otherwise).
    pub(crate) queue: Option<Duration>,
    pub(crate) service: Duration,
    pub(crate) workflow: Option<WorkflowType>,
    pub(crate) result: Result<(), &'static str>,
}

/// Records a step's round trip, split into queue and service time when the step was measured.
pub(crate) fn record_latency(
    latency: &mut LatencyRecorder,
    total: Duration,
    queue: Option<Duration>,
    service: Duration,
) {
    match queue {
        Some(queue) => latency.record(total, queue, service),
        None => latency.record_total(total),
    }
}

/// Performs workload steps with its own seeded RNG.
#[derive(Debug)]
pub(crate) struct StepAgent {
    workload: Workload,
    rng: ChaCha8Rng,
}

impl StepAgent {
    /// A factory for agent number `index` of a scenario seeded with `seed`.
    pub(crate) fn factory(
        workload: Workload,
        seed: u64,
        index: u64,
    ) -> impl FnMut() -> StepAgent + Send + Sync + Clone + 'static {
        move || StepAgent {
            workload: workload.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        }
    }
}

impl Agent for StepAgent {
    type Msg = Step;
    type Reply = StepOutcome;

    async fn handle(
        &mut self,
        _step: Step,
        ctx: &mut Context<Self>,
    ) -> Result<StepOutcome, HandlerError> {
        let queue = ctx.queue_time();
        let started = Instant::now();
        let done = perform(&self.workload, &mut self.rng).await;
        Ok(StepOutcome {
            queue,
            service: started.elapsed(),
            workflow: done.workflow,
            result: done.result,
        })
    }
}

/// How long a driver waits for one step before counting it failed.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(600);

/// Asks `agent` for one step; `intended` is when the step was meant to start. Mixed workloads
/// also count the workflow types drawn.
pub(crate) async fn step(
    agent: &Address<StepAgent>,
    intended: Instant,
    tallies: &Tallies,
    key: usize,
) {
    let outcome = agent.ask(Step, STEP_TIMEOUT).await;
    let total = intended.elapsed();
    tallies.with(key, |t| match outcome {
        Ok(StepOutcome {
            queue,
            service,
            result,
            workflow,
        }) => {
            record_latency(&mut t.latency, total, queue, service);
            t.ops.record(result);
            if let Some(workflow) = workflow {
                t.ops.count_type(workflow.as_str());
            }
        }
        Err(e) => {
            t.latency.record_total(total);
            t.ops.record(Err(ask_failure_cause(&e)));
        }
    });
}

/// A short name for an ask failure, for `failures_by_cause`.
pub(crate) fn ask_failure_cause<M>(e: &AskError<M>) -> &'static str {
    match e {
        AskError::Send(_) => "send_refused",
        AskError::Timeout(_) => "ask_timeout",
        AskError::Failed(_) => "handler_failed",
        _ => "dropped",
    }
}
