//! Which scenarios a run takes: the standard ones at the published reports' full scale (each
//! kind's [`crate::kinds::rules::Rules::full_scale`]) or at test scale, narrowed by names and
//! globs.

use crate::catalog;
use crate::scenario::Scenario;

/// The published sustained-load duration (seed 000: `test_sustained_load(50, 3)`, three minutes).
pub use crate::kinds::steps::PUBLISHED_SUSTAINED_S;

/// The standard suite at the published reports' full scale, as each kind defines it
/// ([`crate::kinds::rules::Rules::full_scale`]): the messaging profiles at the published totals
/// (up to 1,000,000 messages), the open-loop load for `sustained_s` seconds. Scaled scenarios get
/// their own names (`*_full`, or `<name>_<N>s` for a duration other than the published one), so
/// each is compared with a baseline of the same size.
pub fn full_suite(sustained_s: u64) -> Vec<Scenario> {
    catalog::standard()
        .into_iter()
        .map(|s| full_scale(s, sustained_s))
        .collect()
}

/// `s` at its published full scale (unchanged when the suite already runs it so).
pub fn full_scale(s: Scenario, sustained_s: u64) -> Scenario {
    s.kind.rules().full_scale(&s, sustained_s).unwrap_or(s)
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
        let suite = full_suite(PUBLISHED_SUSTAINED_S);
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
        let short = full_scale(catalog::by_name("veritas_sustained").unwrap(), 60);
        assert_eq!(
            (short.name.as_str(), short.total_ops()),
            ("veritas_sustained_60s", 30_000)
        );
    }

    #[test]
    fn a_pattern_matching_nothing_is_named() {
        let err = select(catalog::standard(), &["veritas_*".into(), "nope*".into()]).unwrap_err();
        assert_eq!(err, "nope*");
    }
}
