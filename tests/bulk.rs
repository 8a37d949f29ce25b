//! Bulk incident actions (issue 13), against a real OpenBao: `lock A B C` and a pattern
//! lock all or none — every key saved before any is shown, a failure undone with the saved
//! keys — and `unlock --mine` unlocks exactly what this key store locked on this server.
//! One action-log entry per namespace.
mod common;

use std::fs;
use std::process::Output;

use common::proxy::Proxy;
use common::tmux::Tmux;
use common::{stderr, Api, Env};
use serde_json::Value;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(env: &Env, addr: &str, token: &str, args: &[&str]) -> Output {
    env.command(common::vnsh_bin(), token)
        .env("VAULT_ADDR", addr)
        .args(args)
        .output()
        .expect("run vnsh")
}

/// Every namespace's lock state, from one SCAN at the root.
fn states(api: &Api) -> std::collections::BTreeMap<String, bool> {
    api.scan("")
}

fn locked_ones(api: &Api) -> Vec<String> {
    states(api)
        .into_iter()
        .filter(|(_, l)| *l)
        .map(|(k, _)| k)
        .collect()
}

fn store(env: &Env) -> Value {
    match fs::read(env.vnsh_state().join("unlock-keys.json")) {
        Ok(b) => serde_json::from_slice(&b).expect("store JSON"),
        Err(_) => Value::Null,
    }
}

