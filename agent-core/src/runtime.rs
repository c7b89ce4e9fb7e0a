//! [`AgentRuntime`]: keeps the registry, the failure log and the runtime-wide counters, and
//! shuts everything down gracefully. Spawning and typed lookups are in `spawn.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio_util::task::TaskTracker;

use crate::health::Health;
use crate::id::AgentId;
use crate::mailbox::{MailboxConfig, MailboxSnapshot};
use crate::metrics::{AgentSnapshot, RuntimeCounters, RuntimeSnapshot};
use crate::registry::{Probe, Registry};
use crate::shared::{AgentShared, Commons};
use crate::supervision::{FailureLog, FailureReport, RestartPolicy};

/// Settings for a whole runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    /// The mailbox an agent gets when its [`AgentConfig`] names none.
    pub default_mailbox: MailboxConfig,
    /// The restart policy an agent gets when its [`AgentConfig`] names none.
    pub default_restart: RestartPolicy,
    /// Which messages' queue and service times are measured; see [`Timing`].
    pub timing: Timing,
    /// How many recent failure reports are kept (the total is always counted).
    pub failure_log_capacity: usize,
    /// Whether the measured messages' queue and handling times, and asks' durations, also go
    /// into per-kind histograms for the OpenMetrics export (feature `openmetrics`; without it
    /// this does nothing). Off by default: the counters are exported either way.
    #[serde(default)]
    pub histograms: bool,
    /// Whether each handled message runs in a `tracing` span (`agent_core::handle`, level INFO,
    /// fields `agent` (its type) and `trace_id` (the W3C trace-id's 32 hex digits), which the
    /// NATS transport carries across processes in the `traceparent` header). Off by default:
    /// a span per message costs an allocation and the subscriber's work.
    #[serde(default)]
    pub trace_spans: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            default_mailbox: MailboxConfig::default(),
            default_restart: RestartPolicy::default(),
            timing: Timing::default(),
            failure_log_capacity: 1024,
            histograms: false,
            trace_spans: false,
        }
    }
}

/// Which messages' queue time (enqueue to handler start) and service time (the handler) the
/// runtime measures.
///
/// A measured message costs three clock reads (about 22 ns each on the reference machine: at the
/// send, at handler start, at handler end; the start is the previous handler's end when the
/// mailbox stayed busy), which is a sizeable share of a fast send path. So by default one tell in
/// 16 is measured, chosen by the mailbox's send count; every ask is, since its deadline needs the
/// clock anyway. A measured message's times are exact (nanosecond readings of tokio's clock, so
/// virtual under a paused clock); the others carry no times at all, and
/// [`crate::Context::queue_time`] is `None` for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// No clock reads for timing; no message is measured.
    Off,
    /// Every ask, and one tell in `every` (1: every tell).
    Sampled {
        /// The sampling period for tells, at least 1.
        every: u32,
    },
}

impl Timing {
    /// Every message measured.
    pub const EVERY_MESSAGE: Timing = Timing::Sampled { every: 1 };

    /// The tell sampling period, `0` when timing is off.
    pub(crate) fn tell_period(self) -> u32 {
        match self {
            Timing::Off => 0,
            Timing::Sampled { every } => every.max(1),
        }
    }
}

impl Default for Timing {
    /// One tell in 16 and every ask.
    fn default() -> Self {
        Timing::Sampled { every: 16 }
    }
}

/// Settings for one agent; unset fields take the runtime's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentConfig {
    /// A unique name to look the agent up by; `None` registers it by id only.
    pub name: Option<String>,
    /// Its mailbox.
    pub mailbox: Option<MailboxConfig>,
    /// Its restart policy.
    pub restart: Option<RestartPolicy>,
}

impl AgentConfig {
    /// An agent registered under `name`.
    pub fn named(name: impl Into<String>) -> AgentConfig {
        AgentConfig {
            name: Some(name.into()),
            ..AgentConfig::default()
        }
    }

    /// This config with the given mailbox.
    pub fn with_mailbox(mut self, mailbox: MailboxConfig) -> AgentConfig {
        self.mailbox = Some(mailbox);
        self
    }

