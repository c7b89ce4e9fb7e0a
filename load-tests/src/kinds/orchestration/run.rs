//! Seed 004's multi-domain orchestration: each execution runs a four-step workflow across three
//! budgeted domains (score account fit 0.5, draft message 1.0 after a 2 s human approval, assess
//! quality 0.5, qualify 0.7; budgets of 100 per domain), `agents` executions in parallel.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{
    ApprovalPolicy, Approvals, Budgets, Cost, Decision, Step, ToolConfig, ToolRegistry, Workflow,
    WorkflowEnv,
};
use agent_core::TraceId;
use serde_json::{json, Value};

use super::Orchestration;
use crate::baseline::Gate;
use crate::kinds::rules::{success_and, Figures};
use crate::kinds::rules::{Drive, Rules};
use crate::report::Report;
use crate::runner::context::{DriverOutput, RunContext};
use crate::scenario::Scenario;

/// The simulated human's time to approve a draft.
const APPROVAL_WAIT: Duration = Duration::from_secs(2);

fn timed(ms: u64, output: Value, factor: u32) -> impl agent_core::orchestration::Tool {
    move |_input: Value| {
        let output = output.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(ms) * factor).await;
            Ok(output)
        }
    }
}

/// The four-step workflow and its tools.
pub(crate) fn lead_workflow(factor: u32) -> (Workflow, ToolRegistry) {
    let tools = ToolRegistry::new()
        .with(
            "score_account_fit",
            ToolConfig::new("scoring", Cost::units(0.5)),
            timed(100, json!({ "fit": 0.82 }), factor),
        )
        .with(
            "draft_message",
            ToolConfig::new("writing", Cost::units(1.0)),
            timed(300, json!({ "draft": "Hello" }), factor),
        )
        .with(
            "assess_quality",
            ToolConfig::new("quality", Cost::units(0.5)),
            timed(50, json!({ "quality": 0.9 }), factor),
        )
        .with(
            "qualify_lead",
            ToolConfig::new("scoring", Cost::units(0.7)),
            timed(80, json!({ "qualified": true }), factor),
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
                "draft_message",
                |out| json!({ "fit": out["score"]["fit"] }),
            )
            .with_approval(ApprovalPolicy {
                deadline: Duration::from_secs(30),
                on_timeout: Decision::Denied,
            }),
            Step::new(
                "assess",
                "assess_quality",
                |out| json!({ "draft": out["draft"]["draft"] }),
            ),
            Step::new(
                "qualify",
                "qualify_lead",
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
        let (workflow, tools) = lead_workflow(1);
        let budgets = Budgets::unlimited()
            .with_domain("scoring", Cost::units(100.0))
            .with_domain("writing", Cost::units(100.0))
            .with_domain("quality", Cost::units(100.0));
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
                tokio::spawn(async move {
                    let env = WorkflowEnv {
                        tools: &tools,
                        budgets: &budgets,
                        approvals: Some(&approvals),
                    };
                    let report = workflow.run(env, TraceId::new()).await;
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
const DOMAINS: [&str; 3] = ["scoring", "writing", "quality"];

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
        ]);
        g
    }

    fn headline(&self, r: &Report) -> String {
        success_and(r, true)
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
