//! Typed errors of the Vault client: each keeps what a front end needs to explain it.

use std::fmt;
use std::time::Duration;

use super::method::Method;
use super::url::Unsendable;

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
    /// The server is sealed.
    #[error("the server is sealed: {req} was refused; an operator unseals it with `bao operator unseal` (a key share at a time, until the threshold), then run the command again")]
    Sealed {
        /// The request.
        req: RequestInfo,
    },
    /// A sealable namespace (OpenBao 2.6+) is sealed: the server is up, that namespace
    /// refuses every request until enough of its key shares are entered.
    #[error("{}", sealed_text(.sealed, .req))]
    NamespaceSealed {
        /// The sealed namespace ("a/b/"); empty when the request named its namespace in the
        /// path (the header at the root) and which one is sealed is not known yet.
        sealed: String,
        /// The request.
        req: RequestInfo,
    },
    /// The server has no namespaces at all (Vault Community Edition): `sys/namespaces` is
    /// not a path it knows.
    #[error("this server has no namespaces (Vault Community Edition, or another server without the namespace API): {req} is an unsupported path; only the root namespace / exists")]
    NamespacesUnsupported {
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
    #[error("cannot reach {addr}: {reason}{}", unreachable_hint(.reason))]
    Unreachable {
        /// The server address.
        addr: String,
        /// Why, in words.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("timed out after {} waiting for {req} (the limit is VAULT_CLIENT_TIMEOUT, or timeout in the profile)", human_duration(*.after))]
    Timeout {
        /// How long vnsh waited: the configured limit.
        after: Duration,
        /// The request.
        req: RequestInfo,
    },
    /// The request could not be sent as asked (a dot segment, a control character, a
    /// namespace the header cannot carry): nothing was sent.
    #[error("{req} was not sent: {why}")]
    Unsendable {
        /// The request as asked.
        req: RequestInfo,
        /// Why it cannot be sent.
        why: Unsendable,
    },
    /// The answer is larger than the cap; it was not read further.
    #[error("the answer to {req} is {}, over the cap of {}: it was refused; if it is expected, raise the cap with VNSH_MAX_RESPONSE_BYTES (bytes, or with K, M, G: e.g. 256M)", size.describe(), cap_text(*.limit))]
    TooLarge {
        /// The request.
        req: RequestInfo,
        /// The cap, in bytes.
        limit: u64,
        /// How large the answer is, or how much arrived before it was refused.
        size: AnswerSize,
    },
    /// The server's answer is JSON but not of the shape the API promises.
    #[error("the server's answer to {req} is not what the API promises: {what}")]
    BadShape {
        /// The request.
        req: RequestInfo,
        /// What is wrong, and what was expected.
        what: String,
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
    /// A redirect that vnsh refuses to follow (another host, https to http, or a path
    /// outside the API); nothing was sent there.
    #[error("{req} was redirected to {location}; {}", why.explain())]
    Redirect {
        /// The request.
        req: RequestInfo,
        /// Where the server pointed.
        location: String,
        /// Why it was not followed.
        why: RedirectRefused,
    },
    /// Same-origin redirects that never end.
    #[error("{req} was caught in a redirect loop: after {hops} redirects within the same server it was still redirected (last to {location}); the server or a proxy in front of it keeps redirecting — check VAULT_ADDR and the proxy")]
    RedirectLoop {
        /// The request.
        req: RequestInfo,
        /// The redirects followed.
        hops: usize,
        /// Where the last one pointed.
        location: String,
    },
    /// The answer broke off after the server had begun it (status line received): the
    /// request reached the server, which may have acted on it.
    #[error("the answer to {req} was cut off (status {status} received, then: {reason}); the request reached the server and may have taken effect — check before retrying")]
    CutShort {
        /// The request.
        req: RequestInfo,
        /// The status the server sent.
        status: u16,
        /// What broke the answer off.
        reason: String,
    },
    /// The client could not be built (bad TLS file, bad address).
    #[error("{0}")]
    Config(String),
}

/// Why a redirect was not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectRefused {
    /// To another scheme, host or port: reqwest would forward `X-Vault-Token` there.
    OtherHost,
    /// To the same server but outside `/v1/`.
    OutsideApi,
    /// A redirect status without a usable `Location`.
    NoLocation,
}

impl RedirectRefused {
    fn explain(self) -> &'static str {
        match self {
            RedirectRefused::OtherHost => "vnsh does not send the token to another host — point VAULT_ADDR at that server instead",
            RedirectRefused::OutsideApi => "that is outside the API (/v1/), so vnsh did not follow it — check VAULT_ADDR",
            RedirectRefused::NoLocation => "the redirect has no usable location, so vnsh did not follow it",
        }
    }
}

