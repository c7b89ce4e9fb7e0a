//! `run --metrics ADDR`: the run's figures in the OpenMetrics text format at
//! `http://ADDR/metrics` while it runs. Per scenario: operations done (live, from the progress
//! counter the bars read), queue depth and live heap (live, from the runner's time-series
//! sampler), its state, and once it finishes the figures its JSON report gives
//! (operations, errors, latency percentiles, deepest queue, heap, CPU): a scrape after a
//! scenario ends and the report agree exactly. The process's own CPU time is live too.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agent_core::openmetrics::prometheus_client::collector::Collector;
use agent_core::openmetrics::prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use agent_core::openmetrics::prometheus_client::metrics::MetricType;
use agent_core::openmetrics::prometheus_client::registry::{Registry, Unit};
use agent_core::openmetrics::{encode, CONTENT_TYPE};

use crate::engine::{Observer, ScenarioResult};
use crate::report::Report;
use crate::scenario::Scenario;

/// The figures of one scenario.
#[derive(Debug)]
struct ScenarioFigures {
    name: String,
    /// 0 waiting, 1 running, 2 done.
    state: AtomicU8,
    ops: Arc<AtomicU64>,
    /// The last sample's queue depth and live heap bytes (`u64::MAX`: none yet).
    depth: Arc<AtomicU64>,
    heap: Arc<AtomicU64>,
    last: Mutex<Option<Report>>,
}

/// The whole run's figures, shared by the observer and the server.
#[derive(Debug)]
struct Figures {
    scenarios: Vec<ScenarioFigures>,
    finished: AtomicBool,
    scrapes_after_finish: AtomicU64,
}

/// The live endpoint and what it serves.
pub(super) struct Live {
    figures: Arc<Figures>,
    address: SocketAddr,
}

impl Live {
    /// Binds `address` and serves the figures of `scenarios` from a thread of its own.
    pub(super) fn serve(address: SocketAddr, scenarios: &[Scenario]) -> Result<Live, String> {
        let figures = Arc::new(Figures {
            scenarios: scenarios
                .iter()
                .map(|s| ScenarioFigures {
                    name: s.name.clone(),
                    state: AtomicU8::new(0),
                    ops: Arc::default(),
                    depth: Arc::new(AtomicU64::new(u64::MAX)),
                    heap: Arc::new(AtomicU64::new(u64::MAX)),
                    last: Mutex::new(None),
                })
                .collect(),
            finished: AtomicBool::new(false),
            scrapes_after_finish: AtomicU64::new(0),
        });
        let mut registry = Registry::default();
        registry.register_collector(Box::new(FiguresCollector(Arc::clone(&figures))));
        let registry = Arc::new(registry);
        let server = tiny_http::Server::http(address)
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        let address = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("{address} is not an IP address"))?;
        let (r, f) = (Arc::clone(&registry), Arc::clone(&figures));
        std::thread::spawn(move || {
            let header = tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE)
                .expect("a valid header");
            for request in server.incoming_requests() {
                let finished = f.finished.load(Ordering::Acquire);
                let response = if request.url() == "/metrics" {
                    tiny_http::Response::from_string(encode(&r)).with_header(header.clone())
                } else {
                    tiny_http::Response::from_string("see /metrics\n").with_status_code(404)
                };
                let _ = request.respond(response);
                if finished {
                    f.scrapes_after_finish.fetch_add(1, Ordering::Release);
                }
            }
        });
        Ok(Live { figures, address })
    }

    /// Where it listens (the port chosen when ADDR's was 0).
    pub(super) fn address(&self) -> SocketAddr {
        self.address
    }

    /// The observer that feeds it, passing everything on to `inner`.
    pub(super) fn observe<'a>(&'a self, inner: &'a mut dyn Observer) -> LiveObserver<'a> {
        LiveObserver {
            live: self,
            inner,
            current: None,
        }
    }

    /// Marks the run finished and waits (at most `patience`) for one scrape of the final
    /// figures, so that a scraper sees them before the process exits. Returns whether one came.
    pub(super) fn finish(&self, patience: Duration) -> bool {
        self.figures.finished.store(true, Ordering::Release);
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if self.figures.scrapes_after_finish.load(Ordering::Acquire) > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// Feeds [`Live`] from the suite's observer calls.
pub(super) struct LiveObserver<'a> {
    live: &'a Live,
    inner: &'a mut dyn Observer,
    current: Option<usize>,
}

impl Observer for LiveObserver<'_> {
    fn start(&mut self, index: usize, total: usize, scenario: &Scenario, ops: u64) {
        self.inner.start(index, total, scenario, ops);
        // `index` counts the scenarios that run; find this one by name (no allocation).
        self.current = self
            .live
            .figures
            .scenarios
            .iter()
            .position(|s| s.name == scenario.name);
        if let Some(s) = self.current.map(|i| &self.live.figures.scenarios[i]) {
            s.state.store(1, Ordering::Relaxed);
        }
    }

    fn progress(&mut self) -> Option<Arc<dyn Fn(u64) + Send + Sync>> {
        let inner = self.inner.progress();
        let ops = self
            .current
            .map(|i| Arc::clone(&self.live.figures.scenarios[i].ops));
        Some(Arc::new(move |n| {
            if let Some(ops) = &ops {
                ops.store(n, Ordering::Relaxed);
            }
            if let Some(inner) = &inner {
                inner(n);
            }
        }))
    }

    fn sampled(&mut self) -> Option<crate::drive::context::SampleSink> {
        let s = &self.live.figures.scenarios[self.current?];
        let (depth, heap) = (Arc::clone(&s.depth), Arc::clone(&s.heap));
        Some(Arc::new(move |d, h| {
            depth.store(d, Ordering::Relaxed);
            if let Some(h) = h {
                heap.store(h, Ordering::Relaxed);
            }
        }))
    }

    fn finish(&mut self, result: &ScenarioResult) {
        if let Some(s) = self.current.take().map(|i| &self.live.figures.scenarios[i]) {
            s.ops
                .store(result.report.operations.total, Ordering::Relaxed);
            *s.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(result.report.clone());
            s.state.store(2, Ordering::Release);
        }
        self.inner.finish(result);
    }

    fn counting(&mut self, total: usize) -> Option<Arc<dyn Fn() + Send + Sync>> {
        self.inner.counting(total)
    }
}

