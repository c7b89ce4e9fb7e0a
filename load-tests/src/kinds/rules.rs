//! What every kind decides about its scenarios, as two traits each kind implements in its
//! `run.rs`: `Drive` (its driver) and [`Rules`] (its checks, gated metrics, invariants,
//! counting and full-scale forms, headline). Defaults here are the common case; a kind overrides
//! what differs.

use std::sync::Arc;

use super::Kind;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::format::{ms, rate};
use crate::gate::Gate;
use crate::report::Report;
use crate::scenario::{Clock, Scenario};

/// Which of the common figures a kind produces, and so which of them are gated: a figure the kind
/// never records would be gated at zero, a gate that cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figures {
    /// Operation totals are the scenario's own (false when the driver repeats its traffic until
    /// a round lasts long enough to measure, so totals depend on the machine).
    pub exact_totals: bool,
    /// The run takes time on its clock (elapsed and throughput are gated).
    pub takes_time: bool,
    /// It records end-to-end latency per operation.
    pub latency: bool,
    /// It records queue wait and service time separately.
    pub split_latency: bool,
    /// Its runtimes are watched for queue depth.
    pub queues: bool,
}

impl Figures {
    /// Totals, time, latency and queues; no queue/service split.
    pub const COMMON: Figures = Figures {
        exact_totals: true,
        takes_time: true,
        latency: true,
        split_latency: false,
        queues: true,
    };
}

/// How long the full-scale run holds its sustained loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullScale {
    /// Seconds of the open-loop sustained load on the virtual clock (seed 000 published 180).
    pub sustained_s: u64,
    /// Seconds the EventBus's real-time loads are held (seed 002 published 60), or `None` to
    /// hold them as the test suite does (a few seconds), which keeps the whole run short.
    pub hold_s: Option<u64>,
}

impl FullScale {
    /// Seed 000's sustained load: three minutes.
    pub const PUBLISHED_SUSTAINED_S: u64 = 180;
    /// Seed 002's EventBus burst: a minute.
    pub const PUBLISHED_HOLD_S: u64 = 60;
}

/// The most operations a counted virtual-clock scenario runs.
pub const COUNTED_OPS: usize = 2_000;

/// The most messages a counted messaging round sends.
pub const COUNTED_MESSAGES: usize = 10_000;

/// A kind's rules.
pub trait Rules {
    /// Checks the kind's own parameters (the common fields are checked before).
    fn check(&self, _s: &Scenario, _limits: &Limits<'_>) -> Result<(), RunError> {
        Ok(())
    }

    /// Whether its driver talks to a server over the network (its runtime then has tokio's I/O
    /// driver).
    fn needs_network(&self) -> bool {
        false
    }

    /// Whether it acts on the server itself (pauses or kills it), so it cannot run against a
    /// server given with `--nats`.
    fn needs_own_server(&self) -> bool {
        false
    }

    /// The common figures this kind produces.
    fn figures(&self) -> Figures {
        Figures::COMMON
    }

    /// The kind's own gated metrics (the common ones follow from [`Rules::figures`]).
    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        Vec::new()
    }

    /// What a run of this kind must hold whatever its baseline says; each broken promise is
    /// pushed to `broken`. Only complete runs are judged here.
    fn invariants(&self, _r: &Report, _broken: &mut Vec<String>) {}

    /// The form whose instructions are counted, or `None` for a kind whose cost is not the
    /// runtime's. By default: virtual-clock scenarios shortened to [`COUNTED_OPS`], real-time
    /// ones not counted.
    fn counting_form(&self, s: &Scenario) -> Option<Scenario> {
        (s.clock == Clock::Virtual).then(|| capped(s, COUNTED_OPS))
    }

    /// The scenario at its published report's full scale, when the suite runs it smaller.
    fn full_scale(&self, _s: &Scenario, _scale: &FullScale) -> Option<Scenario> {
        None
    }

    /// The kind's own figures (dotted paths, or prefixes ending in `.`) that restate the
    /// scenario's inputs; the virtual clock's time figures are added for every kind (see
    /// [`model_checks`]).
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        Vec::new()
    }

    /// The run's figures in one line, for the summary beside the published report's claim.
    fn headline(&self, r: &Report) -> String {
        ops_and_p95(r)
    }
}