    /// This config with the given restart policy.
    pub fn with_restart(mut self, restart: RestartPolicy) -> AgentConfig {
        self.restart = Some(restart);
        self
    }
}

/// The multi-agent runtime. Cheap to clone; every clone is the same runtime.
#[derive(Clone, Debug)]
pub struct AgentRuntime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: RuntimeConfig,
    registry: Registry,
    tracker: TaskTracker,
    accepting: AtomicBool,
    failures: FailureLog,
    counters: RuntimeCounters,
    retired: Mutex<Retired>,
    commons: Arc<Commons>,
    #[cfg(feature = "openmetrics")]
    kinds: crate::openmetrics::kind::Kinds,
}

/// Runtime-wide counters that need no walk over the agents.
#[cfg(feature = "openmetrics")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuntimeTotals {
    pub(crate) agents_spawned: u64,
    pub(crate) agents_stopped: u64,
    pub(crate) agents_failed: u64,
    pub(crate) failures_reported: u64,
}

/// Totals carried over from agents that have ended, so runtime snapshots still account for them.
#[derive(Debug)]
struct Retired {
    mailboxes: MailboxSnapshot,
    handled: u64,
    restarts: u64,
    panics: u64,
    /// A metrics collector is attached: ended agents are also added to their kinds.
    #[cfg(feature = "openmetrics")]
    exporting: bool,
}

impl Default for AgentRuntime {
    fn default() -> Self {
        AgentRuntime::new(RuntimeConfig::default())
    }
}

impl AgentRuntime {
    /// A runtime with `config`. Agents run on whichever tokio runtime [`AgentRuntime::spawn`] is
    /// called from.
    pub fn new(config: RuntimeConfig) -> AgentRuntime {
        AgentRuntime {
            inner: Arc::new(Inner {
                failures: FailureLog::new(config.failure_log_capacity),
                config,
                registry: Registry::default(),
                tracker: TaskTracker::new(),
                accepting: AtomicBool::new(true),
                counters: RuntimeCounters::default(),
                retired: Mutex::new(Retired {
                    mailboxes: MailboxSnapshot::total([]),
                    handled: 0,
                    restarts: 0,
                    panics: 0,
                    #[cfg(feature = "openmetrics")]
                    exporting: false,
                }),
                commons: Arc::default(),
                #[cfg(feature = "openmetrics")]
                kinds: Default::default(),
            }),
        }
    }

    /// Whether `other` is a handle on this same runtime.
    pub fn same_as(&self, other: &AgentRuntime) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The configuration this runtime was made with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// The health of a live agent; `None` once it has ended and left the registry.
    pub fn health(&self, id: AgentId) -> Option<Health> {
        self.inner.registry.get(id).map(|p| p.health())
    }

    /// How many agents are live (registered and not yet ended).
    pub fn len(&self) -> usize {
        self.inner.registry.len()
    }

    /// Whether no agent is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`AgentRuntime::shutdown`] has begun.
    pub fn is_shutting_down(&self) -> bool {
        !self.inner.accepting.load(Ordering::Acquire)
    }

    /// Totals over every agent this runtime has run, live and ended.
    pub fn snapshot(&self) -> RuntimeSnapshot {
        let live: Vec<AgentSnapshot> = self.agent_snapshots();
        let retired = self.lock_retired();
        let mut mailboxes = retired.mailboxes;
        let (mut handled, mut restarts, mut panics) =
            (retired.handled, retired.restarts, retired.panics);
        drop(retired);
        for a in &live {
            mailboxes.absorb(&a.mailbox);
            handled += a.handled;
            restarts += a.restarts;
            panics += a.panics;
        }
        let c = &self.inner.counters;
        RuntimeSnapshot {
            agents_spawned: c.spawned.load(Ordering::Relaxed),
            agents_live: live.len() as u64,
            agents_stopped: c.stopped.load(Ordering::Relaxed),
            agents_failed: c.failed.load(Ordering::Relaxed),
            failures_reported: self.inner.failures.total(),
            mailboxes,
            handled,
            restarts,
            panics,
        }
    }

