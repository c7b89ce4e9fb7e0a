//! A JetStream cluster of real `nats-server`s on loopback, each a [`NatsServer`] that can be
//! killed, restarted, paused and resumed on its own, for R3 streams and node faults.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::ClusterMember;
use crate::error::ServerError;
use crate::provision::server_binary;
use crate::proxy::Proxy;
use crate::server::NatsServer;

/// How long the members may take to elect a JetStream metadata leader.
const LEADER_WITHIN: Duration = Duration::from_secs(20);
/// What each member logs once it knows the metadata leader.
const LEADER_KNOWN: [&str; 2] = [
    "JetStream cluster new metadata leader",
    "Self is new JetStream cluster metadata leader",
];

/// Members of one JetStream cluster; dropping it stops them all.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
    /// With [`NatsCluster::start_partitionable`]: the proxy each route from member `.0` to
    /// member `.1` goes through.
    links: Vec<(usize, usize, Proxy)>,
}

impl NatsCluster {
    /// Starts `size` members (3 for R3 streams) and waits until each knows the JetStream
    /// metadata leader. The route ports are chosen free just before the members start (routes
    /// must be known to every member in advance); a member that finds its port taken makes the
    /// whole cluster start again on fresh ports.
    pub fn start(size: usize) -> Result<NatsCluster, ServerError> {
        NatsCluster::start_with(&server_binary()?, size, false)
    }

    /// [`NatsCluster::start`] with every route between two members through a [`Proxy`] of its
    /// own, so that [`NatsCluster::partition`] can cut a member off from the others.
    pub fn start_partitionable(size: usize) -> Result<NatsCluster, ServerError> {
        NatsCluster::start_with(&server_binary()?, size, true)
    }

    /// [`NatsCluster::start`] with the binary `bin`, partitionable or not.
    pub fn start_with(
        bin: &Path,
        size: usize,
        partitionable: bool,
    ) -> Result<NatsCluster, ServerError> {
        let mut last = None;
        for _ in 0..3 {
            match NatsCluster::try_start(bin, size, partitionable) {
                Ok(cluster) => return Ok(cluster),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(ServerError::NotReady { log: String::new() }))
    }

    fn try_start(bin: &Path, size: usize, partitionable: bool) -> Result<NatsCluster, ServerError> {
        let routes = free_ports(size)?;
        let cluster = format!("testkit-{}", std::process::id());
        let mut links = Vec::new();
        if partitionable {
            for from in 0..size {
                for to in (0..size).filter(|&to| to != from) {
                    let proxy = Proxy::start(routes[to]).map_err(|source| ServerError::Io {
                        what: "starting a route proxy".to_owned(),
                        source,
                    })?;
                    links.push((from, to, proxy));
                }
            }
        }
        let mut nodes = Vec::with_capacity(size);
        for (i, &route_port) in routes.iter().enumerate() {
            let member = ClusterMember {
                cluster: cluster.clone(),
                name: format!("n{}", i + 1),
                route_port,
                routes: if partitionable {
                    links
                        .iter()
                        .filter(|(from, _, _)| *from == i)
                        .map(|(_, _, proxy)| proxy.port())
                        .collect()
                } else {
                    routes.clone()
                },
            };
            let mut node = NatsServer::unstarted(bin, true, Some(member))?;
            node.launch("-1")?;
            nodes.push(node);
        }
        let cluster = NatsCluster { nodes, links };
        let deadline = Instant::now() + LEADER_WITHIN;
        while !cluster.leader_known() {
            if Instant::now() >= deadline {
                return Err(ServerError::NotReady {
                    log: "no JetStream metadata leader elected".to_owned(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Knowing the leader is not enough to place an R3 stream: the leader must also count
        // every other member as a current peer, or a stream created now fails with "no suitable
        // peers for placement, peer offline" (seen on a loaded machine).
        while !cluster.peers_current() {
            if Instant::now() >= deadline {
                return Err(ServerError::NotReady {
                    log: "the JetStream metadata leader does not count every member current"
                        .to_owned(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(cluster)
    }

    /// Whether the metadata leader, read from its `/jsz`, counts every other member as a
    /// current, online peer.
    fn peers_current(&self) -> bool {
        self.nodes.iter().enumerate().any(|(i, node)| {
            let Some(jsz) = node.monitor("/jsz") else {
                return false;
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&jsz) else {
                return false;
            };
            let meta = &json["meta_cluster"];
            let replicas = meta["replicas"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            meta["leader"].as_str() == Some(format!("n{}", i + 1).as_str())
                && replicas.len() + 1 == self.nodes.len()
                && replicas.iter().all(|r| {
                    r["current"].as_bool() == Some(true) && r["offline"].as_bool() != Some(true)
                })
        })
    }

    fn leader_known(&self) -> bool {
        self.nodes
            .iter()
            .all(|n| LEADER_KNOWN.iter().any(|text| n.logged(text)))
    }

    /// Every member's client URL, comma-separated (what a client connects to).
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether it has no members (never, once started).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Member `i`, to kill, restart, pause or resume.
    pub fn node(&mut self, i: usize) -> &mut NatsServer {
        &mut self.nodes[i]
    }

    /// All members.
    pub fn nodes(&self) -> &[NatsServer] {
        &self.nodes
    }

    /// Cuts member `i` off from the others (a partitioned node): its routes are dropped and
    /// black-holed both ways until [`NatsCluster::heal`]; its clients still reach it. Only on a
    /// cluster started with [`NatsCluster::start_partitionable`]; false otherwise.
    pub fn partition(&self, i: usize) -> bool {
        let cut: Vec<&Proxy> = self
            .links
            .iter()
            .filter(|(from, to, _)| *from == i || *to == i)
            .map(|(_, _, proxy)| proxy)
            .collect();
        for proxy in &cut {
            proxy.black_hole();
            proxy.drop_connections();
        }
        !cut.is_empty()
    }

    /// Ends every partition.
    pub fn heal(&self) {
        for (_, _, proxy) in &self.links {
            proxy.heal();
        }
    }
}

/// `n` loopback ports free at the time of asking.
fn free_ports(n: usize) -> Result<Vec<u16>, ServerError> {
    let io = |source| ServerError::Io {
        what: "choosing free route ports".to_owned(),
        source,
    };
    // Hold all the listeners at once so the n ports differ.
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(io))
        .collect()
}
