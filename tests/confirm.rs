//! No destructive surprise (issue 13), against a real OpenBao: who is asked (a terminal
//! in every front end, `-c` included; a script without `--yes` is refused with nothing
//! sent), the checks that come before any question (read-only, already locked, below a
//! locked namespace, children, names), the nested-lock rules and `ns delete --wait`
//! (issue 15), and the engine's Confirm-then-Started order for the TUI.
mod common;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::proxy::Proxy;
use common::tmux::Tmux;
use common::{stderr, Api, Env};
use serde_json::Value;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `vnsh ARGS` in a real terminal (120×40, wrapped lines joined), through `addr`.
fn terminal(env: &Env, addr: &str, args: &[&str]) -> Tmux {
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.env("VAULT_ADDR", addr).args(args);
    Tmux::builder(&cmd).size(120, 40).joined().start()
}

/// `vnsh ARGS` with no terminal (stdin is /dev/null), through `addr`.
fn unattended(env: &Env, addr: &str, args: &[&str]) -> Output {
    env.command(common::vnsh_bin(), env.server.token())
        .env("VAULT_ADDR", addr)
        .args(args)
        .output()
        .expect("run vnsh")
}

/// Whether `path` ("a/b") exists, asked of its parent.
fn exists(api: &Api, path: &str) -> bool {
    let (parent, name) = split(path);
    api.call("GET", &parent, &format!("sys/namespaces/{name}"), None)
        .0
        == 200
}

/// Whether `path` ("a/b") is locked, from one SCAN at the root (which sees inside locks).
fn locked(api: &Api, path: &str) -> bool {
    api.scan("")
        .get(&format!("{path}/"))
        .copied()
        .unwrap_or_else(|| panic!("{path} not found"))
}

fn split(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some((p, n)) => (format!("{p}/"), n.to_string()),
        None => (String::new(), path.to_string()),
    }
}

/// The key store's document, or Null when there is none.
fn store(env: &Env) -> Value {
    let path = env.vnsh_state().join("unlock-keys.json");
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).expect("store JSON"),
        Err(_) => Value::Null,
    }
}

/// How many keys and how many intents the store holds.
fn store_counts(env: &Env) -> (usize, usize) {
    let doc = store(env);
    let n = |f: &str| doc[f].as_array().map_or(0, Vec::len);
    (n("keys"), n("intents"))
}

/// The requests the proxy saw that change something (anything but GET, LIST, SCAN).
fn writes(proxy: &Proxy) -> Vec<String> {
    proxy
        .seen()
        .into_iter()
        .filter(|s| !matches!(s.method.as_str(), "GET" | "LIST" | "SCAN"))
        .map(|s| format!("{} {} [{}]", s.method, s.path, s.namespace))
        .collect()
}

