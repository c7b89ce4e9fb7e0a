//! The HTML report's plots, rendered to SVG text by plotters (no JavaScript, no fonts fetched):
//! latency percentiles, a time series, and the deltas against the baseline.

use plotters::prelude::*;

use crate::baseline::Row;
use crate::report::Report;

/// Plot size in pixels.
const SIZE: (u32, u32) = (460, 260);
const FONT: &str = "sans-serif";

type PlotResult = Result<(), String>;

fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> PlotResult,
) -> String {
    svg_sized(SIZE, draw)
}

/// Renders `draw` on a white `size` canvas; a drawing error becomes a visible note in the page.
pub(super) fn svg_sized(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> PlotResult,
) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        if let Err(e) = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(root))
        {
            return format!("<p class=\"plot-error\">plot failed: {e}</p>");
        }
    }
    out
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A latency axis label in milliseconds, readable from nanoseconds to minutes.
fn axis_ms(y: f64) -> String {
    if y >= 100.0 {
        format!("{y:.0}")
    } else if y >= 1.0 {
        format!("{y:.1}")
    } else if y >= 0.001 {
        format!("{y:.3}")
    } else {
        format!("{y:.0e}")
    }
}

/// The percentiles every latency summary has, as (label, value getter).
const PERCENTILES: [&str; 7] = ["min", "p50", "p90", "p95", "p99", "p99.9", "max"];

fn points(s: &crate::metrics::LatencySummary) -> [u64; 7] {
    [
        s.min_ns, s.p50_ns, s.p90_ns, s.p95_ns, s.p99_ns, s.p999_ns, s.max_ns,
    ]
}

/// Total, queue and service latency at each percentile, log scale in milliseconds. `None` when
/// nothing was recorded.
pub fn latency(report: &Report) -> Option<String> {
    let l = &report.latency;
    if l.total.count == 0 {
        return None;
    }
    let series: Vec<(&str, RGBColor, [u64; 7])> = [
        ("total", RGBColor(31, 119, 180), &l.total),
        ("queue", RGBColor(255, 127, 14), &l.queue),
        ("service", RGBColor(44, 160, 44), &l.service),
    ]
    .into_iter()
    .filter(|(_, _, s)| s.count > 0)
    .map(|(n, c, s)| (n, c, points(s)))
    .collect();
    let ms = |ns: u64| (ns.max(1) as f64) / 1e6;
    let max = series
        .iter()
        .flat_map(|(_, _, p)| p.iter())
        .copied()
        .max()
        .unwrap_or(1);
    let min = series
        .iter()
        .flat_map(|(_, _, p)| p.iter())
        .copied()
        .min()
        .unwrap_or(1);
    Some(svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .caption("latency by percentile (ms, log)", (FONT, 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(58)
            .build_cartesian_2d(-0.3f64..6.3f64, (ms(min) * 0.8..ms(max) * 1.25).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(7)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && (0.0..=6.0).contains(&i) {
                    PERCENTILES[i as usize].to_owned()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| axis_ms(*y))
            .draw()
            .map_err(err)?;
        for (name, color, p) in &series {
            let pts: Vec<(f64, f64)> = p
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, ms(v)))
                .collect();
            let c = *color;
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.into_iter().map(|pt| Circle::new(pt, 3, c.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    }))
}

/// Which time series to draw.
#[derive(Clone, Copy, Debug)]
pub enum Series {
    /// Operations completed per second between samples.
    Throughput,
    /// Messages pending in all mailboxes.
    QueueDepth,
    /// Live heap bytes (profiled scenarios only).
    Heap,
}

/// A time series of the run, on its own clock. `None` when there is nothing to draw.
pub fn time_series(report: &Report, which: Series) -> Option<String> {
    let s = &report.samples;
    let pts: Vec<(f64, f64)> = match which {
        Series::Throughput => s
            .windows(2)
            .filter(|w| w[1].t_ms > w[0].t_ms)
            .map(|w| {
                let dt = (w[1].t_ms - w[0].t_ms) / 1e3;
                (
                    w[1].t_ms / 1e3,
                    w[1].ops_done.saturating_sub(w[0].ops_done) as f64 / dt,
                )
            })
            .collect(),
        Series::QueueDepth => s
            .iter()
            .map(|p| (p.t_ms / 1e3, p.queue_depth as f64))
            .collect(),
        Series::Heap => s
            .iter()
            .filter_map(|p| p.heap_live_bytes.map(|b| (p.t_ms / 1e3, b as f64 / 1024.0)))
            .collect(),
    };
    if pts.len() < 2 {
        return None;
    }
    let (title, color) = match which {
        Series::Throughput => ("throughput (ops/s)", RGBColor(31, 119, 180)),
        Series::QueueDepth => ("queue depth (messages)", RGBColor(214, 39, 40)),
        Series::Heap => ("live heap (KiB)", RGBColor(148, 103, 189)),
    };
    let x_max = pts.iter().map(|p| p.0).fold(0.0, f64::max).max(1e-3);
    let y_max = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
    Some(svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(58)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("seconds ({:?} clock)", report.clock).to_lowercase())
            .y_label_formatter(&|y| {
                if y_max < 10.0 {
                    format!("{y:.1}")
                } else {
                    crate::format::num(y.round())
                }
            })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                AreaSeries::new(pts, 0.0, color.mix(0.2)).border_style(color.stroke_width(2)),
            )
            .map_err(err)?;
        root.present().map_err(err)
    }))
}

/// Each gated metric's change against its baseline, in percent (clamped to +/-100), failing ones
/// in red. `None` without checks.
pub fn baseline_deltas(checks: &[Row]) -> Option<String> {
    if checks.is_empty() {
        return None;
    }
    let deltas: Vec<(String, f64, bool)> = checks
        .iter()
        .map(|c| {
            let d = c
                .delta_pct()
                .unwrap_or(if c.actual == 0.0 { 0.0 } else { 100.0 });
            (c.metric.clone(), d.clamp(-100.0, 100.0), c.passed)
        })
        .collect();
    let span = deltas.iter().map(|d| d.1.abs()).fold(1.0, f64::max) * 1.15;
    let n = deltas.len();
    let height = (28 + 16 * n as u32).max(120);
    Some(svg_sized((SIZE.0 + 200, height), |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(250)
            .build_cartesian_2d(-span..span, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) if *i < n => deltas[n - 1 - i].0.clone(),
                _ => String::new(),
            })
            .x_label_formatter(&|x| format!("{x:+.1}%"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(deltas.iter().enumerate().map(|(i, (_, d, ok))| {
                let y = n - 1 - i;
                let color = if *ok {
                    RGBColor(44, 160, 44)
                } else {
                    RGBColor(214, 39, 40)
                };
                Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (*d, SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)
    }))
}
