//! Every request goes where it says: names and paths with `# ? %`, dot segments, control
//! characters and non-ASCII, against a real OpenBao dev server, driving the real `vnsh`
//! binary. A small proxy on loopback in front of the server records what reaches it (the
//! request line and the namespace header) and injects network faults (delays, redirects,
//! huge answers); a catcher on another port proves that nothing was sent there.
mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use common::{ok, stderr, Api, Env};

// ---------------------------------------------------------------------------------------
// The proxy and the catcher
// ---------------------------------------------------------------------------------------

/// One request as it reached the proxy.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request target exactly as sent (`/v1/sys/namespaces/a%23b`).
    target: String,
    /// The raw `X-Vault-Namespace` bytes, if the header was sent.
    namespace: Option<Vec<u8>>,
}

impl Seen {
    fn ns(&self) -> String {
        String::from_utf8_lossy(self.namespace.as_deref().unwrap_or_default()).into_owned()
    }
}

/// What the proxy does with the requests whose target contains `matching` (all when empty).
#[derive(Debug, Clone)]
enum Fault {
    /// Wait this long before forwarding.
    Delay(Duration),
    /// Answer `307` to the very same URL, for ever.
    RedirectToSelf,
    /// Answer `307` to this origin (`http://127.0.0.1:PORT`), same path.
    RedirectTo(String),
    /// Answer `200` with a JSON body of this many bytes, announced or chunked.
    Huge { bytes: u64, announced: bool },
}

struct Proxy {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    fault: Arc<Mutex<Option<(String, Fault)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fault = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, fault2, stop2) = (seen.clone(), fault.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (seen, fault, upstream) =
                            (seen2.clone(), fault2.clone(), upstream.clone());
                        std::thread::spawn(move || serve(conn, &upstream, &seen, &fault));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => return,
                }
            }
        });
        Proxy {
            addr,
            seen,
            fault,
            stop,
            thread: Some(thread),
        }
    }

    /// Apply `fault` to the requests whose target contains `matching` ("" for all).
    fn inject(&self, matching: &str, fault: Fault) {
        *self.fault.lock().unwrap() = Some((matching.to_string(), fault));
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Read one request head (and its body) from `conn`.
fn read_request(conn: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = data[..end].to_vec();
    let mut body = data[end..].to_vec();
    let len = header(&head, "content-length")
        .and_then(|v| String::from_utf8_lossy(&v).trim().parse::<usize>().ok())
        .unwrap_or(0);
    while body.len() < len {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some((head, body))
}

/// The raw value of header `name` (lowercase) in a request head.
fn header(head: &[u8], name: &str) -> Option<Vec<u8>> {
    head.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|b| *b == b':')?;
        let (k, v) = line.split_at(colon);
        String::from_utf8_lossy(k)
            .eq_ignore_ascii_case(name)
            .then(|| v[1..].trim_ascii().to_vec())
    })
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    seen: &Mutex<Vec<Seen>>,
    fault: &Mutex<Option<(String, Fault)>>,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, body)) = read_request(&mut conn) else {
        return;
    };
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line).into_owned();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    seen.lock().unwrap().push(Seen {
        method,
        target: target.clone(),
        namespace: header(&head, "x-vault-namespace"),
    });
    let fault = fault
        .lock()
        .unwrap()
        .clone()
        .filter(|(m, _)| target.contains(m.as_str()))
        .map(|(_, f)| f);
    match fault {
        Some(Fault::RedirectToSelf) => {
            let _ = write!(
                conn,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return;
        }
        Some(Fault::RedirectTo(origin)) => {
            let _ = write!(
                conn,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {origin}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return;
        }
        Some(Fault::Huge { bytes, announced }) => {
            huge_answer(&mut conn, bytes, announced);
            return;
        }
        Some(Fault::Delay(d)) => std::thread::sleep(d),
        None => {}
    }
    // Forward on a fresh connection, one request per connection.
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let mut out = Vec::new();
    for (i, l) in head.split(|b| *b == b'\n').enumerate() {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            continue;
        }
        let lower = String::from_utf8_lossy(l).to_ascii_lowercase();
        if i > 0 && (lower.starts_with("connection:") || lower.starts_with("keep-alive:")) {
            continue;
        }
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    if up.write_all(&out).is_err() {
        return;
    }
    let _ = std::io::copy(&mut up, &mut conn);
}

/// `{"data":{"value":"xxx…"}}` of `bytes` bytes, with a Content-Length or chunked.
fn huge_answer(conn: &mut TcpStream, bytes: u64, announced: bool) {
    let (start, end) = (br#"{"data":{"value":""#, br#""}}"#);
    let filler = bytes - (start.len() + end.len()) as u64;
    let framing = if announced {
        format!("Content-Length: {bytes}")
    } else {
        "Transfer-Encoding: chunked".to_string()
    };
    if write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return;
    }
    let block = vec![b'x'; 1 << 20];
    let mut send = |data: &[u8]| -> bool {
        if announced {
            conn.write_all(data).is_ok()
        } else {
            write!(conn, "{:x}\r\n", data.len()).is_ok()
                && conn.write_all(data).is_ok()
                && conn.write_all(b"\r\n").is_ok()
        }
    };
    if !send(start) {
        return;
    }
    let mut left = filler;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        if !send(&block[..n]) {
            return;
        }
        left -= n as u64;
    }
    if send(end) && !announced {
        let _ = conn.write_all(b"0\r\n\r\n");
    }
}

