//! What the kit accepts: the oldest server, and how long one may take to start.

use std::time::Duration;

/// The oldest server accepted: JetStream's consumer and de-duplication features used here are
/// all in 2.10.
pub const MIN_VERSION: (u32, u32, u32) = (2, 10, 0);

/// How long a start or restart may take before it is an error.
pub(crate) const READY_WITHIN: Duration = Duration::from_secs(20);
