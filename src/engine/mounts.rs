//! A namespace's secrets engines and auth methods in one request:
//! `sys/internal/ui/mounts` answers with both (`data.secret`, `data.auth`), for every token,
//! listing what that token may use. Where it is refused, `sys/mounts` and `sys/auth`
//! (two requests, and they need an admin's read). Every walk over many namespaces (tree
//! --mounts, find, completion) reads mounts through here: one request per namespace.

use serde_json::{Map, Value};

use crate::engine::nspath::NsPath;
use crate::vault::{body, Client, Method, VaultError};

/// The mounts of one namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Secrets engines by path (`secret/`).
    pub secret: Map<String, Value>,
    /// Auth methods by path (`userpass/`, without `auth/`).
    pub auth: Map<String, Value>,
}

impl Table {
    /// Every mount path, auth methods prefixed `auth/`.
    pub fn paths(&self) -> Vec<String> {
        self.secret
            .keys()
            .cloned()
            .chain(self.auth.keys().map(|k| format!("auth/{k}")))
            .collect()
    }
}

/// The mounts of `ns`, in one request when the server allows it.
pub async fn of(client: &Client, ns: &NsPath) -> Result<Table, VaultError> {
    let header = ns.header();
    match client
        .request(Method::Get, &header, "sys/internal/ui/mounts", None)
        .await
    {
        Ok(answer) => {
            let data = answer.as_ref().and_then(|b| b.get("data"));
            let part = |k: &str| body::mounts(data.and_then(|d| d.get(k)));
            Ok(Table {
                secret: part("secret"),
                auth: part("auth"),
            })
        }
        // A locked, missing or sealed namespace, an unreachable server: the real cause.
        Err(e @ VaultError::NamespaceLocked { .. })
        | Err(e @ VaultError::NamespaceNotFound { .. })
        | Err(e @ VaultError::Sealed { .. })
        | Err(e @ VaultError::Unreachable { .. })
        | Err(e @ VaultError::Timeout { .. }) => Err(e),
        Err(_) => {
            let (secrets, auths) = tokio::join!(
                client.request(Method::Get, &header, "sys/mounts", None),
                client.request(Method::Get, &header, "sys/auth", None)
            );
            Ok(Table {
                secret: body::mounts(secrets?.as_ref()),
                auth: auths.map(|a| body::mounts(a.as_ref())).unwrap_or_default(),
            })
        }
    }
}
