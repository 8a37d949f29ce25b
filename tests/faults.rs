//! The fault suite: the real `vnsh` binary against a real OpenBao dev server, through a
//! fault-injecting proxy on loopback (tests/common/proxy.rs). Each test injects one fault,
//! then checks three things: the exit status, an error that names the cause (and the next
//! step where there is one), and the server's real state afterwards, read directly (never
//! through the proxy), with the proxy's record of what reached the server.
//!
//! docs/reliability.md lists the cases and the results measured.
mod common;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::proxy::{Catcher, Fault, Proxy, Rule};
use common::{vnsh_bin, Api, Env};
use serde_json::{json, Value};

/// The longest any one vnsh run may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(30);
/// How much of a run's stdout is kept (the rest is only counted).
const KEEP_STDOUT: usize = 1 << 20;

/// One test's world: a real server, the proxy in front of it, plain HTTP to the server.
struct Fx {
    env: Env,
    proxy: Proxy,
    api: Api,
}

fn fx() -> Fx {
    let env = common::env();
    let proxy = Proxy::start(env.server.addr());
    let api = Api::new(&env);
    Fx { env, proxy, api }
}

/// How one vnsh run ended.
#[derive(Debug)]
struct Run {
    /// The exit status; `None` when killed by a signal.
    code: Option<i32>,
    /// The start of stdout (up to [`KEEP_STDOUT`] bytes).
    stdout: String,
    /// All of stdout's length.
    stdout_len: usize,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory of the vnsh process, in KiB.
    max_rss_kib: i64,
}

/// At most 2,000 characters of `text`, for failure messages.
fn short(text: &str) -> String {
    let mut s: String = text.chars().take(2000).collect();
    if s.len() < text.len() {
        s.push_str("…(cut)");
    }
    s
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\nstdout ({} bytes): {}\nstderr: {}",
            self.code,
            self.elapsed,
            self.stdout_len,
            short(&self.stdout),
            short(&self.stderr)
        )
    }
}

impl Run {
    /// Both streams, for messages that may be a note (stderr) or output (stdout).
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// How to run vnsh: extra environment, stdin, an unprivileged user, a kill after a delay.
#[derive(Default)]
struct Spec<'a> {
    envs: Vec<(&'a str, String)>,
    stdin: Option<Vec<u8>>,
    /// Run this copy of vnsh as this uid/gid (the test of a read-only store, when the
    /// suite runs as root): see [`unprivileged`].
    user: Option<(u32, PathBuf)>,
    /// SIGKILL the process this long after it was spawned.
    kill_after: Option<Duration>,
    /// Talk to the server directly instead of through the proxy.
    direct: bool,
}

impl Fx {
    /// `vnsh ARGS` through the proxy with the root token, nothing on stdin.
    fn vnsh(&self, args: &[&str]) -> Run {
        self.run(args, Spec::default())
    }

    /// `vnsh ARGS` through the proxy with extra environment variables.
    fn vnsh_env(&self, envs: &[(&str, &str)], args: &[&str]) -> Run {
        self.run(
            args,
            Spec {
                envs: envs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
                ..Spec::default()
            },
        )
    }

