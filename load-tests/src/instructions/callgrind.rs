//! Reads a callgrind output file (format described in valgrind's "Callgrind Format
//! Specification"): the instructions executed, per object (the program, libc, ...) and per
//! function, counting each function's own instructions (not those of what it calls).

use std::collections::BTreeMap;
use std::collections::HashMap;

/// Instructions by function and by object, from one callgrind file.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Profile {
    /// Self cost per object file (the executable, `libc.so.6`, ...), by its path.
    pub(crate) by_object: BTreeMap<String, u64>,
    /// Self cost per function, by demangled name (monomorphizations of one name add up), with
    /// the object it lives in.
    pub(crate) by_function: BTreeMap<String, (String, u64)>,
    /// Inclusive cost per function: its own and that of every call it made (a recursive call is
    /// counted at each level, as callgrind does).
    pub(crate) inclusive: BTreeMap<String, u64>,
    /// The file's own `summary:`/`totals:` line, a check on the sum.
    pub(crate) summary: Option<u64>,
}

impl Profile {
    /// Instructions in `object` (matched by its path's file name).
    pub(crate) fn in_object(&self, file_name: &str) -> u64 {
        self.by_object
            .iter()
            .filter(|(path, _)| path.rsplit('/').next() == Some(file_name))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every instruction counted.
    pub(crate) fn total(&self) -> u64 {
        self.by_object.values().sum()
    }
}

/// Why a callgrind file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) problem: String,
}

/// Parses callgrind output text with one event (`Ir`), as written by
/// `valgrind --tool=callgrind` with its default options.
pub(crate) fn parse(text: &str) -> Result<Profile, ParseError> {
    let mut names: HashMap<(&str, String), String> = HashMap::new();
    let mut profile = Profile::default();
    let mut object = String::new();
    let mut function: Option<String> = None;
    // The cost line after `calls=` is the call's inclusive cost: it belongs to the callee.
    let mut after_calls = false;
    for (i, line) in text.lines().enumerate() {
        let err = |problem: String| ParseError {
            line: i + 1,
            problem,
        };
        if let Some(rest) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            let n = rest
                .trim()
                .parse()
                .map_err(|_| err(format!("bad total {rest:?}")))?;
            profile.summary = Some(n);
            continue;
        }
        if let Some(rest) = line.strip_prefix("events:") {
            if rest.split_whitespace().collect::<Vec<_>>() != ["Ir"] {
                return Err(err(format!("expected the single event Ir, got {rest:?}")));
            }
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            match key {
                "ob" => object = resolve(&mut names, "ob", value),
                "fn" => {
                    let name = resolve(&mut names, "fn", value);
                    profile
                        .by_function
                        .entry(name.clone())
                        .or_insert_with(|| (object.clone(), 0));
                    function = Some(name);
                }
                // Names of called objects, files and functions: compressed names are defined in
                // them too, and must be remembered.
                "cob" => drop(resolve(&mut names, "ob", value)),
                "cfn" => drop(resolve(&mut names, "fn", value)),
                "fl" | "fi" | "fe" | "cfi" | "cfl" => drop(resolve(&mut names, "fl", value)),
                "calls" => after_calls = true,
                _ => {}
            }
            continue;
        }
        let first = line.as_bytes().first().copied();
        if !matches!(first, Some(b'0'..=b'9' | b'+' | b'-' | b'*')) {
            continue;
        }
        // A cost line: the position (a line number), then the Ir count (absent when zero).
        let mut fields = line.split_whitespace();
        fields.next();
        let cost: u64 = match fields.next() {
            Some(c) => c
                .parse()
                .map_err(|_| err(format!("bad cost line {line:?}")))?,
            None => 0,
        };
        let Some(f) = &function else {
            return Err(err("a cost line before any fn= line".into()));
        };
        *profile.inclusive.entry(f.clone()).or_default() += cost;
        if std::mem::take(&mut after_calls) {
            continue;
        }
        if let Some(entry) = profile.by_function.get_mut(f) {
            entry.1 += cost;
        }
        *profile.by_object.entry(object.clone()).or_default() += cost;
    }
    Ok(profile)
}

/// Expands callgrind's name compression: `(id) name` defines `id`, `(id)` refers to it.
fn resolve<'a>(
    names: &mut HashMap<(&'a str, String), String>,
    kind: &'a str,
    value: &str,
) -> String {
    let value = value.trim();
    let Some(rest) = value.strip_prefix('(') else {
        return value.to_owned();
    };
    let Some((id, name)) = rest.split_once(')') else {
        return value.to_owned();
    };
    let name = name.trim();
    if name.is_empty() {
        names
            .get(&(kind, id.to_owned()))
            .cloned()
            .unwrap_or_default()
    } else {
        names.insert((kind, id.to_owned()), name.to_owned());
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
version: 1
creator: callgrind-3.19.0
events: Ir
summary: 1111
ob=(1) /bin/prog
fl=(1) src/main.rs
fn=(1) prog::main
3 100
cob=(2) /lib/libc.so.6
cfi=(2) ???
cfn=(2) malloc
calls=1 0
3 1000
4 10
ob=(2)
fl=(2)
fn=(2)
0 1000
ob=(1)
fl=(1)
fn=(3) prog::helper
+2 1
totals: 1111
";

    #[test]
    fn self_cost_excludes_calls_and_names_expand() {
        let p = parse(SAMPLE).unwrap();
        assert_eq!(p.by_function["prog::main"].1, 110);
        assert_eq!(p.by_function["malloc"], ("/lib/libc.so.6".into(), 1000));
        assert_eq!(p.by_function["prog::helper"].1, 1);
        assert_eq!(p.inclusive["prog::main"], 1110);
        assert_eq!(p.in_object("prog"), 111);
        assert_eq!(p.in_object("libc.so.6"), 1000);
        assert_eq!(p.total(), 1111);
        assert_eq!(p.summary, Some(1111));
    }

    #[test]
    fn a_second_event_is_refused() {
        let err = parse("events: Ir Dr\n").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
