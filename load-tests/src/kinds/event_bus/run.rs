//! The eventbus driver: paced publishers (one topic each), subscribers that check every event
//! arrives once and in order, delivery latency from the event's own send time, and the backlog
//! (local mailboxes plus, on NATS, the consumers' lag on the server) sampled as it goes.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use agent_core::bus::nats::NatsTransport;
use agent_core::bus::{LocalTransport, Transport};
use agent_core::{Bus, MailboxConfig};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{BusTransport, EventBus};
use crate::distributed::RunServer;
use crate::drive::context::{DriverOutput, RunContext, RunError};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::format::{ms, rate};
use crate::gate::Gate;
use crate::kinds::rules::{Figures, FullScale, Rules};
use crate::metrics::{stripes, Tallies};
use crate::report::{paths, Delivery, Report};
use crate::scenario::Scenario;

/// Events a subscriber received again (the broker redelivered one it had already taken).
pub(crate) const DUPLICATES: &str = "duplicates";
/// Events still queued or unacknowledged once every subscriber had all of its events.
pub(crate) const FINAL_LAG: &str = "final_lag";
/// The largest backlog sampled: local mailboxes plus the server's undelivered and
/// unacknowledged events.
pub(crate) const MAX_LAG: &str = "max_lag";
/// Milliseconds from the last publish to the last event received (how long the backlog takes
/// to clear).
pub(crate) const DRAIN_MS: &str = "drain_ms";
/// The rate the publishers achieved, events per second.
pub(crate) const PUBLISHED_PER_S: &str = "published_per_s";
/// Publishes the bus refused.
pub(crate) const PUBLISH_FAILED: &str = "publish_failed";

/// How long subscribers may take to receive everything after the last publish.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How often the backlog is sampled.
const LAG_EVERY: Duration = Duration::from_millis(100);

/// One event: who published it, its number, and when (microseconds on this process's clock).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Event {
    publisher: u32,
    seq: u64,
    sent_us: u64,
}

/// Microseconds since this process first asked; publishers and subscribers share the process.
fn now_us() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_micros() as u64
}

/// What a bus offers beyond [`Transport`]: the backlog only its server sees.
trait Broker: Transport<Event> {
    fn server_lag(&self) -> impl Future<Output = u64> + Send;
    /// Whether the local mailboxes' delivered counts are the subscribers' (no redelivery).
    const EXACT_MAILBOX_COUNTS: bool;
}

impl Broker for LocalTransport<Event> {
    async fn server_lag(&self) -> u64 {
        0
    }
    const EXACT_MAILBOX_COUNTS: bool = true;
}

impl Broker for NatsTransport<Event> {
    async fn server_lag(&self) -> u64 {
        match self.snapshot_all().await {
            Ok(s) => s.consumers.iter().map(|c| c.pending + c.ack_pending).sum(),
            // A server that does not answer cannot say; the next sample will.
            Err(_) => 0,
        }
    }
    const EXACT_MAILBOX_COUNTS: bool = false;
}

impl Drive for EventBus {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        match self.transport {
            BusTransport::Local => self.on(ctx, Bus::local()).await,
            BusTransport::Nats => {
                let connected = match RunServer::for_run(&ctx.options) {
                    Ok(server) => {
                        let config = crate::distributed::nats_config(server.url());
                        NatsTransport::connect(config)
                            .await
                            .map(|nats| (server, nats))
                            .map_err(|e| e.to_string())
                    }
                    Err(reason) => Err(reason),
                };
                match connected {
                    // The server (when the run started it) lives until the run ends.
                    Ok((_server, nats)) => self.on(ctx, Bus::with_transport(nats)).await,
                    Err(reason) => {
                        eprintln!("{}: {reason}", ctx.scenario.name);
                        self.unavailable(&reason)
                    }
                }
            }
        }
    }
}

/// What one subscriber saw.
struct Seen {
    distinct: u64,
    duplicates: u64,
    out_of_order: u64,
    last_at: Instant,
}

impl EventBus {
    /// Every event counted missing, under a cause that names why.
    fn unavailable(&self, reason: &str) -> DriverOutput {
        let mut out = DriverOutput::default();
        let expected = self.events() * self.subscribers as u64;
        out.ops
            .record_n(Err(&format!("nats_unavailable: {reason}")), expected);
        out.delivery = Some(Delivery {
            sent: expected,
            lost: expected,
            ..Delivery::default()
        });
        out
    }