    fn command(&self, args: &[&str], spec: &Spec) -> Command {
        let bin = spec
            .user
            .as_ref()
            .map_or(vnsh_bin(), |(_, bin)| bin.as_path());
        let mut cmd = self.env.command(bin, self.env.server.token());
        if !spec.direct {
            cmd.env("VAULT_ADDR", self.proxy.addr());
        }
        for (k, v) in &spec.envs {
            cmd.env(k, v);
        }
        if let Some((uid, _)) = &spec.user {
            cmd.uid(*uid).gid(*uid);
        }
        cmd.args(args)
            .stdin(if spec.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Run vnsh to its end (or kill it), with its exit status and peak memory.
    // The child is reaped by `wait4` (which also gives its own peak memory), not `wait`.
    #[allow(clippy::zombie_processes)]
    fn run(&self, args: &[&str], spec: Spec) -> Run {
        let mut child = self.command(args, &spec).spawn().expect("spawn vnsh");
        let started = Instant::now();
        let pid = child.id() as libc::pid_t;
        if let (Some(bytes), Some(mut stdin)) = (spec.stdin.clone(), child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let out_reader = std::thread::spawn(move || {
            let (mut kept, mut total, mut chunk) = (Vec::new(), 0usize, [0u8; 64 * 1024]);
            while let Ok(n @ 1..) = out.read(&mut chunk) {
                total += n;
                let room = KEEP_STDOUT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            (kept, total)
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            s
        });
        if let Some(d) = spec.kill_after {
            std::thread::sleep(d.saturating_sub(started.elapsed()));
            // The child is not reaped yet (at worst a zombie), so the pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let (status, rusage) = loop {
            let mut status = 0;
            let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
            let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
            if got == pid {
                break (status, rusage);
            }
            if started.elapsed() > HANG {
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let _ = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
                panic!(
                    "vnsh {args:?} did not finish within {HANG:?}: a hang (killed); stderr so far: {}",
                    String::from_utf8_lossy(&err_reader.join().unwrap_or_default())
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = started.elapsed();
        let (kept, stdout_len) = out_reader.join().expect("stdout reader");
        let stderr = err_reader.join().expect("stderr reader");
        Run {
            code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
            stdout: String::from_utf8_lossy(&kept).into_owned(),
            stdout_len,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            max_rss_kib: rusage.ru_maxrss,
        }
    }

    /// Whether namespace `name` (a child of the root) is locked, asked of the server itself.
    fn locked(&self, name: &str) -> bool {
        let (status, body) = self
            .api
            .call("GET", "", &format!("sys/namespaces/{name}"), None);
        assert_eq!(status, 200, "lookup {name}: {body}");
        body["data"]["locked"]
            .as_bool()
            .unwrap_or_else(|| panic!("no `locked` for {name}: {body}"))
    }

    /// Unlock `name` (a child of the root) with the root token (sudo), if it is locked.
    fn sudo_unlock(&self, name: &str) {
        if self.locked(name) {
            self.api.ok(
                "POST",
                "",
                &format!("sys/namespaces/api-lock/unlock/{name}"),
                None,
            );
        }
        assert!(!self.locked(name), "{name} is still locked");
    }

    /// Whether `key` unlocks `name` (which it does, if it is right).
    fn unlocks(&self, name: &str, key: &str) -> bool {
        let (status, _) = self.api.call(
            "POST",
            "",
            &format!("sys/namespaces/api-lock/unlock/{name}"),
            Some(json!({ "unlock_key": key })),
        );
        (200..300).contains(&status)
    }

    /// A KV v2 mount `secret` (the dev server has one already: it is used as it is).
    fn secret(&self, key: &str) -> (u16, Value) {
        self.api
            .call("GET", "", &format!("secret/data/{key}"), None)
    }

    /// The unlock-key store file.
    fn store_path(&self) -> PathBuf {
        self.env.vnsh_state().join("unlock-keys.json")
    }

    /// The unlock keys the store holds for namespace `ns` (`a/b/`), whatever the server.
    fn stored_keys(&self, ns: &str) -> Vec<String> {
        let Ok(bytes) = std::fs::read(self.store_path()) else {
            return Vec::new();
        };
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "the key store does not parse ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        doc["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter(|k| k["namespace"] == ns)
                    .filter_map(|k| k["key"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Assert that a run failed with exit 1 and that its stderr holds every one of `needles`
/// (case-insensitive).
fn assert_fails_with(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, Some(1), "expected exit 1, got {run}");
    let err = run.stderr.to_lowercase();
    for n in needles {
        assert!(
            err.contains(&n.to_lowercase()),
            "stderr should name {n:?}: {run}"
        );
    }
}

/// Whether `text` says the lock of `ns` may have happened and its key never came.
fn says_may_be_locked(text: &str, ns: &str) -> bool {
    let t = text.to_lowercase();
    names(&t, ns) && t.contains("may be locked") && t.contains("never received")
}

/// Whether `text` has `name` as a whole word (so `k3` is not found in `k30`).
fn names(text: &str, name: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    text.match_indices(name).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + name.len()..].chars().next())
    })
}

// ---------------------------------------------------------------------------------------
// The harness itself: its negative checks can fail
// ---------------------------------------------------------------------------------------

#[test]
fn the_harness_sees_what_a_client_that_follows_any_redirect_would_send() {
    let f = fx();
    let catcher = Catcher::start();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/away",
        Fault::Redirect {
            code: 307,
            location: catcher.url("/v1/secret/data/away"),
        },
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _inside = rt.enter();
    // reqwest's default policy follows a redirect to another host, header and all.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let sent = rt.block_on(
        client
            .get(format!("{}/v1/secret/data/away", f.proxy.addr()))
            .header("X-Vault-Token", "s.not-a-real-token")
            .send(),
    );
    assert!(sent.is_err(), "the catcher never answers: {sent:?}");
    let (connections, bytes) = catcher.received();
    assert_eq!(connections, 1);
    assert!(bytes > 0, "the catcher counts the bytes it is sent");
    assert_eq!(f.proxy.received("GET", "secret/data/away"), 1);
    assert_eq!(f.proxy.forwarded("GET", "secret/data/away"), 0);
    // Without a rule the request reaches the real server.
    f.proxy.clear();
    let status = rt
        .block_on(
            client
                .get(format!("{}/v1/sys/health", f.proxy.addr()))
                .send(),
        )
        .expect("through the proxy")
        .status();
    assert_eq!(status, 200);
    assert_eq!(f.proxy.forwarded("GET", "sys/health"), 1);
}

// ---------------------------------------------------------------------------------------
// A server that is not there, or sealed
// ---------------------------------------------------------------------------------------

/// Nothing listens at the address: the error says so in words (not the HTTP stack's chain)
/// and where the address comes from. A sealed server: the error says who unseals it and
/// how. Each leaves exit 1 and nothing else printed.
#[test]
fn a_server_down_or_sealed_is_named_with_the_next_step() {
    let f = fx();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let run = f.vnsh_env(&[("VAULT_ADDR", &nowhere)], &["-c", "ls"]);
    assert_eq!(run.code, Some(1), "{run}");
    for needle in [
        format!("cannot reach {nowhere}"),
        "connection refused (nothing is listening on that port)".into(),
        "check that the server is running at that address".into(),
        "VAULT_ADDR".into(),
    ] {
        assert!(run.stderr.contains(&needle), "`{needle}` missing: {run}");
    }
    assert!(
        !run.stderr.contains("tcp connect error"),
        "the stack's chain: {run}"
    );
    assert!(run.stdout.is_empty(), "{run}");

    let (status, body) = f.api.call("PUT", "", "sys/seal", None);
    assert_eq!(status, 204, "sys/seal: {body}");
    for line in ["ls", "read secret/x"] {
        let run = f.vnsh(&["-c", line]);
        assert_eq!(run.code, Some(1), "{line}: {run}");
        for needle in ["the server is sealed", "was refused", "bao operator unseal"] {
            assert!(
                run.stderr.contains(needle),
                "{line}: `{needle}` missing: {run}"
            );
        }
        assert!(run.stdout.is_empty(), "{line}: {run}");
    }
}

// ---------------------------------------------------------------------------------------
// Status codes and bodies that are not the API's
// ---------------------------------------------------------------------------------------

#[test]
fn a_5xx_is_an_error_naming_the_status_the_path_and_the_servers_message() {
    let f = fx();
    f.proxy.add(Rule::on(
        "*",
        "secret/data/five",
        Fault::json(500, r#"{"errors":["injected internal error"]}"#),
    ));

    let read = f.vnsh(&["-c", "read secret/data/five"]);
    assert_fails_with(
        &read,
        &["500", "secret/data/five", "injected internal error"],
    );

    let write = f.vnsh(&["--format", "json", "-c", "write secret/data/five a=1"]);
    assert_eq!(write.code, Some(1), "{write}");
    let doc: Value = serde_json::from_str(write.stderr.trim())
        .unwrap_or_else(|e| panic!("JSON mode: one JSON error document ({e}): {}", write.stderr));
    let msg = doc["errors"][0].as_str().unwrap_or_default().to_string();
    assert!(
        msg.contains("500") && msg.contains("secret/data/five"),
        "{doc}"
    );

    // Nothing reached the server, and it holds nothing.
    assert_eq!(f.proxy.forwarded("*", "secret/data/five"), 0);
    assert_eq!(f.secret("five").0, 404);
}

#[test]
fn an_html_page_is_an_error_saying_the_answer_is_not_json() {
    let f = fx();
    let page =
        "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";
    f.proxy
        .add(Rule::on("GET", "secret/data/gw", Fault::html(502, page)));
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/portal",
        Fault::html(200, "<html><body>Please log in to the Wi-Fi</body></html>"),
    ));

    let bad_gateway = f.vnsh(&["-c", "read secret/data/gw"]);
    assert_fails_with(
        &bad_gateway,
        &["not json", "502", "secret/data/gw", "bad gateway"],
    );

    // A 200 that is a web page (a captive portal) is no more an answer than a 502.
    let portal = f.vnsh(&["-c", "read secret/data/portal"]);
    assert_fails_with(&portal, &["not json", "200", "secret/data/portal"]);
    assert_eq!(f.proxy.forwarded("*", "secret/data/"), 0);
}

#[test]
fn an_answer_cut_off_in_transit_is_an_error_naming_the_request() {
    let f = fx();
    f.api
        .kv2_put("", "secret", "cut", json!({ "payload": "x".repeat(4000) }));
    // The head promises more than arrives, then the connection closes.
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/cut",
        Fault::Truncate { keep: 100 },
    ));
    let cut = f.vnsh(&["-c", "read secret/data/cut"]);
    assert_fails_with(&cut, &["secret/data/cut"]);
    let said = cut.stderr.to_lowercase();
    assert!(
        [
            "truncated",
            "cut off",
            "incomplete",
            "ended before",
            "closed before"
        ]
        .iter()
        .any(|w| said.contains(w)),
        "the error should say the answer was cut off: {cut}"
    );
    assert!(cut.stdout.trim().is_empty(), "nothing partial shown: {cut}");
    assert_eq!(f.proxy.forwarded("GET", "secret/data/cut"), 1);
}

#[test]
fn a_complete_answer_of_broken_json_is_an_error_naming_the_request() {
    let f = fx();
    f.proxy.add(Rule::on(
        "LIST",
        "secret/metadata",
        Fault::json(200, r#"{"data":{"keys":["a","b"#),
    ));
    let broken = f.vnsh(&["-c", "list secret/metadata/"]);
    assert_fails_with(&broken, &["not json", "secret/metadata"]);
    assert!(broken.stdout.trim().is_empty(), "no partial list: {broken}");
    assert_eq!(f.proxy.forwarded("LIST", "secret/metadata"), 0);
}

#[test]
fn a_malformed_answer_is_an_error_naming_the_request() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/garbage",
        Fault::Raw(b"\x00\x01 this is not HTTP at all\r\n\r\n".to_vec()),
    ));
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/badutf8",
        Fault::Status {
            code: 200,
            content_type: "application/json".into(),
            body: b"{\"data\":{\"v\":\"\xff\xfe\"}}".to_vec(),
        },
    ));
    let garbage = f.vnsh(&["-c", "read secret/data/garbage"]);
    assert_fails_with(&garbage, &["secret/data/garbage"]);
    let bad_utf8 = f.vnsh(&["-c", "read secret/data/badutf8"]);
    assert_fails_with(&bad_utf8, &["secret/data/badutf8", "not json"]);
    assert_eq!(f.proxy.forwarded("*", "secret/data/"), 0);
}

