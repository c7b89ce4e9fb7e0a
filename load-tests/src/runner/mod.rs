//! Runs a scenario against agent-core and assembles its [`Report`]: the scenario's kind drives
//! the work ([`crate::kinds`]); this module measures around it (clock, heap, OS figures, time
//! series, mailbox conservation) and checks the scenario before it starts.

pub use crate::drive::context::{RunError, RunOptions};
pub use crate::drive::{context, limits};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::drive::context::RunContext;
use crate::drive::Drive;
use crate::report::{Environment, QueueReport, Report, Sample, SCHEMA_VERSION};
use crate::resources::{heap_now, process_cpu, HeapPoint, HeapReport, OsPoint, OsReport};
use crate::scenario::{Clock, Scenario};

/// Checks every field of `scenario`: those every kind shares, then its kind's own.
pub fn validate(scenario: &Scenario) -> Result<(), RunError> {
    limits::check_common(scenario)?;
    scenario
        .kind
        .rules()
        .check(scenario, &limits::Limits::new(&scenario.name))
}

/// Runs `scenario` on the current tokio runtime, which must match its clock: a current-thread
/// runtime with a paused clock for [`Clock::Virtual`], a multi-threaded one for [`Clock::Real`]
/// (see [`runtime_for`]).
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<Report, RunError> {
    validate(scenario)?;
    let Some(driver) = scenario.kind.standalone() else {
        return Err(RunError::NeedsItsTest {
            scenario: scenario.name.clone(),
            kind: scenario.kind.name(),
        });
    };
    Ok(measure(scenario, options, &driver).await)
}

/// [`run`] with a driver the caller supplies (a team's agents, [`crate::AgentLoad`]).
pub(crate) async fn run_driven<D: Drive>(
    scenario: &Scenario,
    options: &RunOptions,
    driver: &D,
) -> Result<Report, RunError> {
    validate(scenario)?;
    Ok(measure(scenario, options, driver).await)
}

/// Runs `driver` with the measurements around it.
async fn measure<D: Drive>(scenario: &Scenario, options: &RunOptions, driver: &D) -> Report {
    let ctx = Arc::new(RunContext {
        scenario: scenario.clone(),
        options: options.clone(),
        ops_done: AtomicU64::new(0),
        watched: Mutex::new(Vec::new()),
        depth_sources: Mutex::new(Vec::new()),
        retired_conserved: AtomicBool::new(true),
    });

    // A counted run reads no OS figures (/proc, cgroups): those files are the machine's, and how
    // many reads, opens and directory entries they take would move the system calls counted.
    let probe_os = !options.counting;
    let os_now = || {
        if probe_os {
            OsPoint::now()
        } else {
            OsPoint::default()
        }
    };
    if probe_os {
        OsPoint::reset_peak_rss();
    }
    let os_start = os_now();
    let heap_start = heap_now();
    let wall_start = std::time::Instant::now();
    let start = tokio::time::Instant::now();

    // A counted run takes no time series: the sampler is the harness's cost, not the scenario's.
    let sampling = Arc::new(AtomicBool::new(!options.counting));
    // The series' buffer is allocated here, before the driver starts, so it is no part of what
    // the run allocates or leaves behind.
    let buffer = Vec::with_capacity(1000);
    let sampler = tokio::spawn(sample(
        Arc::clone(&ctx),
        Arc::clone(&sampling),
        start,
        buffer,
    ));
    let out = driver.drive(&ctx).await;
    let elapsed = out.elapsed.unwrap_or_else(|| start.elapsed());
    sampling.store(false, Ordering::Relaxed);
    let (mut samples, mut sampler_cost) = sampler.await.unwrap_or_default();
    // Every watched runtime's mailboxes, ended agents included, must account for every message.
    // What the check allocates is the harness's: measured and taken out like the sampler's.
    let before_check = heap_now();
    let conserved = ctx.retired_conserved.load(Ordering::Relaxed)
        && ctx
            .watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .all(|rt| rt.snapshot().mailboxes.is_conserved());
    sampler_cost.add(before_check, heap_now());
    // The sampler's handles on the driver's runtimes go too, so teardown is complete.
    ctx.watched
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    // Everything the run spawned has been shut down by its driver; let the runtime reap it.
    tokio::task::yield_now().await;
    let wall = wall_start.elapsed();
    let heap_end = heap_now().map(|mut h| {
        h.total_blocks -= sampler_cost.blocks;
        h.total_bytes -= sampler_cost.bytes;
        h
    });
    let os_end = os_now();
    let ops_count = out.ops.total;

    let mut ops = out.ops;
    ops.finish();
    decimate(&mut samples, 500);
    let avg_total_depth = if samples.is_empty() {
        0.0
    } else {
        samples.iter().map(|s| s.queue_depth as f64).sum::<f64>() / samples.len() as f64
    };
    let elapsed_s = elapsed.as_secs_f64();
    Report {
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.source.clone(),
        config: scenario.clone(),
        environment: if probe_os {
            Environment::current()
        } else {
            Environment::of_build()
        },
        clock: scenario.clock,
        partial: ctx.stopping(),
        elapsed_s,
        wall_s: wall.as_secs_f64(),
        throughput_ops_per_s: if elapsed_s > 0.0 {
            ops.succeeded as f64 / elapsed_s
        } else {
            0.0
        },
        operations: ops,
        // A counted run needs only its operation count: percentiles are the harness's
        // once-per-run work (iterating every histogram bucket), whose inlining shifts with
        // unrelated harness edits in release builds; it stays out of the counted window.
        latency: if options.counting {
            Default::default()
        } else {
            out.latency.summary()
        },
        heap: match (heap_start, heap_end) {
            (Some(a), Some(b)) => Some(HeapReport::between(a, b, ops_count)),
            _ => None,
        },
        os: OsReport::between(os_start, os_end, wall),
        queues: QueueReport {
            max_depth: out.max_depth,
            avg_total_depth,
            conserved,
        },
        pool: out.pool,
        delivery: out.delivery,
        yardstick: out.yardstick,
        extra: out.extra,
        samples,
        instructions: None,
        model_checks: crate::kinds::rules::model_checks(scenario),
        custom_invariants_broken: Vec::new(),
    }
}

