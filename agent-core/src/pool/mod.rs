//! Pools: N worker agents behind a semaphore, with round-robin or least-loaded dispatch,
//! utilization counters, and resizing at run time without losing in-flight work.

mod config;
mod usage;

pub use config::{Dispatch, PoolConfig};
pub use usage::PoolSnapshot;

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use crate::agent::{Address, Agent};
use crate::error::{AskError, PoolError, SendError};
use crate::mailbox::Enqueued;
use crate::runtime::{AgentConfig, AgentRuntime};
use usage::Usage;

/// A pool of worker agents. Cheap to clone.
pub struct Pool<A: Agent> {
    inner: Arc<Inner<A>>,
}

impl<A: Agent> Clone for Pool<A> {
    fn clone(&self) -> Self {
        Pool {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<A: Agent> fmt::Debug for Pool<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.inner.config.name)
            .finish()
    }
}

type Factory<A> = Arc<dyn Fn() -> A + Send + Sync>;

struct Inner<A: Agent> {
    config: PoolConfig,
    runtime: AgentRuntime,
    factory: Factory<A>,
    semaphore: Arc<Semaphore>,
    workers: RwLock<Vec<Arc<Worker<A>>>>,
    next_worker: AtomicUsize,
    next_index: AtomicUsize,
    /// Permits to forget as leases come back, after a shrink found them in use.
    debt: AtomicUsize,
    /// The current number of slots (permits out plus available, less debt).
    capacity: AtomicUsize,
    usage: Mutex<Usage>,
    acquires: AtomicU64,
    waits: AtomicU64,
    exhaustions: AtomicU64,
}

struct Worker<A: Agent> {
    address: Address<A>,
    leases: AtomicUsize,
    idle: Notify,
}

/// A slot in the pool, bound to one worker. Dropping it frees the slot.
pub struct PoolLease<A: Agent> {
    pool: Arc<Inner<A>>,
    worker: Arc<Worker<A>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl<A: Agent> fmt::Debug for PoolLease<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolLease")
            .field("pool", &self.pool.config.name)
            .field("worker", &self.worker.address.id())
            .finish()
    }
}

impl<A: Agent> Pool<A> {
    /// Spawns the pool's workers on `runtime`; `factory` builds each worker (and rebuilds it on a
    /// restart).
    pub fn new<F>(
        runtime: &AgentRuntime,
        config: PoolConfig,
        factory: F,
    ) -> Result<Pool<A>, PoolError>
    where
        F: Fn() -> A + Send + Sync + 'static,
    {
        if config.workers == 0 || config.slots_per_worker == 0 {
            return Err(PoolError::Empty);
        }
        let slots = config.workers * config.slots_per_worker;
        let now = Instant::now();
        let inner = Arc::new(Inner {
            runtime: runtime.clone(),
            factory: Arc::new(factory),
            semaphore: Arc::new(Semaphore::new(slots)),
            workers: RwLock::new(Vec::with_capacity(config.workers)),
            next_worker: AtomicUsize::new(0),
            next_index: AtomicUsize::new(0),
            debt: AtomicUsize::new(0),
            capacity: AtomicUsize::new(slots),
            usage: Mutex::new(Usage {
                in_use: 0,
                max_in_use: 0,
                since: now,
                last_change: now,
                area: 0,
            }),
            acquires: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            exhaustions: AtomicU64::new(0),
            config,
        });
        let pool = Pool { inner };
        let workers = (0..pool.inner.config.workers)
            .map(|_| pool.spawn_worker())
            .collect::<Result<Vec<_>, _>>()?;
        *pool.write_workers() = workers;
        Ok(pool)
    }

