//! The child processes of a delivery run: workers and publishers are real processes (the
//! `load-tests` binary's `worker` and `publisher` commands), so a crash is a real SIGKILL.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::PublisherArgs;

#[derive(Debug)]
struct Member {
    args: Vec<String>,
    child: Option<Child>,
}

/// Child processes started from the `load-tests` binary; every one still running is killed when
/// the fleet is dropped, also on panic.
#[derive(Debug)]
pub struct Fleet {
    bin: PathBuf,
    url: String,
    members: Vec<Member>,
}

impl Fleet {
    /// A fleet whose members run `bin` (the `load-tests` binary) against the server at `url`.
    pub fn new(bin: PathBuf, url: String) -> Fleet {
        Fleet {
            bin,
            url,
            members: Vec::new(),
        }
    }

    /// Starts worker number `worker` (which kills itself on its `crash_at_job`-th job, if
    /// given); returns its index in the fleet.
    pub fn start_worker(
        &mut self,
        worker: u32,
        in_flight: usize,
        crash_at_job: Option<u64>,
    ) -> std::io::Result<usize> {
        let url = self.url.clone();
        self.start_worker_at(&url, worker, in_flight, crash_at_job)
    }

    /// [`Fleet::start_worker`], connecting to `url` (a proxy in front of the server, say).
    pub fn start_worker_at(
        &mut self,
        url: &str,
        worker: u32,
        in_flight: usize,
        crash_at_job: Option<u64>,
    ) -> std::io::Result<usize> {
        let mut args = vec![
            "worker".to_owned(),
            "--nats".to_owned(),
            url.to_owned(),
            "--id".to_owned(),
            worker.to_string(),
            "--in-flight".to_owned(),
            in_flight.to_string(),
            // A member restarted while the server is down waits for it.
            "--wait-for-server".to_owned(),
            super::SERVER_PATIENCE.as_secs().to_string(),
        ];
        if let Some(n) = crash_at_job {
            args.push("--crash-at-job".to_owned());
            args.push(n.to_string());
        }
        self.start(args)
    }

    /// Starts a publisher connecting to `p.url`; returns its index in the fleet.
    pub fn start_publisher(&mut self, p: &PublisherArgs) -> std::io::Result<usize> {
        let mut args = vec![
            "publisher".to_owned(),
            "--nats".to_owned(),
            p.url.clone(),
            "--run".to_owned(),
            p.run.clone(),
            "--jobs".to_owned(),
            p.jobs.to_string(),
            "--rate".to_owned(),
            p.rate_per_s.to_string(),
            "--work-us".to_owned(),
            p.work_us.to_string(),
            "--replay-horizon-secs".to_owned(),
            p.replay_horizon.as_secs().to_string(),
            "--wait-for-server".to_owned(),
            p.server_patience.as_secs().to_string(),
        ];
        if let Some(outbox) = &p.outbox {
            args.push("--outbox".to_owned());
            args.push(outbox.display().to_string());
        }
        if let Some(n) = p.crash_after_job {
            args.push("--crash-after-job".to_owned());
            args.push(n.to_string());
        }
        self.start(args)
    }

    fn start(&mut self, args: Vec<String>) -> std::io::Result<usize> {
        let child = self.spawn(&args)?;
        self.members.push(Member {
            args,
            child: Some(child),
        });
        Ok(self.members.len() - 1)
    }

    fn spawn(&self, args: &[String]) -> std::io::Result<Child> {
        Command::new(&self.bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
    }

    /// Kills member `i` with SIGKILL (a crash: nothing runs after it) and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops member `i` (SIGSTOP): it holds what it holds and answers nothing, as a process
    /// descheduled or swapped out, until [`Fleet::resume`].
    pub fn pause(&mut self, i: usize) {
        if let Some(child) = &self.members[i].child {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGSTOP);
        }
    }

    /// Lets a paused member `i` run again (SIGCONT).
    pub fn resume(&mut self, i: usize) {
        if let Some(child) = &self.members[i].child {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT);
        }
    }

    /// Member `i`'s process id, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.members[i].child.as_ref().map(Child::id)
    }

    /// Starts member `i` again with the same arguments (after [`Fleet::kill`]).
    pub fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.kill(i);
        let child = self.spawn(&self.members[i].args)?;
        self.members[i].child = Some(child);
        Ok(())
    }

    /// Asks member `i` to leave (SIGTERM), waits for it, and returns its exit status and the
    /// summary line it printed.
    pub fn stop(&mut self, i: usize) -> std::io::Result<(ExitStatus, String)> {
        if let Some(child) = &self.members[i].child {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
        self.wait(i)
    }

    /// Waits for member `i` to exit by itself; returns its status and what it printed.
    pub fn wait(&mut self, i: usize) -> std::io::Result<(ExitStatus, String)> {
        let Some(mut child) = self.members[i].child.take() else {
            return Err(std::io::Error::other("not running"));
        };
        let mut out = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            stdout.read_to_string(&mut out)?;
        }
        Ok((child.wait()?, out))
    }

    /// Whether member `i` has exited (false while it runs or after it was reaped).
    pub fn has_exited(&mut self, i: usize) -> bool {
        match &mut self.members[i].child {
            Some(child) => matches!(child.try_wait(), Ok(Some(_))),
            None => false,
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}
