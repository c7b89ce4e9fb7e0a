//! Workflow steps: what the orchestration layer (budget reservation, tool slot, timeout, stats,
//! context passing, tracing span) adds around a tool that does no work of its own.
//!
//! Run with: cargo bench -p benches --bench workflow

use agent_core::orchestration::{
    Budgets, Cost, Step, Tool, ToolConfig, ToolRegistry, Workflow, WorkflowEnv,
};
use agent_core::TraceId;
use benches::workloads as w;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

/// Steps in the benchmarked workflow.
const STEPS: usize = 4;
/// Cost of each tool call; the budget allows far more than a benchmark spends.
const TOOL_COST: f64 = 0.001;
/// The domain budget: about a billion calls.
const BUDGET_UNITS: f64 = 1_000_000.0;

/// A tool that returns its input with a counter added: no sleeps, so only overhead is timed.
fn instant_tool() -> impl Tool {
    |mut input: Value| async move {
        let n = input["n"].as_u64().unwrap_or(0);
        input["n"] = json!(n + 1);
        Ok::<Value, String>(input)
    }
}

fn registry() -> ToolRegistry {
    (0..STEPS).fold(ToolRegistry::new(), |r, i| {
        r.with(
            format!("tool{i}"),
            ToolConfig::new("bench", Cost::units(TOOL_COST)),
            instant_tool(),
        )
    })
}

fn workflow() -> Workflow {
    let steps = (0..STEPS)
        .map(|i| {
            Step::new(format!("step{i}"), format!("tool{i}"), move |out| {
                if i == 0 {
                    json!({ "n": 0 })
                } else {
                    out[format!("step{}", i - 1).as_str()].clone()
                }
            })
        })
        .collect();
    Workflow::new("bench", steps)
}

fn steps(c: &mut Criterion) {
    let rt = w::tokio_runtime();
    let tools = registry();
    let budgets = Budgets::unlimited().with_domain("bench", Cost::units(BUDGET_UNITS));
    let wf = workflow();
    let mut g = c.benchmark_group("workflow_4_steps");
    g.throughput(Throughput::Elements(STEPS as u64));
    g.bench_function("workflow", |b| {
        b.iter(|| {
            let report = rt.block_on(wf.run(
                WorkflowEnv {
                    tools: &tools,
                    budgets: &budgets,
                    approvals: None,
                },
                TraceId::new(),
            ));
            assert!(report.succeeded);
            report
        })
    });
    g.bench_function("tool-calls-only", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut v = json!({ "n": 0 });
                for i in 0..STEPS {
                    v = tools
                        .call(&format!("tool{i}"), v, &budgets)
                        .await
                        .expect("tool");
                }
                v
            })
        })
    });
    g.bench_function("plain-functions", |b| {
        let direct: Vec<_> = (0..STEPS).map(|_| instant_tool()).collect();
        b.iter(|| {
            rt.block_on(async {
                let mut v = json!({ "n": 0 });
                for t in &direct {
                    v = t.call(v).await.expect("tool");
                }
                v
            })
        })
    });
    g.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