/// A listener on another port that must receive nothing: it counts every byte.
struct Catcher {
    origin: String,
    bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Catcher {
    fn start() -> Catcher {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let bytes = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (bytes2, stop2) = (bytes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        // Even a connection counts: nothing may be opened to it.
                        bytes2.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = conn.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            bytes2.fetch_add(n as u64, Ordering::SeqCst);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Catcher {
            origin,
            bytes,
            stop,
        }
    }

    fn received(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `vnsh ARGS` through `proxy`, with `token` and extra environment.
fn vnsh_via(env: &Env, proxy: &Proxy, token: &str, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = env.command(common::vnsh_bin(), token);
    cmd.env("VAULT_ADDR", &proxy.addr);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run vnsh")
}

/// stderr of a failed run (exit 1); panics on success.
fn fails(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    stderr(out)
}

/// Every request reached the server inside `/v1/`, with no dot segment, raw or escaped.
fn assert_all_inside_v1(seen: &[Seen]) {
    for s in seen {
        assert!(s.target.starts_with("/v1/"), "sent outside /v1/: {s:?}");
        let path = s.target.split('?').next().unwrap_or_default();
        for seg in path.split('/') {
            let lower = seg.to_ascii_lowercase();
            assert!(
                !matches!(
                    lower.as_str(),
                    "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
                ),
                "a dot segment reached the server: {s:?}"
            );
        }
    }
}

fn exists(api: &Api, parent: &str, name: &str) -> bool {
    api.call("GET", parent, &format!("sys/namespaces/{name}"), None)
        .0
        == 200
}

// ---------------------------------------------------------------------------------------
// The request goes where it says
// ---------------------------------------------------------------------------------------

/// `ns delete 'victim4#test'` asked about `victim4#test` and deleted `victim4`.
#[test]
fn a_name_with_a_hash_never_reaches_another_namespace() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["victim4".to_string()]);
    let proxy = Proxy::start(env.server.addr());
    let token = env.server.token();

    let o = vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["--yes", "-c", "ns delete 'victim4#test'"],
    );
    let e = fails(&o);
    assert!(e.contains("contains `#`"), "{e}");
    assert!(exists(&api, "", "victim4"), "victim4 was deleted");
    assert!(
        !proxy.seen().iter().any(|s| s.method == "DELETE"),
        "a DELETE was sent: {:?}",
        proxy.seen()
    );

    // `ns lookup` reads its name as `cd` does, which refuses a `#` too: nothing is sent,
    // and victim4 is never addressed.
    proxy.clear();
    let o = vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["--format", "json", "-c", "ns lookup 'victim4#test'"],
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("victim4/"),
        "{o:?}"
    );
    let e = fails(&o);
    assert!(e.contains("contains `#`"), "{e}");
    let lookups: Vec<Seen> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/v1/sys/namespaces/victim4"))
        .collect();
    assert!(lookups.is_empty(), "{lookups:?}");
    assert_all_inside_v1(&proxy.seen());
}

