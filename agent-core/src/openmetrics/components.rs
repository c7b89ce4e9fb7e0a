//! [`ComponentMetrics`]: pools, buses, budgets and circuit breakers, each read through its own
//! snapshot at scrape time and labelled by its name (pool, topic, budget, breaker).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::families::Families;
use crate::agent::Agent;
use crate::bus::{Bus, BusSnapshot, Transport};
use crate::orchestration::{BreakerSnapshot, BreakerState, Budget, BudgetSnapshot, CircuitBreaker};
use crate::pool::{Pool, PoolSnapshot};

type Source<T> = Box<dyn Fn() -> T + Send + Sync>;

/// Exports pools, buses (per topic), budgets and circuit breakers. Add each with the builder
/// methods, then register the collector once: a family is written once however many pools it
/// covers, as the OpenMetrics format requires.
#[derive(Default)]
pub struct ComponentMetrics {
    pools: Vec<Source<PoolSnapshot>>,
    buses: Vec<Source<BusSnapshot>>,
    budgets: Vec<Budget>,
    breakers: Vec<CircuitBreaker>,
}

impl fmt::Debug for ComponentMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentMetrics")
            .field("pools", &self.pools.len())
            .field("buses", &self.buses.len())
            .field("budgets", &self.budgets.len())
            .field("breakers", &self.breakers.len())
            .finish()
    }
}

impl ComponentMetrics {
    /// Also exports `pool` (label `pool`: its name).
    pub fn pool<A: Agent>(mut self, pool: &Pool<A>) -> ComponentMetrics {
        let pool = pool.clone();
        self.pools.push(Box::new(move || pool.snapshot()));
        self
    }

    /// Also exports `bus`, per topic (label `topic`).
    pub fn bus<M, T>(mut self, bus: &Bus<M, T>) -> ComponentMetrics
    where
        M: Send + 'static,
        T: Transport<M>,
    {
        let bus = bus.clone();
        self.buses.push(Box::new(move || bus.snapshot()));
        self
    }

    /// Also exports `budget` (label `budget`: its name).
    pub fn budget(mut self, budget: &Budget) -> ComponentMetrics {
        self.budgets.push(budget.clone());
        self
    }

    /// Also exports `breaker` (label `breaker`: its name).
    pub fn breaker(mut self, breaker: &CircuitBreaker) -> ComponentMetrics {
        self.breakers.push(breaker.clone());
        self
    }
}

impl Collector for ComponentMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        if !self.pools.is_empty() {
            let pools: Vec<PoolSnapshot> = self.pools.iter().map(|p| p()).collect();
            encode_pools(&mut encoder, &pools)?;
        }
        if !self.buses.is_empty() {
            let topics: Vec<_> = self.buses.iter().flat_map(|b| b().topics).collect();
            let mut f = Families {
                encoder: &mut encoder,
                label: "topic",
            };
            let by = |get: fn(&crate::bus::TopicSnapshot) -> u64| {
                topics.iter().map(move |t| (t.topic.as_str(), get(t)))
            };
            f.counter(
                "agent_core_bus_published",
                "Messages published on the topic.",
                None,
                by(|t| t.published),
            )?;
            f.gauge(
                "agent_core_bus_subscribers",
                "Subscribers now.",
                None,
                by(|t| t.subscribers),
            )?;
            f.counter(
                "agent_core_bus_delivered",
                "Messages handed to the topic's subscribers.",
                None,
                by(|t| t.mailboxes.delivered),
            )?;
            f.counter(
                "agent_core_bus_dropped",
                "Messages a subscriber's drop policy discarded.",
                None,
                by(|t| t.mailboxes.dropped),
            )?;
            f.counter(
                "agent_core_bus_rejected",
                "Deliveries a subscriber's mailbox refused.",
                None,
                by(|t| t.mailboxes.rejected),
            )?;
            f.gauge(
                "agent_core_bus_pending",
                "Messages waiting in the topic's subscriber mailboxes.",
                None,
                by(|t| t.mailboxes.pending),
            )?;
        }
        if !self.budgets.is_empty() {
            let budgets: Vec<BudgetSnapshot> = self.budgets.iter().map(Budget::snapshot).collect();
            encode_budgets(&mut encoder, &budgets)?;
        }
        if !self.breakers.is_empty() {
            let breakers: Vec<BreakerSnapshot> =
                self.breakers.iter().map(CircuitBreaker::snapshot).collect();
            encode_breakers(&mut encoder, &breakers)?;
        }
        Ok(())
    }
}

