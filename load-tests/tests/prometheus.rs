//! A real Prometheus scrapes a runtime under load and a `load-tests run --metrics`, and PromQL
//! through its HTTP API gives the JSON snapshots' totals exactly, rates within what the scrape
//! interval allows, and the histogram quantile of the last scrape. The Grafana dashboard's
//! queries are the ones run here.
//!
//! Prometheus comes from `prometheus-testkit` (Debian's package, unpacked under the target
//! directory on first use); where it cannot be had the tests fail with "not run" and the fix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agent_core::openmetrics::prometheus_client::registry::Registry;
use agent_core::openmetrics::{encode, ComponentMetrics, RuntimeMetrics, CONTENT_TYPE};
use agent_core::orchestration::{BreakerConfig, Budget, CircuitBreaker, Cost};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Bus, Context, HandlerError, MailboxConfig, OverflowPolicy,
    Pool, PoolConfig, RuntimeConfig, ShutdownConfig,
};
use prometheus_testkit::{PrometheusServer, Sample, Target};

const INTERVAL: Duration = Duration::from_millis(200);
const DASHBOARD: &str = include_str!("../../grafana/agent-core.json");

struct Echo;

impl Agent for Echo {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        if n % 97 == 0 {
            tokio::task::yield_now().await;
        }
        Ok(n)
    }
}

struct Slow;

impl Agent for Slow {
    type Msg = u64;
    type Reply = ();
    async fn handle(&mut self, _n: u64, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_micros(200)).await;
        Ok(())
    }
}

/// Serves `registry` at `http://<returned address>/metrics` from a thread.
fn serve(registry: Registry) -> SocketAddr {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind loopback");
    let address = server.server_addr().to_ip().expect("an IP address");
    let registry = Arc::new(registry);
    std::thread::spawn(move || {
        let header = tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE).unwrap();
        for request in server.incoming_requests() {
            let text = encode(&registry);
            let _ =
                request.respond(tiny_http::Response::from_string(text).with_header(header.clone()));
        }
    });
    address
}

fn start(job: &str, address: &str) -> PrometheusServer {
    let target = Target {
        job: job.to_owned(),
        address: address.to_owned(),
    };
    PrometheusServer::start(&[target], INTERVAL).unwrap_or_else(|e| panic!("{e}"))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn one(samples: &[Sample], query: &str) -> f64 {
    assert_eq!(samples.len(), 1, "{query}: {samples:?}");
    samples[0].value
}

/// Every PromQL expression of the dashboard, by panel title; `$__rate_interval` becomes `window`.
fn dashboard_queries(window: &str) -> Vec<(String, String)> {
    let d: serde_json::Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    d["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            p["targets"].as_array().into_iter().flatten().map(move |t| {
                let expr = t["expr"].as_str().expect("every target has an expr");
                (title.clone(), expr.replace("$__rate_interval", window))
            })
        })
        .collect()
}

fn panel_query(title: &str) -> String {
    dashboard_queries("1m")
        .into_iter()
        .find(|(t, _)| t == title)
        .unwrap_or_else(|| panic!("no panel {title:?} in the dashboard"))
        .1
}

/// The `q` quantile of a histogram's cumulative buckets, interpolated as PromQL's
/// `histogram_quantile` does.
fn quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let total = buckets.last().unwrap().1;
    let rank = q * total;
    let i = buckets.iter().position(|b| b.1 >= rank).unwrap();
    if i == buckets.len() - 1 {
        return buckets[i - 1].0;
    }
    let (lower, below) = if i == 0 { (0.0, 0.0) } else { buckets[i - 1] };
    let (upper, count) = buckets[i];
    lower + (upper - lower) * (rank - below) / (count - below)
}

