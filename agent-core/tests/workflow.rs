//! Seed 004's multi-domain orchestration as a workflow: four steps across three domains with
//! context passing, budgets, an approval with a wait, and graceful degradation.

use std::time::Duration;

use agent_core::orchestration::{
    ApprovalPolicy, Approvals, Budgets, Cost, Decision, RetryPolicy, Step, StepStatus, ToolConfig,
    ToolRegistry, Workflow, WorkflowEnv,
};
use agent_core::TraceId;
use serde_json::{json, Value};

fn tool(
    ms: u64,
    f: impl Fn(Value) -> Result<Value, String> + Send + Sync + Clone + 'static,
) -> impl agent_core::orchestration::Tool {
    move |input: Value| {
        let f = f.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            f(input)
        }
    }
}

fn tools() -> ToolRegistry {
    ToolRegistry::new()
        .with("score_account_fit", ToolConfig::new("scoring", Cost::units(0.5)), tool(100, |i| Ok(json!({ "fit": 0.82, "account": i["account"] }))))
        .with("draft_message", ToolConfig::new("writing", Cost::units(1.0)), tool(300, |i| Ok(json!({ "draft": format!("Hello {} (fit {})", i["account"].as_str().unwrap_or("?"), i["fit"]) }))))
        .with("assess_quality", ToolConfig::new("quality", Cost::units(0.5)), tool(50, |i| {
            if i["draft"].as_str().is_some_and(|d| d.contains("FLAKY")) { Err("quality model down".into()) } else { Ok(json!({ "quality": 0.9 })) }
        }))
        .with("qualify_lead", ToolConfig::new("scoring", Cost::units(0.7)), tool(80, |_| Ok(json!({ "qualified": true }))))
}

fn lead_workflow(optional_assess: bool) -> Workflow {
    let assess = Step::new(
        "assess",
        "assess_quality",
        |out| json!({ "draft": out["draft"]["draft"] }),
    );
    Workflow::new(
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
                |out| json!({ "account": out["score"]["account"], "fit": out["score"]["fit"] }),
            )
            .with_approval(ApprovalPolicy {
                deadline: Duration::from_secs(10),
                on_timeout: Decision::Denied,
            }),
            if optional_assess {
                assess.optional()
            } else {
                assess
            },
            Step::new(
                "qualify",
                "qualify_lead",
                |out| json!({ "fit": out["score"]["fit"] }),
            ),
        ],
    )
}

fn budgets() -> Budgets {
    Budgets::unlimited()
        .with_domain("scoring", Cost::units(100.0))
        .with_domain("writing", Cost::units(100.0))
        .with_domain("quality", Cost::units(100.0))
}