#[test]
fn data_null_or_keys_of_the_wrong_type_are_errors_naming_the_path() {
    let f = fx();
    f.api.mkns_all(&["real".to_string()]);
    let cases: [(&str, &str, &str, &str); 4] = [
        ("LIST", "sys/namespaces", r#"{"data":null}"#, "ns list"),
        (
            "LIST",
            "sys/namespaces",
            r#"{"data":{"keys":[1,{"a":2}]}}"#,
            "ns list",
        ),
        (
            "LIST",
            "secret/metadata",
            r#"{"data":{"keys":"oops"}}"#,
            "list secret/metadata/",
        ),
        (
            "LIST",
            "secret/metadata",
            r#"{"data":null}"#,
            "list secret/metadata/",
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, line) in cases {
        f.proxy.clear();
        f.proxy.add(Rule::on(method, path, Fault::json(200, body)));
        let run = f.vnsh(&["-c", line]);
        if run.code != Some(1) || !run.stderr.contains(path) {
            wrong.push(format!(
                "`{line}` answered {body}: wanted exit 1 and an error naming {path}; got {run}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The server itself was never asked, and still has its namespace.
    assert_eq!(f.proxy.forwarded("LIST", "sys/namespaces"), 0);
    assert_eq!(f.api.list("", "sys/namespaces"), vec!["real/".to_string()]);
}

// ---------------------------------------------------------------------------------------
// Connections that break
// ---------------------------------------------------------------------------------------

#[test]
fn a_reset_before_a_read_is_sent_is_an_error_and_nothing_reached_the_server() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/rst",
        Fault::ResetBeforeForward,
    ));
    let run = f.vnsh(&["-c", "read secret/data/rst"]);
    assert_fails_with(&run, &["secret/data/rst"]);
    assert!(
        run.stderr.to_lowercase().contains("reset"),
        "the error should say the connection was reset: {}",
        run.stderr
    );
    assert!(f.proxy.received("GET", "secret/data/rst") >= 1);
    assert_eq!(f.proxy.forwarded("GET", "secret/data/rst"), 0);
}

#[test]
fn a_reset_after_a_read_was_sent_is_an_error_naming_the_request() {
    let f = fx();
    f.api.kv2_put("", "secret", "rsta", json!({ "v": "1" }));
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/rsta",
        Fault::ResetAfterForward,
    ));
    let run = f.vnsh(&["-c", "read secret/data/rsta"]);
    assert_fails_with(&run, &["secret/data/rsta", "reset"]);
    assert!(run.stdout.trim().is_empty(), "{run}");
    assert!(f.proxy.forwarded("GET", "secret/data/rsta") >= 1);
}

#[test]
fn a_reset_after_a_write_was_sent_is_an_error_and_the_server_did_act() {
    let f = fx();
    f.proxy.add(Rule::on(
        "POST",
        "sys/namespaces/acted",
        Fault::ResetAfterForward,
    ));
    let run = f.vnsh(&["-c", "ns create acted"]);
    assert_fails_with(&run, &["sys/namespaces/acted"]);
    // The answer was lost, the write was not: the server has the namespace.
    assert_eq!(f.proxy.forwarded("POST", "sys/namespaces/acted"), 1);
    assert_eq!(f.api.list("", "sys/namespaces"), vec!["acted/".to_string()]);
}

#[test]
fn a_reset_before_a_lock_is_sent_leaves_it_unlocked_and_reports_may_be_locked() {
    let f = fx();
    f.api.mkns_all(&["resetbefore".to_string()]);
    f.proxy
        .add(Rule::on("POST", "api-lock/lock", Fault::ResetBeforeForward));
    let run = f.vnsh(&["--yes", "-c", "lock resetbefore"]);
    // vnsh cannot tell this reset from one after the server acted: it must not say
    // "not locked", and it must not be silent.
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        says_may_be_locked(&run.stderr, "resetbefore"),
        "a lock whose answer never came: `resetbefore may be locked, key never received`: {}",
        run.stderr
    );
    assert_eq!(f.proxy.forwarded("POST", "api-lock/lock"), 0);
    assert!(!f.locked("resetbefore"), "the server never saw the lock");
}

