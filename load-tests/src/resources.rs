//! Process resources: heap counted by dhat's allocator (never RSS deltas), RSS, CPU time and
//! open file descriptors, read from the OS.
//!
//! Heap figures exist only when the binary installs `dhat::Alloc` as its global allocator and a
//! profiler is running ([`HeapProfiler::start`]); otherwise they are `None`, never zero.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

static PROFILING: AtomicBool = AtomicBool::new(false);

/// A running dhat heap profiler. One per process at a time; drop it to stop.
#[derive(Debug)]
pub struct HeapProfiler {
    _inner: dhat::Profiler,
}

impl HeapProfiler {
    /// Starts counting heap operations, if this binary's global allocator is dhat's; `None`
    /// otherwise (or if a profiler is already running).
    pub fn start() -> Option<HeapProfiler> {
        if PROFILING.swap(true, Ordering::SeqCst) {
            return None;
        }
        let inner = match std::env::var_os("LOAD_TESTS_DHAT_FILE") {
            Some(file) => dhat::Profiler::builder()
                .file_name(format!("{}.{}", file.to_string_lossy(), std::process::id()))
                .build(),
            None => dhat::Profiler::builder().testing().build(),
        };
        // If the allocator is not dhat's, a fresh allocation is not seen.
        let before = dhat::HeapStats::get().total_blocks;
        let probe = std::hint::black_box(Box::new(0u64));
        drop(probe);
        if dhat::HeapStats::get().total_blocks == before {
            drop(inner);
            PROFILING.store(false, Ordering::SeqCst);
            return None;
        }
        Some(HeapProfiler { _inner: inner })
    }
}

impl Drop for HeapProfiler {
    fn drop(&mut self) {
        PROFILING.store(false, Ordering::SeqCst);
    }
}

/// Waits until the process's main thread is asleep (Linux; elsewhere returns at once).
///
/// The heap profiler counts every thread's allocations. Under libtest, the main thread allocates
/// a few blocks (its bookkeeping of the running test) right after it starts the test's thread,
/// then blocks until the test ends; on a loaded machine those allocations can land inside the
/// measured run. Waiting for the main thread to block makes allocation counts exact.
pub fn wait_for_main_thread_to_sleep() {
    if std::thread::current().name() == Some("main") {
        return;
    }
    let path = format!("/proc/self/task/{}/stat", std::process::id());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let Ok(stat) = std::fs::read_to_string(&path) else {
            return;
        };
        // The state follows the command name, which is in parentheses and may contain spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if state != Some("R") {
            return;
        }
        std::thread::yield_now();
    }
}

/// Heap counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapPoint {
    /// Bytes ever allocated.
    pub total_bytes: u64,
    /// Blocks ever allocated.
    pub total_blocks: u64,
    /// Bytes live now.
    pub live_bytes: u64,
    /// Blocks live now.
    pub live_blocks: u64,
    /// The most bytes live at once since the profiler started.
    pub peak_bytes: u64,
}

/// The heap now, if a profiler is running.
pub fn heap_now() -> Option<HeapPoint> {
    if !PROFILING.load(Ordering::SeqCst) {
        return None;
    }
    let s = dhat::HeapStats::get();
    Some(HeapPoint {
        total_bytes: s.total_bytes,
        total_blocks: s.total_blocks,
        live_bytes: s.curr_bytes as u64,
        live_blocks: s.curr_blocks as u64,
        peak_bytes: s.max_bytes as u64,
    })
}

/// Heap use over one run, in the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeapReport {
    /// Bytes allocated during the run.
    pub allocated_bytes: u64,
    /// Blocks allocated during the run.
    pub allocated_blocks: u64,
    /// `allocated_bytes / operations`.
    pub allocated_bytes_per_op: f64,
    /// `allocated_blocks / operations`.
    pub allocated_blocks_per_op: f64,
    /// The most bytes live at once during the run, above what was live at its start.
    pub peak_live_bytes: u64,
    /// Bytes still live after the run's teardown, above what was live at its start. This
    /// includes the harness's own small result maps (error kinds, extra figures); the leak
    /// scenario measures leaks exactly, inside its driver, as `extra.leaked_bytes`.
    pub live_bytes_at_end: i64,
    /// Blocks still live after teardown, above what was live at its start.
    pub live_blocks_at_end: i64,
}

impl HeapReport {
    /// The difference between two points, over `ops` operations. `peak` is the profiler's peak
    /// read at the end; the profiler should have started with the run for it to be the run's.
    pub fn between(start: HeapPoint, end: HeapPoint, ops: u64) -> HeapReport {
        let allocated_bytes = end.total_bytes - start.total_bytes;
        let allocated_blocks = end.total_blocks - start.total_blocks;
        let per = |v: u64| if ops == 0 { 0.0 } else { v as f64 / ops as f64 };
        HeapReport {
            allocated_bytes,
            allocated_blocks,
            allocated_bytes_per_op: per(allocated_bytes),
            allocated_blocks_per_op: per(allocated_blocks),
            peak_live_bytes: end.peak_bytes.saturating_sub(start.live_bytes),
            live_bytes_at_end: end.live_bytes as i64 - start.live_bytes as i64,
            live_blocks_at_end: end.live_blocks as i64 - start.live_blocks as i64,
        }
    }
}

