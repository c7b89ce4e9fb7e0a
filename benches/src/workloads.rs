//! The benchmark workloads, on agent-core and on raw tokio. Each returns the time it measured,
//! excluding runtime construction, so callers can interleave and pair them.

use std::time::{Duration, Instant};

use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig, Timing,
};
use hdrhistogram::Histogram;
use tokio::sync::{mpsc, oneshot};

pub use crate::stats::median;

/// The bound of every raw tokio channel, matching agent-core's default mailbox.
pub const CHANNEL_BOUND: usize = 1024;
/// Generous timeout for asks that must not time out in a benchmark.
const ASK_TIMEOUT: Duration = Duration::from_secs(60);

/// A 1 KiB message body.
pub type Kib = [u8; 1024];

/// What a [`TypedSink`] receives.
#[derive(Debug)]
pub enum SinkMsg<P> {
    /// A payload to count.
    Data(P),
    /// Replies with the count so far; since the mailbox is FIFO, every earlier message is handled.
    Flush,
}

/// Counts the payloads of type `P` it receives.
#[derive(Debug)]
pub struct TypedSink<P> {
    count: u64,
    _p: std::marker::PhantomData<fn(P)>,
}

impl<P> Default for TypedSink<P> {
    fn default() -> Self {
        TypedSink {
            count: 0,
            _p: std::marker::PhantomData,
        }
    }
}

impl<P: Send + 'static> Agent for TypedSink<P> {
    type Msg = SinkMsg<P>;
    type Reply = u64;

    async fn handle(
        &mut self,
        msg: SinkMsg<P>,
        _ctx: &mut Context<Self>,
    ) -> Result<u64, HandlerError> {
        if let SinkMsg::Data(p) = msg {
            std::hint::black_box(&p);
            self.count += 1;
        }
        Ok(self.count)
    }
}

/// Echoes the number it is asked.
#[derive(Debug, Default)]
pub struct Echo;

impl Agent for Echo {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        Ok(n)
    }
}

fn runtime(timing: Timing) -> AgentRuntime {
    AgentRuntime::new(RuntimeConfig {
        timing,
        ..RuntimeConfig::default()
    })
}

/// One sender tells one agent `n` small messages, then waits until all are handled.
pub async fn tell_agent(n: u64, timing: Timing) -> Duration {
    let rt = runtime(timing);
    let sink = rt
        .spawn(AgentConfig::default(), TypedSink::<u64>::default)
        .expect("spawn");
    let start = Instant::now();
    for i in 0..n {
        sink.tell(SinkMsg::Data(i)).await.expect("tell");
    }
    let count = sink.ask(SinkMsg::Flush, ASK_TIMEOUT).await.expect("flush");
    let elapsed = start.elapsed();
    assert_eq!(count, n);
    rt.shutdown(ShutdownConfig::default()).await;
    elapsed
}

/// One sender sends one consumer task `n` small messages over a bounded mpsc.
pub async fn tell_tokio(n: u64) -> Duration {
    let (tx, mut rx) = mpsc::channel::<u64>(CHANNEL_BOUND);
    let consumer = tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(v);
            count += 1;
        }
        count
    });
    let start = Instant::now();
    for i in 0..n {
        tx.send(i).await.expect("send");
    }
    drop(tx);
    let count = consumer.await.expect("consumer");
    let elapsed = start.elapsed();
    assert_eq!(count, n);
    elapsed
}

/// `senders` concurrent tasks each tell one agent `per_sender` 1 KiB messages.
pub async fn fan_in_agent(senders: u64, per_sender: u64) -> Duration {
    let rt = runtime(Timing::default());
    let sink = rt
        .spawn(AgentConfig::default(), TypedSink::<Kib>::default)
        .expect("spawn");
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let sink = sink.clone();
            tokio::spawn(async move {
                for _ in 0..per_sender {
                    sink.tell(SinkMsg::Data([7u8; 1024])).await.expect("tell");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    let count = sink.ask(SinkMsg::Flush, ASK_TIMEOUT).await.expect("flush");
    let elapsed = start.elapsed();
    assert_eq!(count, senders * per_sender);
    rt.shutdown(ShutdownConfig::default()).await;
    elapsed
}

/// `senders` concurrent tasks each send one consumer `per_sender` 1 KiB messages over one mpsc.
pub async fn fan_in_tokio(senders: u64, per_sender: u64) -> Duration {
    let (tx, mut rx) = mpsc::channel::<Kib>(CHANNEL_BOUND);
    let consumer = tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(&v);
            count += 1;
        }
        count
    });
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for _ in 0..per_sender {
                    tx.send([7u8; 1024]).await.expect("send");
                }
            })
        })
        .collect();
    drop(tx);
    for t in tasks {
        t.await.expect("sender");
    }
    let count = consumer.await.expect("consumer");
    let elapsed = start.elapsed();
    assert_eq!(count, senders * per_sender);
    elapsed
}

/// Spawns `agents` agents, sends each `msgs` messages, and shuts the runtime down (draining).
pub async fn spawn_send_stop_agent(agents: u64, msgs: u64) -> Duration {
    let start = Instant::now();
    let rt = runtime(Timing::default());
    let addrs: Vec<_> = (0..agents)
        .map(|_| {
            rt.spawn(AgentConfig::default(), TypedSink::<u64>::default)
                .expect("spawn")
        })
        .collect();
    for a in &addrs {
        for i in 0..msgs {
            a.tell(SinkMsg::Data(i)).await.expect("tell");
        }
    }
    let report = rt.shutdown(ShutdownConfig::default()).await;
    let elapsed = start.elapsed();
    assert_eq!(report.stopped, agents);
    assert_eq!(rt.snapshot().handled, agents * msgs);
    elapsed
}

