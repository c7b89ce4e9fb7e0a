//! The seed reports' own figures for the scenarios they describe, beside ours, for the summary
//! screen. The seeds' numbers are quoted as published (their methods differ: RSS deltas for
//! leaks, averages, runs of a fraction of a second); ours come from the run being summarised.

use crate::report::Report;

/// What a seed report claimed for one scenario.
#[derive(Clone, Copy, Debug)]
pub struct SeedClaim {
    /// Our scenario's name at test scale (a full-scale `_full` run matches too).
    pub scenario: &'static str,
    /// The seed report.
    pub seed: &'static str,
    /// Its figures, as published.
    pub claimed: &'static str,
    /// The same figures from our report.
    pub ours: fn(&Report) -> String,
}

fn ms(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.0} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} ms", ns as f64 / 1e6)
    }
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

fn clock(r: &Report) -> &'static str {
    match r.clock {
        crate::scenario::Clock::Virtual => "virtual clock",
        crate::scenario::Clock::Real => "real time",
    }
}

fn ops_p95(r: &Report) -> String {
    format!(
        "{} ops/s, p95 {} ({})",
        rate(r.throughput_ops_per_s),
        ms(r.latency.total.p95_ns),
        clock(r)
    )
}

fn msgs_p99(r: &Report) -> String {
    format!(
        "{} msg/s, p99 {}; {} lost (real time, 2 cores)",
        rate(r.throughput_ops_per_s),
        ms(r.latency.total.p99_ns),
        r.delivery.as_ref().map_or(0, |d| d.lost)
    )
}

fn success_p(r: &Report, p95: bool) -> String {
    let ops = &r.operations;
    let pct = if ops.total == 0 {
        0.0
    } else {
        ops.succeeded as f64 * 100.0 / ops.total as f64
    };
    let (name, v) = if p95 {
        ("p95", r.latency.total.p95_ns)
    } else {
        ("p99", r.latency.total.p99_ns)
    };
    format!(
        "{pct:.0}% of {} succeed, {name} {} ({})",
        ops.total,
        ms(v),
        clock(r)
    )
}

fn extra(r: &Report, key: &str) -> f64 {
    r.extra.get(key).copied().unwrap_or(f64::NAN)
}

/// Every claim the summary compares.
pub const CLAIMS: &[SeedClaim] = &[
    SeedClaim {
        scenario: "veritas_concurrent_100",
        seed: "000 VERITAS",
        claimed: "17,466 ops/s, p95 25 ms",
        ours: ops_p95,
    },
    SeedClaim {
        scenario: "veritas_concurrent_250",
        seed: "000 VERITAS",
        claimed: "19,086 ops/s, p95 59 ms (a 0.07 s run)",
        ours: ops_p95,
    },
    SeedClaim {
        scenario: "veritas_leak_detection",
        seed: "000 VERITAS",
        claimed: "0.0 MB leaked (RSS delta)",
        ours: |r| {
            format!(
                "{} bytes in {} blocks left after teardown (dhat)",
                extra(r, "leaked_bytes"),
                extra(r, "leaked_blocks")
            )
        },
    },
    SeedClaim {
        scenario: "phantom_low",
        seed: "001 PhantomMesh",
        claimed: "2-3k msg/s, p99 0.25 ms",
        ours: msgs_p99,
    },
    SeedClaim {
        scenario: "phantom_medium",
        seed: "001 PhantomMesh",
        claimed: "5-8k msg/s, p99 1.5 ms",
        ours: msgs_p99,
    },
    SeedClaim {
        scenario: "phantom_high",
        seed: "001 PhantomMesh",
        claimed: "8-12k msg/s, p99 5 ms",
        ours: msgs_p99,
    },
    SeedClaim {
        scenario: "phantom_extreme",
        seed: "001 PhantomMesh",
        claimed: "10-15k msg/s, p99 10 ms",
        ours: msgs_p99,
    },
    SeedClaim {
        scenario: "startup_5_to_30",
        seed: "002 agents",
        claimed: "20 agents ready in < 5 s",
        ours: |r| {
            format!(
                "20 agents ready in {} ms (virtual clock, 50 ms init each)",
                extra(r, "fleet_000020_ready_ms")
            )
        },
    },
    SeedClaim {
        scenario: "modes_concurrent",
        seed: "002 agents",
        claimed: "collaborative 5 tasks/s, autonomous 20 tasks/s",
        ours: |r| {
            format!(
                "collaborative {:.1} tasks/s, autonomous {:.1} tasks/s (virtual clock)",
                extra(r, "collaborative_tasks_per_s"),
                extra(r, "autonomous_tasks_per_s")
            )
        },
    },
    SeedClaim {
        scenario: "netra_workflows_50",
        seed: "003 Netra",
        claimed: ">= 70% succeed, p99 < 30 s",
        ours: |r| success_p(r, false),
    },
    SeedClaim {
        scenario: "orchestration_batch_50",
        seed: "004 CUGAr-SALES",
        claimed: "100% succeed, p95 2,022 ms",
        ours: |r| success_p(r, true),
    },
];

/// The claim about `scenario` (matching its test-scale or full-scale name).
pub fn claim_for(scenario: &str) -> Option<&'static SeedClaim> {
    let base = scenario.strip_suffix("_full").unwrap_or(scenario);
    CLAIMS.iter().find(|c| c.scenario == base)
}
