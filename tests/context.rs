//! Right answers in every context (issue 12): one resolver for every path, a start
//! namespace that cannot be entered is an error, errors that name the real cause. Each
//! test began as a symptom seen on a real tree; all run against a real OpenBao.
mod common;

use serde_json::{json, Value};

use common::{json_lines, stderr, Api, Env};

/// `vnsh --format json -n NS -c CMD` with `token`: the one JSON document, or the error.
fn run(env: &Env, token: &str, ns: &str, cmd: &str) -> Result<Value, String> {
    let mut args = vec!["--format", "json"];
    if !ns.is_empty() {
        args.extend(["-n", ns]);
    }
    args.extend(["-c", cmd]);
    let out = env.vnsh_as(token, &args);
    if !out.status.success() {
        return Err(stderr(&out));
    }
    let mut docs = json_lines(&out);
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Ok(Value::Null),
        n => Err(format!("{n} documents for {cmd}")),
    }
}

/// The tenant tree of the symptoms: a KV v2 `secret/` in `tenant01/payments` holding
/// `db`, and a KV v1 `app/` four levels down holding `config`.
fn seed(env: &Env) -> Api {
    let api = Api::new(env);
    api.mkns("tenant01/payments/prod/legacy");
    api.mount_kv("tenant01/payments/", "secret", "2");
    api.kv2_put(
        "tenant01/payments/",
        "secret",
        "db",
        json!({ "user": "alice" }),
    );
    api.mount_kv("tenant01/payments/prod/legacy/", "app", "1");
    api.ok(
        "PUT",
        "tenant01/payments/prod/legacy/",
        "app/config",
        Some(json!({ "x": "1" })),
    );
    api
}

#[test]
fn cat_reaches_into_child_namespaces_from_a_tenant() {
    let env = common::env();
    let _api = seed(&env);
    let root = env.server.token();
    // Seen: "payments/secret/db is not a secret".
    let doc = run(&env, root, "tenant01", "cat payments/secret/db").expect("cat");
    assert_eq!(doc["data"]["data"]["user"], json!("alice"), "{doc}");
    // Seen: GET tenant01/payments/prod/legacy/g.
    let doc = run(
        &env,
        root,
        "tenant01",
        "cat payments/prod/legacy/app/config",
    )
    .expect("cat");
    assert_eq!(doc["data"]["x"], json!("1"), "{doc}");
    // The same secret by every road: absolute, from its own namespace, with read.
    for (ns, cmd) in [
        ("", "cat tenant01/payments/secret/db"),
        ("tenant01", "cat /tenant01/payments/secret/db"),
        ("tenant01/payments", "cat secret/db"),
        ("tenant01", "read payments/secret/data/db"),
    ] {
        let doc = run(&env, root, ns, cmd).unwrap_or_else(|e| panic!("{ns}: {cmd}: {e}"));
        assert_eq!(doc["data"]["data"]["user"], json!("alice"), "{ns}: {cmd}");
    }
    // ls into the same places.
    let keys = run(&env, root, "tenant01", "ls payments/secret/").expect("ls");
    assert_eq!(keys, json!(["db"]));
    let keys = run(&env, root, "tenant01", "ls payments/prod/legacy/app").expect("ls");
    assert_eq!(keys, json!(["config"]));
}

