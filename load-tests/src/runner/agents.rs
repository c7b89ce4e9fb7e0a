//! The agents scenarios run: [`StepAgent`] performs one workload step per message and reports
//! how long the step waited in its mailbox and how long it ran.

use std::time::Duration;

use agent_core::{Agent, Context, HandlerError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::scenario::{WorkflowType, Workload};
use crate::workload::perform;

/// A request for one workload step.
#[derive(Debug)]
pub(crate) struct Step;

/// What one step did and how long it took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepOutcome {
    pub(crate) queue: Duration,
    pub(crate) service: Duration,
    pub(crate) kind: Option<WorkflowType>,
    pub(crate) result: Result<(), &'static str>,
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
            kind: done.kind,
            result: done.result,
        })
    }
}
