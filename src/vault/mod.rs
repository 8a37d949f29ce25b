//! The thin async Vault client: one kept-alive connection pool, the namespace header,
//! typed errors. It knows nothing of commands or front ends.

pub mod body;
mod config;
mod error;
mod method;
pub mod url;

pub use config::{
    parse_size, token_file_path, Config, TlsConfig, Token, DEFAULT_MAX_RESPONSE_BYTES,
    MAX_RESPONSE_BYTES_VAR, SKIP_VERIFY_WARNING,
};
pub use error::{AnswerSize, RedirectRefused, RequestInfo, VaultError};
pub use method::Method;
pub use url::Unsendable;

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use serde_json::Value;

/// The same-origin redirects followed in a row before vnsh calls it a loop.
const MAX_REDIRECTS: usize = 5;

/// How long a connection may take to open, separately from the request's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One API request: method, namespace, path, query parameters and body. The path is
/// split at `/` and each segment escaped once when the URL is built ([`url::api_url`]);
/// query parameters are given here, never as a `?` in the path.
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    /// The operation.
    pub method: Method,
    /// The `X-Vault-Namespace` value ("a/b/", "" for root).
    pub namespace: &'a str,
    /// The path below `/v1/`.
    pub path: &'a str,
    /// Query parameters (`version=3`); LIST adds `list=true` itself.
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<&'a Value>,
}

