//! The self-contained HTML report: one file, inline CSS and SVG, no script, opens offline.

use std::fmt::Write;

use super::plots::{self, Series};
use super::{ScenarioResult, SuiteReport, Verdict};
use crate::report::paths;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}\
h1{margin-bottom:.2em}table{border-collapse:collapse;margin:1em 0;font-size:14px}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\
th{background:#f3f3f3}.pass{color:#1a7f37;font-weight:600}.regression{color:#c62828;font-weight:700}\
.no_baseline,.partial{color:#8a6d00;font-weight:600}.banner{padding:.6em 1em;border-radius:4px;margin:1em 0}\
.banner.bad{background:#fdecea}.banner.good{background:#e6f4ea}.banner.warn{background:#fff4d6}\
section{border-top:2px solid #ddd;margin-top:2em;padding-top:.5em}.plots{display:flex;flex-wrap:wrap;gap:8px}\
.plots svg{border:1px solid #eee}.muted{color:#666;font-size:13px}\
.model{color:#7a5c00;font-size:12px}.note{color:#555;font-size:13px;max-width:1100px}";

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Regression => "regression",
        Verdict::NoBaseline => "no_baseline",
        Verdict::Partial => "partial",
    }
}

/// `text`, marked as a model check when the figure at `path` restates the scenario's inputs.
fn model(rep: &crate::report::Report, path: &str, text: String) -> String {
    if rep.is_model_check(path) {
        format!("{text} <span class=\"model\">(model)</span>")
    } else {
        text
    }
}

/// Nanoseconds as milliseconds, for a table column headed "(ms)".
fn ms(ns: u64) -> String {
    crate::format::num(ns as f64 / 1e6)
}

/// The report as one HTML page.
pub fn render(suite: &SuiteReport, history: Option<&str>) -> String {
    let mut h = String::new();
    let e = &suite.environment;
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>agent-core load suite</title><style>{STYLE}</style></head><body>\
         <h1>agent-core load suite</h1><p class=\"muted\">{} ({} cores), {}, {} build, {}, revision {}; \
         {} scenarios in {:.0} s{}.</p>",
        escape(&suite.cpu_model),
        e.cores,
        escape(&e.os),
        escape(&e.build_profile),
        escape(&e.rustc),
        escape(&e.git_revision),
        suite.results.len(),
        suite.wall_s,
        if suite.quick { ", --quick (test scale)" } else { ", full published scale" }
    );
    let regressions = suite
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Regression)
        .count();
    let (kind, text) = if suite.partial {
        (
            "warn",
            "PARTIAL: the run was stopped early; figures cover what ran.".to_owned(),
        )
    } else if regressions > 0 {
        (
            "bad",
            format!("{regressions} scenario(s) regressed against their baselines."),
        )
    } else if !suite.not_run.is_empty() {
        (
            "warn",
            format!(
                "{} not run for want of a prerequisite (below); every scenario that ran is \
                 within its baseline.",
                suite.not_run.len()
            ),
        )
    } else {
        ("good", {
            let skipped: usize = suite
                .results
                .iter()
                .map(ScenarioResult::rows_not_compared)
                .sum();
            if skipped == 0 {
                "Every scenario with a baseline is within it.".to_owned()
            } else {
                format!(
                    "Every scenario with a baseline is within it on the rows compared; \
                         {skipped} rows were not compared (blessed from another build profile, \
                         or not counted)."
                )
            }
        })
    };
    let _ = write!(h, "<div class=\"banner {kind}\">{}</div>", escape(&text));
    if !suite.not_run.is_empty() {
        h.push_str("<h2>Not run</h2><table><tr><th>what</th><th>why</th><th>fix</th></tr>");
        for n in &suite.not_run {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&n.what),
                escape(&n.reason),
                escape(&n.fix)
            );
        }
        h.push_str("</table>");
    }

    h.push_str(
        "<h2>Summary</h2><table><tr><th>scenario</th><th>verdict</th><th>clock</th>\
        <th>operations ok / total</th><th>throughput (ops/s)</th><th>p50 (ms)</th><th>p95 (ms)</th>\
        <th>p99 (ms)</th><th>instructions/op</th><th>CPU/op vs tokio</th><th>gates holding</th></tr>",
    );
    for r in &suite.results {
        let rep = &r.report;
        let _ = write!(
            h,
            "<tr><td><a href=\"#{0}\">{0}</a></td><td class=\"{1}\">{2}</td><td>{3:?}</td><td>{4} / {5}</td>\
             <td>{6}</td><td>{7}</td><td>{8}</td><td>{9}</td><td>{11}</td><td>{12}</td><td>{10}</td></tr>",
            escape(&rep.scenario),
            class(r.verdict),
            r.verdict.as_str(),
            rep.clock,
            rep.operations.succeeded,
            rep.operations.total,
            model(rep, paths::THROUGHPUT, crate::format::num(rep.throughput_ops_per_s.round())),
            model(rep, "latency.total.p50_ns", ms(rep.latency.total.p50_ns)),
            model(rep, "latency.total.p95_ns", ms(rep.latency.total.p95_ns)),
            model(rep, "latency.total.p99_ns", ms(rep.latency.total.p99_ns)),
            if r.checks.is_empty() {
                "-".to_owned()
            } else {
                let skipped = r.rows_not_compared();
                let holding = r.checks.iter().filter(|c| c.passed && c.note.is_none()).count();
                format!(
                    "{holding}/{}{}",
                    r.checks.len() - skipped,
                    if skipped > 0 { format!(" ({skipped} not compared)") } else { String::new() }
                )
            },
            rep.instructions
                .as_ref()
                .map_or_else(|| "-".to_owned(), |i| crate::format::num(i.per_op.round())),
            rep.yardstick
                .as_ref()
                .map_or_else(|| "-".to_owned(), |c| format!("{:.2}x", c.cpu_ratio)),
        );
    }
    h.push_str("</table>");

    h.push_str(
        "<p class=\"note\">Figures marked <span class=\"model\">(model)</span> restate the \
        scenario's inputs (on the virtual clock every time figure is the model's): model checks, \
        not measurements.</p>",
    );
    h.push_str(
        "<h2>The published reports' figures beside ours (like for like)</h2><table><tr><th>scenario</th>\
        <th>report</th><th>it claimed</th><th>ours</th><th>our clock</th></tr>",
    );
    let (compared, model_checks) = super::claims(suite);
    for (r, c) in compared {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.report.scenario),
            escape(c.report),
            escape(c.claimed),
            escape(&r.report.config.kind.rules().headline(&r.report)),
            super::clock_name(r.report.clock)
        );
    }
    h.push_str("</table>");
    if !model_checks.is_empty() {
        let names: Vec<String> = model_checks
            .iter()
            .map(|(r, c)| format!("{} ({}: {})", r.report.scenario, c.report, c.claimed))
            .collect();
        let _ = write!(
            h,
            "<p class=\"note\">Not compared: our figures for {} restate the scenario's inputs \
            (model checks of behaviour, not measurements of speed).</p>",
            escape(&names.join("; "))
        );
    }

    for r in &suite.results {
        section(&mut h, r, history);
    }
    h.push_str("</body></html>\n");
    h
}

