//! Locks, unlocks and the unlock-key store, against a real OpenBao dev server.
//!
//! The promise under test: a lock's unlock key reaches the key store (0600, keyed by
//! server and full namespace path) before it is shown, it is never lost (a store that
//! cannot be written still gets the key shown, loudly), and `unlock` finds it again,
//! newest first, even for a token without sudo.
mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ok, stderr, Env};
use serde_json::{json, Value};

/// The unlock-key store of this test's state dir.
fn store_path(env: &Env) -> PathBuf {
    env.vnsh_state().join("unlock-keys.json")
}

/// The action log of this test's state dir.
fn log_path(env: &Env) -> PathBuf {
    env.vnsh_state().join("actions.jsonl")
}

/// The permission bits of a file.
fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The parsed key store.
fn store(env: &Env) -> Value {
    let bytes = fs::read(store_path(env)).expect("the key store exists");
    serde_json::from_slice(&bytes).expect("the key store is JSON")
}

/// The entries of the key store, in file order.
fn entries(env: &Env) -> Vec<Value> {
    store(env)["keys"].as_array().expect("keys array").clone()
}

/// `(key, used)` of the entries for this test's server and `namespace` (canonical `a/b/`), in file order.
fn keys_for(env: &Env, namespace: &str) -> Vec<(String, bool)> {
    entries(env)
        .iter()
        .filter(|e| e["server"] == env.server.addr() && e["namespace"] == namespace)
        .map(|e| {
            (
                e["key"].as_str().expect("key").to_string(),
                e["used"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// The key from `Unlock key: K` in a table-mode lock's stdout.
fn printed_key(stdout: &str) -> String {
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Unlock key: "))
        .unwrap_or_else(|| panic!("no `Unlock key:` line in:\n{stdout}"))
        .trim()
        .to_string();
    assert!(key.len() >= 16, "implausible unlock key {key:?}");
    key
}

/// Whether namespace `path` (`a/b`) is locked, as `bao namespace lookup` in its parent says.
fn is_locked(env: &Env, path: &str) -> bool {
    let (parent, name) = match path.rsplit_once('/') {
        Some((p, n)) => (p, n),
        None => ("", path),
    };
    let ns = format!("-namespace={parent}");
    let v = env.bao_json(&["namespace", "lookup", "-format=json", &ns, name]);
    v["locked"]
        .as_bool()
        .unwrap_or_else(|| panic!("no `locked` in {v}"))
}

/// The status code of a run.
fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// stdout of a run, as text, whatever its status.
fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A token in namespace `ns` with only the policy `locker`: lock/unlock requests and
/// namespace reads below `ns`, and no sudo anywhere.
fn locker_token(env: &Env, ns: &str) -> String {
    env.token_with_policy(
        ns,
        "locker",
        r#"
path "sys/namespaces/api-lock/*" { capabilities = ["create", "update"] }
path "sys/namespaces" { capabilities = ["read", "list"] }
path "sys/namespaces/*" { capabilities = ["read", "list"] }
"#,
    )
}

#[test]
fn lock_prints_the_key_and_stores_it_for_the_full_path() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "team"]);

    // -c with no terminal cannot ask: --yes is the answer given beforehand.
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "lock team"]);
    let text = ok(&out);
    let team_key = printed_key(&text);
    assert!(text.contains("Locked acme/team"), "{text}");
    assert!(
        text.contains("unlock-keys.json"),
        "says where the key is: {text}"
    );
    assert!(is_locked(&env, "acme/team"));
    assert!(!is_locked(&env, "acme"));

    // --yes from the root.
    let out = env.vnsh(&["--yes", "-c", "lock acme"]);
    let acme_key = printed_key(&ok(&out));
    assert_ne!(acme_key, team_key);
    assert!(is_locked(&env, "acme"));

    // The store: 0600 in a 0700 dir, each key under the server and the full path.
    let path = store_path(&env);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&env.vnsh_state()), 0o700);
    let doc = store(&env);
    assert_eq!(doc["version"], 2);
    let all = entries(&env);
    assert_eq!(all.len(), 2, "{doc}");
    assert_eq!(all[0]["server"], env.server.addr());
    assert_eq!(all[0]["namespace"], "acme/team/");
    assert_eq!(all[0]["key"], team_key.as_str());
    assert_eq!(all[0]["used"], false);
    assert_eq!(all[1]["namespace"], "acme/");
    assert_eq!(all[1]["key"], acme_key.as_str());
    for e in &all {
        let at = e["saved_at"].as_str().expect("saved_at");
        assert!(humantime::parse_rfc3339(at).is_ok(), "saved_at {at}");
    }
    // No temp file left behind (the lock file stays: the store's OS lock is taken on it).
    let mut names: Vec<String> = fs::read_dir(env.vnsh_state())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["actions.jsonl", "unlock-keys.json", "unlock-keys.json.lock"]
    );

    // JSON mode prints what `bao namespace lock -format=json` prints, and stores it too.
    env.bao(&["namespace", "create", "globex"]);
    let out = env.vnsh(&["--yes", "--format", "json", "-c", "lock globex"]);
    let printed = common::json_lines(&out);
    assert_eq!(printed.len(), 1);
    let key = printed[0]["unlock_key"]
        .as_str()
        .expect("unlock_key")
        .to_string();
    assert_eq!(printed[0], json!({ "unlock_key": key }));
    assert_eq!(keys_for(&env, "globex/"), vec![(key, false)]);
}

