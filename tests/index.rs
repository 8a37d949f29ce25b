//! The index that outlives a session (issue 18): what a warm index spares the server,
//! what makes it change (another client, the shell itself, `refresh`), and what makes it
//! untrusted (another server at the same address, a corrupt or foreign file). Against a
//! real OpenBao; requests are counted by a loopback proxy in front of it.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use common::proxy::Proxy;
use common::{ok, stderr, vnsh_bin, Api, Env};
use serde_json::{json, Value};

/// `vnsh ARGS` through `proxy`.
fn via(env: &Env, proxy: &Proxy, args: &[&str]) -> Output {
    env.command(vnsh_bin(), env.server.token())
        .env("VAULT_ADDR", proxy.addr())
        .args(args)
        .output()
        .expect("run vnsh")
}

/// The mount reads the proxy saw since it last forgot.
fn mount_reads(proxy: &Proxy) -> usize {
    proxy
        .seen()
        .iter()
        .filter(|s| {
            s.path == "sys/internal/ui/mounts" || s.path == "sys/mounts" || s.path == "sys/auth"
        })
        .count()
}

/// The index files under the state dir.
fn index_files(env: &Env) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(servers) = fs::read_dir(env.vnsh_state().join("index")) else {
        return out;
    };
    for server in servers.flatten() {
        for f in fs::read_dir(server.path()).into_iter().flatten().flatten() {
            if f.file_name().to_string_lossy().ends_with(".json") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

fn the_index(env: &Env) -> (PathBuf, Value) {
    let files = index_files(env);
    assert_eq!(files.len(), 1, "one index: {files:?}");
    let v = serde_json::from_slice(&fs::read(&files[0]).unwrap()).expect("the index parses");
    (files[0].clone(), v)
}

fn tenants(api: &Api) {
    let mut paths = Vec::new();
    for t in ["acme", "globex"] {
        for team in ["pay", "web", "ml"] {
            paths.push(format!("{t}/{team}"));
        }
    }
    api.mkns_all(&paths);
    api.mount("acme/pay", "paykv", "kv", json!({ "version": "2" }));
    api.enable_auth("globex/web", "webpass", "userpass");
    api.kv2_put(
        "acme/pay",
        "paykv",
        "db",
        json!({ "password": "s3cret-value-991" }),
    );
}

fn lines(out: &Output) -> Vec<String> {
    ok(out).lines().map(str::to_string).collect()
}

#[test]
fn a_warm_index_answers_find_without_reading_a_mount() {
    let env = common::env();
    let api = Api::new(&env);
    tenants(&api);
    let proxy = Proxy::start(env.server.addr());

    // Cold: every namespace's mounts are read once (one request each), and kept.
    let cold = via(&env, &proxy, &["-c", "find pay"]);
    let found = lines(&cold);
    assert!(found.contains(&"acme/pay/".to_string()), "{found:?}");
    assert!(found.contains(&"acme/pay/paykv/".to_string()), "{found:?}");
    assert_eq!(mount_reads(&proxy), 9, "root + 8 namespaces, one read each");
    let (file, index) = the_index(&env);
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("s3cret-value") && !text.contains(env.server.token()),
        "names only, never a secret or a token"
    );
    assert!(text.contains("auth/webpass/"), "{text}");
    assert_eq!(index["namespaces"].as_array().unwrap().len(), 8, "{index}");
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Warm: the same answer from the file alone, nothing asked of the tree or a mount.
    proxy.forget();
    let warm = via(&env, &proxy, &["-c", "find pay"]);
    assert_eq!(lines(&warm), found);
    assert_eq!(mount_reads(&proxy), 0, "{:?}", proxy.seen());
    assert_eq!(proxy.received("SCAN", "sys/namespaces"), 0);
    assert_eq!(stderr(&warm), "", "a fresh index says nothing of its age");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        text,
        "nothing to rewrite"
    );

    // A tree listed more than a minute ago is checked by one SCAN, and no mount read.
    age_tree(&env, 61);
    proxy.forget();
    assert_eq!(lines(&via(&env, &proxy, &["-c", "find pay"])), found);
    assert_eq!(proxy.received("SCAN", "sys/namespaces"), 1);
    assert_eq!(mount_reads(&proxy), 0, "{:?}", proxy.seen());
}

