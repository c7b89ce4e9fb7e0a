//! The one number formatter of tables, headlines and pages.

/// A number for a table: integers plainly, large values without decimals, others with three
/// decimals; NaN (a figure not measured) as `-`.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Nanoseconds as milliseconds: two decimals below 10 ms, none above; below 0.1 ms as
/// microseconds, so a small latency does not read as zero.
pub fn ms(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.0} ms", ns as f64 / 1e6)
    } else if ns >= 100_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.1} µs", ns as f64 / 1e3)
    }
}

/// A rate: `1.23M`, `45k`, a whole number from a hundred, or one decimal below.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `(actual - baseline) / |baseline|` in percent; `None` when the baseline is zero.
pub fn delta_pct(baseline: f64, actual: f64) -> Option<f64> {
    (baseline != 0.0).then(|| (actual - baseline) / baseline.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_intended() {
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(num(42.0), "42");
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(0.12345), "0.123");
        assert_eq!(ms(1_500_000), "1.50 ms");
        assert_eq!(ms(25_000_000), "25 ms");
        assert_eq!(ms(12_345), "12.3 µs");
        assert_eq!(rate(2_500_000.0), "2.50M");
        assert_eq!(rate(17_466.0), "17.5k");
        assert_eq!(rate(2_500.0), "2500");
        assert_eq!(rate(12.34), "12.3");
        assert_eq!(delta_pct(0.0, 1.0), None);
        assert_eq!(delta_pct(100.0, 101.0), Some(1.0));
    }
}