/// `delete 'secret/data/keep#scratch'` deleted `secret/data/keep`.
#[test]
fn a_path_with_a_hash_deletes_only_what_it_names() {
    let env = common::env();
    let api = Api::new(&env);
    api.kv2_put("", "secret", "keep", json!({"v": "1"}));
    // The harness builds URLs by concatenation: the `#` is escaped by hand here.
    api.kv2_put("", "secret", "keep%23scratch", json!({"v": "2"}));
    let proxy = Proxy::start(env.server.addr());
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[],
        &["--yes", "-c", "delete 'secret/data/keep#scratch'"],
    );
    ok(&o);
    let (status, body) = api.call("GET", "", "secret/data/keep", None);
    assert_eq!(status, 200, "secret/data/keep is gone: {body}");
    assert_eq!(body["data"]["data"]["v"], "1");
    let (status, body) = api.call("GET", "", "secret/data/keep%23scratch", None);
    assert_eq!(status, 404, "keep#scratch is still there: {body}");
    let deletes: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "DELETE")
        .map(|s| s.target)
        .collect();
    assert_eq!(deletes, vec!["/v1/secret/data/keep%23scratch"]);
}

/// `lock 't1%2Fa'` locked `t1/a` and filed its key under `t1%2Fa/`.
#[test]
fn a_lock_of_an_escaped_name_locks_nothing_else() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["t1/a".to_string()]);
    let proxy = Proxy::start(env.server.addr());
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[],
        &["--yes", "-c", "lock 't1%2Fa'"],
    );
    let e = fails(&o);
    assert!(e.contains("contains `%`"), "{e}");
    let (_, body) = api.call("GET", "t1/", "sys/namespaces/a", None);
    assert_eq!(body["data"]["locked"], false, "t1/a was locked: {body}");
    assert!(
        !proxy.seen().iter().any(|s| s.target.contains("api-lock")),
        "a lock was sent: {:?}",
        proxy.seen()
    );
    let keys = env.vnsh_state().join("unlock-keys.json");
    let stored = std::fs::read_to_string(&keys).unwrap_or_default();
    assert!(!stored.contains("t1%2Fa"), "{stored}");
    // The same for unlock and for every other character vnsh refuses.
    for line in [
        "unlock 't1%2Fa'",
        "lock 'x?y'",
        "ns create 'a#b'",
        "ns create a%b",
    ] {
        let o = vnsh_via(
            &env,
            &proxy,
            env.server.token(),
            &[],
            &["--yes", "-c", line],
        );
        let e = fails(&o);
        assert!(e.contains("vnsh refuses `?`, `#` and `%`"), "{line}: {e}");
    }
    assert!(
        !proxy.seen().iter().any(|s| s.method == "POST"),
        "{:?}",
        proxy.seen()
    );
}

/// `cd 'urlh#x'` succeeded into a namespace that does not exist.
#[test]
fn cd_into_a_name_with_a_hash_fails_and_keeps_the_context() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["urlh".to_string()]);
    let proxy = Proxy::start(env.server.addr());
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[],
        &[
            "--keep-going",
            "-c",
            "cd 'urlh#x'; pwd; cd 'urlh?x'; cd urlh%23x; pwd",
        ],
    );
    let e = fails(&o);
    assert!(e.contains("contains `#`"), "{e}");
    assert!(e.contains("contains `?`"), "{e}");
    assert!(e.contains("contains `%`"), "{e}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "/\n/\n");
    assert!(
        !proxy.seen().iter().any(|s| s.target.contains("urlh")),
        "{:?}",
        proxy.seen()
    );
}

