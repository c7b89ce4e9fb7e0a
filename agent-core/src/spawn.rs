//! Spawning agents, and finding them again by name or id with their type: the runtime's methods
//! that are generic over [`Agent`], apart from the runtime itself so that it never depends on
//! the agents it runs.

use std::sync::{Arc, OnceLock};

use crate::agent::{Address, Agent};
use crate::error::{LookupError, SpawnError};
use crate::health::HealthCell;
use crate::id::AgentId;
use crate::lifecycle;
use crate::mailbox::Mailbox;
use crate::metrics::AgentStats;
use crate::registry::Probe;
use crate::runtime::{AgentConfig, AgentRuntime};
use crate::shared::AgentShared;

impl AgentRuntime {
    /// Spawns an agent built by `factory` on the current tokio runtime. The factory is called
    /// again for each restart. Must be called from within a tokio runtime.
    pub fn spawn<A, F>(&self, config: AgentConfig, factory: F) -> Result<Address<A>, SpawnError>
    where
        A: Agent,
        F: FnMut() -> A + Send + 'static,
    {
        if !self.accepting() {
            return Err(SpawnError::ShuttingDown);
        }
        let mailbox_config = config.mailbox.unwrap_or(self.config().default_mailbox);
        let mailbox = Mailbox::new(mailbox_config).map_err(SpawnError::InvalidMailbox)?;
        let policy = config.restart.unwrap_or(self.config().default_restart);
        let id = AgentId::next();
        let cell = Arc::new(AgentShared {
            id,
            name: config.name.map(Arc::from),
            mailbox,
            health: HealthCell::new(),
            stats: AgentStats::default(),
            abort: OnceLock::new(),
            commons: Arc::clone(self.commons()),
            tell_period: self.config().timing.tell_period(),
            trace_spans: self.config().trace_spans,
            kind: std::marker::PhantomData,
        });
        self.registry()
            .register(id, Arc::clone(&cell) as Arc<dyn Probe>)?;
        self.count_spawned();
        self.commons().deadlines.set_home();
        let address = Address {
            cell: Arc::clone(&cell),
        };
        let task = self.tracker().spawn(lifecycle::run(
            factory,
            address.clone(),
            self.clone(),
            policy,
        ));
        let _ = cell.abort.set(task.abort_handle());
        // A shutdown that began after the check above may have missed this mailbox.
        if !self.accepting() {
            cell.mailbox.close();
        }
        Ok(address)
    }

    /// The live agent registered under `name`, typed.
    pub fn lookup<A: Agent>(&self, name: &str) -> Result<Address<A>, LookupError> {
        let id = self
            .registry()
            .id_of(name)
            .ok_or_else(|| LookupError::NotFound(format!("named {name:?}")))?;
        self.get(id)
    }

    /// The live agent with `id`, typed.
    pub fn get<A: Agent>(&self, id: AgentId) -> Result<Address<A>, LookupError> {
        let probe = self
            .registry()
            .get(id)
            .ok_or_else(|| LookupError::NotFound(id.to_string()))?;
        let cell = probe
            .as_any()
            .downcast::<AgentShared<A::Msg, A::Reply, A>>()
            .map_err(|_| LookupError::WrongType(id, std::any::type_name::<A>()))?;
        Ok(Address { cell })
    }
}