/// Make the index's tree `secs` older, as if listed that long ago.
fn age_tree(env: &Env, secs: u64) {
    let (file, mut index) = the_index(env);
    index["tree_at"] = json!(index["tree_at"].as_u64().unwrap() - secs);
    fs::write(&file, index.to_string()).unwrap();
}

#[test]
fn namespaces_another_client_creates_or_deletes_are_seen_once_the_tree_is_a_minute_old() {
    let env = common::env();
    let api = Api::new(&env);
    tenants(&api);
    let proxy = Proxy::start(env.server.addr());
    ok(&via(&env, &proxy, &["-c", "find pay"]));

    env.bao(&["namespace", "create", "-namespace=globex", "payroll"]);
    api.mount("globex/payroll", "payroll-kv", "kv", json!({}));
    env.bao(&["namespace", "create", "-namespace=globex/payroll", "eu"]);
    api.mount("globex/payroll/eu", "eu-kv", "kv", json!({}));
    env.bao(&["namespace", "delete", "-namespace=acme", "pay"]);
    // Within the minute the index's tree answers as it was.
    let before = lines(&via(&env, &proxy, &["-c", "find pay"]));
    assert!(before.contains(&"acme/pay/".to_string()), "{before:?}");
    assert!(
        !before.contains(&"globex/payroll/".to_string()),
        "{before:?}"
    );
    // …but from inside a namespace it does not hold, what is below is asked.
    let inside = lines(&via(&env, &proxy, &["-c", "cd globex/payroll; find kv"]));
    assert!(inside.contains(&"eu/eu-kv/".to_string()), "{inside:?}");

    age_tree(&env, 61);
    proxy.forget();
    let found = lines(&via(&env, &proxy, &["-c", "find pay"]));
    assert!(found.contains(&"globex/payroll/".to_string()), "{found:?}");
    assert!(
        found.contains(&"globex/payroll/payroll-kv/".to_string()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|f| f.starts_with("acme/pay/")),
        "{found:?}"
    );
    assert_eq!(
        mount_reads(&proxy),
        0,
        "the new namespaces were read from inside them, and kept: {:?}",
        proxy.seen()
    );
    let (_, index) = the_index(&env);
    let names: Vec<&str> = index["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"globex/payroll/") && !names.contains(&"acme/pay/"));
    assert!(index["mounts"].get("acme/pay/").is_none(), "{index}");
}

#[test]
fn what_the_shell_changes_itself_is_in_the_index_and_refresh_reads_all_again() {
    let env = common::env();
    let api = Api::new(&env);
    tenants(&api);
    ok(&env.vnsh(&["-c", "find zz"]));

    // The shell's own changes: a secrets engine and an auth method enabled, a namespace
    // created; the next find sees them, reading only what changed.
    ok(&env.vnsh(&[
        "--yes",
        "-c",
        "cd acme/web; secrets enable -path=zzkv kv; auth enable -path=zzpass userpass; cd /; ns create zzteam",
    ]));
    let proxy = Proxy::start(env.server.addr());
    let found = lines(&via(&env, &proxy, &["-c", "find zz"]));
    for want in ["acme/web/zzkv/", "acme/web/auth/zzpass/", "zzteam/"] {
        assert!(found.contains(&want.to_string()), "{want}: {found:?}");
    }
    assert_eq!(
        mount_reads(&proxy),
        2,
        "acme/web and zzteam: {:?}",
        proxy.seen()
    );

    // Another client's new mount in a namespace the index knows: the index answers (it
    // says how old it is once that matters) until `refresh` reads everything again.
    api.mount("globex/ml", "zzother", "kv", json!({}));
    assert!(!lines(&env.vnsh(&["-c", "find zzother"])).contains(&"globex/ml/zzother/".into()));
    proxy.forget();
    let fresh = lines(&via(&env, &proxy, &["-c", "refresh; find zzother"]));
    assert!(
        fresh.contains(&"globex/ml/zzother/".to_string()),
        "{fresh:?}"
    );
    assert_eq!(
        mount_reads(&proxy),
        10,
        "refresh reads every namespace once"
    );
}

#[test]
fn an_old_index_says_how_old() {
    let env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));
    let (file, mut index) = the_index(&env);
    for m in index["mounts"].as_object_mut().unwrap().values_mut() {
        m["read_at"] = json!(m["read_at"].as_u64().unwrap() - 3 * 3600);
    }
    fs::write(&file, index.to_string()).unwrap();
    let out = env.vnsh(&["-c", "find paykv"]);
    assert_eq!(lines(&out), ["acme/pay/paykv/"]);
    assert!(
        stderr(&out).contains("mount names from the index of 3 h ago; `refresh` reads them again"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupt_or_foreign_index_is_ignored_and_rebuilt() {
    let env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));
    let (file, index) = the_index(&env);
    let good = fs::read_to_string(&file).unwrap();

    // Cut short (a full disk, a crash of another writer): not used, said, rebuilt.
    fs::write(&file, &good[..good.len() / 2]).unwrap();
    let out = env.vnsh(&["-c", "find paykv"]);
    assert_eq!(lines(&out), ["acme/pay/paykv/"]);
    assert!(
        stderr(&out).contains("was not used: it does not parse"),
        "{}",
        stderr(&out)
    );
    let (_, rebuilt) = the_index(&env);
    assert_eq!(rebuilt["namespaces"], index["namespaces"]);

    // Another server's index put in its place (a ghost namespace, a ghost mount): never
    // trusted.
    let mut foreign = index.clone();
    foreign["cluster_id"] = json!("00000000-0000-0000-0000-000000000000");
    foreign["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!("ghost/"));
    foreign["mounts"]["ghost/"] =
        json!({ "read_at": 1, "mounts": [{ "path": "ghostkv/", "type": "kv" }] });
    fs::write(&file, foreign.to_string()).unwrap();
    let out = env.vnsh(&["-c", "find ghost"]);
    assert!(!ok(&out).contains("ghost"), "{}", ok(&out));
    assert!(
        stderr(&out).contains("it is the index of another server"),
        "{}",
        stderr(&out)
    );
    assert!(!fs::read_to_string(&file).unwrap().contains("ghost"));
}

#[test]
fn another_server_at_the_same_address_has_an_index_of_its_own() {
    let mut env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));
    let (addr, token) = (
        env.server.addr().to_string(),
        env.server.token().to_string(),
    );
    env.server.stop();
    let _new = common::replace_server(&addr, &token, env.dir.path());
    let out = env.vnsh(&["-c", "find pay"]);
    assert!(
        !ok(&out).contains("pay"),
        "nothing of the old server: {}",
        ok(&out)
    );
    assert_eq!(
        index_files(&env).len(),
        2,
        "one per cluster id: {:?}",
        index_files(&env)
    );
}

