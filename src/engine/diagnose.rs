//! Errors that name the cause. A refused request is often refused for a reason the
//! answer does not say: the token expired, it lacks one capability, a namespace on the
//! way does not exist. Before a failure is reported, the reason is looked up (a request
//! or two, only on failure, bounded in time) and said with the next step.

use std::time::Duration;

use serde_json::{json, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::session::Session;
use crate::engine::tree::{self, Seal};
use crate::vault::{body, Client, Method, RequestInfo, VaultError};

/// How long finding the cause may take before the error is reported as it came.
const DIAGNOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// The error to report for `err`: the same, or one that says why and what to do.
pub async fn explain(session: &Session, err: EngineError) -> EngineError {
    let EngineError::Vault(vault) = err else {
        return err;
    };
    let cause = match &vault {
        VaultError::PermissionDenied { req, .. } => {
            tokio::time::timeout(DIAGNOSE_TIMEOUT, refused(session, req)).await
        }
        VaultError::NamespaceNotFound { req } => {
            tokio::time::timeout(DIAGNOSE_TIMEOUT, missing(session.client(), req)).await
        }
        VaultError::NamespaceSealed { sealed, req } if sealed.is_empty() => {
            tokio::time::timeout(DIAGNOSE_TIMEOUT, sealed_on_path(session.client(), req)).await
        }
        VaultError::Status {
            status: 404,
            messages,
            req,
        } => match unrouted(messages) {
            Some(rest) => {
                let why = no_such_segment(session.client(), req, &rest);
                tokio::time::timeout(DIAGNOSE_TIMEOUT, why)
                    .await
                    .map(|w| w.map(|w| format!("{vault}\nnote: {w}")))
            }
            None => return EngineError::Vault(vault),
        },
        _ => return EngineError::Vault(vault),
    };
    match cause {
        Ok(Some(why)) => EngineError::Other(why),
        _ => EngineError::Vault(vault),
    }
}

/// Whether a 403's messages are the server's "this token is not valid" (an unknown,
/// expired or revoked token) rather than an ACL's refusal (which Vault and OpenBao wrap
/// as "1 error occurred: * permission denied").
pub fn says_bad_token(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        let m = m.trim();
        m == "permission denied" || m.contains("invalid token") || m.contains("token expired")
    }) && !messages.iter().any(|m| m.contains("error occurred"))
}

/// The capability a request needs, by its method.
fn capability(method: &str) -> &'static str {
    match method {
        "GET" => "read",
        "LIST" => "list",
        "SCAN" => "scan",
        "POST" | "PUT" => "create or update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "a capability",
    }
}

/// Why `req` was refused: the token is not valid, or which capability it lacks there.
async fn refused(session: &Session, req: &RequestInfo) -> Option<String> {
    let client = session.client();
    let top = session.top().header();
    match client
        .request(Method::Get, &top, "auth/token/lookup-self", None)
        .await
    {
        Err(VaultError::PermissionDenied { messages, .. }) if says_bad_token(&messages) => {
            return Some(format!(
                "the token is not valid on {} (expired, revoked, or not a token of this server): {req} was refused. `login` gets a new one (or set VAULT_TOKEN)",
                client.addr()
            ));
        }
        _ => {}
    }
    let path = req.path.split('?').next().unwrap_or_default();
    let answer = client
        .request(
            Method::Post,
            &req.namespace,
            "sys/capabilities-self",
            Some(&json!({ "paths": [path] })),
        )
        .await
        .ok()?;
    let data = body::data(answer);
    let caps: Vec<String> = data
        .get(path)
        .or_else(|| data.get("capabilities"))
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let ns = NsPath::parse(&req.namespace).unwrap_or_default();
    let has = if caps.is_empty() || caps == ["deny"] {
        "none".to_string()
    } else {
        caps.join(", ")
    };
    Some(format!(
        "permission denied: {req}: this token may not {} {path} in namespace {ns} (its capabilities there: {has}); ask for a policy that grants it, or use another token",
        capability(&req.method)
    ))
}

