//! Reads a callgrind output file (format described in valgrind's "Callgrind Format
//! Specification"): the events of the counted run (instructions, the cache simulation's reads,
//! writes and misses, system calls), per object (the program, libc, ...) and per function,
//! counting each function's own events (not those of what it calls) and, apart, its inclusive
//! events.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::ops::AddAssign;

/// The events of one cost line, one function or one object. Those a file does not record stay 0.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Costs {
    /// Instructions executed (`Ir`).
    pub(crate) ir: u64,
    /// Data reads and writes (`Dr`, `Dw`).
    pub(crate) dr: u64,
    pub(crate) dw: u64,
    /// First-level misses: instruction fetch, data read, data write (`I1mr`, `D1mr`, `D1mw`).
    pub(crate) i1mr: u64,
    pub(crate) d1mr: u64,
    pub(crate) d1mw: u64,
    /// Last-level misses, the same three (`ILmr`, `DLmr`, `DLmw`).
    pub(crate) ilmr: u64,
    pub(crate) dlmr: u64,
    pub(crate) dlmw: u64,
    /// System calls made (`sysCount`, with `--collect-systime`).
    pub(crate) syscalls: u64,
}

/// What an access costs in the estimate of `Costs::estimated_cycles`, in cycles: one that hits
/// the first-level cache, one that misses it and hits the last level, one that goes to memory.
/// Itamar Turner-Trauring's weights, which iai, iai-callgrind/gungraun and CodSpeed use.
pub const CYCLES_L1_HIT: u64 = 1;
/// See [`CYCLES_L1_HIT`].
pub const CYCLES_LL_HIT: u64 = 5;
/// See [`CYCLES_L1_HIT`].
pub const CYCLES_RAM: u64 = 35;

impl Costs {
    /// Estimated cycles: every access (instruction fetch, data read, data write) weighted by
    /// where the simulated caches found it.
    pub(crate) fn estimated_cycles(&self) -> u64 {
        let accesses = self.ir + self.dr + self.dw;
        let l1_misses = self.i1mr + self.d1mr + self.d1mw;
        let ram = self.ilmr + self.dlmr + self.dlmw;
        (accesses - l1_misses) * CYCLES_L1_HIT
            + (l1_misses - ram) * CYCLES_LL_HIT
            + ram * CYCLES_RAM
    }

    fn set(&mut self, event: Event, n: u64) {
        let slot = match event {
            Event::Ir => &mut self.ir,
            Event::Dr => &mut self.dr,
            Event::Dw => &mut self.dw,
            Event::I1mr => &mut self.i1mr,
            Event::D1mr => &mut self.d1mr,
            Event::D1mw => &mut self.d1mw,
            Event::ILmr => &mut self.ilmr,
            Event::DLmr => &mut self.dlmr,
            Event::DLmw => &mut self.dlmw,
            Event::SysCount => &mut self.syscalls,
            Event::Other => return,
        };
        *slot = n;
    }
}

impl AddAssign for Costs {
    fn add_assign(&mut self, o: Costs) {
        self.ir += o.ir;
        self.dr += o.dr;
        self.dw += o.dw;
        self.i1mr += o.i1mr;
        self.d1mr += o.d1mr;
        self.d1mw += o.d1mw;
        self.ilmr += o.ilmr;
        self.dlmr += o.dlmr;
        self.dlmw += o.dlmw;
        self.syscalls += o.syscalls;
    }
}

/// An event column of the file; `Other` is one this reader does not use (`sysTime`, which is
/// wall-clock time and not reproducible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Ir,
    Dr,
    Dw,
    I1mr,
    D1mr,
    D1mw,
    ILmr,
    DLmr,
    DLmw,
    SysCount,
    Other,
}

impl Event {
    fn of(name: &str) -> Event {
        match name {
            "Ir" => Event::Ir,
            "Dr" => Event::Dr,
            "Dw" => Event::Dw,
            "I1mr" => Event::I1mr,
            "D1mr" => Event::D1mr,
            "D1mw" => Event::D1mw,
            "ILmr" => Event::ILmr,
            "DLmr" => Event::DLmr,
            "DLmw" => Event::DLmw,
            "sysCount" => Event::SysCount,
            _ => Event::Other,
        }
    }
}

/// Events by function and by object, from one callgrind file.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Profile {
    /// Whether the file has the cache simulation's events (`--cache-sim=yes`).
    pub(crate) cache_simulated: bool,
    /// Whether the file counts system calls (`--collect-systime`).
    pub(crate) syscalls_counted: bool,
    /// Self cost per object file (the executable, `libc.so.6`, ...), by its path.
    pub(crate) by_object: BTreeMap<String, Costs>,
    /// Self cost per function, by demangled name (monomorphizations of one name add up), with
    /// the object it lives in.
    pub(crate) by_function: BTreeMap<String, (String, Costs)>,
    /// Inclusive cost per function: its own and that of every call it made (a recursive call is
    /// counted at each level, as callgrind does).
    pub(crate) inclusive: BTreeMap<String, Costs>,
    /// Instructions in the file's own `summary:`/`totals:` line, a check on the sum.
    pub(crate) summary: Option<u64>,
}

/// The system calls with which an allocator maps memory (glibc's `malloc` grows its heap with
/// `brk`, and serves and returns large blocks with `mmap` and `munmap`).
pub(crate) const MEMORY_MAPPING: [&str; 6] = ["brk", "sbrk", "mmap", "munmap", "mremap", "madvise"];

impl Profile {
    /// Events in `object` (matched by its path's file name).
    pub(crate) fn in_object(&self, file_name: &str) -> Costs {
        let mut sum = Costs::default();
        for (path, c) in &self.by_object {
            if path.rsplit('/').next() == Some(file_name) {
                sum += *c;
            }
        }
        sum
    }

