//! Every gated figure over time: what was blessed into `baselines/` across the git log, and
//! what each gate run on main recorded on the `perf-history` branch. Read by `load-tests
//! history`, which finds change points in the noisy figures and draws the series.

pub mod blessed;
pub mod changepoint;
pub mod git;
pub mod ids;
pub mod record;
pub mod runs;
pub mod series;
