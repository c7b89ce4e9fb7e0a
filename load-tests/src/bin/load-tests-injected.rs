//! `load-tests` built against agent-core with regressions injected (`AGENT_CORE_INJECT`), for
//! the gate self-tests (`tests/gate_catches.rs`). Built only with `--features inject-regressions`.

fn main() -> std::process::ExitCode {
    load_tests::cli::main()
}
