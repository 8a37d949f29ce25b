//! A fault-injecting HTTP/1.1 proxy on loopback, in front of a real server, and a catcher
//! that must receive nothing. These are network faults, not a mock: every request the
//! proxy forwards reaches the real server, and the server's answer is what it sends back
//! unless a rule says otherwise.
//!
//! Plain tokio TCP with just enough HTTP/1.1 for the Vault API (Content-Length and chunked
//! bodies, keep-alive towards vnsh, one fresh connection per forwarded request). Rules
//! match on the method as Vault names it (a `GET ?list=true` is `LIST`) and on a fragment
//! of the path; they can be changed while vnsh runs, and may apply a limited number of
//! times. Every request is recorded, with whether it reached the server.

use std::io::Read;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The most header bytes the proxy reads from either side before giving up.
const MAX_HEAD: usize = 1 << 20;
/// The size of one write of a generated (huge) body.
const CHUNK: usize = 64 * 1024;

/// What the proxy does with a request that a rule matched.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Pass it to the server and its answer back (what happens without a rule).
    Forward,
    /// Answer with this status, content type and body; nothing reaches the server.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The Content-Type header.
        content_type: String,
        /// The body, byte for byte.
        body: Vec<u8>,
    },
    /// Forward, then send the answer's head (its full Content-Length) and only `keep`
    /// bytes of its body, and close: the answer is cut off in transit.
    Truncate {
        /// How many body bytes get through.
        keep: usize,
    },
    /// Read the whole request, then reset the connection: nothing reaches the server.
    ResetBeforeForward,
    /// Forward the request (the server acts on it), read its whole answer, then reset the
    /// connection: the answer never reaches vnsh.
    ResetAfterForward,
    /// Wait `before`, forward, wait `after`, then answer. The server acts on the request
    /// after `before` even when vnsh has given up meanwhile.
    Delay {
        /// The wait before the request is forwarded.
        before: Duration,
        /// The wait between the server's answer and the answer to vnsh.
        after: Duration,
    },
    /// Answer with a redirect to `location`; nothing reaches the server.
    Redirect {
        /// 301, 302, 307 or 308.
        code: u16,
        /// The Location header.
        location: String,
    },
    /// A 200 JSON answer of `bytes` bytes (`{"data":{"value":"aaa…"}}`), generated while
    /// it is sent; with a Content-Length, or chunked with none. Nothing reaches the server.
    Huge {
        /// The body's size.
        bytes: u64,
        /// Chunked transfer encoding instead of a Content-Length.
        chunked: bool,
    },
    /// Send these bytes as the whole answer (malformed HTTP, say), then close.
    Raw(Vec<u8>),
}

