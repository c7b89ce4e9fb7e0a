//! `load-tests`: runs agent-core's load suite and writes JSON and HTML reports (see `--help`).
//!
//! No global allocator here: real-time scenarios run in this process and must not pay for a
//! counting allocator. Heap-profiled scenarios run in `load-tests-heap`, a child process.

fn main() -> std::process::ExitCode {
    load_tests::cli::main()
}
