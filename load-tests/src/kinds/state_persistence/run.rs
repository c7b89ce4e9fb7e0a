//! Seed 002's state persistence: agents save their state to a durable store on disk (redb)
//! again and again while a heartbeat agent keeps answering; saves run on the blocking pool, so
//! the heartbeat is not held up. Real time: disk latency is the subject, so it is gated as a
//! ratio to the same saves made straight from tokio tasks in the same process at the same time
//! (against a second file), and "no blocking" as the heartbeat's p99 against a save's median: a
//! save that held up the runtime would make the heartbeat wait as long as a save.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{load_json, save_json, DiskStore};
use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, ShutdownConfig};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::StatePersistence;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::{extra, Rules};
use crate::metrics::LatencyRecorder;
use crate::report::Report;
use crate::scenario::Scenario;

#[derive(Debug, Serialize, Deserialize)]
struct SavedState {
    agent: usize,
    saves: u64,
    notes: String,
}

impl SavedState {
    /// Agent `agent`'s state after `saves` saves (the same on both sides of the yardstick).
    fn new(agent: usize, saves: u64) -> SavedState {
        SavedState {
            agent,
            saves,
            notes: "conversation summary ".repeat(8),
        }
    }
}

struct Saver {
    index: usize,
    saves: u64,
    store: DiskStore,
}

impl Agent for Saver {
    type Msg = ();
    type Reply = Result<Duration, String>;

    async fn handle(
        &mut self,
        _: (),
        _ctx: &mut Context<Self>,
    ) -> Result<Self::Reply, HandlerError> {
        self.saves += 1;
        let state = SavedState::new(self.index, self.saves);
        let t = Instant::now();
        let saved = save_json(&self.store, &format!("agent-{}", self.index), &state).await;
        Ok(saved.map(|()| t.elapsed()).map_err(|e| e.to_string()))
    }
}

struct Heartbeat;

impl Agent for Heartbeat {
    type Msg = ();
    type Reply = ();
    async fn handle(&mut self, _: (), _ctx: &mut Context<Self>) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// Agents whose last saved state read back intact after reopening.
pub(crate) const STATES_VERIFIED_AFTER_REOPEN: &str = "states_verified_after_reopen";
/// The same saves' p95 made straight from tokio tasks over ours through agents: 1.0 is no
/// cost, below 1 the agents add latency.
pub(crate) const SAVE_P95_RATIO: &str = "save_p95_ratio";
/// The heartbeat's p99 over a save's median: far below 1 when saves block nothing.
pub(crate) const HEARTBEAT_OVER_SAVE: &str = "heartbeat_p99_over_save_p50";
/// The most [`HEARTBEAT_OVER_SAVE`] may be: a heartbeat stuck behind saves would wait about a
/// save's time (a ratio near 1).
const BLOCKING_RATIO: f64 = 0.5;

/// The same saves as the agents make, straight from one tokio task per agent: the yardstick.
async fn raw_saves(agents: usize, per: usize) -> LatencyRecorder {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = DiskStore::open(dir.path().join("raw.redb")).expect("a writable directory");
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut latency = LatencyRecorder::default();
                for n in 0..per {
                    let state = SavedState::new(i, n as u64 + 1);
                    let t = Instant::now();
                    save_json(&store, &format!("agent-{i}"), &state)
                        .await
                        .expect("raw save");
                    latency.record_total(t.elapsed());
                }
                latency
            })
        })
        .collect();
    let mut all = LatencyRecorder::default();
    for t in tasks {
        all.merge(&t.await.expect("raw saver"));
    }
    all
}