impl Fault {
    /// A status with a JSON body.
    pub fn json(code: u16, body: &str) -> Fault {
        Fault::Status {
            code,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A status with an HTML body (a load balancer's or a captive portal's page).
    pub fn html(code: u16, body: &str) -> Fault {
        Fault::Status {
            code,
            content_type: "text/html; charset=utf-8".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A short name for the record of what happened.
    fn name(&self) -> &'static str {
        match self {
            Fault::Forward => "forward",
            Fault::Status { .. } => "status",
            Fault::Truncate { .. } => "truncate",
            Fault::ResetBeforeForward => "reset-before",
            Fault::ResetAfterForward => "reset-after",
            Fault::Delay { .. } => "delay",
            Fault::Redirect { .. } => "redirect",
            Fault::Huge { .. } => "huge",
            Fault::Raw(_) => "raw",
        }
    }

    /// Whether the request reaches the server under this fault.
    fn forwards(&self) -> bool {
        matches!(
            self,
            Fault::Forward
                | Fault::Truncate { .. }
                | Fault::ResetAfterForward
                | Fault::Delay { .. }
        )
    }
}

/// Which requests a fault applies to, and how often.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The method as Vault names it (`GET`, `LIST`, `POST`, …); `None` for any.
    pub method: Option<String>,
    /// A fragment the request path (below `/v1/`, query excluded) must contain.
    pub path: String,
    /// What to do.
    pub fault: Fault,
    /// How many more requests it applies to; `None` for every one.
    pub times: Option<usize>,
}

impl Rule {
    /// `fault` for every `method` request whose path contains `path` (`"*"`: any method).
    pub fn on(method: &str, path: &str, fault: Fault) -> Rule {
        Rule {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            path: path.to_string(),
            fault,
            times: None,
        }
    }

    /// Only for the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times != Some(0)
            && self.method.as_deref().is_none_or(|m| m == method)
            && path.contains(&self.path)
    }
}

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method as Vault names it (`LIST` for `GET ?list=true`).
    pub method: String,
    /// The path below `/v1/` (the whole target when it is not below `/v1/`), no query.
    pub path: String,
    /// The request target exactly as received (`/v1/…?…`).
    pub target: String,
    /// The X-Vault-Namespace header ("" when absent).
    pub namespace: String,
    /// The name of the fault applied (`forward` when none).
    pub fault: &'static str,
    /// Whether it was sent on to the server.
    pub forwarded: bool,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

impl State {
    /// The fault for this request (the first matching rule, which is used up by one).
    fn take(&mut self, method: &str, path: &str) -> Fault {
        match self.rules.iter_mut().find(|r| r.matches(method, path)) {
            Some(rule) => {
                if let Some(n) = rule.times.as_mut() {
                    *n -= 1;
                }
                rule.fault.clone()
            }
            None => Fault::Forward,
        }
    }
}

/// The proxy: listens on a loopback port, forwards to `upstream`. Stopped when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    rt: Option<tokio::runtime::Runtime>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("proxy runtime")
}

impl Proxy {
    /// A proxy in front of `upstream` (`http://127.0.0.1:PORT`, as [`vnsh::devserver`] gives).
    pub fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("the proxy needs http://IP:PORT, not {upstream}: {e}"));
        let rt = runtime();
        let std_listener = StdListener::bind("127.0.0.1:0").expect("bind the proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        rt.spawn(async move {
            let listener = TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let _ = conn.set_nodelay(true);
                tokio::spawn(serve(conn, upstream, shared.clone()));
            }
        });
        Proxy {
            addr,
            state,
            rt: Some(rt),
        }
    }

    /// The address to give vnsh: `http://127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A URL on the proxy itself (`/v1/…`), for same-origin redirects.
    pub fn url(&self, target: &str) -> String {
        format!("http://{}{}", self.addr, target)
    }

    /// Add a rule after the ones already there (the first matching rule wins).
    pub fn add(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Drop every rule: everything is forwarded again.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Forget what was received (the rules stay).
    pub fn forget(&self) {
        self.lock().seen.clear();
    }

    /// How many requests of `method` (`"*"`: any) with `path` in their path were received.
    pub fn received(&self, method: &str, path: &str) -> usize {
        self.count(method, path, false)
    }

    /// How many requests of `method` (`"*"`: any) with `path` in their path reached the server.
    pub fn forwarded(&self, method: &str, path: &str) -> usize {
        self.count(method, path, true)
    }

    fn count(&self, method: &str, path: &str, forwarded_only: bool) -> usize {
        self.lock()
            .seen
            .iter()
            .filter(|s| method == "*" || s.method.eq_ignore_ascii_case(method))
            .filter(|s| s.path.contains(path))
            .filter(|s| !forwarded_only || s.forwarded)
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A request as read from vnsh.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Method and path as Vault names them.
    fn vault_view(&self) -> (String, String) {
        let (path, query) = self
            .target
            .split_once('?')
            .unwrap_or((self.target.as_str(), ""));
        let list = query.split('&').any(|q| q == "list=true");
        let method = if self.method == "GET" && list {
            "LIST".to_string()
        } else {
            self.method.clone()
        };
        let path = path.strip_prefix("/v1/").unwrap_or(path).to_string();
        (method, path)
    }
}

/// An answer as read from the server.
struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Headers that describe one hop's framing, replaced on the next hop.
fn is_hop_header(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "proxy-connection",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Serve one connection from vnsh: requests one after the other (keep-alive).
async fn serve(mut conn: TcpStream, upstream: SocketAddr, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        let req = match read_request(&mut conn, &mut buf).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        let (method, path) = req.vault_view();
        let fault = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let fault = st.take(&method, &path);
            st.seen.push(Seen {
                method,
                path,
                target: req.target.clone(),
                namespace: req.header("X-Vault-Namespace").unwrap_or("").to_string(),
                fault: fault.name(),
                forwarded: fault.forwards(),
            });
            fault
        };
        let close = req
            .header("Connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        match act(&mut conn, upstream, &req, fault).await {
            Ok(Next::Keep) if !close => {}
            Ok(Next::Reset) => {
                reset(&conn);
                return;
            }
            _ => {
                let _ = conn.shutdown().await;
                return;
            }
        }
    }
}

