//! The console's tables: one per scenario (headline metrics, baseline, delta, verdict), then a
//! one-screen summary with the published reports' own figures beside ours.

use std::fmt::Write;

use super::{ScenarioResult, SuiteReport, Verdict};
use crate::baseline::Row;
use crate::format::num;
use crate::gate::Rule;
use crate::report::paths;

fn delta(c: &Row) -> String {
    match c.delta_pct() {
        Some(d) => format!("{d:+.1}%"),
        None if c.actual == 0.0 => "0".into(),
        None => "new".into(),
    }
}

fn rule(c: &Row) -> String {
    if c.rule == Rule::Exact {
        "exact".into()
    } else {
        format!("{} {:.0}%", c.rule.as_str(), c.tolerance * 100.0)
    }
}

/// The table of one scenario.
pub fn scenario_table(r: &ScenarioResult) -> String {
    let rep = &r.report;
    let mut out = String::new();
    let gates = if r.checks.is_empty() {
        String::new()
    } else {
        format!(
            ", {}/{} gates hold",
            r.checks.iter().filter(|c| c.passed).count(),
            r.checks.len()
        )
    };
    let _ = writeln!(
        out,
        "\n== {}  [{}{}]  {:?} clock, {:.2} s on it, {:.2} s wall",
        rep.scenario,
        r.verdict.as_str(),
        gates,
        rep.clock,
        rep.elapsed_s,
        rep.wall_s
    );
    let _ = writeln!(
        out,
        "   {:<40} {:>16} {:>16} {:>9}  verdict",
        "metric", "this run", "baseline", "delta"
    );
    let mut shown = Vec::new();
    for (label, path) in paths::HEADLINE.iter().copied() {
        let Some(actual) = rep.metric(path) else {
            continue;
        };
        let marked;
        let label = if rep.is_model_check(path) {
            marked = format!("{label} (model check)");
            marked.as_str()
        } else {
            label
        };
        match r.checks.iter().find(|c| c.metric == path) {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "   {:<40} {:>16} {:>16} {:>9}  {} ({}){}",
                    label,
                    num(c.actual),
                    num(c.baseline),
                    delta(c),
                    match (c.passed, &c.note) {
                        (true, Some(_)) => "skipped",
                        (true, None) => "ok",
                        (false, _) => "FAIL",
                    },
                    rule(c),
                    c.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
                shown.push(path);
            }
            None => {
                let _ = writeln!(
                    out,
                    "   {:<40} {:>16} {:>16} {:>9}",
                    label,
                    num(actual),
                    "-",
                    "-"
                );
            }
        }
    }
    for c in r
        .checks
        .iter()
        .filter(|c| !c.passed && !shown.contains(&c.metric.as_str()))
    {
        let _ = writeln!(
            out,
            "   {:<40} {:>16} {:>16} {:>9}  FAIL ({}){}",
            c.metric,
            num(c.actual),
            num(c.baseline),
            delta(c),
            rule(c),
            c.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "   {n}");
    }
    for v in &r.violations {
        let _ = writeln!(out, "   invariant broken: {v}");
    }
    if r.verdict == Verdict::NoBaseline {
        let _ = writeln!(out, "   (no baseline: `bless` writes one from this run)");
    }
    out
}

/// The one-screen summary: verdicts, then our figures beside the published reports' claims.
pub fn summary(suite: &SuiteReport) -> String {
    let mut out = String::new();
    let count = |v: Verdict| suite.results.iter().filter(|r| r.verdict == v).count();
    // A pass whose baseline has rows this run could not compare (rows bound to another build
    // profile, or counts not made) is a pass on fewer rows, said apart from a full one.
    let partly: Vec<&ScenarioResult> = suite
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Pass && r.rows_not_compared() > 0)
        .collect();
    let skipped_rows: usize = partly.iter().map(|r| r.rows_not_compared()).sum();
    let _ = writeln!(
        out,
        "\n{} scenarios{} in {:.0} s: {} pass{}, {} regression, {} without baseline{}",
        suite.results.len(),
        if suite.partial {
            " (PARTIAL: stopped early)"
        } else {
            ""
        },
        suite.wall_s,
        count(Verdict::Pass) - partly.len(),
        if partly.is_empty() {
            String::new()
        } else {
            format!(
                ", {} pass on the rows compared ({} rows not compared: blessed from another build profile or not counted; see each table)",
                partly.len(),
                skipped_rows
            )
        },
        count(Verdict::Regression),
        count(Verdict::NoBaseline),
        if count(Verdict::Partial) > 0 {
            format!(", {} cut short", count(Verdict::Partial))
        } else {
            String::new()
        }
    );
    if !suite.not_run.is_empty() {
        let _ = writeln!(
            out,
            "  {} NOT RUN (a prerequisite missing; neither passed nor regressed):",
            suite.not_run.len()
        );
        // Scenarios missing the same thing are listed together.
        let mut shown: Vec<(&str, &str)> = Vec::new();
        for n in &suite.not_run {
            if shown.contains(&(n.reason.as_str(), n.fix.as_str())) {
                continue;
            }
            shown.push((&n.reason, &n.fix));
            let what: Vec<&str> = suite
                .not_run
                .iter()
                .filter(|m| m.reason == n.reason && m.fix == n.fix)
                .map(|m| m.what.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  NOT RUN {}: {}\n    fix: {}",
                what.join(", "),
                n.reason,
                n.fix
            );
        }
    }
    for r in suite
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Regression)
    {
        let what: Vec<String> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{} {} vs {}", c.metric, num(c.actual), num(c.baseline)))
            .chain(r.violations.iter().cloned())
            .collect();
        let _ = writeln!(
            out,
            "  REGRESSION {}: {}",
            r.report.scenario,
            what.join("; ")
        );
    }
    let (compared, model_checks) = super::claims(suite);
    if !compared.is_empty() {
        let _ = writeln!(
            out,
            "\nThe published reports' figures beside ours (like for like; clock of ours):"
        );
        let _ = writeln!(
            out,
            "  {:<28} {:<16} {:<44} {:<8} ours",
            "scenario", "report", "it claimed", "clock"
        );
        for (r, c) in compared {
            let _ = writeln!(
                out,
                "  {:<28} {:<16} {:<44} {:<8} {}",
                r.report.scenario,
                c.report,
                c.claimed,
                super::clock_name(r.report.clock),
                r.report.config.kind.rules().headline(&r.report)
            );
        }
    }
    if !model_checks.is_empty() {
        let names: Vec<&str> = model_checks
            .iter()
            .map(|(r, _)| r.report.scenario.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  Not compared (our figures restate the scenario's inputs: model checks): {}",
            names.join(", ")
        );
    }
    let e = &suite.environment;
    let _ = writeln!(
        out,
        "\nMachine: {} ({} cores), {}, {} build, {}, revision {}",
        suite.cpu_model, e.cores, e.os, e.build_profile, e.rustc, e.git_revision
    );
    out
}