#[test]
fn the_key_is_in_the_store_before_it_is_shown() {
    // Hold the store's lock, as another vnsh writing a key would: write-ahead, the lock
    // request must not even leave until the store has recorded that it is going; then the
    // key is stored before it is shown.
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    let state = env.vnsh_state();
    fs::create_dir_all(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    let lock_file = state.join("unlock-keys.json.lock");
    let held = fs::File::create(&lock_file).unwrap();
    held.lock().unwrap();

    let mut child = env
        .command(common::vnsh_bin(), env.server.token())
        .args(["--yes", "--format", "json", "-c", "lock acme"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vnsh");
    let shown = Arc::new(Mutex::new(Vec::<u8>::new()));
    let reader = {
        let shown = Arc::clone(&shown);
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });

    // While the store cannot record the intent, nothing is sent and nothing shown.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !is_locked(&env, "acme"),
        "the lock was sent before the store could take its key"
    );
    assert!(
        shown.lock().unwrap().is_empty(),
        "something was shown: {}",
        String::from_utf8_lossy(&shown.lock().unwrap())
    );
    assert_eq!(child.try_wait().unwrap(), None, "vnsh gave up on the store");

    // Release the store: vnsh records the intent, locks, saves, then shows.
    drop(held);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let errs = err_reader.join().unwrap();
    assert!(status.success(), "vnsh failed: {errs}");
    assert!(!errs.contains("WARNING"), "{errs}");
    assert!(is_locked(&env, "acme"));
    let printed: Value =
        serde_json::from_slice(&shown.lock().unwrap()).expect("one JSON document on stdout");
    let key = printed["unlock_key"]
        .as_str()
        .expect("unlock_key")
        .to_string();
    assert_eq!(keys_for(&env, "acme/"), vec![(key, false)]);
    assert_eq!(mode(&store_path(&env)), 0o600);
}

#[test]
fn a_state_dir_that_cannot_be_written_refuses_the_lock_with_nothing_sent() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    // A file where the state dir should be: nothing can be written under it, even as root.
    fs::create_dir_all(env.state_home()).unwrap();
    fs::write(env.vnsh_state(), "not a directory").unwrap();

    // Seen: the lock went through with a warning; the key could have been lost.
    let out = env.vnsh(&["--yes", "-c", "lock acme"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains("unlock-keys.json"),
        "the store is named: {err}"
    );
    assert!(!is_locked(&env, "acme"), "nothing was sent");
    assert_eq!(fs::read(env.vnsh_state()).unwrap(), b"not a directory");
}

#[test]
fn a_corrupt_store_is_left_untouched_and_the_lock_refused() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    let state = env.vnsh_state();
    fs::create_dir_all(&state).unwrap();
    let bad: &[u8] =
        b"{\"version\":1,\"keys\":[{\"server\":\"s\",\"namespace\":\"a/\",\"key\":\"PRECIOUS\"";
    fs::write(store_path(&env), bad).unwrap();
    fs::set_permissions(store_path(&env), fs::Permissions::from_mode(0o600)).unwrap();

    // Seen: the lock went through and its key could not be saved.
    let out = env.vnsh(&["--yes", "-c", "lock acme"]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("corrupt"), "{err}");
    assert!(!is_locked(&env, "acme"), "nothing was sent");
    assert_eq!(
        fs::read(store_path(&env)).unwrap(),
        bad,
        "the corrupt store was changed"
    );
    assert_eq!(mode(&store_path(&env)), 0o600);

    // An unlock by hand (--key, or sudo) still works with the store broken.
    env.bao(&["namespace", "lock", "acme"]);
    let out = env.vnsh(&["--yes", "-c", "unlock acme"]);
    assert!(ok(&out).contains("with sudo"), "{}", stdout(&out));
    assert!(!is_locked(&env, "acme"));
    assert_eq!(fs::read(store_path(&env)).unwrap(), bad);
    let left: Vec<_> = fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn unlock_uses_the_saved_key() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "team"]);
    let key = printed_key(&ok(&env.vnsh(&["--yes", "-n", "acme", "-c", "lock team"])));
    assert!(is_locked(&env, "acme/team"));

    // From another namespace, by another relative path: the key is found by full path.
    let out = env.vnsh(&["--yes", "-c", "unlock acme/team"]);
    let text = ok(&out);
    assert!(
        text.contains("Unlocked acme/team with the key saved at"),
        "{text}"
    );
    assert!(!text.contains("sudo"), "{text}");
    assert!(!is_locked(&env, "acme/team"));
    // The entry stays, marked used, still 0600.
    assert_eq!(keys_for(&env, "acme/team/"), vec![(key, true)]);
    assert_eq!(mode(&store_path(&env)), 0o600);

    // Locking and unlocking the current namespace itself.
    let key = printed_key(&ok(&env.vnsh(&["--yes", "-n", "acme", "-c", "lock"])));
    assert!(is_locked(&env, "acme"));
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "unlock"]);
    assert!(ok(&out).contains("Unlocked acme with the key saved at"));
    assert!(!is_locked(&env, "acme"));
    assert_eq!(keys_for(&env, "acme/"), vec![(key, true)]);
}