fn log(env: &Env) -> Vec<Value> {
    match fs::read_to_string(env.vnsh_state().join("actions.jsonl")) {
        Ok(t) => t
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The `Unlock key: K` lines of a lock's output, in order.
fn printed_keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Unlock key: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_bulk_lock_locks_every_one_and_saves_every_key() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/a".into(), "acme/b/deep".into(), "acme/c".into()]);
    let out = run(
        &env,
        env.server.addr(),
        env.server.token(),
        &["--yes", "-n", "acme", "-c", "lock a b c"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let keys = printed_keys(&stdout(&out));
    assert_eq!(keys.len(), 3, "{}", stdout(&out));
    assert_eq!(locked_ones(&api), ["acme/a/", "acme/b/", "acme/c/"]);
    // Each key is in the store, under its full path, with its intent closed.
    let doc = store(&env);
    let saved: Vec<(String, String)> = doc["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["namespace"].as_str().unwrap().to_string(),
                k["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        saved,
        vec![
            ("acme/a/".to_string(), keys[0].clone()),
            ("acme/b/".to_string(), keys[1].clone()),
            ("acme/c/".to_string(), keys[2].clone()),
        ]
    );
    assert!(
        doc["intents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["state"] == "completed"),
        "{doc}"
    );
    // One log entry per namespace.
    let entries: Vec<(String, String)> = log(&env)
        .iter()
        .map(|e| {
            (
                e["command"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("lock a".into(), "ok".into()),
            ("lock b".into(), "ok".into()),
            ("lock c".into(), "ok".into())
        ]
    );
    // JSON: one object per namespace.
    let out = run(
        &env,
        env.server.addr(),
        env.server.token(),
        &["--yes", "--format", "json", "-c", "unlock --mine"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(
        v["unlocked"],
        serde_json::json!(["acme/a/", "acme/b/", "acme/c/"])
    );
    assert!(locked_ones(&api).is_empty());
}

#[test]
fn a_pattern_lock_shows_its_list_in_the_question() {
    let env = common::env();
    let api = Api::new(&env);
    let mut paths = Vec::new();
    for t in ["tenant1", "tenant2", "tenant3", "other"] {
        paths.push(format!("{t}/prod"));
        paths.push(format!("{t}/dev"));
    }
    paths.push("tenant2/prod/web".into());
    api.mkns_all(&paths);
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.args(["--line"]);
    let t = Tmux::builder(&cmd).size(120, 40).joined().start();
    t.ready("vnsh />");
    t.line("lock 'tenant*/prod'");
    let screen = t.wait_count("[y/N]", 1);
    assert!(
        screen.contains("Lock the API of these 3 namespaces and the 1 below them (all or none)?"),
        "{screen}"
    );
    for l in [
        "tenant1/prod",
        "tenant2/prod and the 1 namespace below it",
        "tenant3/prod",
    ] {
        assert!(screen.contains(&format!("  {l}")), "{l}: {screen}");
    }
    assert!(!screen.contains("other/prod"), "{screen}");
    t.line("n");
    t.wait_count("not done.", 1);
    t.ready("vnsh />");
    assert!(locked_ones(&api).is_empty());
    t.line("lock 'tenant*/prod'");
    t.wait_count("[y/N]", 2);
    t.line("y");
    t.wait_for("the keys", |s| s.matches("Unlock key: ").count() == 3);
    t.ready("vnsh />");
    assert_eq!(
        locked_ones(&api),
        ["tenant1/prod/", "tenant2/prod/", "tenant3/prod/"]
    );
    // A pattern that matches nothing is said so, with nothing sent.
    t.line("lock 'nobody*'");
    t.wait_for("no match", |s| s.contains("matches \"nobody*\""));
}

/// A token that may lock `a` and `c` below `acme` but not `b`: the lock of `b` is refused
/// by the server after `a` was locked.
fn partial_locker(env: &Env) -> String {
    env.token_with_policy(
        "acme",
        "partial",
        r#"
path "sys/namespaces/api-lock/lock/a" { capabilities = ["create", "update"] }
path "sys/namespaces/api-lock/lock/c" { capabilities = ["create", "update"] }
path "sys/namespaces/api-lock/unlock/*" { capabilities = ["create", "update"] }
path "sys/namespaces" { capabilities = ["read", "list"] }
path "sys/namespaces/*" { capabilities = ["read", "list"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
"#,
    )
}

#[test]
fn a_bulk_lock_with_one_bad_target_leaves_nothing_locked() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/a".into(), "acme/b".into(), "acme/c".into()]);
    let token = partial_locker(&env);
    let proxy = Proxy::start(env.server.addr());

    // A bad target the checks can see: refused whole, nothing sent.
    let out = run(
        &env,
        &proxy.addr(),
        &token,
        &["--yes", "-n", "acme", "-c", "lock a nope c"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("acme/nope does not exist"),
        "{}",
        stderr(&out)
    );
    assert_eq!(proxy.received("POST", "api-lock"), 0, "{:?}", proxy.seen());

    // One the server refuses once `a` is locked: `a` is unlocked again with its key.
    let out = run(
        &env,
        &proxy.addr(),
        &token,
        &["--yes", "-n", "acme", "-c", "lock a b c"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("the lock of acme/b failed"), "{err}");
    assert!(
        err.contains("acme/a: locked, then unlocked again with its saved key"),
        "{err}"
    );
    assert!(err.contains("acme/c: not sent"), "{err}");
    assert!(err.contains("Nothing is left locked."), "{err}");
    assert!(stdout(&out).is_empty(), "no key shown: {}", stdout(&out));
    assert!(locked_ones(&api).is_empty(), "{:?}", states(&api));
    assert_eq!(proxy.forwarded("POST", "api-lock/lock/c"), 0);
    // The store: a's key, used by the rollback; no intent left open.
    let doc = store(&env);
    let keys = doc["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{doc}");
    assert_eq!(keys[0]["namespace"], "acme/a/");
    assert_eq!(keys[0]["used"], true);
    let intents: Vec<(String, String)> = doc["intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["namespace"].as_str().unwrap().to_string(),
                i["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        intents,
        vec![
            ("acme/a/".to_string(), "completed".to_string()),
            ("acme/b/".to_string(), "refused".to_string()),
            ("acme/c/".to_string(), "refused".to_string()),
        ],
        "{doc}"
    );
    // One log entry per namespace, each with what became of it.
    let entries = log(&env);
    let last: Vec<(String, String)> = entries[entries.len() - 3..]
        .iter()
        .map(|e| {
            (
                e["command"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let find = |c: &str| {
        last.iter()
            .find(|(cmd, _)| cmd == c)
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no entry for {c}: {last:?}"))
    };
    assert!(find("lock a").starts_with("rolled back"), "{last:?}");
    assert!(
        find("lock b").starts_with("error: permission denied"),
        "{last:?}"
    );
    assert!(find("lock c").starts_with("not sent"), "{last:?}");
    // A later start reports no lock whose key never came.
    let out = run(&env, env.server.addr(), env.server.token(), &["-c", "pwd"]);
    assert!(!stderr(&out).contains("may be locked"), "{}", stderr(&out));
}

#[test]
fn unlock_mine_unlocks_exactly_what_this_store_locked() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&[
        "acme/a".into(),
        "acme/b".into(),
        "acme/theirs".into(),
        "acme/other".into(),
        "globex/g".into(),
    ]);
    let root = env.server.token();
    let lock = |line: &str| {
        let out = run(&env, env.server.addr(), root, &["--yes", "-c", line]);
        assert_eq!(out.status.code(), Some(0), "{line}: {}", stderr(&out));
    };
    lock("lock acme/a acme/b globex/g");
    // Locked elsewhere: by bao (no key here) and by vnsh with another key store.
    api.lock("acme/", "theirs");
    let other_state = env.dir.path().join("other-state");
    let out = env
        .command(common::vnsh_bin(), root)
        .env("XDG_STATE_HOME", &other_state)
        .args(["--yes", "-c", "lock acme/other"])
        .output()
        .expect("vnsh");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One of ours was unlocked meanwhile, by someone else.
    let key_b = store(&env)["keys"][1]["key"].as_str().unwrap().to_string();
    api.ok(
        "POST",
        "acme/",
        "sys/namespaces/api-lock/unlock/b",
        Some(serde_json::json!({ "unlock_key": key_b })),
    );

    // From acme: only below acme, only ours, no question (every one is ours).
    let out = run(
        &env,
        env.server.addr(),
        root,
        &["-n", "acme", "-c", "unlock --mine"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Unlocked acme/a with the key saved at"),
        "{text}"
    );
    assert!(
        text.contains("acme/b is not locked any more: nothing to do"),
        "{text}"
    );
    assert!(
        !text.contains("theirs") && !text.contains("other"),
        "{text}"
    );
    assert_eq!(
        locked_ones(&api),
        ["acme/other/", "acme/theirs/", "globex/g/"]
    );
    // One log entry per namespace.
    let tail: Vec<String> = log(&env)
        .iter()
        .rev()
        .take(2)
        .map(|e| format!("{} -> {}", e["command"], e["outcome"]))
        .collect();
    assert!(
        tail.iter().any(|t| t.contains("\"unlock a\" -> \"ok\"")),
        "{tail:?}"
    );
    assert!(
        tail.iter()
            .any(|t| t.contains("\"unlock b\" -> \"not locked")),
        "{tail:?}"
    );
    // Again: a's key is used now, b's still unused but b is not locked.
    let out = run(
        &env,
        env.server.addr(),
        root,
        &["-n", "acme", "-c", "unlock --mine"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("acme/a"), "{}", stdout(&out));
    // From the root: globex/g too.
    let out = run(&env, env.server.addr(), root, &["-c", "unlock --mine"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Unlocked globex/g"),
        "{}",
        stdout(&out)
    );
    assert_eq!(locked_ones(&api), ["acme/other/", "acme/theirs/"]);
    // Nothing of ours left: said so.
    let out = run(
        &env,
        env.server.addr(),
        root,
        &["-n", "globex", "-c", "unlock --mine"],
    );
    assert!(
        stdout(&out).contains("Nothing to unlock"),
        "{}",
        stdout(&out)
    );
}
