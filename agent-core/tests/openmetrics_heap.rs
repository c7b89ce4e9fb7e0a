//! What the OpenMetrics export costs a message in allocations: nothing. The same traffic (tells,
//! every one measured, and asks) runs on a runtime without the export and on one with a collector
//! attached and histograms on; dhat's allocator counts the blocks each allocates. This binary
//! has dhat as its global allocator, so it holds only this one test.

use std::time::Duration;

use agent_core::openmetrics::prometheus_client::registry::Registry;
use agent_core::openmetrics::{encode, RuntimeMetrics};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig, Timing,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const TELLS: u64 = 20_000;
const ASKS: u64 = 2_000;

struct Echo;

impl Agent for Echo {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        Ok(n)
    }
}

/// Blocks allocated while the traffic runs on `rt` (agents spawned before, stopped after).
async fn blocks_for_traffic(rt: &AgentRuntime) -> u64 {
    let agents: Vec<_> = (0..4)
        .map(|_| rt.spawn(AgentConfig::default(), || Echo).unwrap())
        .collect();
    // Warm-up: the first messages size the mailboxes' queues and the kinds' records.
    for a in &agents {
        for n in 0..64 {
            a.tell(n).await.unwrap();
        }
        a.ask(0, Duration::from_secs(5)).await.unwrap();
    }
    let before = dhat::HeapStats::get().total_blocks;
    for n in 0..TELLS {
        agents[(n % 4) as usize].tell(n).await.unwrap();
        if n % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for n in 0..ASKS {
        agents[(n % 4) as usize]
            .ask(n, Duration::from_secs(5))
            .await
            .unwrap();
    }
    for a in &agents {
        a.ask(0, Duration::from_secs(5)).await.unwrap();
    }
    dhat::HeapStats::get().total_blocks - before
}

#[test]
fn the_export_allocates_nothing_per_message() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _profiler = dhat::Profiler::builder().testing().build();
    tokio.block_on(async {
        let config = RuntimeConfig {
            timing: Timing::EVERY_MESSAGE,
            ..RuntimeConfig::default()
        };
        let plain = AgentRuntime::new(config.clone());
        let without = blocks_for_traffic(&plain).await;
        plain.shutdown(ShutdownConfig::default()).await;

        let exported = AgentRuntime::new(RuntimeConfig {
            histograms: true,
            ..config
        });
        let mut registry = Registry::default();
        registry.register_collector(Box::new(RuntimeMetrics::new(&exported)));
        let with = blocks_for_traffic(&exported).await;
        let text = encode(&registry);
        assert!(
            text.contains(&format!(
                "agent_core_ask_duration_seconds_count{{agent=\"Echo\"}} {}",
                ASKS + 4 + 4
            )),
            "{text}"
        );
        exported.shutdown(ShutdownConfig::default()).await;
        eprintln!(
            "blocks for {TELLS} tells and {ASKS} asks: {without} without the export, {with} with it"
        );
        // One allocation per message would be 22,000 more; a block or two either way is the
        // runtimes' own one-off work (the first one warms what the second reuses).
        assert!(
            with.abs_diff(without) <= 2,
            "the export allocated per message: {with} vs {without}"
        );
    });
}
