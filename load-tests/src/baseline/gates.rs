//! Which metrics a scenario gates, and how: the figures every kind shares, as far as its kind
//! produces them ([`crate::kinds::rules::Figures`]), then the kind's own
//! ([`crate::kinds::rules::Rules::gates`]), then its instructions per operation when it has a
//! counting form. Deterministic quantities (counts, drops, ordering, virtual-time latencies,
//! allocation counts) are exact; heap bytes get [`Gate::HEAP_BYTES_TOLERANCE`]; real-time
//! figures are gated only as ratios to raw tokio measured in the same process.

use crate::gate::Gate;
use crate::kinds::rules::counting_form;
use crate::report::paths;
use crate::scenario::{Clock, Scenario};

/// The gates of `scenario`.
pub fn gates_for(scenario: &Scenario) -> Vec<Gate> {
    let rules = scenario.kind.rules();
    let figures = rules.figures();
    let mut g = Vec::new();
    if figures.exact_totals {
        g.extend([
            Gate::exact(paths::OPERATIONS_TOTAL),
            Gate::exact(paths::OPERATIONS_SUCCEEDED),
        ]);
    }
    g.push(Gate::exact(paths::OPERATIONS_FAILED));
    if scenario.clock == Clock::Virtual {
        if figures.takes_time {
            g.extend([
                Gate::exact(paths::ELAPSED_S),
                Gate::exact(paths::THROUGHPUT),
            ]);
        }
        if figures.latency {
            g.extend(paths::LATENCY_TOTAL.map(Gate::exact));
        }
        if figures.queues {
            g.push(Gate::exact(paths::MAX_QUEUE_DEPTH));
        }
        g.extend([
            Gate::exact(paths::HEAP_BLOCKS_PER_OP),
            Gate::within(paths::HEAP_BYTES_PER_OP, Gate::HEAP_BYTES_TOLERANCE),
            Gate::within(paths::HEAP_PEAK_LIVE, Gate::HEAP_BYTES_TOLERANCE),
        ]);
        if figures.split_latency {
            g.extend([
                Gate::exact(paths::LATENCY_QUEUE_P99),
                Gate::exact(paths::LATENCY_SERVICE_P99),
            ]);
        }
    }
    g.extend(rules.gates(scenario));
    if counting_form(scenario).is_some() {
        g.extend([
            Gate::instructions(),
            Gate::estimated_cycles(),
            Gate::syscalls(),
        ]);
    }
    g
}
