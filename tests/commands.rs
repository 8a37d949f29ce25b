//! Every command of PRODUCT.md's table against a real `bao server -dev`: `--format json`
//! output is compared with what the real `bao … -format=json` prints for the same
//! request (`request_id` aside), and server state is checked over HTTP afterwards.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{json_lines, ok, stderr, Api, Env};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `vnsh --format json ARGS…`: every stdout line parsed, `request_id` removed; exit 0 required.
fn vj(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    json_lines(&env.vnsh(&all))
}

/// The one JSON document a single-command run prints.
fn vj1(env: &Env, args: &[&str]) -> Value {
    let mut docs = vj(env, args);
    assert_eq!(docs.len(), 1, "expected one JSON document: {docs:?}");
    docs.remove(0)
}

/// A JSON array of strings as a sorted Vec.
fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect();
    out.sort();
    out
}

/// The keys of a JSON object as a set.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// A copy of `v` without the given top-level fields.
fn without(v: &Value, fields: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for f in fields {
            o.remove(*f);
        }
    }
    v
}

/// `v` with `data.created_time` removed (differs between two writes).
fn without_created_time(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
        d.remove("created_time");
    }
    v
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `strs(&["a", "b"])` as owned Strings, for comparisons.
fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `vnsh ARGS` with `input` on stdin, failing (not hanging) after 30 s.
fn run_script(env: &Env, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = env
        .command(common::vnsh_bin(), env.server.token())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vnsh");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write script");
    drop(stdin);
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.expect("vnsh output"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            panic!("vnsh {args:?} hung on the script {input:?}");
        }
    }
}

/// A stand-in server that records the request line of every request it gets and
/// answers each with a 404 error: proof of what vnsh sent, or that it sent nothing.
struct Recorder {
    addr: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Recorder {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let mut conn = match listener.accept() {
                    Ok((conn, _)) => conn,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => return,
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                if let Some(line) = head.lines().next().filter(|l| !l.is_empty()) {
                    seen2.lock().unwrap().push(line.to_string());
                }
                let body = r#"{"errors":["recorder"]}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Recorder {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `vnsh ARGS` pointed at this recorder.
    fn vnsh(&self, env: &Env, args: &[&str]) -> Output {
        env.command(common::vnsh_bin(), env.server.token())
            .env("VAULT_ADDR", &self.addr)
            .args(args)
            .output()
            .expect("run vnsh")
    }

    /// The request lines received so far, and forget them.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// pwd and cd
// ---------------------------------------------------------------------------------------

#[test]
fn pwd_prints_root_and_nested_namespaces() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("ns1/ns2");

    assert_eq!(vj1(&env, &["-c", "pwd"]), json!({ "namespace": "" }));
    assert_eq!(
        vj1(&env, &["-n", "ns1/ns2", "-c", "pwd"]),
        json!({ "namespace": "ns1/ns2/" })
    );
    assert_eq!(
        vj1(&env, &["-n", "/ns1/ns2/", "-c", "pwd"]),
        json!({ "namespace": "ns1/ns2/" })
    );
    assert_eq!(ok(&env.vnsh(&["-c", "pwd"])).trim(), "/");
    assert_eq!(
        ok(&env.vnsh(&["-n", "ns1/ns2", "-c", "pwd"])).trim(),
        "ns1/ns2"
    );
}

#[test]
fn cd_accepts_every_form() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("a/b/c");
    http.mkns("a/sib");

    // (start, commands before `pwd`, expected namespace)
    let cases: &[(&str, &str, &str)] = &[
        ("a/b", "cd c", "a/b/c/"),
        ("a", "cd b/c", "a/b/c/"),
        ("a/b/c", "cd /a/sib", "a/sib/"),
        ("a/b", "cd /", ""),
        ("a/b", "cd ..", "a/"),
        ("a/b/c", "cd ../..", "a/"),
        ("a/b", "cd ../sib", "a/sib/"),
        ("a/b", "cd .", "a/b/"),
        ("a/b", "cd /a/sib; cd -", "a/b/"),
        ("a/b", "cd /a/sib; cd -; cd -", "a/sib/"),
        ("a/b", "cd /; cd ~", "a/b/"),
        ("a/b", "cd /a/sib; cd", "a/b/"),
        ("a/b", "cd /; cd ~/c", "a/b/c/"),
        ("a", "cd b/c/", "a/b/c/"),
        ("", "cd a/sib/", "a/sib/"),
        ("", "cd /a/b/", "a/b/"),
        ("", "cd a; cd b; cd c", "a/b/c/"),
    ];
    for (start, cmds, want) in cases {
        let line = format!("{cmds}; pwd");
        let mut args = vec![];
        if !start.is_empty() {
            args.extend(["-n", start]);
        }
        args.extend(["-c", line.as_str()]);
        // `cd` prints nothing, so `pwd` is the only document.
        let docs = vj(&env, &args);
        assert_eq!(
            docs,
            vec![json!({ "namespace": want })],
            "from {start:?}: {line}"
        );
    }
}

#[test]
fn failed_cd_says_why_and_keeps_the_context() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme");

    // --keep-going: the failed cd is reported, the context stays, pwd still runs.
    let out = env.vnsh(&[
        "--format",
        "json",
        "--keep-going",
        "-c",
        "cd acme; cd nope; pwd",
    ]);
    assert_eq!(code(&out), 1);
    let docs: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(docs, vec![json!({ "namespace": "acme/" })]);
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("JSON error");
    let msg = err["errors"][0].as_str().expect("message");
    assert!(
        msg.contains("acme/nope") && msg.contains("does not exist"),
        "{msg}"
    );

