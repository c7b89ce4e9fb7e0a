//! Report serialization: a real report (seed 004's 50-workflow batch, on the virtual clock, with
//! its time series) written as pretty JSON and read back, as the CLI and the baseline gate do.
//!
//! Run with: cargo bench -p load-tests --bench report

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use load_tests::report::Report;
use load_tests::runner::{run, runtime_for, RunOptions};

/// The scenario whose report is serialized.
const SCENARIO: &str = "orchestration_batch_50";

fn report() -> Report {
    let scenario = load_tests::catalog::by_name(SCENARIO).expect("scenario in the catalog");
    let rt = runtime_for(scenario.clock).expect("runtime");
    rt.block_on(run(&scenario, &RunOptions::default()))
        .expect("scenario runs")
}

fn serialize(c: &mut Criterion) {
    let report = report();
    let json = report.to_json();
    let mut g = c.benchmark_group("report_json");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("write-pretty", |b| b.iter(|| report.to_json()));
    g.bench_function("read", |b| {
        b.iter(|| serde_json::from_str::<Report>(&json).expect("round trip"))
    });
    g.finish();
}

criterion_group!(benches, serialize);
criterion_main!(benches);
