//! The thin async Vault client: one kept-alive connection pool, the namespace header,
//! typed errors. It knows nothing of commands or front ends.

pub mod body;
mod config;
mod error;

pub use config::{token_file_path, Config, TlsConfig, Token, SKIP_VERIFY_WARNING};
pub use error::{RequestInfo, VaultError};

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde_json::Value;

/// The operations of the Vault HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// List the keys under a path (`GET ?list=true`).
    List,
    /// Recursive list (OpenBao only).
    Scan,
    /// Create or update.
    Post,
    /// Create or update.
    Put,
    /// JSON merge patch.
    Patch,
    /// Delete.
    Delete,
}

impl Method {
    /// The name Vault uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
            Method::Scan => "SCAN",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the request changes state on the server.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Method::Post | Method::Put | Method::Patch | Method::Delete
        )
    }
}

/// A connection to one Vault server with one token. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The address as configured: errors name it, the key store is keyed by it.
    addr: String,
    /// Where requests go: `addr`, or with `*_TLS_SERVER_NAME` that name as the host
    /// (pinned to `addr`'s socket addresses), so SNI and verification use the name.
    base: String,
    token: Option<Token>,
    timeout: Duration,
    skip_verify: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("token", &self.token)
            .finish()
    }
}

impl Client {
    /// Build a client from a configuration.
    pub fn new(config: &Config) -> Result<Client, VaultError> {
        let addr = config.addr.trim_end_matches('/').to_string();
        let mut base = reqwest::Url::parse(&addr)
            .map_err(|e| VaultError::Config(format!("bad server address {addr:?}: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("vnsh/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        if let Some(name) = config.tls.server_name.as_deref().filter(|n| !n.is_empty()) {
            builder = pin_server_name(builder, &mut base, name)?;
        }
        builder = builder.redirect(same_origin_redirects(base.clone()));
        builder = config.tls.apply(builder)?;
        let http = builder
            .build()
            .map_err(|e| VaultError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            addr,
            base: base.as_str().trim_end_matches('/').to_string(),
            token: config.token.clone(),
            timeout: config.timeout,
            skip_verify: config.tls.skips_verify(),
        })
    }

    /// Whether this client skips the check of the server's certificate (warn about it).
    pub fn skips_verify(&self) -> bool {
        self.skip_verify
    }

    /// The server address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The token, if any.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// A copy of this client that uses another token and shares the pool.
    pub fn with_token(&self, token: Option<Token>) -> Client {
        Client {
            token,
            ..self.clone()
        }
    }

    /// Send one request. `namespace` is the `X-Vault-Namespace` value ("" for root),
    /// `path` is relative to `/v1/`. Returns the JSON body, or `None` when there is none.
    pub async fn request(
        &self,
        method: Method,
        namespace: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, VaultError> {
        let path = path.trim_start_matches('/');
        let info = RequestInfo {
            method: method.as_str().to_string(),
            path: path.to_string(),
            namespace: namespace.to_string(),
        };
        let url = format!("{}/v1/{}", self.base, path);
        let http_method = match method {
            Method::Get | Method::List => reqwest::Method::GET,
            Method::Scan => reqwest::Method::from_bytes(b"SCAN")
                .map_err(|e| VaultError::Config(e.to_string()))?,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut req = self
            .http
            .request(http_method, &url)
            .timeout(self.timeout)
            .headers(self.headers(namespace, &info)?);
        if method == Method::List {
            req = req.query(&[("list", "true")]);
        }
        if let Some(body) = body {
            let ctype = if method == Method::Patch {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            req = req
                .header(CONTENT_TYPE, ctype)
                .body(serde_json::to_vec(body).map_err(|e| VaultError::Config(e.to_string()))?);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(e, &info))?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(no location)")
                .to_string();
            return Err(VaultError::Redirect {
                req: info,
                location,
            });
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(e, &info))?;
        let json: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => Some(v),
                Err(_) if status.as_u16() == 400 && snippet(&bytes).contains("HTTPS server") => {
                    return Err(VaultError::Unreachable {
                        addr: self.addr.clone(),
                        reason: "TLS: the server speaks TLS here: use an https:// address".into(),
                    })
                }
                Err(_) => {
                    return Err(VaultError::NotJson {
                        status: status.as_u16(),
                        req: info,
                        snippet: snippet(&bytes),
                    })
                }
            }
        };
        if status.is_success() || (status.as_u16() == 404 && json.as_ref().is_some_and(has_data)) {
            return Ok(json);
        }
        let messages = json
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Err(VaultError::from_status(status.as_u16(), info, messages))
    }

    fn headers(&self, namespace: &str, info: &RequestInfo) -> Result<HeaderMap, VaultError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(token.expose()).map_err(|_| {
                VaultError::Config("the token contains characters not allowed in a header".into())
            })?;
            value.set_sensitive(true);
            headers.insert("X-Vault-Token", value);
        }
        if !namespace.is_empty() {
            let value = HeaderValue::from_str(namespace).map_err(|_| {
                VaultError::Config(format!(
                    "namespace {:?} cannot be sent in a header ({})",
                    namespace, info.path
                ))
            })?;
            headers.insert("X-Vault-Namespace", value);
        }
        headers.insert("X-Vault-Request", HeaderValue::from_static("true"));
        Ok(headers)
    }

    fn transport_error(&self, e: reqwest::Error, info: &RequestInfo) -> VaultError {
        if e.is_timeout() {
            return VaultError::Timeout {
                secs: self.timeout.as_secs(),
                req: info.clone(),
            };
        }
        let reason = error_chain(&e);
        VaultError::Unreachable {
            addr: self.addr.clone(),
            reason: config::explain_tls(&reason).unwrap_or(reason),
        }
    }
}

/// `*_TLS_SERVER_NAME`: reqwest has no SNI override, so the name becomes the URL's host
/// (SNI, certificate check and Host header use it) and is resolved to the socket
/// addresses of the configured host. Plain `http://` addresses are left as they are.
fn pin_server_name(
    builder: reqwest::ClientBuilder,
    base: &mut reqwest::Url,
    name: &str,
) -> Result<reqwest::ClientBuilder, VaultError> {
    if base.scheme() != "https" {
        return Ok(builder);
    }
    let port = base.port_or_known_default().unwrap_or(443);
    let Some(host) = base.host_str() else {
        return Err(VaultError::Config(format!("no host in the address {base}")));
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => {
            use std::net::ToSocketAddrs;
            (bare, port)
                .to_socket_addrs()
                .map_err(|e| VaultError::Config(format!("cannot resolve {bare}: {e}")))?
                .collect()
        }
    };
    base.set_host(Some(name)).map_err(|e| {
        VaultError::Config(format!(
            "bad TLS server name {name:?} (VAULT_TLS_SERVER_NAME): {e}"
        ))
    })?;
    Ok(builder.resolve_to_addrs(name, &addrs))
}

/// As the Go client: a 404 whose body still carries data or warnings (a deleted kv-v2
/// version with its metadata) is an answer, not an error.
fn has_data(body: &Value) -> bool {
    body.get("data")
        .and_then(Value::as_object)
        .is_some_and(|d| !d.is_empty())
        || body
            .get("warnings")
            .and_then(Value::as_array)
            .is_some_and(|w| !w.is_empty())
}

/// Follow a redirect only to the same scheme, host and port (a standby pointing at
/// itself); anything else comes back as a 3xx that [`Client::request`] reports.
fn same_origin_redirects(base: reqwest::Url) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let url = attempt.url();
        let same = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        if same && attempt.previous().len() < 3 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        s.push('…');
    }
    s.replace('\n', " ")
}
