//! Seed 002's EventBus scenarios (its tests 3.1 and 3.2): paced publishing on the in-process bus
//! and on NATS JetStream side by side, and delivery through worker processes under four faults.

use super::base::base;
use crate::kinds::delivery::{Fault, UnderFault};
use crate::kinds::event_bus::{BusTransport, EventBus};
use crate::scenario::{Clock, Kind, Scenario};

/// The published mix: Slack events 100/s, task submissions 50/s, agent results 50/s, scheduled
/// tasks 10/s (210 events/s).
const SEED_MIX: [f64; 4] = [100.0, 50.0, 50.0, 10.0];

fn event_bus(name: &str, what: &str, source: &str, kind: EventBus) -> Scenario {
    let events = kind.events() as usize;
    Scenario {
        agents: 1,
        ops_per_agent: events,
        clock: Clock::Real,
        ..base(name, what, source, Kind::EventBus(kind))
    }
}

/// The EventBus throughput and delivery scenarios.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for (transport, label) in [(BusTransport::Local, "local"), (BusTransport::Nats, "nats")] {
        let on = match transport {
            BusTransport::Local => "the in-process bus",
            BusTransport::Nats => "NATS JetStream",
        };
        // Four seconds at the suite's scale (840 events); the CLI's full run holds it 60 s.
        all.push(event_bus(
            &format!("eventbus_sustained_{label}"),
            &format!("four publishers at 100, 50, 50 and 10 events/s (210/s) for 4 s on {on}, a subscriber per topic: delivery latency, backlog"),
            "seed 002, EventBus 3.1, sustained 200 msgs/s, p95 < 100 ms, no queue buildup",
            EventBus {
                transport,
                rates_per_s: SEED_MIX.to_vec(),
                publish_ms: 4_000,
                subscribers: 1,
            },
        ));
        // Three seconds at the suite's scale (1,500 events); the CLI's full run: a minute.
        all.push(event_bus(
            &format!("eventbus_burst_{label}"),
            &format!("one publisher at 500 events/s for 3 s on {on}: delivery latency, backlog and how long it takes to clear"),
            "seed 002, EventBus 3.1, burst 500 msgs/s for 1 minute",
            EventBus {
                transport,
                rates_per_s: vec![500.0],
                publish_ms: 3_000,
                subscribers: 1,
            },
        ));
    }
    for (fault, name, what) in [
        (
            Fault::ConsumerCrash,
            "delivery_consumer_crash",
            "a worker process SIGKILLed while it holds jobs",
        ),
        (
            Fault::Partition,
            "delivery_partition",
            "the server paused (SIGSTOP) for 2 s, as a network partition",
        ),
        (
            Fault::BrokerRestart,
            "delivery_broker_restart",
            "the server SIGKILLed and restarted on its port and store",
        ),
        (
            Fault::PublisherCrash,
            "delivery_publisher_crash",
            "the publisher process SIGKILLed mid-stream and restarted from its outbox",
        ),
    ] {
        let kind = UnderFault {
            fault,
            jobs: 600,
            rate_per_s: 200.0,
            work_us: 2_000,
            workers: 3,
        };
        all.push(Scenario {
            agents: 1,
            ops_per_agent: kind.jobs as usize,
            clock: Clock::Real,
            ..base(
                name,
                &format!("600 jobs at 200/s through 3 worker processes on NATS JetStream, {what} after 1 s: lost, duplicates, recovery time"),
                "seed 002, EventBus 3.2, zero loss, duplicates handled, recovery < 60 s",
                Kind::Delivery(kind),
            )
        });
    }
    all
}