    async fn on<T: Broker>(&self, ctx: &Arc<RunContext>, bus: Bus<Event, T>) -> DriverOutput {
        let tallies = Arc::new(Tallies::new(stripes(ctx.scenario.clock)));
        let mut subscribers = Vec::new();
        for (p, _) in self.rates_per_s.iter().enumerate() {
            for _ in 0..self.subscribers {
                let sub = match bus
                    .subscribe(&format!("events.p{p}"), MailboxConfig::default())
                    .await
                {
                    Ok(sub) => sub,
                    Err(e) => return self.unavailable(&e.to_string()),
                };
                let expected = self.events_of(p);
                let tallies = Arc::clone(&tallies);
                let key = subscribers.len();
                subscribers.push(tokio::spawn(async move {
                    let mut seen = vec![false; expected as usize];
                    let mut out = Seen {
                        distinct: 0,
                        duplicates: 0,
                        out_of_order: 0,
                        last_at: Instant::now(),
                    };
                    let mut last = None;
                    while out.distinct < expected {
                        let Some(env) = sub.recv().await else { break };
                        let e = env.msg;
                        let latency = Duration::from_micros(now_us().saturating_sub(e.sent_us));
                        tallies.with(key, |t| t.latency.record_total(latency));
                        let Some(slot) = seen.get_mut(e.seq as usize) else {
                            continue;
                        };
                        if *slot {
                            out.duplicates += 1;
                            continue;
                        }
                        *slot = true;
                        out.distinct += 1;
                        if last.is_some_and(|l| e.seq < l) {
                            out.out_of_order += 1;
                        }
                        last = Some(e.seq);
                        out.last_at = Instant::now();
                    }
                    // Done: the last message is handled too (over NATS, acknowledged now).
                    sub.settle();
                    out
                }));
            }
        }

        let lag_now = Arc::new(AtomicU64::new(0));
        let max_lag = Arc::new(AtomicU64::new(0));
        let sampling = Arc::new(AtomicBool::new(true));
        {
            let lag_now = Arc::clone(&lag_now);
            ctx.watch_depth(Arc::new(move || lag_now.load(Ordering::Relaxed)));
        }
        let sampler = {
            let (bus, lag_now, max_lag, sampling) = (
                bus.clone(),
                Arc::clone(&lag_now),
                Arc::clone(&max_lag),
                Arc::clone(&sampling),
            );
            tokio::spawn(async move {
                while sampling.load(Ordering::Relaxed) {
                    let lag = backlog(&bus).await;
                    lag_now.store(lag, Ordering::Relaxed);
                    max_lag.fetch_max(lag, Ordering::Relaxed);
                    tokio::time::sleep(LAG_EVERY).await;
                }
            })
        };

        let started = Instant::now();
        let failed = Arc::new(AtomicU64::new(0));
        let publishers: Vec<_> = self
            .rates_per_s
            .iter()
            .enumerate()
            .map(|(p, &rate_per_s)| {
                let (bus, ctx, failed) = (bus.clone(), Arc::clone(ctx), Arc::clone(&failed));
                let events = self.events_of(p);
                tokio::spawn(async move {
                    let topic = format!("events.p{p}");
                    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate_per_s));
                    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    for seq in 0..events {
                        pace.tick().await;
                        let event = Event {
                            publisher: p as u32,
                            seq,
                            sent_us: now_us(),
                        };
                        if bus.publish(&topic, event).await.is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        ctx.done(1);
                    }
                })
            })
            .collect();
        for p in publishers {
            p.await.expect("publisher task");
        }
        let published_at = Instant::now();
        let publish_s = (published_at - started).as_secs_f64();

        let deadline = published_at + DRAIN_LIMIT;
        let mut seen = Vec::new();
        for mut s in subscribers {
            let got = match tokio::time::timeout_at(deadline, &mut s).await {
                Ok(got) => got,
                Err(_) => {
                    // Past the limit: close, so each subscriber ends with what it has.
                    bus.close();
                    s.await
                }
            };
            seen.push(got.expect("subscriber task"));
        }
        sampling.store(false, Ordering::Relaxed);
        sampler.await.expect("lag sampler");
        // Acknowledgements of the last events may still be on their way to the server.
        let settle_by = Instant::now() + Duration::from_secs(3);
        let mut final_lag = backlog(&bus).await;
        while final_lag > 0 && Instant::now() < settle_by {
            tokio::time::sleep(Duration::from_millis(50)).await;
            final_lag = backlog(&bus).await;
        }
        lag_now.store(final_lag, Ordering::Relaxed);

        let mut out = DriverOutput::default();
        let sent = self.events() * self.subscribers as u64;
        let delivered: u64 = seen.iter().map(|s| s.distinct).sum();
        let last_at = seen.iter().map(|s| s.last_at).max().unwrap_or(published_at);
        let counted: u64 = bus
            .snapshot()
            .topics
            .iter()
            .map(|t| t.mailboxes.delivered)
            .sum();
        out.delivery = Some(Delivery {
            sent,
            delivered,
            lost: sent - delivered,
            out_of_order: seen.iter().map(|s| s.out_of_order).sum(),
            counted_delivered: T::EXACT_MAILBOX_COUNTS.then_some(counted),
            ..Delivery::default()
        });
        out.ops.record_n(Ok(()), delivered);
        out.ops.record_n(Err("event_missing"), sent - delivered);
        out.latency = tallies.merged().latency;
        out.max_depth = max_lag.load(Ordering::Relaxed);
        let duplicates: u64 = seen.iter().map(|s| s.duplicates).sum();
        for (key, value) in [
            (DUPLICATES, duplicates as f64),
            (FINAL_LAG, final_lag as f64),
            (MAX_LAG, out.max_depth as f64),
            (
                DRAIN_MS,
                last_at
                    .saturating_duration_since(published_at)
                    .as_secs_f64()
                    * 1e3,
            ),
            (PUBLISHED_PER_S, self.events() as f64 / publish_s.max(1e-9)),
            (PUBLISH_FAILED, failed.load(Ordering::Relaxed) as f64),
        ] {
            out.extra.insert(key.into(), value);
        }
        bus.close();
        out
    }
}

