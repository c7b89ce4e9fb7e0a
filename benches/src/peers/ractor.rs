//! The workloads on ractor (unbounded mailboxes; `cast` to tell, `call` to ask).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;

use crate::workloads::{latency_histogram, Kib};

/// What the counting sink receives.
#[derive(Debug)]
pub enum Msg<P> {
    /// A payload to count.
    Data(P),
    /// Replies with the count so far.
    Flush(RpcReplyPort<u64>),
}

struct Sink<P>(std::marker::PhantomData<fn(P)>);

impl<P: Send + 'static> Actor for Sink<P> {
    type Msg = Msg<P>;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _me: ActorRef<Msg<P>>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _me: ActorRef<Msg<P>>,
        msg: Msg<P>,
        count: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Msg::Data(p) => {
                std::hint::black_box(&p);
                *count += 1;
            }
            Msg::Flush(reply) => {
                let _ = reply.send(*count);
            }
        }
        Ok(())
    }
}

async fn spawn_sink<P: Send + 'static>() -> (ActorRef<Msg<P>>, JoinHandle<()>) {
    Actor::spawn(None, Sink(std::marker::PhantomData), ())
        .await
        .expect("spawn")
}

async fn flush<P: Send + 'static>(a: &ActorRef<Msg<P>>) -> u64 {
    ractor::call!(a, Msg::Flush).expect("flush")
}

async fn stop<P: Send + 'static>(a: ActorRef<Msg<P>>, handle: JoinHandle<()>) {
    a.stop(None);
    handle.await.expect("actor task");
}

/// `n` tells from one sender to one actor, then a flush.
pub async fn tell(n: u64) -> Duration {
    let (a, h) = spawn_sink::<u64>().await;
    let start = Instant::now();
    for i in 0..n {
        a.cast(Msg::Data(i)).expect("cast");
    }
    assert_eq!(flush(&a).await, n);
    let elapsed = start.elapsed();
    stop(a, h).await;
    elapsed
}

/// `senders` tasks each tell `per_sender` 1 KiB messages to one actor.
pub async fn fan_in(senders: u64, per_sender: u64) -> Duration {
    let (a, h) = spawn_sink::<Kib>().await;
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                for _ in 0..per_sender {
                    a.cast(Msg::Data([7u8; 1024])).expect("cast");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    assert_eq!(flush(&a).await, senders * per_sender);
    let elapsed = start.elapsed();
    stop(a, h).await;
    elapsed
}

/// Spawns `agents` actors, tells each `msgs`, flushes and stops them all.
pub async fn spawn_send_stop(agents: u64, msgs: u64) -> Duration {
    let start = Instant::now();
    let mut actors = Vec::with_capacity(agents as usize);
    for _ in 0..agents {
        actors.push(spawn_sink::<u64>().await);
    }
    for (a, _) in &actors {
        for i in 0..msgs {
            a.cast(Msg::Data(i)).expect("cast");
        }
    }
    for (a, h) in actors {
        assert_eq!(flush(&a).await, msgs);
        stop(a, h).await;
    }
    start.elapsed()
}

/// `n` sequential asks of one actor, each round trip recorded (ns).
pub async fn ask(n: u64) -> (Duration, Histogram<u64>) {
    let mut hist = latency_histogram();
    let (a, h) = spawn_sink::<u64>().await;
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(flush(&a).await);
        hist.saturating_record(t.elapsed().as_nanos() as u64);
    }
    let elapsed = start.elapsed();
    stop(a, h).await;
    (elapsed, hist)
}

/// Idle actors and their task handles.
pub type Idle = Vec<(ActorRef<Msg<u64>>, JoinHandle<()>)>;

/// Spawns `n` idle actors.
pub async fn spawn_idle(n: u64) -> (Duration, Idle) {
    let start = Instant::now();
    let mut idle = Vec::with_capacity(n as usize);
    for _ in 0..n {
        idle.push(spawn_sink::<u64>().await);
    }
    (start.elapsed(), idle)
}

/// Stops idle actors and waits for them.
pub async fn stop_idle(idle: Idle) {
    for (a, h) in idle {
        stop(a, h).await;
    }
}