/// What becomes of the connection to vnsh after an answer.
enum Next {
    /// Kept for the next request.
    Keep,
    /// Closed cleanly (FIN).
    Close,
    /// Reset (RST): the peer sees "connection reset".
    Reset,
}

/// Apply one fault to one request.
async fn act(
    conn: &mut TcpStream,
    upstream: SocketAddr,
    req: &Request,
    fault: Fault,
) -> std::io::Result<Next> {
    match fault {
        Fault::Forward => {
            let resp = forward(upstream, req).await?;
            write_response(conn, &resp, None).await?;
            Ok(Next::Keep)
        }
        Fault::Delay { before, after } => {
            tokio::time::sleep(before).await;
            let resp = forward(upstream, req).await?;
            tokio::time::sleep(after).await;
            write_response(conn, &resp, None).await?;
            Ok(Next::Keep)
        }
        Fault::Truncate { keep } => {
            let resp = forward(upstream, req).await?;
            write_response(conn, &resp, Some(keep)).await?;
            Ok(Next::Close)
        }
        Fault::ResetBeforeForward => Ok(Next::Reset),
        Fault::ResetAfterForward => {
            let _answer = forward(upstream, req).await?;
            Ok(Next::Reset)
        }
        Fault::Status {
            code,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {code} Injected\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(&body).await?;
            Ok(Next::Keep)
        }
        Fault::Redirect { code, location } => {
            let head = format!(
                "HTTP/1.1 {code} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            );
            conn.write_all(head.as_bytes()).await?;
            Ok(Next::Keep)
        }
        Fault::Huge { bytes, chunked } => {
            send_huge(conn, bytes, chunked).await?;
            Ok(Next::Keep)
        }
        Fault::Raw(bytes) => {
            conn.write_all(&bytes).await?;
            Ok(Next::Close)
        }
    }
}

/// Make the coming close of `conn` a TCP reset (SO_LINGER 0), not a clean FIN.
fn reset(conn: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a properly sized `linger` value.
    unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// The body of a generated answer: `{"data":{"value":"` + `a`s + `"}}`, `bytes` long in all.
async fn send_huge(conn: &mut TcpStream, bytes: u64, chunked: bool) -> std::io::Result<()> {
    let prefix: &[u8] = br#"{"data":{"value":""#;
    let suffix: &[u8] = br#""}}"#;
    let frame = (prefix.len() + suffix.len()) as u64;
    let head = if chunked {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_string()
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            bytes.max(frame)
        )
    };
    conn.write_all(head.as_bytes()).await?;
    write_piece(conn, chunked, prefix).await?;
    let block = vec![b'a'; CHUNK];
    let mut left = bytes.saturating_sub(frame);
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        write_piece(conn, chunked, &block[..n]).await?;
        left -= n as u64;
    }
    write_piece(conn, chunked, suffix).await?;
    if chunked {
        conn.write_all(b"0\r\n\r\n").await?;
    }
    conn.flush().await
}

/// One piece of a body, framed as a chunk when `chunked`.
async fn write_piece(conn: &mut TcpStream, chunked: bool, piece: &[u8]) -> std::io::Result<()> {
    if chunked {
        conn.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await?;
        conn.write_all(piece).await?;
        conn.write_all(b"\r\n").await
    } else {
        conn.write_all(piece).await
    }
}

