//! Seed 002's state persistence: agents save their state to a durable store on disk (redb)
//! again and again while a heartbeat agent keeps answering; saves run on the blocking pool, so
//! the heartbeat is not held up. Real time: disk latency is the subject.

use std::sync::Arc;
use std::time::Duration;

use agent_core::orchestration::{load_json, save_json, DiskStore};
use agent_core::{Agent, AgentConfig, AgentRuntime, Context, HandlerError, ShutdownConfig};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::StatePersistence;
use crate::baseline::Gate;
use crate::kinds::rules::{Drive, Rules};
use crate::metrics::LatencyRecorder;
use crate::runner::context::{DriverOutput, RunContext};
use crate::scenario::Scenario;

#[derive(Debug, Serialize, Deserialize)]
struct SavedState {
    agent: usize,
    saves: u64,
    notes: String,
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
        let state = SavedState {
            agent: self.index,
            saves: self.saves,
            notes: "conversation summary ".repeat(8),
        };
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
        out.extra
            .insert(STATES_VERIFIED_AFTER_REOPEN.into(), f64::from(verified));
        out.extra
            .insert("save_p95_ms".into(), saves.p95_ns as f64 / 1e6);
        out.extra
            .insert("heartbeat_p99_ms".into(), beat.p99_ns as f64 / 1e6);
        out.extra
            .insert("heartbeat_max_ms".into(), beat.max_ns as f64 / 1e6);
        out
    }
}

impl Rules for StatePersistence {
    /// Disk latency is the subject and is reported, not gated (real time, no yardstick).
    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![Gate::extra(STATES_VERIFIED_AFTER_REOPEN)]
    }
}
