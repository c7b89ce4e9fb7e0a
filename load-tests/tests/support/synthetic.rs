//! A report made by hand (the scenario `queue_overflow_reject`, 10 operations, a counted
//! section with round numbers), for tests of the gate itself: bad baseline files, drift, the
//! ratchet.

use load_tests::instructions::{FunctionCost, InstructionReport};
use load_tests::report::{Environment, Report, SCHEMA_VERSION};
use load_tests::{catalog, Clock};

/// The report, with `succeeded` of its 10 operations succeeded.
pub(crate) fn report(succeeded: u64) -> Report {
    let scenario = catalog::by_name("queue_overflow_reject").unwrap();
    let mut r = Report {
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        description: String::new(),
        source: String::new(),
        config: scenario,
        environment: Environment::current(),
        clock: Clock::Virtual,
        partial: false,
        elapsed_s: 1.0,
        wall_s: 1.0,
        operations: Default::default(),
        throughput_ops_per_s: 10.0,
        latency: Default::default(),
        heap: Some(Default::default()),
        os: Default::default(),
        queues: load_tests::report::QueueReport {
            conserved: true,
            ..Default::default()
        },
        pool: None,
        delivery: Some(Default::default()),
        yardstick: None,
        extra: [
            ("matches_prediction".to_owned(), 1.0),
            ("kept_as_policy_says".to_owned(), 1.0),
        ]
        .into(),
        samples: Vec::new(),
        instructions: Some(InstructionReport {
            per_op: 1000.0,
            libraries_per_op: 50.0,
            ops: 10,
            valgrind: "valgrind-3.19.0".into(),
            rustc: "rustc 1.95.0".into(),
            build_profile: Environment::current().build_profile,
            functions: vec![
                FunctionCost {
                    name: "agent_core::mailbox::Mailbox<T>::send".into(),
                    per_op: 400.0,
                },
                FunctionCost {
                    name: "tokio::runtime::task::raw::poll".into(),
                    per_op: 300.0,
                },
            ],
            agent_core_inclusive: vec![FunctionCost {
                name: "agent_core::address::Address<A>::tell".into(),
                per_op: 600.0,
            }],
            syscalls_per_op: 0.5,
            memory_mapping_syscalls_per_op: 0.1,
            estimated_cycles_per_op: 1500.0,
            libraries_estimated_cycles_per_op: 80.0,
            cache: "--I1=32768,8,64 --D1=32768,8,64 --LL=8388608,16,64".into(),
            syscall_functions: vec![FunctionCost {
                name: "clock_gettime".into(),
                per_op: 0.5,
            }],
            agent_core_syscalls: Vec::new(),
            cycle_functions: vec![FunctionCost {
                name: "agent_core::mailbox::Mailbox<T>::send".into(),
                per_op: 700.0,
            }],
            agent_core_cycles: vec![FunctionCost {
                name: "agent_core::address::Address<A>::tell".into(),
                per_op: 900.0,
            }],
        }),
        model_checks: Vec::new(),
        custom_invariants_broken: Vec::new(),
    };
    r.operations.total = 10;
    r.operations.succeeded = succeeded;
    r
}