/// Send the request to the server on a fresh connection and read its whole answer.
async fn forward(upstream: SocketAddr, req: &Request) -> std::io::Result<Response> {
    let mut up = TcpStream::connect(upstream).await?;
    up.set_nodelay(true)?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in req.headers.iter().filter(|(k, _)| !is_hop_header(k)) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    up.write_all(head.as_bytes()).await?;
    up.write_all(&req.body).await?;
    read_response(&mut up, &req.method).await
}

/// Send the server's answer to vnsh with a Content-Length; `keep`: only that much body, then stop.
async fn write_response(
    conn: &mut TcpStream,
    resp: &Response,
    keep: Option<usize>,
) -> std::io::Result<()> {
    let mut head = format!("{}\r\n", resp.status_line);
    for (k, v) in resp.headers.iter().filter(|(k, _)| !is_hop_header(k)) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", resp.body.len()));
    conn.write_all(head.as_bytes()).await?;
    let body = match keep {
        Some(n) => &resp.body[..n.min(resp.body.len())],
        None => &resp.body[..],
    };
    conn.write_all(body).await?;
    conn.flush().await
}

/// Read more bytes into `buf`; false at EOF.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Read up to the end of a head (`\r\n\r\n`); returns the head's lines, leaves the rest in `buf`.
async fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<String>>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Ok(Some(head.split("\r\n").map(str::to_string).collect()));
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("head too long"));
        }
        if !fill(stream, buf).await? {
            return Ok(None);
        }
    }
}

fn parse_headers(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Read a body framed by `headers` (Content-Length or chunked); `to_eof` when neither.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    headers: &[(String, String)],
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let chunked = header(headers, "Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                if !fill(stream, buf).await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                if !fill(stream, buf).await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                // Trailers are not used by the Vault API; the blank line was just consumed.
                return Ok(body);
            }
        }
    }
    match header(headers, "Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        Some(len) => {
            while buf.len() < len {
                if !fill(stream, buf).await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            Ok(buf.drain(..len).collect())
        }
        None if to_eof => {
            while fill(stream, buf).await? {}
            Ok(std::mem::take(buf))
        }
        None => Ok(Vec::new()),
    }
}

/// One request from vnsh; `None` when the connection ends between requests.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let Some(lines) = read_head(stream, buf).await? else {
        return Ok(None);
    };
    let mut first = lines[0].split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers = parse_headers(&lines[1..]);
    let body = read_body(stream, buf, &headers, false).await?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

/// The server's whole answer (the connection is `Connection: close`).
async fn read_response(stream: &mut TcpStream, method: &str) -> std::io::Result<Response> {
    let mut buf = Vec::new();
    let lines = read_head(stream, &mut buf)
        .await?
        .ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let status_line = lines[0].clone();
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = parse_headers(&lines[1..]);
    let body = if method == "HEAD" || code == 204 || code == 304 || code < 200 {
        Vec::new()
    } else {
        read_body(stream, &mut buf, &headers, true).await?
    };
    Ok(Response {
        status_line,
        headers,
        body,
    })
}

/// A listener that must receive nothing: it counts connections and bytes. Stopped when dropped.
pub struct Catcher {
    addr: SocketAddr,
    got: Arc<Mutex<(usize, usize)>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Catcher {
    /// Listen on a free loopback port.
    pub fn start() -> Catcher {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind the catcher");
        let addr = listener.local_addr().expect("catcher address");
        listener.set_nonblocking(true).expect("nonblocking");
        let got = Arc::new(Mutex::new((0usize, 0usize)));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (g, s) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        g.lock().unwrap_or_else(|p| p.into_inner()).0 += 1;
                        let g = g.clone();
                        std::thread::spawn(move || {
                            let _ = conn.set_nonblocking(false);
                            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                            let mut chunk = [0u8; 4096];
                            while let Ok(n @ 1..) = conn.read(&mut chunk) {
                                g.lock().unwrap_or_else(|p| p.into_inner()).1 += n;
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Catcher { addr, got, stop }
    }

    /// A URL on the catcher (`/v1/…`).
    pub fn url(&self, target: &str) -> String {
        format!("http://{}{}", self.addr, target)
    }

    /// (connections accepted, bytes received) so far.
    pub fn received(&self) -> (usize, usize) {
        *self.got.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
