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

use super::{DriverOutput, RunContext};

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

pub(crate) async fn run(ctx: &Arc<RunContext>) -> DriverOutput {
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
        out.extra
            .insert(format!("budget_{}_spent_units", b.name), b.spent.as_units());
    }
    for t in tools.snapshot() {
        *out.extra
            .entry(format!("tool_calls_{}", t.domain))
            .or_default() += t.calls as f64;
    }
    let a = approvals.snapshot();
    out.extra
        .insert("approvals_approved".into(), a.approved as f64);
    out.extra
        .insert("approvals_timed_out".into(), a.timed_out as f64);
    out.extra
        .insert("approval_wait_p95_ms".into(), a.wait_p95_ns as f64 / 1e6);
    drop(approvals);
    approver.await.expect("approver task");
    out
}