#[tokio::test(start_paused = true)]
async fn four_steps_three_domains_with_an_approval_and_context_passing() {
    let tools = tools();
    let budgets = budgets();
    let (approvals, mut inbox) = Approvals::channel(4);
    // The person takes 2 s to approve (seed 004's simulated wait).
    let approver = tokio::spawn(async move {
        while let Some(req) = inbox.next().await {
            assert_eq!(req.subject, "lead_outreach/draft");
            tokio::time::sleep(Duration::from_secs(2)).await;
            req.approve();
        }
    });
    let trace = TraceId::new();
    let env = WorkflowEnv {
        tools: &tools,
        budgets: &budgets,
        approvals: Some(&approvals),
    };
    let report = lead_workflow(false).run(env, trace).await;
    assert!(report.succeeded, "{report:#?}");
    assert_eq!(report.trace_id, trace);
    assert_eq!(report.outputs["draft"]["draft"], "Hello acme (fit 0.82)");
    // 100 + (2000 approval + 300) + 50 + 80 ms, exactly.
    assert_eq!(report.elapsed, Duration::from_millis(2530));
    assert_eq!(report.steps[1].approval_wait, Duration::from_secs(2));
    let spent: Vec<_> = budgets
        .snapshot()
        .iter()
        .map(|b| (b.name.clone(), b.spent))
        .collect();
    assert_eq!(
        spent,
        [
            ("quality".to_owned(), Cost::units(0.5)),
            ("scoring".to_owned(), Cost::units(1.2)),
            ("writing".to_owned(), Cost::units(1.0)),
        ]
    );
    let calls: Vec<_> = tools
        .snapshot()
        .iter()
        .map(|t| (t.name.clone(), t.calls))
        .collect();
    assert_eq!(calls.iter().map(|c| c.1).sum::<u64>(), 4);
    assert_eq!(approvals.snapshot().approved, 1);
    drop(approvals);
    approver.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_optional_step_degrades_a_required_one_fails_and_denial_stops() {
    let tools = tools().with(
        "draft_message",
        ToolConfig::new("writing", Cost::units(1.0)),
        tool(300, |_| Ok(json!({ "draft": "FLAKY draft" }))),
    );
    let budgets = budgets();
    // No approver: the approval defaults. Approve-by-default for these runs.
    let mut wf = lead_workflow(true);
    wf.steps[1].approval = Some(ApprovalPolicy {
        deadline: Duration::from_secs(1),
        on_timeout: Decision::Approved,
    });
    let env = WorkflowEnv {
        tools: &tools,
        budgets: &budgets,
        approvals: None,
    };
    let report = wf.run(env, TraceId::new()).await;
    assert!(report.succeeded);
    assert_eq!(report.degraded_steps, 1);
    assert!(
        matches!(report.steps[2].status, StepStatus::Failed(ref m) if m.contains("quality model down"))
    );
    assert_eq!(report.steps[3].status, StepStatus::Succeeded);

    // The same failure in a required step fails the workflow; later steps do not run.
    let mut wf = lead_workflow(false);
    wf.steps[1].approval = None;
    wf.steps[2].retry = RetryPolicy {
        max_attempts: 3,
        jitter: 0.0,
        ..RetryPolicy::default()
    };
    let report = wf.run(env, TraceId::new()).await;
    assert!(!report.succeeded);
    assert_eq!(report.steps[2].attempts, 3, "retried");
    assert_eq!(report.steps[3].status, StepStatus::NotRun);

    // A denied approval on a required step stops the workflow before the call is paid for.
    let mut wf = lead_workflow(false);
    wf.steps[1].approval = Some(ApprovalPolicy {
        deadline: Duration::from_secs(1),
        on_timeout: Decision::Denied,
    });
    let before = budgets.snapshot()[2].spent;
    let report = wf.run(env, TraceId::new()).await;
    assert_eq!(report.steps[1].status, StepStatus::Denied);
    assert!(!report.succeeded);
    assert_eq!(
        budgets.snapshot()[2].spent,
        before,
        "the denied draft cost nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_budget_stops_a_workflow_with_the_domain_named() {
    let tools = tools();
    let budgets = Budgets::unlimited().with_domain("scoring", Cost::units(0.6));
    let mut wf = lead_workflow(false);
    wf.steps[1].approval = None;
    let env = WorkflowEnv {
        tools: &tools,
        budgets: &budgets,
        approvals: None,
    };
    let report = wf.run(env, TraceId::new()).await;
    assert!(!report.succeeded);
    // score (0.5) fits, qualify (0.7) does not.
    assert!(
        matches!(report.steps[3].status, StepStatus::Failed(ref m) if m.contains("qualify_lead")),
        "{:?}",
        report.steps[3]
    );
    assert_eq!(
        report.steps[3].attempts, 1,
        "a budget refusal is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_timeout_cuts_an_attempt_short_and_is_retried() {
    let tools = tools();
    let budgets = budgets();
    let mut wf = lead_workflow(false);
    wf.steps[1].approval = None;
    // Drafting takes 300 ms; each attempt gets 200 ms, three attempts with 100 + 200 ms backoff.
    wf.steps[1] = wf.steps[1]
        .clone()
        .with_timeout(Duration::from_millis(200))
        .with_retry(RetryPolicy {
            max_attempts: 3,
            jitter: 0.0,
            ..RetryPolicy::default()
        });
    let env = WorkflowEnv {
        tools: &tools,
        budgets: &budgets,
        approvals: None,
    };
    let report = wf.run(env, TraceId::new()).await;
    assert!(!report.succeeded);
    assert_eq!(report.steps[1].attempts, 3);
    assert!(
        matches!(report.steps[1].status, StepStatus::Failed(ref m) if m.contains("timed out after 200ms")),
        "{:?}",
        report.steps[1]
    );
    assert_eq!(
        report.steps[1].elapsed,
        Duration::from_millis(3 * 200 + 100 + 200)
    );
    // A timed-out call spends nothing.
    assert_eq!(budgets.snapshot()[2].spent, Cost::ZERO);
}