/// How large a refused answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSize {
    /// The server announced it (`Content-Length`): nothing of it was read.
    Announced(u64),
    /// It was streamed without a length: this much arrived before vnsh stopped.
    AtLeast(u64),
}

impl AnswerSize {
    fn describe(self) -> String {
        match self {
            AnswerSize::Announced(n) => format!("{} ({n} bytes, as announced)", human_bytes(n)),
            AnswerSize::AtLeast(n) => {
                format!(
                    "more than {} ({n} bytes read before vnsh stopped)",
                    human_bytes(n)
                )
            }
        }
    }
}

/// The cap for people: `64 MiB (67108864 bytes)`, or `300 bytes`.
fn cap_text(limit: u64) -> String {
    if limit < 1024 {
        human_bytes(limit)
    } else {
        format!("{} ({limit} bytes)", human_bytes(limit))
    }
}

/// `64 MiB`, `1.5 GiB`, `512 bytes`: a size for people.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() < 0.05 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `500 ms`, `2s`, `1.5s`, `2m`: a duration as it was set, never rounded to zero.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Text from the request or the server, for a message: control characters escaped, so
/// a path or a server's text can never drive the terminal.
pub(crate) fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
            printable(&self.path),
            printable(&display_ns(&self.namespace))
        )
    }
}

impl RequestInfo {
    /// The request `method path` sent in `namespace` ("" for root).
    pub fn new(method: Method, namespace: &str, path: &str) -> RequestInfo {
        RequestInfo {
            method: method.as_str().to_string(),
            path: path.trim_start_matches('/').to_string(),
            namespace: namespace.to_string(),
        }
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

/// The next step after a failed connection. A TLS reason carries its own (which setting to
/// give); any other means nothing answered there: the server is down, or the address is
/// not the server's.
fn unreachable_hint(reason: &str) -> &'static str {
    if reason.starts_with("TLS:") {
        ""
    } else if reason.contains("does not resolve") {
        "; check the host name in VAULT_ADDR (or BAO_ADDR, or the profile's addr)"
    } else {
        "; check that the server is running at that address, and that VAULT_ADDR (or BAO_ADDR, or the profile's addr) names it"
    }
}

/// What a sealed namespace's refusal says: which one, and the command that unseals it.
fn sealed_text(sealed: &str, req: &RequestInfo) -> String {
    if sealed.trim_matches('/').is_empty() {
        return format!("a namespace on the path of {req} is sealed: it was refused; `ns seal-status NAME` tells which, `ns unseal NAME` unseals it");
    }
    format!(
        "namespace {} is sealed: {req} was refused; to unseal it: {}",
        printable(&display_ns(sealed)),
        unseal_hint(sealed)
    )
}

/// The command that unseals `sealed` ("a/b/"): from its parent, a share at a time.
fn unseal_hint(sealed: &str) -> String {
    let t = sealed.trim_matches('/');
    let (parent, name) = t.rsplit_once('/').unwrap_or(("", t));
    format!("`cd /{parent}; ns unseal {name}` (asks for a key share; repeat until the threshold is reached)")
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
                    .map(|l| printable(l.trim().trim_start_matches("* ").trim()))
                    .filter(|l| !l.is_empty()),
            );
        } else if !m.is_empty() {
            out.push(printable(
                &m.split_whitespace().collect::<Vec<_>>().join(" "),
            ));
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
            | VaultError::NamespaceSealed { req, .. }
            | VaultError::NamespacesUnsupported { req }
            | VaultError::Status { req, .. }
            | VaultError::Timeout { req, .. }
            | VaultError::Unsendable { req, .. }
            | VaultError::TooLarge { req, .. }
            | VaultError::BadShape { req, .. }
            | VaultError::NotJson { req, .. }
            | VaultError::Redirect { req, .. }
            | VaultError::RedirectLoop { req, .. }
            | VaultError::CutShort { req, .. } => Some(req),
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
            404 if joined.contains("unsupported path") && is_namespace_api(&req.path) => {
                VaultError::NamespacesUnsupported { req }
            }
            // OpenBao 2.6+: the namespace of the request is the sealed one (below a sealed
            // namespace the server answers "namespace not found").
            // Which namespace is not known when the namespace is in the path (the header
            // at the root), or when the request acts on a namespace (`DELETE
            // sys/namespaces/x` answers so when x is sealed): it is found out by asking
            // (diagnose). A read from the parent is answered, sealed or not.
            503 if joined.contains("namespace is sealed") => VaultError::NamespaceSealed {
                sealed: if sealed_is_the_header(&req) {
                    req.namespace.clone()
                } else {
                    String::new()
                },
                req,
            },
            503 if joined.contains("sealed") => VaultError::Sealed { req },
            _ => VaultError::Status {
                status,
                req,
                messages,
            },
        }
    }
}