#[test]
fn prometheus_scrapes_a_runtime_under_load_and_its_totals_equal_the_snapshot() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = tokio.enter();
    let rt = AgentRuntime::new(RuntimeConfig {
        histograms: true,
        ..RuntimeConfig::default()
    });
    let pool = Pool::new(&rt, PoolConfig::new("echoes", 2), || Echo).unwrap();
    let bus: Bus<u64> = Bus::local();
    // Room for far more reservations than the time-bounded loop below can make (one per 50 sends:
    // 100 units ran out after 500,000 sends once sends got faster).
    let budget = Budget::new("llm", Cost::units(1_000_000.0));
    let breaker = CircuitBreaker::new("search", BreakerConfig::default());
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RuntimeMetrics::new(&rt)));
    registry.register_collector(Box::new(
        ComponentMetrics::default()
            .pool(&pool)
            .bus(&bus)
            .budget(&budget)
            .breaker(&breaker),
    ));
    let address = serve(registry);
    let prometheus = start("runtime", &address.to_string());
    prometheus
        .query_until("up{job=\"runtime\"}", Duration::from_secs(20), |s| {
            s.first().is_some_and(|s| s.value == 1.0)
        })
        .unwrap();
    let window_start = unix_now();
    // The counters are all zero until now; the load starts a little after the first scrape.
    std::thread::sleep(INTERVAL * 2);

    let load_started = Instant::now();
    tokio.block_on(async {
        let echoes: Vec<_> = (0..4)
            .map(|_| rt.spawn(AgentConfig::default(), || Echo).unwrap())
            .collect();
        let slow = rt
            .spawn(
                AgentConfig::default()
                    .with_mailbox(MailboxConfig::bounded(8, OverflowPolicy::DropNewest)),
                || Slow,
            )
            .unwrap();
        let sub = bus
            .subscribe("orders", MailboxConfig::default())
            .await
            .unwrap();
        let mut n = 0u64;
        while load_started.elapsed() < Duration::from_millis(1500) {
            for e in &echoes {
                e.tell(n).await.unwrap();
            }
            let _ = slow.try_tell(n);
            if n % 50 == 0 {
                echoes[0].ask(n, Duration::from_secs(5)).await.unwrap();
                bus.publish("orders", n).await.unwrap();
                sub.recv().await.unwrap();
                let r = budget.reserve(Cost::units(0.01)).unwrap();
                r.settle(Cost::units(0.01));
            }
            n += 1;
            if n % 256 == 0 {
                tokio::task::yield_now().await;
            }
        }
        // Quiesce: every message handled, one agent stopped (its counts move to the ended).
        for e in &echoes {
            e.ask(0, Duration::from_secs(5)).await.unwrap();
        }
        slow.stop();
        slow.stopped().await;
        echoes[3].stop();
        echoes[3].stopped().await;
    });
    let quiet = unix_now();
    let snapshot = rt.snapshot();
    let json = serde_json::to_value(&snapshot).unwrap();
    // A scrape made after the quiesce, ingested.
    prometheus
        .query_until(
            "timestamp(agent_core_agents_spawned_total{job=\"runtime\"})",
            Duration::from_secs(20),
            |s| s.first().is_some_and(|s| s.value > quiet + 0.01),
        )
        .unwrap();

    // Totals: the dashboard's stat panels against the JSON snapshot, exactly.
    let m = &json["mailboxes"];
    for (title, want) in [
        ("Messages delivered (total)", &m["delivered"]),
        ("Messages dropped (total)", &m["dropped"]),
    ] {
        let query = panel_query(title);
        let got = one(&prometheus.query(&query).unwrap(), &query);
        assert_eq!(got, want.as_f64().unwrap(), "{title}: {query}");
    }
    assert!(
        m["dropped"].as_u64().unwrap() > 0,
        "the slow agent drops: {m}"
    );
    let conservation = panel_query("Unaccounted messages (conservation: must be 0)");
    assert_eq!(
        one(&prometheus.query(&conservation).unwrap(), &conservation),
        0.0
    );
    for (query, want) in [
        ("sum(agent_core_mailbox_offered_total)", &m["offered"]),
        ("sum(agent_core_mailbox_accepted_total)", &m["accepted"]),
        ("sum(agent_core_handled_total)", &json["handled"]),
        ("sum(agent_core_agents)", &json["agents_live"]),
        ("agent_core_agents_stopped_total", &json["agents_stopped"]),
    ] {
        assert_eq!(
            one(&prometheus.query(query).unwrap(), query),
            want.as_f64().unwrap(),
            "{query}"
        );
    }
    println!(
        "PromQL sum(agent_core_mailbox_delivered_total) = {} ; JSON mailboxes.delivered = {}",
        one(
            &prometheus
                .query("sum(agent_core_mailbox_delivered_total)")
                .unwrap(),
            ""
        ),
        m["delivered"]
    );

    // Rates: the window holds every scrape since the counters were zero; Prometheus
    // extrapolates within it, so the rate lies between total/window and total/(window - two
    // scrape intervals).
    let window = unix_now() - window_start - 0.05;
    let window_ms = (window * 1000.0) as u64;
    let query = format!("sum(rate(agent_core_handled_total{{agent=\"Echo\"}}[{window_ms}ms]))");
    let rate = one(&prometheus.query(&query).unwrap(), &query);
    let total = prometheus
        .query("sum(agent_core_handled_total{agent=\"Echo\"})")
        .unwrap()[0]
        .value;
    let w = window_ms as f64 / 1000.0;
    let (low, high) = (total / w, total / (w - 2.0 * INTERVAL.as_secs_f64()));
    assert!(
        rate >= low * 0.999 && rate <= high * 1.001,
        "{query}: {rate} not in [{low}, {high}]"
    );

    // Quantiles: Prometheus's histogram_quantile over the window equals the one the last
    // scrape's buckets give (rates scale every bucket alike).
    let text = ureq::get(format!("http://{address}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let prefix = "agent_core_queue_time_seconds_bucket{le=\"";
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(prefix) && l.contains("agent=\"Echo\""))
        .map(|l| {
            let le = &l[prefix.len()..l[prefix.len()..].find('"').unwrap() + prefix.len()];
            let value: f64 = l.rsplit(' ').next().unwrap().parse().unwrap();
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                },
                value,
            )
        })
        .collect();
    assert!(buckets.len() > 20, "{text}");
    let want = quantile(0.99, &buckets);
    let query = format!(
        "histogram_quantile(0.99, sum by (le) (rate(agent_core_queue_time_seconds_bucket{{agent=\"Echo\"}}[{window_ms}ms])))"
    );
    let got = one(&prometheus.query(&query).unwrap(), &query);
    assert!(
        (got - want).abs() <= want * 1e-6,
        "{query}: {got} vs {want} from the buckets"
    );

    // Every query of the dashboard runs; all but the NATS ones have data here.
    let queries = dashboard_queries("5s");
    let mut empty = BTreeMap::new();
    for (title, query) in &queries {
        let answer = prometheus
            .query(query)
            .unwrap_or_else(|e| panic!("{title}: {e}"));
        if answer.is_empty() && !title.starts_with("NATS") {
            empty.insert(title.clone(), query.clone());
        }
    }
    assert!(empty.is_empty(), "dashboard panels without data: {empty:?}");
    tokio.block_on(rt.shutdown(ShutdownConfig::default()));
}

