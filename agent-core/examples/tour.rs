//! A tour of agent-core: spawn agents, tell and ask, a pool, pub/sub, a supervised failure, and a
//! graceful shutdown; every counter printed at the end adds up.
//!
//! Run with: cargo run --release -p agent-core --example tour

use std::time::Duration;

use agent_core::{
    Agent, AgentConfig, AgentRuntime, Bus, Context, HandlerError, MailboxConfig, OverflowPolicy,
    Pool, PoolConfig, RestartPolicy, ShutdownConfig,
};

/// Counts words in the lines it is sent; fails on an empty line to show supervision.
#[derive(Default)]
struct WordCounter {
    words: u64,
}

impl Agent for WordCounter {
    type Msg = String;
    type Reply = u64;

    async fn handle(
        &mut self,
        line: String,
        _ctx: &mut Context<Self>,
    ) -> Result<u64, HandlerError> {
        if line.is_empty() {
            return Err("empty line".into());
        }
        self.words += line.split_whitespace().count() as u64;
        Ok(self.words)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = AgentRuntime::default();

    // One agent: tell is fire-and-forget, ask waits for the reply.
    let counter = runtime.spawn(
        AgentConfig::named("counter").with_restart(RestartPolicy::default()),
        WordCounter::default,
    )?;
    counter.tell("the quick brown fox".to_owned()).await?;
    counter.tell(String::new()).await?; // fails: reported, agent restarted
    let words = counter
        .ask("jumps over the lazy dog".to_owned(), Duration::from_secs(1))
        .await?;
    println!("counter after restart: {words} words (its state was reset by the restart)");

    // A pool of four workers behind a semaphore.
    let pool = Pool::new(
        &runtime,
        PoolConfig::new("workers", 4),
        WordCounter::default,
    )?;
    for i in 0..100 {
        let lease = pool.acquire(Duration::from_millis(100)).await?;
        lease
            .ask(format!("job {i} has five words"), Duration::from_secs(1))
            .await?;
    }
    println!("pool: {}", serde_json::to_string(&pool.snapshot())?);

    // Pub/sub with a subscriber that keeps only the newest 10 messages.
    let bus: Bus<u32> = Bus::local();
    let sub = bus
        .subscribe(
            "ticks",
            MailboxConfig::bounded(10, OverflowPolicy::DropOldest),
        )
        .await?;
    for tick in 0..100 {
        bus.publish("ticks", tick).await?;
    }
    let first = sub.recv().await.map(|e| e.msg);
    println!(
        "bus: first tick still queued is {first:?}; {}",
        serde_json::to_string(&bus.snapshot())?
    );

    let report = runtime.shutdown(ShutdownConfig::default()).await;
    println!("shutdown: {}", serde_json::to_string(&report)?);
    let snapshot = runtime.snapshot();
    println!("runtime: {}", serde_json::to_string_pretty(&snapshot)?);
    for failure in runtime.failures() {
        println!("failure: {}", serde_json::to_string(&failure)?);
    }
    assert!(snapshot.mailboxes.is_conserved());
    Ok(())
}