    /// Takes a slot, waiting up to `timeout` for one to free up.
    pub async fn acquire(&self, timeout: Duration) -> Result<PoolLease<A>, PoolError> {
        let inner = &self.inner;
        let permit = match Arc::clone(&inner.semaphore).try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(self.closed_error()),
            Err(TryAcquireError::NoPermits) => {
                inner.waits.fetch_add(1, Ordering::Relaxed);
                let wait = Arc::clone(&inner.semaphore).acquire_owned();
                match tokio::time::timeout(timeout, wait).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_closed)) => return Err(self.closed_error()),
                    Err(_elapsed) => {
                        inner.exhaustions.fetch_add(1, Ordering::Relaxed);
                        return Err(PoolError::Exhausted {
                            pool: inner.config.name.clone(),
                            waited: timeout,
                        });
                    }
                }
            }
        };
        let worker = self.pick();
        worker.leases.fetch_add(1, Ordering::AcqRel);
        inner.acquires.fetch_add(1, Ordering::Relaxed);
        inner.lock_usage().change(Instant::now(), true);
        Ok(PoolLease {
            pool: Arc::clone(inner),
            worker,
            permit: Some(permit),
        })
    }

    /// Grows or shrinks the pool to `workers` workers (and `workers * slots_per_worker` slots).
    /// Removed workers take no new leases; each stops once its current leases are returned and its
    /// mailbox is drained, so no in-flight work is lost.
    pub fn resize(&self, workers: usize) -> Result<(), PoolError> {
        if workers == 0 {
            return Err(PoolError::Empty);
        }
        let inner = &self.inner;
        let mut list = self.write_workers();
        let current = list.len();
        let per = inner.config.slots_per_worker;
        if workers > current {
            for _ in current..workers {
                list.push(self.spawn_worker()?);
            }
            let mut add = (workers - current) * per;
            // Slots still owed from an earlier shrink are cancelled before new ones are added.
            let _ = inner
                .debt
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |debt| {
                    let paid = debt.min(add);
                    add -= paid;
                    Some(debt - paid)
                });
            inner.semaphore.add_permits(add);
        } else {
            let removed: Vec<_> = list.drain(workers..).collect();
            let remove = (current - workers) * per;
            let forgotten = inner.semaphore.forget_permits(remove);
            inner.debt.fetch_add(remove - forgotten, Ordering::AcqRel);
            for worker in removed {
                inner.runtime.tracker().spawn(retire_when_idle(worker));
            }
        }
        inner.capacity.store(workers * per, Ordering::Release);
        Ok(())
    }

    /// Stops handing out slots and stops every worker after it drains its mailbox.
    pub fn close(&self) {
        self.inner.semaphore.close();
        for worker in self.read_workers().iter() {
            worker.address.stop();
        }
    }

    /// The workers' addresses, in dispatch order.
    pub fn workers(&self) -> Vec<Address<A>> {
        self.read_workers()
            .iter()
            .map(|w| w.address.clone())
            .collect()
    }

    /// The pool's counters.
    pub fn snapshot(&self) -> PoolSnapshot {
        let inner = &self.inner;
        let capacity = inner.capacity.load(Ordering::Acquire) as u64;
        let usage = inner.lock_usage();
        let avg_in_use = usage.average(Instant::now());
        PoolSnapshot {
            name: inner.config.name.clone(),
            workers: self.read_workers().len() as u64,
            capacity,
            in_use: usage.in_use,
            max_in_use: usage.max_in_use,
            acquires: inner.acquires.load(Ordering::Relaxed),
            waits: inner.waits.load(Ordering::Relaxed),
            exhaustions: inner.exhaustions.load(Ordering::Relaxed),
            avg_in_use,
            avg_utilization: if capacity == 0 {
                0.0
            } else {
                avg_in_use / capacity as f64
            },
        }
    }

    fn spawn_worker(&self) -> Result<Arc<Worker<A>>, PoolError> {
        let inner = &self.inner;
        let index = inner.next_index.fetch_add(1, Ordering::Relaxed);
        let mut config = AgentConfig::named(format!("{}/{index}", inner.config.name));
        config.mailbox = inner.config.worker_mailbox;
        config.restart = inner.config.restart;
        let factory = Arc::clone(&inner.factory);
        let address = inner.runtime.spawn(config, move || factory())?;
        Ok(Arc::new(Worker {
            address,
            leases: AtomicUsize::new(0),
            idle: Notify::new(),
        }))
    }

    fn pick(&self) -> Arc<Worker<A>> {
        let list = self.read_workers();
        let start = self.inner.next_worker.fetch_add(1, Ordering::Relaxed) % list.len();
        let chosen = match self.inner.config.dispatch {
            Dispatch::RoundRobin => &list[start],
            Dispatch::LeastLoaded => (0..list.len())
                .map(|k| &list[(start + k) % list.len()])
                .min_by_key(|w| w.leases.load(Ordering::Acquire))
                .expect("a pool always has at least one worker"),
        };
        Arc::clone(chosen)
    }

    fn closed_error(&self) -> PoolError {
        PoolError::Closed(self.inner.config.name.clone())
    }

    fn read_workers(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Worker<A>>>> {
        self.inner
            .workers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_workers(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Worker<A>>>> {
        self.inner
            .workers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<A: Agent> Inner<A> {
    fn lock_usage(&self) -> std::sync::MutexGuard<'_, Usage> {
        self.usage.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<A: Agent> PoolLease<A> {
    /// The worker this lease is bound to.
    pub fn address(&self) -> &Address<A> {
        &self.worker.address
    }

    /// Asks the leased worker.
    pub async fn ask(&self, msg: A::Msg, timeout: Duration) -> Result<A::Reply, AskError<A::Msg>> {
        self.worker.address.ask(msg, timeout).await
    }

    /// Tells the leased worker.
    pub async fn tell(&self, msg: A::Msg) -> Result<Enqueued, SendError<A::Msg>> {
        self.worker.address.tell(msg).await
    }
}

impl<A: Agent> Drop for PoolLease<A> {
    fn drop(&mut self) {
        let pool = &self.pool;
        pool.lock_usage().change(Instant::now(), false);
        if let Some(permit) = self.permit.take() {
            let owed = pool
                .debt
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
                .is_ok();
            if owed {
                permit.forget();
            }
        }
        if self.worker.leases.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.worker.idle.notify_waiters();
        }
    }
}

/// Stops a removed worker once nobody holds a lease on it; its mailbox is drained first.
async fn retire_when_idle<A: Agent>(worker: Arc<Worker<A>>) {
    loop {
        let idle = worker.idle.notified();
        if worker.leases.load(Ordering::Acquire) == 0 {
            break;
        }
        idle.await;
    }
    worker.address.stop();
}
