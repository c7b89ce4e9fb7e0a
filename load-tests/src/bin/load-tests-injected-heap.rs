//! The heap-profiling worker of `load-tests-injected` (see `load-tests-heap`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> std::process::ExitCode {
    // Read the injection plan before anything is measured (reading it allocates).
    agent_core::inject::init();
    load_tests::cli::heap_worker_main()
}
