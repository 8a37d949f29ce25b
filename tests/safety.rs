//! Safety rails against a real OpenBao dev server: `--read-only`, confirmations (in a real
//! terminal, through tmux), Ctrl-C and Ctrl-D at the prompt, and no secret or token in the
//! history, the action log or any other state file.
mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{ok, stderr, Env};
use serde_json::Value;

/// How long to wait for the screen, the server or a process before failing.
const TIMEOUT: Duration = Duration::from_secs(20);

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether namespace `path` (`a/b`) is locked, as `bao namespace lookup` in its parent says.
fn is_locked(env: &Env, path: &str) -> bool {
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    let ns = format!("-namespace={parent}");
    env.bao_json(&["namespace", "lookup", "-format=json", &ns, name])["locked"]
        .as_bool()
        .expect("locked")
}

/// Whether namespace `name` (a child of the root) exists.
fn ns_exists(env: &Env, name: &str) -> bool {
    env.bao_raw(env.server.token(), &["namespace", "lookup", name])
        .status
        .success()
}

/// Poll `cond` until it holds or TIMEOUT passes.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let bytes = fs::read(&p).unwrap();
            out.push((p, bytes));
        }
    }
    out
}

/// Assert that no file under `dir` holds any of `secrets`.
fn assert_nowhere(dir: &Path, secrets: &[&str]) {
    let files = files_under(dir);
    assert!(!files.is_empty(), "no state files under {}", dir.display());
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            assert!(
                !text.contains(s),
                "{} holds the secret {s:?}:\n{text}",
                path.display()
            );
        }
    }
}

/// `vnsh ARGS` in a real terminal: 160×50, wrapped lines joined on capture.
fn start(env: &Env, args: &[&str]) -> Tmux {
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.args(args);
    Tmux::builder(&cmd).size(160, 50).joined().start()
}

/// The key from `Unlock key: K`.
fn printed_key(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Unlock key: "))
        .unwrap_or_else(|| panic!("no `Unlock key:` in:\n{text}"))
        .trim()
        .to_string()
}

#[test]
fn read_only_refuses_every_mutating_command_and_changes_nothing() {
    let env = common::env();
    env.bao(&["namespace", "create", "-custom-metadata=team=a", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "t1"]);
    env.bao(&["namespace", "create", "frozen"]);
    let key = env.bao_json(&["namespace", "lock", "-format=json", "frozen"])["unlock_key"]
        .as_str()
        .unwrap()
        .to_string();
    env.bao(&["kv", "put", "secret/app", "v=1"]);
    env.bao(&["auth", "enable", "userpass"]);
    let snapshot = |env: &Env| {
        (
            {
                // SCAN's order is not stable: compare the set.
                let mut all: Vec<String> =
                    serde_json::from_value(env.bao_json(&["namespace", "scan", "-format=json"]))
                        .expect("a list of paths");
                all.sort();
                all
            },
            env.bao_json(&["namespace", "lookup", "-format=json", "acme"]),
            env.bao_json(&["namespace", "lookup", "-format=json", "frozen"]),
            env.bao_json(&["read", "-format=json", "secret/metadata/app"])["data"].clone(),
            env.bao_json(&["list", "-format=json", "auth/userpass/users"]),
        )
    };
    // `list` of no users fails in bao; give it one to list.
    env.bao(&["write", "auth/userpass/users/alice", "password=x"]);
    let before = snapshot(&env);

    let refused = [
        "ns create newns",
        "ns create newns team=b",
        "ns patch acme team=b",
        "ns delete acme",
        "lock acme",
        "lock",
        "unlock frozen",
        &format!("unlock frozen --key {key}"),
        "write secret/data/app v=2",
        "patch secret/data/app v=3",
        "delete secret/data/app",
        "delete auth/userpass/users/alice",
        "write auth/userpass/users/bob password=hunter2",
    ];
    for cmd in refused {
        let verb = cmd.split(' ').take(2).collect::<Vec<_>>().join(" ");
        for extra in [&[][..], &["--yes"][..]] {
            let mut args = vec!["--read-only"];
            args.extend_from_slice(extra);
            args.extend(["-c", cmd]);
            let out = env.vnsh(&args);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{cmd} {extra:?}: {}",
                stdout(&out)
            );
            let err = stderr(&out);
            assert!(err.contains("read-only"), "{cmd}: {err}");
            assert!(err.contains(&verb), "{cmd}: names the command: {err}");
            assert!(stdout(&out).is_empty(), "{cmd}: {}", stdout(&out));
            // The refusal does not echo a secret either.
            assert!(
                !err.contains("hunter2") && !err.contains(&key),
                "{cmd}: {err}"
            );
        }
    }
    // The same in a script on stdin (--keep-going so that every line is tried).
    let script = refused.join("\n");
    let out = env.vnsh_script(&["--read-only", "--keep-going"], &script);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.contains("read-only")).count(),
        refused.len(),
        "{err}"
    );
    assert!(!err.contains("hunter2") && !err.contains(&key), "{err}");

    assert_eq!(
        snapshot(&env),
        before,
        "a read-only session changed the server"
    );
    assert!(is_locked(&env, "frozen"));
    assert!(!env.vnsh_state().join("unlock-keys.json").exists());

    // Reading still works.
    let out = env.vnsh(&[
        "--read-only",
        "-c",
        "pwd; ls; tree; ns list; ns lookup acme; read secret/data/app; list auth/userpass/users; cd acme; pwd; ns list",
    ]);
    let text = ok(&out);
    assert!(text.contains("acme/"), "{text}");
    assert!(text.contains("frozen/"), "{text}");
    assert!(text.contains("team"), "{text}");
    assert!(text.contains("alice"), "{text}");
    assert!(
        text.lines().any(|l| l.trim() == "acme"),
        "pwd after cd: {text}"
    );
    assert!(text.contains("t1/"), "{text}");
    let out = env.vnsh(&[
        "--read-only",
        "--format",
        "json",
        "-c",
        "read secret/data/app",
    ]);
    assert_eq!(common::json_lines(&out)[0]["data"]["data"]["v"], "1");
}

