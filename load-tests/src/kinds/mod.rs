//! Scenario kinds. Each kind is one folder: `mod.rs` holds its parameters (what a scenario file
//! says after `type = "..."`), `run.rs` its driver and its rules (checks, gated metrics,
//! invariants, counting and full-scale forms, headline). The parameters sit apart from the rules
//! so that [`crate::scenario::Scenario`], which holds a kind, never imports the code that reads
//! a scenario.
//!
//! Adding a kind: a new folder, and one line in the `kind_list!` macro below.

/// The list of kinds, handed to the macro `$then`: [`Kind`] is declared from it here, the
/// dispatch to each kind's rules and driver in [`rules`]. A kind under `run_alone` has a driver
/// the runner calls; one under `needs_its_test` is driven by code only its own test has (a
/// team's agent type), so a scenario file naming it is refused with a clear error.
macro_rules! kind_list {
    ($then:ident) => {
        $then! {
            run_alone {
                /// Agents perform workload steps, asked by drivers (closed loop) or on a schedule
                /// (open loop).
                Steps(steps::Steps),
                /// One agent, operations one after another, the heap sampled; nothing may stay
                /// live after teardown.
                Sequential(sequential::Sequential),
                /// Senders spread messages over agents: loss and order checked, throughput and
                /// CPU as ratios to raw tokio.
                Messaging(messaging::Messaging),
                /// The messaging traffic paced at a fixed rate (open loop): latency at equal load,
                /// beside raw tokio on the same schedule.
                Paced(paced::Paced),
                /// Streams of chunks over a bus topic; order and completeness checked.
                Streaming(streaming::Streaming),
                /// More requests than pool slots.
                PoolExhaustion(pool_exhaustion::PoolExhaustion),
                /// Bursts into one bounded mailbox under an overflow policy.
                QueueOverflow(queue_overflow::QueueOverflow),
                /// Fleets of agents started; time until all are registered and healthy.
                Startup(startup::Startup),
                /// The messaging traffic with per-message timing on and off.
                MonitoringOverhead(monitoring_overhead::MonitoringOverhead),
                /// Seed 004's multi-domain workflow with budgets and an approval.
                Orchestration(orchestration::Orchestration),
                /// Simultaneous LLM calls under a token-bucket rate limit.
                LlmConcurrency(llm_concurrency::LlmConcurrency),
                /// A simulated working day of interval jobs.
                ScheduledDay(scheduled_day::ScheduledDay),
                /// Agents saving their state to a durable store while a heartbeat keeps answering.
                StatePersistence(state_persistence::StatePersistence),
                /// Calls through a circuit breaker to a tool that is overloaded for a while.
                Breaker(breaker::Breaker),
                /// Seed 002's four execution modes at once.
                Modes(modes::Modes),
                /// CPU-heavy and memory-heavy workflows at once, against the same work on raw tokio.
                Contention(contention::Contention),
                /// Candidate responses scored by quality-gate agents against a threshold.
                QualityGate(quality_gate::QualityGate),
                /// Agents read their state through a bounded LRU cache (a Zipf access pattern).
                Cache(cache::Cache),
                /// Time to first token per simulated LLM provider profile.
                LlmTtft(llm_ttft::LlmTtft),
                /// Cron expressions through the scheduler over simulated days.
                CronSchedule(cron_schedule::CronScheduleKind),
                /// Heap per agent as agents are added, and a long soak whose live heap must be flat.
                AgentMemory(agent_memory::AgentMemory),
                /// The process's CPU use while agents start, sit idle and take a paced load.
                CpuUse(cpu_use::CpuUse),
                /// Paced publishers and subscribers on the in-process bus or NATS JetStream.
                EventBus(event_bus::EventBus),
                /// Jobs through worker processes on NATS JetStream while a fault strikes.
                Delivery(delivery::UnderFault),
            }
            needs_its_test {
                /// A team's own agent type under load ([`crate::AgentLoad`]).
                OwnAgent(own_agent::OwnAgent),
            }
        }
    };
}

/// Declares [`Kind`] from `kind_list!`.
macro_rules! declare_kind {
    (
        run_alone { $( $(#[$doc:meta])* $variant:ident($module:ident::$ty:ident), )* }
        needs_its_test { $( $(#[$tdoc:meta])* $tvariant:ident($tmodule:ident::$tty:ident), )* }
    ) => {
        /// The driver a scenario runs, with its own parameters (`type = "..."` in a file).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case", tag = "type")]
        pub enum Kind {
            $( $(#[$doc])* $variant($module::$ty), )*
            $( $(#[$tdoc])* $tvariant($tmodule::$tty), )*
        }

        impl Kind {
            /// The kind's name in files (`type = "..."`), which is also its folder's.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Kind::$variant(_) => stringify!($module), )*
                    $( Kind::$tvariant(_) => stringify!($tmodule), )*
                }
            }
        }
    };
}

pub mod agent_memory;
pub mod breaker;
pub mod cache;
pub mod contention;
pub mod cpu_use;
pub mod cron_schedule;
pub mod delivery;
pub mod event_bus;
pub mod llm_concurrency;
pub mod llm_ttft;
pub mod messaging;
pub mod modes;
pub mod monitoring_overhead;
pub mod orchestration;
pub mod own_agent;
pub mod paced;
pub mod pool_exhaustion;
pub mod quality_gate;
pub mod queue_overflow;
pub mod rules;
pub mod scheduled_day;
pub mod sequential;
pub mod startup;
pub mod state_persistence;
pub mod steps;
pub mod streaming;

use serde::{Deserialize, Serialize};

kind_list!(declare_kind);
