//! Typed errors of the Vault client: each keeps what a front end needs to explain it.

use std::fmt;

/// What went wrong talking to the server, with the request's method, path and namespace.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// 403: the token may not do this here.
    #[error("permission denied: {req}{}", denied_detail(.messages))]
    PermissionDenied {
        /// The request that was refused.
        req: RequestInfo,
        /// The server's error messages.
        messages: Vec<String>,
    },
    /// 404 with no message: nothing at this path.
    #[error("no value found at {req}")]
    NotFound {
        /// The request.
        req: RequestInfo,
    },
    /// The namespace in the header (or named in the path) does not exist.
    #[error("namespace not found: {req}")]
    NamespaceNotFound {
        /// The request.
        req: RequestInfo,
    },
    /// The API of a namespace (the request's or an ancestor's) is locked.
    #[error("namespace {} is locked: {req} was refused; to unlock it: {}", display_ns(.locked), unlock_hint(.locked))]
    NamespaceLocked {
        /// The locked namespace, as the server names it ("a/b/").
        locked: String,
        /// The request.
        req: RequestInfo,
    },
    /// The server (or the namespace) is sealed.
    #[error("the server is sealed: {req}")]
    Sealed {
        /// The request.
        req: RequestInfo,
    },
    /// Any other error status.
    #[error("server error {status}: {req}{}", detail(.messages))]
    Status {
        /// HTTP status code.
        status: u16,
        /// The request.
        req: RequestInfo,
        /// The server's error messages.
        messages: Vec<String>,
    },
    /// No connection could be made.
    #[error("cannot reach {addr}: {reason}")]
    Unreachable {
        /// The server address.
        addr: String,
        /// Why, in words.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("timed out after {secs}s waiting for {req}")]
    Timeout {
        /// Seconds waited.
        secs: u64,
        /// The request.
        req: RequestInfo,
    },
    /// The answer was not the JSON the API promises.
    #[error("the server's answer to {req} is not JSON (status {status}): {snippet}")]
    NotJson {
        /// HTTP status code.
        status: u16,
        /// The request.
        req: RequestInfo,
        /// The start of the body.
        snippet: String,
    },
    /// A redirect that vnsh refuses to follow (another host, or https to http).
    #[error("{req} was redirected to {location}; vnsh does not send the token to another host — point VAULT_ADDR at that server instead")]
    Redirect {
        /// The request.
        req: RequestInfo,
        /// Where the server pointed.
        location: String,
    },
    /// The client could not be built (bad TLS file, bad address).
    #[error("{0}")]
    Config(String),
}

/// The method, path and namespace of a request, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// HTTP method as Vault names it (GET, LIST, SCAN, …).
    pub method: String,
    /// The request path, without `/v1/`.
    pub path: String,
    /// The namespace header, "" for root.
    pub namespace: String,
}

impl fmt::Display for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} in namespace {}",
            self.method,
            self.path,
            display_ns(&self.namespace)
        )
    }
}

