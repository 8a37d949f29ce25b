//! The harness of the integration tests: a real OpenBao dev server per test, the real
//! `vnsh` binary, and the real `bao` CLI to compare with. Never a mock.
#![allow(dead_code)]

pub mod proxy;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use vnsh::devserver::{find_bao, DevServer};

/// A test's own server and state directory.
pub struct Env {
    /// The running dev server (stopped on drop).
    pub server: DevServer,
    /// A private `$XDG_STATE_HOME` and `$HOME`.
    pub dir: tempfile::TempDir,
}

/// Start a fresh server for one test. Fails (never skips) when bao is missing. The server
/// and the `bao` CLI the tests compare with are the same binary: the one on PATH, or the one
/// `VNSH_TEST_BAO` names (CI runs the suite again with OpenBao 2.6.2 that way).
pub fn env() -> Env {
    if find_bao().is_none() {
        panic!("{}", vnsh::devserver::DevServerError::NotInstalled);
    }
    let server = DevServer::start().unwrap_or_else(|e| panic!("cannot start bao server -dev: {e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    Env { server, dir }
}

impl Env {
    /// `$XDG_STATE_HOME` of this test: vnsh state is under `state/vnsh`.
    pub fn state_home(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The vnsh state dir.
    pub fn vnsh_state(&self) -> PathBuf {
        self.state_home().join("vnsh")
    }

    fn base(&self, program: &Path, token: &str) -> Command {
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("VAULT_") || k.starts_with("BAO_") || k == "VNSH_NO_SCAN" {
                cmd.env_remove(k);
            }
        }
        cmd.env("VAULT_ADDR", self.server.addr())
            .env("VAULT_TOKEN", token)
            .env("HOME", self.dir.path())
            .env("XDG_STATE_HOME", self.state_home())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `vnsh ARGS` with the root token.
    pub fn vnsh(&self, args: &[&str]) -> Output {
        self.vnsh_as(self.server.token(), args)
    }

    /// `vnsh ARGS` with another token.
    pub fn vnsh_as(&self, token: &str, args: &[&str]) -> Output {
        self.base(Path::new(env!("CARGO_BIN_EXE_vnsh")), token)
            .args(args)
            .output()
            .expect("run vnsh")
    }

    /// `vnsh ARGS` with `script` on stdin.
    pub fn vnsh_script(&self, args: &[&str], script: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .base(Path::new(env!("CARGO_BIN_EXE_vnsh")), self.server.token())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vnsh");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write script");
        child.wait_with_output().expect("vnsh output")
    }

    /// `bao ARGS` with the root token; panics unless it succeeds.
    pub fn bao(&self, args: &[&str]) -> String {
        let out = self.bao_raw(self.server.token(), args);
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `bao ARGS` with a token, whatever its status.
    pub fn bao_raw(&self, token: &str, args: &[&str]) -> Output {
        let bao = find_bao().expect("bao on PATH");
        self.base(&bao, token).args(args).output().expect("run bao")
    }

    /// `bao ARGS -format=json` parsed, with `request_id` removed.
    pub fn bao_json(&self, args: &[&str]) -> Value {
        let mut v: Value = serde_json::from_str(&self.bao(args)).expect("bao printed JSON");
        strip_request_id(&mut v);
        v
    }
}

/// The release of the `bao` the tests run against, `(major, minor, patch)`, from its
/// `bao version` (asked once).
pub fn bao_release() -> (u32, u32, u32) {
    static RELEASE: std::sync::OnceLock<(u32, u32, u32)> = std::sync::OnceLock::new();
    *RELEASE.get_or_init(|| {
        let bao = find_bao().expect("bao");
        let out = Command::new(&bao)
            .arg("version")
            .output()
            .expect("bao version");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // "OpenBao v2.7.2 (…), built …"
        let version = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix('v'))
            .unwrap_or_else(|| panic!("no version in {text:?}"));
        let mut parts = version.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<u32>()
                .unwrap_or(0)
        });
        let mut next = || parts.next().unwrap_or(0);
        (next(), next(), next())
    })
}

/// stdout of a successful run, as text; panics with stderr otherwise.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each stdout line of a `--format json` run, parsed, `request_id` removed.
pub fn json_lines(out: &Output) -> Vec<Value> {
    ok(out)
        .lines()
        .map(|l| {
            let mut v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"));
            strip_request_id(&mut v);
            v
        })
        .collect()
}

/// Remove `request_id` (it differs between two requests) at the top level.
pub fn strip_request_id(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
}

impl Env {
    /// A `Command` for `program` with this test's environment (server address, `token`,
    /// private HOME and XDG dirs, no inherited VAULT_*/BAO_*), for tests that spawn a
    /// process themselves (watching its output while it runs, or inside tmux).
    pub fn command(&self, program: &Path, token: &str) -> Command {
        self.base(program, token)
    }
}

