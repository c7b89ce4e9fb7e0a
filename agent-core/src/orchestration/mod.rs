//! Orchestration building blocks for agents doing real work (seeds 002-004): budgets that are
//! reserved before a call and settled after, a tool registry with per-tool statistics and
//! concurrency caps, human approvals with deadlines, retries with jittered backoff, and circuit
//! breakers. Everything time-based runs on `tokio::time`, so it is exact under a paused clock.

pub mod approval;
pub mod breaker;
pub mod budget;
pub mod cron;
pub mod llm;
pub mod modes;
pub mod retry;
pub mod scheduler;
pub mod state;
pub mod tools;
pub mod workflow;

pub use approval::{
    ApprovalInbox, ApprovalOutcome, ApprovalPolicy, ApprovalRequest, Approvals, ApprovalsSnapshot,
    Decision,
};
pub use breaker::{BreakerConfig, BreakerError, BreakerSnapshot, BreakerState, CircuitBreaker};
pub use budget::{Budget, BudgetError, BudgetSnapshot, Budgets, Cost, Reservation};
pub use cron::{CronError, CronSchedule};
pub use llm::{Completion, DurationRange, LlmConfig, LlmError, LlmSnapshot, SimulatedLlm};
pub use modes::{consume, Chain, TaskQueue};
pub use retry::{retry, RetryPolicy, RetryStats};
pub use scheduler::{Firing, JobSnapshot, Overrun, Schedule, Scheduler};
pub use state::{
    load_json, save_json, CacheSnapshot, CachedStore, DiskStore, MemoryStore, StateError,
    StateStore,
};
pub use tools::{Tool, ToolConfig, ToolError, ToolRegistry, ToolSnapshot};
pub use workflow::{Step, StepReport, StepStatus, Workflow, WorkflowEnv, WorkflowReport};
