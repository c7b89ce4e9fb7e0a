//! Every gated row of `baselines/` measures something: a row whose value equals one of its
//! scenario's inputs (a parameter, or a product of two) restates what the scenario was given,
//! and either is named a model check by its kind (`Rules::restated`, the virtual clock's time
//! figures) or is one of the accounting or bound rows below, which equal the input by design and
//! fail when work is lost, cut short, or a bound is not kept. Anything else is a gate that
//! cannot fail and fails this test. (Rows that stay constant across injected regressions are
//! not looked for here: `tests/gate_catches.rs` runs the injections, on five scenarios.)

use std::collections::BTreeSet;
use std::path::Path;

use load_tests::engine::{full_suite, FullScale};
use load_tests::{catalog, Scenario};

/// Rows that count outcomes of what the scenario asked for: equal to the input when nothing was
/// lost, refused or cut short, and failing otherwise.
const ACCOUNTING: &[&str] = &[
    "operations.total",
    "operations.succeeded",
    "delivery.sent",
    "delivery.delivered",
];

/// Kinds' own rows that count outcomes of what was asked (same reason), by part of their name.
const ACCOUNTING_EXTRA: &[&str] = &[
    "_expected",
    "fired",
    "handled",
    "_registered",
    "_healthy",
    "approvals_approved",
    "tool_calls_",
    "streams_complete",
    "states_verified",
];

/// Rows that reach a bound the scenario sets, by design (a burst fills the mailbox to its
/// capacity, more requests than slots keep every slot busy): they fail when the bound is not
/// kept (one more) or not reached (a slot left idle, a mailbox that never fills).
const BOUNDS: &[&str] = &[
    "queues.max_depth",
    "pool.max_in_use",
    "pool.avg_utilization_pct",
];

/// Every number in `v` (the scenario's parameters, nested), and products of two.
fn inputs(s: &Scenario) -> BTreeSet<u64> {
    fn walk(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Number(n) => out.extend(n.as_f64()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut numbers = Vec::new();
    walk(&serde_json::to_value(s).unwrap(), &mut numbers);
    numbers.push(s.total_ops() as f64);
    let mut out = BTreeSet::new();
    for &a in &numbers {
        out.insert(a as u64);
        for &b in &numbers {
            out.insert((a * b) as u64);
        }
    }
    // 0 and 1 are every flag's and every count's values: not inputs worth naming.
    out.remove(&0);
    out.remove(&1);
    out
}

#[test]
fn no_gated_row_restates_an_input_unless_named_a_model_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../baselines");
    let mut scenarios = catalog::standard();
    scenarios.extend(full_suite(&FullScale {
        sustained_s: FullScale::PUBLISHED_SUSTAINED_S,
        hold_s: None,
    }));
    let mut suspicious = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = json["scenario"].as_str().unwrap();
        // A team's own scenario (the example) has no catalog entry: its inputs are its test's.
        let Some(s) = scenarios.iter().find(|s| s.name == name) else {
            continue;
        };
        let inputs = inputs(s);
        let restated = load_tests::kinds::rules::model_checks(s);
        for (metric, row) in json["metrics"].as_object().unwrap() {
            checked += 1;
            let Some(value) = row["value"].as_f64() else {
                continue;
            };
            let named = restated
                .iter()
                .any(|r| metric == r || (r.ends_with('.') && metric.starts_with(r.as_str())));
            let accounting = ACCOUNTING.contains(&metric.as_str())
                || BOUNDS.contains(&metric.as_str())
                || ACCOUNTING_EXTRA.iter().any(|part| metric.contains(part));
            if value.fract() == 0.0 && inputs.contains(&(value as u64)) && !named && !accounting {
                suspicious.push(format!("{name}: {metric} = {value}"));
            }
        }
    }
    assert!(checked > 500, "only {checked} rows read");
    assert!(
        suspicious.is_empty(),
        "gated rows equal to an input of their scenario, not named model checks:\n  {}",
        suspicious.join("\n  ")
    );
}
