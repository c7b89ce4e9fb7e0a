//! What can go wrong starting or querying Prometheus.

/// A Prometheus server could not be had or did not answer.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// No binary, and the project could not install one: the reason and what to run by hand.
    #[error("not run: no Prometheus server: {reason}")]
    Unavailable {
        /// Why, and the fix.
        reason: String,
    },
    /// The server did not start or become ready.
    #[error("prometheus did not start: {0}")]
    Start(String),
    /// A query failed.
    #[error("PromQL query {query:?} failed: {reason}")]
    Query {
        /// The query.
        query: String,
        /// Why.
        reason: String,
    },
}
