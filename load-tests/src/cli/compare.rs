//! `compare`: two suite reports side by side, and an exact verdict on instructions per
//! operation between the two builds.

use std::path::Path;

use super::{CliError, Exit};
use crate::engine::SuiteReport;
use crate::format::{delta_pct, num};
use crate::gate::{Gate, Rule};
use crate::report::paths;

pub(super) fn compare(a: &Path, b: &Path) -> Result<Exit, CliError> {
    let (ra, rb) = (SuiteReport::read(a)?, SuiteReport::read(b)?);
    println!(
        "A: {} (revision {})",
        a.display(),
        ra.environment.git_revision
    );
    println!(
        "B: {} (revision {})",
        b.display(),
        rb.environment.git_revision
    );
    let mut common = 0;
    let mut rose = Vec::new();
    let mut fell = Vec::new();
    for x in &ra.results {
        let Some(y) = rb
            .results
            .iter()
            .find(|y| y.report.scenario == x.report.scenario)
        else {
            continue;
        };
        common += 1;
        println!(
            "\n== {}  [{} -> {}]",
            x.report.scenario,
            x.verdict.as_str(),
            y.verdict.as_str()
        );
        println!("   {:<32} {:>16} {:>16} {:>9}", "metric", "A", "B", "delta");
        for (_, m) in paths::HEADLINE {
            let (Some(va), Some(vb)) = (x.report.metric(m), y.report.metric(m)) else {
                continue;
            };
            let delta = delta_pct(va, vb).map_or_else(|| "-".to_owned(), |d| format!("{d:+.1}%"));
            println!("   {:<32} {:>16} {:>16} {:>9}", m, num(va), num(vb), delta);
        }
        if let (Some(ia), Some(ib)) = (&x.report.instructions, &y.report.instructions) {
            let comparable = ia.rustc == ib.rustc
                && ia.valgrind == ib.valgrind
                && ia.build_profile == ib.build_profile
                && ia.ops == ib.ops;
            let limit = Gate::INSTRUCTION_TOLERANCE;
            if !comparable {
                println!("   (instruction counts not comparable: different rustc, valgrind, profile or scale)");
            } else if !Rule::AtMost.passes(ia.per_op, ib.per_op, limit) {
                rose.push(format!(
                    "{}: {:.1} -> {:.1} instructions/op ({:+.2}%)",
                    x.report.scenario,
                    ia.per_op,
                    ib.per_op,
                    (ib.per_op / ia.per_op - 1.0) * 100.0
                ));
                for line in crate::instructions::attribution(
                    &ia.agent_core_inclusive,
                    &ib.agent_core_inclusive,
                    6,
                    crate::instructions::Unit::INSTRUCTIONS,
                ) {
                    println!("   {line}");
                }
            } else if ib.per_op < ia.per_op * (1.0 - limit) {
                fell.push(format!(
                    "{}: {:.1} -> {:.1} instructions/op ({:+.2}%)",
                    x.report.scenario,
                    ia.per_op,
                    ib.per_op,
                    (ib.per_op / ia.per_op - 1.0) * 100.0
                ));
            }
        }
    }
    let only = |r: &SuiteReport, o: &SuiteReport| -> Vec<String> {
        r.results
            .iter()
            .filter(|x| {
                !o.results
                    .iter()
                    .any(|y| y.report.scenario == x.report.scenario)
            })
            .map(|x| x.report.scenario.clone())
            .collect()
    };
    for (label, names) in [("only in A", only(&ra, &rb)), ("only in B", only(&rb, &ra))] {
        if !names.is_empty() {
            println!("\n{label}: {}", names.join(", "));
        }
    }
    if common == 0 {
        return Err(CliError::NothingShared(a.to_owned(), b.to_owned()));
    }
    if !fell.is_empty() {
        println!(
            "\nImproved: instructions per operation fell by more than {:.0}% in the scenarios \
             below. Re-bless them down (UPDATE_BASELINES=1, or `load-tests bless`): the gate \
             fails an improvement it has not blessed, so that the slack does not let a later \
             regression through.",
            Gate::INSTRUCTION_TOLERANCE * 100.0
        );
        for r in &fell {
            println!("  {r}");
        }
    }
    if rose.is_empty() {
        println!(
            "\nInstructions per operation: no scenario rose by more than {:.0}%.",
            Gate::INSTRUCTION_TOLERANCE * 100.0
        );
        Ok(Exit::Pass)
    } else {
        println!(
            "\nInstructions per operation rose by more than {:.0}% in:",
            Gate::INSTRUCTION_TOLERANCE * 100.0
        );
        for r in &rose {
            println!("  {r}");
        }
        Ok(Exit::Regression)
    }
}
