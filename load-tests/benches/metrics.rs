//! Metrics recording on the load-test harness's hot path: one latency sample into the three
//! HdrHistograms, an outcome count, and both behind a striped lock as the scenario drivers do.
//!
//! Run with: cargo bench -p load-tests --bench metrics

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use load_tests::metrics::{LatencyRecorder, Tallies};
use load_tests::report::Operations;

/// Samples recorded per iteration.
const SAMPLES: u64 = 10_000;
/// Stripes of the shared tallies (the drivers use one per core or so).
const STRIPES: usize = 8;

/// A spread of latencies from 1 µs to about 10 ms, so many histogram buckets are touched.
fn latency(i: u64) -> Duration {
    Duration::from_nanos(1_000 + (i * 7_919) % 10_000_000)
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics_record");
    g.throughput(Throughput::Elements(SAMPLES));
    g.bench_function("latency-recorder", |b| {
        let mut rec = LatencyRecorder::default();
        b.iter(|| {
            for i in 0..SAMPLES {
                let total = latency(i);
                rec.record(total, total / 4, total - total / 4);
            }
        })
    });
    g.bench_function("operations-outcome", |b| {
        let mut ops = Operations::default();
        b.iter(|| {
            for i in 0..SAMPLES {
                ops.record(if i % 100 == 0 { Err("timeout") } else { Ok(()) });
            }
        })
    });
    g.bench_function("striped-tally", |b| {
        let tallies = Tallies::new(STRIPES);
        b.iter(|| {
            for i in 0..SAMPLES {
                tallies.with(i as usize, |t| {
                    t.ops.record(Ok(()));
                    t.latency.record_total(latency(i));
                });
            }
        })
    });
    g.finish();
}

fn merge(c: &mut Criterion) {
    let tallies = Tallies::new(STRIPES);
    for i in 0..SAMPLES {
        tallies.with(i as usize, |t| t.latency.record_total(latency(i)));
    }
    c.bench_function("metrics_merge_8_stripes", |b| b.iter(|| tallies.merged()));
}

criterion_group!(benches, record, merge);
criterion_main!(benches);
