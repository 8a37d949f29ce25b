//! What a front end reads in the background, beside the commands it runs: the server's
//! health, who the token is, a namespace's children for a tree, a namespace's summary.
//! A [`Reader`] is a cheap copy of the session's connection, so the full-screen shell can
//! read while the session runs a command — and never needs an HTTP client of its own.

use serde_json::Value;

use crate::engine::commands::explore::{self, Summary};
use crate::engine::identity;
use crate::engine::nspath::NsPath;
use crate::engine::session::Session;
use crate::engine::tree;
use crate::vault::{Client, Method, VaultError};

/// The server's state, from `sys/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The server is sealed.
    pub sealed: bool,
    /// It is a standby (performance or not).
    pub standby: bool,
    /// Its version.
    pub version: String,
}

/// Who the token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its display name.
    pub display_name: String,
    /// The namespace it belongs to, for people.
    pub namespace: String,
}

/// A copy of the session's connection, for background reads.
#[derive(Clone, Debug)]
pub struct Reader {
    client: Client,
}

impl Reader {
    /// Reads through `client`.
    pub fn new(client: Client) -> Reader {
        Reader { client }
    }

    /// The session's connection as it is now (a `login` makes a new one: ask again).
    pub fn of(session: &Session) -> Reader {
        Reader {
            client: session.client().clone(),
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

    /// The server's state from `sys/health` at the root.
    pub async fn health(&self) -> Result<Health, String> {
        let body = identity::health(&self.client)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or(Value::Null);
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(Health {
            sealed: flag("sealed"),
            standby: flag("standby") || flag("performance_standby"),
            version: body
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Who the token is: `lookup-self` in `home`, else in the root.
    pub async fn token(&self, home: &NsPath) -> Result<TokenInfo, String> {
        let mut tries = vec![home.clone()];
        if !home.is_root() {
            tries.push(NsPath::root());
        }
        let mut last = String::new();
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
                    let name = data
                        .get("display_name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    let namespace = data
                        .get("namespace_path")
                        .and_then(Value::as_str)
                        .and_then(|p| NsPath::parse(p).ok())
                        .unwrap_or(ns);
                    return Ok(TokenInfo {
                        display_name: name,
                        namespace: namespace.display(),
                    });
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }

    /// The children of `ns` and whether each is locked, for a tree; the error said short
    /// (a tree row is narrow).
    pub async fn children(&self, ns: &NsPath) -> Result<Vec<(String, bool)>, String> {
        tree::list_children(&self.client, ns)
            .await
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let locked = v.get("locked").and_then(Value::as_bool).unwrap_or(false);
                        (k.clone(), locked)
                    })
                    .collect()
            })
            .map_err(|e| match e {
                VaultError::NamespaceLocked { .. } => "locked".to_string(),
                VaultError::PermissionDenied { .. } => "permission denied".to_string(),
                e => e.to_string(),
            })
    }

    /// What `describe` shows of `ns`, in parts that may each be unreadable.
    pub async fn summary(&self, ns: &NsPath) -> Result<Summary, String> {
        explore::summary(&self.client, ns)
            .await
            .map_err(|e| e.to_string())
    }
}
