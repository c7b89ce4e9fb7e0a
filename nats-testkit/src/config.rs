//! The server's configuration file: JetStream with `sync_interval: always`, and for a member of
//! a cluster its name and routes.
//!
//! Why `sync_interval: always`: by default JetStream acknowledges a write once it is in the
//! operating system's page cache and flushes to disk every two minutes, so an OS crash or power
//! loss (and, in a cluster, a pause of the node that holds the only flushed copy) can lose
//! writes it acknowledged (Jepsen's NATS 2.12.1 analysis, December 2025). With `always`, every
//! write is on disk before it is acknowledged. A SIGKILL of the server alone does not lose
//! page-cache writes; the setting matters for the machine's crash, which these tests cannot
//! cause, so the fixture simply runs as production should.

use std::path::Path;

/// What makes a server a member of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterMember {
    /// The cluster's name (the same on every member).
    pub cluster: String,
    /// This server's name (unique in the cluster).
    pub name: String,
    /// The port this member listens on for routes from the others.
    pub route_port: u16,
    /// The ports this member's routes connect to (every member's route port, or proxies in
    /// front of them).
    pub routes: Vec<u16>,
}

/// The configuration file for a server storing JetStream data in `store`. A member advertises a
/// route address nothing listens on: members connect only through the routes configured, so
/// that when those go through proxies, no member finds a way around them (gossiped, implicit
/// routes would survive a partition).
pub(crate) fn render(store: &Path, cluster: Option<&ClusterMember>) -> String {
    let mut text = String::new();
    if let Some(c) = cluster {
        text.push_str(&format!("server_name: {:?}\n", c.name));
    }
    text.push_str(&format!(
        "jetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n",
        store.display().to_string()
    ));
    if let Some(c) = cluster {
        let routes: Vec<String> = c
            .routes
            .iter()
            .map(|p| format!("{:?}", format!("nats-route://127.0.0.1:{p}")))
            .collect();
        text.push_str(&format!(
            "cluster {{\n  name: {:?}\n  listen: \"127.0.0.1:{}\"\n  advertise: \"127.0.0.1:1\"\n  no_advertise: true\n  routes: [{}]\n}}\n",
            c.cluster,
            c.route_port,
            routes.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_server_syncs_every_write() {
        let text = render(Path::new("/tmp/x"), None);
        assert!(text.contains("sync_interval: always"), "{text}");
        assert!(!text.contains("cluster"), "{text}");
    }

    #[test]
    fn a_member_names_itself_and_routes_to_every_member() {
        let member = ClusterMember {
            cluster: "c".into(),
            name: "n2".into(),
            route_port: 6002,
            routes: vec![6001, 6002, 6003],
        };
        let text = render(Path::new("/tmp/x"), Some(&member));
        assert!(text.contains("server_name: \"n2\""), "{text}");
        assert!(text.contains("listen: \"127.0.0.1:6002\""), "{text}");
        assert!(text.contains("\"nats-route://127.0.0.1:6003\""), "{text}");
    }
}
