//! Seed 004's multi-domain orchestration, as the seed has it: each execution runs four steps
//! across three domains, intelligence (`score_account_fit`, 0.5 budget units), engagement
//! (`draft_outbound_message`, 1.0, after a 2 s human approval; `assess_message_quality`, 0.5) and
//! qualification (`qualify_opportunity`, 0.7): 2.7 units of a budget of 100 per execution.
//! `agents` executions run in parallel.
//!
//! Where the seed is silent this suite chose: each tool takes a few milliseconds (4, 6, 2 and
//! 3 ms: the seed's fastest execution took 2,015 ms, 2 s of it the approval), and each domain's
//! spend is tracked against a budget shared by the batch, of 100 units per execution (never the
//! binding limit). On the virtual clock the latencies restate these inputs: a model check.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{
    ApprovalPolicy, Approvals, Budgets, Cost, Decision, Step, ToolConfig, ToolRegistry, Workflow,
    WorkflowEnv,
};
use agent_core::TraceId;
use serde_json::{json, Value};

use super::Orchestration;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Rules;
use crate::kinds::rules::{extra, success_and, Figures};
use crate::report::Report;
use crate::scenario::Scenario;

/// The simulated human's time to approve a draft.
const APPROVAL_WAIT: Duration = Duration::from_secs(2);
/// Each execution's budget (the seed's "2.7 / 100.0").
const BUDGET_PER_EXECUTION: f64 = 100.0;

fn timed(ms: u64, output: Value) -> impl agent_core::orchestration::Tool {
    move |_input: Value| {
        let output = output.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(output)
        }
    }
}

/// The four-step workflow and its tools.
pub(crate) fn lead_workflow() -> (Workflow, ToolRegistry) {
    let tools = ToolRegistry::new()
        .with(
            "score_account_fit",
            ToolConfig::new("intelligence", Cost::units(0.5)),
            timed(4, json!({ "fit": 0.82 })),
        )
        .with(
            "draft_outbound_message",
            ToolConfig::new("engagement", Cost::units(1.0)),
            timed(6, json!({ "draft": "Hello" })),
        )
        .with(
            "assess_message_quality",
            ToolConfig::new("engagement", Cost::units(0.5)),
            timed(2, json!({ "quality": 0.9 })),
        )
        .with(
            "qualify_opportunity",
            ToolConfig::new("qualification", Cost::units(0.7)),
            timed(3, json!({ "qualified": true })),
        );
    let workflow = Workflow::new(
        "lead_outreach",
        vec![
            Step::new(
                "score",
                "score_account_fit",
                |_| json!({ "account": "acme" }),
            ),
            Step::new(
                "draft",
                "draft_outbound_message",
                |out| json!({ "fit": out["score"]["fit"] }),
            )
            .with_approval(ApprovalPolicy {
                deadline: Duration::from_secs(30),
                on_timeout: Decision::Denied,
            }),
            Step::new(
                "assess",
                "assess_message_quality",
                |out| json!({ "draft": out["draft"]["draft"] }),
            ),
            Step::new(
                "qualify",
                "qualify_opportunity",
                |out| json!({ "fit": out["score"]["fit"] }),
            ),
        ],
    );
    (workflow, tools)
}

/// Approvals granted.
pub(crate) const APPROVALS_APPROVED: &str = "approvals_approved";
/// Approvals that timed out.
pub(crate) const APPROVALS_TIMED_OUT: &str = "approvals_timed_out";

