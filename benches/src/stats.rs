//! The one median of the benchmarks and the paired comparison: the upper middle value of the
//! sorted samples (a value that occurred, never an average of two), as in load-tests.

/// The median of `v`: the upper middle one for an even count. `v` must not be empty.
pub fn median<T: Copy + PartialOrd>(v: &[T]) -> T {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    s[s.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::median;
    use std::time::Duration;

    #[test]
    fn median_is_a_value_that_occurred() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 3.0);
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(&[d(3), d(1), d(2), d(4)]), d(3));
    }
}
