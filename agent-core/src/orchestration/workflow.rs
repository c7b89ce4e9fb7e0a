//! Workflows: a multi-step plan whose steps call tools across domains. Each step sees the
//! outputs of the steps before it; an optional step may fail without failing the workflow
//! (graceful degradation, counted); a step may wait for a human approval first, and retry with
//! backoff. One trace id follows the workflow through every step, retry and approval wait, as
//! a `tracing` span.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::Instrument;

use super::approval::{ApprovalPolicy, Approvals, Decision};
use super::budget::Budgets;
use super::retry::{retry, RetryPolicy};
use super::tools::{ToolError, ToolRegistry};
use crate::id::TraceId;

/// Builds a step's input from the outputs of earlier steps (by step name).
pub type InputFn =
    Arc<dyn Fn(&BTreeMap<String, serde_json::Value>) -> serde_json::Value + Send + Sync>;

/// One step of a workflow.
#[derive(Clone)]
pub struct Step {
    /// The step's name; later steps find its output under it.
    pub name: String,
    /// The tool it calls.
    pub tool: String,
    /// Its input, from earlier outputs.
    pub input: InputFn,
    /// Whether the workflow carries on if this step fails or is denied.
    pub optional: bool,
    /// A human approval to wait for before the call.
    pub approval: Option<ApprovalPolicy>,
    /// Retries of the tool call (one attempt by default).
    pub retry: RetryPolicy,
    /// The longest one attempt may take (on top of the tool's own timeout); `None` for no limit.
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("tool", &self.tool)
            .field("optional", &self.optional)
            .field("approval", &self.approval)
            .finish_non_exhaustive()
    }
}

impl Step {
    /// A required step calling `tool` with `input`, one attempt, no approval.
    pub fn new(
        name: impl Into<String>,
        tool: impl Into<String>,
        input: impl Fn(&BTreeMap<String, serde_json::Value>) -> serde_json::Value
            + Send
            + Sync
            + 'static,
    ) -> Step {
        Step {
            name: name.into(),
            tool: tool.into(),
            input: Arc::new(input),
            optional: false,
            approval: None,
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            timeout: None,
        }
    }

    /// This step, each attempt limited to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Step {
        self.timeout = Some(timeout);
        self
    }

    /// This step, optional.
    pub fn optional(mut self) -> Step {
        self.optional = true;
        self
    }

    /// This step, waiting for an approval first.
    pub fn with_approval(mut self, policy: ApprovalPolicy) -> Step {
        self.approval = Some(policy);
        self
    }

    /// This step, retried by `policy`.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Step {
        self.retry = policy;
        self
    }
}

/// A named plan of steps.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// Its name.
    pub name: String,
    /// Its steps, run in order.
    pub steps: Vec<Step>,
}

/// What a workflow runs against.
#[derive(Clone, Copy, Debug)]
pub struct WorkflowEnv<'a> {
    /// The tools steps call.
    pub tools: &'a ToolRegistry,
    /// The budgets calls reserve on.
    pub budgets: &'a Budgets,
    /// Where approvals are requested; steps needing one take their default without it.
    pub approvals: Option<&'a Approvals>,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum StepStatus {
    /// The tool returned an output.
    Succeeded,
    /// The approval was denied (or defaulted to denied).
    Denied,
    /// The tool call failed after its retries.
    Failed(String),
    /// Not run, because an earlier required step failed.
    NotRun,
}

/// One step's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step.
    pub name: String,
    /// The tool.
    pub tool: String,
    /// How it ended.
    pub status: StepStatus,
    /// Tool call attempts.
    pub attempts: u32,
    /// Time waiting for approval.
    pub approval_wait: Duration,
    /// Time in the step, approval included.
    pub elapsed: Duration,
}

/// A workflow's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowReport {
    /// The workflow.
    pub workflow: String,
    /// The trace id that followed it.
    pub trace_id: TraceId,
    /// Whether every required step succeeded.
    pub succeeded: bool,
    /// Optional steps that failed or were denied.
    pub degraded_steps: u32,
    /// Each step, in order.
    pub steps: Vec<StepReport>,
    /// Outputs by step name.
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Time from start to end.
    pub elapsed: Duration,
}