#[test]
fn a_token_without_sudo_unlocks_with_the_saved_key_only() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "t1"]);
    env.bao(&["namespace", "create", "-namespace=acme", "t2"]);
    let token = locker_token(&env, "acme");

    // Lock and unlock as the delegated token, whose home is acme.
    let out = env.vnsh_as(&token, &["--yes", "-n", "acme", "-c", "lock t1"]);
    let key = printed_key(&ok(&out));
    assert!(is_locked(&env, "acme/t1"));
    assert_eq!(keys_for(&env, "acme/t1/"), vec![(key.clone(), false)]);

    // The token really has no sudo: without a key, the server refuses it.
    let refused = env.bao_raw(&token, &["namespace", "unlock", "-namespace=acme", "t1"]);
    assert!(
        !refused.status.success(),
        "this token can unlock without a key"
    );
    assert!(is_locked(&env, "acme/t1"));

    let out = env.vnsh_as(&token, &["--yes", "-n", "acme", "-c", "unlock t1"]);
    let text = ok(&out);
    assert!(
        text.contains("Unlocked acme/t1 with the key saved at"),
        "{text}"
    );
    assert!(!is_locked(&env, "acme/t1"));
    assert_eq!(keys_for(&env, "acme/t1/"), vec![(key, true)]);

    // A namespace locked elsewhere: no key saved, so the token cannot unlock it.
    let locked = env.bao_json(&["namespace", "lock", "-namespace=acme", "-format=json", "t2"]);
    let t2_key = locked["unlock_key"]
        .as_str()
        .expect("unlock_key")
        .to_string();
    assert!(is_locked(&env, "acme/t2"));
    let out = env.vnsh_as(&token, &["--yes", "-n", "acme", "-c", "unlock t2"]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unlock acme/t2"), "{err}");
    assert!(err.contains("no key is saved"), "{err}");
    assert!(err.contains("--key"), "suggests --key: {err}");
    assert!(is_locked(&env, "acme/t2"));

    // A wrong key is refused clearly; the right one works.
    let out = env.vnsh_as(
        &token,
        &[
            "--yes",
            "-n",
            "acme",
            "-c",
            "unlock t2 --key WRONGWRONGWRONGWRONG1234",
        ],
    );
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not accepted"), "{err}");
    assert!(is_locked(&env, "acme/t2"));
    let out = env.vnsh_as(
        &token,
        &[
            "--yes",
            "-n",
            "acme",
            "-c",
            &format!("unlock t2 --key {t2_key}"),
        ],
    );
    assert!(ok(&out).contains("Unlocked acme/t2 with the given key"));
    assert!(!is_locked(&env, "acme/t2"));
    // A key given on the line is not written to the store.
    assert!(keys_for(&env, "acme/t2/").is_empty());
}

#[test]
fn a_wrong_key_never_falls_back_to_sudo() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    let key = printed_key(&ok(&env.vnsh(&["--yes", "-c", "lock acme"])));

    // The root token has sudo, but a key given explicitly is the only one tried.
    let out = env.vnsh(&["--yes", "-c", "unlock acme --key WRONGWRONGWRONGWRONG1234"]);
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("unlock acme"), "{err}");
    assert!(err.contains("the given key was not accepted"), "{err}");
    assert!(is_locked(&env, "acme"));
    // The saved key is not marked used by a failed attempt.
    assert_eq!(keys_for(&env, "acme/"), vec![(key.clone(), false)]);

    let out = env.vnsh(&["--yes", "-c", &format!("unlock acme --key {key}")]);
    assert_eq!(ok(&out).trim(), "Unlocked acme with the given key.");
    assert!(!is_locked(&env, "acme"));
}

