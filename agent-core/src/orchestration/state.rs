//! Agent state: a [`StateStore`] trait with an in-memory store, a durable store on disk (redb,
//! an embedded transactional database), and a read cache that counts its hit rate. Disk work
//! runs on tokio's blocking pool, so a save never stalls other agents.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use redb::{Database, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::registry::FixedState;

const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("agent_state");

/// A state operation that failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StateError {
    /// The store on disk failed.
    #[error("state store {path}: {message}")]
    Storage {
        /// The database file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A value did not (de)serialize.
    #[error("state {key:?}: {source}")]
    Serde {
        /// The key.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Where agents keep state by key.
pub trait StateStore: Send + Sync + 'static {
    /// The value under `key`.
    fn load(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StateError>> + Send;
    /// Stores `value` under `key`.
    fn save(
        &self,
        key: &str,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
    /// Removes `key`.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// Saves `value` as JSON under `key`.
pub async fn save_json<S: StateStore, T: Serialize>(
    store: &S,
    key: &str,
    value: &T,
) -> Result<(), StateError> {
    let bytes = serde_json::to_vec(value).map_err(|source| StateError::Serde {
        key: key.to_owned(),
        source,
    })?;
    store.save(key, bytes).await
}

/// Loads the JSON value under `key`.
pub async fn load_json<S: StateStore, T: DeserializeOwned>(
    store: &S,
    key: &str,
) -> Result<Option<T>, StateError> {
    match store.load(key).await? {
        None => Ok(None),
        Some(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StateError::Serde {
                    key: key.to_owned(),
                    source,
                })
        }
    }
}

/// State in memory: fast, gone with the process.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.map().get(key).cloned())
    }
    async fn save(&self, key: &str, value: Vec<u8>) -> Result<(), StateError> {
        self.map().insert(key.to_owned(), value);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.map().remove(key);
        Ok(())
    }
}

/// State in a redb database file: each save is a committed transaction, so it survives a crash
/// or a restart.
#[derive(Debug, Clone)]
pub struct DiskStore {
    db: Arc<Database>,
    path: Arc<Path>,
}

impl DiskStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<DiskStore, StateError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| storage(path, e))?;
        Ok(DiskStore {
            db: Arc::new(db),
            path: Arc::from(path),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, String> + Send + 'static,
    ) -> Result<T, StateError> {
        let db = Arc::clone(&self.db);
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| storage(&path, e))?
            .map_err(|e| storage(&path, e))
    }
}

