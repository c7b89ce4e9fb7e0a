//! What every run promises whatever its baseline says: every mailbox accounts for every message,
//! no message is lost or reordered, agent-core's count of deliveries agrees with the receivers';
//! then what its kind promises ([`crate::kinds::rules::Rules::invariants`]: no leak, overflow
//! exactly as predicted, every agent of a fleet healthy, ...).

use crate::report::Report;

impl Report {
    /// The promises this run broke, one line each; empty when all hold.
    pub fn violations(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.queues.conserved {
            v.push("a mailbox's counts do not add up (offered = accepted + rejected + timed out; accepted = delivered + dropped + abandoned + pending)".into());
        }
        if let Some(d) = &self.delivery {
            for (what, actual) in [
                ("delivery.lost", d.lost),
                ("delivery.out_of_order", d.out_of_order),
            ] {
                if actual != 0 {
                    v.push(format!("{what} is {actual}, must be 0"));
                }
            }
            if let Some(counted) = d.counted_delivered.filter(|c| *c != d.delivered) {
                v.push(format!(
                    "agent-core's delivered count (delivery.counted_delivered) is {counted}, must be {}",
                    d.delivered
                ));
            }
        }
        if !self.partial {
            self.config.kind.rules().invariants(self, &mut v);
        }
        v.extend(self.custom_invariants_broken.iter().cloned());
        v
    }
}