#[test]
fn a_token_below_the_root_has_its_own_index_and_nothing_above_it() {
    let env = common::env();
    let api = Api::new(&env);
    tenants(&api);
    let token = env.token_with_policy(
        "acme",
        "everything",
        r#"path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }"#,
    );
    let out = env.vnsh_as(&token, &["-c", "find pay"]);
    assert_eq!(lines(&out), ["pay/", "pay/paykv/"], "{}", stderr(&out));
    let (file, index) = the_index(&env);
    assert_eq!(index["top"], "acme/");
    assert!(file.to_string_lossy().contains("ns-"), "{file:?}");
    let names = index["namespaces"].to_string();
    assert!(!names.contains("globex"), "{names}");
}

/// An interactive session answers completion from the index at once and refreshes it in
/// the background: what another client created or deleted since is seen without
/// `refresh`, and goes back to the index.
#[test]
fn an_interactive_session_refreshes_the_index_in_the_background() {
    use common::tmux::Tmux;
    let env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));
    env.bao(&["namespace", "create", "zeta"]);
    env.bao(&["namespace", "delete", "-namespace=globex", "ml"]);

    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.args(["--line"]).env("TERM", "xterm-256color");
    let t = Tmux::builder(&cmd).size(120, 30).start();
    t.ready("vnsh />");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, index) = the_index(&env);
        let names = index["namespaces"].to_string();
        if names.contains("\"zeta/\"") && !names.contains("globex/ml/") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the background refresh never wrote the index: {names}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    t.line("complete 'cd ze'; complete 'cd globex/m'");
    let screen = t.wait_for("the completions", |s| s.contains("\nzeta/"));
    assert!(!screen.contains("globex/ml/"), "{screen}");
    t.keys(&["C-d"]);
}