#[test]
fn prometheus_scrapes_a_load_run_and_its_figures_equal_the_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.toml");
    std::fs::write(
        &file,
        r#"
[[scenario]]
name = "live_steps"
description = "8 agents x 1000 steps of 2 ms, real clock"
source = "the Prometheus test"
agents = 8
ops_per_agent = 1000
concurrency = 8
message_bytes = 0
clock = "real"
rng_seed = 1
kind = { type = "steps" }
workload = { type = "io", wait_us = 2000 }
arrival = { type = "closed" }
"#,
    )
    .unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap().to_string();
    drop(free);
    let prometheus = start("load", &address);
    // Prometheus takes its targets up a few seconds after it starts; the run begins once it
    // is trying this one (down until the run serves it).
    prometheus
        .query_until("up{job=\"load\"}", Duration::from_secs(20), |s| {
            !s.is_empty()
        })
        .unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_load-tests"))
        .args([
            "run",
            "--quick",
            "--no-progress",
            "--no-instructions",
            "--scenario",
            "live_steps",
        ])
        .arg("--file")
        .arg(&file)
        .arg("--metrics")
        .arg(&address)
        .arg("--out")
        .arg(&out)
        .env_remove("CI")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains(&format!("Metrics: http://{address}/metrics")),
        "{stdout}"
    );
    assert!(!stdout.contains("nobody scraped"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let scenario = &report["results"][0]["report"];
    prometheus
        .query_until("load_tests_run_finished", Duration::from_secs(10), |s| {
            s.first().is_some_and(|s| s.value == 1.0)
        })
        .unwrap();
    let ops = scenario["operations"]["total"].as_f64().unwrap();
    assert_eq!(ops, 8_000.0);
    for (query, want) in [
        ("load_tests_operations_total{scenario=\"live_steps\"}", ops),
        (
            "load_tests_errors_total{scenario=\"live_steps\"}",
            scenario["operations"]["failed"].as_f64().unwrap(),
        ),
        (
            "load_tests_latency_seconds{scenario=\"live_steps\",quantile=\"0.99\"}",
            scenario["latency"]["total"]["p99_ns"].as_f64().unwrap() * 1e-9,
        ),
        (
            "load_tests_queue_max_depth{scenario=\"live_steps\"}",
            scenario["queues"]["max_depth"].as_f64().unwrap(),
        ),
        ("load_tests_scenario_state{scenario=\"live_steps\"}", 2.0),
    ] {
        assert_eq!(
            one(&prometheus.query(query).unwrap(), query),
            want,
            "{query}"
        );
    }
    // The queue depth is live (the runner's sampler): what the scrapes saw never exceeds the
    // deepest the report recorded.
    let depth = prometheus
        .query("max_over_time(load_tests_queue_depth{scenario=\"live_steps\"}[1m])")
        .unwrap();
    assert!(
        one(&depth, "queue depth") <= scenario["queues"]["max_depth"].as_f64().unwrap(),
        "{depth:?}"
    );
    // While it ran, the scrapes saw the operations counter climb (live, not only at the end).
    let seen = prometheus
        .query("count_over_time(load_tests_operations_total{scenario=\"live_steps\"}[1m])")
        .unwrap();
    let climbing = prometheus
        .query("changes(load_tests_operations_total{scenario=\"live_steps\"}[1m])")
        .unwrap();
    assert!(
        one(&climbing, "changes") >= 2.0,
        "scrapes {seen:?}, changes {climbing:?}"
    );
}