#[test]
fn a_script_on_stdin_runs_destructive_commands_with_yes_without_asking() {
    let env = common::env();
    env.bao(&["namespace", "create", "x"]);
    env.bao(&["namespace", "create", "y"]);
    env.bao(&["kv", "put", "secret/gone", "v=1"]);
    let script =
        "# no terminal: nobody to ask\nlock x\nns delete y\ndelete secret/data/gone\npwd\n";
    // Without --yes it is refused at its first destructive command, nothing done.
    let out = env.vnsh_script(&[], script);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(!is_locked(&env, "x") && ns_exists(&env, "y"));
    let out = env.vnsh_script(&["--yes"], script);
    let text = ok(&out);
    let err = stderr(&out);
    assert!(
        !err.contains("[y/N]") && !text.contains("[y/N]"),
        "asked: {err}"
    );
    assert!(!err.contains("not done"), "{err}");
    let key = printed_key(&text);
    assert!(is_locked(&env, "x"));
    eventually("y deleted", || !ns_exists(&env, "y"));
    // KV v2: the latest version is deleted (soft), its data gone.
    let gone = env.bao_json(&["read", "-format=json", "secret/data/gone"]);
    assert_eq!(gone["data"]["data"], Value::Null, "{gone}");
    assert!(gone["data"]["metadata"]["deletion_time"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    // The key of that unattended lock is in the store.
    let store: Value =
        serde_json::from_slice(&fs::read(env.vnsh_state().join("unlock-keys.json")).unwrap())
            .unwrap();
    assert_eq!(store["keys"][0]["key"], key.as_str());
    assert_eq!(store["keys"][0]["namespace"], "x/");
}

#[test]
fn an_interactive_lock_asks_first() {
    let env = common::env();
    env.bao(&["namespace", "create", "x"]);
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");

    t.line("lock x");
    t.wait_count("[y/N]", 1);
    assert!(!is_locked(&env, "x"), "locked before the answer");
    t.line("n");
    t.wait_count("not done.", 1);
    t.ready("vnsh />");
    assert!(!is_locked(&env, "x"), "locked although the answer was n");
    // Just Enter is "no" too.
    t.line("lock x");
    t.wait_count("[y/N]", 2);
    t.keys(&["Enter"]);
    t.wait_count("not done.", 2);
    t.ready("vnsh />");
    assert!(!is_locked(&env, "x"));
    assert!(!env.vnsh_state().join("unlock-keys.json").exists());

    // Ctrl-C at the question neither ends the shell nor locks.
    t.line("lock x");
    t.wait_count("[y/N]", 3);
    t.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        t.exit_status(),
        None,
        "Ctrl-C at the question ended the shell"
    );
    t.keys(&["Enter"]);
    t.wait_count("not done.", 3);
    t.ready("vnsh />");
    assert!(!is_locked(&env, "x"));

    t.line("lock x");
    t.wait_count("[y/N]", 4);
    t.line("y");
    let screen = t.wait_for("the unlock key", |s| s.contains("Unlock key: "));
    let key = printed_key(&screen);
    assert!(is_locked(&env, "x"));
    let store: Value =
        serde_json::from_slice(&fs::read(env.vnsh_state().join("unlock-keys.json")).unwrap())
            .unwrap();
    assert_eq!(store["keys"][0]["key"], key.as_str());
    assert_eq!(store["keys"].as_array().unwrap().len(), 1);

    // --yes: no question.
    drop(t);
    env.bao(&["namespace", "create", "z"]);
    let t = start(&env, &["--line", "--yes"]);
    t.ready("vnsh />");
    t.line("lock z");
    let screen = t.wait_for("the unlock key", |s| s.contains("Unlock key: "));
    assert!(!screen.contains("[y/N]"), "{screen}");
    assert!(is_locked(&env, "z"));
}

#[test]
fn the_line_mode_in_a_terminal() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "frozen"]);
    env.bao(&["auth", "enable", "userpass"]);
    let key = env.bao_json(&["namespace", "lock", "-format=json", "frozen"])["unlock_key"]
        .as_str()
        .unwrap()
        .to_string();
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");

    // Tab completes a child namespace.
    t.type_text("cd ac");
    t.keys(&["Tab"]);
    t.wait_for("cd acme/", |s| {
        s.lines().any(|l| l.trim_end() == "vnsh /> cd acme/")
    });
    t.keys(&["Enter"]);
    t.ready("vnsh acme>");

    // Ctrl-C at the prompt drops the line, not the shell.
    t.type_text("half a line");
    t.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(t.exit_status(), None, "Ctrl-C ended the shell");
    t.ready("vnsh acme>");
    t.line("pwd");
    t.wait_for("pwd after Ctrl-C", |s| {
        s.lines().any(|l| l.trim_end() == "acme")
    });
    t.ready("vnsh acme>");
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(t.exit_status(), None, "Ctrl-C ended the shell");
    let screen = t.ready("vnsh acme>");
    assert!(
        !screen.contains("unknown command"),
        "the dropped line ran: {screen}"
    );

    // The prompt says when the namespace is locked.
    t.line("cd /frozen");
    t.ready("vnsh frozen [locked]>");
    t.line("cd /");
    t.ready("vnsh />");

    // A password typed on a line reaches the server but not the history.
    t.line("write auth/userpass/users/bob password=hunter2");
    t.wait_for("written", |s| s.contains("Success! Data written."));
    t.ready("vnsh />");
    env.bao_json(&[
        "write",
        "-format=json",
        "auth/userpass/login/bob",
        "password=hunter2",
    ]);
    // An unlock key given on a line neither.
    // (frozen was locked elsewhere: this key store has no key of it, so it asks first.)
    t.line(&format!("unlock frozen --key {key}"));
    t.wait_count("[y/N]", 1);
    t.line("y");
    t.wait_for("unlocked", |s| {
        s.contains("Unlocked frozen with the given key.")
    });
    t.ready("vnsh />");
    assert!(!is_locked(&env, "frozen"));

    // Ctrl-D exits, with status 0.
    t.keys(&["C-d"]);
    eventually("vnsh exits on Ctrl-D", || t.exit_status().is_some());
    assert_eq!(t.exit_status(), Some(0), "{}", t.screen());

    let history = env.vnsh_state().join("history");
    assert_eq!(mode(&history), 0o600);
    let text = fs::read_to_string(&history).unwrap();
    assert!(
        text.contains("write auth/userpass/users/bob password=***"),
        "{text}"
    );
    assert!(text.contains("unlock frozen --key ***"), "{text}");
    assert!(text.contains("cd /frozen"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "history holds the password:\n{text}"
    );
    assert!(
        !text.contains(&key),
        "history holds the unlock key:\n{text}"
    );
    assert_nowhere(&env.vnsh_state(), &["hunter2", &key, env.server.token()]);
}