/// What the shell changes from the full-screen TUI reaches the index when it quits: the
/// next `find`, answered from the index, sees the new mount.
#[test]
fn the_tui_writes_its_changes_to_the_index_when_it_quits() {
    use common::tmux::Tmux;
    let env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));

    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.env("TERM", "xterm-256color");
    let t = Tmux::builder(&cmd).size(120, 30).start();
    t.wait_for("the TUI", |s| s.contains("Namespaces") && s.contains("/>"));
    t.type_text("cd acme/web");
    t.keys(&["Enter"]);
    t.wait_for("acme/web", |s| s.contains("acme/web>"));
    t.type_text("secrets enable -path=tuikv kv");
    t.keys(&["Enter"]);
    // Ctrl-D as soon as the output shows: the command is done by then (its end was sent
    // with its output, and is taken in before the key; it was once read after it, and
    // Ctrl-D said "a command is running" instead of quitting).
    t.wait_for("the mount", |s| s.contains("Enabled the kv secrets engine"));
    t.keys(&["C-d"]);
    t.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));

    let proxy = Proxy::start(env.server.addr());
    let found = lines(&via(&env, &proxy, &["-c", "find tuikv"]));
    assert_eq!(found, ["acme/web/tuikv/"]);
    assert_eq!(mount_reads(&proxy), 1, "only acme/web is read again");
}

/// A new interactive session completes from the index at once, while the server is slow
/// to list the tree (here its SCAN and LISTs take 8 s).
#[test]
fn completion_answers_from_the_index_while_the_tree_is_slow() {
    use common::proxy::{Fault, Rule};
    use common::tmux::Tmux;
    use std::time::{Duration, Instant};
    let env = common::env();
    tenants(&Api::new(&env));
    ok(&env.vnsh(&["-c", "find pay"]));
    let proxy = Proxy::start(env.server.addr());
    let slow = Fault::Delay {
        before: Duration::from_secs(8),
        after: Duration::ZERO,
    };
    proxy.add(Rule::on("SCAN", "sys/namespaces", slow.clone()));
    proxy.add(Rule::on("LIST", "sys/namespaces", slow));

    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.args(["--line"])
        .env("TERM", "xterm-256color")
        .env("VAULT_ADDR", proxy.addr());
    let t = Tmux::builder(&cmd).size(120, 30).start();
    t.ready("vnsh />");
    let asked = Instant::now();
    t.line("complete 'cd globex/w'");
    t.wait_for("the completion", |s| s.contains("\nglobex/web/"));
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "completion waited for the tree: {:?}",
        asked.elapsed()
    );
    t.keys(&["C-d"]);
}

/// An index that cannot be written (here a file stands where its directory goes) costs
/// nothing but the note: `find` answers as without one.
#[test]
fn an_index_that_cannot_be_written_is_a_note_and_nothing_more() {
    let env = common::env();
    tenants(&Api::new(&env));
    fs::create_dir_all(env.vnsh_state()).unwrap();
    fs::write(env.vnsh_state().join("index"), "not a directory").unwrap();
    let out = env.vnsh(&["-c", "find paykv"]);
    assert_eq!(lines(&out), ["acme/pay/paykv/"]);
    assert!(
        stderr(&out).contains("note: the index was not saved"),
        "{}",
        stderr(&out)
    );
}
