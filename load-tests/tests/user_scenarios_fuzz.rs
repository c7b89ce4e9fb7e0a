//! The TOML reader of user scenarios never panics: random and mutated scenario files give an
//! error or valid scenarios, and every scenario it returns passes the runner's checks.

use std::path::Path;

use load_tests::engine::user;
use load_tests::runner::validate;
use proptest::prelude::*;

const GOOD: &str = r#"[[scenario]]
name = "my_steps"
description = "4 agents x 3 steps of 2 ms"
source = "a user"
agents = 4
ops_per_agent = 3
concurrency = 4
message_bytes = 0
clock = "virtual"
rng_seed = 1
kind = { type = "llm_concurrency", bucket_capacity = 5, refill_per_s = 2.5 }
workload = { type = "io", wait_us = 2000 }
arrival = { type = "open", rate_per_s = 100.0 }
"#;

/// Numbers a careless or hostile file might hold, as TOML.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just("nan".to_owned()),
        Just("-inf".to_owned()),
        Just("inf".to_owned()),
        Just("1e308".to_owned()),
        Just("-5.0".to_owned()),
        Just("1e-300".to_owned()),
        Just("5e-324".to_owned()),
        Just("0".to_owned()),
        Just("18446744073709551615".to_owned()),
    ]
}

fn check(text: &str) {
    match user::parse(text, Path::new("fuzz.toml"), &[]) {
        Ok(scenarios) => {
            for s in &scenarios {
                assert!(validate(s).is_ok(), "accepted an invalid scenario: {s:?}");
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml"), "{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every number field, replaced by an arbitrary number.
    #[test]
    fn any_number_in_any_field(line in 4usize..13, value in number()) {
        let text: String = GOOD
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == line {
                    match l.split_once(" = ") {
                        Some((key, rest)) if !rest.starts_with('{') && !rest.starts_with('"') => {
                            format!("{key} = {value}\n")
                        }
                        _ => {
                            // Inside an inline table: replace its last number.
                            let cut = l.rfind("= ").map_or(l.len(), |i| i + 2);
                            format!("{}{value} }}\n", &l[..cut])
                        }
                    }
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        check(&text);
    }

    /// Bytes flipped, cut or inserted anywhere.
    #[test]
    fn mutated_bytes(edits in prop::collection::vec((0usize..400, any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = GOOD.as_bytes().to_vec();
        for (at, byte, how) in edits {
            let at = at % (bytes.len() + 1);
            match how {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        check(&String::from_utf8_lossy(&bytes));
    }

    /// Arbitrary text.
    #[test]
    fn arbitrary_text(text in ".{0,300}") {
        check(&text);
    }
}
