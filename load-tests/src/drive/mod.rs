//! The interface between the runner and a kind's driver, below both: what a driver is given
//! (`RunContext`, with the [`context::RunOptions`] it was run with), what it returns
//! (`DriverOutput`), the limits every scenario is checked against ([`limits`]), and the `Drive`
//! trait itself.

pub mod context;
pub mod limits;

use std::sync::Arc;

use context::{DriverOutput, RunContext};

/// A kind's driver: does the scenario's work and reports what it measured.
pub(crate) trait Drive {
    /// Runs the scenario in `ctx` to the end (or until `ctx.stopping()`).
    #[allow(async_fn_in_trait)] // Crate-internal; every caller awaits it in place.
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput;
}
