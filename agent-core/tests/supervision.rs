//! Supervision: failures are contained, counted, reported, and handled by the restart policy.

mod common;

use std::time::Duration;

use agent_core::{
    AgentConfig, AgentRuntime, AskError, Backoff, FailureAction, FailureCause, HandlerFailure,
    Health, RestartPolicy, TraceId,
};
use common::{quiet_panics, Flaky, Job};

const SECOND: Duration = Duration::from_secs(1);

fn restart(max_restarts: u32) -> RestartPolicy {
    RestartPolicy::OnFailure {
        max_restarts,
        within: Duration::from_secs(60),
        backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: 2,
        },
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_restarts_the_agent_and_the_messages_behind_it_are_delivered() {
    quiet_panics();
    let rt = AgentRuntime::default();
    let (factory, probe) = Flaky::factory();
    let a = rt
        .spawn(
            AgentConfig::named("flaky").with_restart(restart(5)),
            factory,
        )
        .unwrap();
    a.tell(Job::Work(1)).await.unwrap();
    let trace = TraceId::new();
    a.tell_traced(Job::Panic, trace).await.unwrap();
    for n in 2..=4 {
        a.tell(Job::Work(n)).await.unwrap();
    }
    let start = tokio::time::Instant::now();
    assert_eq!(a.ask(Job::Work(5), SECOND).await.unwrap(), 5);
    // The restart waited out exactly the first backoff step.
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(probe.handled(), [1, 2, 3, 4, 5]);
    assert_eq!(probe.starts(), 2);

    let snap = a.snapshot();
    assert_eq!((snap.panics, snap.restarts, snap.errors), (1, 1, 0));
    assert_eq!(snap.mailbox.delivered, 6);
    assert!(snap.mailbox.is_conserved());
    let failures = rt.failures();
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.trace_id, Some(trace));
    assert_eq!(f.cause, FailureCause::Panic);
    assert_eq!(f.agent_name.as_deref(), Some("flaky"));
    assert!(f.message.contains("on purpose"), "{}", f.message);
    assert_eq!(f.action, FailureAction::Restarted { backoff_ms: 100 });
}

#[tokio::test(start_paused = true)]
async fn the_asker_of_a_failed_message_gets_the_failure() {
    quiet_panics();
    let rt = AgentRuntime::default();
    let (factory, _probe) = Flaky::factory();
    let a = rt
        .spawn(AgentConfig::default().with_restart(restart(5)), factory)
        .unwrap();
    let err = a.ask(Job::Fail, SECOND).await.unwrap_err();
    assert!(
        matches!(err, AskError::Failed(HandlerFailure::Error(ref m)) if m.contains("on purpose"))
    );
    let err = a.ask(Job::Panic, SECOND).await.unwrap_err();
    assert!(matches!(err, AskError::Failed(HandlerFailure::Panic(_))));
    assert_eq!(a.ask(Job::Work(9), SECOND).await.unwrap(), 9);
    assert_eq!(rt.snapshot().failures_reported, 2);
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_and_the_policy_gives_up_after_max_restarts() {
    quiet_panics();
    let rt = AgentRuntime::default();
    let (factory, probe) = Flaky::factory();
    let a = rt
        .spawn(AgentConfig::default().with_restart(restart(3)), factory)
        .unwrap();
    for _ in 0..4 {
        a.tell(Job::Panic).await.unwrap();
    }
    a.tell(Job::Work(1)).await.unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(a.stopped().await, Health::Failed);
    // Three restarts: 100 + 200 + 400 ms of backoff, then the fourth failure stops it.
    assert_eq!(start.elapsed(), Duration::from_millis(700));
    assert_eq!(probe.starts(), 4);
    assert_eq!(
        probe.stops(),
        1,
        "the stop hook runs once, on the final instance"
    );
    let actions: Vec<_> = rt.failures().iter().map(|f| f.action).collect();
    assert_eq!(
        actions,
        [
            FailureAction::Restarted { backoff_ms: 100 },
            FailureAction::Restarted { backoff_ms: 200 },
            FailureAction::Restarted { backoff_ms: 400 },
            FailureAction::Stopped,
        ]
    );
    // The message queued behind the last failure is abandoned, and accounted for.
    let snap = rt.snapshot();
    assert_eq!(snap.mailboxes.abandoned, 1);
    assert!(snap.mailboxes.is_conserved());
    assert_eq!((snap.agents_failed, snap.panics, snap.restarts), (1, 4, 3));
}

#[tokio::test(start_paused = true)]
async fn never_policy_stops_on_first_failure_and_the_runtime_carries_on() {
    quiet_panics();
    let rt = AgentRuntime::default();
    let (factory, _) = Flaky::factory();
    let doomed = rt
        .spawn(
            AgentConfig::default().with_restart(RestartPolicy::Never),
            factory,
        )
        .unwrap();
    let (factory, probe) = Flaky::factory();
    let healthy = rt.spawn(AgentConfig::default(), factory).unwrap();
    doomed.tell(Job::Panic).await.unwrap();
    assert_eq!(doomed.stopped().await, Health::Failed);
    assert_eq!(healthy.ask(Job::Work(7), SECOND).await.unwrap(), 7);
    assert_eq!(probe.handled(), [7]);
    assert_eq!(rt.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn restarts_outside_the_window_do_not_count() {
    quiet_panics();
    let rt = AgentRuntime::default();
    let (factory, probe) = Flaky::factory();
    let policy = RestartPolicy::OnFailure {
        max_restarts: 1,
        within: Duration::from_secs(1),
        backoff: Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
            factor: 1,
        },
    };
    let a = rt
        .spawn(AgentConfig::default().with_restart(policy), factory)
        .unwrap();
    for _ in 0..5 {
        let _ = a.ask(Job::Panic, SECOND).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(a.health(), Health::Running);
    assert_eq!(probe.starts(), 6);
}
