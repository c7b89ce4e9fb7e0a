//! What a chaos run acts on: the server (behind one proxy per client process) or the cluster,
//! the worker and publisher processes, and how each fault is applied and undone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nats_testkit::{Direction, NatsCluster, NatsServer, Proxy};

use super::schedule::{Client, Fault, NODES, WORKERS};
use super::topology::Topology;
use crate::distributed::{Fleet, PublisherArgs, REPLAY_HORIZON};

/// Jobs per run, and the rate the publisher submits them at (two seconds of submission).
pub(super) const JOBS: u64 = 150;
const RATE_PER_S: f64 = 75.0;
/// Simulated work per job.
const WORK_US: u64 = 20_000;
/// Jobs a worker holds at once.
const IN_FLIGHT: usize = 4;

enum Servers {
    /// One server; each client process reaches it through a proxy of its own.
    Single {
        server: NatsServer,
        proxies: BTreeMap<Client, Proxy>,
    },
    /// Three members with proxied routes; clients reach them directly.
    Cluster(NatsCluster),
}

/// The servers and processes of one run.
pub(super) struct World {
    servers: Servers,
    fleet: Fleet,
    publisher: usize,
    workers: Vec<usize>,
    /// Every process id seen, to check none is left behind.
    pids: Vec<u32>,
    /// The member a [`Fault::PauseLeader`] paused.
    paused_leader: Option<usize>,
}

impl World {
    /// Starts the servers of `topology` (the processes come with [`World::start_processes`]).
    pub(super) fn start(topology: Topology, bin: &Path) -> Result<World, String> {
        let text = |e: &dyn std::fmt::Display| e.to_string();
        let servers = match topology {
            Topology::Single => {
                let server = NatsServer::start().map_err(|e| text(&e))?;
                let mut proxies = BTreeMap::new();
                let clients =
                    std::iter::once(Client::Publisher).chain((0..WORKERS).map(Client::Worker));
                for client in clients {
                    proxies.insert(client, Proxy::start(server.port()).map_err(|e| text(&e))?);
                }
                Servers::Single { server, proxies }
            }
            Topology::Cluster => {
                Servers::Cluster(NatsCluster::start_partitionable(NODES).map_err(|e| text(&e))?)
            }
        };
        let mut world = World {
            servers,
            fleet: Fleet::new(bin.to_owned(), String::new()),
            publisher: 0,
            workers: Vec::new(),
            pids: Vec::new(),
            paused_leader: None,
        };
        world.note_pids();
        Ok(world)
    }

    /// Where the observer (the collector, this process) connects: the servers directly.
    pub(super) fn observer_url(&self) -> String {
        match &self.servers {
            Servers::Single { server, .. } => server.url(),
            Servers::Cluster(c) => c.url(),
        }
    }

    fn url_of(&self, client: Client) -> String {
        match &self.servers {
            Servers::Single { proxies, .. } => proxies[&client].url(),
            Servers::Cluster(c) => c.url(),
        }
    }

    /// Starts the workers, then the publisher of run `run` with its outbox at `outbox`.
    pub(super) fn start_processes(&mut self, run: &str, outbox: PathBuf) -> Result<(), String> {
        let text = |e: std::io::Error| e.to_string();
        for w in 0..WORKERS {
            let url = self.url_of(Client::Worker(w));
            let member = self
                .fleet
                .start_worker_at(&url, w as u32, IN_FLIGHT, None)
                .map_err(text)?;
            self.workers.push(member);
        }
        let args = PublisherArgs {
            url: self.url_of(Client::Publisher),
            run: run.to_owned(),
            jobs: JOBS,
            rate_per_s: RATE_PER_S,
            work_us: WORK_US,
            outbox: Some(outbox),
            crash_after_job: None,
            replay_horizon: REPLAY_HORIZON,
            server_patience: crate::distributed::SERVER_PATIENCE,
        };
        self.publisher = self.fleet.start_publisher(&args).map_err(text)?;
        self.note_pids();
        Ok(())
    }

    fn note_pids(&mut self) {
        let mut pids: Vec<u32> = match &self.servers {
            Servers::Single { server, .. } => server.pid().into_iter().collect(),
            Servers::Cluster(c) => c.nodes().iter().filter_map(NatsServer::pid).collect(),
        };
        pids.extend(
            self.workers
                .iter()
                .chain(std::iter::once(&self.publisher))
                .filter(|_| !self.workers.is_empty())
                .filter_map(|&i| self.fleet.pid(i)),
        );
        for pid in pids {
            if !self.pids.contains(&pid) {
                self.pids.push(pid);
            }
        }
    }