    /// Messages pending in every live agent's mailbox, summed from lock-free counters: cheap, and
    /// allocation-free, so it can be sampled often (monitoring, load-test time series).
    pub fn pending_messages(&self) -> u64 {
        self.inner.registry.sum(|p| p.pending())
    }

    /// One snapshot per live agent.
    pub fn agent_snapshots(&self) -> Vec<AgentSnapshot> {
        self.inner
            .registry
            .all()
            .iter()
            .map(|p| p.snapshot())
            .collect()
    }

    /// The most recent failure reports, oldest first.
    pub fn failures(&self) -> Vec<FailureReport> {
        self.inner.failures.recent()
    }

    pub(crate) fn report_failure(&self, report: FailureReport) {
        self.inner.failures.push(report);
    }

    pub(crate) fn retire<M, R, K: 'static>(&self, cell: &AgentShared<M, R, K>, health: Health) {
        // Leaving the registry and joining the retired totals happen under one lock, which a
        // metrics scrape holds while it reads both: an agent is counted once, live or ended.
        let mut retired = self.lock_retired();
        self.inner.registry.deregister(cell.id);
        let last = cell.snapshot();
        retired.mailboxes.absorb(&last.mailbox);
        retired.handled += last.handled;
        retired.restarts += last.restarts;
        retired.panics += last.panics;
        // Under the same lock as the attach that sets it: each ended agent is in its kind or
        // in what ended before the export, never both or neither.
        #[cfg(feature = "openmetrics")]
        if retired.exporting {
            self.inner
                .kinds
                .of(std::any::type_name::<K>())
                .retire(&last);
        }
        drop(retired);
        let counter = match health {
            Health::Failed => &self.inner.counters.failed,
            _ => &self.inner.counters.stopped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether new agents are accepted (false once shutdown began).
    pub(crate) fn accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub(crate) fn count_spawned(&self) {
        self.inner.counters.spawned.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stop_accepting(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }

    pub(crate) fn probes(&self) -> Vec<Arc<dyn Probe>> {
        self.inner.registry.all()
    }

    #[cfg(feature = "openmetrics")]
    pub(crate) fn kinds(&self) -> &crate::openmetrics::kind::Kinds {
        &self.inner.kinds
    }

    /// From now on, ended agents are added to their kinds; what ended before goes to
    /// [`crate::openmetrics::kind::ENDED_BEFORE_EXPORT`] once.
    #[cfg(feature = "openmetrics")]
    pub(crate) fn start_export(&self) {
        let mut retired = self.lock_retired();
        if retired.exporting {
            return;
        }
        retired.exporting = true;
        if retired.mailboxes.offered + retired.handled + retired.restarts + retired.panics > 0 {
            self.inner
                .kinds
                .ended_before_export(crate::openmetrics::kind::KindTally {
                    mailbox: retired.mailboxes,
                    handled: retired.handled,
                    restarts: retired.restarts,
                    panics: retired.panics,
                    ..Default::default()
                });
        }
    }

    /// Runs `read` with no agent retiring meanwhile (see [`AgentRuntime::retire`]).
    #[cfg(feature = "openmetrics")]
    pub(crate) fn with_retirements_paused<T>(&self, read: impl FnOnce() -> T) -> T {
        let _paused = self.lock_retired();
        read()
    }

    #[cfg(feature = "openmetrics")]
    pub(crate) fn counters(&self) -> RuntimeTotals {
        let c = &self.inner.counters;
        RuntimeTotals {
            agents_spawned: c.spawned.load(Ordering::Relaxed),
            agents_stopped: c.stopped.load(Ordering::Relaxed),
            agents_failed: c.failed.load(Ordering::Relaxed),
            failures_reported: self.inner.failures.total(),
        }
    }

    pub(crate) fn commons(&self) -> &Arc<Commons> {
        &self.inner.commons
    }

    pub(crate) fn tracker(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    fn lock_retired(&self) -> std::sync::MutexGuard<'_, Retired> {
        self.inner
            .retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