/// Which namespace a "namespace is sealed" answer to `req` means: for a request on
/// `sys/namespaces/NAME`, the namespace it was sent in or NAME; otherwise the first prefix
/// of the path (the namespace named in the path) whose seal-status says so.
async fn sealed_on_path(client: &Client, req: &RequestInfo) -> Option<String> {
    let base = NsPath::parse(&req.namespace).ok()?;
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let candidates: Vec<NsPath> = match segments.as_slice() {
        ["sys", "namespaces", name, ..] => {
            let mut c = vec![base.child(name)];
            if !base.is_root() {
                c.insert(0, base.clone());
            }
            c
        }
        _ => {
            let mut at = base;
            segments
                .iter()
                .take(segments.len().saturating_sub(1))
                .map(|seg| {
                    at = at.child(seg);
                    at.clone()
                })
                .collect()
        }
    };
    for at in candidates {
        match tree::seal_of(client, &at).await {
            Ok(Seal::Sealed) => {
                let sealed = VaultError::NamespaceSealed {
                    sealed: at.header(),
                    req: req.clone(),
                };
                // Deleting it: a sealed namespace is deleted by wiping it.
                let wipe = match (segments.as_slice(), at.name()) {
                    (["sys", "namespaces", name], Some(n))
                        if req.method == "DELETE" && *name == n =>
                    {
                        format!("; or `ns delete-sealed {n}` (from its parent) wipes it sealed")
                    }
                    _ => String::new(),
                };
                return Some(format!("{sealed}{wipe}"));
            }
            Ok(_) => continue,
            // Not a namespace (the path went on into a mount), or not allowed to ask.
            Err(_) => return None,
        }
    }
    None
}

/// Which namespace of `req`'s does not exist: the first segment its parent lacks.
/// The part of a path the server found no route for (`no handler for route "X"`).
fn unrouted(messages: &[String]) -> Option<String> {
    messages.iter().find_map(|m| {
        let rest = m.split_once("no handler for route \"")?.1;
        Some(rest.split_once('"')?.0.to_string())
    })
}

/// A path whose first unrouted segment is neither a namespace nor a mount where the
/// server stopped: say so (raw API paths may name child namespaces, `acme/nope/sys/…`,
/// and the server's "no handler for route" does not say which word it could not place).
async fn no_such_segment(client: &Client, req: &RequestInfo, rest: &str) -> Option<String> {
    let path = req.path.split('?').next().unwrap_or_default();
    let consumed = path.strip_suffix(rest)?;
    let first = rest.split('/').find(|s| !s.is_empty())?;
    let base = NsPath::parse(&req.namespace).ok()?;
    let reached = base.join(&NsPath::parse(consumed).ok()?);
    // The server took `consumed` as namespaces: `first` is not a mount there. Is it a
    // namespace (then something else is wrong, and nothing more is said)?
    let children = tree::list_children(client, &reached).await.ok()?;
    if children.contains_key(&format!("{first}/")) {
        return None;
    }
    Some(format!(
        "there is no namespace or mount `{first}` in {reached} (the server found no route for {rest} there); `ls /{}` shows what is there",
        reached.display().trim_start_matches('/')
    ))
}

async fn missing(client: &Client, req: &RequestInfo) -> Option<String> {
    let ns = NsPath::parse(&req.namespace).ok()?;
    for at in ns.ancestors().into_iter().skip(1) {
        let (parent, name) = (at.parent()?, at.name()?.to_string());
        match client
            .request(
                Method::Get,
                &parent.header(),
                &format!("sys/namespaces/{name}"),
                None,
            )
            .await
        {
            Ok(_) => continue,
            // Below a sealed namespace the server says "not found": name the sealed one.
            Err(sealed @ VaultError::NamespaceSealed { .. }) => {
                return Some(format!(
                    "{sealed}; {req} answered \"namespace not found\" because it is below it"
                ));
            }
            Err(VaultError::NotFound { .. }) | Err(VaultError::NamespaceNotFound { .. }) => {
                return Some(format!(
                    "namespace {at} does not exist ({parent} has no namespace {name}), so {req} was refused; `ls` in {parent} shows what is there"
                ));
            }
            // Not allowed to look: say no more than the server did.
            Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_token_is_told_from_a_refused_one() {
        let s = |v: &[&str]| v.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        // OpenBao 2.7: an expired or revoked token.
        assert!(says_bad_token(&s(&["permission denied"])));
        // Vault: newer releases add the reason.
        assert!(says_bad_token(&s(&["permission denied", "invalid token"])));
        // An ACL's refusal of a valid token.
        assert!(!says_bad_token(&s(&[
            "1 error occurred:\n\t* permission denied\n\n"
        ])));
        assert!(!says_bad_token(&s(&[])));
    }
}
