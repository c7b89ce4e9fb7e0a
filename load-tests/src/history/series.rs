//! History records grouped into series (one per stable id and build profile, in date order),
//! with the change points of the noisy ones.

use std::collections::BTreeMap;

use super::changepoint::{change_points, ChangePoint, Config};
use super::record::Record;
use crate::gate::Gate;
use crate::report::paths;

/// How a series' figure behaves from run to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Counted or allocated: equal between runs of one build (the drift gate watches it).
    Exact,
    /// Timed against raw tokio in real time: a draw from a spread (change points find its moves).
    Noisy,
    /// Outcome counts and virtual-clock figures: exact, gated equal.
    Outcome,
}

impl Kind {
    /// The kind of `metric`.
    pub fn of(metric: &str) -> Kind {
        if Gate::drifts(metric) || paths::COUNTED.contains(&metric) {
            Kind::Exact
        } else if metric.starts_with("yardstick.") {
            Kind::Noisy
        } else {
            Kind::Outcome
        }
    }
}

/// One figure of one scenario in one build profile, over time.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// `<scenario>/<metric>`.
    pub id: String,
    /// `debug` or `release`.
    pub profile: String,
    /// How it behaves.
    pub kind: Kind,
    /// Its points, oldest first (blessings and runs together).
    pub points: Vec<Record>,
    /// Where a noisy series' level moved (indices into `points`); empty for the others.
    pub change_points: Vec<ChangePoint>,
}

impl Series {
    /// The scenario.
    pub fn scenario(&self) -> &str {
        self.points[0].scenario()
    }

    /// The metric.
    pub fn metric(&self) -> &str {
        self.points[0].metric()
    }

    /// The values, oldest first.
    pub fn values(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.value).collect()
    }
}

/// `records` as series, sorted by id then profile; change points found with `config` in the
/// noisy ones.
pub fn build(records: Vec<Record>, config: &Config) -> Vec<Series> {
    let mut groups: BTreeMap<(String, String), Vec<Record>> = BTreeMap::new();
    for r in records {
        groups
            .entry((r.id.clone(), r.profile.clone()))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((id, profile), mut points)| {
            // Stable: a commit's blessing stays before a run of the same second.
            points.sort_by_key(|p| timestamp(&p.date));
            let kind = Kind::of(points[0].metric());
            let mut s = Series {
                id,
                profile,
                kind,
                points,
                change_points: Vec::new(),
            };
            if kind == Kind::Noisy {
                s.change_points = change_points(&s.values(), config);
            }
            s
        })
        .collect()
}

/// Seconds since the Unix epoch of an RFC 3339 date (0 when it is not one).
pub fn timestamp(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(date).map_or(0, |d| d.timestamp())
}
