//! Load tests as `#[tokio::test]`s: the one path every gated scenario takes, the built-in ones
//! ([`check_standard`]) and a team's own agents ([`AgentLoad`]). A check runs the scenario with
//! the heap counted (virtual clock), counts its instructions under valgrind, asserts its
//! invariants and compares its report with `baselines/<name>.json` — or rewrites that file under
//! `UPDATE_BASELINES=1`, which is refused when `CI` is set. A failure panics with the table.
//!
//! ```no_run
//! use agent_core::{Agent, Context, HandlerError};
//! use load_tests::{AgentLoad, Clock};
//!
//! load_tests::count_heap!();
//!
//! struct Echo;
//!
//! impl Agent for Echo {
//!     type Msg = Vec<u8>;
//!     type Reply = usize;
//!
//!     async fn handle(&mut self, msg: Vec<u8>, _: &mut Context<Self>) -> Result<usize, HandlerError> {
//!         Ok(msg.len())
//!     }
//! }
//!
//! #[tokio::test(start_paused = true)]
//! async fn echo_under_load() {
//!     AgentLoad::new("echo", || Echo, |_, bytes| vec![0; bytes])
//!         .agents(4)
//!         .requests_per_agent(250)
//!         .closed_loop(8)
//!         .message_bytes(64)
//!         .clock(Clock::Virtual)
//!         .expect(|_, reply| *reply == 64)
//!         .check()
//!         .await;
//! }
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_core::{Agent, MailboxConfig, RestartPolicy, RuntimeConfig};

use crate::baseline::{self, Outcome};
use crate::drive::Drive;
use crate::gate::Rule;
use crate::instructions::{self, InstructionReport};
use crate::kinds::own_agent::run::AgentDriver;
use crate::kinds::own_agent::{OwnAgent, OwnMetric};
use crate::kinds::rules::counting_form;
use crate::own_process;
use crate::report::Report;
use crate::resources::{self, HeapProfiler};
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::{Arrival, Clock, Kind, Scenario, Workload};

/// Installs dhat's allocator as this test binary's global allocator, so that runs on the
/// virtual clock count the heap (allocations per operation, peak, leaks). Put it once at the top
/// of each test file that checks a virtual-clock scenario; real-time ones leave it out, so that
/// no counting allocator's lock is in what they time.
#[macro_export]
macro_rules! count_heap {
    () => {
        #[global_allocator]
        static LOAD_TESTS_HEAP_COUNTER: $crate::dhat::Alloc = $crate::dhat::Alloc;
    };
}

/// A team's agent type under load: `agents` agents of type `A` answer requests built by the
/// test, sent in a closed loop (each sender waits for its reply) or an open one (requests start
/// on a fixed schedule, latency measured from each one's intended start).
pub struct AgentLoad<A: Agent> {
    scenario: Scenario,
    driver: AgentDriver<A>,
    baselines: Option<PathBuf>,
    invariants: Vec<(String, Arc<InvariantFn>)>,
}

/// A test's own invariant: `Err(why)` when a run broke it.
type InvariantFn = dyn Fn(&Report) -> Result<(), String> + Send + Sync;

impl<A: Agent> std::fmt::Debug for AgentLoad<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentLoad")
            .field("scenario", &self.scenario)
            .field("baselines", &self.baselines)
            .finish_non_exhaustive()
    }
}

impl<A: Agent> AgentLoad<A> {
    /// A load test named `name` (also its baseline's file name) of agents made by `factory`,
    /// sent requests made by `request(index, message_bytes)`. Defaults: one agent, 1,000
    /// requests, one sender, closed loop, no payload, virtual clock.
    pub fn new(
        name: &str,
        factory: impl Fn() -> A + Send + Sync + 'static,
        request: impl Fn(u64, usize) -> A::Msg + Send + Sync + 'static,
    ) -> AgentLoad<A> {
        AgentLoad {
            scenario: Scenario {
                name: name.to_owned(),
                description: format!("{} under load", std::any::type_name::<A>()),
                source: "a team's own agent (load_tests::AgentLoad)".to_owned(),
                kind: Kind::OwnAgent(OwnAgent::of::<A>()),
                agents: 1,
                ops_per_agent: 1_000,
                concurrency: 1,
                message_bytes: 0,
                workload: Workload::None,
                arrival: Arrival::Closed,
                clock: Clock::Virtual,
                rng_seed: 0,
            },
            driver: AgentDriver {
                factory: Arc::new(factory),
                request: Arc::new(request),
                expect: None,
                timeout: Duration::from_secs(60),
                metrics: Vec::new(),
            },
            baselines: None,
            invariants: Vec::new(),
        }
    }

