//! The unlock-key store under crashes, concurrency and a re-initialised server, against a
//! real OpenBao dev server.
//!
//! Some of these tests need other processes that use the store: they run this same test
//! binary again, as a child, with `VNSH_KEYSTORE_CHILD` saying which part to play (the
//! test that spawns it is the one named on the child's command line). A child is a real
//! process: killed with SIGKILL, it dies between any two instructions.
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::Api;
use serde_json::{json, Value};
use vnsh::engine::store::{KeyStatus, KeyStore, Resolution, ServerId, ServerMatch, StateDir};

/// The variable that makes this binary play a child's part.
const CHILD: &str = "VNSH_KEYSTORE_CHILD";
/// How a lock is done in the kill -9 loop: `intent` (the store's write-ahead intents, the
/// default) or `old` (request, then save: how vnsh did it before, to see the loop catch it).
const FLOW: &str = "VNSH_TEST_LOCK_FLOW";
/// The line a lock child prints once its intent is durable, just before it sends.
const SENT: &str = "KEYSTORE-SENT";

/// A small xorshift generator: enough to spread kill times, seeded and printed for replay.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("VNSH_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    | 1
            });
        eprintln!("seed: VNSH_TEST_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// This test binary run as a child playing `role`, for the test `test`, with `envs`.
fn spawn_child(test: &str, role: &str, envs: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn the child")
}

/// A variable a child was given.
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the child needs {name}"))
}

/// The server's cluster id, from `sys/health`.
fn cluster_id(api: &Api) -> String {
    let (status, health) = api.call("GET", "", "sys/health", None);
    assert_eq!(status, 200, "{health}");
    health["cluster_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no cluster_id in {health}"))
        .to_string()
}

/// Whether namespace `name` (in the root) is locked, as the server says.
fn is_locked(api: &Api, name: &str) -> bool {
    let body = api.ok("GET", "", &format!("sys/namespaces/{name}"), None);
    body["data"]["locked"].as_bool().unwrap_or(false)
}