#[test]
fn a_reset_after_a_lock_was_sent_reports_may_be_locked_key_never_received() {
    let f = fx();
    f.api.mkns_all(&["resetafter".to_string()]);
    f.proxy
        .add(Rule::on("POST", "api-lock/lock", Fault::ResetAfterForward));
    let run = f.vnsh(&["--yes", "-c", "lock resetafter"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        says_may_be_locked(&run.stderr, "resetafter"),
        "`resetafter may be locked, key never received`: {}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains("sudo"),
        "the next step: a sudo token can unlock it: {}",
        run.stderr
    );
    // The server did lock it.
    assert_eq!(f.proxy.forwarded("POST", "api-lock/lock"), 1);
    assert!(f.locked("resetafter"));

    // A new vnsh says so at start, and `locks` says so too.
    f.proxy.clear();
    let start = f.vnsh(&["-c", "pwd"]);
    assert!(
        says_may_be_locked(&start.stderr, "resetafter"),
        "a new session reports it at start: {}",
        start.stderr
    );
    let locks = f.vnsh(&["-c", "locks"]);
    assert!(
        says_may_be_locked(&locks.all(), "resetafter"),
        "`locks` reports it: {}",
        locks.all()
    );
    // And the sudo unlock it points at works.
    let unlock = f.vnsh(&["--yes", "-c", "unlock resetafter"]);
    assert_eq!(unlock.code, Some(0), "{unlock}");
    assert!(!f.locked("resetafter"));
}

#[test]
fn a_read_slower_than_the_timeout_times_out_naming_the_time_and_the_setting() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/slow",
        Fault::Delay {
            before: Duration::from_secs(4),
            after: Duration::ZERO,
        },
    ));
    let run = f.vnsh_env(
        &[("VAULT_CLIENT_TIMEOUT", "1s")],
        &["-c", "read secret/data/slow"],
    );
    assert_fails_with(
        &run,
        &[
            "timed out",
            "1s",
            "secret/data/slow",
            "VAULT_CLIENT_TIMEOUT",
        ],
    );
    assert!(
        run.elapsed < Duration::from_secs(3),
        "gave up after {:?}, not after the 1s asked",
        run.elapsed
    );
}

