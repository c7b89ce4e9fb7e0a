//! The runtime's figures in the OpenMetrics text format (feature `openmetrics`), for Prometheus
//! and anything else that scrapes it.
//!
//! Built on [`prometheus_client`] (re-exported), the Prometheus project's own Rust client: its
//! [`Collector`](prometheus_client::collector::Collector) trait is called at each scrape, so the
//! collectors here read the atomics agent-core keeps anyway and a message costs nothing more for
//! being exported; and it writes OpenMetrics text natively, with no global registry.
//!
//! - [`RuntimeMetrics`]: agents, mailboxes, handlers, measured times, labelled `agent` by agent
//!   kind (the agent's type name), never by agent id: 100,000 agents of five types are five
//!   series per metric. With [`crate::RuntimeConfig::histograms`], also histograms of queue time,
//!   handling time and ask duration, from the messages the runtime measures ([`crate::Timing`]).
//! - [`ComponentMetrics`]: pools (`pool`), buses (`topic`), budgets (`budget`), circuit breakers
//!   (`breaker`).
//! - `NatsMetrics` (with feature `nats`): the transport's counters, connection and consumer lag.
//!
//! Serving `/metrics` is the application's choice; [`encode`] gives the text to serve, with
//! content type [`CONTENT_TYPE`]. `examples/metrics_server.rs` serves it with `tiny_http`.
//!
//! ```
//! use agent_core::openmetrics::{encode, prometheus_client::registry::Registry, RuntimeMetrics};
//! use agent_core::AgentRuntime;
//!
//! let runtime = AgentRuntime::default();
//! let mut registry = Registry::default();
//! registry.register_collector(Box::new(RuntimeMetrics::new(&runtime)));
//! let text = encode(&registry);
//! assert!(text.contains("# TYPE agent_core_agents_spawned counter"));
//! assert!(text.ends_with("# EOF\n"));
//! ```

mod components;
mod families;
pub(crate) mod histogram;
pub(crate) mod kind;
#[cfg(feature = "nats")]
mod nats;
mod runtime;

pub use prometheus_client;

pub use components::ComponentMetrics;
#[cfg(feature = "nats")]
pub use nats::NatsMetrics;
pub use runtime::RuntimeMetrics;

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Everything registered in `registry`, in the OpenMetrics text format (ending in `# EOF`).
pub fn encode(registry: &prometheus_client::registry::Registry) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail; a collector's own error would end the text early.
    if prometheus_client::encoding::text::encode(&mut text, registry).is_err() {
        text.push_str("# EOF\n");
    }
    text
}
