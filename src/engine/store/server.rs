//! Which server a key belongs to: its address, and the cluster id it gives of itself.
//!
//! An address alone is not an identity: a dev server restarted, or a cluster re-initialised,
//! at the same address is another server, and the old keys fail there. The cluster id
//! (`cluster_id` of `sys/health` or `sys/seal-status`) changes when that happens.

use serde_json::Value;

/// A server as the key store knows it: its address, and its cluster id when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerId {
    /// The address, canonical (no surrounding blanks, no trailing `/`).
    pub addr: String,
    /// The cluster id the server reports, `None` when it was not (or could not be) asked.
    pub cluster_id: Option<String>,
}

impl ServerId {
    /// A server at `addr` with that cluster id (an empty id counts as unknown).
    pub fn new(addr: &str, cluster_id: Option<&str>) -> ServerId {
        ServerId {
            addr: canonical_server(addr),
            cluster_id: cluster_id
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        }
    }

    /// A server known by its address only.
    pub fn addr_only(addr: &str) -> ServerId {
        ServerId::new(addr, None)
    }

    /// From the JSON answer of `sys/health` or `sys/seal-status` (its `cluster_id` field).
    pub fn from_status(addr: &str, body: &Value) -> ServerId {
        ServerId::new(addr, body.get("cluster_id").and_then(Value::as_str))
    }

    /// How a record made for (`addr`, `cluster_id`) relates to this server; `None` when it is unrelated.
    pub fn classify(&self, addr: &str, cluster_id: Option<&str>) -> Option<ServerMatch> {
        let same_addr = canonical_server(addr) == self.addr;
        let theirs = cluster_id.map(str::trim).filter(|c| !c.is_empty());
        match (theirs, self.cluster_id.as_deref()) {
            // The same cluster is the same server at any of its addresses (another node, a
            // load balancer's name).
            (Some(a), Some(b)) if a == b => Some(ServerMatch::SameServer),
            (Some(_), Some(_)) if same_addr => Some(ServerMatch::OtherServer),
            _ if same_addr => Some(ServerMatch::AddressOnly),
            _ => None,
        }
    }
}

impl std::fmt::Display for ServerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cluster_id {
            Some(c) => write!(f, "{} (cluster {c})", self.addr),
            None => f.write_str(&self.addr),
        }
    }
}

/// How a saved key (or intent) relates to the server asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServerMatch {
    /// Same cluster id: this server.
    SameServer,
    /// Same address, and one of the two cluster ids is unknown (a key saved before vnsh
    /// recorded them, or a server that could not be asked): maybe this server.
    AddressOnly,
    /// Same address, another cluster id: a server re-initialised at this address. Its key
    /// cannot unlock anything here.
    OtherServer,
}

impl ServerMatch {
    /// Whether `unlock` should try a key so classified.
    pub fn may_unlock(self) -> bool {
        self != ServerMatch::OtherServer
    }
}

/// A server address as compared: without surrounding blanks or trailing slashes.
pub(super) fn canonical_server(server: &str) -> String {
    server.trim().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classification_table() {
        use ServerMatch::*;
        let a = "http://h:8200";
        let here = ServerId::new("http://h:8200/", Some("C1"));
        let unknown = ServerId::addr_only(a);
        let cases: &[(&ServerId, &str, Option<&str>, Option<ServerMatch>)] = &[
            (&here, a, Some("C1"), Some(SameServer)),
            (&here, "http://other:8200", Some("C1"), Some(SameServer)),
            (&here, a, Some("C2"), Some(OtherServer)),
            (&here, "http://other:8200", Some("C2"), None),
            (&here, a, None, Some(AddressOnly)),
            (&here, " http://h:8200// ", Some(""), Some(AddressOnly)),
            (&here, "http://other:8200", None, None),
            (&unknown, a, Some("C1"), Some(AddressOnly)),
            (&unknown, a, None, Some(AddressOnly)),
            (&unknown, "http://other:8200", Some("C1"), None),
        ];
        for (server, addr, cluster, want) in cases {
            assert_eq!(
                server.classify(addr, *cluster),
                *want,
                "{server} vs {addr} {cluster:?}"
            );
        }
        assert!(SameServer.may_unlock() && AddressOnly.may_unlock());
        assert!(!OtherServer.may_unlock());
    }

    #[test]
    fn from_status_reads_the_cluster_id() {
        let health = json!({"initialized": true, "cluster_id": "d2b2-…", "cluster_name": "x"});
        let s = ServerId::from_status("http://h:8200/", &health);
        assert_eq!(s, ServerId::new("http://h:8200", Some("d2b2-…")));
        assert_eq!(s.to_string(), "http://h:8200 (cluster d2b2-…)");
        let sealed = json!({"sealed": true});
        assert_eq!(
            ServerId::from_status("http://h:8200", &sealed).cluster_id,
            None
        );
        assert_eq!(ServerId::new("x", Some("  ")).cluster_id, None);
    }
}
