//! The quality check itself: a candidate response, made from a seed, and its score. Pure and
//! deterministic, so the pass and fail counts of a run are exact.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const VOCABULARY: [&str; 24] = [
    "the",
    "account",
    "renewal",
    "pricing",
    "risk",
    "team",
    "usage",
    "growth",
    "contract",
    "support",
    "latency",
    "region",
    "forecast",
    "pipeline",
    "churn",
    "signal",
    "quarter",
    "expansion",
    "budget",
    "review",
    "owner",
    "deadline",
    "summary",
    "next",
];
/// Terms a response must not contain.
const BANNED: [&str; 2] = ["guaranteed", "lawsuit"];

/// The text of candidate `i` of a run seeded with `seed`: 20 to 200 words, about one in 25 a
/// citation (`[n]`), one in a thousand a banned term.
pub(crate) fn candidate(seed: u64, i: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let words = rng.random_range(20..=200);
    let mut text = String::with_capacity(words * 8);
    for w in 0..words {
        if w > 0 {
            text.push(' ');
        }
        match rng.random_range(0..1000) {
            0..=39 => {
                text.push('[');
                text.push(char::from(b'1' + rng.random_range(0..9u8)));
                text.push(']');
            }
            40 => text.push_str(BANNED[rng.random_range(0..BANNED.len())]),
            _ => text.push_str(VOCABULARY[rng.random_range(0..VOCABULARY.len())]),
        }
    }
    text
}

/// A candidate's score between 0 and 1: 40% length (best between 50 and 150 words), 30%
/// citations (three or more is full marks), 30% vocabulary (distinct words over words, up to
/// 0.3); any banned term scores 0.
pub(crate) fn score(text: &str) -> f64 {
    let mut words = 0usize;
    let mut citations = 0usize;
    let mut seen = [false; VOCABULARY.len()];
    for w in text.split_whitespace() {
        if BANNED.contains(&w) {
            return 0.0;
        }
        words += 1;
        if w.starts_with('[') && w.ends_with(']') {
            citations += 1;
        } else if let Some(k) = VOCABULARY.iter().position(|v| *v == w) {
            seen[k] = true;
        }
    }
    let length = if (50..=150).contains(&words) {
        1.0
    } else {
        0.5
    };
    let cited = (citations as f64 / 3.0).min(1.0);
    let distinct = seen.iter().filter(|s| **s).count() as f64 / words.max(1) as f64;
    0.4 * length + 0.3 * cited + 0.3 * (distinct / 0.3).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banned_terms_fail_and_good_answers_pass() {
        assert_eq!(score("a guaranteed win"), 0.0);
        let good = (0..60)
            .map(|i| {
                if i % 10 == 0 {
                    "[1]"
                } else {
                    VOCABULARY[i % 24]
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(score(&good) > 0.9, "{}", score(&good));
        assert_eq!(candidate(7, 3), candidate(7, 3));
    }
}
