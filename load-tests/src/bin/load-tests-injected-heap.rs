//! The heap-profiling worker of `load-tests-injected` (see `load-tests-heap`).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> std::process::ExitCode {
    load_tests::cli::heap_worker_main()
}