#[test]
fn locking_a_locked_namespace_fails_and_keeps_the_first_key() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    let first = printed_key(&ok(&env.vnsh(&["--yes", "-c", "lock acme"])));

    let out = env.vnsh(&["--yes", "-c", "lock acme"]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("already locked"), "the server's reason: {err}");
    assert!(!stdout(&out).contains("Unlock key"), "{}", stdout(&out));
    assert_eq!(
        keys_for(&env, "acme/"),
        vec![(first.clone(), false)],
        "no key was added, none lost"
    );
    assert!(is_locked(&env, "acme"));

    // Unlock, lock again: a second key, and the first one is kept.
    ok(&env.vnsh(&["--yes", "-c", "unlock acme"]));
    let second = printed_key(&ok(&env.vnsh(&["--yes", "-c", "lock acme"])));
    assert_ne!(first, second);
    assert_eq!(
        keys_for(&env, "acme/"),
        vec![(first.clone(), true), (second.clone(), false)]
    );
    // The newest is the one that works now.
    let text = ok(&env.vnsh(&["--yes", "-c", "unlock acme"]));
    assert!(text.contains("with the key saved at"), "{text}");
    assert!(!is_locked(&env, "acme"));
    assert_eq!(keys_for(&env, "acme/"), vec![(first, true), (second, true)]);
}

#[test]
fn saved_keys_are_tried_newest_first() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "t1"]);
    env.bao(&["namespace", "create", "-namespace=acme", "t2"]);
    let token = locker_token(&env, "acme");
    let right = printed_key(&ok(&env.vnsh(&["--yes", "-n", "acme", "-c", "lock t1"])));

    // Hand-edit the store: an old wrong key before the right one, a newer wrong one after
    // it; and for t2 (locked elsewhere) only two wrong keys.
    let bogus = |ns: &str, key: &str, at: &str| json!({"server": env.server.addr(), "namespace": ns, "key": key, "saved_at": at, "used": false});
    let mut doc = store(&env);
    let keys = doc["keys"].as_array_mut().unwrap();
    keys.insert(
        0,
        bogus(
            "acme/t1/",
            "OLDWRONGOLDWRONGOLDWRONG",
            "2020-01-01T00:00:00Z",
        ),
    );
    keys.push(bogus(
        "acme/t1/",
        "NEWWRONGNEWWRONGNEWWRONG",
        "2099-01-01T00:00:00Z",
    ));
    keys.push(bogus(
        "acme/t2/",
        "T2OLDWRONGT2OLDWRONGT2OL",
        "2021-01-01T00:00:00Z",
    ));
    keys.push(bogus(
        "acme/t2/",
        "T2NEWWRONGT2NEWWRONGT2NE",
        "2098-01-01T00:00:00Z",
    ));
    fs::write(store_path(&env), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    assert_eq!(mode(&store_path(&env)), 0o600);
    let right_at = entries(&env)[1]["saved_at"].as_str().unwrap().to_string();

    // Newest (wrong) first, then the right one; the oldest is never needed.
    let out = env.vnsh_as(&token, &["--yes", "-n", "acme", "-c", "unlock t1"]);
    let text = ok(&out);
    assert!(
        text.contains(&format!(
            "Unlocked acme/t1 with the key saved at {right_at}"
        )),
        "{text}"
    );
    assert!(!is_locked(&env, "acme/t1"));
    assert_eq!(
        keys_for(&env, "acme/t1/"),
        vec![
            ("OLDWRONGOLDWRONGOLDWRONG".to_string(), false),
            (right, true),
            ("NEWWRONGNEWWRONGNEWWRONG".to_string(), false),
        ]
    );
    assert_eq!(mode(&store_path(&env)), 0o600);

    // With only wrong keys the failure lists them in the order tried: newest first.
    env.bao(&["namespace", "lock", "-namespace=acme", "t2"]);
    let out = env.vnsh_as(&token, &["--yes", "-n", "acme", "-c", "unlock t2"]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    let newer = err
        .find("the key saved at 2098-01-01T00:00:00Z was not accepted")
        .unwrap_or_else(|| panic!("{err}"));
    let older = err
        .find("the key saved at 2021-01-01T00:00:00Z was not accepted")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(newer < older, "not newest first: {err}");
    assert!(err.contains("--key"), "{err}");
    assert!(is_locked(&env, "acme/t2"));

    // A sudo token falls back to sudo after the wrong keys, and says so.
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "unlock t2"]);
    let text = ok(&out);
    assert!(text.contains("Unlocked acme/t2 with sudo"), "{text}");
    assert!(
        text.contains("2098-01-01T00:00:00Z was not accepted"),
        "{text}"
    );
    assert!(!is_locked(&env, "acme/t2"));
    // Nothing dropped from the store.
    assert_eq!(entries(&env).len(), 5);
}