#[test]
fn a_timeout_under_a_second_is_named_as_it_is_not_0s() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/slow",
        Fault::Delay {
            before: Duration::from_secs(3),
            after: Duration::ZERO,
        },
    ));
    let run = f.vnsh_env(
        &[("VAULT_CLIENT_TIMEOUT", "500ms")],
        &["-c", "read secret/data/slow"],
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.elapsed < Duration::from_secs(2), "{run}");
    assert!(!run.stderr.contains("after 0s"), "500 ms is not 0s: {run}");
    assert!(
        ["500ms", "0.5s", "500 ms"]
            .iter()
            .any(|t| run.stderr.contains(t)),
        "names the 500 ms waited: {run}"
    );
}

#[test]
fn a_lock_answer_slower_than_the_timeout_reports_may_be_locked() {
    let f = fx();
    f.api.mkns_all(&["slowlock".to_string()]);
    f.proxy.add(Rule::on(
        "POST",
        "api-lock/lock",
        Fault::Delay {
            before: Duration::ZERO,
            after: Duration::from_secs(4),
        },
    ));
    let run = f.run(
        &["--yes", "-c", "lock slowlock"],
        Spec {
            envs: vec![("VAULT_CLIENT_TIMEOUT", "1s".into())],
            ..Spec::default()
        },
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        says_may_be_locked(&run.stderr, "slowlock"),
        "the lock timed out after it was sent: `slowlock may be locked, key never received`: {}",
        run.stderr
    );
    assert!(f.locked("slowlock"), "the server locked it");
    assert!(f.stored_keys("slowlock/").is_empty());
}

// ---------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------

#[test]
fn a_same_origin_redirect_is_followed() {
    let f = fx();
    f.api
        .kv2_put("", "secret", "moved", json!({ "here": "yes" }));
    f.proxy.add(
        Rule::on(
            "GET",
            "secret/data/moved",
            Fault::Redirect {
                code: 307,
                location: f.proxy.url("/v1/secret/data/moved"),
            },
        )
        .times(1),
    );
    let run = f.vnsh(&["--format", "json", "-c", "read secret/data/moved"]);
    assert_eq!(run.code, Some(0), "{run}");
    let doc: Value = serde_json::from_str(run.stdout.trim()).expect("JSON");
    assert_eq!(doc["data"]["data"]["here"], "yes");
    assert_eq!(f.proxy.received("GET", "secret/data/moved"), 2);
    assert_eq!(f.proxy.forwarded("GET", "secret/data/moved"), 1);
}

#[test]
fn a_redirect_loop_is_named_a_loop_not_another_host() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/loop",
        Fault::Redirect {
            code: 307,
            location: f.proxy.url("/v1/secret/data/loop"),
        },
    ));
    let run = f.vnsh(&["-c", "read secret/data/loop"]);
    assert_fails_with(&run, &["secret/data/loop"]);
    let said = run.stderr.to_lowercase();
    assert!(
        said.contains("loop") || said.contains("too many redirects"),
        "a same-origin redirect loop is a loop: {}",
        run.stderr
    );
    assert!(
        !said.contains("another host"),
        "it is the same host: {}",
        run.stderr
    );
    assert!(
        f.proxy.received("GET", "secret/data/loop") <= 11,
        "it stops following: {} requests",
        f.proxy.received("GET", "secret/data/loop")
    );
    assert_eq!(f.proxy.forwarded("GET", "secret/data/loop"), 0);
}

#[test]
fn a_cross_host_redirect_is_refused_and_the_other_host_receives_nothing() {
    let f = fx();
    let catcher = Catcher::start();
    f.api.mkns_all(&["xh".to_string()]);
    for (method, path) in [
        ("GET", "secret/data/away"),
        ("*", "secret/data/wr"),
        ("POST", "api-lock/lock"),
    ] {
        f.proxy.add(Rule::on(
            method,
            path,
            Fault::Redirect {
                code: 307,
                location: catcher.url(&format!("/v1/{path}")),
            },
        ));
    }
    let read = f.vnsh(&["-c", "read secret/data/away"]);
    assert_fails_with(&read, &["secret/data/away", &catcher.url(""), "VAULT_ADDR"]);
    let write = f.vnsh(&["-c", "write secret/data/wr token_like=s.abcdef"]);
    assert_fails_with(&write, &["secret/data/wr"]);
    let lock = f.vnsh(&["--yes", "-c", "lock xh"]);
    assert_eq!(lock.code, Some(1), "{lock}");

    // Give a stray connection time to show, then: not a connection, not a byte.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        catcher.received(),
        (0, 0),
        "the other host received something"
    );
    assert_eq!(f.proxy.forwarded("*", "secret/data/"), 0);
    assert!(!f.locked("xh"));
    assert_eq!(f.secret("wr").0, 404);
}

// ---------------------------------------------------------------------------------------
// The request goes where the line says
// ---------------------------------------------------------------------------------------

/// Whether a raw request target stays below `/v1/` with no dot segment, plain or escaped.
fn stays_below_v1(target: &str) -> bool {
    let path = target.split('?').next().unwrap_or_default();
    path.starts_with("/v1/")
        && path.split('/').all(|seg| {
            let s = seg.to_ascii_lowercase().replace("%2e", ".");
            s != "." && s != ".."
        })
}

