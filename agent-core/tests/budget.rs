//! Budgets under concurrency: no interleaving of reservations, settlements and releases from
//! many tasks on real threads ever takes `spent + reserved` past the limit, and the books balance.

use std::sync::Arc;

use agent_core::orchestration::{BudgetError, Budgets, Cost};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Reserve this many thousandths, then settle this many (capped at the reservation).
    ReserveSettle(u64, u64),
    /// Reserve, then drop unsettled (a failed or cancelled call).
    ReserveRelease(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..400, 0u64..500).prop_map(|(r, s)| Op::ReserveSettle(r, s)),
        (1u64..400).prop_map(Op::ReserveRelease),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn concurrent_calls_never_exceed_a_budget(
        task_limit in 500u64..3_000,
        domain_limit in 500u64..3_000,
        plans in prop::collection::vec(prop::collection::vec(op(), 1..40), 2..6),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let budgets = Budgets::unlimited()
            .with_task(Cost(task_limit))
            .with_domain("d", Cost(domain_limit));
        let (granted, spent_expected) = rt.block_on(async {
            let budgets = Arc::new(budgets.clone());
            let tasks: Vec<_> = plans
                .into_iter()
                .map(|plan| {
                    let budgets = Arc::clone(&budgets);
                    tokio::spawn(async move {
                        let mut granted = 0u64;
                        let mut spent = 0u64;
                        for op in plan {
                            let (want, settle) = match op {
                                Op::ReserveSettle(r, s) => (r, Some(s)),
                                Op::ReserveRelease(r) => (r, None),
                            };
                            match budgets.reserve("d", Cost(want)) {
                                Ok(r) => {
                                    granted += 1;
                                    // Every budget's books hold at every step, seen from here.
                                    for s in budgets.snapshot() {
                                        assert!(s.spent.0 + s.reserved.0 <= s.limit.0, "{s:?}");
                                    }
                                    tokio::task::yield_now().await;
                                    match settle {
                                        Some(actual) => {
                                            spent += actual.min(want);
                                            r.settle(Cost(actual));
                                        }
                                        None => drop(r),
                                    }
                                }
                                Err(BudgetError::Exceeded { budget, requested, available, .. }) => {
                                    assert!(budget == "d" || budget == "task");
                                    assert!(requested.0 > available.0);
                                }
                                Err(e) => panic!("unexpected {e}"),
                            }
                            tokio::task::yield_now().await;
                        }
                        (granted, spent)
                    })
                })
                .collect();
            let mut granted = 0;
            let mut spent = 0;
            for t in tasks {
                let (g, s) = t.await.unwrap();
                granted += g;
                spent += s;
            }
            (granted, spent)
        });
        for s in budgets.snapshot() {
            prop_assert_eq!(s.reserved, Cost::ZERO, "nothing held at the end: {:?}", s);
            prop_assert!(s.spent.0 <= s.limit.0);
            prop_assert_eq!(s.spent.0, spent_expected);
            prop_assert_eq!(s.reservations, s.settled + s.released);
        }
        // The task budget is reserved last, so each of its reservations is a granted call (the
        // domain's may also include ones released when the task budget then refused).
        prop_assert_eq!(budgets.snapshot()[1].reservations, granted);
    }
}
