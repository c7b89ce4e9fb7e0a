//! A fault schedule drawn from a seed: which faults, on what, when and for how long. The same
//! seed gives the same schedule on every machine (ChaCha8), so a failing seed replays.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::topology::Topology;

/// Worker processes in every chaos run.
pub(super) const WORKERS: usize = 2;
/// Members of the cluster topology.
pub(super) const NODES: usize = 3;
/// Faults start within this window after the run begins (the publisher submits for ~2 s).
const WINDOW_MS: (u64, u64) = (200, 2200);
/// How long a lasting fault lasts: some shorter and some longer than the ack wait (1 s).
const LASTS_MS: (u64, u64) = (100, 2500);

/// A client process, whose connection goes through a proxy of its own on a single server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    /// The publisher.
    Publisher,
    /// Worker `n`.
    Worker(usize),
}

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every byte between the client and the server delayed by this many milliseconds.
    Latency(Client, u64),
    /// The client's connections cut (it reconnects).
    DropConnections(Client),
    /// Nothing gets through either way, connections left open.
    BlackHole(Client),
    /// Bytes from the client to the server (`true`) or back (`false`) held.
    OneWayStall(Client, bool),
    /// A worker SIGKILLed, started again when the fault ends.
    KillWorker(usize),
    /// A worker SIGSTOPped, continued when the fault ends.
    PauseWorker(usize),
    /// The publisher SIGKILLed, started again (replaying its outbox) when the fault ends.
    KillPublisher,
    /// The server (single) or member `n` (cluster) SIGKILLed, restarted when the fault ends.
    KillServer(usize),
    /// The server or member `n` SIGSTOPped, continued when the fault ends.
    PauseServer(usize),
    /// Member `n` cut off from the other members until the fault ends.
    Partition(usize),
    /// The member leading the jobs stream (found when the fault starts) SIGSTOPped, continued
    /// when the fault ends.
    PauseLeader,
}

impl Fault {
    /// The fault's kind, as counted in reports.
    pub fn kind(self) -> &'static str {
        match self {
            Fault::Latency(..) => "latency",
            Fault::DropConnections(_) => "dropped connections",
            Fault::BlackHole(_) => "black hole",
            Fault::OneWayStall(..) => "one-way stall",
            Fault::KillWorker(_) => "worker SIGKILL",
            Fault::PauseWorker(_) => "worker SIGSTOP",
            Fault::KillPublisher => "publisher SIGKILL",
            Fault::KillServer(_) => "server SIGKILL",
            Fault::PauseServer(_) => "server SIGSTOP",
            Fault::Partition(_) => "node partitioned",
            Fault::PauseLeader => "stream leader SIGSTOP",
        }
    }

    /// What it acts on: two faults on one target never overlap.
    fn target(self) -> String {
        match self {
            Fault::Latency(c, _)
            | Fault::DropConnections(c)
            | Fault::BlackHole(c)
            | Fault::OneWayStall(c, _) => format!("link {c:?}"),
            Fault::KillWorker(w) | Fault::PauseWorker(w) => format!("worker {w}"),
            Fault::KillPublisher => "publisher".to_owned(),
            // At most one server or member down, paused or cut off at a time: a cluster keeps
            // its guarantees with a majority of its members, and a single server with itself.
            Fault::KillServer(_)
            | Fault::PauseServer(_)
            | Fault::Partition(_)
            | Fault::PauseLeader => "servers".to_owned(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::Latency(c, ms) => write!(f, "latency {ms} ms on {c:?}"),
            Fault::DropConnections(c) => write!(f, "dropped connections of {c:?}"),
            Fault::BlackHole(c) => write!(f, "black hole on {c:?}"),
            Fault::OneWayStall(c, up) => {
                write!(
                    f,
                    "{c:?} stalled {}",
                    if up { "to server" } else { "to client" }
                )
            }
            Fault::KillWorker(w) => write!(f, "worker {w} SIGKILL"),
            Fault::PauseWorker(w) => write!(f, "worker {w} SIGSTOP"),
            Fault::KillPublisher => write!(f, "publisher SIGKILL"),
            Fault::KillServer(n) => write!(f, "server {n} SIGKILL"),
            Fault::PauseServer(n) => write!(f, "server {n} SIGSTOP"),
            Fault::Partition(n) => write!(f, "node {n} partitioned"),
            Fault::PauseLeader => write!(f, "stream leader SIGSTOP"),
        }
    }
}