fn encode_pools(encoder: &mut DescriptorEncoder<'_>, pools: &[PoolSnapshot]) -> fmt::Result {
    let mut f = Families {
        encoder,
        label: "pool",
    };
    let by = |get: fn(&PoolSnapshot) -> u64| pools.iter().map(move |p| (p.name.as_str(), get(p)));
    f.gauge(
        "agent_core_pool_workers",
        "Worker agents now.",
        None,
        by(|p| p.workers),
    )?;
    f.gauge(
        "agent_core_pool_capacity",
        "Leases allowed at once.",
        None,
        by(|p| p.capacity),
    )?;
    f.gauge(
        "agent_core_pool_in_use",
        "Leases out now.",
        None,
        by(|p| p.in_use),
    )?;
    f.gauge(
        "agent_core_pool_max_in_use",
        "The most leases out at once.",
        None,
        by(|p| p.max_in_use),
    )?;
    f.counter(
        "agent_core_pool_acquires",
        "Successful acquires.",
        None,
        by(|p| p.acquires),
    )?;
    f.counter(
        "agent_core_pool_waits",
        "Acquires that had to wait for a slot.",
        None,
        by(|p| p.waits),
    )?;
    f.counter(
        "agent_core_pool_exhaustions",
        "Acquires that gave up at their timeout.",
        None,
        by(|p| p.exhaustions),
    )
}

fn encode_budgets(encoder: &mut DescriptorEncoder<'_>, budgets: &[BudgetSnapshot]) -> fmt::Result {
    let mut f = Families {
        encoder,
        label: "budget",
    };
    // Budgets count in thousandths of a unit; exported in units.
    let units = |get: fn(&BudgetSnapshot) -> u64| {
        budgets
            .iter()
            .map(move |b| (b.name.as_str(), get(b) as f64 / 1000.0))
    };
    let by =
        |get: fn(&BudgetSnapshot) -> u64| budgets.iter().map(move |b| (b.name.as_str(), get(b)));
    f.gauge(
        "agent_core_budget_limit",
        "The budget's limit, in budget units.",
        None,
        units(|b| b.limit.0),
    )?;
    f.gauge(
        "agent_core_budget_reserved",
        "Reserved by calls still running, in units.",
        None,
        units(|b| b.reserved.0),
    )?;
    f.gauge(
        "agent_core_budget_spent",
        "Settled by finished calls, in units.",
        None,
        units(|b| b.spent.0),
    )?;
    f.gauge(
        "agent_core_budget_available",
        "Limit minus spent and reserved, in units.",
        None,
        units(|b| b.available.0),
    )?;
    f.counter(
        "agent_core_budget_reservations",
        "Reservations granted.",
        None,
        by(|b| b.reservations),
    )?;
    f.counter(
        "agent_core_budget_settled",
        "Reservations settled with an actual cost.",
        None,
        by(|b| b.settled),
    )?;
    f.counter(
        "agent_core_budget_released",
        "Reservations released unused.",
        None,
        by(|b| b.released),
    )?;
    f.counter(
        "agent_core_budget_refusals",
        "Reservations refused.",
        None,
        by(|b| b.refusals),
    )
}

fn encode_breakers(
    encoder: &mut DescriptorEncoder<'_>,
    breakers: &[BreakerSnapshot],
) -> fmt::Result {
    let mut f = Families {
        encoder,
        label: "breaker",
    };
    let by =
        |get: fn(&BreakerSnapshot) -> u64| breakers.iter().map(move |b| (b.name.as_str(), get(b)));
    // 0 closed, 1 half-open, 2 open: one series per breaker, which a panel can map to names.
    f.gauge(
        "agent_core_breaker_state",
        "The breaker's state: 0 closed, 1 half-open, 2 open.",
        None,
        by(|b| match b.state {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }),
    )?;
    f.counter(
        "agent_core_breaker_calls",
        "Calls that ran.",
        None,
        by(|b| b.calls),
    )?;
    f.counter(
        "agent_core_breaker_failures",
        "Calls that failed.",
        None,
        by(|b| b.failures),
    )?;
    f.counter(
        "agent_core_breaker_rejected",
        "Calls refused while open.",
        None,
        by(|b| b.rejected),
    )?;
    f.counter(
        "agent_core_breaker_opened",
        "Transitions to open.",
        None,
        by(|b| b.opened),
    )
}