fn section(h: &mut String, r: &ScenarioResult, history: Option<&str>) {
    let rep = &r.report;
    let link = history.map_or_else(String::new, |page| {
        format!(
            " <a class=\"muted\" href=\"{}#{}\">history</a>",
            escape(page),
            escape(&rep.scenario)
        )
    });
    let _ = write!(
        h,
        "<section id=\"{0}\"><h2>{0} <span class=\"{1}\">{2}</span>{8}</h2><p>{3}<br>\
         <span class=\"muted\">{4}; {5:?} clock, {6:.3} s on it, {7:.2} s wall</span></p><div class=\"plots\">",
        escape(&rep.scenario),
        class(r.verdict),
        r.verdict.as_str(),
        escape(&rep.description),
        escape(&rep.source),
        rep.clock,
        rep.elapsed_s,
        rep.wall_s,
        link
    );
    let plots = [
        plots::latency(rep),
        plots::time_series(rep, Series::Throughput),
        plots::time_series(rep, Series::QueueDepth),
        plots::time_series(rep, Series::Heap),
    ];
    for p in plots.into_iter().flatten() {
        h.push_str(&p);
    }
    h.push_str("</div>");
    if let Some(p) = plots::baseline_deltas(&r.checks) {
        let _ = write!(
            h,
            "<h3>Against the baseline ({})</h3>",
            escape(
                &r.baseline
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            )
        );
        h.push_str(&p);
        h.push_str("<table><tr><th>metric</th><th>this run</th><th>baseline</th><th>delta</th><th>rule</th><th>verdict</th></tr>");
        for c in &r.checks {
            let delta = c
                .delta_pct()
                .map_or_else(|| "-".to_owned(), |d| format!("{d:+.1}%"));
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td class=\"{}\">{}</td></tr>",
                if r.report.is_model_check(&c.metric) {
                    format!("{} <span class=\"model\">(model)</span>", escape(&c.metric))
                } else {
                    escape(&c.metric)
                },
                crate::format::num(c.actual),
                crate::format::num(c.baseline),
                delta,
                c.rule.as_str(),
                if c.rule == crate::gate::Rule::Exact { String::new() } else { format!("{:.0}%", c.tolerance * 100.0) },
                if c.passed { "pass" } else { "regression" },
                match (c.passed, &c.note) {
                    (true, None) => "ok".to_owned(),
                    (true, Some(n)) => format!("skipped: {}", escape(n)),
                    (false, None) => "FAIL".to_owned(),
                    (false, Some(n)) => format!("FAIL: {}", escape(n)),
                }
            );
        }
        h.push_str("</table>");
    }
    if !r.notes.is_empty() {
        h.push_str("<pre>");
        for n in &r.notes {
            h.push_str(&escape(n));
            h.push('\n');
        }
        h.push_str("</pre>");
    }
    for v in &r.violations {
        let _ = write!(
            h,
            "<p class=\"regression\">invariant broken: {}</p>",
            escape(v)
        );
    }
    h.push_str("</section>");
}