    fn proxy(&self, client: Client) -> Option<&Proxy> {
        match &self.servers {
            Servers::Single { proxies, .. } => proxies.get(&client),
            Servers::Cluster(_) => None,
        }
    }

    fn server(&mut self, n: usize) -> &mut NatsServer {
        match &mut self.servers {
            Servers::Single { server, .. } => server,
            Servers::Cluster(c) => c.node(n),
        }
    }

    /// Starts `fault`; `leader` names the member leading the jobs stream now (for
    /// [`Fault::PauseLeader`]: `n2` is member 1).
    pub(super) fn apply(&mut self, fault: Fault, leader: Option<&str>) -> Result<(), String> {
        match fault {
            Fault::Latency(c, ms) => {
                if let Some(p) = self.proxy(c) {
                    p.set_latency(std::time::Duration::from_millis(ms));
                }
            }
            Fault::DropConnections(c) => {
                if let Some(p) = self.proxy(c) {
                    p.drop_connections();
                }
            }
            Fault::BlackHole(c) => {
                if let Some(p) = self.proxy(c) {
                    p.black_hole();
                }
            }
            Fault::OneWayStall(c, up) => {
                if let Some(p) = self.proxy(c) {
                    p.stall(if up {
                        Direction::ToServer
                    } else {
                        Direction::ToClient
                    });
                }
            }
            Fault::KillWorker(w) => self.fleet.kill(self.workers[w]),
            Fault::PauseWorker(w) => self.fleet.pause(self.workers[w]),
            Fault::KillPublisher => self.fleet.kill(self.publisher),
            Fault::KillServer(n) => self.server(n).kill(),
            Fault::PauseServer(n) => self.server(n).pause(),
            Fault::Partition(n) => {
                if let Servers::Cluster(c) = &self.servers {
                    c.partition(n);
                }
            }
            Fault::PauseLeader => {
                let member = leader
                    .and_then(|name| name.strip_prefix('n')?.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .filter(|&n| n < NODES);
                if let Some(n) = member {
                    self.server(n).pause();
                    self.paused_leader = Some(n);
                }
            }
        }
        Ok(())
    }

    /// Ends `fault`: heals the link, continues or restarts the process or server.
    pub(super) fn undo(&mut self, fault: Fault) -> Result<(), String> {
        let text = |e: &dyn std::fmt::Display| e.to_string();
        match fault {
            Fault::Latency(c, _) | Fault::BlackHole(c) | Fault::OneWayStall(c, _) => {
                if let Some(p) = self.proxy(c) {
                    p.heal();
                }
            }
            Fault::DropConnections(_) => {}
            Fault::KillWorker(w) => self.fleet.restart(self.workers[w]).map_err(|e| text(&e))?,
            Fault::PauseWorker(w) => self.fleet.resume(self.workers[w]),
            Fault::KillPublisher => self.fleet.restart(self.publisher).map_err(|e| text(&e))?,
            Fault::KillServer(n) => self.server(n).restart().map_err(|e| text(&e))?,
            Fault::PauseServer(n) => self.server(n).resume(),
            Fault::Partition(_) => {
                if let Servers::Cluster(c) = &self.servers {
                    c.heal();
                }
            }
            Fault::PauseLeader => {
                if let Some(n) = self.paused_leader.take() {
                    self.server(n).resume();
                }
            }
        }
        self.note_pids();
        Ok(())
    }

    /// Waits (until `deadline`) for the publisher to finish, asks the workers to leave
    /// (SIGTERM) and waits for them; the processes that did not exit successfully, by name.
    pub(super) fn finish(&mut self, deadline: std::time::Instant) -> Vec<String> {
        let mut failed = Vec::new();
        while !self.fleet.has_exited(self.publisher) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if !self.fleet.has_exited(self.publisher) {
            failed.push("the publisher was still running".to_owned());
            self.fleet.kill(self.publisher);
        }
        for (w, &member) in self.workers.iter().enumerate() {
            match self.fleet.stop(member) {
                Ok((status, _)) if status.success() => {}
                Ok((status, _)) => failed.push(format!("worker {w} exited with {status}")),
                Err(e) => failed.push(format!("worker {w}: {e}")),
            }
        }
        match self.fleet.wait(self.publisher) {
            Ok((status, _)) if status.success() => {}
            Ok((status, _)) => failed.push(format!("the publisher exited with {status}")),
            Err(e) => failed.push(format!("the publisher: {e}")),
        }
        failed
    }

    /// Every process id the run saw (servers, workers, publishers).
    pub(super) fn pids(&self) -> Vec<u32> {
        self.pids.clone()
    }
}

/// Whether process `pid` is gone (or a zombie nobody will run again).
pub(super) fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}