#[test]
fn a_narrow_token_lists_the_mount_it_may_read() {
    let env = common::env();
    let _api = seed(&env);
    let token = env.token_with_policy(
        "tenant01/payments",
        "reader",
        "path \"secret/*\" { capabilities = [\"read\", \"list\"] }",
    );
    // Seen: "namespace not found: LIST sys/namespaces in namespace …/secret".
    let keys = run(&env, &token, "tenant01/payments", "ls secret/").expect("ls secret/");
    assert_eq!(keys, json!(["db"]));
    let doc = run(&env, &token, "tenant01/payments", "cat secret/db").expect("cat");
    assert_eq!(doc["data"]["data"]["user"], json!("alice"));
    // Seen: a plain `ls` there failed whole ("permission denied: LIST sys/namespaces"),
    // though the token may use secret/. It shows the mounts the token may use, and says
    // what it could not list.
    let out = env.vnsh_as(&token, &["-n", "tenant01/payments", "-c", "ls"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.lines()
            .any(|l| l.starts_with("secret/") && l.contains("kv v2")),
        "{text}"
    );
    assert!(!text.contains("prod/"), "a child it may not list: {text}");
    let err = stderr(&out);
    assert!(
        err.contains("child namespaces not shown: permission denied: LIST sys/namespaces"),
        "{err}"
    );
    assert!(
        err.contains("the secrets engines and auth methods this token may use"),
        "{err}"
    );
    let doc = run(&env, &token, "tenant01/payments", "ls").expect("ls");
    assert_eq!(doc["namespaces"], json!({}), "{doc}");
    assert_eq!(doc["mounts"]["secret/"]["type"], json!("kv"), "{doc}");
    // With nothing at all to show it is still the refusal, with its cause.
    let none = env.token_with_policy(
        "tenant01",
        "nothing",
        "path \"x\" { capabilities = [\"read\"] }",
    );
    let err = run(&env, &none, "tenant01", "ls").expect_err("nothing to list");
    assert!(
        err.contains("permission denied: LIST sys/namespaces"),
        "{err}"
    );
}

#[test]
fn ns_commands_take_nested_names_as_bao_does_with_namespace() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("tenant30/ml");
    let root = env.server.token();
    // Seen: server 400 "namespace name cannot contain /".
    let doc = run(&env, root, "", "ns lookup tenant30/ml").expect("lookup");
    let bao = env.bao_json(&[
        "namespace",
        "lookup",
        "-namespace=tenant30",
        "-format=json",
        "ml",
    ]);
    assert_eq!(doc, bao, "JSON as bao's");
    let created = run(&env, root, "", "ns create tenant30/ml/feature owner=me").expect("create");
    assert_eq!(created["path"], json!("tenant30/ml/feature/"));
    assert_eq!(api.children("tenant30/ml/"), vec!["feature/".to_string()]);
    let patched = run(&env, root, "", "ns patch tenant30/ml/feature team=x").expect("patch");
    assert_eq!(patched["custom_metadata"]["team"], json!("x"));
    let out = env.vnsh(&["--yes", "-c", "ns delete tenant30/ml/feature"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Deletion is asynchronous on OpenBao: wait until it is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !api.children("tenant30/ml/").is_empty() {
        assert!(std::time::Instant::now() < deadline, "still there");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(api.children("tenant30/"), vec!["ml/".to_string()]);

    // Seen: from inside tenant30, `ns lookup /tenant30/ml` asked tenant30/tenant30/ for ml,
    // and `ns patch /other/x` wrote in tenant30. A leading `/` is from the top, `..`
    // climbs, as `cd` reads them.
    api.mkns("other/x");
    let inside = run(&env, root, "tenant30", "ns lookup /tenant30/ml").expect("lookup /");
    assert_eq!(inside, bao, "the same namespace as bao's");
    let up = run(&env, root, "tenant30/ml", "ns lookup ../ml").expect("lookup ..");
    assert_eq!(up, bao, "the same namespace as bao's");
    let patched = run(&env, root, "tenant30", "ns patch /other/x team=y").expect("patch /");
    assert_eq!(patched["path"], json!("other/x/"), "{patched}");
    let (_, body) = api.call("GET", "other/", "sys/namespaces/x", None);
    assert_eq!(
        body["data"]["custom_metadata"]["team"],
        json!("y"),
        "{body}"
    );
    let err = run(&env, root, "tenant30", "ns lookup /").expect_err("the root has no parent");
    assert!(err.contains("cannot be empty"), "{err}");
}

#[test]
fn a_start_namespace_that_cannot_be_entered_stops_the_shell() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    // Seen: `-n nosuch -c pwd` printed nosuch and exited 0.
    let out = env.vnsh(&["-n", "nosuch", "-c", "pwd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing ran");
    assert!(
        stderr(&out).contains("cannot start in namespace nosuch")
            && stderr(&out).contains("does not exist"),
        "{}",
        stderr(&out)
    );
    // A script likewise stops before its first command.
    let out = env.vnsh_script(&["-n", "nosuch"], "pwd\nns list\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    // A token of acme cannot start in a sibling.
    api.mkns("globex");
    let token = env.token_with_policy(
        "acme",
        "admin",
        "path \"*\" { capabilities = [\"read\", \"list\"] }",
    );
    let out = env.vnsh_as(&token, &["-n", "globex", "-c", "pwd"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("belongs to namespace acme"),
        "{}",
        stderr(&out)
    );
    // A good start still works, and a refused name sends nothing, not even the check.
    let out = env.vnsh(&["-n", "acme", "-c", "pwd"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "acme");
}

#[test]
fn line_mode_with_a_bad_start_exits_before_any_prompt() {
    let env = common::env();
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.args(["--line", "-n", "nosuch"]);
    let t = common::tmux::Tmux::builder(&cmd).start();
    let screen = t.wait_for("the exit", |s| s.contains("vnsh-exit="));
    assert!(
        screen.contains("cannot start in namespace nosuch"),
        "{screen}"
    );
    assert!(
        !screen.contains("vnsh nosuch>"),
        "a prompt was shown:\n{screen}"
    );
    assert_eq!(t.exit_status(), Some(1), "{screen}");
}

#[test]
fn unlock_of_a_namespace_that_is_not_locked_says_so_and_sends_nothing_else() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme/web/prod");
    // Seen: "no key is saved … Give the key with --key KEY".
    let out = env.vnsh(&["--yes", "-n", "acme", "-c", "unlock web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("acme/web is not locked"),
        "{}",
        stderr(&out)
    );
    // Only an ancestor is locked: it is named, with the command that unlocks it.
    let key = api.lock("acme/", "web");
    let out = env.vnsh(&["--yes", "-n", "acme/web", "-c", "unlock prod"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("acme/web/prod is not locked itself") && err.contains("cd /acme; unlock web"),
        "{err}"
    );
    assert!(
        api.scan("acme/")["web/"],
        "still locked: nothing was unlocked"
    );
    api.ok(
        "POST",
        "acme/",
        "sys/namespaces/api-lock/unlock/web",
        Some(json!({ "unlock_key": key })),
    );
}

#[test]
fn find_says_how_many_it_left_out() {
    let env = common::env();
    let api = Api::new(&env);
    let names: Vec<String> = (0..130).map(|i| format!("transit{i:03}")).collect();
    api.mkns_all(&names);
    // Seen: exactly 100 results and nothing said of the rest.
    let out = env.vnsh(&["--format", "json", "-c", "find transit"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = json_lines(&out).remove(0);
    assert_eq!(found.as_array().map(Vec::len), Some(100));
    let err = stderr(&out);
    assert!(
        err.contains("100 of 130") && err.contains("30 more") && err.contains("--all"),
        "{err}"
    );
    let out = env.vnsh(&["--format", "json", "-c", "find transit --all"]);
    assert_eq!(
        json_lines(&out).remove(0).as_array().map(Vec::len),
        Some(130)
    );
    assert_eq!(stderr(&out), "");
    let out = env.vnsh(&["--format", "json", "-c", "find transit --limit 5"]);
    assert_eq!(json_lines(&out).remove(0).as_array().map(Vec::len), Some(5));
    assert!(stderr(&out).contains("125 more"));
}

#[test]
fn an_expired_token_is_called_expired_and_login_named() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    let body = api.ok(
        "POST",
        "",
        "auth/token/create",
        Some(json!({ "ttl": "1s", "policies": ["default"] })),
    );
    let token = body["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // Seen: whoami → "permission denied"; ls → "namespace not found".
    for cmd in ["whoami", "ls", "ls acme", "read secret/x", "ns list"] {
        let out = env.vnsh_as(&token, &["-c", cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = stderr(&out);
        assert!(
            err.contains("token is not valid") && err.contains("`login`"),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn a_refused_request_names_the_capability_it_lacks() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    api.mount_kv("acme/", "secret", "2");
    let token = env.token_with_policy(
        "acme",
        "lister",
        "path \"secret/metadata/*\" { capabilities = [\"list\"] }\npath \"sys/capabilities-self\" { capabilities = [\"update\"] }",
    );
    let out = env.vnsh_as(&token, &["-n", "acme", "-c", "read secret/data/db"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("may not read secret/data/db in namespace acme") && err.contains("none"),
        "{err}"
    );
}

#[test]
fn a_missing_namespace_on_the_way_is_named() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    let out = env.vnsh(&["-c", "read /acme/nope/deeper/sys/mounts"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    // The path names child namespaces; the server resolves what it can and says only
    // "no handler for route": vnsh names the word it could not place, and where.
    assert!(
        err.contains("there is no namespace or mount `nope` in acme") && err.contains("`ls /acme`"),
        "{err}"
    );
    // The same from inside acme, and for a mount that does not exist at the root.
    let out = env.vnsh(&["-n", "acme", "-c", "read nope/sys/mounts"]);
    assert!(
        stderr(&out).contains("no namespace or mount `nope` in acme"),
        "{}",
        stderr(&out)
    );
    let out = env.vnsh(&["-c", "read nosuchmount/x"]);
    assert!(
        stderr(&out).contains("no namespace or mount `nosuchmount` in /"),
        "{}",
        stderr(&out)
    );
    // A namespace that exists on the way is not called missing.
    api.mkns("acme/real");
    let out = env.vnsh(&["-c", "read acme/real/nosuch/x"]);
    assert!(
        stderr(&out).contains("no namespace or mount `nosuch` in acme/real"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tables_for_people() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme");
    api.mount_kv("acme/", "kv2", "2");
    api.mount_kv("acme/", "kv1", "1");
    // Seen: the VERSION column mixed KV and plugin versions.
    let out = env.vnsh(&["-n", "acme", "-c", "mounts"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("KV") && header.contains("PLUGIN VERSION"),
        "{text}"
    );
    let row = |p: &str| {
        text.lines()
            .find(|l| l.starts_with(p))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("kv2/")[2], "2", "{text}");
    assert_eq!(row("kv1/")[2], "1", "{text}");
    // Seen: `lss` said only "unknown command".
    let out = env.vnsh(&["-c", "lss"]);
    assert!(
        stderr(&out).contains("did you mean `ls`?"),
        "{}",
        stderr(&out)
    );
    // Seen: an empty `tokens` printed nothing.
    let out = env.vnsh(&["-n", "acme", "-c", "tokens"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "(none)");
    // Namespace lists are sorted.
    api.mkns("zeta");
    api.mkns("beta");
    let out = env.vnsh(&["-c", "ns list"]);
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

/// What a command's JSON must satisfy.
type Check = Box<dyn Fn(&Value) -> bool>;

/// The resolver as a table: every path-taking command, in four contexts (the root, a
/// tenant, a grandchild, a token whose top is a child), in each form a user types
/// (relative into children, `..`, absolute, from the token's top).
#[test]
fn one_resolver_for_every_command_in_every_context() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("acme/payments/prod");
    api.mkns("acme/web");
    api.mount_kv("acme/payments/", "secret", "2");
    api.kv2_put("acme/payments/", "secret", "db", json!({ "user": "alice" }));
    // Where the writes go (each form its own keys), so that the listings stay as they are.
    api.mount_kv("acme/payments/", "scratch", "2");
    let root = env.server.token().to_string();
    let child = env.token_with_policy(
        "acme",
        "admin",
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }",
    );
    // (context name, token, start, forms of the namespace acme/payments)
    let contexts: [(&str, &str, &str, [&str; 3]); 4] = [
        (
            "root",
            &root,
            "",
            ["acme/payments", "/acme/payments", "acme/web/../payments"],
        ),
        (
            "tenant",
            &root,
            "acme",
            ["payments", "/acme/payments", "web/../payments"],
        ),
        (
            "grandchild",
            &root,
            "acme/payments/prod",
            ["..", "/acme/payments", "../../payments"],
        ),
        (
            "child top",
            &child,
            "",
            ["payments", "/payments", "/acme/payments"],
        ),
    ];
    let mut failures = Vec::new();
    // Each form writes its own keys (put-N, copy-N): they must all land in acme/payments.
    let mut n = 0;
    let mut written = Vec::new();
    for (name, token, start, forms) in contexts {
        for ns in forms {
            // A path into the mount below that namespace, in the same form.
            let under = |rest: &str| {
                if ns == ".." {
                    format!("../{rest}")
                } else {
                    format!("{}/{rest}", ns.trim_end_matches('/'))
                }
            };
            let checks: Vec<(String, Check)> = vec![
                (
                    format!("cat {}", under("secret/db")),
                    Box::new(|d| d["data"]["data"]["user"] == json!("alice")),
                ),
                (
                    format!("ls {}", under("secret/")),
                    Box::new(|d| d == &json!(["db"])),
                ),
                (
                    format!("read {}", under("secret/data/db")),
                    Box::new(|d| d["data"]["data"]["user"] == json!("alice")),
                ),
                (
                    format!("list {}", under("secret/metadata/")),
                    Box::new(|d| d == &json!(["db"])),
                ),
                (
                    format!("cd {ns}; pwd"),
                    Box::new(|d| d == &json!({ "namespace": "acme/payments/" })),
                ),
                (format!("tree {ns}"), Box::new(|d| d.get("prod/").is_some())),
                (
                    format!("ls {ns}"),
                    Box::new(|d| d["namespaces"].get("prod/").is_some()),
                ),
                (
                    format!("describe {ns}"),
                    Box::new(|d| d.to_string().contains("secret/")),
                ),
                (
                    format!("ns lookup {ns}"),
                    Box::new(|d| d["path"] == json!("acme/payments/")),
                ),
                (
                    format!("kv get {}", under("secret/db")),
                    Box::new(|d| d["data"]["data"]["user"] == json!("alice")),
                ),
                (
                    format!("kv list {}", under("secret/")),
                    Box::new(|d| d.as_array().is_some_and(|k| k.contains(&json!("db")))),
                ),
                (
                    format!("kv put {} v=1", under(&format!("scratch/put-{n}"))),
                    Box::new(|d| d["data"]["version"] == json!(1)),
                ),
                (
                    format!(
                        "cp {} {}",
                        under("secret/db"),
                        under(&format!("scratch/copy-{n}"))
                    ),
                    Box::new(|_| true),
                ),
            ];
            written.push(n);
            n += 1;
            for (cmd, want) in checks {
                match run(&env, token, start, &cmd) {
                    Ok(doc) if want(&doc) => {}
                    Ok(doc) => failures.push(format!("{name}: {cmd}: got {doc}")),
                    Err(e) => failures.push(format!("{name}: {cmd}: {e}")),
                }
            }
        }
    }
    let keys = api.list("acme/payments/", "scratch/metadata");
    for n in written {
        for key in [format!("put-{n}"), format!("copy-{n}")] {
            if !keys.contains(&key) {
                failures.push(format!("{key} is not in acme/payments/scratch: {keys:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Seen (by explain): from the root, `t1/kv/app` was placed in the root with a mount
/// `t1/kv/` — the server names a child's mount from the root, which reads like a root
/// mount's path. The namespace that holds it is confirmed.
#[test]
fn a_childs_mount_asked_from_the_root_is_placed_in_the_child() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t1");
    api.mount_kv("t1/", "kv", "1");
    api.ok("PUT", "t1/", "kv/app", Some(json!({ "a": "1" })));
    let out = env.vnsh(&["-c", "explain cat t1/kv/app"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("-namespace=t1"), "{text}");
    assert!(text.contains("X-Vault-Namespace: t1/"), "{text}");
}

#[test]
fn a_path_in_no_mount_names_the_word_that_is_wrong() {
    let env = common::env();
    let _api = seed(&env);
    let root = env.server.token();
    // Seen: "the destination acme/secret/copy/ is in no mount this token may see
    // (namespace /)": the namespace was right, the mount is what is missing.
    let err = run(
        &env,
        root,
        "",
        "cp -r tenant01/payments/secret/ tenant01/secret/copy/",
    )
    .expect_err("no such mount");
    assert!(
        err.contains("there is no mount `secret/` this token may see in namespace tenant01; `ls tenant01` shows what is there"),
        "{err}"
    );
    // A namespace is not a path in a mount.
    let err = run(&env, root, "tenant01", "cat payments/prod").expect_err("a namespace");
    assert!(
        err.contains("tenant01/payments/prod is a namespace, not a path in a mount; `ls payments/prod` shows its mounts"),
        "{err}"
    );
    // A word that is neither, deeper down, typed from the top.
    let err = run(&env, root, "tenant01", "kv get /tenant01/payments/nope/x").expect_err("nope");
    assert!(
        err.contains("no mount `nope/` this token may see in namespace tenant01/payments; `ls /tenant01/payments` shows"),
        "{err}"
    );
}
