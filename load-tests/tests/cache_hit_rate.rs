//! Seed 002 (2.1): state reads through a bounded LRU cache from a cold start; hit rate over 90%, exact.

mod support;

load_tests::count_heap!();

#[tokio::test(start_paused = true)]
async fn cache_hit_rate() {
    support::check("cache_hit_rate").await;
}
