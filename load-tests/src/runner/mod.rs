//! Runs a scenario against agent-core and assembles its [`Report`]: the driver named by the
//! scenario's kind does the work; this module measures around it (clock, heap, OS figures, time
//! series) and checks the scenario before it starts.

mod agents;
mod breaker;
mod calibrate;
mod contention;
pub mod limits;
mod llm_calls;
mod messaging;
mod modes;
mod orchestration;
mod overflow;
mod overhead;
mod pool;
mod scheduled;
mod startup;
mod state;
mod steps;
mod streaming;

pub use limits::validate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_core::AgentRuntime;
use thiserror::Error;

use crate::metrics::LatencyRecorder;
use crate::report::{
    Calibration, Delivery, Environment, Operations, PoolReport, QueueReport, Report, Sample,
    SCHEMA_VERSION,
};
use crate::resources::{heap_now, HeapPoint, HeapReport, OsPoint, OsReport};
use crate::scenario::{Clock, Kind, Scenario};

/// How a run is carried out, beyond the scenario itself.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Interleaved rounds for real-time scenarios compared with a calibration (default 7; the
    /// reported ratio is their median).
    pub rounds: Option<u32>,
    /// Called with the operations completed so far (for progress bars).
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Set to stop the run early; the report is then marked partial.
    pub stop: Option<Arc<AtomicBool>>,
    /// A run whose instructions are being counted ([`crate::instructions`]): real-time drivers
    /// do their traffic once, without the raw tokio calibration rounds.
    pub counting: bool,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("rounds", &self.rounds)
            .field("counting", &self.counting)
            .finish_non_exhaustive()
    }
}

/// A scenario that cannot run as written.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum RunError {
    /// A field is out of range; names the scenario and the field.
    #[error("scenario {scenario:?}: field `{field}`: {problem}")]
    Invalid {
        /// The scenario.
        scenario: String,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// What a driver measured; the runner adds time, heap and OS figures around it.
#[derive(Debug, Default)]
pub(crate) struct DriverOutput {
    pub(crate) ops: Operations,
    pub(crate) latency: LatencyRecorder,
    pub(crate) delivery: Option<Delivery>,
    pub(crate) pool: Option<PoolReport>,
    pub(crate) calibration: Option<Calibration>,
    pub(crate) extra: BTreeMap<String, f64>,
    pub(crate) max_depth: u64,
    /// Overrides the measured elapsed time (for drivers that run several rounds and report one).
    pub(crate) elapsed: Option<Duration>,
}

/// Shared between the runner, its driver and the sampler.
pub(crate) struct RunContext {
    pub(crate) scenario: Scenario,
    pub(crate) options: RunOptions,
    ops_done: AtomicU64,
    watched: Mutex<Vec<AgentRuntime>>,
}

impl RunContext {
    /// Counts `n` completed operations (for the time series and progress).
    pub(crate) fn done(&self, n: u64) {
        let total = self.ops_done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(progress) = &self.options.progress {
            progress(total);
        }
    }

    /// Adds a runtime whose mailboxes the sampler sums for the queue-depth series.
    pub(crate) fn watch(&self, runtime: &AgentRuntime) {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(runtime.clone());
    }

    /// Whether the run was asked to stop early.
    pub(crate) fn stopping(&self) -> bool {
        self.options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    pub(crate) fn rounds(&self) -> u32 {
        self.options.rounds.unwrap_or(7).max(1)
    }

    /// Messages pending in every watched runtime; allocation-free, so sampling does not show up
    /// in the run's heap figures.
    fn queue_depth(&self) -> u64 {
        self.watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(AgentRuntime::pending_messages)
            .sum()
    }
}

/// Runs `scenario` on the current tokio runtime, which must match its clock: a current-thread
/// runtime with a paused clock for [`Clock::Virtual`], a multi-threaded one for [`Clock::Real`]
/// (see [`runtime_for`]).
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<Report, RunError> {
    validate(scenario)?;
    let ctx = Arc::new(RunContext {
        scenario: scenario.clone(),
        options: options.clone(),
        ops_done: AtomicU64::new(0),
        watched: Mutex::new(Vec::new()),
    });

    OsPoint::reset_peak_rss();
    let os_start = OsPoint::now();
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
    let out = match &scenario.kind {
        Kind::Steps | Kind::Sequential { .. } => steps::run(&ctx).await,
        Kind::Messaging => messaging::run(&ctx).await,
        Kind::Streaming { .. } => streaming::run(&ctx).await,
        Kind::PoolExhaustion { .. } => pool::run(&ctx).await,
        Kind::QueueOverflow { .. } => overflow::run(&ctx).await,
        Kind::Startup { .. } => startup::run(&ctx).await,
        Kind::MonitoringOverhead => overhead::run(&ctx).await,
        Kind::Contention { .. } => contention::run(&ctx).await,
        Kind::Orchestration => orchestration::run(&ctx).await,
        Kind::LlmConcurrency { .. } => llm_calls::run(&ctx).await,
        Kind::ScheduledDay { .. } => scheduled::run(&ctx).await,
        Kind::StatePersistence => state::run(&ctx).await,
        Kind::Breaker { .. } => breaker::run(&ctx).await,
        Kind::Modes { .. } => modes::run(&ctx).await,
    };
    let elapsed = out.elapsed.unwrap_or_else(|| start.elapsed());
    sampling.store(false, Ordering::Relaxed);
    let (mut samples, mut sampler_cost) = sampler.await.unwrap_or_default();
    // Every watched runtime's mailboxes, ended agents included, must account for every message.
    // What the check allocates is the harness's: measured and taken out like the sampler's.
    let before_check = heap_now();
    let conserved = ctx
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
    let os_end = OsPoint::now();
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
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.source.clone(),
        config: scenario.clone(),
        environment: Environment::current(),
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
        calibration: out.calibration,
        extra: out.extra,
        samples,
        instructions: None,
    })
}

/// A tokio runtime matching `clock`: current-thread with a paused clock for virtual time,
/// multi-threaded (one worker per core) for real time.
pub fn runtime_for(clock: Clock) -> std::io::Result<tokio::runtime::Runtime> {
    match clock {
        Clock::Virtual => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build(),
        Clock::Real => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
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
    while running.load(Ordering::Relaxed) {
        // What taking a sample allocates is the harness's, not the run's: it is measured and
        // subtracted (exactly so on the single-threaded virtual clock).
        let before = heap_now();
        let queue_depth = ctx.queue_depth();
        cost.add(before, heap_now());
        samples.push(Sample {
            t_ms: start.elapsed().as_secs_f64() * 1e3,
            ops_done: ctx.ops_done.load(Ordering::Relaxed),
            queue_depth,
            heap_live_bytes: heap_now().map(|h| h.live_bytes),
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
