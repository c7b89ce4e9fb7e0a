//! Stable series ids: `<scenario>/<metric>` under today's names. When a scenario or a metric is
//! renamed, add the old name here and its series carries over, in the git log's blessings and in
//! recorded runs alike.

/// Renamed scenarios: (old name, new name).
pub const SCENARIO_RENAMES: &[(&str, &str)] = &[];

/// Renamed metrics: (old path, new path).
pub const METRIC_RENAMES: &[(&str, &str)] = &[
    // The ratios to raw tokio were "calibration" until the yardstick got its name.
    ("calibration.throughput_ratio", "yardstick.throughput_ratio"),
    ("calibration.cpu_ratio", "yardstick.cpu_ratio"),
];

/// The id of `metric` of `scenario`, under today's names.
pub fn stable_id(scenario: &str, metric: &str) -> String {
    let rename = |table: &[(&str, &str)], name: &str| {
        table
            .iter()
            .find(|(old, _)| *old == name)
            .map_or_else(|| name.to_owned(), |(_, new)| (*new).to_owned())
    };
    format!(
        "{}/{}",
        rename(SCENARIO_RENAMES, scenario),
        rename(METRIC_RENAMES, metric)
    )
}

/// `id` (`<scenario>/<metric>`) under today's names.
pub fn current(id: &str) -> String {
    match id.split_once('/') {
        Some((s, m)) => stable_id(s, m),
        None => id.to_owned(),
    }
}