/// The figures of a run of `s` that restate its inputs: on the virtual clock, every time figure
/// (elapsed, throughput, latency), then what the kind adds ([`Rules::restated`]).
pub fn model_checks(s: &Scenario) -> Vec<String> {
    let mut m = Vec::new();
    if s.clock == Clock::Virtual {
        m.extend(
            [
                crate::report::paths::ELAPSED_S,
                crate::report::paths::THROUGHPUT,
                "latency.",
            ]
            .map(String::from),
        );
    }
    m.extend(s.kind.rules().restated(s));
    m
}

/// A headline of throughput and p95 latency.
pub(crate) fn ops_and_p95(r: &Report) -> String {
    format!(
        "{} ops/s, p95 {} ({})",
        rate(r.throughput_ops_per_s),
        ms(r.latency.total.p95_ns),
        clock(r)
    )
}

/// The form of `scenario` whose instructions are counted, or `None` for scenarios whose cost is
/// not the runtime's (disk latency, CPU burn, timing on vs off). Every counting form runs on a
/// current-thread runtime with a paused clock, shortened where long (valgrind runs a debug build
/// some 50 times slower than native).
pub fn counting_form(scenario: &Scenario) -> Option<Scenario> {
    scenario.kind.rules().counting_form(scenario)
}

/// `s` with at most `max` operations in total.
pub(crate) fn capped(s: &Scenario, max: usize) -> Scenario {
    let mut s = s.clone();
    if s.agents * s.ops_per_agent > max {
        s.ops_per_agent = (max / s.agents.max(1)).max(1);
    }
    s
}

/// How a headline names the clock its figures are on.
pub(crate) fn clock(r: &Report) -> &'static str {
    match r.clock {
        Clock::Virtual => "virtual clock",
        Clock::Real => "real time",
    }
}

/// The value of `extra.<key>` (NaN when absent, so a headline shows it is missing).
pub(crate) fn extra(r: &Report, key: &str) -> f64 {
    r.extra.get(key).copied().unwrap_or(f64::NAN)
}

/// A headline of how many operations succeeded and one latency percentile.
pub(crate) fn success_and(r: &Report, p95: bool) -> String {
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

/// Declares the dispatch from [`Kind`] to each kind's rules and driver, from
/// `kind_list!` in `kinds/mod.rs`.
macro_rules! declare_dispatch {
    (
        run_alone { $( $(#[$doc:meta])* $variant:ident($module:ident::$ty:ident), )* }
        needs_its_test { $( $(#[$tdoc:meta])* $tvariant:ident($tmodule:ident::$tty:ident), )* }
    ) => {
        /// The parameters of a kind the runner drives by itself.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum Standalone<'a> {
            $( $variant(&'a super::$module::$ty), )*
        }

        impl Drive for Standalone<'_> {
            async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
                match self {
                    $( Standalone::$variant(k) => k.drive(ctx).await, )*
                }
            }
        }

        impl Kind {
            /// The kind's rules.
            pub(crate) fn rules(&self) -> &dyn Rules {
                match self {
                    $( Kind::$variant(k) => k, )*
                    $( Kind::$tvariant(k) => k, )*
                }
            }

            /// The kind's driver, or `None` for a kind only its own test can drive.
            pub(crate) fn standalone(&self) -> Option<Standalone<'_>> {
                match self {
                    $( Kind::$variant(k) => Some(Standalone::$variant(k)), )*
                    $( Kind::$tvariant(_) => None, )*
                }
            }
        }
    };
}

kind_list!(declare_dispatch);
