//! The OpenMetrics export: series per agent kind (never per agent), totals equal to the JSON
//! snapshots, histograms of the measured messages, and the components' families.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agent_core::openmetrics::prometheus_client::registry::Registry;
use agent_core::openmetrics::{encode, ComponentMetrics, RuntimeMetrics};
use agent_core::orchestration::{BreakerConfig, Budget, CircuitBreaker, Cost};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Bus, Context, HandlerError, MailboxConfig, OverflowPolicy,
    Pool, PoolConfig, RuntimeConfig, ShutdownConfig, Timing,
};
use common::Summer;

/// Agents of five types, by const parameter.
struct Kind<const N: usize>;

impl<const N: usize> Agent for Kind<N> {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        Ok(n)
    }
}

/// Every sample of `text` as `name{labels}` -> value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line has a value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn scrape(runtime: &AgentRuntime) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RuntimeMetrics::new(runtime)));
    encode(&registry)
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> u64 {
    let v = samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series}"));
    *v as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_agents_of_five_kinds_export_five_series_per_metric() {
    const AGENTS: usize = 100_000;
    let rt = AgentRuntime::default();
    let config = || {
        AgentConfig::default().with_mailbox(MailboxConfig::bounded(4, OverflowPolicy::default()))
    };
    for i in 0..AGENTS {
        let spawned = match i % 5 {
            0 => rt.spawn(config(), || Kind::<0>).map(|_| ()),
            1 => rt.spawn(config(), || Kind::<1>).map(|_| ()),
            2 => rt.spawn(config(), || Kind::<2>).map(|_| ()),
            3 => rt.spawn(config(), || Kind::<3>).map(|_| ()),
            _ => rt.spawn(config(), || Kind::<4>).map(|_| ()),
        };
        spawned.unwrap();
    }
    let started = Instant::now();
    let text = scrape(&rt);
    let took = started.elapsed();
    eprintln!(
        "scrape of {AGENTS} agents: {:.1} ms, {} bytes, {} lines",
        took.as_secs_f64() * 1e3,
        text.len(),
        text.lines().count()
    );
    let s = samples(&text);
    let live: Vec<_> = s
        .iter()
        .filter(|(k, _)| k.starts_with("agent_core_agents{"))
        .collect();
    assert_eq!(live.len(), 5, "{live:?}");
    for n in 0..5 {
        assert_eq!(
            value(&s, &format!("agent_core_agents{{agent=\"Kind<{n}>\"}}")),
            20_000
        );
    }
    let delivered = s
        .keys()
        .filter(|k| k.starts_with("agent_core_mailbox_delivered_total{"))
        .count();
    assert_eq!(delivered, 5);
    assert!(!text.contains("agent#"), "no series names an agent id");
    assert!(text.lines().count() < 400, "{} lines", text.lines().count());
    rt.shutdown(ShutdownConfig::default()).await;
}

#[tokio::test]
async fn the_scrape_totals_equal_the_runtime_snapshot_including_ended_agents() {
    let rt = AgentRuntime::default();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RuntimeMetrics::new(&rt)));
    let sums: Vec<_> = (0..3)
        .map(|_| {
            rt.spawn(
                AgentConfig::default()
                    .with_mailbox(MailboxConfig::bounded(2, OverflowPolicy::DropNewest)),
                Summer::default,
            )
            .unwrap()
        })
        .collect();
    for round in 0..50u64 {
        for s in &sums {
            // Unawaited bursts overflow the two-slot mailboxes: some are dropped.
            let _ = s.try_tell(round);
        }
        if round % 7 == 0 {
            tokio::task::yield_now().await;
        }
    }
    sums[0].ask(0, Duration::from_secs(1)).await.unwrap();
    sums[1].stop();
    sums[1].stopped().await;
    let snap = rt.snapshot();
    let s = samples(&encode(&registry));
    let kind = "{agent=\"Summer\"}";
    let m = &snap.mailboxes;
    for (name, want) in [
        ("agent_core_mailbox_offered_total", m.offered),
        ("agent_core_mailbox_accepted_total", m.accepted),
        ("agent_core_mailbox_rejected_total", m.rejected),
        ("agent_core_mailbox_delivered_total", m.delivered),
        ("agent_core_mailbox_dropped_total", m.dropped),
        ("agent_core_mailbox_abandoned_total", m.abandoned),
        ("agent_core_mailbox_pending", m.pending),
        ("agent_core_handled_total", snap.handled),
        ("agent_core_restarts_total", snap.restarts),
    ] {
        assert_eq!(value(&s, &format!("{name}{kind}")), want, "{name}");
    }
    assert!(m.dropped > 0, "the test overflows mailboxes: {m:?}");
    assert_eq!(value(&s, "agent_core_agents_spawned_total"), 3);
    assert_eq!(value(&s, "agent_core_agents_stopped_total"), 1);
    assert_eq!(value(&s, &format!("agent_core_agents{kind}")), 2);
    rt.shutdown(ShutdownConfig::default()).await;
}