impl<'a> ApiRequest<'a> {
    /// `method path` in `namespace`, without query or body.
    pub fn new(method: Method, namespace: &'a str, path: &'a str) -> ApiRequest<'a> {
        ApiRequest {
            method,
            namespace,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    /// With one more query parameter (escaped as a parameter, whatever it holds).
    pub fn query(mut self, key: &str, value: impl ToString) -> ApiRequest<'a> {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// With a JSON body.
    pub fn body(mut self, body: Option<&'a Value>) -> ApiRequest<'a> {
        self.body = body;
        self
    }

    /// The request for error messages.
    pub fn info(&self) -> RequestInfo {
        RequestInfo::new(self.method, self.namespace, self.path)
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
    base: Url,
    token: Option<Token>,
    timeout: Duration,
    max_response_bytes: u64,
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
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        if let Some(name) = config.tls.server_name.as_deref().filter(|n| !n.is_empty()) {
            builder = pin_server_name(builder, &mut base, name)?;
        }
        if base.path_segments_mut().is_err() {
            return Err(VaultError::Config(format!(
                "bad server address {addr:?}: it cannot take an API path"
            )));
        }
        if base.scheme() == "http" {
            // Redirects never leave the scheme, so no TLS root is ever used: reading the
            // system's CA store is start-up time spent for nothing.
            builder = builder.tls_built_in_root_certs(false);
        }
        builder = builder.redirect(same_origin_redirects(base.clone()));
        builder = config.tls.apply(builder)?;
        let http = builder
            .build()
            .map_err(|e| VaultError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            addr,
            base,
            token: config.token.clone(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes.max(1),
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

    /// The largest answer this client reads, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The URL a request would be sent to: the one place URLs are built (see
    /// [`url::api_url`]), exposed so what is sent can be checked without a server.
    pub fn url_for(&self, req: &ApiRequest<'_>) -> Result<Url, VaultError> {
        url::api_url(&self.base, req.method, req.path, &req.query).map_err(|why| {
            VaultError::Unsendable {
                req: req.info(),
                why,
            }
        })
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
        self.send(ApiRequest::new(method, namespace, path).body(body))
            .await
    }

    /// `data.keys` of a LIST at `path` in `namespace`; a 404 is an empty list, an answer
    /// of another shape an error naming the path (see [`body::list_keys`]).
    pub async fn list_keys(&self, namespace: &str, path: &str) -> Result<Vec<String>, VaultError> {
        let req = ApiRequest::new(Method::List, namespace, path);
        match self.send(req.clone()).await {
            Ok(answer) => body::list_keys(answer.as_ref(), &req.info()),
            Err(VaultError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The `data` object of a GET at `path` in `namespace`; an answer without one is an
    /// error naming the path (see [`body::data_object`]).
    pub async fn read_data(
        &self,
        namespace: &str,
        path: &str,
    ) -> Result<serde_json::Map<String, Value>, VaultError> {
        let req = ApiRequest::new(Method::Get, namespace, path);
        let answer = self.send(req.clone()).await?;
        body::data_object(answer, &req.info())
    }

    /// Send one request (see [`ApiRequest`]). The URL and the namespace header are
    /// checked before anything is sent; the answer is read up to the size cap.
    pub async fn send(&self, req: ApiRequest<'_>) -> Result<Option<Value>, VaultError> {
        let (status, bytes, info) = self.exchange(req).await?;
        self.answer(status, &bytes, info)
    }

    /// As [`Client::send`], but a successful answer comes back as its bytes, unparsed: for
    /// an answer of thousands of entries (a SCAN) that the caller reads into a smaller form
    /// than a JSON document. An answer that is an error is one, as with `send`.
    pub async fn send_bytes(&self, req: ApiRequest<'_>) -> Result<Vec<u8>, VaultError> {
        let (status, bytes, info) = self.exchange(req).await?;
        if status.is_success() {
            return Ok(bytes);
        }
        self.answer(status, &bytes, info).map(|_| bytes)
    }

    /// The JSON document of an answer's bytes (`None` when there are none), as
    /// [`Client::send`] reads it.
    pub fn decode(
        &self,
        status: u16,
        bytes: &[u8],
        info: &RequestInfo,
    ) -> Result<Option<Value>, VaultError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => Ok(Some(v)),
            Err(_) if status == 400 && snippet(bytes).contains("HTTPS server") => {
                Err(VaultError::Unreachable {
                    addr: self.addr.clone(),
                    reason: "TLS: the server speaks TLS here: use an https:// address".into(),
                })
            }
            Err(_) => Err(VaultError::NotJson {
                status,
                req: info.clone(),
                snippet: snippet(bytes),
            }),
        }
    }

    /// Send one request and read its answer, whatever its status, up to the size cap.
    async fn exchange(
        &self,
        req: ApiRequest<'_>,
    ) -> Result<(reqwest::StatusCode, Vec<u8>, RequestInfo), VaultError> {
        let info = req.info();
        let url = self.url_for(&req)?;
        let headers = self.headers(req.namespace, &info)?;
        let http_method = match req.method {
            Method::Get | Method::List => reqwest::Method::GET,
            Method::Scan => reqwest::Method::from_bytes(b"SCAN")
                .map_err(|e| VaultError::Config(e.to_string()))?,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(http_method, url)
            .timeout(self.timeout)
            .headers(headers);
        if let Some(body) = req.body {
            let ctype = if req.method == Method::Patch {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            builder = builder
                .header(CONTENT_TYPE, ctype)
                .body(serde_json::to_vec(body).map_err(|e| VaultError::Config(e.to_string()))?);
        }
        let started = Instant::now();
        let mut resp = builder
            .send()
            .await
            .map_err(|e| self.transport_error(e, &info, started))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(self.refused_redirect(&resp, info));
        }
        let cap = self.max_response_bytes;
        if let Some(len) = resp.content_length().filter(|n| *n > cap) {
            return Err(VaultError::TooLarge {
                req: info,
                limit: cap,
                size: AnswerSize::Announced(len),
            });
        }
        // Read as a stream with a running count: an answer over the cap is dropped as
        // soon as it passes it, never held whole. Sized once when the length is announced.
        let mut bytes: Vec<u8> = Vec::with_capacity(
            resp.content_length()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
        );
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            // The server began to answer: the request reached it (and may have acted).
            match self.transport_error(e, &info, started) {
                VaultError::Unreachable { reason, .. } => VaultError::CutShort {
                    req: info.clone(),
                    status: status.as_u16(),
                    reason,
                },
                other => other,
            }
        })? {
            let total = bytes.len() as u64 + chunk.len() as u64;
            if total > cap {
                return Err(VaultError::TooLarge {
                    req: info,
                    limit: cap,
                    size: AnswerSize::AtLeast(total),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes, info))
    }

    /// What an answer means: its JSON document, or the error its status and body say.
    fn answer(
        &self,
        status: reqwest::StatusCode,
        bytes: &[u8],
        info: RequestInfo,
    ) -> Result<Option<Value>, VaultError> {
        let json = self.decode(status.as_u16(), bytes, &info)?;
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

    /// A redirect the policy did not follow: to another host, out of the API, or
    /// without a location. Nothing was sent to where it points.
    fn refused_redirect(&self, resp: &reqwest::Response, info: RequestInfo) -> VaultError {
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok());
        let target = location.and_then(|l| resp.url().join(l).ok());
        let why = match &target {
            None => RedirectRefused::NoLocation,
            Some(t) if !url::same_origin(t, &self.base) => RedirectRefused::OtherHost,
            Some(_) => RedirectRefused::OutsideApi,
        };
        VaultError::Redirect {
            req: info,
            location: error::printable(location.unwrap_or("(no location)")),
            why,
        }
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
        let value = url::namespace_header(namespace).map_err(|why| VaultError::Unsendable {
            req: info.clone(),
            why,
        })?;
        if let Some(value) = value {
            headers.insert("X-Vault-Namespace", value);
        }
        headers.insert("X-Vault-Request", HeaderValue::from_static("true"));
        Ok(headers)
    }

    fn transport_error(
        &self,
        e: reqwest::Error,
        info: &RequestInfo,
        started: Instant,
    ) -> VaultError {
        if e.is_redirect() {
            if let Some(hops) = redirect_loop_hops(&e) {
                return VaultError::RedirectLoop {
                    req: info.clone(),
                    hops,
                    location: e.url().map(|u| u.to_string()).unwrap_or_default(),
                };
            }
        }
        if e.is_timeout() {
            // A connection that never opened hit the connect timeout, unless the
            // request's own (shorter) limit came first.
            if e.is_connect() && started.elapsed() < self.timeout {
                return VaultError::Unreachable {
                    addr: self.addr.clone(),
                    reason: format!(
                        "no connection within {} (connect timeout)",
                        error::human_duration(CONNECT_TIMEOUT)
                    ),
                };
            }
            return VaultError::Timeout {
                after: self.timeout,
                req: info.clone(),
            };
        }
        let chain = error_chain(&e);
        let reason = config::explain_tls(&chain)
            .or_else(|| plain_connect_failure(&e, &chain))
            .unwrap_or(chain);
        VaultError::Unreachable {
            addr: self.addr.clone(),
            reason,
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

/// The error a redirect policy returns when same-origin redirects do not end.
#[derive(Debug)]
struct LoopError(usize);

impl std::fmt::Display for LoopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect loop after {} redirects", self.0)
    }
}

impl std::error::Error for LoopError {}

fn redirect_loop_hops(e: &reqwest::Error) -> Option<usize> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(LoopError(n)) = s.downcast_ref::<LoopError>() {
            return Some(*n);
        }
        source = s.source();
    }
    None
}

/// Follow a redirect only to the same scheme, host and port, inside `/v1/` (a standby
/// pointing at itself), at most [`MAX_REDIRECTS`] in a row (more is a loop); anything
/// else comes back as a 3xx that [`Client::send`] reports, with nothing sent there.
fn same_origin_redirects(base: reqwest::Url) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if !url::inside_api(attempt.url(), &base) {
            return attempt.stop();
        }
        let hops = attempt.previous().len();
        if hops > MAX_REDIRECTS {
            return attempt.error(LoopError(hops - 1));
        }
        attempt.follow()
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

/// A connection that failed for a plain reason, in words instead of the whole chain
/// (which repeats the URL and the layers of the HTTP stack): nothing listens there, or the
/// host name does not resolve. `None` for anything else.
fn plain_connect_failure(e: &reqwest::Error, chain: &str) -> Option<String> {
    if !e.is_connect() {
        return None;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Some("connection refused (nothing is listening on that port)".into());
            }
        }
        source = s.source();
    }
    let lower = chain.to_lowercase();
    lower
        .contains("dns error")
        .then(|| "its host name does not resolve (DNS lookup failed)".to_string())
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
    let mut s: String = text.chars().take(120).collect();
    if text.chars().count() > 120 || bytes.len() > 1024 {
        s.push('…');
    }
    error::printable(&s.replace('\n', " "))
}
