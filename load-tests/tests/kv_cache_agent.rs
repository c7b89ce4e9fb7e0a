//! Load-testing your own agent: a key-value agent with a small LRU cache in front of a slow
//! store, under a closed-loop load on the virtual clock. The same report, invariants (no request
//! lost, mailboxes conserved, nothing left live after shutdown), heap and instruction counts and
//! baseline gate (`baselines/kv_cache.json`) as the built-in scenarios.

use std::collections::VecDeque;
use std::time::Duration;

use agent_core::{Agent, Context, HandlerError};
use load_tests::{AgentLoad, Clock};

load_tests::count_heap!();

/// Keys each agent serves; its cache holds a quarter of them.
const KEYS: u64 = 64;

/// A key-value agent: reads hit an LRU cache of `capacity` entries or go to a store that takes
/// 2 ms; writes go through to the store (1 ms) and refresh the cache.
struct KvCache {
    cache: VecDeque<(u64, Vec<u8>)>,
    capacity: usize,
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
    fn new(capacity: usize) -> KvCache {
        KvCache {
            cache: VecDeque::with_capacity(capacity),
            capacity,
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
    AgentLoad::new("kv_cache", move || KvCache::new(capacity), request)
        .description("4 key-value agents (LRU cache of 16 of 64 keys, 2 ms store reads) x 500 requests from 16 senders")
        .agents(4)
        .requests_per_agent(500)
        .closed_loop(16)
        .clock(Clock::Virtual)
        .expect(right_reply)
        .check()
        .await;
}