#[tokio::test]
async fn histograms_count_the_measured_messages_and_asks() {
    let rt = AgentRuntime::new(RuntimeConfig {
        timing: Timing::EVERY_MESSAGE,
        histograms: true,
        ..RuntimeConfig::default()
    });
    let sum = rt.spawn(AgentConfig::default(), Summer::default).unwrap();
    for n in 0..100 {
        sum.tell(n).await.unwrap();
    }
    for _ in 0..10 {
        sum.ask(1, Duration::from_secs(1)).await.unwrap();
    }
    let text = scrape(&rt);
    let s = samples(&text);
    let kind = "agent=\"Summer\"";
    assert_eq!(
        value(&s, &format!("agent_core_measured_messages_total{{{kind}}}")),
        110
    );
    assert_eq!(
        value(
            &s,
            &format!("agent_core_queue_time_seconds_count{{{kind}}}")
        ),
        110
    );
    assert_eq!(
        value(
            &s,
            &format!("agent_core_handling_time_seconds_count{{{kind}}}")
        ),
        110
    );
    assert_eq!(
        value(
            &s,
            &format!("agent_core_ask_duration_seconds_count{{{kind}}}")
        ),
        10
    );
    assert_eq!(
        value(
            &s,
            &format!("agent_core_queue_time_seconds_bucket{{le=\"+Inf\",{kind}}}")
        ),
        110
    );
    assert!(text.contains("# UNIT agent_core_queue_time_seconds seconds"));
    // Without the setting, no histogram families at all.
    assert!(!scrape(&AgentRuntime::default()).contains("_bucket"));
    rt.shutdown(ShutdownConfig::default()).await;
}

#[tokio::test]
async fn pools_buses_budgets_and_breakers_are_labelled_by_their_names() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("summers", 2), Summer::default).unwrap();
    let bus: Bus<u64> = Bus::local();
    let sub = bus
        .subscribe("orders", MailboxConfig::default())
        .await
        .unwrap();
    bus.publish("orders", 7).await.unwrap();
    assert_eq!(sub.recv().await.map(|e| e.msg), Some(7));
    let budget = Budget::new("llm", Cost::units(10.0));
    budget
        .reserve(Cost::units(2.5))
        .unwrap()
        .settle(Cost::units(2.0));
    let breaker = CircuitBreaker::new("search", BreakerConfig::default());
    let mut registry = Registry::default();
    registry.register_collector(Box::new(
        ComponentMetrics::default()
            .pool(&pool)
            .bus(&bus)
            .budget(&budget)
            .breaker(&breaker),
    ));
    let s = samples(&encode(&registry));
    assert_eq!(value(&s, "agent_core_pool_workers{pool=\"summers\"}"), 2);
    assert_eq!(
        value(&s, "agent_core_bus_published_total{topic=\"orders\"}"),
        1
    );
    assert_eq!(
        value(&s, "agent_core_bus_delivered_total{topic=\"orders\"}"),
        1
    );
    assert_eq!(s["agent_core_budget_spent{budget=\"llm\"}"], 2.0);
    assert_eq!(s["agent_core_budget_available{budget=\"llm\"}"], 8.0);
    assert_eq!(value(&s, "agent_core_breaker_state{breaker=\"search\"}"), 0);
    rt.shutdown(ShutdownConfig::default()).await;
}

#[tokio::test]
async fn agents_that_ended_before_the_export_began_are_counted_apart() {
    let rt = AgentRuntime::default();
    let sum = rt.spawn(AgentConfig::default(), Summer::default).unwrap();
    sum.ask(5, Duration::from_secs(1)).await.unwrap();
    sum.stop();
    sum.stopped().await;
    let live = rt.spawn(AgentConfig::default(), Summer::default).unwrap();
    live.ask(1, Duration::from_secs(1)).await.unwrap();
    let snap = rt.snapshot();
    let s = samples(&scrape(&rt));
    let before = "{agent=\"(ended before export)\"}";
    assert_eq!(value(&s, &format!("agent_core_handled_total{before}")), 1);
    assert_eq!(value(&s, "agent_core_handled_total{agent=\"Summer\"}"), 1);
    let handled: f64 = s
        .iter()
        .filter(|(k, _)| k.starts_with("agent_core_handled_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(handled as u64, snap.handled);
    rt.shutdown(ShutdownConfig::default()).await;
}