    fn own(&mut self) -> &mut OwnAgent {
        match &mut self.scenario.kind {
            Kind::OwnAgent(own) => own,
            _ => unreachable!("an AgentLoad's scenario is of the own-agent kind"),
        }
    }

    /// Each agent's mailbox (default: the runtime's, bounded 1,024, blocking).
    pub fn mailbox(mut self, mailbox: MailboxConfig) -> Self {
        self.own().mailbox = Some(mailbox);
        self
    }

    /// Each agent's restart policy (default: the runtime's).
    pub fn restart(mut self, restart: RestartPolicy) -> Self {
        self.own().restart = Some(restart);
        self
    }

    /// The agents' runtime (default: `RuntimeConfig::default()`).
    pub fn runtime(mut self, config: RuntimeConfig) -> Self {
        self.own().runtime = Some(Box::new(config));
        self
    }

    /// A figure of the test's own, read by `value` after each run (after the agents' runtime
    /// has shut down): it lands in the report as `extra.<name>` and in the baseline, compared
    /// by `rule` within `tolerance` (a fraction; 0 for [`Rule::Exact`]). `value` typically reads
    /// a counter the factory's agents share (an `Arc<AtomicU64>`).
    pub fn metric(
        mut self,
        name: &str,
        rule: Rule,
        tolerance: f64,
        value: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.own().metrics.push(OwnMetric {
            name: name.to_owned(),
            rule,
            tolerance,
        });
        self.driver.metrics.push((name.to_owned(), Arc::new(value)));
        self
    }

    /// A promise of the test's own, checked on every run's report: `Err(why)` breaks it, and
    /// the report lists it (`custom_invariants_broken`, named `name`) with the built-in
    /// invariants, which fail the check whatever the baseline says.
    pub fn invariant(
        mut self,
        name: &str,
        check: impl Fn(&Report) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.invariants.push((name.to_owned(), Arc::new(check)));
        self
    }

    /// One line saying what the test measures, for reports.
    pub fn description(mut self, description: &str) -> Self {
        description.clone_into(&mut self.scenario.description);
        self
    }

    /// How many agents answer (request `i` goes to agent `i mod agents`).
    pub fn agents(mut self, agents: usize) -> Self {
        self.scenario.agents = agents;
        self
    }

    /// Requests each agent answers.
    pub fn requests_per_agent(mut self, requests: usize) -> Self {
        self.scenario.ops_per_agent = requests;
        self
    }

    /// Closed loop: `senders` tasks, each sending its next request when the previous one is
    /// answered.
    pub fn closed_loop(mut self, senders: usize) -> Self {
        self.scenario.arrival = Arrival::Closed;
        self.scenario.concurrency = senders;
        self
    }

    /// Open loop: requests start `rate_per_s` times a second whether or not earlier ones are
    /// answered; latency runs from each request's intended start (no coordinated omission).
    pub fn open_loop(mut self, rate_per_s: f64) -> Self {
        self.scenario.arrival = Arrival::Open { rate_per_s };
        self.scenario.concurrency = 1;
        self
    }

    /// Payload bytes handed to the request function.
    pub fn message_bytes(mut self, bytes: usize) -> Self {
        self.scenario.message_bytes = bytes;
        self
    }