/// A tokio runtime matching `clock`: current-thread with a paused clock for virtual time,
/// multi-threaded (one worker per core) for real time. Only tokio's timer is enabled, never its
/// I/O driver: if a dependency compiles tokio's `net` in (cargo unifies features across the
/// workspace; a NATS client does), `enable_all` would start the I/O driver in every run and
/// change what the runs measure.
pub fn runtime_for(clock: Clock) -> std::io::Result<tokio::runtime::Runtime> {
    runtime_with(clock, false)
}

/// The runtime `scenario` runs on: [`runtime_for`] its clock, with tokio's I/O driver only for
/// kinds that talk to a server (every other scenario's timers then cost what they cost an
/// agent-core user without it).
pub fn runtime_for_scenario(scenario: &Scenario) -> std::io::Result<tokio::runtime::Runtime> {
    runtime_with(scenario.clock, scenario.kind.rules().needs_network())
}

fn runtime_with(clock: Clock, io: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match clock {
        Clock::Virtual => tokio::runtime::Builder::new_current_thread(),
        Clock::Real => tokio::runtime::Builder::new_multi_thread(),
    };
    if io {
        builder.enable_all();
    } else {
        builder.enable_time();
    }
    builder.start_paused(clock == Clock::Virtual).build()
}

/// Samples progress, queue depth and heap on the scenario's clock: every millisecond (virtual) or
/// ten (real) at first; each time 1,000 samples pile up, every other one is dropped and the
/// interval doubles, so a long run costs no more than a short one.
async fn sample(
    ctx: Arc<RunContext>,
    running: Arc<AtomicBool>,
    start: tokio::time::Instant,
    mut samples: Vec<Sample>,
) -> (Vec<Sample>, SamplerCost) {
    let mut interval = match ctx.scenario.clock {
        Clock::Virtual => Duration::from_millis(1),
        Clock::Real => Duration::from_millis(10),
    };
    let mut cost = SamplerCost::default();
    let real = ctx.scenario.clock == Clock::Real;
    let mut last_cpu = (std::time::Instant::now(), process_cpu());
    while running.load(Ordering::Relaxed) {
        // What taking a sample allocates is the harness's, not the run's: it is measured and
        // subtracted (exactly so on the single-threaded virtual clock).
        let before = heap_now();
        let queue_depth = ctx.queue_depth();
        cost.add(before, heap_now());
        let heap_live_bytes = heap_now().map(|h| h.live_bytes);
        if let Some(sampled) = &ctx.options.sampled {
            sampled(queue_depth, heap_live_bytes);
        }
        samples.push(Sample {
            t_ms: start.elapsed().as_secs_f64() * 1e3,
            ops_done: ctx.ops_done.load(Ordering::Relaxed),
            queue_depth,
            heap_live_bytes,
            cpu_cores_used: real.then(|| {
                let now = (std::time::Instant::now(), process_cpu());
                let wall = now.0.duration_since(last_cpu.0).as_secs_f64();
                let used = now.1.saturating_sub(last_cpu.1).as_secs_f64() / wall.max(1e-9);
                last_cpu = now;
                used
            }),
        });
        if samples.len() >= 1000 {
            let mut keep = false;
            samples.retain(|_| {
                keep = !keep;
                keep
            });
            interval *= 2;
        }
        tokio::time::sleep(interval).await;
    }
    (samples, cost)
}

/// Heap the harness allocated during the run (the sampler, the conservation check), to take out
/// of the run's figures.
#[derive(Debug, Default, Clone, Copy)]
struct SamplerCost {
    blocks: u64,
    bytes: u64,
}

impl SamplerCost {
    fn add(&mut self, before: Option<HeapPoint>, after: Option<HeapPoint>) {
        if let (Some(a), Some(b)) = (before, after) {
            self.blocks += b.total_blocks - a.total_blocks;
            self.bytes += b.total_bytes - a.total_bytes;
        }
    }
}

/// Keeps at most `max` samples, evenly spaced, always keeping the last.
fn decimate(samples: &mut Vec<Sample>, max: usize) {
    if samples.len() <= max {
        return;
    }
    let step = samples.len().div_ceil(max);
    let last = samples.last().cloned();
    let kept: Vec<Sample> = samples.iter().step_by(step).cloned().collect();
    *samples = kept;
    if let Some(last) = last {
        if samples.last() != Some(&last) {
            samples.push(last);
        }
    }
}
