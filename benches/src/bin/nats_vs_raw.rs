//! agent-core's JetStream transport against the raw `async-nats` client, on the same server in
//! the same process, rounds interleaved: publish-to-acknowledgement throughput and latency, and
//! delivery latency (publish to a consumer's receipt, acknowledged).
//!
//! ```text
//! cargo run --release -p benches --features nats --bin nats-vs-raw -- [--messages N] [--publishers C] [--rounds R] [--nats URL]
//! ```
//!
//! Both sides do the same work per message: JSON-encode a 256-byte payload, publish it with a
//! message id, wait for the stream's acknowledgement (C publishers at once, each one message at
//! a time), and on the consumer side receive, decode and acknowledge it. Target (issue 12):
//! ours at least 0.9x the raw client's throughput and at most 1.1x its p50.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use agent_core::bus::nats::{NatsConfig, NatsTransport};
use agent_core::TraceId;
use async_nats::jetstream::{self, consumer::pull, stream};
use benches::stats::median;
use clap::Parser;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about = "agent-core's JetStream transport vs the raw async-nats client")]
struct Args {
    /// Messages per round and side.
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    /// Concurrent publishers (each waits for its message's acknowledgement before the next).
    #[arg(long, default_value_t = 32)]
    publishers: u64,
    /// Rounds per side, interleaved (raw, ours, raw, ours, ...).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// An existing server; by default one is started (nats-testkit: NATS_SERVER_BIN, PATH, or the
    /// project's own copy, installed on first use).
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    seq: u64,
    sent_ns: u64,
    body: String,
}

fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// One side's round.
#[derive(Clone, Copy, Debug)]
struct Round {
    per_s: f64,
    ack_p50_us: f64,
    ack_p99_us: f64,
    delivery_p50_us: f64,
    delivery_p99_us: f64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

fn payload(seq: u64) -> Payload {
    Payload {
        seq,
        sent_ns: now_ns(),
        body: "x".repeat(256),
    }
}

/// Publishes `n` messages from `c` tasks with `publish`, while `consume` receives them; returns
/// the round's figures.
async fn round<P, PF, R>(
    n: u64,
    c: u64,
    publish: P,
    consume: tokio::task::JoinHandle<Histogram<u64>>,
) -> Round
where
    P: Fn(u64) -> PF + Send + Sync + 'static,
    PF: std::future::Future<Output = R> + Send,
    R: Send,
{
    let publish = Arc::new(publish);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..c)
        .map(|_| {
            let (publish, next) = (Arc::clone(&publish), Arc::clone(&next));
            tokio::spawn(async move {
                let mut h = histogram();
                loop {
                    let seq = next.fetch_add(1, Ordering::Relaxed);
                    if seq >= n {
                        return h;
                    }
                    let t = Instant::now();
                    publish(seq).await;
                    h.record(t.elapsed().as_nanos().max(1) as u64).ok();
                }
            })
        })
        .collect();
    let mut acks = histogram();
    for t in tasks {
        acks.add(t.await.expect("publisher")).ok();
    }
    let elapsed = started.elapsed();
    let delivery = consume.await.expect("consumer");
    Round {
        per_s: n as f64 / elapsed.as_secs_f64(),
        ack_p50_us: acks.value_at_quantile(0.5) as f64 / 1e3,
        ack_p99_us: acks.value_at_quantile(0.99) as f64 / 1e3,
        delivery_p50_us: delivery.value_at_quantile(0.5) as f64 / 1e3,
        delivery_p99_us: delivery.value_at_quantile(0.99) as f64 / 1e3,
    }
}

