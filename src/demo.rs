//! The demo tenant tree that `vnsh --dev` seeds on a throwaway server.

use serde_json::{json, Value};

use crate::engine::commands::{self, lock::Lock, nav::Nav, Command};
use crate::engine::{EngineError, Session};
use crate::vault::{Client, Method, VaultError};

/// The namespaces of the demo, parents before children.
pub const NAMESPACES: &[&str] = &[
    "acme",
    "acme/payments",
    "acme/payments/prod",
    "acme/payments/staging",
    "acme/web",
    "acme/web/prod",
    "acme/web/staging",
    "globex",
    "globex/research",
    "globex/research/dev",
    "initech",
    "initech/legacy",
];

/// The namespace the demo locks (its key is in the key store, so `unlock` works).
pub const LOCKED: &str = "initech/legacy";

async fn send(
    client: &Client,
    ns: &str,
    method: Method,
    path: &str,
    body: Value,
) -> Result<(), VaultError> {
    client
        .request(method, ns, path, Some(&body))
        .await
        .map(|_| ())
}

/// Seed the demo through `session`'s client, then lock [`LOCKED`] through the engine.
pub async fn seed(session: &mut Session) -> Result<(), EngineError> {
    let client = session.client().clone();
    for ns in NAMESPACES {
        let (parent, name) = ns.rsplit_once('/').unwrap_or(("", ns));
        let team = if ns.contains('/') {
            "platform"
        } else {
            "tenant"
        };
        send(
            &client,
            parent,
            Method::Post,
            &format!("sys/namespaces/{name}"),
            json!({ "custom_metadata": { "owner": team, "demo": "true" } }),
        )
        .await?;
    }
    send(
        &client,
        "acme/payments",
        Method::Post,
        "sys/mounts/secret",
        json!({ "type": "kv", "options": { "version": "2" }, "description": "payments secrets" }),
    )
    .await?;
    send(
        &client,
        "acme/payments",
        Method::Put,
        "secret/data/db",
        json!({ "data": { "username": "payments-app", "password": "demo-only-password" } }),
    )
    .await?;
    send(
        &client,
        "acme/payments",
        Method::Post,
        "sys/mounts/legacy-kv",
        json!({ "type": "kv", "options": { "version": "1" }, "description": "old v1 store" }),
    )
    .await?;
    send(
        &client,
        "acme/payments",
        Method::Put,
        "legacy-kv/api",
        json!({ "endpoint": "https://payments.example" }),
    )
    .await?;
    send(
        &client,
        "globex",
        Method::Post,
        "sys/auth/userpass",
        json!({ "type": "userpass" }),
    )
    .await?;
    send(
        &client,
        "globex",
        Method::Put,
        "sys/policies/acl/researcher",
        json!({ "policy": "path \"research/*\" { capabilities = [\"read\", \"list\"] }" }),
    )
    .await?;
    send(
        &client,
        "globex",
        Method::Put,
        "auth/userpass/users/alice",
        json!({ "password": "demo-only-password", "token_policies": "researcher" }),
    )
    .await?;
    let (parent, name) = LOCKED.rsplit_once('/').unwrap_or(("", LOCKED));
    let saved_cwd = session.cwd().clone();
    let lock = Command::Lock(Lock::Lock(vec![name.to_string()]));
    let cd = |to: String| Command::Nav(Nav::Cd(Some(to)));
    commands::run_unasked(session, &cd(format!("/{parent}")), "cd").await?;
    // The demo's own lock is part of the seed `--dev` was asked for: no question.
    let locked = match commands::prepare(session, &lock, &format!("lock {name}"), true).await {
        Ok(mut prepared) => {
            prepared.confirm();
            commands::execute(session, prepared).await
        }
        Err(e) => Err(e),
    };
    let back = format!("/{}", saved_cwd.display().trim_start_matches('/'));
    commands::run_unasked(session, &cd(back), "cd").await?;
    locked.map(|_| ())
}