/// `read ../sys/mounts` and `read %2e%2e/sys/mounts` sent `GET /sys/mounts`, outside `/v1/`.
#[test]
fn dot_segments_are_resolved_and_never_leave_v1() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["ns1/ns2".to_string()]);
    api.mount("ns1/", "only-in-ns1", "kv", json!({}));
    let proxy = Proxy::start(env.server.addr());
    let token = env.server.token();
    let read = |ns: &str, line: &str| {
        vnsh_via(
            &env,
            &proxy,
            token,
            &[],
            &["-n", ns, "--format", "json", "-c", line],
        )
    };

    // In ns1/ns2, `..` is ns1: its mounts, sent to ns1 inside /v1/.
    proxy.clear();
    let o = read("ns1/ns2", "read ../sys/mounts");
    let mounts: Value = serde_json::from_str(ok(&o).trim()).expect("JSON");
    assert!(mounts["data"]["only-in-ns1/"].is_object(), "{mounts}");
    let reads: Vec<Seen> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.target == "/v1/sys/mounts")
        .collect();
    assert_eq!(reads.len(), 1, "{:?}", proxy.seen());
    assert_eq!(reads[0].ns(), "ns1/");
    assert_all_inside_v1(&proxy.seen());

    // `a/../` inside a path is resolved before sending.
    proxy.clear();
    let o = read("ns1", "read secret/../only-in-ns1/../sys/mounts");
    ok(&o);
    assert!(proxy
        .seen()
        .iter()
        .any(|s| s.target == "/v1/sys/mounts" && s.ns() == "ns1/"));
    assert_all_inside_v1(&proxy.seen());

    // From the root, `..` goes nowhere: refused, nothing sent for it.
    proxy.clear();
    let e = fails(&read("/", "read ../sys/mounts"));
    assert!(e.contains("`..`") || e.contains("above the root"), "{e}");
    assert!(
        !proxy.seen().iter().any(|s| s.target.contains("mounts")),
        "{:?}",
        proxy.seen()
    );
    assert_all_inside_v1(&proxy.seen());

    // `%2e%2e` is a name, not a dot: sent escaped, the server looks for that name.
    proxy.clear();
    let e = fails(&read("ns1/ns2", "read %2e%2e/sys/mounts"));
    assert!(!e.contains("only-in-ns1"), "{e}");
    let targets: Vec<String> = proxy.seen().into_iter().map(|s| s.target).collect();
    assert!(
        targets.iter().any(|t| t == "/v1/%252e%252e/sys/mounts"),
        "{targets:?}"
    );
    assert_all_inside_v1(&proxy.seen());
}

/// For a child token, `read /../sys/mounts` sent `GET /sys/mounts`: `/` is the top, and
/// nothing climbs above it.
#[test]
fn a_child_token_cannot_climb_above_its_top_with_dots() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["admin/team".to_string()]);
    let token = env.token_with_policy(
        "admin",
        "adm",
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n",
    );
    let proxy = Proxy::start(env.server.addr());
    for line in [
        "read /../sys/mounts",
        "read ../sys/mounts",
        "read /../../sys/mounts",
    ] {
        proxy.clear();
        let o = vnsh_via(&env, &proxy, &token, &[], &["-n", "admin", "-c", line]);
        let e = fails(&o);
        assert!(
            e.contains("goes above admin") || e.contains("`..` segment"),
            "{line}: {e}"
        );
        assert!(
            !proxy.seen().iter().any(|s| s.target.contains("sys/mounts")),
            "{line}: {:?}",
            proxy.seen()
        );
        assert_all_inside_v1(&proxy.seen());
    }
    // In admin/team, `..` is admin: still within the top.
    proxy.clear();
    let o = vnsh_via(
        &env,
        &proxy,
        &token,
        &[],
        &["-n", "admin/team", "-c", "read ../sys/mounts"],
    );
    ok(&o);
    assert!(
        proxy
            .seen()
            .iter()
            .any(|s| s.target == "/v1/sys/mounts" && s.ns() == "admin/"),
        "{:?}",
        proxy.seen()
    );
    assert_all_inside_v1(&proxy.seen());
}