/// Whether a "namespace is sealed" answer to `req` means the namespace of its header.
fn sealed_is_the_header(req: &RequestInfo) -> bool {
    let acts_on_a_namespace = req
        .path
        .trim_start_matches('/')
        .starts_with("sys/namespaces/")
        && !matches!(req.method.as_str(), "GET" | "LIST" | "SCAN");
    !req.namespace.trim_matches('/').is_empty() && !acts_on_a_namespace
}

/// Whether `path` is the namespace API itself (`sys/namespaces`, or one namespace of it):
/// a server that calls it an unsupported path has no namespaces. A path below one
/// (`sys/namespaces/a/seal`) being unsupported says only that that feature is missing.
fn is_namespace_api(path: &str) -> bool {
    let path = path.trim_matches('/');
    match path.strip_prefix("sys/namespaces") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .is_some_and(|name| !name.is_empty() && !name.contains('/')),
        None => false,
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

    fn req_at(method: &str, path: &str, namespace: &str) -> RequestInfo {
        RequestInfo {
            method: method.into(),
            path: path.into(),
            namespace: namespace.into(),
        }
    }

    #[test]
    fn a_sealed_namespace_is_named_with_the_command_that_unseals_it() {
        // OpenBao 2.6.2 and 2.7.2: any request in a sealed namespace.
        let e = VaultError::from_status(
            503,
            req_at("LIST", "sys/namespaces", "sealy/"),
            vec!["namespace is sealed".into()],
        );
        assert!(
            matches!(&e, VaultError::NamespaceSealed { sealed, .. } if sealed == "sealy/"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "namespace sealy is sealed: LIST sys/namespaces in namespace sealy was refused; to unseal it: `cd /; ns unseal sealy` (asks for a key share; repeat until the threshold is reached)"
        );
        let nested = VaultError::from_status(
            503,
            req_at("GET", "sys/mounts", "t/x/y/"),
            vec!["namespace is sealed".into()],
        );
        assert!(
            nested.to_string().contains("`cd /t/x; ns unseal y`"),
            "{nested}"
        );
        // The namespace in the path: not known yet which one, and said so.
        let e = VaultError::from_status(
            503,
            req_at("GET", "outer/inner/sys/mounts", ""),
            vec!["namespace is sealed".into()],
        );
        assert!(matches!(&e, VaultError::NamespaceSealed { sealed, .. } if sealed.is_empty()));
        assert!(
            e.to_string()
                .starts_with("a namespace on the path of GET outer/inner/sys/mounts"),
            "{e}"
        );
        // Acting on a sealed namespace from its parent: which one is asked later.
        let e = VaultError::from_status(
            503,
            req_at("DELETE", "sys/namespaces/kid", "a/"),
            vec!["namespace is sealed".into()],
        );
        assert!(matches!(&e, VaultError::NamespaceSealed { sealed, .. } if sealed.is_empty()));
        let e = VaultError::from_status(
            503,
            req_at("GET", "sys/namespaces/kid/seal-status", "a/"),
            vec!["namespace is sealed".into()],
        );
        assert!(matches!(&e, VaultError::NamespaceSealed { sealed, .. } if sealed == "a/"));
        // The whole server sealed is still the server.
        assert!(matches!(
            VaultError::from_status(
                503,
                req_at("GET", "sys/mounts", ""),
                vec!["Vault is sealed".into()]
            ),
            VaultError::Sealed { .. }
        ));
    }

    #[test]
    fn vault_enterprise_locked_answer_is_understood() {
        // Vault Enterprise's documented answer (API locked response): 503, the path
        // without a trailing slash.
        let e = VaultError::from_status(
            503,
            req_at("GET", "secret/data/x", "nsA/child/"),
            vec!["API access to this namespace has been locked by an administrator - \"nsA\" must be unlocked to gain access.".into()],
        );
        assert!(
            matches!(&e, VaultError::NamespaceLocked { locked, .. } if locked == "nsA"),
            "{e:?}"
        );
        assert!(e.to_string().contains("namespace nsA is locked"), "{e}");
        assert!(e.to_string().contains("`cd /; unlock nsA`"), "{e}");
    }

    #[test]
    fn vault_community_has_no_namespace_api() {
        // Vault Community Edition (hashicorp/vault#19668): `sys/namespaces` is an
        // unsupported path, 404, in Go's multierror text.
        let msg = || vec!["1 error occurred:\n\t* unsupported path\n\n".to_string()];
        for (method, path) in [
            ("LIST", "sys/namespaces"),
            ("PUT", "sys/namespaces/ns1"),
            ("GET", "sys/namespaces/ns1"),
        ] {
            let e = VaultError::from_status(404, req_at(method, path, ""), msg());
            assert!(
                matches!(e, VaultError::NamespacesUnsupported { .. }),
                "{method} {path}: {e:?}"
            );
            assert!(
                e.to_string().contains("this server has no namespaces"),
                "{e}"
            );
        }
        // A feature below one namespace that this server lacks is not "no namespaces".
        for path in ["sys/namespaces/ns1/seal", "sys/mounts", "sys/namespacesx"] {
            assert!(
                matches!(
                    VaultError::from_status(404, req_at("GET", path, ""), msg()),
                    VaultError::Status { status: 404, .. }
                ),
                "{path}"
            );
        }
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
    fn durations_and_sizes_say_what_they_are() {
        let cases = [
            (Duration::from_millis(500), "500 ms"),
            (Duration::from_millis(1), "1 ms"),
            (Duration::from_millis(999), "999 ms"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(90), "90s"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
        let e = VaultError::Timeout {
            after: Duration::from_millis(500),
            req: req(),
        };
        assert!(
            e.to_string()
                .starts_with("timed out after 500 ms waiting for GET sys/mounts"),
            "{e}"
        );
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(300_000_000), "286.1 MiB");
        let e = VaultError::TooLarge {
            req: req(),
            limit: 64 << 20,
            size: AnswerSize::Announced(300_000_000),
        };
        assert_eq!(
            e.to_string(),
            "the answer to GET sys/mounts in namespace a/b is 286.1 MiB (300000000 bytes, as announced), over the cap of 64 MiB (67108864 bytes): it was refused; if it is expected, raise the cap with VNSH_MAX_RESPONSE_BYTES (bytes, or with K, M, G: e.g. 256M)"
        );
    }

    #[test]
    fn control_characters_in_a_request_are_escaped_in_messages() {
        let mut r = req();
        r.path = "a\u{1b}]2;owned\u{7}/b".into();
        r.namespace = "x\ny/".into();
        assert_eq!(
            r.to_string(),
            "GET a\\u{1b}]2;owned\\u{7}/b in namespace x\\ny"
        );
        let e = VaultError::from_status(400, req(), vec!["bad \u{1b}[31m".into()]);
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }

    #[test]
    fn request_display_names_namespace() {
        assert_eq!(req().to_string(), "GET sys/mounts in namespace a/b");
        let mut r = req();
        r.namespace = String::new();
        assert_eq!(r.to_string(), "GET sys/mounts in namespace /");
    }
}
