//! `load-tests` built against agent-core with regressions injected (`AGENT_CORE_INJECT`), for
//! the gate self-tests (`tests/gate_catches.rs`). Built only with `--features inject-regressions`.

fn main() -> std::process::ExitCode {
    // Read the injection plan before anything is measured (reading it allocates).
    agent_core::inject::init();
    load_tests::cli::main()
}
