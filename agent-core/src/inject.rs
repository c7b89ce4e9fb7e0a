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
//! delivered). Unset or empty: nothing is injected.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

/// The variable that says what to inject.
pub const VAR: &str = "AGENT_CORE_INJECT";

#[derive(Debug, Default)]
struct Plan {
    send_spin: u64,
    ask_spin: u64,
    alloc_per_send: bool,
    leak_per_send: bool,
    lose_nth: u64,
}

static PLAN: OnceLock<Plan> = OnceLock::new();
static RECEIVED: AtomicU64 = AtomicU64::new(0);
/// Whether anything is injected: with nothing injected, each hook costs one relaxed load and a
/// branch, so the injected binary without injections measures like the real one.
static ACTIVE: AtomicBool = AtomicBool::new(false);

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
    let active =
        p.send_spin > 0 || p.ask_spin > 0 || p.alloc_per_send || p.leak_per_send || p.lose_nth > 0;
    ACTIVE.store(active, Ordering::Relaxed);
}

/// Called at the start of every send.
#[inline]
pub(crate) fn on_send() {
    if ACTIVE.load(Ordering::Relaxed) {
        send_injected();
    }
}

#[inline(never)]
fn send_injected() {
    let p = plan();
    spin(p.send_spin);
    if p.alloc_per_send {
        drop(black_box(Box::new(0u64)));
    }
    if p.leak_per_send {
        std::mem::forget(black_box(Box::new(0u64)));
    }
}

/// Called at the start of every ask.
#[inline]
pub(crate) fn on_ask() {
    if ACTIVE.load(Ordering::Relaxed) {
        spin(plan().ask_spin);
    }
}

/// Called for every message the receiver takes; `true` means drop it (it stays counted).
#[inline]
pub(crate) fn lose_this() -> bool {
    ACTIVE.load(Ordering::Relaxed) && lose_injected()
}

#[inline(never)]
fn lose_injected() -> bool {
    let n = plan().lose_nth;
    n > 0 && RECEIVED.fetch_add(1, Ordering::Relaxed) + 1 == n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_bad_ones_are_named() {
        let p = parse("send_spin=40, alloc_per_send,lose_nth=3").unwrap();
        assert_eq!((p.send_spin, p.alloc_per_send, p.lose_nth), (40, true, 3));
        assert!(parse("").unwrap().send_spin == 0);
        assert!(parse("send_spin=x").unwrap_err().contains("send_spin"));
        assert!(parse("nope").unwrap_err().contains("nope"));
    }
}
