//! Heap held per idle actor, by dhat's allocator (not RSS), for raw tokio, agent-core, actix,
//! ractor and kameo: the live heap after spawning `IDLE` actors and letting each park.
//!
//! Run with: cargo bench -p benches --features peers --bench peers_heap

use std::time::Duration;

use benches::peers::{actix, kameo, ractor};
use benches::workloads as w;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Idle actors spawned per measurement.
const IDLE: u64 = 100_000;
/// Time for every spawned task to start and park on its mailbox.
const SETTLE: Duration = Duration::from_millis(200);

/// Bytes and blocks live per actor: the growth of the live heap across `spawn`, after settling.
fn per_actor(before: &dhat::HeapStats) -> (f64, f64) {
    let after = dhat::HeapStats::get();
    (
        (after.curr_bytes as f64 - before.curr_bytes as f64) / IDLE as f64,
        (after.curr_blocks as f64 - before.curr_blocks as f64) / IDLE as f64,
    )
}

fn main() {
    let rt = w::tokio_runtime();
    let _profiler = dhat::Profiler::builder().testing().build();
    let settle = || rt.block_on(async { tokio::time::sleep(SETTLE).await });
    let mut rows = Vec::new();

    let before = dhat::HeapStats::get();
    let idle = {
        let _guard = rt.enter();
        w::spawn_idle_tokio(IDLE).1
    };
    settle();
    rows.push(("tokio mpsc (task + bounded mpsc)", per_actor(&before)));
    rt.block_on(w::stop_idle_tokio(idle));

    let before = dhat::HeapStats::get();
    let agents = {
        let _guard = rt.enter();
        w::spawn_idle_agents(IDLE).1
    };
    settle();
    rows.push((
        "agent-core (task + mailbox + registry + metrics)",
        per_actor(&before),
    ));
    rt.block_on(agents.shutdown(agent_core::ShutdownConfig::default()));
    drop(agents);

    let heap = actix::run(|| async {
        let before = dhat::HeapStats::get();
        let (_, idle) = actix::spawn_idle(IDLE).await;
        tokio::time::sleep(SETTLE).await;
        let heap = per_actor(&before);
        actix::stop_idle(idle).await;
        heap
    });
    rows.push(("actix (Addr + Context + mailbox)", heap));

    let before = dhat::HeapStats::get();
    let idle = rt.block_on(ractor::spawn_idle(IDLE)).1;
    settle();
    rows.push((
        "ractor (ActorRef + task + unbounded mailbox)",
        per_actor(&before),
    ));
    rt.block_on(ractor::stop_idle(idle));

    let before = dhat::HeapStats::get();
    let idle = {
        let _guard = rt.enter();
        kameo::spawn_idle(IDLE).1
    };
    settle();
    rows.push((
        "kameo (ActorRef + task + bounded mailbox)",
        per_actor(&before),
    ));
    rt.block_on(kameo::stop_idle(idle));

    let base = rows[0].1 .0;
    println!("| heap per idle actor ({IDLE} spawned, dhat) | bytes | blocks | vs tokio |");
    println!("|---|---|---|---|");
    for (name, (bytes, blocks)) in rows {
        println!(
            "| {name} | {bytes:.0} | {blocks:.1} | {:.2}x |",
            bytes / base
        );
    }
}