    /// Virtual (tokio's paused clock: exact, instant, heap counted; the test must run on a
    /// current-thread runtime with a paused clock, `#[tokio::test(start_paused = true)]`) or
    /// real time (a multi-threaded runtime; `#[tokio::test(flavor = "multi_thread")]`). The
    /// runtime is checked when the load runs: a mismatch panics saying which attribute to write.
    ///
    /// On the real clock the gates are loss, the operation counts, the test's own metrics and
    /// instructions per request (counted on the paused clock); latency and throughput are
    /// reported, never gated (absolute real time is not a gate: there is no yardstick of the
    /// team's agent to take a ratio to). `check` prints the list.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.scenario.clock = clock;
        self
    }

    /// Checks each reply: `expect(index, &reply)` false counts the request as failed
    /// (`wrong_reply`), which the baseline's exact operation counts then catch.
    pub fn expect(
        mut self,
        expect: impl Fn(u64, &A::Reply) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.driver.expect = Some(Arc::new(expect));
        self
    }

    /// How long a request may wait for room and for its reply before it counts as failed
    /// (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.driver.timeout = timeout;
        self
    }

    /// Where the baseline lives (default: `$LOAD_TESTS_BASELINES` if set, else the nearest
    /// `baselines/` folder at or above the package's directory, else `<package>/baselines`).
    pub fn baselines(mut self, dir: impl Into<PathBuf>) -> Self {
        self.baselines = Some(dir.into());
        self
    }

    /// The scenario as it will run (and appear in its report).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Runs the load once and returns its report, with the heap counted on the virtual clock
    /// (when [`count_heap!`] is installed); no instructions, no baseline.
    pub async fn run(&self) -> Result<Report, RunError> {
        check_runtime(&self.scenario);
        let mut report = measure(&self.scenario, &self.driver, None).await?;
        for (name, check) in &self.invariants {
            if let Err(why) = check(&report) {
                report
                    .custom_invariants_broken
                    .push(format!("{name}: {why}"));
            }
        }
        Ok(report)
    }

    /// Runs the load, counts its instructions, asserts its invariants and compares the report
    /// with its baseline; panics with what broke. Under valgrind (the counting child this check
    /// starts) it runs the counting form instead and ends the process.
    pub async fn check(&self) {
        if std::env::var_os(instructions::COUNT_IN_TEST_VAR).is_some() {
            count_here(&self.scenario, &self.driver);
        }
        if measured_elsewhere() {
            return;
        }
        let mut report = self.run().await.unwrap_or_else(|e| panic!("{e}"));
        if self.scenario.clock == Clock::Real {
            let gated: Vec<String> = crate::baseline::gates::gates_for(&self.scenario)
                .into_iter()
                .map(|g| g.metric)
                .collect();
            eprintln!(
                "{}: real clock: gated {}; latency and throughput reported, not gated",
                self.scenario.name,
                gated.join(", ")
            );
        }
        report.instructions = match current_test() {
            Ok(test) => instructions::count_in_test(&self.scenario, &test),
            Err(e) => panic!("{e}"),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        judge(&report, &self.baselines_dir());
    }

    fn baselines_dir(&self) -> PathBuf {
        self.baselines.clone().unwrap_or_else(default_baselines)
    }
}

/// Panics, saying which attribute to write, when the test's tokio runtime does not match the
/// scenario's clock: the virtual clock needs a current-thread runtime with its clock paused, the
/// real one a multi-threaded runtime whose clock runs.
fn check_runtime(scenario: &Scenario) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let flavor = Handle::current().runtime_flavor();
    // A paused clock does not move while this thread sleeps.
    let before = tokio::time::Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    let paused = tokio::time::Instant::now() == before;
    let (fits, attribute) = match scenario.clock {
        Clock::Virtual => (
            flavor == RuntimeFlavor::CurrentThread && paused,
            "#[tokio::test(start_paused = true)]",
        ),
        _ => (
            flavor == RuntimeFlavor::MultiThread && !paused,
            "#[tokio::test(flavor = \"multi_thread\")]",
        ),
    };
    assert!(
        fits,
        "load test {:?} uses Clock::{:?} but runs on a {} runtime whose clock is {}: write {attribute}",
        scenario.name,
        scenario.clock,
        match flavor {
            RuntimeFlavor::CurrentThread => "current-thread",
            _ => "multi-threaded",
        },
        if paused { "paused" } else { "running" },
    );
}