#[test]
fn a_request_goes_only_where_the_line_says() {
    let f = fx();
    f.api.mkns_all(&[
        "victim4".to_string(),
        "t1/a".to_string(),
        "urlh".to_string(),
    ]);
    f.api.kv2_put("", "secret", "keep", json!({ "v": "kept" }));
    let mut wrong = Vec::new();

    let run = f.vnsh(&["--yes", "-c", "ns delete 'victim4#test'"]);
    if run.code != Some(1) || f.proxy.received("DELETE", "sys/namespaces/victim4") > 0 {
        wrong.push(format!(
            "`ns delete 'victim4#test'` must be refused, nothing sent: {run}"
        ));
    }
    let run = f.vnsh(&["--yes", "-c", "delete 'secret/data/keep#scratch'"]);
    let deleted_keep = f
        .proxy
        .seen()
        .iter()
        .any(|s| s.method == "DELETE" && s.path == "secret/data/keep");
    if deleted_keep || f.secret("keep").0 != 200 {
        wrong.push(format!(
            "`delete 'secret/data/keep#scratch'` deleted secret/data/keep: {run}"
        ));
    }
    let run = f.vnsh(&["--yes", "-c", "lock 't1%2Fa'"]);
    let (_, a) = f.api.call("GET", "t1/", "sys/namespaces/a", None);
    if run.code != Some(1) || a["data"]["locked"] != false || f.locked("t1") {
        wrong.push(format!(
            "`lock 't1%2Fa'` must be refused, nothing locked: {run}"
        ));
    }
    let run = f.vnsh(&["-c", "cd 'urlh#x'"]);
    if run.code != Some(1) {
        wrong.push(format!(
            "`cd 'urlh#x'` entered a namespace that does not exist: {run}"
        ));
    }
    for line in [
        "read ../sys/mounts",
        "read %2e%2e/sys/mounts",
        "read secret/../../sys/mounts",
    ] {
        let _ = f.vnsh(&["-c", line]);
    }
    for s in f.proxy.seen() {
        if !stays_below_v1(&s.target) {
            wrong.push(format!(
                "{} {} was sent: outside /v1/ or with a dot segment",
                s.method, s.target
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------------------

/// More than the 64 MB default cap.
const OVER_DEFAULT_CAP: u64 = 96 << 20;
/// What vnsh may use while refusing it: the cap itself once, and room for the rest.
const PEAK_RSS_BOUND_KIB: i64 = 192 << 10;

#[test]
fn an_answer_over_the_size_cap_is_refused_with_bounded_memory() {
    let f = fx();
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/huge",
        Fault::Huge {
            bytes: OVER_DEFAULT_CAP,
            chunked: false,
        },
    ));
    f.proxy.add(Rule::on(
        "GET",
        "secret/data/stream",
        Fault::Huge {
            bytes: OVER_DEFAULT_CAP,
            chunked: true,
        },
    ));
    for path in ["secret/data/huge", "secret/data/stream"] {
        let run = f.vnsh(&["-c", &format!("read {path}")]);
        let peak = format!(
            "{path}: vnsh peaked at {} MiB with a {} MiB answer",
            run.max_rss_kib >> 10,
            OVER_DEFAULT_CAP >> 20
        );
        eprintln!("{peak}");
        assert_eq!(run.code, Some(1), "{peak}; {run}");
        assert_fails_with(&run, &[path, "VNSH_MAX_RESPONSE_BYTES"]);
        assert!(run.max_rss_kib < PEAK_RSS_BOUND_KIB, "{peak}");
        assert_eq!(run.stdout_len, 0, "{path}: nothing printed");
    }
}

#[test]
fn the_size_cap_is_set_by_vnsh_max_response_bytes() {
    let f = fx();
    // A real answer of about 300 kB from the server.
    f.api
        .kv2_put("", "secret", "big", json!({ "blob": "b".repeat(300_000) }));
    let refused = f.vnsh_env(
        &[("VNSH_MAX_RESPONSE_BYTES", "100000")],
        &["-c", "read secret/data/big"],
    );
    assert_fails_with(
        &refused,
        &["secret/data/big", "VNSH_MAX_RESPONSE_BYTES", "100000"],
    );
    let allowed = f.vnsh_env(
        &[("VNSH_MAX_RESPONSE_BYTES", "10000000")],
        &["--format", "json", "-c", "read secret/data/big"],
    );
    assert_eq!(allowed.code, Some(0), "{}", allowed.stderr);
    let doc: Value = serde_json::from_str(allowed.stdout.trim()).expect("JSON");
    assert_eq!(
        doc["data"]["data"]["blob"].as_str().map(str::len),
        Some(300_000)
    );
    // Both reached the real server; only the answer's size differed.
    assert_eq!(f.proxy.forwarded("GET", "secret/data/big"), 2);
}

// ---------------------------------------------------------------------------------------
// Input vnsh cannot read
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_in_a_script_is_an_error_naming_the_line() {
    let f = fx();
    let script = b"ns create before\nns create bad\xff\xfename\nns create after\n".to_vec();
    let run = f.run(
        &[],
        Spec {
            stdin: Some(script),
            ..Spec::default()
        },
    );
    assert_fails_with(&run, &["line 2", "utf-8"]);
    // Line 1 ran, nothing after line 2 did.
    let have = f.api.list("", "sys/namespaces");
    assert_eq!(have, vec!["before/".to_string()], "{have:?}");
    assert_eq!(f.proxy.forwarded("POST", "sys/namespaces/after"), 0);
}

// ---------------------------------------------------------------------------------------
// A key store that cannot take the key
// ---------------------------------------------------------------------------------------

/// Run `lock NAME` with a broken store and check: refused (exit 1) naming the store and
/// `needles`, nothing sent (the proxy saw no lock request), not locked, store untouched.
fn assert_lock_refused(f: &Fx, name: &str, spec: Spec, needles: &[&str]) {
    let path = f.store_path();
    let before = snapshot(&path);
    f.proxy.forget();
    let run = f.run(&["--yes", "-c", &format!("lock {name}")], spec);
    assert_fails_with(&run, needles);
    assert!(
        !run.stdout.contains("Unlock key"),
        "no lock, so no key: {}",
        run.stdout
    );
    assert_eq!(
        f.proxy.received("POST", "api-lock"),
        0,
        "the lock of {name} was sent although the store cannot take its key"
    );
    assert!(!f.locked(name), "{name} was locked");
    assert_eq!(snapshot(&path), before, "the store was changed");
}

/// The store as it is on disk: a file's bytes, or a directory's listing.
fn snapshot(path: &Path) -> Option<Vec<u8>> {
    if path.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        return Some(names.join("\n").into_bytes());
    }
    std::fs::read(path).ok()
}

/// A test world with namespace `name` and a state dir holding a store made by `make`.
fn with_store(name: &str, make: impl FnOnce(&Path)) -> Fx {
    let f = fx();
    f.api.mkns_all(&[name.to_string()]);
    std::fs::create_dir_all(f.env.vnsh_state()).expect("state dir");
    make(&f.store_path());
    f
}

#[test]
fn a_store_that_is_not_json_refuses_the_lock_with_nothing_sent() {
    let f = with_store("garbage", |p| {
        std::fs::write(
            p,
            b"{\"version\":1,\"keys\":[{\"namespace\":\"old/\",\"key\":\"K",
        )
        .expect("write")
    });
    assert_lock_refused(
        &f,
        "garbage",
        Spec::default(),
        &["unlock-keys.json", "corrupt", "move it aside"],
    );
}

#[test]
fn a_store_of_a_newer_version_refuses_the_lock_with_nothing_sent() {
    let f = with_store("newer", |p| {
        std::fs::write(p, br#"{"version":99,"keys":[]}"#).expect("write")
    });
    assert_lock_refused(
        &f,
        "newer",
        Spec::default(),
        &["unlock-keys.json", "version 99"],
    );
}

#[test]
fn a_store_that_is_a_directory_refuses_the_lock_with_nothing_sent() {
    let f = with_store("isdir", |p| {
        std::fs::create_dir(p).expect("mkdir");
        std::fs::write(p.join("keep"), b"x").expect("write");
    });
    assert_lock_refused(&f, "isdir", Spec::default(), &["unlock-keys.json"]);
}

/// Makes a directory read-only for the duration of a test; restores it when dropped.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn new(dir: &Path) -> ReadOnly {
        set_mode(dir, 0o500);
        ReadOnly(dir.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        set_mode(&self.0, 0o700);
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The user to run vnsh as so that file modes apply: as root they would not, so the
/// test dir is given to `nobody`, and a copy of vnsh in it (the build dir may be where
/// `nobody` cannot go) runs as `nobody`. `None` when not root: modes apply already.
fn unprivileged(dir: &Path) -> Option<(u32, PathBuf)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    const NOBODY: u32 = 65534;
    let bin = dir.join("vnsh-as-nobody");
    std::fs::copy(vnsh_bin(), &bin).expect("copy vnsh");
    fn chown_all(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).expect("path");
        unsafe { libc::lchown(c.as_ptr(), NOBODY, NOBODY) };
        if p.is_dir() && !p.is_symlink() {
            for e in std::fs::read_dir(p).expect("read dir").flatten() {
                chown_all(&e.path());
            }
        }
    }
    chown_all(dir);
    Some((NOBODY, bin))
}

#[test]
fn a_read_only_store_refuses_the_lock_with_nothing_sent() {
    let f = fx();
    f.api.mkns_all(&["first".to_string(), "second".to_string()]);
    let user = unprivileged(f.env.dir.path());
    // A working store with one key in it.
    let first = f.run(
        &["--yes", "-c", "lock first"],
        Spec {
            user: user.clone(),
            ..Spec::default()
        },
    );
    assert_eq!(first.code, Some(0), "{first}");
    assert_eq!(f.stored_keys("first/").len(), 1);

    let _ro = ReadOnly::new(&f.env.vnsh_state());
    assert_lock_refused(
        &f,
        "second",
        Spec {
            user,
            ..Spec::default()
        },
        &["unlock-keys.json"],
    );
    // The key already there is still there.
    assert_eq!(f.stored_keys("first/").len(), 1);
}

// ---------------------------------------------------------------------------------------
// kill -9 around lock
// ---------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), seeded per run of the suite.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi`.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_micros().max(1) as u64;
        lo + Duration::from_micros(self.next() % span)
    }
}

