//! The benchmarks the paired comparison runs: short agent-core workloads, each timed per
//! iteration, addressable by name so two builds of different revisions run the same thing.
//!
//! An *injected slowdown* busy-waits for a fraction of each iteration's own measured time inside
//! the timed region, so a calibration run sees a real, proportional slowdown with real noise.

use std::time::{Duration, Instant};

use crate::workloads as w;

/// One named benchmark of the probe.
#[derive(Clone, Copy, Debug)]
pub struct ProbeBench {
    /// The name the paired comparison selects it by.
    pub name: &'static str,
    /// What one iteration does.
    pub description: &'static str,
    run: fn(&tokio::runtime::Runtime) -> Duration,
}

/// Messages per iteration of `tell`.
const TELL: u64 = 100_000;
/// Senders and 1 KiB messages per sender of `fan_in`.
const FAN_IN: (u64, u64) = (20, 1_000);
/// Sequential asks per iteration of `ask`.
const ASKS: u64 = 30_000;
/// Repetitions of 250 agents x 5 messages per iteration of `spawn_send_stop`.
const SPAWN_STOP_REPS: u32 = 10;

/// Every benchmark the probe knows, in a fixed order.
pub const BENCHES: &[ProbeBench] = &[
    ProbeBench {
        name: "tell",
        description: "100,000 tells, one sender to one agent",
        run: |rt| w::run_on(rt, w::tell_agent(TELL, agent_core::Timing::default())),
    },
    ProbeBench {
        name: "fan_in",
        description: "20 senders x 1,000 x 1 KiB to one agent",
        run: |rt| w::run_on(rt, w::fan_in_agent(FAN_IN.0, FAN_IN.1)),
    },
    ProbeBench {
        name: "ask",
        description: "30,000 sequential asks of one agent",
        run: |rt| w::run_on(rt, w::ask_agent(ASKS)).0,
    },
    ProbeBench {
        name: "spawn_send_stop",
        description: "10 x (spawn 250 agents, 5 messages each, drain and stop)",
        run: |rt| {
            (0..SPAWN_STOP_REPS)
                .map(|_| w::run_on(rt, w::spawn_send_stop_agent(250, 5)))
                .sum()
        },
    },
];

/// The benchmark called `name`.
pub fn find(name: &str) -> Option<&'static ProbeBench> {
    BENCHES.iter().find(|b| b.name == name)
}

impl ProbeBench {
    /// One warm-up, then `iterations` timed iterations; returns the median iteration time.
    /// With `inject` > 0, each iteration also busy-waits `inject` times its own duration.
    pub fn median_of(
        &self,
        rt: &tokio::runtime::Runtime,
        iterations: usize,
        inject: f64,
    ) -> Duration {
        (self.run)(rt);
        let times: Vec<Duration> = (0..iterations.max(1))
            .map(|_| {
                let t = (self.run)(rt);
                t + spin(t.mul_f64(inject))
            })
            .collect();
        crate::stats::median(&times)
    }
}

/// Busy-waits for `d` (on this thread, as real extra work would) and returns how long it took.
fn spin(d: Duration) -> Duration {
    if d.is_zero() {
        return Duration::ZERO;
    }
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
    start.elapsed()
}
