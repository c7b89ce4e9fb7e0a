//! The workloads on actix (`do_send` to tell, which ignores the mailbox bound; `send` to ask).
//! Every function must run inside an actix `System`: use [`run`].

use std::future::Future;
use std::time::{Duration, Instant};

use actix::prelude::*;
use hdrhistogram::Histogram;

use crate::workloads::{latency_histogram, Kib};

/// Runs `f`'s future to completion on a fresh actix `System` (one thread), then stops it.
pub fn run<F, Fut>(f: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let system = actix_rt::System::new();
    let out = system.block_on(f());
    System::current().stop();
    system.run().expect("actix system");
    out
}

/// Counts the payloads of type `P` it receives.
#[derive(Debug)]
pub struct Sink<P> {
    count: u64,
    _p: std::marker::PhantomData<fn(P)>,
}

impl<P: Unpin + 'static> Actor for Sink<P> {
    type Context = Context<Self>;
}

/// A payload to count.
#[derive(Debug)]
pub struct Data<P>(P);

impl<P> actix::Message for Data<P> {
    type Result = ();
}

/// Asks for the count so far; with `stop`, stops the actor after replying.
#[derive(Debug)]
pub struct Flush {
    stop: bool,
}

impl actix::Message for Flush {
    type Result = u64;
}

impl<P: Unpin + 'static> Handler<Data<P>> for Sink<P> {
    type Result = ();
    fn handle(&mut self, msg: Data<P>, _ctx: &mut Context<Self>) {
        std::hint::black_box(&msg.0);
        self.count += 1;
    }
}

impl<P: Unpin + 'static> Handler<Flush> for Sink<P> {
    type Result = u64;
    fn handle(&mut self, msg: Flush, ctx: &mut Context<Self>) -> u64 {
        if msg.stop {
            ctx.stop();
        }
        self.count
    }
}

fn spawn_sink<P: Unpin + 'static>() -> Addr<Sink<P>> {
    Sink {
        count: 0,
        _p: std::marker::PhantomData,
    }
    .start()
}

async fn flush<P: Unpin + 'static>(a: &Addr<Sink<P>>, stop: bool) -> u64 {
    a.send(Flush { stop }).await.expect("flush")
}

/// `n` tells from one sender to one actor, then a flush.
pub async fn tell(n: u64) -> Duration {
    let a = spawn_sink::<u64>();
    let start = Instant::now();
    for i in 0..n {
        a.do_send(Data(i));
    }
    assert_eq!(flush(&a, true).await, n);
    start.elapsed()
}

/// `senders` tasks each tell `per_sender` 1 KiB messages to one actor.
pub async fn fan_in(senders: u64, per_sender: u64) -> Duration {
    let a = spawn_sink::<Kib>();
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let a = a.clone();
            actix_rt::spawn(async move {
                for _ in 0..per_sender {
                    a.do_send(Data([7u8; 1024]));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    assert_eq!(flush(&a, true).await, senders * per_sender);
    start.elapsed()
}

/// Spawns `agents` actors, tells each `msgs`, then flushes and stops them.
pub async fn spawn_send_stop(agents: u64, msgs: u64) -> Duration {
    let start = Instant::now();
    let actors: Vec<_> = (0..agents).map(|_| spawn_sink::<u64>()).collect();
    for a in &actors {
        for i in 0..msgs {
            a.do_send(Data(i));
        }
    }
    for a in &actors {
        assert_eq!(flush(a, true).await, msgs);
    }
    start.elapsed()
}

/// `n` sequential asks of one actor, each round trip recorded (ns).
pub async fn ask(n: u64) -> (Duration, Histogram<u64>) {
    let mut hist = latency_histogram();
    let a = spawn_sink::<u64>();
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(flush(&a, false).await);
        hist.saturating_record(t.elapsed().as_nanos() as u64);
    }
    let elapsed = start.elapsed();
    flush(&a, true).await;
    (elapsed, hist)
}

/// Idle actors.
pub type Idle = Vec<Addr<Sink<u64>>>;

/// Spawns `n` idle actors, and yields once so each has started.
pub async fn spawn_idle(n: u64) -> (Duration, Idle) {
    let start = Instant::now();
    let idle: Idle = (0..n).map(|_| spawn_sink::<u64>()).collect();
    let elapsed = start.elapsed();
    tokio::task::yield_now().await;
    (elapsed, idle)
}

/// Stops idle actors (a flush that stops each, awaited).
pub async fn stop_idle(idle: Idle) {
    for a in &idle {
        flush(a, true).await;
    }
}