/// How one killed lock ended.
#[derive(Debug, Default)]
struct Tally {
    /// Never locked (killed before the request was sent, or before it arrived).
    not_locked: usize,
    /// Locked, and the store holds the key that unlocks it.
    key_saved: usize,
    /// Locked, the key cut short in a write and recovered by the next vnsh (it unlocks).
    recovered: usize,
    /// Locked, no key, and a new vnsh reports it (at start and in `locks`).
    reported: usize,
    /// Locked, no key, not reported: what must never happen.
    silent: usize,
    /// vnsh finished before the kill.
    finished: usize,
}

#[test]
fn kill_9_around_lock_never_loses_a_key_silently() {
    let runs: usize = std::env::var("VNSH_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("VNSH_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let mut rng = Rng(seed);
    let f = fx();
    let names: Vec<String> = (0..runs).map(|i| format!("k{i}")).collect();
    f.api.mkns_all(&names);
    f.api.mkns_all(&["kbase".to_string()]);

    // How long a whole lock takes here (the median of three, the machine being shared):
    // the kills are spread from a few ms to past its end.
    let mut took: Vec<Duration> = (0..3)
        .map(|_| {
            let base = f.run(
                &["--yes", "-c", "lock kbase"],
                Spec {
                    direct: true,
                    ..Spec::default()
                },
            );
            assert_eq!(base.code, Some(0), "{base}");
            f.sudo_unlock("kbase");
            base.elapsed
        })
        .collect();
    took.sort();
    let full = took[1];

    // Odd runs go through the proxy, which holds the answer back 30 ms after the server
    // locked: a wider window between the lock and its key.
    let hold = Duration::from_millis(30);
    f.proxy.add(Rule::on(
        "POST",
        "api-lock/lock",
        Fault::Delay {
            before: Duration::ZERO,
            after: hold,
        },
    ));
    let mut tally = Tally::default();
    let mut outcomes: std::collections::HashMap<String, Outcome> = Default::default();
    let mut silent = Vec::new();
    let mut killed_at = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let direct = i % 2 == 0;
        let end = if direct { full } else { full + hold } * 2;
        let at = rng.between(Duration::from_millis(2), end);
        let run = f.run(
            &["--yes", "-c", &format!("lock {name}")],
            Spec {
                kill_after: Some(at),
                direct,
                ..Spec::default()
            },
        );
        if run.code.is_some() {
            tally.finished += 1;
        }
        if let Some((outcome, what)) = examine(&f, name, direct) {
            outcomes.insert(name.clone(), outcome);
            if let Outcome::Silent = outcome {
                silent.push(format!("killed at {at:?}: {what}"));
            }
        }
        killed_at.push((name.clone(), direct, at));
    }
    // A request sent just before the kill may still be on its way when its namespace is
    // first looked at: look again at the others once every run is over.
    std::thread::sleep(Duration::from_millis(500));
    for (name, direct, at) in &killed_at {
        if outcomes.contains_key(name) {
            continue;
        }
        if let Some((outcome, what)) = examine(&f, name, *direct) {
            outcomes.insert(name.clone(), outcome);
            if let Outcome::Silent = outcome {
                silent.push(format!("killed at {at:?} (locked late): {what}"));
            }
        }
    }
    for name in &names {
        match outcomes.get(name) {
            Some(Outcome::KeySaved) => tally.key_saved += 1,
            Some(Outcome::Recovered) => tally.recovered += 1,
            Some(Outcome::Reported) => tally.reported += 1,
            Some(Outcome::Silent) => tally.silent += 1,
            None => tally.not_locked += 1,
        }
    }
    eprintln!(
        "kill -9 loop: {runs} runs (seed {seed}, a whole lock {full:?}): {} never locked, {} locked with the key saved, \
         {} recovered by the next vnsh, {} locked and reported as may be locked, {} silent losses; {} finished before the kill",
        tally.not_locked, tally.key_saved, tally.recovered, tally.reported, tally.silent, tally.finished
    );
    let direct_losses = silent.iter().filter(|s| s.contains("(direct)")).count();
    eprintln!(
        "kill -9 loop: silent losses {direct_losses} of {} direct runs, {} of {} runs through the proxy",
        runs.div_ceil(2),
        silent.len() - direct_losses,
        runs / 2
    );
    assert!(
        silent.is_empty(),
        "{} of {runs} killed locks lost their key silently (seed {seed}, VNSH_KILL_SEED to repeat):\n{}",
        silent.len(),
        silent.join("\n")
    );
}

