//! What a front end reads in the background, beside the commands it runs: the server's
//! health and identity, who the token is and how long it lives, a namespace's children
//! (or its whole subtree) for a tree, a namespace's summary. A [`Reader`] is a cheap copy
//! of the session's connection, so the full-screen shell can read while the session runs
//! a command — and never needs an HTTP client of its own.
//!
//! Every failure says whether the server could not be reached at all ([`ReadError`]):
//! a front end then says "server unreachable", never "not readable".

use std::time::Duration;

use serde_json::Value;

use crate::engine::commands::explore::{self, Summary};
use crate::engine::identity;
use crate::engine::nspath::NsPath;
use crate::engine::session::Session;
use crate::engine::store::ServerId;
use crate::engine::tree::{self, NsState, Seal};
use crate::engine::EngineError;
use crate::vault::{Client, Method, VaultError};

/// How long a health check may take before the server counts as not answering: a status
/// bar must say within seconds that the server went away, whatever the request timeout.
pub const HEALTH_TIMEOUT: Duration = Duration::from_millis(2500);

/// The server's state, from `sys/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The server is sealed.
    pub sealed: bool,
    /// It is a standby (performance or not).
    pub standby: bool,
    /// Its version.
    pub version: String,
    /// Who it is: its cluster id (None when it does not say). Another id at the same
    /// address is another server.
    pub cluster_id: Option<String>,
}

/// Who the token is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenInfo {
    /// Its display name.
    pub display_name: String,
    /// The namespace it belongs to, for people.
    pub namespace: String,
    /// Seconds it had left when it was looked up (None: it never expires).
    pub ttl: Option<u64>,
    /// The lifetime it was created with, in seconds (None: not said, or no limit).
    pub creation_ttl: Option<u64>,
}

/// One child namespace, as its parent's listing describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Child {
    /// Its name (`a/` or `a`).
    pub name: String,
    /// Its API is locked.
    pub locked: bool,
    /// It is being deleted (`tainted`).
    pub tainted: bool,
    /// It is sealed (None: not asked — a listing of many children, or a walk).
    pub sealed: Option<bool>,
}

impl Child {
    /// From a `key_info` entry of `sys/namespaces`.
    pub fn from_info(name: &str, info: &Value) -> Child {
        let flag = |k: &str| info.get(k).and_then(Value::as_bool);
        Child {
            name: name.to_string(),
            locked: flag("locked").unwrap_or(false),
            tainted: flag("tainted").unwrap_or(false),
            sealed: flag("sealed"),
        }
    }
}

impl Child {
    /// From the state the engine's tree gives of a namespace (the seal only when it was
    /// asked).
    pub fn of_state(name: &str, state: &NsState) -> Child {
        Child {
            name: name.to_string(),
            locked: state.locked,
            tainted: state.tainted,
            sealed: match state.seal {
                Seal::Unknown => None,
                Seal::Sealed => Some(true),
                Seal::Open | Seal::NotSealable | Seal::Unsealed => Some(false),
            },
        }
    }
}

impl From<(String, bool)> for Child {
    fn from((name, locked): (String, bool)) -> Child {
        Child {
            name,
            locked,
            ..Child::default()
        }
    }
}

/// A background read that failed: the error in words, and whether the server could not
/// be reached at all (refused, reset, no answer in time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What went wrong, short (a tree row is narrow).
    pub message: String,
    /// No answer came from the server.
    pub unreachable: bool,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ReadError {
    /// A failure that is not about reaching the server.
    pub fn other(message: impl Into<String>) -> ReadError {
        ReadError {
            message: message.into(),
            unreachable: false,
        }
    }
}

/// Whether `e` means that no answer came from the server.
pub fn is_unreachable(e: &VaultError) -> bool {
    matches!(
        e,
        VaultError::Unreachable { .. } | VaultError::Timeout { .. }
    )
}

/// Whether an engine error means that no answer came from the server.
pub fn engine_unreachable(e: &EngineError) -> bool {
    matches!(e, EngineError::Vault(v) if is_unreachable(v))
}

impl From<VaultError> for ReadError {
    fn from(e: VaultError) -> ReadError {
        ReadError {
            unreachable: is_unreachable(&e),
            message: match e {
                VaultError::NamespaceLocked { .. } => "locked".to_string(),
                VaultError::PermissionDenied { .. } => "permission denied".to_string(),
                e => e.to_string(),
            },
        }
    }
}

