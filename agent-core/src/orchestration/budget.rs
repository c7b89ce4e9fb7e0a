//! Budgets: a call reserves its cost before it runs and settles the actual cost after; a call
//! that would exceed a budget is refused with an error naming the budget. At no instant does
//! `spent + reserved` exceed the limit, whatever the interleaving (property-tested).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An amount of budget, in thousandths of a unit (so 0.5 units is `Cost(500)`): exact arithmetic,
/// no floating-point drift in accounting.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Cost(pub u64);

impl Cost {
    /// Zero.
    pub const ZERO: Cost = Cost(0);

    /// `units` budget units, rounded to the nearest thousandth.
    pub fn units(units: f64) -> Cost {
        Cost((units * 1000.0).round().max(0.0) as u64)
    }

    /// The amount in units.
    pub fn as_units(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// A reservation was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetError {
    /// The budget has too little left.
    #[error("budget {budget:?} exceeded: {requested} requested, {available} available of {limit}")]
    Exceeded {
        /// The budget's name (a domain, or the task).
        budget: String,
        /// What the call asked for.
        requested: Cost,
        /// What was left (limit - spent - reserved).
        available: Cost,
        /// The budget's limit.
        limit: Cost,
    },
}

/// One budget with a limit.
#[derive(Debug, Clone)]
pub struct Budget {
    inner: Arc<BudgetInner>,
}

#[derive(Debug)]
struct BudgetInner {
    name: String,
    limit: Cost,
    state: Mutex<Ledger>,
    refusals: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Ledger {
    reserved: u64,
    spent: u64,
    reservations: u64,
    settled: u64,
    released: u64,
}

/// A budget's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSnapshot {
    /// The budget's name.
    pub name: String,
    /// Its limit, in thousandths.
    pub limit: Cost,
    /// Reserved by calls still running.
    pub reserved: Cost,
    /// Settled by finished calls.
    pub spent: Cost,
    /// `limit - spent - reserved`.
    pub available: Cost,
    /// Reservations granted.
    pub reservations: u64,
    /// Reservations settled with an actual cost.
    pub settled: u64,
    /// Reservations released unused (the call failed or was cancelled).
    pub released: u64,
    /// Reservations refused.
    pub refusals: u64,
}

impl Budget {
    /// A budget named `name` (a domain, or "task") with `limit`.
    pub fn new(name: impl Into<String>, limit: Cost) -> Budget {
        Budget {
            inner: Arc::new(BudgetInner {
                name: name.into(),
                limit,
                state: Mutex::new(Ledger::default()),
                refusals: AtomicU64::new(0),
            }),
        }
    }

    /// The budget's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Reserves `cost`, or refuses if it would take `spent + reserved` past the limit.
    pub fn reserve(&self, cost: Cost) -> Result<Reservation, BudgetError> {
        let mut l = self.ledger();
        let available = self.inner.limit.0 - l.spent - l.reserved;
        if cost.0 > available {
            drop(l);
            self.inner.refusals.fetch_add(1, Ordering::Relaxed);
            return Err(BudgetError::Exceeded {
                budget: self.inner.name.clone(),
                requested: cost,
                available: Cost(available),
                limit: self.inner.limit,
            });
        }
        l.reserved += cost.0;
        l.reservations += 1;
        Ok(Reservation {
            parts: vec![(self.clone(), cost)],
            done: false,
        })
    }

