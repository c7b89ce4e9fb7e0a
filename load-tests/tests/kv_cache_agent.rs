//! Load-testing your own agent: a key-value agent with a small LRU cache in front of a slow
//! store, under a closed-loop load on the virtual clock. The same report, invariants (no request
//! lost, mailboxes conserved, nothing left live after shutdown), heap and instruction counts and
//! baseline gate (`baselines/kv_cache.json`) as the built-in scenarios; the agents' mailbox and
//! restart policy set as in production; a figure of the test's own (cache hits, read from a
//! counter the agents share) gated with the rest, and a promise of its own (most reads hit).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_core::{
    Agent, Backoff, Context, HandlerError, MailboxConfig, OverflowPolicy, RestartPolicy,
};
use load_tests::{AgentLoad, Clock, Rule};

load_tests::count_heap!();

/// Keys each agent serves; its cache holds a quarter of them.
const KEYS: u64 = 64;

/// A key-value agent: reads hit an LRU cache of `capacity` entries or go to a store that takes
/// 2 ms; writes go through to the store (1 ms) and refresh the cache.
struct KvCache {
    cache: VecDeque<(u64, Vec<u8>)>,
    capacity: usize,
    /// Reads the cache answered, over every agent.
    hits: Arc<AtomicU64>,
}

enum KvRequest {
    Get(u64),
    Put(u64, Vec<u8>),
}

#[derive(Debug, PartialEq)]
enum KvReply {
    Value(Vec<u8>),
    Stored,
}

impl KvCache {
    fn new(capacity: usize, hits: Arc<AtomicU64>) -> KvCache {
        KvCache {
            cache: VecDeque::with_capacity(capacity),
            capacity,
            hits,
        }
    }

    fn remember(&mut self, key: u64, value: Vec<u8>) {
        self.cache.retain(|(k, _)| *k != key);
        if self.cache.len() == self.capacity {
            self.cache.pop_back();
        }
        self.cache.push_front((key, value));
    }
}

impl Agent for KvCache {
    type Msg = KvRequest;
    type Reply = KvReply;

    async fn handle(
        &mut self,
        req: KvRequest,
        _: &mut Context<Self>,
    ) -> Result<KvReply, HandlerError> {
        match req {
            KvRequest::Get(key) => {
                if let Some(i) = self.cache.iter().position(|(k, _)| *k == key) {
                    let entry = self.cache.remove(i).expect("found");
                    let value = entry.1.clone();
                    self.cache.push_front(entry);
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(KvReply::Value(value));
                }
                tokio::time::sleep(Duration::from_millis(2)).await; // The store's read.
                let value = stored_value(key);
                self.remember(key, value.clone());
                Ok(KvReply::Value(value))
            }
            KvRequest::Put(key, value) => {
                tokio::time::sleep(Duration::from_millis(1)).await; // The store's write.
                self.remember(key, value);
                Ok(KvReply::Stored)
            }
        }
    }
}

/// What the store holds for `key` (writes put the same, so every read has one right answer).
fn stored_value(key: u64) -> Vec<u8> {
    vec![key as u8; 16]
}

/// Request `i`: every tenth a write, the rest reads, keys spread so that hits and misses mix.
fn request(i: u64, _bytes: usize) -> KvRequest {
    let key = (i * 37) % KEYS;
    if i % 10 == 0 {
        KvRequest::Put(key, stored_value(key))
    } else {
        KvRequest::Get(key)
    }
}

/// The right reply to request `i`.
fn right_reply(i: u64, reply: &KvReply) -> bool {
    match request(i, 0) {
        KvRequest::Put(..) => *reply == KvReply::Stored,
        KvRequest::Get(key) => *reply == KvReply::Value(stored_value(key)),
    }
}

/// The cache's size: 16, or what `KV_CACHE_EXAMPLE_CAPACITY` says (`tests/own_agent_gate.rs` runs
/// this example with a smaller cache, a worse agent, to prove that it fails the baseline).
fn capacity() -> usize {
    std::env::var("KV_CACHE_EXAMPLE_CAPACITY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

#[tokio::test(start_paused = true)]
async fn kv_cache() {
    let capacity = capacity();
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    AgentLoad::new(
        "kv_cache",
        move || KvCache::new(capacity, Arc::clone(&counted)),
        request,
    )
    .description("4 key-value agents (LRU cache of 16 of 64 keys, 2 ms store reads) x 500 requests from 16 senders")
    .agents(4)
    .requests_per_agent(500)
    .closed_loop(16)
    .clock(Clock::Virtual)
    // As in production: a small mailbox that makes senders wait, and a restart on a failure.
    .mailbox(MailboxConfig::bounded(
        8,
        OverflowPolicy::Block { timeout: None },
    ))
    .restart(RestartPolicy::OnFailure {
        max_restarts: 3,
        within: Duration::from_secs(1),
        backoff: Backoff::default(),
    })
    .expect(right_reply)
    // The test's own figure, gated exactly like the built-in ones.
    .metric("cache_hits", Rule::Exact, 0.0, move || {
        hits.load(Ordering::Relaxed) as f64
    })
    // And its own promise: the cache answers at least a quarter of the reads.
    .invariant("cache answers reads", |r| {
        let hits = r.extra["cache_hits"];
        let reads = r.operations.total as f64 * 0.9;
        if hits >= reads / 4.0 {
            Ok(())
        } else {
            Err(format!("{hits} hits of {reads} reads"))
        }
    })
    .check()
    .await;
}

/// The clock asked for must be the test runtime's: the virtual clock on a multi-threaded runtime
/// is refused with the attribute to write.
#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "write #[tokio::test(start_paused = true)]")]
async fn a_clock_that_does_not_match_the_runtime_is_refused() {
    let hits = Arc::new(AtomicU64::new(0));
    let _ = AgentLoad::new(
        "kv_cache_wrong_runtime",
        move || KvCache::new(16, Arc::clone(&hits)),
        request,
    )
    .clock(Clock::Virtual)
    .run()
    .await;
}
