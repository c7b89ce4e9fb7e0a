//! The registry: every live agent by id and by name, behind type-erased [`Probe`]s.

use std::any::Any;
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::error::SpawnError;
use crate::health::Health;
use crate::id::AgentId;
use crate::metrics::AgentSnapshot;
use crate::shared::AgentShared;

/// What the runtime can do with an agent without knowing its type.
pub(crate) trait Probe: Send + Sync + 'static {
    fn name(&self) -> Option<&Arc<str>>;
    fn health(&self) -> Health;
    fn snapshot(&self) -> AgentSnapshot;
    /// Refuses new messages; queued ones are still handled.
    fn close(&self);
    /// Refuses new messages and discards queued ones; returns how many.
    fn abandon(&self) -> u64;
    /// Aborts the agent's task; returns whether there was one to abort.
    fn abort(&self) -> bool;
    fn delivered_total(&self) -> u64;
    /// Messages pending in the mailbox, read without locks.
    fn pending(&self) -> u64;
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    /// The agent's type name, which the metrics label it by.
    #[cfg(feature = "openmetrics")]
    fn kind(&self) -> &'static str;
    #[cfg(feature = "openmetrics")]
    fn counts(&self) -> AgentSnapshot;
}

impl<M: Send + 'static, R: Send + 'static, K: 'static> Probe for AgentShared<M, R, K> {
    fn name(&self) -> Option<&Arc<str>> {
        self.name.as_ref()
    }
    fn health(&self) -> Health {
        self.health.get()
    }
    fn snapshot(&self) -> AgentSnapshot {
        AgentShared::snapshot(self)
    }
    fn close(&self) {
        self.mailbox.close();
    }
    fn abandon(&self) -> u64 {
        self.mailbox.abandon().len() as u64
    }
    fn abort(&self) -> bool {
        match self.abort.get() {
            Some(handle) if !handle.is_finished() => {
                handle.abort();
                true
            }
            _ => false,
        }
    }
    fn delivered_total(&self) -> u64 {
        self.mailbox.delivered_total()
    }
    fn pending(&self) -> u64 {
        self.mailbox.snapshot_relaxed().pending
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    #[cfg(feature = "openmetrics")]
    fn kind(&self) -> &'static str {
        std::any::type_name::<K>()
    }
    #[cfg(feature = "openmetrics")]
    fn counts(&self) -> AgentSnapshot {
        AgentShared::counts(self)
    }
}

/// The registry's hasher: fixed keys, so that a run's allocations (table growth) are the same
/// every time and allocation counts can be gated exactly. Ids are sequential and names are the
/// application's own, so hash flooding is not a concern here, and foldhash's fast hasher costs a
/// fraction of SipHash's on the integer ids every spawn and lookup hashes.
pub(crate) type FixedState = foldhash::fast::FixedState;

/// Shards of every map: fixed rather than dashmap's default (four per core), so that table
/// growth, and with it allocation counts, is the same on machines with different core counts.
pub(crate) const SHARDS: usize = 8;

/// A map with the fixed hasher and shard count.
pub(crate) fn fixed_map<K: Eq + std::hash::Hash, V>() -> DashMap<K, V, FixedState> {
    DashMap::with_hasher_and_shard_amount(FixedState::default(), SHARDS)
}

/// Live agents by id and by name.
pub(crate) struct Registry {
    by_id: DashMap<AgentId, Arc<dyn Probe>, FixedState>,
    by_name: DashMap<Arc<str>, AgentId, FixedState>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            by_id: fixed_map(),
            by_name: fixed_map(),
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("agents", &self.by_id.len())
            .finish()
    }
}

impl Registry {
    pub(crate) fn register(&self, id: AgentId, probe: Arc<dyn Probe>) -> Result<(), SpawnError> {
        if let Some(name) = probe.name() {
            match self.by_name.entry(Arc::clone(name)) {
                Entry::Occupied(_) => return Err(SpawnError::NameTaken(name.to_string())),
                Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        self.by_id.insert(id, probe);
        Ok(())
    }

    pub(crate) fn deregister(&self, id: AgentId) {
        if let Some((_, probe)) = self.by_id.remove(&id) {
            if let Some(name) = probe.name() {
                self.by_name.remove_if(name, |_, owner| *owner == id);
            }
        }
    }

    pub(crate) fn get(&self, id: AgentId) -> Option<Arc<dyn Probe>> {
        self.by_id.get(&id).map(|p| Arc::clone(p.value()))
    }

    pub(crate) fn id_of(&self, name: &str) -> Option<AgentId> {
        self.by_name.get(name).map(|id| *id.value())
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Sums `f` over every live agent without allocating (shard locks are held briefly, one at a
    /// time).
    pub(crate) fn sum(&self, f: impl Fn(&dyn Probe) -> u64) -> u64 {
        self.by_id.iter().map(|p| f(p.value().as_ref())).sum()
    }

    /// A copy of every live probe, so callers never hold a map shard lock across work.
    pub(crate) fn all(&self) -> Vec<Arc<dyn Probe>> {
        self.by_id.iter().map(|p| Arc::clone(p.value())).collect()
    }
}
