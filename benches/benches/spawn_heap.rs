//! Heap held per idle agent, measured by dhat's allocator (not RSS): agent-core (task, mailbox,
//! registry entry, metrics) against a raw tokio task waiting on its own bounded mpsc.
//!
//! Run with: cargo bench -p benches --bench spawn_heap

use benches::workloads as w;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Idle agents spawned per measurement.
const IDLE_AGENTS: u64 = 100_000;

fn main() {
    let rt = w::tokio_runtime();
    let _profiler = dhat::Profiler::builder().testing().build();

    let before = dhat::HeapStats::get();
    let agents = {
        let _guard = rt.enter();
        w::spawn_idle_agents(IDLE_AGENTS).1
    };
    // Let every task start and park on its mailbox, so what is measured is the idle state.
    rt.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(200)).await });
    let after = dhat::HeapStats::get();
    let agent_bytes = (after.curr_bytes - before.curr_bytes) as f64 / IDLE_AGENTS as f64;
    let agent_blocks = (after.curr_blocks - before.curr_blocks) as f64 / IDLE_AGENTS as f64;
    rt.block_on(agents.shutdown(agent_core::ShutdownConfig::default()));
    drop(agents);

    let before = dhat::HeapStats::get();
    let idle = {
        let _guard = rt.enter();
        w::spawn_idle_tokio(IDLE_AGENTS).1
    };
    rt.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(200)).await });
    let after = dhat::HeapStats::get();
    let tokio_bytes = (after.curr_bytes - before.curr_bytes) as f64 / IDLE_AGENTS as f64;
    let tokio_blocks = (after.curr_blocks - before.curr_blocks) as f64 / IDLE_AGENTS as f64;
    rt.block_on(w::stop_idle_tokio(idle));

    println!("| heap per idle agent ({IDLE_AGENTS} spawned) | bytes | blocks |");
    println!("|---|---|---|");
    println!("| agent-core (task + mailbox + registry + metrics) | {agent_bytes:.0} | {agent_blocks:.1} |");
    println!("| raw tokio (task + bounded mpsc) | {tokio_bytes:.0} | {tokio_blocks:.1} |");
    println!("| target (agent-core) | <= 1024 | - |");
}