fn storage(path: &Path, e: impl std::fmt::Display) -> StateError {
    StateError::Storage {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl StateStore for DiskStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let key = key.to_owned();
        self.blocking(move |db| {
            let r = db.begin_read().map_err(|e| e.to_string())?;
            let t = match r.open_table(STATE) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            let value = t.get(key.as_str()).map_err(|e| e.to_string())?;
            Ok(value.map(|v| v.value().to_vec()))
        })
        .await
    }

    async fn save(&self, key: &str, value: Vec<u8>) -> Result<(), StateError> {
        let key = key.to_owned();
        self.blocking(move |db| {
            let w = db.begin_write().map_err(|e| e.to_string())?;
            {
                let mut t = w.open_table(STATE).map_err(|e| e.to_string())?;
                t.insert(key.as_str(), value.as_slice())
                    .map_err(|e| e.to_string())?;
            }
            w.commit().map_err(|e| e.to_string())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        let key = key.to_owned();
        self.blocking(move |db| {
            let w = db.begin_write().map_err(|e| e.to_string())?;
            {
                let mut t = w.open_table(STATE).map_err(|e| e.to_string())?;
                t.remove(key.as_str()).map_err(|e| e.to_string())?;
            }
            w.commit().map_err(|e| e.to_string())
        })
        .await
    }
}

/// A read cache in front of another store (writes go through), counting hits, misses and
/// evictions. Unbounded by default; [`CachedStore::bounded`] keeps the most recently used
/// entries only, as a Redis cache with an LRU eviction policy does.
#[derive(Debug, Clone)]
pub struct CachedStore<S> {
    inner: S,
    cache: Arc<Mutex<LruCache<String, Vec<u8>, FixedState>>>,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    evictions: Arc<AtomicU64>,
}

/// A cache's counters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheSnapshot {
    /// Loads answered from the cache.
    pub hits: u64,
    /// Loads that went to the store.
    pub misses: u64,
    /// Entries dropped to make room (always zero for an unbounded cache).
    pub evictions: u64,
    /// `hits / (hits + misses)`, in percent.
    pub hit_rate_pct: f64,
}

impl<S: StateStore> CachedStore<S> {
    /// `inner` behind an empty, unbounded cache.
    pub fn new(inner: S) -> CachedStore<S> {
        CachedStore::with_cache(
            inner,
            LruCache::unbounded_with_hasher(FixedState::default()),
        )
    }

    /// `inner` behind an empty cache of at most `capacity` entries, evicting the least
    /// recently used.
    pub fn bounded(inner: S, capacity: NonZeroUsize) -> CachedStore<S> {
        CachedStore::with_cache(
            inner,
            LruCache::with_hasher(capacity, FixedState::default()),
        )
    }

    /// The cache hashes with a fixed key, as the registry does: with a random one, whether an
    /// insert after an eviction reuses a freed slot or takes an empty one (and so when the table
    /// is rebuilt, an allocation) varied between runs, and with it the allocation count.
    fn with_cache(inner: S, cache: LruCache<String, Vec<u8>, FixedState>) -> CachedStore<S> {
        CachedStore {
            inner,
            cache: Arc::new(Mutex::new(cache)),
            hits: Arc::default(),
            misses: Arc::default(),
            evictions: Arc::default(),
        }
    }

    /// Hits, misses, evictions and hit rate.
    pub fn snapshot(&self) -> CacheSnapshot {
        let (hits, misses) = (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        );
        let total = hits + misses;
        CacheSnapshot {
            hits,
            misses,
            evictions: self.evictions.load(Ordering::Relaxed),
            hit_rate_pct: if total == 0 {
                0.0
            } else {
                hits as f64 * 100.0 / total as f64
            },
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<String, Vec<u8>, FixedState>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn keep(&self, key: &str, value: Vec<u8>) {
        let mut cache = self.cache();
        let full = cache.len() == cache.cap().get() && !cache.contains(key);
        if let Some((old, _)) = cache.push(key.to_owned(), value) {
            // `push` hands back the replaced entry too; only a different key is an eviction.
            if full && old != key {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl<S: StateStore> StateStore for CachedStore<S> {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let cached = self.cache().get(key).cloned();
        if let Some(v) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(v));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let v = self.inner.load(key).await?;
        if let Some(v) = &v {
            self.keep(key, v.clone());
        }
        Ok(v)
    }

    async fn save(&self, key: &str, value: Vec<u8>) -> Result<(), StateError> {
        self.inner.save(key, value.clone()).await?;
        self.keep(key, value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.inner.delete(key).await?;
        self.cache().pop(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct AgentState {
        conversations: u32,
        last_topic: String,
    }

    #[tokio::test]
    async fn state_survives_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let state = AgentState {
            conversations: 7,
            last_topic: "pricing".into(),
        };
        {
            let store = DiskStore::open(&path).unwrap();
            assert_eq!(
                load_json::<_, AgentState>(&store, "agent-1").await.unwrap(),
                None
            );
            save_json(&store, "agent-1", &state).await.unwrap();
            save_json(&store, "agent-2", &state).await.unwrap();
            store.delete("agent-2").await.unwrap();
        }
        let store = DiskStore::open(&path).unwrap();
        assert_eq!(
            load_json::<_, AgentState>(&store, "agent-1").await.unwrap(),
            Some(state)
        );
        assert_eq!(store.load("agent-2").await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_cache_counts_its_hit_rate() {
        let store = CachedStore::new(MemoryStore::default());
        store.save("a", b"1".to_vec()).await.unwrap();
        for _ in 0..9 {
            store.load("a").await.unwrap();
        }
        assert_eq!(store.load("missing").await.unwrap(), None);
        let s = store.snapshot();
        assert_eq!((s.hits, s.misses), (9, 1));
        assert!((s.hit_rate_pct - 90.0).abs() < 1e-9);
    }

    #[tokio::test]
    async fn a_bounded_cache_evicts_the_least_recently_used() {
        let store = CachedStore::bounded(MemoryStore::default(), NonZeroUsize::new(2).unwrap());
        for k in ["a", "b", "c"] {
            store.save(k, k.as_bytes().to_vec()).await.unwrap();
        }
        // "a" was evicted by "c"; reading it back evicts "b", the least recently used.
        assert_eq!(store.load("a").await.unwrap(), Some(b"a".to_vec()));
        assert_eq!(store.load("c").await.unwrap(), Some(b"c".to_vec()));
        assert_eq!(store.load("b").await.unwrap(), Some(b"b".to_vec()));
        let s = store.snapshot();
        assert_eq!((s.hits, s.misses, s.evictions), (1, 2, 3));
        // Saving a key already cached replaces it without an eviction.
        store.save("b", b"B".to_vec()).await.unwrap();
        assert_eq!(store.snapshot().evictions, 3);
    }

    #[tokio::test]
    async fn a_corrupt_value_names_its_key() {
        let store = MemoryStore::default();
        store.save("agent-9", b"not json".to_vec()).await.unwrap();
        let err = load_json::<_, AgentState>(&store, "agent-9")
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("state \"agent-9\""), "{err}");
    }
}
