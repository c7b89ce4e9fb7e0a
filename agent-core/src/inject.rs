//! Regressions injected into the runtime on purpose, to prove that the load-test gates catch a
//! real change in agent-core's hot paths (not one in the harness). Compiled only with the
//! `inject-regressions` feature, which no default build enables: the load-tests package builds
//! a separate binary with it for its gate self-tests, so an unmodified build never pays for it.
//!
//! What to inject is read from `AGENT_CORE_INJECT` by [`init`], which the injected binaries call
//! first thing (until it runs, nothing is injected), as a comma-separated list:
//! `send_spin=N` (N extra loop iterations per send), `ask_spin=N` (per ask), `alloc_per_send`
//! (one extra heap block per send, freed at once), `leak_per_send` (one block per send never
//! freed), `lose_nth=N` (the N-th message received in the process is dropped, yet counted as
//! delivered); and regressions that cost time more than instructions: `syscall_every=N` (a
//! `sched_yield` system call every N sends to a mailbox, N a power of two, counted by the
//! mailbox's own count of offers), `lock_spin=N` (N loop
//! iterations with the mailbox's state lock held, on every send), `spill_per_receive=N` (every
//! received message also writes N cache lines of a 32 MiB buffer, at scattered places: a larger
//! working set per message, no allocation), `sleep_every=N` (a 1 us sleep every N received
//! messages). Unset or empty: nothing is injected.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable that says what to inject.
pub const VAR: &str = "AGENT_CORE_INJECT";

#[derive(Debug, Default)]
struct Plan {
    send_spin: u64,
    ask_spin: u64,
    alloc_per_send: bool,
    leak_per_send: bool,
    lose_nth: u64,
    syscall_every: u64,
    lock_spin: u64,
    spill_per_receive: u64,
    sleep_every: u64,
}

static PLAN: OnceLock<Plan> = OnceLock::new();
static RECEIVED: AtomicU64 = AtomicU64::new(0);
/// The cheap injections' parameters, read by the hooks without going through [`PLAN`], so that
/// their bookkeeping (a load, a thread-local countdown) stays a handful of instructions: what
/// they cost is the system call, the sleep or the locked spin, not the counting.
///
/// `syscall_every`'s mask, N - 1; all ones when it is off, which no count + 1 matches. Every send
/// tests it, injected or not, so the test is in the baseline of the build with nothing injected
/// and the injection adds the system call alone: a system call on a branch that was already
/// there, which is what the instruction gate cannot see.
static SYSCALL_MASK: AtomicU64 = AtomicU64::new(u64::MAX);
static LOCK_SPIN: AtomicU64 = AtomicU64::new(0);
/// Whether the send hook has other work (spin, allocation, leak).
static SEND_WORK: AtomicBool = AtomicBool::new(false);
/// Whether the receive hook has work beyond the sleep (spill, loss).
static RECEIVE_WORK: AtomicBool = AtomicBool::new(false);

static SLEEP_EVERY: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Messages left for this thread to receive until the next injected sleep.
    static RECEIVES_UNTIL_SLEEP: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
/// The buffer `spill_per_receive` writes into, made by [`init`] (so not in any measured window)
/// and four times the last-level cache callgrind simulates.
static SPILL: OnceLock<Box<[AtomicU64]>> = OnceLock::new();
const SPILL_WORDS: usize = 32 << 20 >> 3;
static SPILL_CURSOR: AtomicUsize = AtomicUsize::new(0);
/// Whether each hook has anything to do: with nothing injected, each hook costs one relaxed load
/// and a branch (the send hook: and the system call's mask test), so the injected binary without
/// injections measures like the real one; one injection leaves the other hooks as idle as that.
static ASK_ACTIVE: AtomicBool = AtomicBool::new(false);
static RECEIVE_ACTIVE: AtomicBool = AtomicBool::new(false);

fn plan() -> &'static Plan {
    PLAN.get_or_init(|| {
        let text = std::env::var(VAR).unwrap_or_default();
        parse(&text).unwrap_or_else(|e| panic!("{VAR}={text:?}: {e}"))
    })
}

fn parse(text: &str) -> Result<Plan, String> {
    let mut plan = Plan::default();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once('=').unwrap_or((item, ""));
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("`{key}` needs a whole number, got {value:?}"))
        };
        match key {
            "send_spin" => plan.send_spin = number()?,
            "ask_spin" => plan.ask_spin = number()?,
            "alloc_per_send" => plan.alloc_per_send = true,
            "leak_per_send" => plan.leak_per_send = true,
            "lose_nth" => plan.lose_nth = number()?,
            "syscall_every" => {
                plan.syscall_every = number()?;
                if !plan.syscall_every.is_power_of_two() {
                    return Err(format!("`{key}` needs a power of two, got {value:?}"));
                }
            }
            "lock_spin" => plan.lock_spin = number()?,
            "spill_per_receive" => plan.spill_per_receive = number()?,
            "sleep_every" => plan.sleep_every = number()?,
            _ => return Err(format!("unknown injection `{key}`")),
        }
    }
    Ok(plan)
}