/// The vnsh binary under test.
pub fn vnsh_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_vnsh"))
}

// ---------------------------------------------------------------------------------------
// Plain HTTP to the test's server (appended for tests/completion.rs and tests/explore.rs)
// ---------------------------------------------------------------------------------------

/// Plain HTTP to a test's server, for fast seeding (many requests at once) and for
/// checking the server without going through vnsh (a `bao` run costs ~0.5 s here).
pub struct Api {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    addr: String,
    token: String,
}

/// How many requests [`Api::mkns_all`] keeps in flight.
pub const SEED_CONCURRENCY: usize = 32;

impl Api {
    /// With the root token.
    pub fn new(env: &Env) -> Api {
        Api::with_token(env, env.server.token())
    }

    /// With another token.
    pub fn with_token(env: &Env, token: &str) -> Api {
        Api {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            client: reqwest::Client::new(),
            addr: env.server.addr().to_string(),
            token: token.to_string(),
        }
    }

    async fn send(
        client: &reqwest::Client,
        addr: &str,
        token: &str,
        method: &str,
        ns: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = client
            .request(method, format!("{addr}/v1/{path}"))
            .header("X-Vault-Token", token);
        if !ns.is_empty() {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("HTTP request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("HTTP body");
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, json)
    }

    /// One request; the status and the JSON body (Null when empty).
    pub fn call(&self, method: &str, ns: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.rt.block_on(Api::send(
            &self.client,
            &self.addr,
            &self.token,
            method,
            ns,
            path,
            body.as_ref(),
        ))
    }

    /// A request that must succeed.
    pub fn ok(&self, method: &str, ns: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, ns, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path} in {ns:?}: {status} {json}"
        );
        json
    }

    /// Create every namespace of `paths` ("a/b/c", any depth) and each of its ancestors,
    /// level by level, each level's requests [`SEED_CONCURRENCY`] at a time. None may exist
    /// yet (creating one again would replace it): see [`Api::mkns_all_in`].
    pub fn mkns_all(&self, paths: &[String]) {
        self.mkns_all_in("", paths)
    }

    /// As [`Api::mkns_all`], below the existing namespace `base` ("a/b/", "" for the root).
    pub fn mkns_all_in(&self, base: &str, paths: &[String]) {
        use futures::StreamExt;
        let mut by_depth: std::collections::BTreeMap<usize, std::collections::BTreeSet<String>> =
            Default::default();
        for p in paths {
            let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            for d in 1..=segs.len() {
                by_depth.entry(d).or_default().insert(segs[..d].join("/"));
            }
        }
        for level in by_depth.values() {
            let failures: Vec<String> = self.rt.block_on(
                futures::stream::iter(level.iter().map(|p| {
                    let (parent, name) = match p.rsplit_once('/') {
                        Some((parent, name)) => (format!("{base}{parent}/"), name.to_string()),
                        None => (base.to_string(), p.clone()),
                    };
                    let (client, addr, token) = (&self.client, &self.addr, &self.token);
                    async move {
                        let path = format!("sys/namespaces/{name}");
                        let (status, body) =
                            Api::send(client, addr, token, "POST", &parent, &path, None).await;
                        ((200..300).contains(&status))
                            .then_some(())
                            .ok_or(format!("create {parent}{name}: {status} {body}"))
                    }
                }))
                .buffer_unordered(SEED_CONCURRENCY)
                .filter_map(|r| async move { r.err() })
                .collect(),
            );
            assert!(failures.is_empty(), "{failures:?}");
        }
    }

    /// Mount a secrets engine of `kind` at `path` in `ns`, with `options`.
    pub fn mount(&self, ns: &str, path: &str, kind: &str, options: Value) {
        self.ok(
            "POST",
            ns,
            &format!("sys/mounts/{path}"),
            Some(serde_json::json!({ "type": kind, "options": options })),
        );
    }

    /// Enable an auth method of `kind` at `path` in `ns`.
    pub fn enable_auth(&self, ns: &str, path: &str, kind: &str) {
        self.ok(
            "POST",
            ns,
            &format!("sys/auth/{path}"),
            Some(serde_json::json!({ "type": kind })),
        );
    }

    /// Write the ACL policy `name` in `ns`.
    pub fn policy(&self, ns: &str, name: &str, hcl: &str) {
        self.ok(
            "PUT",
            ns,
            &format!("sys/policies/acl/{name}"),
            Some(serde_json::json!({ "policy": hcl })),
        );
    }

    /// A new token in `ns` with `policies` (no default policy); returns it.
    pub fn token(&self, ns: &str, policies: &[&str]) -> String {
        let body = self.ok(
            "POST",
            ns,
            "auth/token/create",
            Some(serde_json::json!({ "policies": policies, "no_default_policy": true })),
        );
        body["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_string()
    }

    /// Write a KV v2 secret, retrying while a fresh mount is still being set up.
    pub fn kv2_put(&self, ns: &str, mount: &str, key: &str, data: Value) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let (status, body) = self.call(
                "POST",
                ns,
                &format!("{mount}/data/{key}"),
                Some(serde_json::json!({ "data": data })),
            );
            if (200..300).contains(&status) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kv put {mount}/{key} in {ns}: {status} {body}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Create `path` (any depth), each missing level in turn, with no metadata.
    pub fn mkns(&self, path: &str) {
        let mut parent = String::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            self.ok("POST", &parent, &format!("sys/namespaces/{seg}"), None);
            parent.push_str(seg);
            parent.push('/');
        }
    }

    /// Create `name` in `parent` with custom metadata.
    pub fn mkns_meta(&self, parent: &str, name: &str, meta: Value) {
        self.ok(
            "POST",
            parent,
            &format!("sys/namespaces/{name}"),
            Some(serde_json::json!({ "custom_metadata": meta })),
        );
    }

    /// Lock `name` below `parent`; returns the unlock key.
    pub fn lock(&self, parent: &str, name: &str) -> String {
        let body = self.ok(
            "POST",
            parent,
            &format!("sys/namespaces/api-lock/lock/{name}"),
            None,
        );
        body["data"]["unlock_key"]
            .as_str()
            .expect("unlock key")
            .to_string()
    }

    /// Mount a KV engine (`version` "1" or "2") at `path` in `ns`.
    pub fn mount_kv(&self, ns: &str, path: &str, version: &str) {
        self.mount(ns, path, "kv", serde_json::json!({ "version": version }));
    }

    /// Every namespace below `ns` (relative paths) with its lock state, via one SCAN.
    pub fn scan(&self, ns: &str) -> std::collections::BTreeMap<String, bool> {
        let (status, body) = self.call("SCAN", ns, "sys/namespaces", None);
        if status == 404 {
            return Default::default();
        }
        assert_eq!(status, 200, "SCAN in {ns:?}: {body}");
        let info = body["data"]["key_info"].as_object().expect("key_info");
        info.iter()
            .map(|(k, v)| (k.clone(), v["locked"].as_bool().unwrap_or(false)))
            .collect()
    }

    /// The direct children of `ns`, sorted.
    pub fn children(&self, ns: &str) -> Vec<String> {
        self.list(ns, "sys/namespaces")
    }

    /// The keys of a LIST (empty when there is nothing), sorted.
    pub fn list(&self, ns: &str, path: &str) -> Vec<String> {
        let (status, body) = self.call("LIST", ns, path, None);
        if status == 404 {
            return Vec::new();
        }
        assert_eq!(status, 200, "LIST {path} in {ns:?}: {body}");
        let mut keys: Vec<String> = body["data"]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k.as_str().expect("key").to_string())
            .collect();
        keys.sort();
        keys
    }
}