/// The action log's entries.
fn log(env: &Env) -> Vec<Value> {
    match fs::read_to_string(env.vnsh_state().join("actions.jsonl")) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn wait_exit(t: &Tmux) -> i32 {
    let deadline = std::time::Instant::now() + common::tmux::TIMEOUT;
    loop {
        if let Some(code) = t.exit_status() {
            return code;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "vnsh did not exit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Seen: `vnsh -c 'ns delete dev; delete secret/data/db'` typed in a terminal deleted both
/// with no question.
#[test]
fn dash_c_in_a_terminal_asks_and_no_sends_nothing() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("dev");
    api.kv2_put("", "secret", "db", serde_json::json!({"password": "x"}));
    let proxy = Proxy::start(env.server.addr());
    let line = "ns delete dev; delete secret/data/db";

    let t = terminal(&env, &proxy.addr(), &["-c", line]);
    let screen = t.wait_count("[y/N]", 1);
    assert!(
        screen.contains("Delete namespace dev and everything in it"),
        "{screen}"
    );
    assert!(
        writes(&proxy).is_empty(),
        "sent before the answer: {:?}",
        writes(&proxy)
    );
    t.line("n");
    // The next command asks its own question.
    let screen = t.wait_count("[y/N]", 2);
    assert!(
        screen.contains("Delete secret/data/db in namespace /"),
        "{screen}"
    );
    t.keys(&["Enter"]);
    let code = wait_exit(&t);
    let screen = t.screen();
    assert_eq!(screen.matches("not done.").count(), 2, "{screen}");
    assert_eq!(code, 1, "not done is not a success: {screen}");
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert!(exists(&api, "dev"));
    let (status, body) = api.call("GET", "", "secret/data/db", None);
    assert_eq!(status, 200);
    assert_eq!(body["data"]["data"]["password"], "x");
    assert!(log(&env).is_empty(), "a declined command is not in the log");
    drop(t);

    // Yes to both: both are done; stdout redirected, the questions still reach the terminal.
    let out = env.dir.path().join("out.txt");
    let mut cmd = env.command(Path::new("sh"), env.server.token());
    cmd.env("VAULT_ADDR", proxy.addr()).args([
        "-c",
        &format!(
            "{} -c '{line}' > {}",
            common::vnsh_bin().display(),
            out.display()
        ),
    ]);
    let t = Tmux::builder(&cmd).size(120, 40).joined().start();
    t.wait_count("[y/N]", 1);
    t.line("y");
    t.wait_count("[y/N]", 2);
    t.line("yes");
    assert_eq!(wait_exit(&t), 0, "{}", t.screen());
    let mut gone = false;
    for _ in 0..100 {
        if !exists(&api, "dev") {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone, "dev was not deleted");
    let (_, body) = api.call("GET", "", "secret/data/db", None);
    assert_eq!(body["data"]["data"], Value::Null, "{body}");
    let text = fs::read_to_string(&out).expect("stdout file");
    assert!(
        !text.contains("[y/N]"),
        "the question went to stdout: {text}"
    );
}

/// `vnsh ARGS` with `script` on stdin (not a terminal), through `addr`.
fn script(env: &Env, addr: &str, args: &[&str], script: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = env
        .command(common::vnsh_bin(), env.server.token())
        .env("VAULT_ADDR", addr)
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

/// Seen: `echo 'lock tenant22/ml' | vnsh` locked without `--yes`.
#[test]
fn a_script_without_yes_is_refused_and_the_server_is_unchanged() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("tenant22/ml");
    api.mkns("gone");
    api.mkns("held");
    api.kv2_put("", "secret", "db", serde_json::json!({"v": "1"}));
    let held_key = api.lock("", "held");
    let proxy = Proxy::start(env.server.addr());

    // Destructive whatever the server holds: refused before anything at all is sent.
    for line in [
        "lock tenant22/ml",
        "lock 'tenant*/ml'",
        "lock",
        "ns delete gone",
        "delete secret/data/db",
        "cp -f secret/db secret/db2",
        "mv secret/db secret/moved",
    ] {
        for out in [
            script(&env, &proxy.addr(), &[], &format!("{line}\n")),
            unattended(&env, &proxy.addr(), &["-c", line]),
        ] {
            assert_eq!(out.status.code(), Some(1), "{line}: {}", stdout(&out));
            let err = stderr(&out);
            assert!(
                err.contains("--yes") && err.contains("no one can be asked"),
                "{line}: {err}"
            );
            assert!(!err.contains("[y/N]"), "{line}: {err}");
            assert!(stdout(&out).is_empty(), "{line}: {}", stdout(&out));
        }
        assert!(proxy.seen().is_empty(), "{line}: sent {:?}", proxy.seen());
    }
    // An unlock of a lock made elsewhere asks too: refused, no write sent.
    let out = script(&env, &proxy.addr(), &[], "unlock held\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));

    // The server is as it was, and the store holds no key and no intent.
    assert!(!locked(&api, "tenant22/ml"));
    assert!(exists(&api, "gone"));
    assert!(locked(&api, "held"));
    let (_, body) = api.call("GET", "", "secret/data/db", None);
    assert_eq!(body["data"]["data"]["v"], "1");
    assert_eq!(store_counts(&env), (0, 0));
    assert!(log(&env).is_empty(), "{:?}", log(&env));

    // With --yes the same script runs.
    let out = script(&env, &proxy.addr(), &["--yes"], "lock tenant22/ml\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Unlock key: "));
    assert!(locked(&api, "tenant22/ml"));
    api.ok(
        "POST",
        "",
        "sys/namespaces/api-lock/unlock/held",
        Some(serde_json::json!({ "unlock_key": held_key })),
    );
}

/// Seen: `--read-only` asked "Delete namespace …? [y/N]" and only then refused.
#[test]
fn read_only_never_shows_a_question_and_is_in_the_prompt() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    api.mkns("frozen");
    let key = api.lock("", "frozen");
    let proxy = Proxy::start(env.server.addr());

    let t = terminal(&env, &proxy.addr(), &["--line", "--read-only"]);
    t.ready("vnsh / [read-only]>");
    for (i, line) in [
        "ns delete acme",
        "lock acme",
        "unlock frozen",
        "delete secret/data/x",
        "lock 'a*'",
    ]
    .iter()
    .enumerate()
    {
        t.line(line);
        t.wait_count("this session is read-only", i + 1);
        t.ready("vnsh / [read-only]>");
    }
    let screen = t.screen();
    assert!(!screen.contains("[y/N]"), "{screen}");
    drop(t);
    // `-c` in a terminal too.
    let t = terminal(
        &env,
        &proxy.addr(),
        &["--read-only", "-c", "ns delete acme"],
    );
    assert_eq!(wait_exit(&t), 1);
    let screen = t.screen();
    assert!(
        screen.contains("read-only") && !screen.contains("[y/N]"),
        "{screen}"
    );
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert!(exists(&api, "acme") && locked(&api, "frozen"));
    api.ok(
        "POST",
        "",
        "sys/namespaces/api-lock/unlock/frozen",
        Some(serde_json::json!({ "unlock_key": key })),
    );
}

/// Seen: locking an already-locked namespace asked first and then failed with a 400.
#[test]
fn an_already_locked_target_is_refused_with_no_question_and_no_new_key() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme/team");
    api.mkns("ours");
    let key = api.lock("", "acme");
    let proxy = Proxy::start(env.server.addr());

    let t = terminal(&env, &proxy.addr(), &["--line"]);
    t.ready("vnsh />");
    t.line("lock acme");
    let screen = t.wait_for("the refusal", |s| s.contains("already locked"));
    assert!(
        screen.contains("acme is already locked") && screen.contains("locked elsewhere"),
        "{screen}"
    );
    t.ready("vnsh />");
    t.line("lock acme/team");
    let screen = t.wait_for("the refusal", |s| s.contains("and acme/team is below it"));
    assert!(
        screen.contains("namespace acme is locked, and acme/team is below it")
            && screen.contains("OpenBao refuses a lock below a locked namespace"),
        "{screen}"
    );
    t.ready("vnsh />");
    // A list with one locked target is refused whole, before its question.
    t.line("lock ours acme");
    t.wait_count("acme is already locked", 2);
    t.ready("vnsh />");
    assert!(!t.screen().contains("[y/N]"), "{}", t.screen());
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert_eq!(store_counts(&env), (0, 0), "{}", store(&env));
    assert!(!locked(&api, "ours"));

    // Locked by this key store: said so, and still nothing new in the store.
    t.line("lock ours");
    t.wait_count("[y/N]", 1);
    t.line("y");
    t.wait_for("the key", |s| s.contains("Unlock key: "));
    t.ready("vnsh />");
    let before = store(&env);
    assert_eq!(store_counts(&env), (1, 1));
    proxy.forget();
    t.line("lock ours");
    let screen = t.wait_for("the refusal", |s| s.contains("ours is already locked"));
    assert!(
        screen.contains("its key is saved in this key store"),
        "{screen}"
    );
    t.ready("vnsh />");
    assert_eq!(t.screen().matches("[y/N]").count(), 1);
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert_eq!(store(&env), before, "the store changed");
    // The refusals are in the timeline, as refused.
    let refused: Vec<Value> = log(&env)
        .into_iter()
        .filter(|e| {
            e["outcome"]
                .as_str()
                .is_some_and(|o| o.contains("already locked"))
        })
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    api.ok(
        "POST",
        "",
        "sys/namespaces/api-lock/unlock/acme",
        Some(serde_json::json!({ "unlock_key": key })),
    );
}

/// The question names the full path and what it affects.
#[test]
fn the_question_names_the_full_path_and_what_is_below() {
    let env = common::env();
    let api = Api::new(&env);
    let mut paths: Vec<String> = (0..7).map(|i| format!("acme/web/s{i}")).collect();
    paths.extend((0..7).map(|i| format!("acme/web/s0/d{i}")));
    api.mkns_all(&paths);
    api.lock("acme/web/", "s3");
    let t = terminal(&env, env.server.addr(), &["--line", "-n", "acme"]);
    t.ready("vnsh acme>");
    t.line("lock web");
    let screen = t.wait_count("[y/N]", 1);
    assert!(
        screen.contains(
            "Lock the API of acme/web and its 14 namespaces below (1 below locked already"
        ),
        "{screen}"
    );
    t.line("n");
    t.wait_count("not done.", 1);
    t.ready("vnsh acme>");
    t.line("ns delete web/s1");
    let screen = t.wait_count("[y/N]", 2);
    assert!(
        screen.contains("Delete namespace acme/web/s1 and everything in it"),
        "{screen}"
    );
    t.line("n");
    t.wait_count("not done.", 2);
    assert!(!locked(&api, "acme/web") && exists(&api, "acme/web/s1"));
}

/// The nested-lock rules (OpenBao's): explained before anything is sent.
#[test]
fn nested_lock_rules_are_explained_before_anything_is_sent() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("a/b/c");
    api.mkns("x");
    api.lock("a/", "b");
    api.lock("", "a");
    let proxy = Proxy::start(env.server.addr());
    for (line, says) in [
        ("lock a/b/c", "namespace a is locked, and a/b/c is below it"),
        ("lock a/b", "namespace a is locked, and a/b is below it"),
        (
            "unlock a/b",
            "a/b is locked, and so is a above it: OpenBao refuses to unlock a/b while a is locked; unlock a first",
        ),
        ("unlock a/b/c", "a/b/c is not locked itself; a is"),
        ("unlock x", "x is not locked (nor is any namespace above it)"),
        ("lock", "the root namespace cannot be locked"),
        ("unlock", "the root namespace is never locked"),
        ("lock nope", "namespace nope does not exist"),
        ("lock 'zz*'", "no namespace below / matches"),
        ("lock a a/b", "a/b is below a, which this lock locks too"),
    ] {
        let out = unattended(&env, &proxy.addr(), &["--yes", "-c", line]);
        assert_eq!(out.status.code(), Some(1), "{line}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{line}: {err}");
    }
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert!(locked(&api, "a") && locked(&api, "a/b") && !locked(&api, "a/b/c"));
    // In the right order they go: the top first.
    let out = unattended(
        &env,
        &proxy.addr(),
        &["--yes", "-c", "unlock a; unlock a/b"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!locked(&api, "a") && !locked(&api, "a/b"));
}

/// `ns delete`: what OpenBao refuses is refused first; the answer's status is reported;
/// `--wait` returns when the namespace is gone.
#[test]
fn ns_delete_checks_first_reports_progress_and_waits() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("p/c1");
    api.mkns("p/c2");
    api.mkns("p/c3");
    let proxy = Proxy::start(env.server.addr());
    let run = |line: &str| unattended(&env, &proxy.addr(), &["--yes", "-c", line]);

    let out = run("ns delete p");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("p has 3 child namespaces (c1, c2, c3)") && err.contains("nothing was sent"),
        "{err}"
    );
    let out = run("ns delete nope");
    assert!(
        stderr(&out).contains("namespace nope does not exist"),
        "{}",
        stderr(&out)
    );
    let key = api.lock("", "p");
    let out = run("ns delete p/c1");
    assert!(
        stderr(&out).contains("namespace p is locked") && stderr(&out).contains("cd /; unlock p"),
        "{}",
        stderr(&out)
    );
    // A locked namespace's children are counted from above.
    let out = run("ns delete p");
    assert!(
        stderr(&out).contains("p has 3 child namespaces"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    api.ok(
        "POST",
        "",
        "sys/namespaces/api-lock/unlock/p",
        Some(serde_json::json!({ "unlock_key": key })),
    );

    // --wait: gone when it returns.
    let out = run("ns delete --wait p/c1");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Deleted namespace p/c1 (gone after "),
        "{}",
        stdout(&out)
    );
    assert!(!exists(&api, "p/c1"));
    // Without it, the server's answer: in progress.
    let out = run("ns delete p/c2");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Deleting namespace p/c2: in progress")
            && text.contains("ns delete --wait p/c2"),
        "{text}"
    );
    // JSON: nothing, as before (bao has no JSON for it).
    let out = unattended(
        &env,
        &proxy.addr(),
        &[
            "--yes",
            "--format",
            "json",
            "-c",
            "ns delete --wait=30s p/c3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(!exists(&api, "p/c3"));
    let out = run("ns delete --wait p");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!exists(&api, "p"));
}

/// An unlock of a lock this key store did not make asks; of one it made, it does not.
#[test]
fn an_unlock_asks_unless_this_key_store_made_the_lock() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("theirs");
    api.mkns("ours");
    api.lock("", "theirs");
    let out = unattended(&env, env.server.addr(), &["--yes", "-c", "lock ours"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // No one to ask: ours goes, theirs is refused.
    let out = script(&env, env.server.addr(), &[], "unlock ours\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Unlocked ours with the key saved at"));
    let out = script(&env, env.server.addr(), &[], "unlock theirs\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(locked(&api, "theirs") && !locked(&api, "ours"));

    // At a terminal: asked, and done on yes.
    let t = terminal(&env, env.server.addr(), &["--line"]);
    t.ready("vnsh />");
    t.line("unlock theirs");
    let screen = t.wait_count("[y/N]", 1);
    assert!(
        screen.contains("Unlock the API of theirs? This key store holds no key of it"),
        "{screen}"
    );
    t.line("y");
    t.wait_for("unlocked", |s| s.contains("Unlocked theirs with sudo"));
    assert!(!locked(&api, "theirs"));
}

/// The TUI's engine: a question is asked only after the checks pass, and the command
/// starts only after a yes (no "running" while a question waits).
#[test]
fn the_engine_confirms_before_it_starts_and_checks_before_it_asks() {
    use tokio::sync::mpsc;
    use vnsh::engine::nspath::NsPath;
    use vnsh::engine::store::StateDir;
    use vnsh::engine::{Options, Session};
    use vnsh::tui::engine::{self, EngineEvent, EngineHandle, Request};
    use vnsh::vault::{Client, Config};

    /// What one line came to: the kinds of its job's events, in order; a question is
    /// answered `answer`.
    async fn job(
        handle: &EngineHandle,
        rx: &mut mpsc::UnboundedReceiver<EngineEvent>,
        id: u64,
        line: &str,
        answer: bool,
    ) -> Vec<String> {
        handle
            .requests
            .send(Request::Run {
                id,
                line: line.into(),
            })
            .expect("send");
        let mut kinds = Vec::new();
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("an event in time")
                .expect("the engine is alive");
            match ev {
                EngineEvent::Confirm { id: i, reply, .. } if i == id => {
                    kinds.push("confirm".to_string());
                    let _ = reply.send(answer);
                }
                EngineEvent::Started { id: i, .. } if i == id => kinds.push("started".to_string()),
                EngineEvent::Finished { id: i, result, .. } if i == id => {
                    kinds.push(match result {
                        Ok(out) => format!("ok {:?}", out.notes),
                        Err(e) => format!("error {e}"),
                    })
                }
                EngineEvent::Done { id: i, .. } if i == id => return kinds,
                _ => {}
            }
        }
    }

    let env = common::env();
    let api = Api::new(&env);
    api.mkns("x");
    api.mkns("p/c");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (addr, token) = (
            env.server.addr().to_string(),
            env.server.token().to_string(),
        );
        let config = Config::from_lookup(
            |k| match k {
                "VAULT_ADDR" => Some(addr.clone()),
                "VAULT_TOKEN" => Some(token.clone()),
                _ => None,
            },
            || None,
        );
        let client = Client::new(&config).expect("client");
        let session = Session::new(
            client,
            NsPath::root(),
            Options::default(),
            StateDir::at(env.vnsh_state()),
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (handle, _task) = engine::spawn(session, tx, |e| e);
        let kinds = job(&handle, &mut rx, 1, "lock x", false).await;
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert_eq!(kinds[0], "confirm");
        assert!(kinds[1].contains("not done"), "{kinds:?}");
        let kinds = job(&handle, &mut rx, 2, "ns delete p", true).await;
        assert_eq!(kinds.len(), 1, "refused before any question: {kinds:?}");
        assert!(kinds[0].contains("child namespace"), "{kinds:?}");
        let kinds = job(&handle, &mut rx, 3, "lock x", true).await;
        assert_eq!(kinds[..2], ["confirm", "started"], "{kinds:?}");
        assert!(kinds[2].starts_with("ok"), "{kinds:?}");
    });
    assert!(locked(&api, "x"));
}

/// `ns delete --wait` while the server still shows the namespace (tainted): the proxy
/// answers its lookups as the server does during a long deletion. Progress is told as it
/// waits, and the wait is bounded.
#[test]
fn ns_delete_wait_tells_progress_and_is_bounded() {
    use common::proxy::{Fault, Rule};
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("p/slow1");
    api.mkns("p/slow2");
    let proxy = Proxy::start(env.server.addr());
    let tainted = |name: &str| {
        Fault::json(
            200,
            &format!(
                r#"{{"data":{{"custom_metadata":{{}},"id":"x","locked":false,"path":"p/{name}/","tainted":true}}}}"#
            ),
        )
    };
    // Never gone: the bound ends the wait, naming the state.
    proxy.add(Rule::on("GET", "sys/namespaces/slow1", tainted("slow1")));
    let started = std::time::Instant::now();
    let out = unattended(
        &env,
        &proxy.addr(),
        &["--yes", "-c", "ns delete --wait=2s p/slow1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("p/slow1 is still there after 2.") && err.contains("tainted: being deleted"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    // Gone after a while: progress lines meanwhile, then done.
    proxy.clear();
    proxy.add(Rule::on("GET", "sys/namespaces/slow2", tainted("slow2")).times(10));
    let out = unattended(
        &env,
        &proxy.addr(),
        &["--yes", "-c", "ns delete --wait p/slow2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("waiting for p/slow2 to be gone: ")
            && err.contains("(tainted: being deleted)"),
        "{err}"
    );
    assert!(
        err.contains("p/slow2 is tainted: it is being deleted already"),
        "tainted shown: {err}"
    );
    assert!(
        stdout(&out).contains("Deleted namespace p/slow2 (gone after "),
        "{}",
        stdout(&out)
    );
    assert!(!exists(&api, "p/slow2"));
}