/// Runs the standard scenario `scenario` and judges it like any load test: `counter` is the
/// `load-tests` binary of the same build, which runs the scenario's counting form under
/// valgrind, and `baselines` the folder of its baseline.
pub async fn check_standard(scenario: &Scenario, counter: &Path, baselines: &Path) {
    // A missing server is a reason not to run, said first, not a run whose messages all count
    // as lost.
    if scenario.kind.rules().needs_network() {
        if let Err(e) = nats_testkit::server_binary() {
            panic!("scenario {} not run: {e}", scenario.name);
        }
    }
    if measured_elsewhere() {
        return;
    }
    let Some(driver) = scenario.kind.standalone() else {
        panic!(
            "{}",
            RunError::NeedsItsTest {
                scenario: scenario.name.clone(),
                kind: scenario.kind.name(),
            }
        );
    };
    let mut report = measure(scenario, &driver, Some(counter))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    report.instructions = count_with(counter, scenario);
    judge(&report, baselines);
}

/// Whether the running test was measured in a child process of its own, which passed (see
/// [`own_process`]); panics if it failed there.
fn measured_elsewhere() -> bool {
    match own_process::rerun_alone(current_test().ok().as_deref()) {
        own_process::Verdict::MeasureHere => false,
        own_process::Verdict::ChildPassed => true,
        own_process::Verdict::ChildFailed(why) => panic!("{why}"),
    }
}

/// Instructions of `scenario` counted by the `load-tests` binary `exe`; panics with the
/// install command when valgrind is missing: the gate never passes silently.
fn count_with(exe: &Path, scenario: &Scenario) -> Option<InstructionReport> {
    instructions::count(exe, scenario).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `scenario` with `driver`, with a heap profiler where the scenario counts the heap, and
/// saves the report under the target directory's `load-reports/` for inspection.
async fn measure<D: Drive>(
    scenario: &Scenario,
    driver: &D,
    fleet_bin: Option<&Path>,
) -> Result<Report, RunError> {
    let profiler = if scenario.profiles_heap() {
        resources::wait_for_main_thread_to_sleep();
        Some(HeapProfiler::start().unwrap_or_else(|| {
            panic!(
                "scenario {:?} runs on the virtual clock, which counts the heap: put \
                 `load_tests::count_heap!();` at the top of this test file",
                scenario.name
            )
        }))
    } else {
        None
    };
    let options = RunOptions {
        fleet_bin: fleet_bin.map(Path::to_owned),
        ..RunOptions::default()
    };
    let report = runner::run_driven(scenario, &options, driver).await;
    drop(profiler);
    if let Ok(r) = &report {
        save(r);
    }
    report
}

/// The counting child's side of [`AgentLoad::check`]: runs the counting form in the counted
/// window on a runtime of its own, prints the operation count, and ends the process.
fn count_here<A: Agent>(scenario: &Scenario, driver: &AgentDriver<A>) -> ! {
    let code = match counting_form(scenario) {
        Some(form) => {
            let driver = driver.clone();
            // The test is inside its own tokio runtime, so the count runs on a thread of its
            // own. Its window opens only after this thread has finished creating it: creating a
            // thread makes system calls (`clone`, the signal mask) whose completion, raced
            // against the new thread, landed in the window on a loaded machine (+1 system call
            // in `pthread_create` failed `kv_cache`'s gate). This thread then makes none until
            // the count's thread ends: `join` waits in one call that returns after the window.
            // And it opens only once this thread is asleep in that call (a futex wait, as
            // /proc's wchan says): between the flag below and `join`'s wait, this thread's own system call
            // could otherwise land in the window, and did on a loaded machine (+1 in
            // `kv_cache`'s gate, in CI).
            let main_thread = std::fs::read_link("/proc/thread-self").ok();
            let created = Arc::new(AtomicBool::new(false));
            let window_may_open = Arc::clone(&created);
            let counting = std::thread::spawn(move || {
                while !window_may_open.load(Ordering::Acquire) {
                    std::thread::yield_now();
                }
                if let Some(task) = &main_thread {
                    wait_until_asleep(&std::path::Path::new("/proc").join(task));
                }
                instructions::run_counted_driven(&form, &driver)
            });
            created.store(true, Ordering::Release);
            let ops = counting.join();
            match ops {
                Ok(Ok(ops)) => {
                    // On a line of its own: libtest has begun `test <name> ... ` on stdout.
                    println!("\nops={ops}");
                    0
                }
                Ok(Err(e)) => {
                    eprintln!("{e}");
                    2
                }
                Err(_) => 3,
            }
        }
        None => 2,
    };
    std::process::exit(code)
}

/// Waits (at most five seconds) until the thread whose `/proc` directory is `task` sleeps in a
/// futex wait (`join`'s): its kernel wait channel starts with `futex`. (Its state alone would not
/// do: under valgrind a thread waiting for its turn to run is not in a futex wait, which a
/// thread held between the flag and `join` showed, but its state can read as sleeping.)
fn wait_until_asleep(task: &std::path::Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let wchan = std::fs::read_to_string(task.join("wchan")).unwrap_or_default();
        if wchan.starts_with("futex") {
            return;
        }
        std::thread::yield_now();
    }
}