/// Spawns `agents` consumer tasks with their own mpsc, sends each `msgs`, closes and joins them.
pub async fn spawn_send_stop_tokio(agents: u64, msgs: u64) -> Duration {
    let start = Instant::now();
    let mut txs = Vec::with_capacity(agents as usize);
    let mut tasks = Vec::with_capacity(agents as usize);
    for _ in 0..agents {
        let (tx, mut rx) = mpsc::channel::<u64>(CHANNEL_BOUND);
        txs.push(tx);
        tasks.push(tokio::spawn(async move {
            let mut count = 0u64;
            while let Some(v) = rx.recv().await {
                std::hint::black_box(v);
                count += 1;
            }
            count
        }));
    }
    for tx in &txs {
        for i in 0..msgs {
            tx.send(i).await.expect("send");
        }
    }
    drop(txs);
    let mut handled = 0;
    for t in tasks {
        handled += t.await.expect("consumer");
    }
    let elapsed = start.elapsed();
    assert_eq!(handled, agents * msgs);
    elapsed
}

/// A latency histogram in nanoseconds, 3 significant figures.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

/// `n` sequential asks of one agent; each round trip is recorded in the returned histogram (ns).
pub async fn ask_agent(n: u64) -> (Duration, Histogram<u64>) {
    let mut hist = latency_histogram();
    let rt = runtime(Timing::default());
    let echo = rt.spawn(AgentConfig::default(), || Echo).expect("spawn");
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let r = echo.ask(i, ASK_TIMEOUT).await.expect("ask");
        hist.saturating_record(t.elapsed().as_nanos() as u64);
        debug_assert_eq!(r, i);
    }
    let elapsed = start.elapsed();
    rt.shutdown(ShutdownConfig::default()).await;
    (elapsed, hist)
}

/// `n` sequential request/replies over mpsc + oneshot; each round trip is recorded in the returned
/// histogram (ns).
pub async fn ask_tokio(n: u64) -> (Duration, Histogram<u64>) {
    ask_tokio_with(n, false).await
}

/// [`ask_tokio`] with each reply awaited under `tokio::time::timeout`, the guarantee agent-core's
/// ask gives.
pub async fn ask_tokio_timeout(n: u64) -> (Duration, Histogram<u64>) {
    ask_tokio_with(n, true).await
}

async fn ask_tokio_with(n: u64, with_timeout: bool) -> (Duration, Histogram<u64>) {
    let mut hist = latency_histogram();
    let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(CHANNEL_BOUND);
    let server = tokio::spawn(async move {
        while let Some((v, reply)) = rx.recv().await {
            let _ = reply.send(v);
        }
    });
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let (rtx, rrx) = oneshot::channel();
        tx.send((i, rtx)).await.expect("send");
        let r = if with_timeout {
            tokio::time::timeout(ASK_TIMEOUT, rrx)
                .await
                .expect("in time")
                .expect("reply")
        } else {
            rrx.await.expect("reply")
        };
        hist.saturating_record(t.elapsed().as_nanos() as u64);
        debug_assert_eq!(r, i);
    }
    let elapsed = start.elapsed();
    drop(tx);
    server.await.expect("server");
    (elapsed, hist)
}

/// Spawns `n` idle agents and returns the time it took; the runtime is returned so the caller can
/// measure what the agents hold, then shut them down.
pub fn spawn_idle_agents(n: u64) -> (Duration, AgentRuntime) {
    let rt = runtime(Timing::default());
    let start = Instant::now();
    for _ in 0..n {
        rt.spawn(AgentConfig::default(), TypedSink::<u64>::default)
            .expect("spawn");
    }
    (start.elapsed(), rt)
}

/// Idle raw tokio "agents": a task waiting on its own bounded mpsc.
pub type IdleTokio = Vec<(mpsc::Sender<u64>, tokio::task::JoinHandle<()>)>;

/// Spawns `n` idle tasks, each waiting on its own bounded mpsc.
pub fn spawn_idle_tokio(n: u64) -> (Duration, IdleTokio) {
    let start = Instant::now();
    let idle: IdleTokio = (0..n)
        .map(|_| {
            let (tx, mut rx) = mpsc::channel::<u64>(CHANNEL_BOUND);
            let task = tokio::spawn(async move {
                while let Some(v) = rx.recv().await {
                    std::hint::black_box(v);
                }
            });
            (tx, task)
        })
        .collect();
    (start.elapsed(), idle)
}

/// Stops idle tokio tasks and waits for them.
pub async fn stop_idle_tokio(idle: IdleTokio) {
    let (txs, tasks): (Vec<_>, Vec<_>) = idle.into_iter().unzip();
    drop(txs);
    for t in tasks {
        t.await.expect("idle task");
    }
}

/// Runs `fut` as a task on `rt`'s worker threads (not on the calling thread, which would make a
/// third thread compete for the two cores) and returns its output.
pub fn run_on<F>(rt: &tokio::runtime::Runtime, fut: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(async move { tokio::spawn(fut).await.expect("benchmark task panicked") })
}

/// The benchmarks' tokio runtime: multi-threaded with one worker per core (2 on the reference
/// machine), timers on and tokio's I/O driver off (agent-core needs no I/O).
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// [`tokio_runtime`] with tokio's I/O driver on too, as in an application that also does network
/// I/O (the peer crates' own runtimes turn it on). Parked workers then wait in the I/O driver,
/// which makes arming a timer that is earlier than their wake-up cost a wake of the driver.
pub fn tokio_runtime_with_io() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
