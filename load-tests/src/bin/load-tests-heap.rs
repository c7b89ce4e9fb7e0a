//! The heap-profiling worker of `load-tests`: runs one scenario with dhat's allocator counting
//! every allocation and prints its report as JSON. Started by `load-tests`, not by hand.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> std::process::ExitCode {
    load_tests::cli::heap_worker_main()
}
