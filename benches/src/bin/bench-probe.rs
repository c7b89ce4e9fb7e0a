//! Runs one of the paired comparison's benchmarks and prints its median iteration time in
//! nanoseconds; `paired` builds this binary at two revisions and alternates them.
//!
//! Usage: bench-probe list | bench-probe run NAME [--iterations N] [--inject-slowdown F]

use std::process::ExitCode;

use benches::probe;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(about = "One benchmark of the paired comparison, timed")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists the benchmarks, one per line: name, tab, description.
    List,
    /// Runs one benchmark and prints its median iteration time in nanoseconds.
    Run {
        /// The benchmark's name (see `list`).
        name: String,
        /// Timed iterations after one warm-up.
        #[arg(long, default_value_t = 9)]
        iterations: usize,
        /// Busy-waits this fraction of each iteration's time inside it (calibration only).
        #[arg(long, default_value_t = 0.0)]
        inject_slowdown: f64,
    },
}

fn main() -> ExitCode {
    match Args::parse().command {
        Command::List => {
            for b in probe::BENCHES {
                println!("{}\t{}", b.name, b.description);
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            name,
            iterations,
            inject_slowdown,
        } => {
            let Some(bench) = probe::find(&name) else {
                eprintln!("bench-probe: no benchmark named {name:?} (see `bench-probe list`)");
                return ExitCode::from(2);
            };
            if !(0.0..=10.0).contains(&inject_slowdown) {
                eprintln!(
                    "bench-probe: --inject-slowdown must be within 0..=10, got {inject_slowdown}"
                );
                return ExitCode::from(2);
            }
            let rt = benches::workloads::tokio_runtime();
            let median = bench.median_of(&rt, iterations, inject_slowdown);
            println!("{}", median.as_nanos());
            ExitCode::SUCCESS
        }
    }
}