/// A fault, when it starts after the run began, and how long it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduled {
    /// When it starts.
    pub at: Duration,
    /// How long until it is undone (the restart, resume or heal).
    pub lasts: Duration,
    /// What.
    pub fault: Fault,
}

impl fmt::Display for Scheduled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} ms for {} ms",
            self.fault,
            self.at.as_millis(),
            self.lasts.as_millis()
        )
    }
}

/// The faults of one run, in the order they start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The faults.
    pub faults: Vec<Scheduled>,
}

impl Schedule {
    /// Two to four faults drawn from `seed` for `topology`, no two on one target at once.
    pub fn draw(seed: u64, topology: Topology) -> Schedule {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let wanted = rng.random_range(2..=4);
        let mut faults: Vec<Scheduled> = Vec::new();
        for _ in 0..wanted * 8 {
            if faults.len() == wanted {
                break;
            }
            let s = Scheduled {
                at: Duration::from_millis(rng.random_range(WINDOW_MS.0..=WINDOW_MS.1)),
                lasts: Duration::from_millis(rng.random_range(LASTS_MS.0..=LASTS_MS.1)),
                fault: draw_fault(&mut rng, topology),
            };
            let overlaps = faults.iter().any(|o| {
                o.fault.target() == s.fault.target()
                    && o.at < s.at + s.lasts
                    && s.at < o.at + o.lasts
            });
            if !overlaps {
                faults.push(s);
            }
        }
        faults.sort_by_key(|s| s.at);
        Schedule { seed, faults }
    }

    /// Each fault as text, in order.
    pub fn describe(&self) -> Vec<String> {
        self.faults.iter().map(ToString::to_string).collect()
    }

    /// How many faults of each kind.
    pub fn by_kind(&self) -> BTreeMap<&'static str, u64> {
        let mut kinds = BTreeMap::new();
        for s in &self.faults {
            *kinds.entry(s.fault.kind()).or_default() += 1;
        }
        kinds
    }
}

fn draw_fault(rng: &mut ChaCha8Rng, topology: Topology) -> Fault {
    let worker = rng.random_range(0..WORKERS);
    let client = if rng.random_bool(0.3) {
        Client::Publisher
    } else {
        Client::Worker(worker)
    };
    let node = rng.random_range(0..NODES);
    match topology {
        // Network faults act on each client's own proxy to the one server.
        Topology::Single => match rng.random_range(0..9) {
            0 => Fault::Latency(client, rng.random_range(5..=80)),
            1 => Fault::DropConnections(client),
            2 => Fault::BlackHole(client),
            3 => Fault::OneWayStall(client, rng.random_bool(0.5)),
            4 => Fault::KillWorker(worker),
            5 => Fault::PauseWorker(worker),
            6 => Fault::KillPublisher,
            7 => Fault::KillServer(0),
            _ => Fault::PauseServer(0),
        },
        // Clients reach the members directly; network faults act between members.
        Topology::Cluster => match rng.random_range(0..7) {
            0 => Fault::KillWorker(worker),
            1 => Fault::PauseWorker(worker),
            2 => Fault::KillPublisher,
            3 => Fault::KillServer(node),
            4 => Fault::PauseServer(node),
            5 => Fault::PauseLeader,
            _ => Fault::Partition(node),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_draws_the_same_schedule_and_seeds_differ() {
        for topology in [Topology::Single, Topology::Cluster] {
            assert_eq!(Schedule::draw(7, topology), Schedule::draw(7, topology));
            let distinct: std::collections::BTreeSet<String> = (0..50)
                .map(|seed| format!("{:?}", Schedule::draw(seed, topology).faults))
                .collect();
            assert!(distinct.len() > 45, "{} distinct of 50", distinct.len());
        }
    }

    #[test]
    fn no_two_faults_act_on_one_target_at_once_and_every_kind_is_drawn() {
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let s = Schedule::draw(seed, Topology::Single);
            assert!((2..=4).contains(&s.faults.len()) || s.faults.len() == 1);
            for (i, a) in s.faults.iter().enumerate() {
                kinds.insert(a.fault.kind());
                for b in &s.faults[i + 1..] {
                    let overlap = a.at < b.at + b.lasts && b.at < a.at + a.lasts;
                    assert!(
                        !(overlap && a.fault.target() == b.fault.target()),
                        "seed {seed}: {a:?} and {b:?}"
                    );
                }
            }
        }
        for seed in 0..100 {
            for s in Schedule::draw(seed, Topology::Cluster).faults {
                kinds.insert(s.fault.kind());
            }
        }
        assert_eq!(kinds.len(), 11, "{kinds:?}");
    }
}