    /// The events of the functions in [`MEMORY_MAPPING`] (by name, whatever glibc prefixes or
    /// versions it with: `__mmap64`, `munmap@@GLIBC_2.2.5`).
    pub(crate) fn memory_mapping(&self) -> Costs {
        let mut sum = Costs::default();
        for (name, (_, c)) in &self.by_function {
            let bare = name
                .split('@')
                .next()
                .unwrap_or(name)
                .trim_start_matches('_');
            let bare = bare.strip_suffix("64").unwrap_or(bare);
            if MEMORY_MAPPING.contains(&bare) {
                sum += *c;
            }
        }
        sum
    }

    /// Every event counted.
    pub(crate) fn total(&self) -> Costs {
        let mut sum = Costs::default();
        for c in self.by_object.values() {
            sum += *c;
        }
        sum
    }
}

/// Why a callgrind file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) problem: String,
}

/// Parses callgrind output text, as written by `valgrind --tool=callgrind` with or without
/// `--cache-sim=yes` and `--collect-systime`. The first event must be `Ir`.
pub(crate) fn parse(text: &str) -> Result<Profile, ParseError> {
    let mut names: HashMap<(&str, String), String> = HashMap::new();
    let mut profile = Profile::default();
    let mut events: Vec<Event> = vec![Event::Ir];
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
            let first = rest.split_whitespace().next().unwrap_or("");
            let n = first
                .parse()
                .map_err(|_| err(format!("bad total {rest:?}")))?;
            profile.summary = Some(n);
            continue;
        }
        if let Some(rest) = line.strip_prefix("events:") {
            let listed: Vec<&str> = rest.split_whitespace().collect();
            if listed.first() != Some(&"Ir") {
                return Err(err(format!("expected Ir as the first event, got {rest:?}")));
            }
            events = listed.iter().map(|n| Event::of(n)).collect();
            profile.cache_simulated = listed.contains(&"DLmw");
            profile.syscalls_counted = listed.contains(&"sysCount");
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
                        .or_insert_with(|| (object.clone(), Costs::default()));
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
        // A cost line: the position (a line number), then one count per event in the order of
        // `events:`, trailing zeros left out.
        let mut fields = line.split_whitespace();
        fields.next();
        let mut cost = Costs::default();
        for (k, field) in fields.enumerate() {
            let n: u64 = field
                .parse()
                .map_err(|_| err(format!("bad cost line {line:?}")))?;
            let Some(event) = events.get(k) else {
                return Err(err(format!(
                    "cost line {line:?} has more counts than the {} events",
                    events.len()
                )));
            };
            cost.set(*event, n);
        }
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
        assert_eq!(p.by_function["prog::main"].1.ir, 110);
        assert_eq!(p.by_function["malloc"].0, "/lib/libc.so.6");
        assert_eq!(p.by_function["malloc"].1.ir, 1000);
        assert_eq!(p.by_function["prog::helper"].1.ir, 1);
        assert_eq!(p.inclusive["prog::main"].ir, 1110);
        assert_eq!(p.in_object("prog").ir, 111);
        assert_eq!(p.in_object("libc.so.6").ir, 1000);
        assert_eq!(p.total().ir, 1111);
        assert_eq!(p.summary, Some(1111));
        assert!(!p.cache_simulated && !p.syscalls_counted);
    }

    /// Cache simulation and system calls: counts in the order of `events:`, trailing zeros
    /// left out, `sysTime` ignored; a system call made in libc is inclusive cost of its caller.
    const CACHE_AND_SYSCALLS: &str = "\
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw sysCount sysTime
ob=(1) /bin/prog
fl=(1) src/main.rs
fn=(1) prog::send
3 100 20 10 1 2 4 1 0 4
cob=(2) /lib/libc.so.6
cfi=(2) ???
cfn=(2) sched_yield
calls=1 0
3 5 0 0 0 0 0 0 0 0 1 7
ob=(2)
fl=(2)
fn=(2)
0 5 0 0 0 0 0 0 0 0 1 7
totals: 105 20 10 1 2 4 1 0 4 1 7
";

    #[test]
    fn cache_events_and_system_calls_are_read() {
        let p = parse(CACHE_AND_SYSCALLS).unwrap();
        assert!(p.cache_simulated && p.syscalls_counted);
        let own = p.in_object("prog");
        assert_eq!(
            (own.ir, own.dr, own.dw, own.d1mw, own.dlmw),
            (100, 20, 10, 4, 4)
        );
        assert_eq!(own.syscalls, 0);
        assert_eq!(p.in_object("libc.so.6").syscalls, 1);
        assert_eq!(p.inclusive["prog::send"].syscalls, 1);
        assert_eq!(own.estimated_cycles(), 123 + 2 * 5 + 5 * 35);
    }

    #[test]
    fn memory_mapping_calls_are_told_apart_by_name() {
        let text = "\
events: Ir sysCount
ob=(1) /lib/libc.so.6
fl=(1) ???
fn=(1) brk
1 1 1
fn=(2) __mmap64
1 1 2
fn=(3) munmap@@GLIBC_2.2.5
1 1 3
fn=(4) clock_gettime@@GLIBC_2.17
1 1 4
fn=(5) mmapper
1 1 5
";
        let p = parse(text).unwrap();
        assert_eq!(p.total().syscalls, 15);
        assert_eq!(p.memory_mapping().syscalls, 6);
    }

    #[test]
    fn a_file_without_ir_first_is_refused() {
        let err = parse("events: Dr Ir\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse("events: Ir\nfn=f\n1 2 3\n").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