/// Events queued in local mailboxes plus those the server has not delivered or not seen
/// acknowledged.
async fn backlog<T: Broker>(bus: &Bus<Event, T>) -> u64 {
    let local: u64 = bus
        .snapshot()
        .topics
        .iter()
        .map(|t| t.mailboxes.pending)
        .sum();
    local + bus.transport().server_lag().await
}

impl Rules for EventBus {
    fn needs_network(&self) -> bool {
        self.transport == BusTransport::Nats
    }

    fn check(&self, s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        if self.rates_per_s.is_empty() {
            return l.invalid("kind.rates_per_s", "needs at least one publisher".into());
        }
        for &r in &self.rates_per_s {
            l.rate("kind.rates_per_s", r)?;
        }
        l.positive("kind.publish_ms", self.publish_ms)?;
        l.seconds("kind.publish_ms", self.publish_ms, 1_000)?;
        l.count("kind.subscribers", self.subscribers)?;
        if s.total_ops() != self.events() {
            return l.invalid(
                "ops_per_agent",
                format!(
                    "agents x ops_per_agent must be the events the rates and duration make: \
                     agents = 1, ops_per_agent = {}",
                    self.events()
                ),
            );
        }
        Ok(())
    }

    fn figures(&self) -> Figures {
        // Latency and time are real and reported; only counts are gated.
        Figures {
            exact_totals: true,
            takes_time: false,
            latency: false,
            split_latency: false,
            queues: false,
        }
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_DELIVERED),
            Gate::exact(paths::DELIVERY_LOST),
            Gate::exact(paths::DELIVERY_OUT_OF_ORDER),
            Gate::extra(DUPLICATES),
            Gate::extra(FINAL_LAG),
            Gate::extra(PUBLISH_FAILED),
        ]
    }

    /// Held `scale.hold_s` when given (the published minute with `--hold-secs 60`, named
    /// `_full`; otherwise named `_<N>s`).
    fn full_scale(&self, s: &Scenario, scale: &FullScale) -> Option<Scenario> {
        let hold_s = scale.hold_s?;
        let hold_ms = hold_s * 1000;
        if self.publish_ms >= hold_ms {
            return None;
        }
        let kind = EventBus {
            publish_ms: hold_ms,
            ..self.clone()
        };
        Some(Scenario {
            name: if hold_s == FullScale::PUBLISHED_HOLD_S {
                format!("{}_full", s.name)
            } else {
                format!("{}_{hold_s}s", s.name)
            },
            description: s.description.replace(
                &format!("{} s", self.publish_ms as f64 / 1000.0),
                &format!("{hold_s} s"),
            ),
            ops_per_agent: kind.events() as usize,
            agents: 1,
            kind: crate::scenario::Kind::EventBus(kind),
            ..s.clone()
        })
    }

    /// The publishing rate is the schedule's.
    fn restated(&self, _s: &Scenario) -> Vec<String> {
        vec![format!("extra.{PUBLISHED_PER_S}")]
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "{} events/s, delivery p95 {} (real time), backlog at most {}",
            rate(crate::kinds::rules::extra(r, PUBLISHED_PER_S)),
            ms(r.latency.total.p95_ns),
            crate::kinds::rules::extra(r, MAX_LAG)
        )
    }
}