fn display_ns(ns: &str) -> String {
    let t = ns.trim_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

/// The commands that unlock `locked` ("a/b/"): from its parent, with the saved key.
fn unlock_hint(locked: &str) -> String {
    let t = locked.trim_matches('/');
    match t.rsplit_once('/') {
        Some((parent, name)) => format!(
            "`cd /{parent}; unlock {name}` (uses the saved key; or --key KEY, or a sudo token)"
        ),
        None if t.is_empty() => "`unlock` in the root namespace with a sudo token".to_string(),
        None => format!("`cd /; unlock {t}` (uses the saved key; or --key KEY, or a sudo token)"),
    }
}

fn detail(messages: &[String]) -> String {
    let flat = flatten(messages);
    if flat.is_empty() {
        String::new()
    } else {
        format!(" ({})", flat.join("; "))
    }
}

/// As [`detail`], less a bare "permission denied" that the error already says.
fn denied_detail(messages: &[String]) -> String {
    let rest: Vec<String> = flatten(messages)
        .into_iter()
        .filter(|m| !m.eq_ignore_ascii_case("permission denied"))
        .collect();
    detail(&rest)
}

/// The server's messages on one line each: Go's multierror text ("1 error occurred:\n\t*
/// permission denied\n\n") becomes its items.
fn flatten(messages: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for m in messages {
        let m = m.trim();
        let first = m.lines().next().unwrap_or_default();
        let is_multi = first.ends_with("occurred:")
            && first
                .split_whitespace()
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok());
        if is_multi {
            out.extend(
                m.lines()
                    .skip(1)
                    .map(|l| l.trim().trim_start_matches("* ").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        } else if !m.is_empty() {
            out.push(m.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    out
}

impl VaultError {
    /// The server's messages, or this error's text, for `{"errors":[…]}` output.
    pub fn messages(&self) -> Vec<String> {
        vec![self.to_string()]
    }

    /// The request this error is about, when there was one.
    pub fn request(&self) -> Option<&RequestInfo> {
        match self {
            VaultError::PermissionDenied { req, .. }
            | VaultError::NotFound { req }
            | VaultError::NamespaceNotFound { req }
            | VaultError::NamespaceLocked { req, .. }
            | VaultError::Sealed { req }
            | VaultError::Status { req, .. }
            | VaultError::Timeout { req, .. }
            | VaultError::NotJson { req, .. }
            | VaultError::Redirect { req, .. } => Some(req),
            VaultError::Unreachable { .. } | VaultError::Config(_) => None,
        }
    }

    /// Classify an error status and its `errors` list.
    pub(crate) fn from_status(status: u16, req: RequestInfo, messages: Vec<String>) -> VaultError {
        let joined = messages.join(" ").to_lowercase();
        if let Some(locked) = messages.iter().find_map(|m| parse_locked(m)) {
            return VaultError::NamespaceLocked { locked, req };
        }
        if joined.contains("namespace not found") || joined.contains("no namespace") {
            return VaultError::NamespaceNotFound { req };
        }
        match status {
            403 => VaultError::PermissionDenied { req, messages },
            404 if messages.is_empty() => VaultError::NotFound { req },
            503 if joined.contains("sealed") => VaultError::Sealed { req },
            _ => VaultError::Status {
                status,
                req,
                messages,
            },
        }
    }
}

/// OpenBao says: `API access to this namespace has been locked by an administrator -
/// "a/b/" must be unlocked to gain access.`; return `a/b/`.
fn parse_locked(message: &str) -> Option<String> {
    if !message.contains("has been locked") {
        return None;
    }
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(message[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> RequestInfo {
        RequestInfo {
            method: "GET".into(),
            path: "sys/mounts".into(),
            namespace: "a/b/".into(),
        }
    }

    #[test]
    fn classifies_statuses() {
        let locked = VaultError::from_status(
            503,
            req(),
            vec!["API access to this namespace has been locked by an administrator - \"a/\" must be unlocked to gain access.".into()],
        );
        assert!(matches!(&locked, VaultError::NamespaceLocked { locked, .. } if locked == "a/"));
        assert!(locked.to_string().contains("namespace a is locked"));
        assert!(locked.to_string().contains("`cd /; unlock a`"));
        assert_eq!(
            unlock_hint("t/x/y/"),
            "`cd /t/x; unlock y` (uses the saved key; or --key KEY, or a sudo token)"
        );
        assert!(matches!(
            VaultError::from_status(404, req(), vec!["namespace not found".into()]),
            VaultError::NamespaceNotFound { .. }
        ));
        assert!(matches!(
            VaultError::from_status(404, req(), vec![]),
            VaultError::NotFound { .. }
        ));
        assert!(matches!(
            VaultError::from_status(403, req(), vec!["permission denied".into()]),
            VaultError::PermissionDenied { .. }
        ));
        assert!(matches!(
            VaultError::from_status(503, req(), vec!["Vault is sealed".into()]),
            VaultError::Sealed { .. }
        ));
        assert!(matches!(
            VaultError::from_status(400, req(), vec!["bad".into()]),
            VaultError::Status { status: 400, .. }
        ));
    }

    #[test]
    fn go_multierror_text_is_one_line() {
        let e = VaultError::from_status(
            403,
            req(),
            vec!["1 error occurred:\n\t* permission denied\n\n".into()],
        );
        assert_eq!(
            e.to_string(),
            "permission denied: GET sys/mounts in namespace a/b"
        );
        let e = VaultError::from_status(
            400,
            req(),
            vec!["2 errors occurred:\n\t* one\n\t* two\n\n".into()],
        );
        assert_eq!(
            e.to_string(),
            "server error 400: GET sys/mounts in namespace a/b (one; two)"
        );
    }

    #[test]
    fn request_display_names_namespace() {
        assert_eq!(req().to_string(), "GET sys/mounts in namespace a/b");
        let mut r = req();
        r.namespace = String::new();
        assert_eq!(r.to_string(), "GET sys/mounts in namespace /");
    }
}
