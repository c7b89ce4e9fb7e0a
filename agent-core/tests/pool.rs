//! Pools: exhaustion with timeouts, dispatch, utilization in virtual time, resizing.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agent_core::{AgentRuntime, Dispatch, Pool, PoolConfig, PoolError};
use common::Sleeper;

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn acquire_times_out_with_a_typed_exhaustion_error() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 2), || Sleeper).unwrap();
    let a = pool.acquire(MS).await.unwrap();
    let _b = pool.acquire(MS).await.unwrap();
    let start = tokio::time::Instant::now();
    let err = pool.acquire(50 * MS).await.unwrap_err();
    assert_eq!(
        err,
        PoolError::Exhausted {
            pool: "p".into(),
            waited: 50 * MS
        }
    );
    assert_eq!(start.elapsed(), 50 * MS);
    drop(a);
    let _c = pool.acquire(MS).await.unwrap();
    let s = pool.snapshot();
    assert_eq!(
        (s.acquires, s.waits, s.exhaustions, s.in_use, s.max_in_use),
        (3, 1, 1, 2, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn more_requests_than_slots_exhaust_exactly_and_never_deadlock() {
    // 4 slots, 20 requests of 100 ms each arriving at once, each willing to wait 250 ms:
    // waves start at 0, 100 and 200 ms (12 requests); the other 8 give up at 250 ms.
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 4), || Sleeper).unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let lease = pool.acquire(250 * MS).await?;
                lease
                    .ask(100 * MS, Duration::from_secs(1))
                    .await
                    .expect("worker answers");
                Ok::<_, PoolError>(())
            })
        })
        .collect();
    let mut ok = 0;
    let mut exhausted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(PoolError::Exhausted { .. }) => exhausted += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, exhausted), (12, 8));
    let s = pool.snapshot();
    assert_eq!(
        (s.acquires, s.waits, s.exhaustions, s.max_in_use, s.in_use),
        (12, 16, 8, 4, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn utilization_is_time_weighted() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 4), || Sleeper).unwrap();
    // Two of four slots busy for the first half of 200 ms, none for the second: average 1 slot.
    let a = pool.acquire(MS).await.unwrap();
    let b = pool.acquire(MS).await.unwrap();
    tokio::time::sleep(100 * MS).await;
    drop((a, b));
    tokio::time::sleep(100 * MS).await;
    let s = pool.snapshot();
    assert!((s.avg_in_use - 1.0).abs() < 1e-9, "{}", s.avg_in_use);
    assert!(
        (s.avg_utilization - 0.25).abs() < 1e-9,
        "{}",
        s.avg_utilization
    );
}

#[tokio::test]
async fn round_robin_spreads_leases_evenly() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 3), || Sleeper).unwrap();
    let mut count = HashMap::new();
    for _ in 0..30 {
        let lease = pool.acquire(MS).await.unwrap();
        *count.entry(lease.address().id()).or_insert(0) += 1;
    }
    assert_eq!(count.len(), 3);
    assert!(count.values().all(|&n| n == 10), "{count:?}");
}

#[tokio::test]
async fn least_loaded_picks_an_idle_worker() {
    let rt = AgentRuntime::default();
    let mut config = PoolConfig::new("p", 3).with_dispatch(Dispatch::LeastLoaded);
    config.slots_per_worker = 2;
    let pool = Pool::new(&rt, config, || Sleeper).unwrap();
    let held: Vec<_> = acquire_n(&pool, 3).await;
    let ids: std::collections::HashSet<_> = held.iter().map(|l| l.address().id()).collect();
    assert_eq!(ids.len(), 3, "three leases on three different workers");
}

async fn acquire_n(pool: &Pool<Sleeper>, n: usize) -> Vec<agent_core::PoolLease<Sleeper>> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(pool.acquire(MS).await.unwrap());
    }
    v
}

#[tokio::test(start_paused = true)]
async fn resizing_keeps_in_flight_work() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 4), || Sleeper).unwrap();
    // Four long jobs in flight, one per worker.
    let jobs: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let lease = pool.acquire(MS).await.unwrap();
                lease.ask(500 * MS, Duration::from_secs(5)).await
            })
        })
        .collect();
    tokio::time::sleep(10 * MS).await;
    pool.resize(1).unwrap();
    assert_eq!(pool.snapshot().capacity, 1);
    assert_eq!(pool.workers().len(), 1);
    // Every in-flight job still completes.
    for j in jobs {
        assert_eq!(j.await.unwrap().unwrap(), 500 * MS);
    }
    tokio::time::sleep(10 * MS).await;
    // The three removed workers stopped once idle; only one slot is left.
    assert_eq!(rt.len(), 1);
    let _one = pool.acquire(MS).await.unwrap();
    assert!(matches!(
        pool.acquire(MS).await,
        Err(PoolError::Exhausted { .. })
    ));
    // Growing back adds workers and slots.
    pool.resize(3).unwrap();
    let _two = pool.acquire(MS).await.unwrap();
    let _three = pool.acquire(MS).await.unwrap();
    assert!(pool.acquire(MS).await.is_err());
    assert_eq!(rt.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn shrinking_while_leases_are_out_frees_no_extra_slots() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 3), || Sleeper).unwrap();
    let leases: Vec<_> = acquire_n(&pool, 3).await;
    pool.resize(1).unwrap();
    drop(leases);
    let _one = pool.acquire(MS).await.unwrap();
    assert!(
        pool.acquire(MS).await.is_err(),
        "the returned slots were owed and forgotten"
    );
}

#[tokio::test]
async fn closed_pool_refuses() {
    let rt = AgentRuntime::default();
    let pool = Pool::new(&rt, PoolConfig::new("p", 1), || Sleeper).unwrap();
    pool.close();
    assert_eq!(
        pool.acquire(MS).await.unwrap_err(),
        PoolError::Closed("p".into())
    );
    assert!(matches!(
        Pool::new(&rt, PoolConfig::new("q", 0), || Sleeper),
        Err(PoolError::Empty)
    ));
}