    // Without it: stops at the failure, pwd is not run.
    let out = env.vnsh(&["-c", "cd acme; cd nope; pwd"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("namespace acme/nope does not exist"),
        "{}",
        stderr(&out)
    );

    // In line mode the context is kept across the failure, then cd works again.
    let out = env.vnsh(&[
        "--format",
        "json",
        "--keep-going",
        "-c",
        "cd acme; cd /nope/deeper; pwd; cd /; pwd",
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        vec![r#"{"namespace":"acme/"}"#, r#"{"namespace":""}"#]
    );

    // Above the root.
    let out = env.vnsh(&["-c", "cd .."]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("above the root"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// ns list / scan / lookup / create / patch / delete
// ---------------------------------------------------------------------------------------

/// acme/{payments/eu, billing (locked)}, globex (with metadata).
fn small_tree(http: &Api) {
    http.mkns("acme/payments/eu");
    http.mkns("acme/billing");
    http.mkns_meta("", "globex", json!({ "tier": "gold" }));
    http.lock("acme/", "billing");
}

#[test]
fn ns_list_matches_bao() {
    let env = common::env();
    let http = Api::new(&env);
    small_tree(&http);

    // Root.
    let bao = env.bao_json(&["namespace", "list", "-format=json"]);
    let ours = vj1(&env, &["-c", "ns list"]);
    assert_eq!(sorted(&ours), strs(&["acme/", "globex/"]));
    assert_eq!(sorted(&ours), sorted(&bao));

    let bao = env.bao_json(&["namespace", "list", "-detailed", "-format=json"]);
    let ours = vj1(&env, &["-c", "ns list -detailed"]);
    assert_eq!(ours, bao);
    assert_eq!(
        ours["globex/"]["custom_metadata"],
        json!({ "tier": "gold" })
    );

    // Nested, with a locked child.
    let bao = env.bao_json(&["namespace", "list", "-format=json", "-namespace=acme"]);
    let ours = vj1(&env, &["-n", "acme", "-c", "ns list"]);
    assert_eq!(sorted(&ours), strs(&["billing/", "payments/"]));
    assert_eq!(sorted(&ours), sorted(&bao));

    let bao = env.bao_json(&[
        "namespace",
        "list",
        "-detailed",
        "-format=json",
        "-namespace=acme",
    ]);
    let ours = vj1(&env, &["-n", "acme", "-c", "ns list -detailed"]);
    assert_eq!(ours, bao);
    assert_eq!(ours["billing/"]["locked"], json!(true));
    assert_eq!(ours["payments/"]["path"], json!("acme/payments/"));

    // A leaf: bao prints `{}` and exits 2; vnsh prints an empty list and succeeds.
    let leaf = env.bao_raw(
        env.server.token(),
        &[
            "namespace",
            "list",
            "-format=json",
            "-namespace=acme/payments/eu",
        ],
    );
    assert_eq!(leaf.status.code(), Some(2));
    assert_eq!(stdout(&leaf).trim(), "{}");
    assert_eq!(
        vj1(&env, &["-n", "acme/payments/eu", "-c", "ns list"]),
        json!([])
    );
    assert_eq!(
        vj1(&env, &["-n", "acme/payments/eu", "-c", "ns list -detailed"]),
        json!({})
    );
}

#[test]
fn ns_scan_matches_bao_with_and_without_scan() {
    let env = common::env();
    let http = Api::new(&env);
    small_tree(&http);

    // Root: bao's order is the server's, so compare as sets.
    let bao = env.bao_json(&["namespace", "scan", "-format=json"]);
    let want = strs(&[
        "acme/",
        "acme/billing/",
        "acme/payments/",
        "acme/payments/eu/",
        "globex/",
    ]);
    assert_eq!(sorted(&bao), want);
    assert_eq!(sorted(&vj1(&env, &["-c", "ns scan"])), want);
    assert_eq!(sorted(&vj1(&env, &["--no-scan", "-c", "ns scan"])), want);

    let bao_detailed = env.bao_json(&["namespace", "scan", "-detailed", "-format=json"]);
    assert_eq!(vj1(&env, &["-c", "ns scan -detailed"]), bao_detailed);
    assert_eq!(
        vj1(&env, &["--no-scan", "-c", "ns scan -detailed"]),
        bao_detailed
    );

    // Nested: keys are relative, `path` stays the full path.
    let bao = env.bao_json(&["namespace", "scan", "-format=json", "-namespace=acme"]);
    let want = strs(&["billing/", "payments/", "payments/eu/"]);
    assert_eq!(sorted(&bao), want);
    assert_eq!(sorted(&vj1(&env, &["-n", "acme", "-c", "ns scan"])), want);
    assert_eq!(
        sorted(&vj1(&env, &["-n", "acme", "--no-scan", "-c", "ns scan"])),
        want
    );
    let bao_detailed = env.bao_json(&[
        "namespace",
        "scan",
        "-detailed",
        "-format=json",
        "-namespace=acme",
    ]);
    assert_eq!(
        bao_detailed["payments/eu/"]["path"],
        json!("acme/payments/eu/")
    );
    assert_eq!(
        vj1(&env, &["-n", "acme", "-c", "ns scan -detailed"]),
        bao_detailed
    );
    assert_eq!(
        vj1(
            &env,
            &["-n", "acme", "--no-scan", "-c", "ns scan -detailed"]
        ),
        bao_detailed
    );
}

#[test]
fn ns_lookup_matches_bao() {
    let env = common::env();
    let http = Api::new(&env);
    small_tree(&http);

    let bao = env.bao_json(&["namespace", "lookup", "-format=json", "globex"]);
    let ours = vj1(&env, &["-c", "ns lookup globex"]);
    assert_eq!(ours, bao);
    assert_eq!(ours["path"], json!("globex/"));
    assert_eq!(ours["custom_metadata"], json!({ "tier": "gold" }));

    let bao = env.bao_json(&[
        "namespace",
        "lookup",
        "-format=json",
        "-namespace=acme",
        "billing",
    ]);
    let ours = vj1(&env, &["-n", "acme", "-c", "ns lookup billing"]);
    assert_eq!(ours, bao);
    assert_eq!(ours["locked"], json!(true));
    assert_eq!(ours["path"], json!("acme/billing/"));

    // A missing one fails in both.
    let out = env.vnsh(&["--format", "json", "-c", "ns lookup nope"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    let bao = env.bao_raw(
        env.server.token(),
        &["namespace", "lookup", "-format=json", "nope"],
    );
    assert_ne!(bao.status.code(), Some(0));
}

#[test]
fn ns_create_matches_bao() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme");

    for (ns, flag) in [("", None), ("acme", Some("-namespace=acme"))] {
        let mut args = vec![];
        if !ns.is_empty() {
            args.extend(["-n", ns]);
        }
        args.extend(["-c", "ns create t1 team=red tier=1"]);
        let ours = vj1(&env, &args);

        let mut bao_args = vec![
            "namespace",
            "create",
            "-format=json",
            "-custom-metadata=team=red",
            "-custom-metadata=tier=1",
        ];
        bao_args.extend(flag);
        bao_args.push("t2");
        let bao = env.bao_json(&bao_args);

        let prefix = if ns.is_empty() {
            String::new()
        } else {
            format!("{ns}/")
        };
        assert_eq!(ours["path"], json!(format!("{prefix}t1/")), "in {ns:?}");
        assert_eq!(bao["path"], json!(format!("{prefix}t2/")), "in {ns:?}");
        assert_eq!(
            ours["custom_metadata"],
            json!({ "team": "red", "tier": "1" })
        );
        assert_eq!(ours["locked"], json!(false));
        let ignore = ["id", "uuid", "path"];
        assert_eq!(without(&ours, &ignore), without(&bao, &ignore), "in {ns:?}");
        assert_eq!(keys(&ours), keys(&bao));

        // It is really there, and the lookup is what create printed.
        let mut lookup_args = vec!["namespace", "lookup", "-format=json"];
        lookup_args.extend(flag);
        lookup_args.push("t1");
        assert_eq!(env.bao_json(&lookup_args), ours, "in {ns:?}");
    }
    assert_eq!(http.children(""), strs(&["acme/", "t1/", "t2/"]));
    assert_eq!(http.children("acme/"), strs(&["t1/", "t2/"]));
}

#[test]
fn ns_patch_matches_bao() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme");
    for parent in ["", "acme/"] {
        for name in ["p1", "p2"] {
            http.mkns_meta(parent, name, json!({ "a": "1", "b": "2" }));
        }
    }

    for (ns, flag) in [("", None), ("acme", Some("-namespace=acme"))] {
        let mut args = vec![];
        if !ns.is_empty() {
            args.extend(["-n", ns]);
        }
        args.extend(["-c", "ns patch p1 b=3 c=4"]);
        let ours = vj1(&env, &args);

        let mut bao_args = vec![
            "namespace",
            "patch",
            "-format=json",
            "-custom-metadata=b=3",
            "-custom-metadata=c=4",
        ];
        bao_args.extend(flag);
        bao_args.push("p2");
        let bao = env.bao_json(&bao_args);

        let merged = json!({ "a": "1", "b": "3", "c": "4" });
        assert_eq!(ours["custom_metadata"], merged, "in {ns:?}");
        assert_eq!(bao["custom_metadata"], merged, "in {ns:?}");
        let ignore = ["id", "uuid", "path"];
        assert_eq!(without(&ours, &ignore), without(&bao, &ignore));

        let mut lookup_args = vec!["namespace", "lookup", "-format=json"];
        lookup_args.extend(flag);
        lookup_args.push("p1");
        assert_eq!(env.bao_json(&lookup_args), ours, "in {ns:?}");
    }
}

#[test]
fn ns_delete_removes_the_namespace() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/gone");
    http.mkns("acme/stays");
    http.mkns("top");

    let out = env.vnsh(&[
        "--format",
        "json",
        "--yes",
        "-n",
        "acme",
        "-c",
        "ns delete gone",
    ]);
    ok(&out);
    assert_eq!(stdout(&out), "", "no warnings expected");
    let out = env.vnsh(&["--yes", "-c", "ns delete top"]);
    ok(&out);

    // Deletion may finish in the background: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while http.children("acme/") != strs(&["stays/"]) || http.children("") != strs(&["acme/"]) {
        assert!(
            Instant::now() < deadline,
            "still there: {:?} {:?}",
            http.children("acme/"),
            http.children("")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let lookup = env.bao_raw(
        env.server.token(),
        &["namespace", "lookup", "-namespace=acme", "gone"],
    );
    assert_ne!(lookup.status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------
// API paths: routing, read/list/write/patch/delete
// ---------------------------------------------------------------------------------------

#[test]
fn three_forms_and_an_absolute_path_reach_the_same_secret() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("ns1/ns2");
    http.mkns("other");
    http.mount_kv("ns1/ns2/", "secret", "2");
    http.kv2_put(
        "ns1/ns2/",
        "secret",
        "foo",
        json!({ "user": "alice", "n": "1" }),
    );

    let want = env.bao_json(&["read", "-format=json", "ns1/ns2/secret/data/foo"]);
    assert_eq!(want["data"]["data"], json!({ "user": "alice", "n": "1" }));

    assert_eq!(vj1(&env, &["-c", "read ns1/ns2/secret/data/foo"]), want);
    assert_eq!(
        vj1(&env, &["-n", "ns1", "-c", "read ns2/secret/data/foo"]),
        want
    );
    assert_eq!(
        vj1(&env, &["-n", "ns1/ns2", "-c", "read secret/data/foo"]),
        want
    );
    assert_eq!(
        vj1(
            &env,
            &["-n", "other", "-c", "read /ns1/ns2/secret/data/foo"]
        ),
        want
    );
    assert_eq!(
        vj1(
            &env,
            &["-n", "ns1/ns2", "-c", "read /ns1/ns2/secret/data/foo"]
        ),
        want
    );

    // The same in one session, moving with cd.
    let docs = vj(
        &env,
        &[
            "-c",
            "read ns1/ns2/secret/data/foo; cd ns1; read ns2/secret/data/foo; \
             cd ns2; read secret/data/foo; cd /other; read /ns1/ns2/secret/data/foo",
        ],
    );
    assert_eq!(docs, vec![want.clone(), want.clone(), want.clone(), want]);

    // A relative path from the wrong namespace does not find it.
    let out = env.vnsh(&["-n", "other", "-c", "read secret/data/foo"]);
    assert_eq!(code(&out), 1);

    // list takes the same routes.
    let bao = env.bao_json(&["list", "-format=json", "ns1/ns2/secret/metadata"]);
    assert_eq!(bao, json!(["foo"]));
    assert_eq!(vj1(&env, &["-c", "list ns1/ns2/secret/metadata"]), bao);
    assert_eq!(
        vj1(
            &env,
            &["-n", "other", "-c", "list /ns1/ns2/secret/metadata/"]
        ),
        bao
    );
}

#[test]
fn kv_v2_read_list_write_patch_delete_match_bao() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("t");
    http.mount_kv("t/", "secret", "2");
    http.kv2_put("t/", "secret", "warmup", json!({ "x": "1" }));

    let dir = env.dir.path();
    let data = dir.join("data.json");
    std::fs::write(&data, r#"{"data":{"user":"bob","pw":"s3"}}"#).unwrap();
    let change = dir.join("change.json");
    std::fs::write(&change, r#"{"data":{"pw":"s4"}}"#).unwrap();
    let data_arg = format!("@{}", data.display());
    let change_arg = format!("@{}", change.display());

    // write: vnsh writes `app`, bao writes `other`, from the same file.
    let ours = vj1(
        &env,
        &[
            "-n",
            "t",
            "-c",
            &format!("write secret/data/app {data_arg}"),
        ],
    );
    let bao = env.bao_json(&[
        "write",
        "-format=json",
        "-namespace=t",
        "secret/data/other",
        &data_arg,
    ]);
    assert_eq!(ours["data"]["version"], json!(1));
    assert_eq!(without_created_time(&ours), without_created_time(&bao));

    // read
    let bao = env.bao_json(&["read", "-format=json", "-namespace=t", "secret/data/app"]);
    assert_eq!(bao["data"]["data"], json!({ "user": "bob", "pw": "s3" }));
    assert_eq!(vj1(&env, &["-n", "t", "-c", "read secret/data/app"]), bao);

    // list, with and without the trailing slash
    let bao = env.bao_json(&["list", "-format=json", "-namespace=t", "secret/metadata"]);
    assert_eq!(sorted(&bao), strs(&["app", "other", "warmup"]));
    assert_eq!(vj1(&env, &["-n", "t", "-c", "list secret/metadata"]), bao);
    assert_eq!(vj1(&env, &["-n", "t", "-c", "list secret/metadata/"]), bao);

    // patch: JSON merge patch in both.
    let ours = vj1(
        &env,
        &[
            "-n",
            "t",
            "-c",
            &format!("patch secret/data/app {change_arg}"),
        ],
    );
    let bao = env.bao_json(&[
        "patch",
        "-format=json",
        "-namespace=t",
        "secret/data/other",
        &change_arg,
    ]);
    assert_eq!(ours["data"]["version"], json!(2));
    assert_eq!(without_created_time(&ours), without_created_time(&bao));
    for key in ["app", "other"] {
        let path = format!("secret/data/{key}");
        let bao = env.bao_json(&["read", "-format=json", "-namespace=t", &path]);
        assert_eq!(
            bao["data"]["data"],
            json!({ "user": "bob", "pw": "s4" }),
            "{key}"
        );
        assert_eq!(vj1(&env, &["-n", "t", "-c", &format!("read {path}")]), bao);
    }

    // delete of the data path: a soft delete; the read answers 404 with the metadata,
    // which bao prints (exit 0) and vnsh must print too.
    let out = env.vnsh(&[
        "--format",
        "json",
        "--yes",
        "-n",
        "t",
        "-c",
        "delete secret/data/other",
    ]);
    assert_eq!(ok(&out), "");
    let bao = env.bao_json(&["read", "-format=json", "-namespace=t", "secret/data/other"]);
    assert_eq!(bao["data"]["data"], Value::Null);
    assert_ne!(bao["data"]["metadata"]["deletion_time"], json!(""));
    assert_eq!(vj1(&env, &["-n", "t", "-c", "read secret/data/other"]), bao);

    // delete of the metadata: gone from the list.
    let out = env.vnsh(&["--yes", "-n", "t", "-c", "delete secret/metadata/app"]);
    ok(&out);
    let bao = env.bao_json(&["list", "-format=json", "-namespace=t", "secret/metadata"]);
    assert_eq!(sorted(&bao), strs(&["other", "warmup"]));
    let out = env.vnsh(&["-n", "t", "-c", "read secret/data/app"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("secret/data/app"), "{}", stderr(&out));
}

#[test]
fn kv_v1_read_list_write_patch_delete_match_bao() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("t");
    http.mount_kv("t/", "kv", "1");

    let value_file = env.dir.path().join("value.txt");
    std::fs::write(&value_file, "from a file").unwrap();

    // write: no data in the answer, so both print nothing.
    let out = env.vnsh(&[
        "--format",
        "json",
        "-n",
        "t",
        "-c",
        &format!("write kv/k1 a=1 b=2 f=@{}", value_file.display()),
    ]);
    assert_eq!(ok(&out), "");
    let bao = env.bao(&["write", "-format=json", "-namespace=t", "kv/k2", "a=1"]);
    assert_eq!(bao.trim(), "");

    // read
    let bao = env.bao_json(&["read", "-format=json", "-namespace=t", "kv/k1"]);
    assert_eq!(
        bao["data"],
        json!({ "a": "1", "b": "2", "f": "from a file" })
    );
    assert_eq!(vj1(&env, &["-n", "t", "-c", "read kv/k1"]), bao);

    // list
    let bao = env.bao_json(&["list", "-format=json", "-namespace=t", "kv"]);
    assert_eq!(sorted(&bao), strs(&["k1", "k2"]));
    assert_eq!(vj1(&env, &["-n", "t", "-c", "list kv"]), bao);
    assert_eq!(vj1(&env, &["-n", "t", "-c", "list kv/"]), bao);

    // patch: kv v1 has none; both fail.
    let out = env.vnsh(&["-n", "t", "-c", "patch kv/k1 a=9"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("405"), "{}", stderr(&out));
    let bao = env.bao_raw(
        env.server.token(),
        &["patch", "-format=json", "-namespace=t", "kv/k1", "a=9"],
    );
    assert_ne!(bao.status.code(), Some(0));
    assert_eq!(
        vj1(&env, &["-n", "t", "-c", "read kv/k1"])["data"]["a"],
        json!("1")
    );

    // delete
    let out = env.vnsh(&["--format", "json", "--yes", "-n", "t", "-c", "delete kv/k1"]);
    assert_eq!(ok(&out), "");
    let gone = env.bao_raw(
        env.server.token(),
        &["read", "-format=json", "-namespace=t", "kv/k1"],
    );
    assert_eq!(gone.status.code(), Some(2));
    let bao = env.bao_json(&["list", "-format=json", "-namespace=t", "kv"]);
    assert_eq!(bao, json!(["k2"]));
    assert_eq!(vj1(&env, &["-n", "t", "-c", "list kv"]), bao);
}

#[test]
fn root_only_paths_go_to_the_root_with_a_note() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme");

    // sys/leader: the answer has no `data` wrapper; bao shows the body as data.
    let bao = env.bao_json(&["read", "-format=json", "sys/leader"]);
    assert!(bao["data"].get("ha_enabled").is_some(), "{bao}");
    let out = env.vnsh(&["--format", "json", "-n", "acme", "-c", "read sys/leader"]);
    assert_eq!(json_lines(&out), vec![bao.clone()]);
    let note = stderr(&out);
    assert!(
        note.contains("sys/leader") && note.contains("sent to the root namespace"),
        "{note}"
    );
    assert_eq!(note.trim().lines().count(), 1, "{note}");

    // From the root there is nothing to say.
    let out = env.vnsh(&["--format", "json", "-c", "read sys/leader"]);
    assert_eq!(json_lines(&out), vec![bao]);
    assert_eq!(stderr(&out), "");

    // sys/key-status is refused inside a namespace, so only the root routing can succeed.
    let in_ns = env.bao_raw(
        env.server.token(),
        &["read", "-format=json", "-namespace=acme", "sys/key-status"],
    );
    assert_ne!(in_ns.status.code(), Some(0));
    let bao = env.bao_json(&["read", "-format=json", "sys/key-status"]);
    let out = env.vnsh(&[
        "--format",
        "json",
        "-n",
        "acme",
        "-c",
        "read sys/key-status",
    ]);
    let ours = json_lines(&out).remove(0);
    assert_eq!(ours["data"]["term"], bao["data"]["term"]);
    assert_eq!(ours["data"]["install_time"], bao["data"]["install_time"]);
    assert!(stderr(&out).contains("sys/key-status"), "{}", stderr(&out));

    // sys/health: unauthenticated and raw; compare what does not tick.
    let bao = env.bao_json(&["read", "-format=json", "sys/health"]);
    let ours = vj1(&env, &["-n", "acme", "-c", "read sys/health"]);
    assert_eq!(ours["data"]["initialized"], json!(true));
    assert_eq!(ours["data"]["sealed"], json!(false));
    assert_eq!(
        without(&ours["data"], &["server_time_utc"]),
        without(&bao["data"], &["server_time_utc"])
    );
    // And in table mode the fields are shown, not a "written" message.
    let text = ok(&env.vnsh(&["-n", "acme", "-c", "read sys/health"]));
    assert!(
        text.contains("initialized") && !text.contains("written"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Names refused before anything is sent
// ---------------------------------------------------------------------------------------

#[test]
fn bad_names_are_refused_before_anything_is_sent() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/team");
    http.mkns("acme/a");
    http.lock("acme/", "a");
    let before = http.scan("");
    assert_eq!(before.get("acme/a/"), Some(&true));
    assert_eq!(before.get("acme/"), Some(&false));

    // (namespace, command, the rule the error must name)
    let cases: &[(&str, &str, &str)] = &[
        ("acme", "ns create 'a b'", "contains a space"),
        ("acme", "ns create sys", "`sys` is reserved"),
        ("acme", "ns create auth", "`auth` is reserved"),
        ("acme", "ns create root", "`root` is reserved"),
        ("", "ns create root", "`root` is reserved"),
        (
            "acme",
            "ns create a/../b",
            "`..` cannot be a namespace name",
        ),
        ("acme", "ns create x/", "ends with `/`"),
        ("acme/team", "lock ..", "`..` cannot be a namespace name"),
        ("acme", "lock root", "`root` is reserved"),
        ("acme", "lock team/root", "`root` is reserved"),
        ("acme", "unlock a/root", "`root` is reserved"),
        ("acme", "unlock ..", "`..` cannot be a namespace name"),
        ("acme", "ns delete .", "`.` cannot be a namespace name"),
        ("acme", "ns delete ..", "`..` cannot be a namespace name"),
    ];
    let recorder = Recorder::start();
    for (ns, line, rule) in cases {
        let mut args = vec!["--yes"];
        if !ns.is_empty() {
            args.extend(["-n", ns]);
        }
        args.extend(["-c", line]);
        // Against the real server: refused, naming the rule, and the server unchanged.
        let out = env.vnsh(&args);
        assert_eq!(code(&out), 1, "{line} in {ns:?}");
        assert_eq!(stdout(&out), "", "{line} in {ns:?}");
        let err = stderr(&out);
        assert!(
            err.contains(rule) && err.contains("nothing was sent"),
            "{line} in {ns:?}: {err}"
        );
        assert_eq!(http.scan(""), before, "{line} in {ns:?} changed the server");
        // Against the recorder: not one request.
        let out = recorder.vnsh(&env, &args);
        assert_eq!(code(&out), 1, "{line} in {ns:?}");
        assert!(stderr(&out).contains(rule), "{line}: {}", stderr(&out));
        assert_eq!(recorder.take(), Vec::<String>::new(), "{line} in {ns:?}");
    }
    // The recorder does see what is sent: a valid name goes out, after the check of the
    // start namespace (the recorder answers 404 to everything, so that check fails and
    // nothing else is sent); from the root, nothing is checked first.
    let out = recorder.vnsh(&env, &["-n", "acme", "-c", "ns create fine"]);
    assert_eq!(code(&out), 1);
    let seen = recorder.take();
    assert!(
        !seen.is_empty()
            && seen
                .iter()
                .all(|r| r.starts_with("GET /v1/auth/token/lookup-self ")
                    || r.starts_with("GET /v1/sys/namespaces/acme ")
                    || r.starts_with("GET /v1/sys/namespaces/acme/seal-status ")),
        "{seen:?}"
    );
    let out = recorder.vnsh(&env, &["-c", "ns create fine"]);
    assert_eq!(code(&out), 1);
    let seen = recorder.take();
    assert!(
        seen.last()
            .is_some_and(|r| r.starts_with("POST /v1/sys/namespaces/fine ")),
        "{seen:?}"
    );

    // JSON mode: the same refusal as {"errors":[…]}.
    let out = env.vnsh(&["--format", "json", "-c", "ns create 'a b'"]);
    assert_eq!(code(&out), 1);
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("JSON error");
    assert!(
        err["errors"][0]
            .as_str()
            .is_some_and(|m| m.contains("contains a space")),
        "{err}"
    );
    assert_eq!(http.scan(""), before);
}

// ---------------------------------------------------------------------------------------
// tree and ls
// ---------------------------------------------------------------------------------------

/// 41 namespaces, 4 levels: t0..t3 / c0..c2 / g0..g1, plus t0/c0/g0/deep; t1/c1/g1 locked.
fn big_tree(http: &Api) -> usize {
    let mut count = 0;
    for t in 0..4 {
        for c in 0..3 {
            for g in 0..2 {
                http.mkns(&format!("t{t}/c{c}/g{g}"));
            }
        }
    }
    count += 4 + 12 + 24;
    http.mkns("t0/c0/g0/deep");
    count += 1;
    http.lock("t1/c1/", "g1");
    count
}

/// `vnsh ARGS` with VNSH_NO_SCAN=1 in its environment.
fn vnsh_no_scan_env(env: &Env, args: &[&str]) -> Output {
    env.command(common::vnsh_bin(), env.server.token())
        .env("VNSH_NO_SCAN", "1")
        .args(args)
        .output()
        .expect("run vnsh")
}

#[test]
fn tree_is_the_same_with_and_without_scan() {
    let env = common::env();
    let http = Api::new(&env);
    let count = big_tree(&http);
    let server = http.scan("");
    assert_eq!(server.len(), count);
    assert_eq!(server.get("t1/c1/g1/"), Some(&true));

    // Text.
    let scan = env.vnsh(&["-c", "tree"]);
    let text = ok(&scan);
    assert_eq!(text.lines().count(), 1 + count, "{text}");
    assert_eq!(text.lines().next(), Some("/"));
    assert!(
        text.lines()
            .any(|l| l.trim_start_matches(['│', ' ', '├', '└', '─']) == "g1/  [locked]"),
        "{text}"
    );
    assert_eq!(text.matches("[locked]").count(), 1, "{text}");
    assert!(text.contains("deep/"), "{text}");
    let listed = env.vnsh(&["--no-scan", "-c", "tree"]);
    assert_eq!(ok(&listed), text);
    assert_eq!(ok(&vnsh_no_scan_env(&env, &["-c", "tree"])), text);
    // Only the fallback has to say that it cannot see below a locked namespace.
    assert!(stderr(&listed).contains("locked"), "{}", stderr(&listed));

    // JSON: the same object, keyed as bao namespace scan.
    let json_scan = vj1(&env, &["-c", "tree"]);
    assert_eq!(vj1(&env, &["--no-scan", "-c", "tree"]), json_scan);
    let env_run = vnsh_no_scan_env(&env, &["--format", "json", "-c", "tree"]);
    assert_eq!(json_lines(&env_run), vec![json_scan.clone()]);
    let bao = env.bao_json(&["namespace", "scan", "-format=json"]);
    let bao_keys: BTreeSet<String> = sorted(&bao).into_iter().collect();
    assert_eq!(keys(&json_scan), bao_keys);
    assert_eq!(json_scan["t1/c1/g1/"]["locked"], json!(true));

    // From a nested namespace (keys relative, `path` full), and with a PATH argument.
    let text = ok(&env.vnsh(&["-n", "t0", "-c", "tree"]));
    assert_eq!(text.lines().next(), Some("t0"));
    assert_eq!(text.lines().count(), 1 + 3 + 6 + 1, "{text}");
    assert_eq!(
        ok(&env.vnsh(&["-n", "t0", "--no-scan", "-c", "tree"])),
        text
    );
    assert_eq!(ok(&env.vnsh(&["-c", "tree t0"])), text);
    let nested = vj1(&env, &["-n", "t0", "-c", "tree"]);
    assert_eq!(vj1(&env, &["-n", "t0", "--no-scan", "-c", "tree"]), nested);
    assert_eq!(nested["c0/g0/deep/"]["path"], json!("t0/c0/g0/deep/"));
    let bao = env.bao_json(&["namespace", "scan", "-format=json", "-namespace=t0"]);
    assert_eq!(keys(&nested), sorted(&bao).into_iter().collect());

    // -d N
    for (depth, lines) in [(1, 4), (2, 4 + 12), (3, 4 + 12 + 24)] {
        let d = format!("tree -d {depth}");
        let text = ok(&env.vnsh(&["-c", &d]));
        assert_eq!(text.lines().count(), 1 + lines, "{d}: {text}");
        assert_eq!(ok(&env.vnsh(&["--no-scan", "-c", &d])), text, "{d}");
        let doc = vj1(&env, &["-c", &d]);
        assert_eq!(doc.as_object().map(|o| o.len()), Some(lines), "{d}");
        assert_eq!(vj1(&env, &["--no-scan", "-c", &d]), doc, "{d}");
    }
    let top = vj1(&env, &["-c", "tree -d 1"]);
    let bao = env.bao_json(&["namespace", "list", "-format=json"]);
    assert_eq!(keys(&top), sorted(&bao).into_iter().collect());
}

#[test]
fn ns_scan_without_scan_lists_the_same_keys_as_bao() {
    let env = common::env();
    let http = Api::new(&env);
    let count = big_tree(&http);

    for ns in ["", "t1"] {
        let mut bao_args = vec!["namespace", "scan", "-format=json"];
        let flag = format!("-namespace={ns}");
        let mut args = vec!["--no-scan"];
        if !ns.is_empty() {
            bao_args.push(&flag);
            args.extend(["-n", ns]);
        }
        args.extend(["-c", "ns scan"]);
        let bao = sorted(&env.bao_json(&bao_args));
        if ns.is_empty() {
            assert_eq!(bao.len(), count);
        }
        assert_eq!(sorted(&vj1(&env, &args)), bao, "in {ns:?}");
        let mut env_args = vec!["--format", "json"];
        env_args.extend_from_slice(&args[1..]);
        let env_run = vnsh_no_scan_env(&env, &env_args);
        assert_eq!(sorted(&json_lines(&env_run)[0]), bao, "in {ns:?}");
    }
}

#[test]
fn ls_shows_namespaces_mounts_and_kv_keys() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/payments");
    http.mkns("acme/vault");
    http.lock("acme/", "vault");
    http.mount_kv("acme/", "secret", "2");
    http.mount_kv("acme/", "kv", "1");
    http.mount_kv("acme/", "empty", "1");
    http.kv2_put("acme/", "secret", "app", json!({ "a": "1" }));
    http.kv2_put("acme/", "secret", "db/creds", json!({ "u": "x" }));
    http.ok("POST", "acme/", "kv/k1", Some(json!({ "v": "1" })));

    // Text: each child namespace with its lock state, each mount with its type.
    let text = ok(&env.vnsh(&["-n", "acme", "-c", "ls"]));
    let line = |name: &str| -> String {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
            .to_string()
    };
    assert!(line("vault/").contains("namespace"), "{text}");
    assert!(line("vault/").contains("locked"), "{text}");
    assert!(line("payments/").contains("namespace"), "{text}");
    assert!(!line("payments/").contains("locked"), "{text}");
    assert!(line("secret/").contains("kv v2"), "{text}");
    assert!(line("kv/").contains("kv v1"), "{text}");
    assert!(line("auth/token/").contains("token"), "{text}");

    // JSON: the namespaces are bao's `namespace list -detailed`, the mounts bao's.
    let doc = vj1(&env, &["-n", "acme", "-c", "ls"]);
    let bao = env.bao_json(&[
        "namespace",
        "list",
        "-detailed",
        "-format=json",
        "-namespace=acme",
    ]);
    assert_eq!(doc["namespaces"], bao);
    let secrets = env.bao_json(&["secrets", "list", "-format=json", "-namespace=acme"]);
    let auths = env.bao_json(&["auth", "list", "-format=json", "-namespace=acme"]);
    let mut want: BTreeSet<String> = keys(&secrets);
    want.extend(keys(&auths).into_iter().map(|k| format!("auth/{k}")));
    assert_eq!(keys(&doc["mounts"]), want);
    for (k, v) in secrets.as_object().unwrap() {
        assert_eq!(doc["mounts"][k]["accessor"], v["accessor"], "{k}");
        assert_eq!(doc["mounts"][k]["type"], v["type"], "{k}");
    }

    // Inside a kv-v2 mount: its keys, as bao lists its metadata.
    let bao = env.bao_json(&["list", "-format=json", "-namespace=acme", "secret/metadata"]);
    assert_eq!(sorted(&bao), strs(&["app", "db/"]));
    assert_eq!(vj1(&env, &["-n", "acme", "-c", "ls secret/"]), bao);
    assert_eq!(vj1(&env, &["-n", "acme", "-c", "ls secret"]), bao);
    assert_eq!(
        ok(&env.vnsh(&["-n", "acme", "-c", "ls secret/"]))
            .lines()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["app", "db/"])
    );
    assert_eq!(
        vj1(&env, &["-n", "acme", "-c", "ls secret/db/"]),
        json!(["creds"])
    );

    // kv v1.
    let bao = env.bao_json(&["list", "-format=json", "-namespace=acme", "kv"]);
    assert_eq!(bao, json!(["k1"]));
    assert_eq!(vj1(&env, &["-n", "acme", "-c", "ls kv/"]), bao);
    assert_eq!(vj1(&env, &["-n", "acme", "-c", "ls kv"]), bao);

    // An empty mount lists as nothing: an empty array, and for people "(none)".
    assert_eq!(vj1(&env, &["-n", "acme", "-c", "ls empty/"]), json!([]));
    assert_eq!(
        ok(&env.vnsh(&["-n", "acme", "-c", "ls empty/"])),
        "(none)\n"
    );

    // A namespace argument: its children and mounts.
    let doc = vj1(&env, &["-c", "ls acme"]);
    assert_eq!(
        keys(&doc["namespaces"]),
        BTreeSet::from(["payments/".to_string(), "vault/".to_string()])
    );
    assert!(doc["mounts"].get("secret/").is_some(), "{doc}");
}

// ---------------------------------------------------------------------------------------
// Exit status, scripts, JSON mode
// ---------------------------------------------------------------------------------------

#[test]
fn exit_status_stops_at_the_first_failure() {
    let env = common::env();
    let http = Api::new(&env);

    let out = env.vnsh(&["-c", "pwd; ns list; ns create s0"]);
    ok(&out);

    // Stops: s2 is never created.
    let out = env.vnsh(&["-c", "ns create s1; read nope/x; ns create s2"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("nope/x"), "{}", stderr(&out));
    assert_eq!(http.children(""), strs(&["s0/", "s1/"]));

    // --keep-going: runs the rest, still exits 1.
    let out = env.vnsh(&[
        "--keep-going",
        "-c",
        "ns create k1; read nope/x; ns create k2",
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(http.children(""), strs(&["k1/", "k2/", "s0/", "s1/"]));

    // An unknown command is a failed command (1), and stops the run too.
    let out = env.vnsh(&["-c", "frobnicate; ns create u1"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("unknown command"), "{}", stderr(&out));
    assert!(!http.children("").contains(&"u1/".to_string()));

    // Scripts: the same, across lines.
    let out = run_script(&env, &[], "ns create l1\nread nope/x\nns create l2\n");
    assert_eq!(code(&out), 1);
    let now = http.children("");
    assert!(
        now.contains(&"l1/".to_string()) && !now.contains(&"l2/".to_string()),
        "{now:?}"
    );
    let out = run_script(&env, &["--keep-going"], "read nope/x\nns create l3\n");
    assert_eq!(code(&out), 1);
    assert!(http.children("").contains(&"l3/".to_string()));

    // Bad invocations: 2, and nothing runs.
    for args in [
        &["--bogus", "-c", "ns create b1"][..],
        &["--format", "yaml", "-c", "ns create b1"][..],
        &["-n", "a/../..", "-c", "ns create b1"][..],
    ] {
        let out = env.vnsh(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}");
    }
    assert!(!http.children("").contains(&"b1/".to_string()));
}

#[test]
fn script_on_stdin_skips_comments_and_blank_lines() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/payments");

    let script = "# set-up\n\ncd acme   # go in\n   \n\tpwd\n# list it\nns list\n\
                  ns create from-script team=x\n";
    let out = run_script(&env, &["--format", "json"], script);
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(docs[0], json!({ "namespace": "acme/" }));
    assert_eq!(docs[1], json!(["payments/"]));
    assert_eq!(docs[2]["path"], json!("acme/from-script/"));
    assert_eq!(docs[2]["custom_metadata"], json!({ "team": "x" }));
    assert_eq!(stderr(&out), "");
    assert_eq!(http.children("acme/"), strs(&["from-script/", "payments/"]));

    // `k=-` cannot read a value from the stdin that carries the script.
    let out = run_script(&env, &[], "write cubbyhole/x v=-\npwd\n");
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("standard input carries the script"),
        "{}",
        stderr(&out)
    );

    let out = run_script(&env, &[], "# only text\ncd acme/payments\npwd\n");
    assert_eq!(ok(&out), "acme/payments\n");
}

#[test]
fn json_mode_errors_go_to_stderr_and_documents_are_one_per_line() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/payments");

    for line in ["read nope/x", "cd nope", "frobnicate", "ns lookup nope"] {
        let out = env.vnsh(&["--format", "json", "-c", line]);
        assert_eq!(code(&out), 1, "{line}");
        assert_eq!(stdout(&out), "", "{line}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{line}: {err}");
        let v: Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("{line}: {err}: {e}"));
        assert_eq!(keys(&v), BTreeSet::from(["errors".to_string()]), "{line}");
        let errors = v["errors"].as_array().expect("errors array");
        assert!(
            !errors.is_empty() && errors.iter().all(Value::is_string),
            "{line}: {v}"
        );
    }

    // One document per command, each on one line.
    let out = env.vnsh(&[
        "--format",
        "json",
        "-c",
        "pwd; ns list; ns lookup acme; ns scan; cd acme; ns list -detailed",
    ]);
    let text = ok(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    for l in &lines {
        assert!(!l.starts_with(' '), "{l}");
        serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    }
    let lookup = env.bao_json(&["namespace", "lookup", "-format=json", "acme"]);
    let docs = json_lines(&out);
    assert_eq!(docs[0], json!({ "namespace": "" }));
    assert_eq!(docs[1], json!(["acme/"]));
    assert_eq!(docs[2], lookup);
    assert_eq!(sorted(&docs[3]), strs(&["acme/", "acme/payments/"]));
    assert_eq!(keys(&docs[4]), BTreeSet::from(["payments/".to_string()]));
}

// ---------------------------------------------------------------------------------------
// complete, help, exit, read-only
// ---------------------------------------------------------------------------------------

#[test]
fn complete_offers_namespaces_and_commands() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme/payments");
    http.mkns("acme/billing");
    http.mkns("beta");

    // Best first: the typed prefix's own match leads; fuzzy extras may follow, but
    // never something that does not match.
    let words = completions(&env, &[], "cd ac");
    assert_eq!(
        words.first().map(String::as_str),
        Some("acme/"),
        "{words:?}"
    );
    assert!(words.iter().all(|w| w.starts_with("acme/")), "{words:?}");

    let words = completions(&env, &[], "cd acme/pa");
    assert_eq!(
        words.first().map(String::as_str),
        Some("acme/payments/"),
        "{words:?}"
    );
    assert!(!words.contains(&"acme/billing/".to_string()), "{words:?}");
    assert!(!words.contains(&"beta/".to_string()), "{words:?}");

    let words = completions(&env, &[], "cd acme/");
    for w in ["acme/billing/", "acme/payments/"] {
        assert!(words.contains(&w.to_string()), "{words:?}");
    }

    let words = completions(&env, &[], "re");
    assert!(words.contains(&"read".to_string()), "{words:?}");
    assert!(!words.contains(&"pwd".to_string()), "{words:?}");
    assert_eq!(
        completions(&env, &[], "ns lo").first().map(String::as_str),
        Some("lookup")
    );

    // Relative to where the shell is.
    let words = completions(&env, &["-n", "acme"], "cd ");
    for w in ["../", "billing/", "payments/"] {
        assert!(words.contains(&w.to_string()), "{words:?}");
    }
    assert!(!words.contains(&"beta/".to_string()), "{words:?}");
    // Text mode: one per line, best first.
    let text = ok(&env.vnsh(&["-n", "acme", "-c", "complete 'cd pa'"]));
    assert_eq!(text.lines().next(), Some("payments/"), "{text}");
}

/// The JSON array `complete LINE` prints, in its order.
fn completions(env: &Env, args: &[&str], line: &str) -> Vec<String> {
    let cmd = format!("complete '{line}'");
    let mut all = args.to_vec();
    all.extend(["-c", cmd.as_str()]);
    let doc = vj1(env, &all);
    doc.as_array()
        .unwrap_or_else(|| panic!("not an array: {doc}"))
        .iter()
        .map(|w| w.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn help_lists_commands_and_exit_stops() {
    let env = common::env();
    let http = Api::new(&env);

    let text = ok(&env.vnsh(&["-c", "help"]));
    for cmd in [
        "pwd", "cd", "ls", "tree", "ns", "lock", "unlock", "read", "list", "write", "patch",
        "delete", "complete", "help", "exit",
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(cmd)),
            "{cmd} missing from help:\n{text}"
        );
    }
    let text = ok(&env.vnsh(&["-c", "help cd"]));
    assert!(text.starts_with("usage: cd"), "{text}");
    let out = env.vnsh(&["-c", "help nope"]);
    assert_eq!(code(&out), 1);

    // exit ends the run with success; nothing after it runs.
    let out = env.vnsh(&["-c", "ns create e1; exit; ns create e2"]);
    ok(&out);
    let out = run_script(&env, &[], "ns create e3\nexit\nns create e4\n");
    ok(&out);
    assert_eq!(http.children(""), strs(&["e1/", "e3/"]));
}

#[test]
fn read_only_refuses_changes() {
    let env = common::env();
    let http = Api::new(&env);
    http.mkns("acme");

    for line in [
        "ns create x",
        "ns delete acme",
        "write cubbyhole/x a=1",
        "lock acme",
    ] {
        let out = env.vnsh(&["--read-only", "--yes", "-c", line]);
        assert_eq!(code(&out), 1, "{line}");
        assert!(
            stderr(&out).contains("read-only"),
            "{line}: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        http.scan(""),
        BTreeMap::from([("acme/".to_string(), false)])
    );
    // Reading still works.
    assert_eq!(
        vj1(&env, &["--read-only", "-c", "ns list"]),
        json!(["acme/"])
    );
}

#[test]
fn ls_follows_a_namespace_prefix_into_a_mount() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "pay"]);
    env.bao(&[
        "secrets",
        "enable",
        "-namespace=acme/pay",
        "-path=kv",
        "kv-v2",
    ]);
    env.bao(&["kv", "put", "-namespace=acme/pay", "kv/app/db", "user=u"]);
    // From the root, from acme, and from inside: the same keys, as completion offers them.
    for (start, path) in [
        ("", "acme/pay/kv/app/"),
        ("acme", "pay/kv/app"),
        ("acme/pay", "kv/app/"),
    ] {
        let mut args = vec!["--format", "json", "-c"];
        let cmd = format!("ls {path}");
        if !start.is_empty() {
            args.splice(0..0, ["-n", start]);
        }
        args.push(&cmd);
        let out = env.vnsh(&args);
        assert_eq!(
            common::json_lines(&out),
            vec![serde_json::json!(["db"])],
            "from {start:?}: {cmd}"
        );
    }
    // A namespace path is still a namespace listing.
    let out = env.vnsh(&["-c", "ls acme"]);
    assert!(common::ok(&out).contains("pay/"));
}

/// A raw write answered with an auth block (a token made through `write`) prints the Go
/// client's `SecretAuth` as bao does: its fields in its order, `identity_policies` and all
/// (it printed the server's block as it came, in the server's order).
#[test]
fn a_raw_write_answered_with_an_auth_block_is_shaped_as_bao() {
    let env = common::env();
    Api::new(&env).mkns("t");
    let line = "write auth/token/create policies=default ttl=1h display_name=ci";
    let ours = vj1(&env, &["-n", "t", "-c", line]);
    let bao = env.bao_json(&[
        "write",
        "-format=json",
        "-namespace=t",
        "auth/token/create",
        "policies=default",
        "ttl=1h",
        "display_name=ci",
    ]);
    let keys = |v: &Value| -> Vec<String> {
        v["auth"]
            .as_object()
            .expect("auth")
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(&ours), keys(&bao), "{ours}\n{bao}");
    let alike = |v: &Value| {
        let mut v = v.clone();
        v["request_id"] = Value::Null;
        for k in ["client_token", "accessor"] {
            v["auth"][k] = Value::Null;
        }
        v
    };
    assert_eq!(alike(&ours), alike(&bao));
}