async fn raw_round(js: &jetstream::Context, r: usize, n: u64, c: u64) -> Round {
    let subject = format!("raw.r{r}");
    let stream = js
        .get_or_create_stream(stream::Config {
            name: format!("RAW{r}"),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .expect("raw stream");
    let consumer: jetstream::consumer::PullConsumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("raw".into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_ack_pending: 1024,
            ..Default::default()
        })
        .await
        .expect("raw consumer");
    let consume = tokio::spawn(async move {
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(1024)
            .messages()
            .await
            .expect("raw messages");
        let mut h = histogram();
        for _ in 0..n {
            let m = messages.next().await.expect("open").expect("message");
            let p: Payload = serde_json::from_slice(&m.payload).expect("json");
            h.record(now_ns().saturating_sub(p.sent_ns).max(1)).ok();
            m.ack().await.expect("ack");
        }
        h
    });
    let js = js.clone();
    // Ids unique across rounds: a stream drops an id it already holds (the de-duplication window).
    round(
        n,
        c,
        move |seq| {
            let (js, subject) = (js.clone(), subject.clone());
            async move {
                let body = serde_json::to_vec(&payload(seq)).expect("json");
                let message = jetstream::message::PublishMessage::build()
                    .payload(bytes::Bytes::from(body))
                    .message_id(format!("raw-r{r}-{seq}"));
                js.send_publish(subject, message)
                    .await
                    .expect("publish")
                    .await
                    .expect("ack")
            }
        },
        consume,
    )
    .await
}

async fn our_round(nats: &Arc<NatsTransport<Payload>>, r: usize, n: u64, c: u64) -> Round {
    let topic = format!("ours.r{r}");
    let group = nats
        .group(&topic, &format!("ours{r}"), 1024)
        .await
        .expect("group");
    let consume = tokio::spawn(async move {
        let mut h = histogram();
        for _ in 0..n {
            let d = group.recv().await.expect("open");
            h.record(now_ns().saturating_sub(d.msg().sent_ns).max(1))
                .ok();
            d.ack().await.expect("ack");
        }
        h
    });
    let nats = Arc::clone(nats);
    round(
        n,
        c,
        move |seq| {
            let (nats, topic) = (Arc::clone(&nats), topic.clone());
            async move {
                let id = format!("ours-r{r}-{seq}");
                nats.publish_with_id(&topic, &id, &payload(seq), TraceId(seq))
                    .await
                    .expect("publish")
            }
        },
        consume,
    )
    .await
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let _server;
        let url = match &args.nats {
            Some(url) => url.clone(),
            None => {
                let s = nats_testkit::NatsServer::start().unwrap_or_else(|e| {
                    eprintln!("nats-vs-raw: {e}");
                    std::process::exit(2)
                });
                let url = s.url();
                _server = s;
                url
            }
        };
        let client = async_nats::connect(&url).await.unwrap_or_else(|e| {
            eprintln!("nats-vs-raw: cannot connect to {url}: {e}");
            std::process::exit(2)
        });
        let js = jetstream::new(client);
        let nats = Arc::new(
            NatsTransport::<Payload>::connect(NatsConfig::new(url.clone()))
                .await
                .unwrap_or_else(|e| {
                    eprintln!("nats-vs-raw: {e}");
                    std::process::exit(2)
                }),
        );
        // A warm-up round each, not counted.
        raw_round(&js, 0, args.messages / 10, args.publishers).await;
        our_round(&nats, 0, args.messages / 10, args.publishers).await;
        let (mut raw, mut ours) = (Vec::new(), Vec::new());
        for r in 1..=args.rounds {
            raw.push(raw_round(&js, r, args.messages, args.publishers).await);
            ours.push(our_round(&nats, r, args.messages, args.publishers).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "{} messages x {} rounds, {} publishers, server {url}",
            args.messages, args.rounds, args.publishers
        );
        println!(
            "{:<6} {:>12} {:>10} {:>10} {:>13} {:>13}",
            "side", "msgs/s", "ack p50", "ack p99", "deliver p50", "deliver p99"
        );
        for (name, rounds) in [("raw", &raw), ("ours", &ours)] {
            let m = |f: fn(&Round) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
            println!(
                "{name:<6} {:>12.0} {:>8.0}us {:>8.0}us {:>11.0}us {:>11.0}us",
                m(|r| r.per_s),
                m(|r| r.ack_p50_us),
                m(|r| r.ack_p99_us),
                m(|r| r.delivery_p50_us),
                m(|r| r.delivery_p99_us)
            );
        }
        // Per-round ratios (each round's pair ran back to back), then their median.
        let ratio = |f: fn(&Round) -> f64| {
            median(
                &raw.iter()
                    .zip(&ours)
                    .map(|(a, b)| f(b) / f(a))
                    .collect::<Vec<_>>(),
            )
        };
        let throughput = ratio(|r| r.per_s);
        let ack_p50 = ratio(|r| r.ack_p50_us);
        let delivery_p50 = ratio(|r| r.delivery_p50_us);
        println!(
            "ours / raw (median of per-round ratios): throughput {throughput:.3}x (target >= 0.9), \
             ack p50 {ack_p50:.3}x (target <= 1.1), delivery p50 {delivery_p50:.3}x (target <= 1.1)"
        );
    });
}
