//! The workloads on kameo (bounded mailboxes of the same size as agent-core's; `tell` waits for
//! room, `ask` for the reply).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use kameo::actor::{ActorRef, Spawn};
use kameo::mailbox;
use kameo::message::{Context, Message};
use kameo::Actor;

use crate::workloads::{latency_histogram, Kib, CHANNEL_BOUND};

/// Counts the payloads of type `P` it receives.
#[derive(Debug)]
pub struct Sink<P> {
    count: u64,
    _p: std::marker::PhantomData<fn(P)>,
}

impl<P: Send + 'static> Actor for Sink<P> {
    type Args = Self;
    type Error = std::convert::Infallible;

    async fn on_start(state: Self, _me: ActorRef<Self>) -> Result<Self, Self::Error> {
        Ok(state)
    }
}

/// A payload to count.
#[derive(Debug)]
pub struct Data<P>(P);

/// Asks for the count so far.
#[derive(Debug)]
pub struct Flush;

impl<P: Send + 'static> Message<Data<P>> for Sink<P> {
    type Reply = ();
    async fn handle(&mut self, msg: Data<P>, _ctx: &mut Context<Self, ()>) {
        std::hint::black_box(&msg.0);
        self.count += 1;
    }
}

impl<P: Send + 'static> Message<Flush> for Sink<P> {
    type Reply = u64;
    async fn handle(&mut self, _: Flush, _ctx: &mut Context<Self, u64>) -> u64 {
        self.count
    }
}

fn spawn_sink<P: Send + 'static>() -> ActorRef<Sink<P>> {
    Sink::spawn_with_mailbox(
        Sink {
            count: 0,
            _p: std::marker::PhantomData,
        },
        mailbox::bounded(CHANNEL_BOUND),
    )
}

async fn stop<P: Send + 'static>(a: &ActorRef<Sink<P>>) {
    a.stop_gracefully().await.expect("stop");
    a.wait_for_shutdown().await;
}

/// `n` tells from one sender to one actor, then a flush.
pub async fn tell(n: u64) -> Duration {
    let a = spawn_sink::<u64>();
    let start = Instant::now();
    for i in 0..n {
        a.tell(Data(i)).await.expect("tell");
    }
    assert_eq!(a.ask(Flush).await.expect("flush"), n);
    let elapsed = start.elapsed();
    stop(&a).await;
    elapsed
}

/// `senders` tasks each tell `per_sender` 1 KiB messages to one actor.
pub async fn fan_in(senders: u64, per_sender: u64) -> Duration {
    let a = spawn_sink::<Kib>();
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                for _ in 0..per_sender {
                    a.tell(Data([7u8; 1024])).await.expect("tell");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    assert_eq!(a.ask(Flush).await.expect("flush"), senders * per_sender);
    let elapsed = start.elapsed();
    stop(&a).await;
    elapsed
}

/// Spawns `agents` actors, tells each `msgs`, then stops them all gracefully (draining).
pub async fn spawn_send_stop(agents: u64, msgs: u64) -> Duration {
    let start = Instant::now();
    let actors: Vec<_> = (0..agents).map(|_| spawn_sink::<u64>()).collect();
    for a in &actors {
        for i in 0..msgs {
            a.tell(Data(i)).await.expect("tell");
        }
    }
    for a in &actors {
        assert_eq!(a.ask(Flush).await.expect("flush"), msgs);
        stop(a).await;
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
        std::hint::black_box(a.ask(Flush).await.expect("ask"));
        hist.saturating_record(t.elapsed().as_nanos() as u64);
    }
    let elapsed = start.elapsed();
    stop(&a).await;
    (elapsed, hist)
}

/// Idle actors.
pub type Idle = Vec<ActorRef<Sink<u64>>>;

/// Spawns `n` idle actors (must run inside a tokio runtime).
pub fn spawn_idle(n: u64) -> (Duration, Idle) {
    let start = Instant::now();
    let idle = (0..n).map(|_| spawn_sink::<u64>()).collect();
    (start.elapsed(), idle)
}

/// Stops idle actors and waits for them.
pub async fn stop_idle(idle: Idle) {
    for a in &idle {
        stop(a).await;
    }
}