#[test]
fn a_sudo_token_unlocks_without_a_saved_key_and_says_so() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "lock", "acme"]);
    assert!(is_locked(&env, "acme"));
    let out = env.vnsh(&["--yes", "-c", "unlock acme"]);
    let text = ok(&out);
    assert_eq!(
        text.trim(),
        "Unlocked acme with sudo (no key was saved for it)."
    );
    assert!(!is_locked(&env, "acme"));
}

#[test]
fn the_action_log_has_one_line_per_mutating_command_and_no_secret() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["auth", "enable", "-namespace=acme", "userpass"]);
    let script = "ns create a team=x; ns patch a team=y; lock a; pwd; ls; read sys/mounts; \
                  write auth/userpass/users/bob password=hunter2 policies=default; unlock a";
    let out = env.vnsh(&["-n", "acme", "--yes", "-c", script]);
    let key = printed_key(&ok(&out));
    // The password reached the server as typed: bob can log in with it.
    env.bao_json(&[
        "write",
        "-namespace=acme",
        "-format=json",
        "auth/userpass/login/bob",
        "password=hunter2",
    ]);
    // A failure is logged too, with its outcome; and a delete, and an unlock with --key.
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "lock a; lock a"]);
    assert_eq!(code(&out), Some(1));
    let key2 = printed_key(&stdout(&out));
    ok(&env.vnsh(&[
        "--yes",
        "-n",
        "acme",
        "-c",
        "delete auth/userpass/users/bob",
    ]));
    ok(&env.vnsh(&["--yes", "-c", &format!("unlock acme/a --key {key2}")]));

    let log = fs::read_to_string(log_path(&env)).unwrap();
    assert_eq!(mode(&log_path(&env)), 0o600);
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let commands: Vec<&str> = lines
        .iter()
        .map(|l| l["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        vec![
            "ns create a team=x",
            "ns patch a team=y",
            "lock a",
            "write auth/userpass/users/bob password=*** policies=***",
            "unlock a",
            "lock a",
            "lock a",
            "delete auth/userpass/users/bob",
            "unlock acme/a --key ***",
        ],
        "{log}"
    );
    for (i, l) in lines.iter().enumerate() {
        let o = l.as_object().unwrap();
        let mut fields: Vec<&str> = o.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec!["command", "namespace", "outcome", "server", "time"]
        );
        assert_eq!(l["server"], env.server.addr());
        let ns = if i == 8 { "" } else { "acme/" };
        assert_eq!(l["namespace"], ns, "{l}");
        assert!(
            humantime::parse_rfc3339(l["time"].as_str().unwrap()).is_ok(),
            "{l}"
        );
        let outcome = l["outcome"].as_str().unwrap();
        if i == 6 {
            assert!(
                outcome.starts_with("error: ") && outcome.contains("already locked"),
                "{l}"
            );
        } else {
            assert_eq!(outcome, "ok", "{l}");
        }
    }
    for secret in ["hunter2", key.as_str(), key2.as_str(), env.server.token()] {
        assert!(
            !log.contains(secret),
            "the action log holds a secret: {log}"
        );
    }
    assert!(!is_locked(&env, "acme/a"));
}

#[test]
fn commands_inside_a_locked_namespace_name_it() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "team"]);
    env.bao(&["namespace", "lock", "acme"]);

    for ns in ["acme/team", "acme"] {
        let out = env.vnsh(&["--yes", "-n", ns, "-c", "ls"]);
        assert_eq!(code(&out), Some(1), "ls in {ns}");
        let err = stderr(&out);
        assert!(err.contains("namespace acme is locked"), "{ns}: {err}");
        assert!(err.contains("unlock"), "{ns}: says how to get out: {err}");
    }
    // The parent still sees it, marked locked.
    let out = env.vnsh(&["--yes", "-c", "ls"]);
    let row = ok(&out)
        .lines()
        .find(|l| l.starts_with("acme/"))
        .map(str::to_string)
        .expect("acme/ listed");
    assert!(row.contains("locked"), "{row}");
}
