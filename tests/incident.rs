//! The incident drill of issue 6, against a real OpenBao: a tenant admin without sudo
//! locks two namespaces of its tenant, the shell is killed, a new shell lists both locks,
//! unlocks both from the saved keys, and `log` shows the timeline.
mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use common::{ok, stderr, Env};
use serde_json::Value;

/// A token made in `ns` whose only policy allows lock/unlock and namespace reads there.
fn tenant_admin(env: &Env, ns: &str) -> String {
    env.token_with_policy(
        ns,
        "tenant-admin",
        r#"
path "sys/namespaces/api-lock/*" { capabilities = ["create", "update"] }
path "sys/namespaces" { capabilities = ["read", "list"] }
path "sys/namespaces/*" { capabilities = ["read", "list"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
"#,
    )
}

fn locked(env: &Env, parent: &str, name: &str) -> bool {
    let v = env.bao_json(&[
        "namespace",
        "lookup",
        &format!("-namespace={parent}"),
        "-format=json",
        name,
    ]);
    v["locked"].as_bool().expect("locked field")
}

#[test]
fn drill_lock_two_kill_the_shell_list_unlock_and_read_the_timeline() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    for child in ["pay", "web", "data"] {
        env.bao(&["namespace", "create", "-namespace=acme", child]);
    }
    let admin = tenant_admin(&env, "acme");

    // A shell as the tenant admin locks two namespaces, then dies without a goodbye.
    let mut shell = env
        .command(common::vnsh_bin(), &admin)
        .args(["-n", "acme", "--yes"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vnsh");
    let mut stdin = shell.stdin.take().expect("stdin");
    stdin.write_all(b"lock pay\nlock web\n").expect("type");
    stdin.flush().expect("flush");
    let mut shown = Vec::new();
    let stdout = shell.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        if let Some(key) = line.strip_prefix("Unlock key: ") {
            shown.push(key.to_string());
            if shown.len() == 2 {
                break;
            }
        }
    }
    shell.kill().expect("kill -9 the shell");
    let _ = shell.wait();
    drop(stdin);
    assert_eq!(shown.len(), 2, "both keys were shown before the shell died");
    assert!(locked(&env, "acme", "pay") && locked(&env, "acme", "web"));
    assert!(!locked(&env, "acme", "data"));

    // Nothing was lost: the store (0600) holds both keys that were shown.
    let store = env.vnsh_state().join("unlock-keys.json");
    assert_eq!(
        fs::metadata(&store).expect("store").permissions().mode() & 0o777,
        0o600
    );
    let text = fs::read_to_string(&store).expect("read store");
    for key in &shown {
        assert!(text.contains(key.as_str()), "key {key} is in the store");
    }

    // A new shell lists both locks, with when and whether the key is here.
    let out = env.vnsh_as(&admin, &["-n", "acme", "--format", "json", "-c", "locks"]);
    let locks: Value = serde_json::from_str(ok(&out).trim()).expect("locks JSON");
    let locks = locks.as_array().expect("array");
    let paths: Vec<&str> = locks
        .iter()
        .map(|l| l["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, vec!["pay/", "web/"]);
    for l in locks {
        assert_eq!(l["key_saved"], Value::Bool(true), "{l}");
        assert!(
            l["locked_at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{l}"
        );
    }
    let table = ok(&env.vnsh_as(&admin, &["-n", "acme", "-c", "locks"]));
    assert!(
        table.contains("pay/") && table.contains("web/") && table.contains("yes"),
        "{table}"
    );

    // It unlocks both from the saved keys, without sudo.
    let out = env.vnsh_as(&admin, &["-n", "acme", "-c", "unlock pay; unlock web"]);
    let text = ok(&out);
    assert!(
        text.contains("Unlocked acme/pay with the key saved at"),
        "{text}"
    );
    assert!(
        text.contains("Unlocked acme/web with the key saved at"),
        "{text}"
    );
    assert!(!locked(&env, "acme", "pay") && !locked(&env, "acme", "web"));
    let out = env.vnsh_as(&admin, &["-n", "acme", "--format", "json", "-c", "locks"]);
    assert_eq!(ok(&out).trim(), "[]");

    // The timeline: four actions in order, each with time, server, namespace and outcome.
    let out = env.vnsh_as(
        &admin,
        &["-n", "acme", "--format", "json", "-c", "log --since 1h"],
    );
    let log: Value = serde_json::from_str(ok(&out).trim()).expect("log JSON");
    let log = log.as_array().expect("array");
    let commands: Vec<&str> = log
        .iter()
        .map(|a| a["command"].as_str().expect("command"))
        .collect();
    assert_eq!(
        commands,
        vec!["lock pay", "lock web", "unlock pay", "unlock web"]
    );
    for a in log {
        assert_eq!(a["outcome"], "ok");
        assert_eq!(a["namespace"], "acme/");
        assert_eq!(a["server"], env.server.addr());
        assert!(a["time"].as_str().is_some_and(|t| t.len() >= 20), "{a}");
    }
    let all = serde_json::to_string(log).expect("json");
    for key in &shown {
        assert!(
            !all.contains(key.as_str()),
            "the log never holds an unlock key"
        );
    }
    assert!(!all.contains(&admin), "the log never holds the token");
}

#[test]
fn keys_lists_masked_and_exports_to_a_private_file() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "pay"]);
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "lock pay"]);
    let text = ok(&out);
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Unlock key: "))
        .expect("key shown")
        .to_string();

    let listed = ok(&env.vnsh(&["-c", "keys"]));
    assert!(listed.contains("acme/pay"), "{listed}");
    assert!(!listed.contains(&key), "keys masks the key: {listed}");

    let file = env.dir.path().join("export.json");
    let file_s = file.to_str().expect("utf-8");
    let out = env.vnsh(&["-c", &format!("keys export {file_s}")]);
    ok(&out);
    assert_eq!(
        fs::metadata(&file).expect("export").permissions().mode() & 0o777,
        0o600
    );
    let doc: Value = serde_json::from_str(&fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(doc["keys"][0]["key"], key.as_str());
    assert_eq!(doc["keys"][0]["namespace"], "acme/pay/");
    // It never overwrites.
    let again = env.vnsh(&["-c", &format!("keys export {file_s}")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("does not overwrite"),
        "{}",
        stderr(&again)
    );
    // Neither history nor the action log holds the key.
    let log = fs::read_to_string(env.vnsh_state().join("actions.jsonl")).expect("log");
    assert!(!log.contains(&key));
}

#[test]
fn a_refusal_inside_a_locked_tenant_names_the_lock_and_the_way_out() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "pay"]);
    ok(&env.vnsh(&["--yes", "-c", "lock acme"]));
    // A second lock below the locked one is refused before it is sent.
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "lock pay"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("namespace acme is locked"), "{err}");
    assert!(err.contains("`cd /; unlock acme`"), "{err}");
    // The prompt's source of truth: `locks` from the root sees it, with its key.
    let out = env.vnsh(&["--format", "json", "-c", "locks"]);
    let v: Value = serde_json::from_str(ok(&out).trim()).expect("json");
    assert_eq!(v[0]["path"], "acme/");
    assert_eq!(v[0]["key_saved"], true);
    // Seen: `locks` inside the locked tenant failed ("SCAN sys/namespaces … was
    // refused"), the very place an operator looks from. It lists from the nearest
    // namespace that answers, and shows the lock that cuts here off.
    for start in ["acme", "acme/pay"] {
        let out = env.vnsh(&["--format", "json", "-n", start, "-c", "locks"]);
        let v: Value = serde_json::from_str(ok(&out).trim()).expect("json");
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{start}: {v}");
        assert_eq!(v[0]["namespace"], "acme/", "{start}: {v}");
        assert_eq!(v[0]["locked"], true, "{start}: {v}");
        assert_eq!(v[0]["key_saved"], true, "{start}: {v}");
        let err = stderr(&out);
        assert!(
            err.contains("acme is locked, so the locks were listed from /"),
            "{start}: {err}"
        );
    }
    ok(&env.vnsh(&["-c", "unlock acme"]));
}