impl Drive for Orchestration {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let (workflow, tools) = lead_workflow();
        let executions = s.agents * s.ops_per_agent;
        let shared = executions as f64 * BUDGET_PER_EXECUTION;
        let budgets = DOMAINS.iter().fold(Budgets::unlimited(), |b, d| {
            b.with_domain(*d, Cost::units(shared))
        });
        let task_spent = Arc::new(std::sync::Mutex::new(0.0f64));
        let (approvals, mut inbox) = Approvals::channel(s.agents.max(1));
        let approver = tokio::spawn(async move {
            while let Some(request) = inbox.next().await {
                tokio::spawn(async move {
                    tokio::time::sleep(APPROVAL_WAIT).await;
                    request.approve();
                });
            }
        });
        let workflow = Arc::new(workflow);
        let runs: Vec<_> = (0..s.agents * s.ops_per_agent)
            .map(|_| {
                let (workflow, tools, budgets, approvals) = (
                    Arc::clone(&workflow),
                    tools.clone(),
                    budgets.clone(),
                    approvals.clone(),
                );
                let ctx = Arc::clone(ctx);
                let task_spent = Arc::clone(&task_spent);
                tokio::spawn(async move {
                    // The domains' budgets are the batch's; the task budget is this execution's.
                    let budgets = budgets.with_task(Cost::units(BUDGET_PER_EXECUTION));
                    let env = WorkflowEnv {
                        tools: &tools,
                        budgets: &budgets,
                        approvals: Some(&approvals),
                    };
                    let report = workflow.run(env, TraceId::new()).await;
                    if let Some(task) = budgets.snapshot().into_iter().find(|b| b.name == "task") {
                        *task_spent
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) +=
                            task.spent.as_units();
                    }
                    ctx.done(1);
                    report
                })
            })
            .collect();
        let mut out = DriverOutput::default();
        for r in runs {
            let report = r.await.expect("workflow task");
            let approval: Duration = report.steps.iter().map(|s| s.approval_wait).sum();
            out.latency.record(
                report.elapsed,
                approval,
                report.elapsed.saturating_sub(approval),
            );
            out.ops.record(if report.succeeded {
                Ok(())
            } else {
                Err("workflow_failed")
            });
        }
        drop(approvals.clone());
        for b in budgets.snapshot() {
            out.extra.insert(budget_spent(&b.name), b.spent.as_units());
        }
        let spent = *task_spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.extra.insert(
            BUDGET_PER_EXECUTION_SPENT.into(),
            spent / executions.max(1) as f64,
        );
        for t in tools.snapshot() {
            *out.extra.entry(tool_calls(&t.domain)).or_default() += t.calls as f64;
        }
        let a = approvals.snapshot();
        out.extra
            .insert(APPROVALS_APPROVED.into(), a.approved as f64);
        out.extra
            .insert(APPROVALS_TIMED_OUT.into(), a.timed_out as f64);
        out.extra
            .insert("approval_wait_p95_ms".into(), a.wait_p95_ns as f64 / 1e6);
        drop(approvals);
        approver.await.expect("approver task");
        out
    }
}

/// The domains of seed 004's workflow, each with its own budget and tools.
const DOMAINS: [&str; 3] = ["intelligence", "engagement", "qualification"];
/// Budget units each execution spent of its 100, on average.
pub(crate) const BUDGET_PER_EXECUTION_SPENT: &str = "budget_spent_per_execution_units";

impl Rules for Orchestration {
    fn figures(&self) -> Figures {
        Figures {
            queues: false,
            ..Figures::COMMON
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        let mut g: Vec<Gate> = DOMAINS
            .iter()
            .map(|d| Gate::extra(&budget_spent(d)))
            .chain(DOMAINS.iter().map(|d| Gate::extra(&tool_calls(d))))
            .collect();
        g.extend([
            Gate::extra(APPROVALS_APPROVED),
            Gate::extra(APPROVALS_TIMED_OUT),
            Gate::extra(BUDGET_PER_EXECUTION_SPENT),
        ]);
        g
    }

    /// The approval wait is the simulated human's 2 s.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        vec!["extra.approval_wait_p95_ms".to_owned()]
    }

    /// Success and p95 restate the inputs (2 s approval and 15 ms of tools): a model check.
    fn headline(&self, r: &Report) -> String {
        format!(
            "{}; {:.1} of 100 budget units per execution (model check: restates the 2 s approval and tool times)",
            success_and(r, true),
            extra(r, BUDGET_PER_EXECUTION_SPENT)
        )
    }
}

/// The key of a domain's spent budget.
fn budget_spent(domain: &str) -> String {
    format!("budget_{domain}_spent_units")
}

/// The key of a domain's tool calls.
fn tool_calls(domain: &str) -> String {
    format!("tool_calls_{domain}")
}