/// A namespace of a subtree (absolute) and its state.
pub type SubtreeEntry = (NsPath, Child);

/// A walk of a subtree: every namespace below it, and those whose children could not be
/// listed (and why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subtree {
    /// Every namespace found below the root of the walk.
    pub entries: Vec<SubtreeEntry>,
    /// Namespaces whose children could not be listed.
    pub unlisted: Vec<(NsPath, String)>,
}

/// A copy of the session's connection, for background reads.
#[derive(Clone, Debug)]
pub struct Reader {
    client: Client,
    use_scan: bool,
}

impl Reader {
    /// Reads through `client`.
    pub fn new(client: Client) -> Reader {
        Reader {
            client,
            use_scan: true,
        }
    }

    /// The session's connection as it is now (a `login` makes a new one: ask again).
    pub fn of(session: &Session) -> Reader {
        Reader {
            client: session.client().clone(),
            use_scan: !session.options().no_scan,
        }
    }

    /// The server address, as configured.
    pub fn addr(&self) -> &str {
        self.client.addr()
    }

    /// Whether the server's certificate goes unchecked (the status bar says so).
    pub fn skips_verify(&self) -> bool {
        self.client.skips_verify()
    }

    /// The server's state from `sys/health` at the root, within [`HEALTH_TIMEOUT`].
    pub async fn health(&self) -> Result<Health, ReadError> {
        let body = match tokio::time::timeout(HEALTH_TIMEOUT, identity::health(&self.client)).await
        {
            Ok(answer) => answer?.unwrap_or(Value::Null),
            Err(_) => {
                return Err(ReadError {
                    message: format!(
                        "no answer to sys/health within {} ms",
                        HEALTH_TIMEOUT.as_millis()
                    ),
                    unreachable: true,
                })
            }
        };
        Ok(health_of(self.client.addr(), &body))
    }