fn spin(n: u64) {
    for i in 0..n {
        black_box(i);
    }
}

/// Reads `AGENT_CORE_INJECT` now, so that reading it (which allocates) happens outside any
/// measured window. The injected binaries call it first thing.
pub fn init() {
    let p = plan();
    if p.spill_per_receive > 0 {
        SPILL.get_or_init(|| (0..SPILL_WORDS).map(|_| AtomicU64::new(0)).collect());
    }
    if p.syscall_every > 0 {
        SYSCALL_MASK.store(p.syscall_every - 1, Ordering::Relaxed);
    }
    LOCK_SPIN.store(p.lock_spin, Ordering::Relaxed);
    SEND_WORK.store(
        p.send_spin > 0 || p.alloc_per_send || p.leak_per_send,
        Ordering::Relaxed,
    );
    SLEEP_EVERY.store(p.sleep_every, Ordering::Relaxed);
    RECEIVE_WORK.store(p.spill_per_receive > 0 || p.lose_nth > 0, Ordering::Relaxed);
    ASK_ACTIVE.store(p.ask_spin > 0, Ordering::Relaxed);
    RECEIVE_ACTIVE.store(
        p.sleep_every > 0 || RECEIVE_WORK.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
}

/// Called at the start of every send, with the mailbox's count of messages offered so far.
/// The system call's test reuses that count (a load, an add, an and and a branch, inline) and
/// runs on every send, injected or not (see [`SYSCALL_MASK`]).
#[inline]
pub(crate) fn on_send(offered: u64) {
    if (offered + 1) & SYSCALL_MASK.load(Ordering::Relaxed) == 0 {
        system_call();
    }
    if SEND_WORK.load(Ordering::Relaxed) {
        send_work();
    }
}

#[cold]
#[inline(never)]
fn system_call() {
    std::thread::yield_now();
}

#[inline(never)]
fn send_work() {
    let p = plan();
    spin(p.send_spin);
    if p.alloc_per_send {
        drop(black_box(Box::new(0u64)));
    }
    if p.leak_per_send {
        std::mem::forget(black_box(Box::new(0u64)));
    }
}

/// Called with the mailbox's state lock held, on every send.
#[inline]
pub(crate) fn while_locked() {
    let n = LOCK_SPIN.load(Ordering::Relaxed);
    if n > 0 {
        spin(n);
    }
}

/// Called at the start of every ask.
#[inline]
pub(crate) fn on_ask() {
    if ASK_ACTIVE.load(Ordering::Relaxed) {
        ask_injected();
    }
}

#[inline(never)]
fn ask_injected() {
    spin(plan().ask_spin);
}

/// Called for every message the receiver takes; `true` means drop it (it stays counted).
#[inline]
pub(crate) fn lose_this() -> bool {
    RECEIVE_ACTIVE.load(Ordering::Relaxed) && receive_injected()
}

#[cold]
#[inline(never)]
fn receive_injected() -> bool {
    let every = SLEEP_EVERY.load(Ordering::Relaxed);
    if every > 0 {
        let left = RECEIVES_UNTIL_SLEEP.get();
        if left == 0 {
            RECEIVES_UNTIL_SLEEP.set(every - 1);
            std::thread::sleep(Duration::from_micros(1));
        } else {
            RECEIVES_UNTIL_SLEEP.set(left - 1);
        }
    }
    RECEIVE_WORK.load(Ordering::Relaxed) && receive_work()
}

#[inline(never)]
fn receive_work() -> bool {
    let p = plan();
    if p.spill_per_receive > 0 {
        spill(p.spill_per_receive);
    }
    p.lose_nth > 0 && RECEIVED.fetch_add(1, Ordering::Relaxed) + 1 == p.lose_nth
}

/// Writes one word in each of `lines` cache lines of [`SPILL`], scattered (a multiplicative
/// hash of a running cursor), so neither a cache nor a prefetcher keeps them.
fn spill(lines: u64) {
    let Some(buffer) = SPILL.get() else { return };
    let cursor = SPILL_CURSOR.load(Ordering::Relaxed);
    for i in 0..lines as usize {
        let line = ((cursor + i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % (SPILL_WORDS / 8);
        buffer[line * 8].store(cursor as u64, Ordering::Relaxed);
    }
    SPILL_CURSOR.store(cursor + lines as usize, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_bad_ones_are_named() {
        let p = parse("send_spin=40, alloc_per_send,lose_nth=3").unwrap();
        assert_eq!((p.send_spin, p.alloc_per_send, p.lose_nth), (40, true, 3));
        let p = parse("syscall_every=64,lock_spin=5,spill_per_receive=2,sleep_every=1024").unwrap();
        assert_eq!(
            (
                p.syscall_every,
                p.lock_spin,
                p.spill_per_receive,
                p.sleep_every
            ),
            (64, 5, 2, 1024)
        );
        assert!(parse("").unwrap().send_spin == 0);
        assert!(parse("syscall_every=48")
            .unwrap_err()
            .contains("power of two"));
        assert!(parse("send_spin=x").unwrap_err().contains("send_spin"));
        assert!(parse("nope").unwrap_err().contains("nope"));
    }
}