/// The running test's name, which libtest gives the thread it runs the test on.
fn current_test() -> Result<String, String> {
    match std::thread::current().name() {
        Some(name) if name != "main" => Ok(name.to_owned()),
        _ => Err(
            "AgentLoad::check counts instructions by running its own test again under \
                  valgrind, and needs the test's name: call it from a #[tokio::test] run by \
                  cargo test or cargo nextest (which name the test's thread after the test)"
                .to_owned(),
        ),
    }
}

/// Judges `report` against its baseline under `dir` (or blesses it under `UPDATE_BASELINES=1`);
/// panics with what broke.
fn judge(report: &Report, dir: &Path) {
    let saved = save(report);
    match baseline::gate(dir, report) {
        Ok(Outcome::Blessed(path)) => eprintln!("blessed {}", path.display()),
        Ok(Outcome::Judged(j)) => {
            assert!(
                j.violations.is_empty(),
                "scenario {} broke its promises: {:#?}\nfull report: {}",
                report.scenario,
                j.violations,
                saved.display()
            );
            match j.comparison {
                Some(c) if c.passed() => eprintln!("{c}"),
                Some(c) => panic!("\n{c}\nfull report: {}", saved.display()),
                None => {}
            }
        }
        Err(e) => panic!("{e}\nfull report: {}", saved.display()),
    }
}

/// The environment variable that points [`AgentLoad`] at another baselines folder.
pub const BASELINES_VAR: &str = "LOAD_TESTS_BASELINES";

/// [`BASELINES_VAR`] if set; else the nearest `baselines/` folder at or above the package's
/// directory (`CARGO_MANIFEST_DIR`, which cargo and nextest set for tests), else
/// `<package>/baselines`.
fn default_baselines() -> PathBuf {
    if let Some(dir) = std::env::var_os(BASELINES_VAR) {
        return PathBuf::from(dir);
    }
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    package
        .ancestors()
        .map(|dir| dir.join("baselines"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| package.join("baselines"))
}

/// The environment variable that points the reports the tests save elsewhere (a test that runs
/// a deliberately worse build sends them there, so that `load-tests history record` never takes
/// them for main's).
pub const REPORTS_VAR: &str = "LOAD_TESTS_REPORTS";

/// Writes `report` to [`REPORTS_VAR`], else `<target>/<profile>/load-reports/<scenario>.json`
/// (next to the test binaries, where `load-tests history record` reads them) and returns the
/// path; a failure to write is reported, not fatal.
fn save(report: &Report) -> PathBuf {
    let dir = std::env::var_os(REPORTS_VAR)
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.join("load-reports")))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("load-reports"));
    let path = dir.join(format!("{}.json", report.scenario));
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, report.to_json()))
    {
        eprintln!("could not save the report to {}: {e}", path.display());
    }
    path
}