#[test]
fn no_token_in_any_state_file() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["auth", "enable", "userpass"]);
    let child = env.bao_json(&["token", "create", "-format=json", "-policy=default"])["auth"]
        ["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Mutating commands of every kind, as root and as another token; one of them makes a
    // token (printed on request in JSON mode, which is explicit), some fail.
    let out = env.vnsh(&[
        "--yes",
        "--keep-going",
        "-c",
        "ns create t1; lock t1; unlock t1; write auth/userpass/users/bob password=hunter2; \
         write auth/token/create policies=default; ns delete t1; lock nope",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`lock nope` fails: {}",
        stderr(&out)
    );
    let out = env.vnsh(&[
        "--format",
        "json",
        "-c",
        "write auth/token/create policies=default",
    ]);
    let made = common::json_lines(&out)[0]["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string();
    let out = env.vnsh_as(&child, &["-c", "ns create nope2; write secret/data/x v=1"]);
    assert_eq!(out.status.code(), Some(1));
    // The table view hides a client token.
    let out = env.vnsh(&["-c", "write auth/token/create policies=default"]);
    assert!(ok(&out).contains("hidden"), "{}", stdout(&out));
    let out = env.vnsh_script(&["--yes"], "ns create t2\nlock t2\n");
    ok(&out);

    let log = fs::read_to_string(env.vnsh_state().join("actions.jsonl")).unwrap();
    assert!(log.lines().count() >= 10, "{log}");
    assert_nowhere(
        &env.vnsh_state(),
        &[env.server.token(), &child, &made, "hunter2"],
    );
}

/// Seen: `write sys/namespaces/api-lock/lock/X` locked X with no question, no intent and
/// no key saved. A raw lock or unlock is refused, naming the command that keeps the key;
/// a raw write that cannot be undone (a revoke, a KV v2 destroy) asks first, and with no
/// one to ask and no `--yes` it is refused — nothing sent in either case.
#[test]
fn raw_writes_that_cannot_be_undone_ask_and_a_raw_lock_is_refused() {
    let env = common::env();
    let api = common::Api::new(&env);
    api.mkns("rawlock");
    let proxy = common::proxy::Proxy::start(env.server.addr());
    let vnsh = |args: &[&str]| {
        env.command(common::vnsh_bin(), env.server.token())
            .env("VAULT_ADDR", proxy.addr())
            .args(args)
            .output()
            .expect("vnsh")
    };
    for line in [
        "write sys/namespaces/api-lock/lock/rawlock x=1",
        "write /sys/namespaces/api-lock/unlock/rawlock unlock_key=x",
        "cd rawlock; write ../sys/namespaces/api-lock/lock/ x=1",
    ] {
        let out = vnsh(&["--yes", "-c", line]);
        assert_eq!(out.status.code(), Some(1), "{line}");
        let err = stderr(&out);
        assert!(
            err.contains("nothing was sent")
                && (err.contains("`lock NAME`") || err.contains("`unlock NAME`")),
            "{line}: {err}"
        );
    }
    assert!(!is_locked(&env, "rawlock"), "a raw write locked it");
    api.mount_kv("", "kv2", "2");
    api.kv2_put("", "kv2", "app", serde_json::json!({"a": "1"}));
    for line in [
        "write auth/token/revoke-accessor accessor=nosuch",
        "write kv2/destroy/app versions=1",
    ] {
        // A script: no one to ask.
        let out = vnsh(&["-c", line]);
        assert_eq!(out.status.code(), Some(1), "{line}");
        assert!(stderr(&out).contains("--yes"), "{line}: {}", stderr(&out));
    }
    assert!(
        proxy
            .seen()
            .iter()
            .all(|s| s.method == "GET" || s.method == "LIST" || s.method == "SCAN"),
        "a write was sent: {:?}",
        proxy.seen()
    );
    // In a terminal the question names the path, and what cannot be undone.
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.args(["--line"]);
    let t = Tmux::builder(&cmd).size(200, 30).start();
    t.ready("vnsh />");
    t.line("write kv2/destroy/app versions=1");
    let screen = t.wait_for("the question", |s| s.contains("[y/N]"));
    assert!(
        screen.contains("Write kv2/destroy/app in namespace /? On a KV version 2 mount"),
        "{screen}"
    );
    t.line("y");
    t.ready("vnsh />");
    let (_, meta) = api.call("GET", "", "kv2/metadata/app", None);
    assert_eq!(
        meta["data"]["versions"]["1"]["destroyed"],
        serde_json::json!(true),
        "{meta}"
    );
}