impl Env {
    /// A token made in namespace `ns` (no default policy) whose only policy is `name`,
    /// written there from `hcl`.
    pub fn token_with_policy(&self, ns: &str, name: &str, hcl: &str) -> String {
        let file = self.dir.path().join(format!("{name}.hcl"));
        std::fs::write(&file, hcl).expect("write policy");
        let nsflag = format!("-namespace={ns}");
        self.bao(&[
            "policy",
            "write",
            &nsflag,
            name,
            file.to_str().expect("utf-8"),
        ]);
        let created = self.bao_json(&[
            "token",
            "create",
            &nsflag,
            &format!("-policy={name}"),
            "-no-default-policy",
            "-format=json",
        ]);
        created["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_string()
    }
}

/// A second dev server on the address of a stopped one: a re-initialised server.
pub struct Replacement(std::process::Child);

impl Drop for Replacement {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `bao server -dev` on `addr` (`http://127.0.0.1:PORT`) with that root token, and
/// wait until it answers.
pub fn replace_server(addr: &str, token: &str, home: &Path) -> Replacement {
    let listen = addr.trim_start_matches("http://");
    let bao = vnsh::devserver::find_bao().expect("bao on PATH");
    let start = std::time::Instant::now();
    loop {
        let child = Command::new(&bao)
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={token}"),
                &format!("-dev-listen-address={listen}"),
            ])
            .env("HOME", home)
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .env_remove("VAULT_NAMESPACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bao");
        let mut server = Replacement(child);
        while start.elapsed() < std::time::Duration::from_secs(30) {
            if let Ok(Some(_)) = server.0.try_wait() {
                // The port was not free yet: try again.
                break;
            }
            if healthy(listen) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "could not start a dev server again on {listen}"
        );
        drop(server);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Whether `GET /v1/sys/health` on `listen` answers 200 (plain HTTP/1.0, no runtime).
fn healthy(listen: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(listen) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let mut answer = String::new();
    conn.write_all(b"GET /v1/sys/health HTTP/1.0\r\n\r\n")
        .is_ok()
        && conn.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.0 200")
}