impl Drive for StatePersistence {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("state.redb");
        let store = DiskStore::open(&path).expect("a writable temporary directory");
        let rt = AgentRuntime::default();
        ctx.watch(&rt);
        let heartbeat = rt
            .spawn(AgentConfig::named("heartbeat"), || Heartbeat)
            .expect("spawn");
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let beats = {
            let running = Arc::clone(&running);
            tokio::spawn(async move {
                let mut latency = LatencyRecorder::default();
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = Instant::now();
                    let _ = heartbeat.ask((), Duration::from_secs(60)).await;
                    latency.record_total(t.elapsed());
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                latency
            })
        };
        // The yardstick runs at the same time, against its own file: whatever else the machine
        // does reaches both sides alike.
        let raw = tokio::spawn(raw_saves(s.agents, s.ops_per_agent));
        let savers: Vec<_> = (0..s.agents)
            .map(|i| {
                let store = store.clone();
                let agent = rt
                    .spawn(AgentConfig::named(format!("saver-{i}")), move || Saver {
                        index: i,
                        saves: 0,
                        store: store.clone(),
                    })
                    .expect("spawn");
                let ctx = Arc::clone(ctx);
                let per = s.ops_per_agent;
                tokio::spawn(async move {
                    let mut results = Vec::with_capacity(per);
                    for _ in 0..per {
                        results.push(agent.ask((), Duration::from_secs(600)).await);
                        ctx.done(1);
                    }
                    results
                })
            })
            .collect();
        let mut out = DriverOutput::default();
        for saver in savers {
            for r in saver.await.expect("saver task") {
                match r {
                    Ok(Ok(latency)) => {
                        out.latency.record(latency, Duration::ZERO, latency);
                        out.ops.record(Ok(()));
                    }
                    Ok(Err(_)) => out.ops.record(Err("save_failed")),
                    Err(_) => out.ops.record(Err("ask_failed")),
                }
            }
        }
        running.store(false, std::sync::atomic::Ordering::Relaxed);
        let beat = beats.await.expect("heartbeat task").summary().total;
        rt.shutdown(ShutdownConfig::default()).await;
        drop(store);
        // Reopen the store: every agent's last state must be there.
        let reopened = DiskStore::open(&path).expect("reopen");
        let mut verified = 0;
        for i in 0..s.agents {
            let state: Option<SavedState> = load_json(&reopened, &format!("agent-{i}"))
                .await
                .unwrap_or(None);
            if state.is_some_and(|st| st.saves == s.ops_per_agent as u64 && st.agent == i) {
                verified += 1;
            }
        }
        drop(reopened);
        drop(dir);
        let saves = out.latency.summary().service;
        let raw = raw.await.expect("raw savers").summary().total;
        out.extra
            .insert(STATES_VERIFIED_AFTER_REOPEN.into(), f64::from(verified));
        out.extra
            .insert("save_p95_ms".into(), saves.p95_ns as f64 / 1e6);
        out.extra
            .insert("raw_save_p95_ms".into(), raw.p95_ns as f64 / 1e6);
        out.extra.insert(
            SAVE_P95_RATIO.into(),
            raw.p95_ns as f64 / saves.p95_ns.max(1) as f64,
        );
        out.extra.insert(
            HEARTBEAT_OVER_SAVE.into(),
            beat.p99_ns as f64 / saves.p50_ns.max(1) as f64,
        );
        out.extra
            .insert("heartbeat_p99_ms".into(), beat.p99_ns as f64 / 1e6);
        out.extra
            .insert("heartbeat_max_ms".into(), beat.max_ns as f64 / 1e6);
        out
    }
}

impl Rules for StatePersistence {
    /// Every state verified; the save p95 as a ratio to the same saves without agents.
    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::extra(STATES_VERIFIED_AFTER_REOPEN),
            Gate::ratio(&format!("extra.{SAVE_P95_RATIO}")),
        ]
    }

    /// No blocking (seed 002): the heartbeat kept answering far faster than a save takes.
    fn invariants(&self, r: &Report, broken: &mut Vec<String>) {
        let ratio = extra(r, HEARTBEAT_OVER_SAVE);
        if ratio.is_nan() || ratio >= BLOCKING_RATIO {
            broken.push(format!(
                "heartbeat p99 is {ratio:.2}x a save's median (at most {BLOCKING_RATIO}): saves held up the runtime"
            ));
        }
    }

    fn headline(&self, r: &Report) -> String {
        format!(
            "save p95 {:.1} ms ({:.2}x the same saves without agents), heartbeat p99 {:.2} ms; {} of {} states verified (real time)",
            extra(r, "save_p95_ms"),
            1.0 / extra(r, SAVE_P95_RATIO),
            extra(r, "heartbeat_p99_ms"),
            extra(r, STATES_VERIFIED_AFTER_REOPEN),
            r.config.agents
        )
    }
}