impl Workflow {
    /// A workflow named `name` with `steps`.
    pub fn new(name: impl Into<String>, steps: Vec<Step>) -> Workflow {
        Workflow {
            name: name.into(),
            steps,
        }
    }

    /// Runs the steps in order under `trace_id`.
    pub async fn run(&self, env: WorkflowEnv<'_>, trace_id: TraceId) -> WorkflowReport {
        let span = tracing::info_span!("workflow", name = %self.name, trace_id = %trace_id);
        self.run_steps(env, trace_id).instrument(span).await
    }

    async fn run_steps(&self, env: WorkflowEnv<'_>, trace_id: TraceId) -> WorkflowReport {
        let start = Instant::now();
        let mut report = WorkflowReport {
            workflow: self.name.clone(),
            trace_id,
            succeeded: true,
            degraded_steps: 0,
            steps: Vec::with_capacity(self.steps.len()),
            outputs: BTreeMap::new(),
            elapsed: Duration::ZERO,
        };
        for step in &self.steps {
            if !report.succeeded {
                report.steps.push(StepReport {
                    name: step.name.clone(),
                    tool: step.tool.clone(),
                    status: StepStatus::NotRun,
                    attempts: 0,
                    approval_wait: Duration::ZERO,
                    elapsed: Duration::ZERO,
                });
                continue;
            }
            let span = tracing::info_span!("step", name = %step.name, tool = %step.tool);
            let (record, output) = self
                .run_step(step, env, trace_id, &report.outputs)
                .instrument(span)
                .await;
            let ok = record.status == StepStatus::Succeeded;
            if let Some(output) = output {
                report.outputs.insert(step.name.clone(), output);
            }
            if !ok {
                if step.optional {
                    report.degraded_steps += 1;
                } else {
                    report.succeeded = false;
                }
            }
            report.steps.push(record);
        }
        report.elapsed = start.elapsed();
        report
    }

    async fn run_step(
        &self,
        step: &Step,
        env: WorkflowEnv<'_>,
        trace_id: TraceId,
        outputs: &BTreeMap<String, serde_json::Value>,
    ) -> (StepReport, Option<serde_json::Value>) {
        let start = Instant::now();
        let mut record = StepReport {
            name: step.name.clone(),
            tool: step.tool.clone(),
            status: StepStatus::Succeeded,
            attempts: 0,
            approval_wait: Duration::ZERO,
            elapsed: Duration::ZERO,
        };
        if let Some(policy) = step.approval {
            let decision = match env.approvals {
                Some(approvals) => {
                    let subject = format!("{}/{}", self.name, step.name);
                    let outcome = approvals.request(subject, trace_id, policy).await;
                    record.approval_wait = outcome.waited;
                    outcome.decision
                }
                None => policy.on_timeout,
            };
            if decision == Decision::Denied {
                record.status = StepStatus::Denied;
                record.elapsed = start.elapsed();
                return (record, None);
            }
        }
        let input = (step.input)(outputs);
        // Budget refusals and unknown tools are final; failures and timeouts are retried.
        let retryable =
            |e: &ToolError| matches!(e, ToolError::Failed { .. } | ToolError::Timeout { .. });
        let (result, stats) = retry(&step.retry, retryable, |_| {
            let call = env.tools.call(&step.tool, input.clone(), env.budgets);
            async move {
                match step.timeout {
                    None => call.await,
                    Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                        Err(ToolError::Timeout {
                            tool: step.tool.clone(),
                            after: limit,
                        })
                    }),
                }
            }
        })
        .await;
        record.attempts = stats.attempts;
        record.elapsed = start.elapsed();
        match result {
            Ok(output) => (record, Some(output)),
            Err(e) => {
                tracing::debug!(error = %e, "step failed");
                record.status = StepStatus::Failed(e.to_string());
                (record, None)
            }
        }
    }
}