    /// Who the token is: `lookup-self` in `home`, else in the root.
    pub async fn token(&self, home: &NsPath) -> Result<TokenInfo, ReadError> {
        let mut tries = vec![home.clone()];
        if !home.is_root() {
            tries.push(NsPath::root());
        }
        let mut last = ReadError::other("no lookup");
        for ns in tries {
            match self
                .client
                .request(Method::Get, &ns.header(), "auth/token/lookup-self", None)
                .await
            {
                Ok(body) => {
                    let data = body
                        .as_ref()
                        .and_then(|b| b.get("data"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    return Ok(token_of(&data, &ns));
                }
                Err(e) => {
                    let e = ReadError::from(e);
                    if e.unreachable {
                        return Err(e);
                    }
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// The children of `ns` and the state of each (locked, being deleted, and sealed —
    /// asked of each child when there are at most [`tree::SEAL_ASK_LIMIT`], as `ls` does),
    /// for a tree; the error said short (a tree row is narrow).
    pub async fn children(&self, ns: &NsPath) -> Result<Vec<Child>, ReadError> {
        let (children, _) =
            tree::children_with_state(&self.client, ns, Some(tree::SEAL_ASK_LIMIT)).await?;
        Ok(children
            .into_iter()
            .map(|c| Child::of_state(&c.name, &c.state))
            .collect())
    }

    /// Every namespace below `ns` with its state: one `SCAN` where the server has it, else
    /// a listing level by level (as `tree` does).
    pub async fn subtree(&self, ns: &NsPath) -> Result<Subtree, ReadError> {
        let walk = tree::walk(&self.client, ns, None, self.use_scan).await?;
        Ok(Subtree {
            entries: walk
                .entries
                .iter()
                .map(|e| {
                    let name = e.path.name().unwrap_or_default();
                    (ns.join(&e.path), Child::of_state(name, &e.state))
                })
                .collect(),
            unlisted: walk
                .unlisted
                .into_iter()
                .map(|(p, why)| (ns.join(&p), why))
                .collect(),
        })
    }

    /// What `describe` shows of `ns`, in parts that may each be unreadable. When no part
    /// could be read, health says whether the server is there at all: a summary of a
    /// server that is down says so, not "not readable" seven times.
    pub async fn summary(&self, ns: &NsPath) -> Result<Summary, ReadError> {
        let s = explore::summary(&self.client, ns)
            .await
            .map_err(|e| ReadError::other(e.to_string()))?;
        let nothing_read = s.namespace.is_err()
            && s.children.is_err()
            && s.mounts.is_err()
            && s.auth.is_err()
            && s.policies.is_err()
            && s.entities.is_err()
            && s.groups.is_err();
        if nothing_read {
            if let Err(e) = self.health().await {
                if e.unreachable {
                    return Err(ReadError {
                        message: format!("server unreachable: {}", e.message),
                        unreachable: true,
                    });
                }
            }
        }
        Ok(s)
    }
}

/// The state `sys/health` gives of the server at `addr`.
pub fn health_of(addr: &str, body: &Value) -> Health {
    let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
    Health {
        sealed: flag("sealed"),
        standby: flag("standby") || flag("performance_standby"),
        version: body
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        cluster_id: ServerId::from_status(addr, body).cluster_id,
    }
}

/// Who a token is, from the `data` of its `lookup-self` in `ns`.
pub fn token_of(data: &Value, ns: &NsPath) -> TokenInfo {
    let secs = |k: &str| data.get(k).and_then(Value::as_u64).filter(|s| *s > 0);
    TokenInfo {
        display_name: data
            .get("display_name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        namespace: data
            .get("namespace_path")
            .and_then(Value::as_str)
            .and_then(|p| NsPath::parse(p).ok())
            .unwrap_or_else(|| ns.clone())
            .display(),
        // A token that never expires says 0 (root) and has no expire time.
        ttl: match data.get("expire_time") {
            Some(Value::Null) | None => secs("ttl"),
            Some(_) => Some(data.get("ttl").and_then(Value::as_u64).unwrap_or(0)),
        },
        creation_ttl: secs("creation_ttl"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn health_names_the_cluster() {
        let h = health_of(
            "http://h:8200",
            &json!({"sealed": false, "standby": true, "version": "2.7.2", "cluster_id": "c-1"}),
        );
        assert!(h.standby && !h.sealed);
        assert_eq!(h.cluster_id.as_deref(), Some("c-1"));
        assert_eq!(health_of("http://h", &json!({})).cluster_id, None);
    }

    #[test]
    fn token_lifetimes() {
        let root = token_of(
            &json!({"display_name": "token", "ttl": 0, "expire_time": null, "creation_ttl": 0}),
            &NsPath::root(),
        );
        assert_eq!((root.ttl, root.creation_ttl), (None, None));
        let short = token_of(
            &json!({"display_name": "t", "ttl": 89, "expire_time": "2026-01-01T00:00:00Z", "creation_ttl": 90}),
            &NsPath::root(),
        );
        assert_eq!((short.ttl, short.creation_ttl), (Some(89), Some(90)));
        // Expired between the lookup's start and its answer: 0 left, not "never".
        let gone = token_of(
            &json!({"ttl": 0, "expire_time": "2026-01-01T00:00:00Z"}),
            &NsPath::root(),
        );
        assert_eq!(gone.ttl, Some(0));
    }

    #[test]
    fn children_read_every_state_of_key_info() {
        let c = Child::from_info(
            "a/",
            &json!({"locked": true, "tainted": true, "path": "x/a/"}),
        );
        assert!(c.locked && c.tainted);
        assert_eq!(c.sealed, None);
        assert_eq!(
            Child::from_info("b/", &json!({"sealed": true})).sealed,
            Some(true)
        );
    }

    #[test]
    fn children_take_the_engine_state() {
        let sealed = NsState {
            locked: false,
            tainted: true,
            seal: Seal::Sealed,
        };
        let c = Child::of_state("s/", &sealed);
        assert_eq!((c.sealed, c.tainted, c.locked), (Some(true), true, false));
        let open = NsState {
            seal: Seal::Unsealed,
            ..NsState::default()
        };
        assert_eq!(Child::of_state("o/", &open).sealed, Some(false));
        assert_eq!(Child::of_state("u/", &NsState::default()).sealed, None);
    }

    #[test]
    fn unreachable_is_told_apart() {
        let e = ReadError::from(VaultError::Unreachable {
            addr: "http://h".into(),
            reason: "connection refused".into(),
        });
        assert!(e.unreachable);
        assert!(!ReadError::other("permission denied").unreachable);
    }
}
