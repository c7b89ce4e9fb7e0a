//! Tell, ask, FIFO per sender, registry look-ups, health and envelopes.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::{
    Agent, AgentConfig, AgentRuntime, AskError, Context, HandlerError, Health, LookupError,
    MailboxConfig, OverflowPolicy, RuntimeConfig, SendError, SpawnError, Timing, TraceId,
};
use common::{Recorder, Sleeper, Summer};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn tell_then_ask_sees_every_earlier_tell() {
    let rt = AgentRuntime::default();
    let sum = rt.spawn(AgentConfig::default(), Summer::default).unwrap();
    for n in 1..=100 {
        sum.tell(n).await.unwrap();
    }
    assert_eq!(sum.ask(0, SECOND).await.unwrap(), 5050);
    let snap = sum.snapshot();
    assert_eq!(snap.handled, 101);
    assert_eq!(snap.mailbox.delivered, 101);
    assert!(snap.mailbox.is_conserved());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_holds_per_sender_receiver_pair_under_concurrency() {
    const SENDERS: u32 = 8;
    const PER_SENDER: u32 = 2_000;
    let rt = AgentRuntime::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let rec = rt
        .spawn(
            AgentConfig::default()
                .with_mailbox(MailboxConfig::bounded(16, OverflowPolicy::default())),
            move || Recorder {
                log: Arc::clone(&l),
            },
        )
        .unwrap();
    let tasks: Vec<_> = (0..SENDERS)
        .map(|s| {
            let rec = rec.clone();
            tokio::spawn(async move {
                for i in 0..PER_SENDER {
                    rec.tell((s, i)).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    rec.stop();
    assert_eq!(rec.stopped().await, Health::Stopped);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), (SENDERS * PER_SENDER) as usize);
    let mut next = vec![0u32; SENDERS as usize];
    for &(s, i) in log.iter() {
        assert_eq!(i, next[s as usize], "sender {s} out of order");
        next[s as usize] += 1;
    }
}

#[tokio::test(start_paused = true)]
async fn ask_times_out_exactly() {
    let rt = AgentRuntime::default();
    let sleeper = rt.spawn(AgentConfig::default(), || Sleeper).unwrap();
    let start = tokio::time::Instant::now();
    let err = sleeper
        .ask(Duration::from_secs(10), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, AskError::Timeout(d) if d == Duration::from_millis(300)));
    assert_eq!(start.elapsed(), Duration::from_millis(300));
    // The agent is unharmed and answers the next ask once the long sleep is over.
    assert_eq!(
        sleeper
            .ask(Duration::ZERO, Duration::from_secs(20))
            .await
            .unwrap(),
        Duration::ZERO
    );
}

#[tokio::test(start_paused = true)]
async fn failed_sends_hand_the_message_back() {
    let rt = AgentRuntime::default();
    let sum = rt
        .spawn(
            AgentConfig::default().with_mailbox(MailboxConfig::bounded(1, OverflowPolicy::Reject)),
            || Sleeper,
        )
        .unwrap();
    // Occupy the handler, then fill the one slot.
    sum.tell(Duration::from_millis(200)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    sum.tell(Duration::from_millis(1)).await.unwrap();
    let err = sum.tell(Duration::from_millis(7)).await.unwrap_err();
    assert_eq!(err, SendError::Full(Duration::from_millis(7)));
    let err = sum.ask(Duration::from_millis(9), SECOND).await.unwrap_err();
    assert!(matches!(err, AskError::Send(SendError::Full(d)) if d == Duration::from_millis(9)));
    sum.stop();
    sum.stopped().await;
    let err = sum.tell(Duration::from_millis(3)).await.unwrap_err();
    assert_eq!(err.into_inner(), Duration::from_millis(3));
}

#[tokio::test]
async fn registry_finds_agents_by_name_and_id_with_their_type() {
    let rt = AgentRuntime::default();
    let a = rt
        .spawn(AgentConfig::named("summer"), Summer::default)
        .unwrap();
    assert_eq!(rt.lookup::<Summer>("summer").unwrap().id(), a.id());
    assert_eq!(rt.get::<Summer>(a.id()).unwrap().id(), a.id());
    assert!(
        matches!(rt.lookup::<Sleeper>("summer"), Err(LookupError::WrongType(id, _)) if id == a.id())
    );
    assert!(matches!(
        rt.lookup::<Summer>("nobody"),
        Err(LookupError::NotFound(_))
    ));
    assert_eq!(
        rt.spawn(AgentConfig::named("summer"), Summer::default)
            .unwrap_err(),
        SpawnError::NameTaken("summer".into())
    );
    a.stop();
    a.stopped().await;
    // The name is free again once the agent has ended.
    assert!(rt.lookup::<Summer>("summer").is_err());
    assert_eq!(rt.health(a.id()), None);
    rt.spawn(AgentConfig::named("summer"), Summer::default)
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn health_moves_through_its_states() {
    struct SlowStart;
    impl Agent for SlowStart {
        type Msg = ();
        type Reply = ();
        async fn handle(&mut self, _: (), _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
            Ok(())
        }
        async fn on_start(&mut self, _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(())
        }
        async fn on_stop(&mut self, _ctx: &mut Context<Self>) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let rt = AgentRuntime::default();
    let a = rt.spawn(AgentConfig::default(), || SlowStart).unwrap();
    tokio::task::yield_now().await;
    assert_eq!(a.health(), Health::Starting);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(a.health(), Health::Running);
    assert_eq!(rt.health(a.id()), Some(Health::Running));
    a.stop();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(a.health(), Health::Stopping);
    assert_eq!(a.stopped().await, Health::Stopped);
}

#[tokio::test(start_paused = true)]
async fn envelopes_carry_trace_ids_and_queue_time() {
    struct Probe;
    impl Agent for Probe {
        type Msg = Duration;
        type Reply = (TraceId, Option<Duration>);
        async fn handle(
            &mut self,
            work: Duration,
            ctx: &mut Context<Self>,
        ) -> Result<(TraceId, Option<Duration>), HandlerError> {
            let seen = (ctx.trace_id(), ctx.queue_time());
            tokio::time::sleep(work).await;
            Ok(seen)
        }
    }
    let rt = AgentRuntime::default();
    let p = rt.spawn(AgentConfig::default(), || Probe).unwrap();
    // The first message occupies the agent for 40 ms, so the second queues for exactly 40 ms.
    p.tell(Duration::from_millis(40)).await.unwrap();
    let trace = TraceId::new();
    let (seen, queued) = p.ask_traced(Duration::ZERO, trace, SECOND).await.unwrap();
    assert_eq!(seen, trace);
    assert_eq!(queued, Some(Duration::from_millis(40)));
    let snap = p.snapshot();
    // The first tell (send count 0) and every ask are measured.
    assert_eq!(snap.timed, 2);
    assert_eq!(snap.queue_time_max_ns, 40_000_000);
    assert_eq!(snap.service_time_total_ns, 40_000_000);
}

/// Which messages are measured: one tell in `every` (by the mailbox's send count) and every ask;
/// none with timing off, where handlers see no queue time.
#[tokio::test(start_paused = true)]
async fn timing_samples_one_tell_in_n_and_every_ask() {
    struct Seen(Arc<Mutex<Vec<bool>>>);
    impl Agent for Seen {
        type Msg = ();
        type Reply = ();
        async fn handle(&mut self, (): (), ctx: &mut Context<Self>) -> Result<(), HandlerError> {
            self.0.lock().unwrap().push(ctx.queue_time().is_some());
            Ok(())
        }
    }
    for (timing, tells_timed) in [
        (Timing::default(), 2),
        (Timing::Sampled { every: 5 }, 7),
        (Timing::EVERY_MESSAGE, 32),
        (Timing::Off, 0),
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rt = AgentRuntime::new(RuntimeConfig {
            timing,
            ..RuntimeConfig::default()
        });
        let log = Arc::clone(&seen);
        let a = rt
            .spawn(AgentConfig::default(), move || Seen(Arc::clone(&log)))
            .unwrap();
        for _ in 0..32 {
            a.tell(()).await.unwrap();
        }
        a.ask((), SECOND).await.unwrap();
        let asks_timed = u64::from(timing != Timing::Off);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen.iter().filter(|t| **t).count() as u64,
            tells_timed + asks_timed,
            "{timing:?}"
        );
        assert_eq!(seen[32], timing != Timing::Off, "the ask, {timing:?}");
        assert_eq!(a.snapshot().timed, tells_timed + asks_timed, "{timing:?}");
    }
}

#[tokio::test]
async fn snapshots_serialize_to_json() {
    let rt = AgentRuntime::default();
    let a = rt
        .spawn(AgentConfig::named("json"), Summer::default)
        .unwrap();
    a.ask(1, SECOND).await.unwrap();
    let json = serde_json::to_string(&a.snapshot()).unwrap();
    let back: agent_core::AgentSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a.snapshot());
    let rt_json = serde_json::to_value(rt.snapshot()).unwrap();
    assert_eq!(rt_json["mailboxes"]["delivered"], 1);
    assert_eq!(rt_json["agents_live"], 1);
}

#[tokio::test(start_paused = true)]
async fn an_ask_that_times_out_waiting_for_room_gets_its_message_back() {
    let rt = AgentRuntime::default();
    let s = rt
        .spawn(
            AgentConfig::default()
                .with_mailbox(MailboxConfig::bounded(1, OverflowPolicy::default())),
            || Sleeper,
        )
        .unwrap();
    s.tell(Duration::from_secs(10)).await.unwrap(); // being handled
    tokio::task::yield_now().await; // the agent takes it
    s.tell(Duration::from_secs(10)).await.unwrap(); // fills the one slot
    let start = tokio::time::Instant::now();
    let err = s
        .ask(Duration::from_millis(5), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, AskError::Send(SendError::Timeout(d)) if d == Duration::from_millis(5)));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let m = s.mailbox();
    assert_eq!((m.timed_out, m.blocked_sends), (1, 1));
    assert!(m.is_conserved());
}

/// Asks' deadlines are held by the runtime's sweeper, not a timer per ask: asks with different
/// timeouts to an agent that never answers each end exactly at their own deadline, including one
/// registered after the sweeper went to sleep on a later one, and an answer in time still wins.
#[tokio::test(start_paused = true)]
async fn every_ask_ends_at_its_own_deadline() {
    let rt = AgentRuntime::default();
    // Sleeps as long as it is told: the first ask keeps it busy past every other deadline.
    let s = rt.spawn(AgentConfig::default(), || Sleeper).unwrap();
    let start = tokio::time::Instant::now();
    let mut asks = tokio::task::JoinSet::new();
    for (delay_ms, timeout_ms) in [(0u64, 500u64), (0, 900), (10, 100), (20, 300)] {
        let s = s.clone();
        asks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let err = s
                .ask(Duration::from_secs(10), Duration::from_millis(timeout_ms))
                .await
                .unwrap_err();
            assert!(matches!(err, AskError::Timeout(_)), "{err:?}");
            (delay_ms + timeout_ms, start.elapsed())
        });
    }
    while let Some(done) = asks.join_next().await {
        let (due_ms, at) = done.unwrap();
        assert_eq!(at, Duration::from_millis(due_ms));
    }
    let quick = rt.spawn(AgentConfig::default(), || Sleeper).unwrap();
    assert!(quick.ask(Duration::ZERO, SECOND).await.is_ok());
}
