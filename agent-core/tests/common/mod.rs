//! Test agents shared by the integration tests.
#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::{Agent, Context, HandlerError};

/// Sums what it receives; replies with the running total.
#[derive(Default)]
pub struct Summer {
    pub total: u64,
}

impl Agent for Summer {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        self.total += n;
        Ok(self.total)
    }
}

/// Records every message it handles into a shared log.
pub struct Recorder<T: Send + 'static> {
    pub log: Arc<Mutex<Vec<T>>>,
}

impl<T: Send + 'static> Agent for Recorder<T> {
    type Msg = T;
    type Reply = ();
    async fn handle(&mut self, msg: T, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        self.log.lock().unwrap().push(msg);
        Ok(())
    }
}

/// What a [`Flaky`] agent should do with a message.
#[derive(Debug, Clone)]
pub enum Job {
    Work(u32),
    Fail,
    Panic,
    Sleep(Duration),
}

/// Handles jobs, failing or panicking on demand; counts starts and stops in shared counters.
pub struct Flaky {
    pub handled: Arc<Mutex<Vec<u32>>>,
    pub starts: Arc<AtomicU64>,
    pub stops: Arc<AtomicU64>,
}

impl Flaky {
    pub fn factory() -> (impl FnMut() -> Flaky + Send + 'static, FlakyProbe) {
        let probe = FlakyProbe::default();
        let p = probe.clone();
        let factory = move || Flaky {
            handled: Arc::clone(&p.handled),
            starts: Arc::clone(&p.starts),
            stops: Arc::clone(&p.stops),
        };
        (factory, probe)
    }
}

#[derive(Default, Clone)]
pub struct FlakyProbe {
    pub handled: Arc<Mutex<Vec<u32>>>,
    pub starts: Arc<AtomicU64>,
    pub stops: Arc<AtomicU64>,
}

impl FlakyProbe {
    pub fn handled(&self) -> Vec<u32> {
        self.handled.lock().unwrap().clone()
    }
    pub fn starts(&self) -> u64 {
        self.starts.load(Ordering::SeqCst)
    }
    pub fn stops(&self) -> u64 {
        self.stops.load(Ordering::SeqCst)
    }
}

impl Agent for Flaky {
    type Msg = Job;
    type Reply = u32;

    async fn handle(&mut self, job: Job, _ctx: &mut Context<Self>) -> Result<u32, HandlerError> {
        match job {
            Job::Work(n) => {
                self.handled.lock().unwrap().push(n);
                Ok(n)
            }
            Job::Fail => Err("job failed on purpose".into()),
            Job::Panic => panic!("job panicked on purpose"),
            Job::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(0)
            }
        }
    }

    async fn on_start(&mut self, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        self.starts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>) {
        self.stops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sleeps (tokio's clock) for the duration it is sent, then replies with its id-independent echo.
pub struct Sleeper;

impl Agent for Sleeper {
    type Msg = Duration;
    type Reply = Duration;
    async fn handle(
        &mut self,
        d: Duration,
        _ctx: &mut Context<Self>,
    ) -> Result<Duration, HandlerError> {
        tokio::time::sleep(d).await;
        Ok(d)
    }
}

/// Silences the default panic hook's output for panics tests provoke on purpose.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.to_string();
            if !msg.contains("on purpose") {
                default(info);
            }
        }));
    });
}