/// OS-level figures at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OsPoint {
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// Peak RSS since the last reset, bytes.
    pub rss_peak_bytes: u64,
    /// CPU time in user mode.
    pub user: Duration,
    /// CPU time in kernel mode.
    pub sys: Duration,
    /// Open file descriptors.
    pub fds: u64,
}

impl OsPoint {
    /// Reads the figures now. Missing sources (not Linux) read as zero.
    pub fn now() -> OsPoint {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(0, |v| v * 1024)
        };
        let (user, sys) =
            match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF) {
                Ok(u) => (timeval(u.user_time()), timeval(u.system_time())),
                Err(_) => (Duration::ZERO, Duration::ZERO),
            };
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        OsPoint {
            rss_bytes: kib("VmRSS:"),
            rss_peak_bytes: kib("VmHWM:"),
            user,
            sys,
            fds,
        }
    }

    /// Resets the peak RSS so that the next reading's peak belongs to what runs after this
    /// (Linux `clear_refs`; silently does nothing where unsupported).
    pub fn reset_peak_rss() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

fn timeval(t: nix::sys::time::TimeVal) -> Duration {
    Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
}

/// OS figures over one run, in the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsReport {
    /// RSS when the run started.
    pub rss_start_bytes: u64,
    /// Peak RSS during the run (process peak, reset at the run's start where the OS allows).
    pub rss_peak_bytes: u64,
    /// User CPU time the process spent during the run.
    pub cpu_user_s: f64,
    /// System CPU time the process spent during the run.
    pub cpu_sys_s: f64,
    /// `(user + sys) / elapsed wall time`: 1.0 is one core busy.
    pub cpu_cores_used: f64,
    /// Open file descriptors at the start.
    pub fds_start: u64,
    /// Open file descriptors at the end.
    pub fds_end: u64,
}

impl OsReport {
    /// The difference between two points over `wall` wall-clock time.
    pub fn between(start: OsPoint, end: OsPoint, wall: Duration) -> OsReport {
        let user = end.user.saturating_sub(start.user).as_secs_f64();
        let sys = end.sys.saturating_sub(start.sys).as_secs_f64();
        let wall = wall.as_secs_f64();
        OsReport {
            rss_start_bytes: start.rss_bytes,
            rss_peak_bytes: end.rss_peak_bytes.max(start.rss_bytes),
            cpu_user_s: user,
            cpu_sys_s: sys,
            cpu_cores_used: if wall > 0.0 { (user + sys) / wall } else { 0.0 },
            fds_start: start.fds,
            fds_end: end.fds,
        }
    }
}

/// What this process used so far, or over a stretch (`getrusage`, every thread): CPU time and
/// context switches. A voluntary switch is a thread that gave up its core to wait (a parked
/// tokio worker, a contended lock, a sleep), an involuntary one a thread the kernel preempted:
/// waiting that neither instructions nor CPU time show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// User and system CPU time.
    pub(crate) cpu: std::time::Duration,
    /// Voluntary context switches.
    pub(crate) voluntary_switches: u64,
    /// Involuntary context switches.
    pub(crate) involuntary_switches: u64,
}

impl Usage {
    /// The process's usage so far.
    pub(crate) fn now() -> Usage {
        use nix::sys::resource::{getrusage, UsageWho};
        getrusage(UsageWho::RUSAGE_SELF).map_or(Usage::default(), |u| Usage {
            cpu: process_cpu_of(&u),
            voluntary_switches: u.voluntary_context_switches().max(0) as u64,
            involuntary_switches: u.involuntary_context_switches().max(0) as u64,
        })
    }

    /// What was used since `start` (an earlier [`Usage::now`]).
    pub(crate) fn since(start: Usage) -> Usage {
        let end = Usage::now();
        Usage {
            cpu: end.cpu.saturating_sub(start.cpu),
            voluntary_switches: end
                .voluntary_switches
                .saturating_sub(start.voluntary_switches),
            involuntary_switches: end
                .involuntary_switches
                .saturating_sub(start.involuntary_switches),
        }
    }
}

impl std::iter::Sum for Usage {
    fn sum<I: Iterator<Item = Usage>>(iter: I) -> Usage {
        iter.fold(Usage::default(), |a, b| Usage {
            cpu: a.cpu + b.cpu,
            voluntary_switches: a.voluntary_switches + b.voluntary_switches,
            involuntary_switches: a.involuntary_switches + b.involuntary_switches,
        })
    }
}

fn process_cpu_of(u: &nix::sys::resource::Usage) -> std::time::Duration {
    use std::time::Duration;
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec().max(0) as u64)
            + Duration::from_micros(t.tv_usec().max(0) as u64)
    };
    tv(u.user_time()) + tv(u.system_time())
}

/// This process's CPU time so far, user and system, all threads (`getrusage`).
pub(crate) fn process_cpu() -> std::time::Duration {
    Usage::now().cpu
}
