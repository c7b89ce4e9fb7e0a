//! Progress bars: the suite, and the scenario running.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{console, Observer, ScenarioResult};
use crate::scenario::Scenario;

/// Progress bars: the suite, and the scenario running. The runner reports operations into an
/// atomic; a ticker moves the bar ten times a second, so the measured code never takes the bar's
/// lock.
pub(super) struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    current: Option<(ProgressBar, Arc<AtomicU64>, Arc<AtomicBool>)>,
    enabled: bool,
}

impl Bars {
    pub(super) fn new(total: usize, enabled: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30.green/white}] {pos}/{len} scenarios, {elapsed} elapsed",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        overall.set_prefix("suite");
        Bars {
            multi,
            overall,
            current: None,
            enabled,
        }
    }

    fn end_current(&mut self) {
        if let Some((bar, _, running)) = self.current.take() {
            running.store(false, Ordering::Relaxed);
            bar.finish_and_clear();
        }
    }

    pub(super) fn done(&mut self) {
        self.end_current();
        self.overall.finish_and_clear();
    }
}

impl Observer for Bars {
    fn start(&mut self, _index: usize, _total: usize, scenario: &Scenario, ops: u64) {
        self.end_current();
        let bar = self.multi.add(ProgressBar::new(ops.max(1)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30.cyan/blue}] {human_pos}/{human_len} ops, {per_sec}, {elapsed} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix("running");
        bar.set_message(scenario.name.clone());
        let done = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        // A profiled scenario counts every allocation, drawing included: its bar stays still.
        if self.enabled && !scenario.profiles_heap() {
            let (b, d, r) = (bar.clone(), Arc::clone(&done), Arc::clone(&running));
            std::thread::spawn(move || {
                while r.load(Ordering::Relaxed) {
                    b.set_position(d.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        self.current = Some((bar, done, running));
    }

    fn counting(&mut self, total: usize) -> Option<Arc<dyn Fn() + Send + Sync>> {
        let bar = self.multi.add(ProgressBar::new(total as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30.yellow/white}] {pos}/{len} scenarios' instructions (valgrind, one per core), {elapsed}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix("counting");
        Some(Arc::new(move || {
            bar.inc(1);
            if bar.position() >= bar.length().unwrap_or(0) {
                bar.finish_and_clear();
            }
        }))
    }

    fn progress(&mut self) -> Option<Arc<dyn Fn(u64) + Send + Sync>> {
        let done = Arc::clone(&self.current.as_ref()?.1);
        Some(Arc::new(move |n| done.store(n, Ordering::Relaxed)))
    }

    fn finish(&mut self, result: &ScenarioResult) {
        self.end_current();
        self.overall.inc(1);
        let table = console::scenario_table(result);
        if self.enabled {
            let _ = self.multi.println(table.trim_end());
        } else {
            println!("{}", table.trim_end());
        }
    }
}