/// The child's part in the kill -9 loop: lock one namespace with the key store, as the
/// engine does, printing [`SENT`] just before the request goes.
fn lock_child() {
    let store = KeyStore::new(PathBuf::from(var("KS_STORE")));
    let server = ServerId::new(&var("KS_ADDR"), Some(&var("KS_CLUSTER")));
    let (addr, token, ns) = (var("KS_ADDR"), var("KS_TOKEN"), var("KS_NS"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Built first: with its TLS roots it takes longer than the lock itself.
        let http = reqwest::Client::new();
        let intent = match std::env::var(FLOW).as_deref() {
            Ok("old") => None,
            _ => Some(
                store
                    .begin_lock_async(&server, &ns)
                    .await
                    .expect("begin_lock"),
            ),
        };
        println!("{SENT}");
        let answer = http
            .post(format!("{addr}/v1/sys/namespaces/api-lock/lock/{ns}"))
            .header("X-Vault-Token", token)
            .send()
            .await;
        let body: Result<Value, String> = match answer {
            Ok(resp) => resp.json().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let key = body
            .as_ref()
            .ok()
            .and_then(|b| b["data"]["unlock_key"].as_str())
            .map(str::to_string);
        match (intent, key) {
            (Some(intent), Some(key)) => drop(intent.complete_async(&key).await.expect("complete")),
            (Some(intent), None) => intent
                .unanswered_async(&format!("{body:?}"))
                .await
                .expect("unanswered"),
            (None, Some(key)) => drop(
                store
                    .save_for_async(&server, &ns, &key)
                    .await
                    .expect("save"),
            ),
            (None, None) => panic!("no key: {body:?}"),
        }
    });
    println!("KEYSTORE-DONE");
}

/// What one kill -9 run left, as a later vnsh sees it.
#[derive(Debug, Default)]
struct Tally {
    /// Ran to the end (the kill came too late).
    finished: usize,
    /// Killed; the namespace is locked and its key is in the store (and it unlocks it).
    saved: usize,
    /// Killed; locked, no key, and an open intent reports it.
    reported: usize,
    /// Killed; not locked (killed before the request), with an intent that says "maybe".
    false_alarms: usize,
    /// Killed; not locked, nothing recorded.
    nothing: usize,
    /// Keys a later start found in left-behind temp files.
    recovered: usize,
    /// Locked, no key and nothing reported: a key lost in silence.
    silent: Vec<String>,
}

#[test]
fn kill_nine_around_lock_never_loses_a_key_silently() {
    if std::env::var(CHILD).as_deref() == Ok("lock") {
        return lock_child();
    }
    const RUNS: usize = 100;
    let env = common::env();
    let api = Api::new(&env);
    let names: Vec<String> = (0..RUNS).map(|i| format!("k{i}")).collect();
    api.mkns_all(&names);
    let cluster = cluster_id(&api);
    let server = ServerId::new(env.server.addr(), Some(&cluster));
    let store_file = StateDir::at(env.vnsh_state()).keys_file();
    let store = KeyStore::new(store_file.clone());
    let child_env = |ns: &str| {
        vec![
            ("KS_STORE", store_file.display().to_string()),
            ("KS_ADDR", env.server.addr().to_string()),
            ("KS_TOKEN", env.server.token().to_string()),
            ("KS_CLUSTER", cluster.clone()),
            ("KS_NS", ns.to_string()),
        ]
    };
    let test = "kill_nine_around_lock_never_loses_a_key_silently";

    // How long a whole run takes, so that the kill times cover all of it.
    let start = Instant::now();
    let out = spawn_child(test, "lock", &child_env("k0"))
        .wait_with_output()
        .expect("child");
    assert!(out.status.success(), "a lock child failed on its own");
    let full = start.elapsed();
    eprintln!("one whole run: {full:?}");
    let mut rng = Rng::seeded();
    let mut tally = Tally::default();
    for (i, ns) in names.iter().enumerate() {
        // Run 0 was the measuring run, which finished.
        let finished = i == 0 || {
            let mut child = spawn_child(test, "lock", &child_env(ns));
            if i % 2 == 0 {
                // Anywhere in the run.
                std::thread::sleep(Duration::from_micros(rng.below(full.as_micros() as u64)));
            } else {
                // Just after the request went: the window the crash reports were about.
                let stdout = child.stdout.take().expect("stdout");
                let mut lines = BufReader::new(stdout).lines();
                let sent = lines.any(|l| l.is_ok_and(|l| l.ends_with(SENT)));
                assert!(sent, "run {i}: the child ended before sending");
                std::thread::sleep(Duration::from_micros(rng.below(4000)));
            }
            let _ = child.kill();
            child.wait().expect("wait").success()
        };
        // The next start: recover, then look at what the store says about this namespace.
        let recovered = store.recover().expect("recover");
        tally.recovered += recovered.keys.len();
        let mut locked = is_locked(&api, ns);
        let key = store
            .unlock_candidates(&server, ns)
            .expect("store")
            .into_iter()
            .next();
        let open: Vec<_> = store
            .open_intents()
            .expect("store")
            .into_iter()
            .filter(|o| o.intent.namespace == format!("{ns}/"))
            .collect();
        if !locked && !open.is_empty() {
            // The request may have left before the kill and still be on its way through
            // the server: give it time to land before calling this a false alarm.
            std::thread::sleep(Duration::from_millis(300));
            locked = is_locked(&api, ns);
        }
        if finished {
            tally.finished += 1;
            assert!(
                locked && key.is_some() && open.is_empty(),
                "run {i} finished without its key"
            );
        }
        match (locked, key, open.first()) {
            (true, Some(found), _) => {
                // The key must be the one that works.
                let (status, body) = api.call(
                    "POST",
                    "",
                    &format!("sys/namespaces/api-lock/unlock/{ns}"),
                    Some(json!({ "unlock_key": found.key.key })),
                );
                assert!(
                    (200..300).contains(&status),
                    "run {i}: the saved key does not unlock: {status} {body}"
                );
                tally.saved += usize::from(!finished);
            }
            (true, None, Some(open)) => {
                tally.reported += 1;
                let report = open.intent.report();
                assert!(report.contains(&format!("{ns} may be locked")), "{report}");
                // The sudo unlock the report offers, then the intent is closed.
                api.ok(
                    "POST",
                    "",
                    &format!("sys/namespaces/api-lock/unlock/{ns}"),
                    None,
                );
                store
                    .resolve_intent(&open.intent.id, Resolution::UnlockedWithSudo)
                    .expect("resolve");
            }
            (true, None, None) => {
                tally.silent.push(ns.clone());
                api.ok(
                    "POST",
                    "",
                    &format!("sys/namespaces/api-lock/unlock/{ns}"),
                    None,
                );
            }
            (false, _, Some(open)) => {
                tally.false_alarms += 1;
                store
                    .resolve_intent(&open.intent.id, Resolution::FoundUnlocked)
                    .expect("resolve");
            }
            (false, _, None) => tally.nothing += 1,
        }
        assert!(
            !is_locked(&api, ns),
            "run {i}: {ns} was locked after it was seen unlocked"
        );
    }
    eprintln!("{RUNS} runs: {tally:?}");
    assert!(
        tally.silent.is_empty(),
        "locked with the key lost and nothing reported: {:?} ({tally:?})",
        tally.silent
    );
    assert!(
        tally.finished < RUNS / 2,
        "most runs finished before the kill: the loop tested little ({tally:?})"
    );
    assert!(store.open_intents().expect("store").is_empty());
}

#[test]
fn a_key_of_the_server_that_was_at_this_address_before_is_for_another_server() {
    let mut env = common::env();
    let addr = env.server.addr().to_string();
    let token = env.server.token().to_string();
    let store = StateDir::at(env.vnsh_state()).key_store();
    let api = Api::new(&env);
    api.ok("POST", "", "sys/namespaces/t1", None);
    let old = ServerId::new(&addr, Some(&cluster_id(&api)));
    let intent = store.begin_lock(&old, "t1").unwrap();
    let body = api.ok("POST", "", "sys/namespaces/api-lock/lock/t1", None);
    let old_key = body["data"]["unlock_key"].as_str().unwrap().to_string();
    intent.complete(&old_key).unwrap();

    // The server is re-initialised at the same address, and t1 locked there again.
    env.server.stop();
    let _new_server = common::replace_server(&addr, &token, env.dir.path());
    // A new client: the old one's kept-alive connection went with the old server.
    let api = Api::new(&env);
    let new = ServerId::new(&addr, Some(&cluster_id(&api)));
    assert_ne!(
        old.cluster_id, new.cluster_id,
        "a new server, a new cluster id"
    );
    api.ok("POST", "", "sys/namespaces/t1", None);
    api.ok("POST", "", "sys/namespaces/api-lock/lock/t1", None);

    // The old key is useless here...
    let (status, body) = api.call(
        "POST",
        "",
        "sys/namespaces/api-lock/unlock/t1",
        Some(json!({ "unlock_key": old_key })),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("incorrect unlock key"), "{body}");
    // ...and the address alone cannot tell (what `locks` said: "key saved: yes").
    assert_eq!(store.find(&addr, "t1").unwrap().len(), 1);
    // The cluster id can.
    let status = store.key_status(&new, "t1").unwrap();
    assert!(
        matches!(status, KeyStatus::ForAnotherServer(_)),
        "{status:?}"
    );
    assert_eq!(status.label(), "saved, for another server");
    assert!(store.unlock_candidates(&new, "t1").unwrap().is_empty());
    let found = store.find_for(&new, "t1").unwrap();
    assert_eq!(found[0].matches, ServerMatch::OtherServer);
    // Nothing was dropped: the old server's key is still there.
    assert_eq!(store.load().unwrap()[0].key, old_key);

    // What an operator sees: `locks` says so, and `unlock` never offers the old key.
    let out = env.vnsh(&["-c", "locks"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("t1/"))
        .unwrap_or_default();
    assert!(row.contains("saved, for another server"), "{text}");
    let out = env.vnsh(&["--yes", "-c", "unlock t1"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("with sudo") && said.contains("for another server"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(store.load().unwrap()[0].key, old_key);
}

/// The child's part in the two-process test: save keys and complete intents, `KS_N` of
/// each, with a prefix of its own, while another process does the same.
fn saver_child() {
    let store = KeyStore::new(PathBuf::from(var("KS_STORE")));
    let server = ServerId::new("http://127.0.0.1:1", Some("C"));
    let prefix = var("KS_PREFIX");
    let n: usize = var("KS_N").parse().expect("KS_N");
    for i in 0..n {
        if i % 2 == 0 {
            store
                .save_for(&server, &format!("{prefix}/"), &format!("{prefix}-{i}"))
                .expect("save");
        } else {
            let intent = store
                .begin_lock(&server, &format!("{prefix}-{i}"))
                .expect("begin_lock");
            intent.complete(&format!("{prefix}-{i}")).expect("complete");
        }
    }
    println!("KEYSTORE-DONE");
}

/// The child's part that runs `recover` again and again while others write: it must
/// never find anything (no one crashed) nor take a live write away.
fn recoverer_child() {
    let store = KeyStore::new(PathBuf::from(var("KS_STORE")));
    let stop = PathBuf::from(var("KS_STOP"));
    let mut rounds = 0;
    while !stop.exists() {
        let got = store.recover().expect("recover");
        assert!(
            got.is_empty(),
            "recover found something while no one crashed: {got:?}"
        );
        rounds += 1;
        // Often enough to meet the writers, gently enough to leave them the machine.
        std::thread::sleep(Duration::from_millis(3));
    }
    println!("KEYSTORE-ROUNDS {rounds}");
}

#[test]
fn two_processes_saving_at_once_lose_no_key() {
    match std::env::var(CHILD).as_deref() {
        Ok("save") => return saver_child(),
        Ok("recover") => return recoverer_child(),
        _ => {}
    }
    const N: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let store_file = dir.path().join("vnsh").join("unlock-keys.json");
    let stop = dir.path().join("stop");
    let test = "two_processes_saving_at_once_lose_no_key";
    let base = |extra: (&'static str, String)| {
        vec![
            ("KS_STORE", store_file.display().to_string()),
            ("KS_N", N.to_string()),
            ("KS_STOP", stop.display().to_string()),
            extra,
        ]
    };
    let recoverer = spawn_child(test, "recover", &base(("KS_PREFIX", "r".into())));
    let savers: Vec<Child> = ["a", "b"]
        .iter()
        .map(|p| spawn_child(test, "save", &base(("KS_PREFIX", p.to_string()))))
        .collect();
    for s in savers {
        let out = s.wait_with_output().unwrap();
        assert!(out.status.success(), "a saver failed");
    }
    std::fs::write(&stop, "").unwrap();
    let out = recoverer.wait_with_output().unwrap();
    assert!(out.status.success(), "the recoverer failed");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let rounds: usize = stdout
        .split("KEYSTORE-ROUNDS ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the recoverer said no rounds: {stdout}"));
    eprintln!("recover ran {rounds} times during the saves");
    assert!(rounds > 1, "recover never ran beside the writers");

    let store = KeyStore::new(store_file.clone());
    let mut keys: Vec<String> = store.load().unwrap().into_iter().map(|k| k.key).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(total, keys.len(), "a key saved twice");
    let mut want: Vec<String> = ["a", "b"]
        .iter()
        .flat_map(|p| (0..N).map(move |i| format!("{p}-{i}")))
        .collect();
    want.sort();
    assert_eq!(keys, want);
    // Half of each child's N went through an intent.
    assert_eq!(store.intents().unwrap().len(), N);
    assert!(store.open_intents().unwrap().is_empty());
    let left: Vec<String> = std::fs::read_dir(store_file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "unlock-keys.json" && n != "unlock-keys.json.lock")
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}