/// What became of one killed lock that did lock its namespace.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// The store holds the key that unlocks it.
    KeySaved,
    /// The key was in a write cut short; the next vnsh said it recovered it, and it unlocks.
    Recovered,
    /// No key, and a new vnsh reports it at start and in `locks`.
    Reported,
    /// No key, not reported.
    Silent,
}

/// `None` when `name` is not locked. Else: is its key in the store (it must unlock it), or
/// does a new vnsh (talking to the same address as the killed one) report it at start
/// and in `locks`? Leaves `name` unlocked; the text describes a silent loss.
fn examine(f: &Fx, name: &str, direct: bool) -> Option<(Outcome, String)> {
    if !f.locked(name) {
        return None;
    }
    // The store must still parse after every kill (stored_keys panics otherwise).
    if f.stored_keys(&format!("{name}/"))
        .iter()
        .any(|k| f.unlocks(name, k))
    {
        return Some((Outcome::KeySaved, String::new()));
    }
    let spec = || Spec {
        direct,
        ..Spec::default()
    };
    let start = f.run(&["-c", "pwd"], spec());
    // A key whose write was cut short is recovered by the next vnsh, which says so: it
    // must then be in the store and unlock the namespace.
    if start.stderr.contains("recovered")
        && f.stored_keys(&format!("{name}/"))
            .iter()
            .any(|k| f.unlocks(name, k))
    {
        return Some((Outcome::Recovered, String::new()));
    }
    let locks = f.run(&["-c", "locks"], spec());
    f.sudo_unlock(name);
    if says_may_be_locked(&start.stderr, name) && says_may_be_locked(&locks.all(), name) {
        return Some((Outcome::Reported, String::new()));
    }
    Some((
        Outcome::Silent,
        format!(
            "{name} ({}): locked, no key, and a new vnsh said at start: {:?}; in locks: {:?}",
            if direct { "direct" } else { "proxy" },
            start.stderr.trim(),
            locks.all().trim()
        ),
    ))
}
