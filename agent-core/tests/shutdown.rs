//! Graceful shutdown: drain, deadline, stop hooks, and no task left behind.

mod common;

use std::time::Duration;

use agent_core::{AgentConfig, AgentRuntime, ShutdownConfig, SpawnError};
use common::{Flaky, Job};

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Tasks alive once tokio has reaped the finished ones. On a multi-threaded runtime a task whose
/// future has completed is removed from tokio's task list a moment later, on its worker thread,
/// which a loaded machine may not schedule for a while; this polls the count until it is zero or
/// five seconds have passed, whichever comes first.
async fn alive_tasks_after_reaping() -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive_tasks() != 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_250_busy_agents_leaves_no_task_behind() {
    const AGENTS: u32 = 250;
    const QUEUED: u32 = 20;
    let rt = AgentRuntime::default();
    let mut probes = Vec::new();
    for _ in 0..AGENTS {
        let (factory, probe) = Flaky::factory();
        let a = rt.spawn(AgentConfig::default(), factory).unwrap();
        for n in 0..QUEUED {
            a.tell(Job::Sleep(Duration::from_micros(50))).await.unwrap();
            a.tell(Job::Work(n)).await.unwrap();
        }
        probes.push(probe);
    }
    assert_eq!(alive_tasks(), AGENTS as usize);
    let report = rt
        .shutdown(ShutdownConfig {
            drain_deadline: Duration::from_secs(60),
            grace: Duration::from_secs(1),
        })
        .await;
    assert!(report.drained_in_time);
    assert_eq!(
        (report.agents, report.stopped, report.failed, report.aborted),
        (250, 250, 0, 0)
    );
    assert_eq!(report.abandoned, 0);
    assert_eq!(
        alive_tasks_after_reaping().await,
        0,
        "agent tasks left behind"
    );
    assert!(rt.is_empty());
    for p in &probes {
        assert_eq!(p.handled().len(), QUEUED as usize);
        assert_eq!(p.stops(), 1);
    }
    let snap = rt.snapshot();
    assert_eq!(snap.mailboxes.delivered, u64::from(AGENTS * QUEUED * 2));
    assert!(snap.mailboxes.is_conserved());
    assert_eq!(snap.agents_stopped, 250);
    // A runtime that has shut down accepts nothing new.
    let (factory, _) = Flaky::factory();
    assert_eq!(
        rt.spawn(AgentConfig::default(), factory).unwrap_err(),
        SpawnError::ShuttingDown
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_abandons_what_is_left_and_counts_it() {
    let rt = AgentRuntime::default();
    let mut addrs = Vec::new();
    for _ in 0..10 {
        let (factory, _) = Flaky::factory();
        let a = rt.spawn(AgentConfig::default(), factory).unwrap();
        // Each job takes 100 ms; with a 250 ms deadline, jobs 1-3 are handled and 4-10 abandoned.
        for _ in 0..10 {
            a.tell(Job::Sleep(Duration::from_millis(100)))
                .await
                .unwrap();
        }
        addrs.push(a);
    }
    tokio::task::yield_now().await;
    let report = rt
        .shutdown(ShutdownConfig {
            drain_deadline: Duration::from_millis(250),
            grace: Duration::from_secs(1),
        })
        .await;
    assert!(!report.drained_in_time);
    // Each agent had taken its first job before the shutdown began; two more drained after.
    assert_eq!(report.drained, 20);
    assert_eq!(report.abandoned, 70);
    assert_eq!((report.stopped, report.aborted), (10, 0));
    // The third job finishes at 300 ms, within the grace period.
    assert_eq!(report.elapsed_ms, 300);
    let snap = rt.snapshot();
    assert_eq!(
        (snap.mailboxes.delivered, snap.mailboxes.abandoned),
        (30, 70)
    );
    assert!(snap.mailboxes.is_conserved());
}

#[tokio::test(start_paused = true)]
async fn a_handler_stuck_past_the_grace_period_is_aborted() {
    let rt = AgentRuntime::default();
    let (factory, probe) = Flaky::factory();
    let stuck = rt.spawn(AgentConfig::default(), factory).unwrap();
    stuck
        .tell(Job::Sleep(Duration::from_secs(3600)))
        .await
        .unwrap();
    tokio::task::yield_now().await;
    let report = rt
        .shutdown(ShutdownConfig {
            drain_deadline: Duration::from_millis(100),
            grace: Duration::from_millis(100),
        })
        .await;
    assert_eq!((report.stopped, report.aborted), (0, 1));
    assert_eq!(report.elapsed_ms, 200);
    assert_eq!(probe.stops(), 0, "an aborted agent's stop hook cannot run");
    assert_eq!(alive_tasks(), 0);
    assert_eq!(stuck.health(), agent_core::Health::Failed);
}
