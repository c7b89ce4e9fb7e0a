//! Executing one operation's workload inside an agent: simulated I/O on tokio's clock, CPU work,
//! allocation, or a workflow type drawn from the seeded RNG.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::scenario::{WorkflowType, Workload};

/// What one operation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkDone {
    /// The workflow type, for mixed workloads.
    pub workflow: Option<WorkflowType>,
    /// `Err(kind)` if the operation failed.
    pub result: Result<(), &'static str>,
}

/// Runs `workload` once, drawing from `rng` where the workload is random.
pub async fn perform(workload: &Workload, rng: &mut ChaCha8Rng) -> WorkDone {
    let ok = WorkDone {
        workflow: None,
        result: Ok(()),
    };
    match workload {
        Workload::None => ok,
        Workload::Io { wait_us } => {
            tokio::time::sleep(Duration::from_micros(*wait_us)).await;
            ok
        }
        Workload::Cpu { iterations } => {
            burn_cpu(*iterations);
            ok
        }
        Workload::Alloc { bytes } => {
            touch_memory(*bytes);
            ok
        }
        Workload::Hold { bytes, wait_us } => {
            let held = vec![1u8; *bytes];
            tokio::time::sleep(Duration::from_micros(*wait_us)).await;
            touch_held(&held);
            ok
        }
        Workload::Mixed { mix } => {
            let kind = pick(mix, rng);
            let p = kind.profile();
            let low = p.io_mean_us.saturating_sub(p.io_jitter_us);
            let high = p.io_mean_us + p.io_jitter_us;
            let io = rng.random_range(low..=high);
            let fails = rng.random_range(0..1000) < p.failures_per_mille;
            tokio::time::sleep(Duration::from_micros(io)).await;
            burn_cpu(p.cpu_iterations);
            touch_memory(p.alloc_bytes);
            let result = if fails {
                Err(failure_name(kind))
            } else {
                Ok(())
            };
            WorkDone {
                workflow: Some(kind),
                result,
            }
        }
    }
}

/// `iterations` rounds of a 64-bit hash mix; the result is kept from the optimizer.
pub fn burn_cpu(iterations: u64) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    // A plain loop rather than a range: a debug build's range iterator costs several times the
    // work itself, which would swamp the runtime's share of a counted scenario.
    let mut i = 0u64;
    while i < iterations {
        x ^= i;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 31;
        i = i.wrapping_add(1);
    }
    std::hint::black_box(x);
}

/// Allocates `bytes`, writes one byte per page so the memory is really used, and frees it.
pub fn touch_memory(bytes: usize) {
    if bytes == 0 {
        return;
    }
    let mut v = vec![0u8; bytes];
    for i in (0..bytes).step_by(4096) {
        v[i] = 1;
    }
    std::hint::black_box(&v);
}

/// Reads one byte per page of `held`, so the memory is really used.
fn touch_held(held: &[u8]) {
    let sum: u64 = held.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    std::hint::black_box(sum);
}

fn pick(mix: &[(WorkflowType, u32)], rng: &mut ChaCha8Rng) -> WorkflowType {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (kind, weight) in mix {
        if roll < *weight {
            return *kind;
        }
        roll -= weight;
    }
    mix.last().map_or(WorkflowType::Simple, |(k, _)| *k)
}

fn failure_name(kind: WorkflowType) -> &'static str {
    match kind {
        WorkflowType::Simple => "simple_failed",
        WorkflowType::Complex => "complex_failed",
        WorkflowType::DataIntensive => "data_intensive_failed",
        WorkflowType::Optimization => "optimization_failed",
        WorkflowType::Reporting => "reporting_failed",
    }
}
