//! Which scenarios a run takes: the standard ones at the published reports' full scale (each
//! kind's [`crate::kinds::rules::Rules::full_scale`]) or at test scale, narrowed by names and
//! globs.

use crate::catalog;
pub use crate::kinds::rules::FullScale;
use crate::scenario::Scenario;

/// The standard suite at the published reports' full scale, as each kind defines it
/// ([`crate::kinds::rules::Rules::full_scale`]): the messaging profiles at the published totals
/// (up to 1,000,000 messages), the open-loop load for `scale.sustained_s` seconds, the EventBus
/// loads for `scale.hold_s` (as the test suite holds them when it is `None`). Scaled scenarios get their own names (`*_full`, or `<name>_<N>s`
/// for a duration other than the published one), so each is compared with a baseline of the
/// same size.
pub fn full_suite(scale: &FullScale) -> Vec<Scenario> {
    catalog::standard()
        .into_iter()
        .map(|s| full_scale(s, scale))
        .collect()
}

/// `s` at its published full scale (unchanged when the suite already runs it so).
pub fn full_scale(s: Scenario, scale: &FullScale) -> Scenario {
    s.kind.rules().full_scale(&s, scale).unwrap_or(s)
}

/// Whether `name` matches `pattern`: an exact name, or a glob with `*` (any run of characters)
/// and `?` (one character).
pub fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// The scenarios of `all` that match any of `patterns` (all when there are none), in order.
/// A pattern that matches nothing is returned as the error.
pub fn select(all: Vec<Scenario>, patterns: &[String]) -> Result<Vec<Scenario>, String> {
    if patterns.is_empty() {
        return Ok(all);
    }
    if let Some(p) = patterns
        .iter()
        .find(|p| !all.iter().any(|s| matches(p, &s.name)))
    {
        return Err(p.clone());
    }
    Ok(all
        .into_iter()
        .filter(|s| patterns.iter().any(|p| matches(p, &s.name)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("phantom_*", "phantom_extreme_full"));
        assert!(matches("*_full", "phantom_low_full"));
        assert!(matches("veritas_concurrent_1?0", "veritas_concurrent_100"));
        assert!(!matches("phantom_*", "veritas_streaming"));
        assert!(matches("scheduled_day", "scheduled_day"));
        assert!(!matches("scheduled", "scheduled_day"));
    }

    #[test]
    fn full_scale_reaches_the_published_totals() {
        let suite = full_suite(&FullScale {
            sustained_s: FullScale::PUBLISHED_SUSTAINED_S,
            hold_s: Some(FullScale::PUBLISHED_HOLD_S),
        });
        let extreme = suite
            .iter()
            .find(|s| s.name == "phantom_extreme_full")
            .unwrap();
        assert_eq!(extreme.total_ops(), 1_000_000);
        let sustained = suite
            .iter()
            .find(|s| s.name == "veritas_sustained_full")
            .unwrap();
        // 500 ops/s for three minutes.
        assert_eq!(sustained.total_ops(), 90_000);
        let tests_hold = full_suite(&FullScale {
            sustained_s: 60,
            hold_s: None,
        });
        assert!(tests_hold.iter().any(|s| s.name == "eventbus_burst_nats"));
        let burst = suite
            .iter()
            .find(|s| s.name == "eventbus_burst_local_full")
            .unwrap();
        // 500 events/s for a minute.
        assert_eq!(burst.total_ops(), 30_000);
        let scale = FullScale {
            sustained_s: 60,
            hold_s: Some(5),
        };
        let short = full_scale(catalog::by_name("veritas_sustained").unwrap(), &scale);
        assert_eq!(
            (short.name.as_str(), short.total_ops()),
            ("veritas_sustained_60s", 30_000)
        );
        let held = full_scale(catalog::by_name("eventbus_burst_nats").unwrap(), &scale);
        assert_eq!(
            (held.name.as_str(), held.total_ops()),
            ("eventbus_burst_nats_5s", 2_500)
        );
    }

    #[test]
    fn a_pattern_matching_nothing_is_named() {
        let err = select(catalog::standard(), &["veritas_*".into(), "nope*".into()]).unwrap_err();
        assert_eq!(err, "nope*");
    }
}