/// Reads one figure from a scenario's report, if it has it.
type Figure = fn(&Report) -> Option<f64>;

/// The collector over [`Figures`].
#[derive(Debug)]
struct FiguresCollector(Arc<Figures>);

impl Collector for FiguresCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let f = &self.0;
        encoder
            .encode_descriptor(
                "load_tests_run_finished",
                "1 once every selected scenario has run.",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&u64::from(f.finished.load(Ordering::Acquire)))?;
        encoder
            .encode_descriptor(
                "load_tests_process_cpu",
                "CPU time (user and system) of the load-tests process so far.",
                Some(&Unit::Seconds),
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, f64, f64>(&process_cpu_seconds(), None)?;
        let done: Vec<(&str, Report)> = f
            .scenarios
            .iter()
            .filter_map(|s| {
                let last = s.last.lock().unwrap_or_else(PoisonError::into_inner);
                last.clone().map(|r| (s.name.as_str(), r))
            })
            .collect();
        let mut m = encoder.encode_descriptor(
            "load_tests_scenario_state",
            "0 waiting, 1 running, 2 done.",
            None,
            MetricType::Gauge,
        )?;
        for s in &f.scenarios {
            m.encode_family(&[("scenario", s.name.as_str())])?
                .encode_gauge(&u64::from(s.state.load(Ordering::Acquire)))?;
        }
        let mut m = encoder.encode_descriptor(
            "load_tests_operations",
            "Operations done (live while the scenario runs; its report's total once done).",
            None,
            MetricType::Counter,
        )?;
        for s in &f.scenarios {
            m.encode_family(&[("scenario", s.name.as_str())])?
                .encode_counter::<NoLabelSet, u64, f64>(&s.ops.load(Ordering::Relaxed), None)?;
        }
        for (name, help, unit, get) in [
            (
                "load_tests_queue_depth",
                "Messages queued in the scenario's runtime at its last sample (live).",
                None,
                (|s| &s.depth) as fn(&ScenarioFigures) -> &Arc<AtomicU64>,
            ),
            (
                "load_tests_heap_live",
                "Live heap at the last sample (live; only where this process counts the heap).",
                Some(Unit::Bytes),
                |s| &s.heap,
            ),
        ] {
            let mut m = encoder.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
            for s in &f.scenarios {
                let v = get(s).load(Ordering::Relaxed);
                if v != u64::MAX {
                    m.encode_family(&[("scenario", s.name.as_str())])?
                        .encode_gauge(&v)?;
                }
            }
        }
        type Get = fn(&Report) -> u64;
        let counters: [(&str, &str, Get); 2] = [
            (
                "load_tests_operations_succeeded",
                "Operations that succeeded.",
                |r| r.operations.succeeded,
            ),
            ("load_tests_errors", "Operations that failed.", |r| {
                r.operations.failed
            }),
        ];
        for (name, help, get) in counters {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (scenario, r) in &done {
                m.encode_family(&[("scenario", *scenario)])?
                    .encode_counter::<NoLabelSet, u64, f64>(&get(r), None)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "load_tests_latency",
            "The scenario's end-to-end latency percentiles (HdrHistogram), from its report.",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for (scenario, r) in &done {
            let l = &r.latency.total;
            for (q, ns) in [
                ("0.5", l.p50_ns),
                ("0.9", l.p90_ns),
                ("0.95", l.p95_ns),
                ("0.99", l.p99_ns),
                ("0.999", l.p999_ns),
                ("1", l.max_ns),
            ] {
                m.encode_family(&[("scenario", *scenario), ("quantile", q)])?
                    .encode_gauge(&(ns as f64 * 1e-9))?;
            }
        }
        let gauges: [(&str, &str, Option<Unit>, Figure); 4] = [
            (
                "load_tests_queue_max_depth",
                "The deepest queue during the scenario.",
                None,
                |r| Some(r.queues.max_depth as f64),
            ),
            (
                "load_tests_heap_peak",
                "Peak live heap (counted by the allocator), when profiled.",
                Some(Unit::Bytes),
                |r| r.heap.as_ref().map(|h| h.peak_live_bytes as f64),
            ),
            (
                "load_tests_heap_allocated",
                "Bytes allocated during the scenario, when profiled.",
                Some(Unit::Bytes),
                |r| r.heap.as_ref().map(|h| h.allocated_bytes as f64),
            ),
            (
                "load_tests_scenario_cpu",
                "CPU time (user and system) the scenario used.",
                Some(Unit::Seconds),
                |r| Some(r.os.cpu_user_s + r.os.cpu_sys_s),
            ),
        ];
        for (name, help, unit, get) in gauges {
            let mut m = encoder.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
            for (scenario, r) in &done {
                if let Some(v) = get(r) {
                    m.encode_family(&[("scenario", *scenario)])?
                        .encode_gauge(&v)?;
                }
            }
        }
        Ok(())
    }
}

/// This process's user and system CPU time, from `getrusage`.
fn process_cpu_seconds() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_SELF)
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 * 1e-6;
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or(0.0)
}