/// Names with control characters passed `validate_name`; CR/LF were called "a space".
#[test]
fn control_characters_in_a_name_are_named_and_nothing_is_sent() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    for (name, code) in [
        ("a\r\nb", "U+000D (carriage return)"),
        ("a\nb", "U+000A (line feed)"),
        ("a\u{1b}]2;x\u{7}", "U+001B (escape)"),
        ("a\u{200b}b", "U+200B"),
    ] {
        let line = format!("ns create '{name}'");
        let o = vnsh_via(
            &env,
            &proxy,
            env.server.token(),
            &[],
            &["--yes", "-c", &line],
        );
        let e = fails(&o);
        assert!(
            e.contains(&format!("control character {code}")),
            "{name:?}: {e}"
        );
        assert!(!e.contains("a space"), "{name:?}: {e}");
        assert!(!e.contains('\u{1b}'), "the terminal would see ESC: {e:?}");
    }
    assert!(
        !proxy.seen().iter().any(|s| s.method == "POST"),
        "{:?}",
        proxy.seen()
    );
}

/// A CJK name travels as UTF-8 in the header (OpenBao reads it raw) and escaped in paths.
#[test]
fn a_cjk_namespace_round_trips() {
    let env = common::env();
    let api = Api::new(&env);
    let proxy = Proxy::start(env.server.addr());
    let token = env.server.token();
    ok(&vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["--yes", "-c", "ns create 中文"],
    ));
    ok(&vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["--yes", "-n", "中文", "-c", "ns create 子"],
    ));
    let (status, body) = api.call("GET", "", "sys/namespaces/%E4%B8%AD%E6%96%87", None);
    assert_eq!(status, 200, "{body}");
    let listed = ok(&vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["--format", "json", "-c", "cd 中文; ns list"],
    ));
    let keys: Value = serde_json::from_str(listed.trim()).expect("JSON");
    assert!(keys.to_string().contains("子/"), "{keys}");
    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|s| s.target == "/v1/sys/namespaces/%E4%B8%AD%E6%96%87"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.namespace.as_deref() == Some("中文/".as_bytes())),
        "{seen:?}"
    );
    assert_all_inside_v1(&seen);
}

/// A namespace the header cannot carry (a control character) is refused with its
/// reason, and nothing is sent in it.
#[test]
fn a_namespace_the_header_cannot_carry_is_refused_by_name() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[("VAULT_NAMESPACE", "a\u{1}b")],
        &["-c", "read sys/mounts"],
    );
    assert!(!o.status.success(), "{o:?}");
    let e = stderr(&o);
    assert!(e.contains("U+0001"), "{e}");
    assert!(!e.contains('\u{1}'), "{e:?}");
    assert!(
        !proxy
            .seen()
            .iter()
            .any(|s| s.namespace.as_deref().is_some_and(|n| n.contains(&1u8))),
        "{:?}",
        proxy.seen()
    );
}

// ---------------------------------------------------------------------------------------
// Messages that say what happened
// ---------------------------------------------------------------------------------------

/// "timed out after 0s" for a 500 ms timeout.
#[test]
fn a_timeout_says_its_real_duration() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    proxy.inject("secret/data/slow", Fault::Delay(Duration::from_secs(3)));
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[("VAULT_CLIENT_TIMEOUT", "500ms")],
        &["-c", "read secret/data/slow"],
    );
    let e = fails(&o);
    assert!(e.contains("timed out after 500 ms"), "{e}");
    assert!(!e.contains("after 0s"), "{e}");
}

