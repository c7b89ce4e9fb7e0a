//! `history.html`: each scenario's counted, heap and real-time figures over the commits, the
//! debug and release series side by side, blessings and recorded runs marked, and the change
//! points of the noisy ones drawn where the level moved. Rendered to SVG like the report's
//! plots; the report links each scenario here.

use std::collections::BTreeMap;
use std::fmt::Write;

use plotters::prelude::*;

use super::html::escape;
use super::plots::svg_sized;
use crate::history::record::Source;
use crate::history::series::{timestamp, Kind, Series};
use crate::report::paths;

/// The figures drawn, in order: the ones a regression moves (the outcome counts are flat).
const DRAWN: [&str; 6] = [
    paths::INSTRUCTIONS,
    paths::ESTIMATED_CYCLES,
    paths::HEAP_BYTES_PER_OP,
    paths::HEAP_PEAK_LIVE,
    paths::YARDSTICK_THROUGHPUT,
    paths::YARDSTICK_CPU,
];

const PROFILE_COLORS: [(&str, RGBColor); 2] = [
    ("debug", RGBColor(31, 119, 180)),
    ("release", RGBColor(255, 127, 14)),
];

/// The page for `series` (from [`crate::history::series::build`]); `what` says where the
/// records came from.
pub fn render(series: &[Series], what: &str) -> String {
    let mut by_scenario: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in series.iter().filter(|s| DRAWN.contains(&s.metric())) {
        by_scenario.entry(s.scenario()).or_default().push(s);
    }
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>agent-core load-test history</title>\
         <style>body{font-family:sans-serif;max-width:1400px;margin:1em auto;padding:0 1em}\
         .plots{display:flex;flex-wrap:wrap;gap:8px}.muted{color:#666}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>",
    );
    let points: usize = series.iter().map(|s| s.points.len()).sum();
    let _ = write!(
        h,
        "<h1>Load-test history</h1><p>{} series, {points} points: {}. Triangles are \
         blessings (values committed to <code>baselines/</code>), dots are recorded gate runs; \
         blue is the debug build (the test command), orange the release build (the CLI). Red \
         lines are change points of the real-time ratios (E-Divisive, Student's t-test p &lt; \
         0.001, a move of 5% or more).</p>",
        series.len(),
        escape(what)
    );
    let changes: Vec<(&Series, usize)> = series
        .iter()
        .flat_map(|s| (0..s.change_points.len()).map(move |i| (s, i)))
        .collect();
    let _ = write!(h, "<h2>Change points ({})</h2>", changes.len());
    if !changes.is_empty() {
        h.push_str("<table><tr><th>series</th><th>profile</th><th>first point after</th><th>level</th><th>p</th></tr>");
        for (s, i) in changes {
            let c = s.change_points[i];
            let p = &s.points[c.index];
            let _ = write!(
                h,
                "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{} {}</td><td>{:.3} &rarr; {:.3} ({:+.1}%)</td><td>{:.1e}</td></tr>",
                escape(s.scenario()),
                escape(&s.id),
                escape(&s.profile),
                escape(&p.commit[..p.commit.len().min(10)]),
                escape(&p.date[..p.date.len().min(10)]),
                c.before,
                c.after,
                c.change_pct(),
                c.p_value
            );
        }
        h.push_str("</table>");
    }
    for (scenario, list) in by_scenario {
        let _ = write!(
            h,
            "<section id=\"{0}\"><h2>{0}</h2><div class=\"plots\">",
            escape(scenario)
        );
        for metric in DRAWN {
            let of_metric: Vec<&Series> = list
                .iter()
                .copied()
                .filter(|s| s.metric() == metric)
                .collect();
            if !of_metric.is_empty() {
                h.push_str(&plot(metric, &of_metric));
            }
        }
        h.push_str("</div></section>");
    }
    h.push_str("</body></html>\n");
    h
}

/// One figure's series (one per profile), in the order of their dates: x is a point's rank
/// among the chart's distinct dates (commits and runs evenly spaced, as in rustc-perf's and
/// Otava's charts), labelled with the date.
fn plot(metric: &str, series: &[&Series]) -> String {
    let mut dates: Vec<i64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| timestamp(&p.date)))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let rank = |date: &str| dates.binary_search(&timestamp(date)).unwrap_or(0) as f64;
    let x_max = (dates.len().max(2) - 1) as f64;
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.value));
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    let (y_lo, y_hi) = (lo - pad, hi + pad);
    let kind = series[0].kind;
    svg_sized((460, 260), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(metric, ("sans-serif", 14))
            .margin(8)
            .margin_right(28)
            .x_label_area_size(28)
            .y_label_area_size(62)
            .build_cartesian_2d(-x_max * 0.02..x_max * 1.02, y_lo..y_hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| {
                let i = (x.round().max(0.0) as usize).min(dates.len() - 1);
                chrono::DateTime::from_timestamp(dates[i], 0)
                    .map_or_else(String::new, |d| d.format("%m-%d %H:%M").to_string())
            })
            .y_label_formatter(&|y| crate::format::num(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in series {
            let color = PROFILE_COLORS
                .iter()
                .find(|(p, _)| *p == s.profile)
                .map_or(BLACK, |(_, c)| *c);
            let pts: Vec<(f64, f64, Source)> = s
                .points
                .iter()
                .map(|p| (rank(&p.date), p.value, p.source))
                .collect();
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    color.mix(0.5).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(pts.iter().map(|&(x, y, source)| -> DynElement<_, _> {
                    match source {
                        Source::Blessed => {
                            TriangleMarker::new((x, y), 5, color.filled()).into_dyn()
                        }
                        Source::Run => Circle::new((x, y), 2, color.filled()).into_dyn(),
                    }
                }))
                .map_err(|e| e.to_string())?;
            if kind == Kind::Noisy {
                for c in &s.change_points {
                    let x = pts[c.index].0;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, y_lo), (x, y_hi)],
                            RED.stroke_width(2),
                        )))
                        .map_err(|e| e.to_string())?;
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{:+.0}%", c.change_pct()),
                            (x, y_hi),
                            ("sans-serif", 12).into_font().color(&RED),
                        )))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        root.present().map_err(|e| e.to_string())
    })
}
