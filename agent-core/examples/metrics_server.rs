//! Serves a runtime's metrics at http://127.0.0.1:9464/metrics (or the address given as the
//! first argument) while agents of three kinds handle messages; scrape it with Prometheus
//! (`grafana/agent-core.json` is a dashboard for it).
//!
//! ```sh
//! cargo run --release -p agent-core --features openmetrics --example metrics_server
//! curl -s localhost:9464/metrics | head
//! ```
//!
//! With `--agents N` it spawns N idle agents of five kinds, scrapes once, prints the time and
//! size of that scrape, and exits (the README's figure for 100,000 agents).

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_core::openmetrics::prometheus_client::registry::Registry;
use agent_core::openmetrics::{encode, ComponentMetrics, RuntimeMetrics, CONTENT_TYPE};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, MailboxConfig, OverflowPolicy, Pool,
    PoolConfig, RuntimeConfig,
};

struct Greeter;
struct Counter(u64);
struct Idle<const N: usize>;

impl Agent for Greeter {
    type Msg = String;
    type Reply = String;
    async fn handle(
        &mut self,
        name: String,
        _ctx: &mut Context<Self>,
    ) -> Result<String, HandlerError> {
        Ok(format!("hello, {name}"))
    }
}

impl Agent for Counter {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        self.0 += n;
        tokio::time::sleep(Duration::from_micros(50)).await;
        Ok(self.0)
    }
}

impl<const N: usize> Agent for Idle<N> {
    type Msg = ();
    type Reply = ();
    async fn handle(&mut self, _: (), _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn spawn_idle(rt: &AgentRuntime, agents: usize) -> Result<(), Box<dyn std::error::Error>> {
    let config = || {
        AgentConfig::default().with_mailbox(MailboxConfig::bounded(4, OverflowPolicy::default()))
    };
    for i in 0..agents {
        match i % 5 {
            0 => drop(rt.spawn(config(), || Idle::<0>)?),
            1 => drop(rt.spawn(config(), || Idle::<1>)?),
            2 => drop(rt.spawn(config(), || Idle::<2>)?),
            3 => drop(rt.spawn(config(), || Idle::<3>)?),
            _ => drop(rt.spawn(config(), || Idle::<4>)?),
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = AgentRuntime::new(RuntimeConfig {
        histograms: true,
        ..RuntimeConfig::default()
    });
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RuntimeMetrics::new(&rt)));

    if let Some(i) = args.iter().position(|a| a == "--agents") {
        let agents: usize = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .ok_or("--agents needs a number")?;
        spawn_idle(&rt, agents)?;
        let mut runs = Vec::new();
        let mut bytes = 0;
        for _ in 0..5 {
            let started = Instant::now();
            bytes = encode(&registry).len();
            runs.push(started.elapsed());
        }
        runs.sort();
        println!(
            "scrape of {agents} agents: median {:.1} ms of 5, {bytes} bytes",
            runs[2].as_secs_f64() * 1e3
        );
        return Ok(());
    }

    let pool = Pool::new(&rt, PoolConfig::new("counters", 4), || Counter(0))?;
    registry.register_collector(Box::new(ComponentMetrics::default().pool(&pool)));
    let greeter = rt.spawn(AgentConfig::named("greeter"), || Greeter)?;
    tokio::spawn(async move {
        for n in 0u64.. {
            let _ = greeter
                .ask(format!("visitor {n}"), Duration::from_secs(1))
                .await;
            if let Ok(lease) = pool.acquire(Duration::from_secs(1)).await {
                let _ = lease.tell(n).await;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });

    let address = args.first().map(String::as_str).unwrap_or("127.0.0.1:9464");
    let server =
        tiny_http::Server::http(address).map_err(|e| format!("cannot listen on {address}: {e}"))?;
    println!("serving http://{address}/metrics");
    let registry = Arc::new(registry);
    // tiny_http is synchronous: requests are served on a thread of their own.
    tokio::task::spawn_blocking(move || {
        let header =
            tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE).expect("a valid header");
        for request in server.incoming_requests() {
            let response = if request.url() == "/metrics" {
                tiny_http::Response::from_string(encode(&registry)).with_header(header.clone())
            } else {
                tiny_http::Response::from_string("see /metrics\n").with_status_code(404)
            };
            let _ = request.respond(response);
        }
    })
    .await?;
    Ok(())
}