/// "another host" for a same-origin redirect loop.
#[test]
fn a_same_origin_redirect_loop_is_called_a_loop() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    proxy.inject("secret/data/loop", Fault::RedirectToSelf);
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[],
        &["-c", "read secret/data/loop"],
    );
    let e = fails(&o);
    assert!(e.contains("redirect loop"), "{e}");
    assert!(!e.contains("another host"), "{e}");
    let hops = proxy
        .seen()
        .iter()
        .filter(|s| s.target == "/v1/secret/data/loop")
        .count();
    assert!((2..=10).contains(&hops), "{hops} requests for one read");
}

/// A redirect to another port is still refused, and the other port receives nothing.
#[test]
fn a_cross_host_redirect_sends_nothing_there() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    let catcher = Catcher::start();
    proxy.inject(
        "secret/data/away",
        Fault::RedirectTo(catcher.origin.clone()),
    );
    let o = vnsh_via(
        &env,
        &proxy,
        env.server.token(),
        &[],
        &["--yes", "-c", "write secret/data/away v=1"],
    );
    let e = fails(&o);
    assert!(e.contains("another host"), "{e}");
    assert!(e.contains(&catcher.origin), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(catcher.received(), 0, "the catcher received something");
}

// ---------------------------------------------------------------------------------------
// Bounded memory
// ---------------------------------------------------------------------------------------

/// Run `cmd`, returning its output and its peak resident memory in MiB (from wait4).
fn run_measured(mut cmd: std::process::Command, dir: &std::path::Path) -> (Output, u64) {
    let out_path = dir.join("measured.out");
    let err_path = dir.join("measured.err");
    cmd.stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let child = cmd.spawn().expect("spawn vnsh");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are valid.
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    std::mem::forget(child);
    use std::os::unix::process::ExitStatusExt;
    let out = Output {
        status: std::process::ExitStatus::from_raw(if code >= 0 { code << 8 } else { status }),
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr: std::fs::read(&err_path).expect("stderr"),
    };
    (out, usage.ru_maxrss as u64 / 1024)
}

/// A 300 MB answer peaked at 1.85 GB: answers over the cap are refused as they stream.
#[test]
fn a_huge_answer_is_refused_with_bounded_memory() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    for announced in [false, true] {
        proxy.inject(
            "secret/data/huge",
            Fault::Huge {
                bytes: 300_000_000,
                announced,
            },
        );
        let mut cmd = env.command(common::vnsh_bin(), env.server.token());
        cmd.env("VAULT_ADDR", &proxy.addr)
            .args(["-c", "read secret/data/huge"]);
        let (o, peak_mib) = run_measured(cmd, env.dir.path());
        let e = fails(&o);
        assert!(e.contains("over the cap of 64 MiB"), "{e}");
        assert!(e.contains("VNSH_MAX_RESPONSE_BYTES"), "{e}");
        if announced {
            assert!(e.contains("300000000 bytes, as announced"), "{e}");
        } else {
            assert!(e.contains("more than 64 MiB"), "{e}");
        }
        eprintln!("announced={announced}: peak RSS {peak_mib} MiB");
        assert!(peak_mib < 200, "peak resident memory {peak_mib} MiB");
    }
}

/// The cap is a setting: a small one refuses a real answer, naming itself.
#[test]
fn the_answer_cap_is_set_by_the_environment() {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    let token = env.server.token();
    let small = [("VNSH_MAX_RESPONSE_BYTES", "300")];
    let e = fails(&vnsh_via(
        &env,
        &proxy,
        token,
        &small,
        &["-c", "read sys/mounts"],
    ));
    assert!(e.contains("over the cap of 300 bytes"), "{e}");
    assert!(e.contains("VNSH_MAX_RESPONSE_BYTES"), "{e}");
    ok(&vnsh_via(
        &env,
        &proxy,
        token,
        &[("VNSH_MAX_RESPONSE_BYTES", "1M")],
        &["-c", "read sys/mounts"],
    ));
    ok(&vnsh_via(
        &env,
        &proxy,
        token,
        &[],
        &["-c", "read sys/mounts"],
    ));
}