    /// The counters, taken consistently.
    pub fn snapshot(&self) -> BudgetSnapshot {
        let l = *self.ledger();
        BudgetSnapshot {
            name: self.inner.name.clone(),
            limit: self.inner.limit,
            reserved: Cost(l.reserved),
            spent: Cost(l.spent),
            available: Cost(self.inner.limit.0 - l.spent - l.reserved),
            reservations: l.reservations,
            settled: l.settled,
            released: l.released,
            refusals: self.inner.refusals.load(Ordering::Relaxed),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Turns `reserved` into `actual` spent (at most what was reserved) and frees the rest.
    fn settle(&self, reserved: Cost, actual: Cost) {
        let mut l = self.ledger();
        l.reserved -= reserved.0;
        l.spent += actual.0.min(reserved.0);
        l.settled += 1;
    }

    fn release(&self, reserved: Cost) {
        let mut l = self.ledger();
        l.reserved -= reserved.0;
        l.released += 1;
    }
}

/// Cost held on one or more budgets until the call settles. Dropping it unsettled releases the
/// cost (a failed or cancelled call spends nothing).
#[derive(Debug)]
#[must_use = "an unsettled reservation is released when dropped"]
pub struct Reservation {
    parts: Vec<(Budget, Cost)>,
    done: bool,
}

impl Reservation {
    /// Records the call's actual cost (capped at what was reserved) on every budget held.
    pub fn settle(mut self, actual: Cost) {
        for (budget, reserved) in &self.parts {
            budget.settle(*reserved, actual);
        }
        self.done = true;
    }

    /// What is held.
    pub fn cost(&self) -> Cost {
        self.parts.first().map_or(Cost::ZERO, |(_, c)| *c)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.done {
            for (budget, reserved) in &self.parts {
                budget.release(*reserved);
            }
        }
    }
}

/// A task's budget and its per-domain budgets; a call reserves on both or on neither.
#[derive(Debug, Clone, Default)]
pub struct Budgets {
    task: Option<Budget>,
    domains: BTreeMap<String, Budget>,
}

impl Budgets {
    /// No limits at all.
    pub fn unlimited() -> Budgets {
        Budgets::default()
    }

    /// These budgets with a whole-task limit.
    pub fn with_task(mut self, limit: Cost) -> Budgets {
        self.task = Some(Budget::new("task", limit));
        self
    }

    /// These budgets with a limit for `domain`.
    pub fn with_domain(mut self, domain: impl Into<String>, limit: Cost) -> Budgets {
        let domain = domain.into();
        self.domains
            .insert(domain.clone(), Budget::new(domain, limit));
        self
    }

    /// Reserves `cost` on `domain`'s budget (if it has one) and on the task budget (if any);
    /// refused, with the budget named, if either would be exceeded, and then nothing is held.
    pub fn reserve(&self, domain: &str, cost: Cost) -> Result<Reservation, BudgetError> {
        let mut held = Reservation {
            parts: Vec::with_capacity(2),
            done: false,
        };
        for budget in self
            .domains
            .get(domain)
            .into_iter()
            .chain(self.task.as_ref())
        {
            // On refusal, `held` is dropped and releases what it already holds.
            let mut r = budget.reserve(cost)?;
            held.parts.append(&mut r.parts);
        }
        Ok(held)
    }

    /// Every budget's counters: domains by name, then the task.
    pub fn snapshot(&self) -> Vec<BudgetSnapshot> {
        self.domains
            .values()
            .chain(self.task.as_ref())
            .map(Budget::snapshot)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_settle_release() {
        let b = Budget::new("writing", Cost::units(2.0));
        let r = b.reserve(Cost::units(1.5)).unwrap();
        assert_eq!(b.snapshot().available, Cost::units(0.5));
        let err = b.reserve(Cost::units(1.0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "budget \"writing\" exceeded: 1.000 requested, 0.500 available of 2.000"
        );
        r.settle(Cost::units(1.0));
        let s = b.snapshot();
        assert_eq!(
            (s.spent, s.reserved, s.available),
            (Cost::units(1.0), Cost::ZERO, Cost::units(1.0))
        );
        drop(b.reserve(Cost::units(1.0)).unwrap());
        let s = b.snapshot();
        assert_eq!(
            (s.reservations, s.settled, s.released, s.refusals),
            (2, 1, 1, 1)
        );
        assert_eq!(s.available, Cost::units(1.0));
    }

    #[test]
    fn a_refused_task_budget_releases_the_domain_part() {
        let budgets = Budgets::unlimited()
            .with_task(Cost::units(1.0))
            .with_domain("scoring", Cost::units(10.0));
        let first = budgets.reserve("scoring", Cost::units(0.7)).unwrap();
        let err = budgets.reserve("scoring", Cost::units(0.7)).unwrap_err();
        assert!(matches!(err, BudgetError::Exceeded { ref budget, .. } if budget == "task"));
        let snaps = budgets.snapshot();
        assert_eq!(
            snaps[0].reserved,
            Cost::units(0.7),
            "only the first reservation is held"
        );
        first.settle(Cost::units(0.5));
        assert_eq!(budgets.snapshot()[1].spent, Cost::units(0.5));
    }
}
