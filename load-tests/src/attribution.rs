//! Where a count per operation went between a baseline and a run: the functions whose count
//! moved most, from the function lists both keep.

use crate::report::FunctionCost;

/// What an attribution counts: its name in the lines, the decimals shown and the smallest move
/// worth a line.
#[derive(Clone, Copy, Debug)]
pub struct Unit {
    /// As shown: `instructions/op`.
    pub name: &'static str,
    /// Decimals shown.
    pub decimals: usize,
    /// Moves smaller than this are not shown.
    pub min_move: f64,
    /// Whether its lists hold every function with a non-zero count (not only the costliest), so
    /// that a function absent from one side had none there.
    pub complete: bool,
}

impl Unit {
    /// Instructions per operation.
    pub const INSTRUCTIONS: Unit = Unit {
        name: "instructions/op",
        decimals: 1,
        min_move: 0.05,
        complete: false,
    };
    /// System calls per operation (a call every 64 operations is 0.0156): every function that
    /// makes one is listed.
    pub const SYSCALLS: Unit = Unit {
        name: "system calls/op",
        decimals: 4,
        min_move: 0.00005,
        complete: true,
    };
    /// Estimated cycles per operation.
    pub const CYCLES: Unit = Unit {
        name: "estimated cycles/op",
        decimals: 1,
        min_move: 0.05,
        complete: false,
    };
}

/// Where a change in a count per operation went: the functions whose count moved most, one
/// line each, largest first (at most `max` lines). A function kept on one side only cost at
/// most the other side's smallest kept entry there, so its move is shown as a bound; a function
/// that merely slipped past the other side's list is not shown.
pub fn attribution(
    baseline: &[FunctionCost],
    actual: &[FunctionCost],
    max: usize,
    unit: Unit,
) -> Vec<String> {
    let d = unit.decimals;
    let floor = |list: &[FunctionCost]| list.last().map_or(0.0, |f| f.per_op);
    let (b_floor, a_floor) = (floor(baseline), floor(actual));
    let find =
        |list: &[FunctionCost], name: &str| list.iter().find(|f| f.name == name).map(|f| f.per_op);
    let mut names: Vec<&str> = baseline
        .iter()
        .chain(actual)
        .map(|f| f.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut moves: Vec<(f64, String)> = names
        .into_iter()
        .filter_map(|name| {
            let (delta, text, from, to) = match (find(baseline, name), find(actual, name)) {
                (Some(b), Some(a)) => (
                    a - b,
                    format!("{:+.d$}", a - b),
                    format!("{b:.d$}"),
                    format!("{a:.d$}"),
                ),
                (None, Some(a)) if unit.complete => (
                    a,
                    format!("{a:+.d$}"),
                    format!("{:.d$}", 0.0),
                    format!("{a:.d$}"),
                ),
                (Some(b), None) if unit.complete => (
                    -b,
                    format!("{:+.d$}", -b),
                    format!("{b:.d$}"),
                    format!("{:.d$}", 0.0),
                ),
                (None, Some(a)) if a > b_floor => (
                    a - b_floor,
                    format!(">=+{:.d$}", a - b_floor),
                    format!("<={b_floor:.d$}"),
                    format!("{a:.d$}"),
                ),
                (Some(b), None) if b > a_floor => (
                    a_floor - b,
                    format!("<={:.d$}", a_floor - b),
                    format!("{b:.d$}"),
                    format!("<={a_floor:.d$}"),
                ),
                _ => return None,
            };
            let line = format!("{text:>10} {} in `{name}` ({from} -> {to})", unit.name);
            (delta.abs() >= unit.min_move).then_some((delta, line))
        })
        .collect();
    moves.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
    moves.into_iter().take(max).map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, per_op: f64) -> FunctionCost {
        FunctionCost {
            name: name.into(),
            per_op,
        }
    }

    #[test]
    fn attribution_names_the_function_that_grew() {
        let base = [f("a", 100.0), f("send", 40.0), f("c", 10.0)];
        let now = [f("a", 100.0), f("send", 100.0), f("c", 10.0)];
        let lines = attribution(&base, &now, 5, Unit::INSTRUCTIONS);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("+60.0 instructions/op in `send` (40.0 -> 100.0)"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_new_system_call_is_named_with_its_caller() {
        let base = [f("clock_gettime", 4.0)];
        let now = [f("clock_gettime", 4.0), f("sched_yield", 1.0 / 64.0)];
        let lines = attribution(&base, &now, 5, Unit::SYSCALLS);
        assert_eq!(
            lines,
            ["   +0.0156 system calls/op in `sched_yield` (0.0000 -> 0.0156)"]
        );
    }

    #[test]
    fn a_function_new_to_the_list_shows_its_bound() {
        let lines = attribution(
            &[f("a", 5.0)],
            &[f("a", 5.0), f("new", 7.0)],
            5,
            Unit::INSTRUCTIONS,
        );
        assert!(
            lines[0].contains(">=+2.0 instructions/op in `new` (<=5.0 -> 7.0)"),
            "{lines:?}"
        );
        // Slipping just past the other list's end is no move.
        let lines = attribution(
            &[f("a", 9.0), f("b", 5.0)],
            &[f("a", 9.0), f("c", 6.0)],
            5,
            Unit::INSTRUCTIONS,
        );
        assert!(lines.iter().all(|l| !l.contains("`b`")), "{lines:?}");
    }
}
