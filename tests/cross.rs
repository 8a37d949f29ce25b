//! Across tenants, against a real OpenBao: `cp`/`mv` between namespaces and KV versions,
//! `diff` of two tenants, `find -t KIND` over a tree of hundreds, and `explain`, whose
//! printed `curl` is run against the same server.
mod common;

use std::time::Duration;

use serde_json::{json, Value};

use common::{json_lines, ok, stderr, Api, Env};

/// `vnsh ARGS` with `token`, whatever its status.
fn run(env: &Env, token: &str, args: &[&str]) -> std::process::Output {
    env.vnsh_as(token, args)
}

/// The one JSON document of a successful `vnsh --format json -c CMD`.
fn vj(env: &Env, cmd: &str) -> Value {
    let out = env.vnsh(&["--yes", "--format", "json", "-c", cmd]);
    let mut docs = json_lines(&out);
    assert_eq!(docs.len(), 1, "{cmd}: {docs:?}");
    docs.remove(0)
}

/// stdout of a run as text.
fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The data of a KV v2 secret (`None`: no current data).
fn kv2(api: &Api, ns: &str, mount: &str, key: &str) -> Option<Value> {
    let (status, body) = api.call("GET", ns, &format!("{mount}/data/{key}"), None);
    (status == 200).then(|| body["data"]["data"].clone())
}

/// The data of a KV v1 secret (`None`: nothing there).
fn kv1(api: &Api, ns: &str, mount: &str, key: &str) -> Option<Value> {
    let (status, body) = api.call("GET", ns, &format!("{mount}/{key}"), None);
    (status == 200).then(|| body["data"].clone())
}

/// The results column of a `cp` report, by destination.
fn results(doc: &Value) -> Vec<(String, String)> {
    doc["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys in {doc}"))
        .iter()
        .map(|k| {
            (
                k["to"].as_str().unwrap_or_default().to_string(),
                k["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Tenant t1 holds a KV v1 mount `kv` (app/db, app/web/api, top); tenant t2 a KV v2
/// mount `secret`, empty.
fn two_tenants(api: &Api) {
    api.mkns_all(&["t1".into(), "t2".into()]);
    api.mount_kv("t1/", "kv", "1");
    api.mount_kv("t2/", "secret", "2");
    api.ok(
        "POST",
        "t1/",
        "kv/app/db",
        Some(json!({ "password": "hunter2", "port": 5432 })),
    );
    api.ok(
        "POST",
        "t1/",
        "kv/app/web/api",
        Some(json!({ "key": "k-123" })),
    );
    api.ok("POST", "t1/", "kv/top", Some(json!({ "a": "1" })));
}

#[test]
fn cp_r_from_kv1_in_one_tenant_to_kv2_in_another_dry_run_no_overwrite_and_force() {
    let env = common::env();
    let api = Api::new(&env);
    two_tenants(&api);
    let root = env.server.token();

    // A dry run lists what would be written, and writes nothing.
    let doc = vj(&env, "cp -r -n t1/kv/app/ t2/secret/app");
    assert_eq!(
        results(&doc),
        [
            ("t2/secret/app/db".into(), "would be written".into()),
            ("t2/secret/app/web/api".into(), "would be written".into()),
        ],
        "{doc}"
    );
    assert_eq!(doc["dry_run"], json!(true));
    assert!(api.list("t2/", "secret/metadata/").is_empty());

    // Something already there: without -f nothing at all is written, and it fails.
    api.kv2_put("t2/", "secret", "app/db", json!({ "old": "1" }));
    let out = run(&env, root, &["-c", "cp -r t1/kv/app/ t2/secret/app"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("t2/secret/app/db") && l.contains("exists: not overwritten")),
        "{text}"
    );
    assert!(
        stderr(&out).contains("nothing was written: -f overwrites"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        kv2(&api, "t2/", "secret", "app/db"),
        Some(json!({ "old": "1" }))
    );
    assert_eq!(kv2(&api, "t2/", "secret", "app/web/api"), None);
    // The dry run says so too, and still writes nothing.
    let doc = vj(&env, "cp -rn t1/kv/app/ t2/secret/app");
    assert_eq!(results(&doc)[0].1, "exists: needs -f", "{doc}");

    // -f: every key is written, the existing one overwritten (a new version).
    let doc = vj(&env, "cp -rf t1/kv/app/ t2/secret/app");
    assert_eq!(
        results(&doc),
        [
            ("t2/secret/app/db".into(), "overwritten".into()),
            ("t2/secret/app/web/api".into(), "written".into()),
        ],
        "{doc}"
    );
    assert_eq!(doc["written"], json!(2));
    assert_eq!(
        kv2(&api, "t2/", "secret", "app/db"),
        Some(json!({ "password": "hunter2", "port": 5432 }))
    );
    assert_eq!(
        kv2(&api, "t2/", "secret", "app/web/api"),
        Some(json!({ "key": "k-123" }))
    );
    let meta = api.ok("GET", "t2/", "secret/metadata/app/db", None);
    assert_eq!(meta["data"]["current_version"], json!(2), "{meta}");
    // The source is as it was.
    assert_eq!(
        kv1(&api, "t1/", "kv", "app/db"),
        Some(json!({ "password": "hunter2", "port": 5432 }))
    );

    // One key, into a folder, in text: every key written is reported, no value shown.
    let out = run(&env, root, &["-c", "cp t1/kv/top t2/secret/"]);
    let text = ok(&out);
    assert!(
        text.lines().any(|l| l.contains("t1/kv/top")
            && l.contains("t2/secret/top")
            && l.contains("written")),
        "{text}"
    );
    assert!(
        stderr(&out).contains("1 of 1 keys written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(kv2(&api, "t2/", "secret", "top"), Some(json!({ "a": "1" })));

    // No value ever reached the screen or the action log; the log has the paths.
    let log = std::fs::read_to_string(env.vnsh_state().join("actions.jsonl")).expect("log");
    for secret in ["hunter2", "k-123", "5432"] {
        assert!(!log.contains(secret), "{log}");
        assert!(!text.contains(secret), "{text}");
    }
    assert!(
        log.contains("cp -rf t1/kv/app/ t2/secret/app"),
        "paths stay in the log: {log}"
    );
    assert!(log.contains("nothing was written"), "{log}");
}

#[test]
fn cp_between_two_v2_mounts_takes_the_custom_metadata_and_paths_are_relative() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/payments".into(), "beta".into()]);
    api.mount_kv("acme/payments/", "pay", "2");
    api.mount_kv("beta/", "secret", "2");
    api.kv2_put(
        "acme/payments/",
        "pay",
        "stripe",
        json!({ "token": "sk_live_1" }),
    );
    api.ok(
        "POST",
        "acme/payments/",
        "pay/metadata/stripe",
        Some(json!({ "custom_metadata": { "owner": "pay-team" } })),
    );
    // From acme: a child namespace's path, and the sibling tenant with `..`.
    let out = env.vnsh(&[
        "--format",
        "json",
        "-n",
        "acme",
        "-c",
        "cp payments/pay/stripe ../beta/secret/stripe-copy",
    ]);
    let doc = &json_lines(&out)[0];
    assert_eq!(
        results(doc),
        [("beta/secret/stripe-copy".into(), "written".into())]
    );
    assert_eq!(
        kv2(&api, "beta/", "secret", "stripe-copy"),
        Some(json!({ "token": "sk_live_1" }))
    );
    let meta = api.ok("GET", "beta/", "secret/metadata/stripe-copy", None);
    assert_eq!(
        meta["data"]["custom_metadata"],
        json!({ "owner": "pay-team" }),
        "{meta}"
    );
    // Not a KV mount, not a secret, no such secret: refused with why, nothing written.
    for (cmd, says) in [
        ("cp sys/mounts beta/secret/x", "not a KV mount"),
        ("cp acme/payments/pay/ beta/secret/x", "is a folder"),
        ("cp acme/payments/pay/nope beta/secret/x", "no secret at"),
        (
            "cp acme/payments/pay/stripe acme/payments/pay/stripe",
            "the source itself",
        ),
        ("cp -r acme/payments/pay/ acme/payments/pay/sub/", "overlap"),
    ] {
        let out = env.vnsh(&["-c", cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(stderr(&out).contains(says), "{cmd}: {}", stderr(&out));
    }
    assert_eq!(api.list("beta/", "secret/metadata/"), ["stripe-copy"]);
}

#[test]
fn mv_moves_after_reading_back_and_leaves_the_source_when_the_write_fails() {
    let env = common::env();
    let api = Api::new(&env);
    two_tenants(&api);

    // A token that reads t1's and t2's secrets but may not write t2's.
    api.policy(
        "",
        "reader",
        r#"
path "t1/kv/*" { capabilities = ["read", "list", "delete"] }
path "t2/secret/*" { capabilities = ["read", "list"] }
"#,
    );
    let reader = api.token("", &["reader"]);
    let out = run(
        &env,
        &reader,
        &["--yes", "-c", "mv t1/kv/top t2/secret/top"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("t2/secret/top") && l.contains("failed: not written")),
        "{text}"
    );
    assert!(
        stderr(&out).contains("permission denied"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        kv1(&api, "t1/", "kv", "top"),
        Some(json!({ "a": "1" })),
        "the source is intact"
    );
    assert_eq!(kv2(&api, "t2/", "secret", "top"), None);

    // With a token that may: moved, the copy read back, the source gone.
    let doc = vj(&env, "mv -r t1/kv/app/ t2/secret/moved");
    assert_eq!(
        results(&doc),
        [
            ("t2/secret/moved/db".into(), "moved (written)".into()),
            ("t2/secret/moved/web/api".into(), "moved (written)".into()),
        ],
        "{doc}"
    );
    assert_eq!(
        kv2(&api, "t2/", "secret", "moved/db"),
        Some(json!({ "password": "hunter2", "port": 5432 }))
    );
    assert_eq!(kv1(&api, "t1/", "kv", "app/db"), None);
    assert_eq!(kv1(&api, "t1/", "kv", "app/web/api"), None);
    assert_eq!(kv1(&api, "t1/", "kv", "top"), Some(json!({ "a": "1" })));

    // From v2 back to v1: the v2 source goes with all its versions.
    let doc = vj(&env, "mv t2/secret/moved/db t1/kv/back");
    assert_eq!(results(&doc)[0].1, "moved (written)", "{doc}");
    let (status, _) = api.call("GET", "t2/", "secret/metadata/moved/db", None);
    assert_eq!(status, 404, "no version is left at the source");
    assert_eq!(
        kv1(&api, "t1/", "kv", "back"),
        Some(json!({ "password": "hunter2", "port": 5432 }))
    );
}

#[test]
fn ctrl_c_stops_cp_after_the_key_in_flight_and_it_reports_what_it_wrote() {
    use common::proxy::{Fault, Proxy, Rule};
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["t1".into(), "t2".into()]);
    api.mount_kv("t1/", "kv", "1");
    api.mount_kv("t2/", "secret", "2");
    for i in 0..8 {
        api.ok(
            "POST",
            "t1/",
            &format!("kv/many/k{i}"),
            Some(json!({ "v": i })),
        );
    }
    // Settle the new v2 mount before the proxy slows its writes.
    api.kv2_put("t2/", "secret", "warm", json!({ "x": 1 }));
    let proxy = Proxy::start(env.server.addr());
    proxy.add(Rule::on(
        "POST",
        "secret/data/copy/",
        Fault::Delay {
            before: Duration::from_millis(400),
            after: Duration::ZERO,
        },
    ));
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.env("VAULT_ADDR", proxy.addr())
        .args(["--format", "json", "-c", "cp -r t1/kv/many/ t2/secret/copy"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn vnsh");
    // Once the second write is on its way, Ctrl-C.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while proxy.received("POST", "secret/data/copy/") < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("vnsh output");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted (Ctrl-C)"),
        "{}",
        stderr(&out)
    );
    let doc: Value = serde_json::from_str(stdout(&out).trim()).expect("the report");
    let rows = results(&doc);
    let written: Vec<String> = rows
        .iter()
        .filter(|(_, r)| r == "written")
        .map(|(to, _)| to.trim_start_matches("t2/secret/copy/").to_string())
        .collect();
    assert!(
        (2..8).contains(&written.len()),
        "the key in flight finished, the rest were not started: {rows:?}"
    );
    assert!(
        rows.iter().any(|(_, r)| r == "not done (interrupted)"),
        "{rows:?}"
    );
    // The server holds exactly what the report says was written: nothing half done.
    let mut on_server = api.list("t2/", "secret/metadata/copy/");
    on_server.sort();
    assert_eq!(on_server, written, "{rows:?}");
    assert!(
        !stderr(&out).contains("\"v\""),
        "no value on the screen: {}",
        stderr(&out)
    );
}

/// prod and staging: alike but for one mount (transit only in prod) and one policy line;
/// each with a child `web` (and prod a `web/api` below it).
fn prod_and_staging(api: &Api) {
    api.mkns_meta("", "prod", json!({ "team": "core" }));
    api.mkns_meta("", "staging", json!({ "team": "core" }));
    api.mkns_all_in("prod/", &["web/api".into()]);
    api.mkns_all_in("staging/", &["web".into()]);
    for ns in ["prod/", "staging/"] {
        api.mount_kv(ns, "secret", "2");
        api.enable_auth(ns, "userpass", "userpass");
        api.ok(
            "PUT",
            ns,
            "sys/policies/password/simple",
            Some(json!({ "policy": "length = 20\nrule \"charset\" { charset = \"abc\" }" })),
        );
    }
    api.mount("prod/", "transit", "transit", json!({}));
    api.policy(
        "prod/",
        "app",
        "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n",
    );
    api.policy(
        "staging/",
        "app",
        "path \"secret/data/app/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n",
    );
    api.mount_kv("prod/web/", "kv", "1");
    api.mount_kv("staging/web/", "kv", "2");
}

#[test]
fn diff_of_two_tenants_that_differ_in_one_mount_and_one_policy_line() {
    let env = common::env();
    let api = Api::new(&env);
    prod_and_staging(&api);
    let root = env.server.token();

    // JSON: the document on stdout, exit 1, as `diff` does.
    let out = run(&env, root, &["--format", "json", "-c", "diff prod staging"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON document");
    assert_eq!(doc["a"], json!("prod/"));
    assert_eq!(doc["b"], json!("staging/"));
    assert_eq!(doc["same"], json!(false));
    assert_eq!(
        doc["mounts"],
        json!({ "only_in_a": ["transit/"], "only_in_b": [], "changed": {} })
    );
    let policy = doc["policies"]["changed"]["app"].as_str().expect("a diff");
    assert_eq!(
        policy.lines().collect::<Vec<_>>(),
        [
            "--- prod app",
            "+++ staging app",
            "@@ -1,3 +1,3 @@",
            " path \"secret/data/app/*\" {",
            "-  capabilities = [\"read\"]",
            "+  capabilities = [\"read\", \"list\"]",
            " }",
        ]
    );
    for same in ["children", "auth", "password_policies"] {
        assert_eq!(
            doc[same],
            json!({ "only_in_a": [], "only_in_b": [], "changed": {} }),
            "{same}: {doc}"
        );
    }
    assert_eq!(
        doc["custom_metadata"],
        json!({ "only_in_a": {}, "only_in_b": {}, "changed": {} })
    );
    assert!(
        stderr(&out).contains("prod and staging differ (secrets engines, acl policies)"),
        "{}",
        stderr(&out)
    );

    // For people: the same, readable; from prod, `diff ../staging` compares here with it.
    let out = run(&env, root, &["-n", "prod", "-c", "diff ../staging"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("- transit/ (transit)   only in prod"),
        "{text}"
    );
    assert!(text.contains("-  capabilities = [\"read\"]"), "{text}");
    assert!(text.contains("Auth methods\n  (same)"), "{text}");

    // The same tenant twice: exit 0.
    let out = run(&env, root, &["-c", "diff prod /prod"]);
    ok(&out);
    assert!(stderr(&out).contains("the same in every part compared"));

    // -r: the subtrees by relative path; web/ differs in its kv version, web/api only in prod.
    let out = run(
        &env,
        root,
        &["--format", "json", "-c", "diff -r prod staging"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    let sub = &doc["subtrees"];
    assert_eq!(sub["only_in_a"], json!(["web/api/"]), "{sub}");
    assert_eq!(sub["only_in_b"], json!([]), "{sub}");
    assert_eq!(
        sub["differ"]["web/"]["mounts"]["changed"]["kv/"]["version"],
        json!(["1", "2"]),
        "{sub}"
    );
    assert_eq!(
        sub["differ"]["web/"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["children".to_string(), "mounts".to_string()]),
        "only what differs: {sub}"
    );
    assert_eq!(
        sub["differ"]["web/"]["mounts"]["changed"]["kv/"],
        json!({ "version": ["1", "2"] }),
        "{sub}"
    );
    assert_eq!(
        sub["differ"]["web/"]["children"]["only_in_a"],
        json!(["api/"])
    );

    // Custom metadata differs too once patched.
    ok(&env.vnsh(&["-c", "ns patch staging team=web"]));
    let doc = json_doc(&run(
        &env,
        root,
        &["--format", "json", "-c", "diff prod staging"],
    ));
    assert_eq!(
        doc["custom_metadata"]["changed"]["team"],
        json!(["core", "web"])
    );

    // What the token may not read is said, never taken for the same, and fails.
    api.policy(
        "",
        "some",
        r#"
path "prod/sys/mounts" { capabilities = ["read"] }
path "staging/sys/mounts" { capabilities = ["read"] }
"#,
    );
    let narrow = api.token("", &["some"]);
    let out = run(
        &env,
        &narrow,
        &["--format", "json", "-c", "diff prod staging"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(doc["mounts"]["only_in_a"], json!(["transit/"]));
    assert_eq!(
        doc["policies"],
        json!({ "error": "not readable in prod: permission denied" })
    );
    assert_eq!(doc["same"], json!(false));
}

/// The one JSON document on stdout of a run, whatever its status.
fn json_doc(out: &std::process::Output) -> Value {
    serde_json::from_str(stdout(out).trim())
        .unwrap_or_else(|e| panic!("not one JSON document: {e}: {}", stdout(out)))
}

/// 10 tenants × 30 teams (310 namespaces below the root); every tenant has the baseline
/// policy but t7; the transit mount `payments-keys` lives in t4/team17 alone; a locked one.
fn a_tree_of_hundreds(api: &Api) -> Vec<String> {
    let mut leaves = Vec::new();
    for t in 0..10 {
        for m in 0..30 {
            leaves.push(format!("t{t}/team{m}"));
        }
    }
    api.mkns_all(&leaves);
    for t in (0..10).filter(|t| *t != 7) {
        api.policy(
            &format!("t{t}/"),
            "baseline",
            r#"path "secret/*" { capabilities = ["read"] }"#,
        );
    }
    api.policy(
        "t3/team2/",
        "baseline-extra",
        r#"path "x/*" { capabilities = ["read"] }"#,
    );
    api.mount("t4/team17/", "payments-keys", "transit", json!({}));
    api.mount_kv("t4/team17/", "payments-kv", "2");
    api.mount_kv("t2/team5/", "kv", "1");
    api.enable_auth("t6/team1/", "corp-ldap", "userpass");
    api.ok(
        "POST",
        "t2/team5/",
        "kv/stripe/api-key",
        Some(json!({ "v": "1" })),
    );
    api.ok("POST", "t2/team5/", "kv/other", Some(json!({ "v": "1" })));
    api.ok(
        "POST",
        "t8/",
        "identity/entity",
        Some(json!({ "name": "alice-ops" })),
    );
    api.ok(
        "POST",
        "t8/",
        "identity/group",
        Some(json!({ "name": "ops-admins" })),
    );
    api.lock("t9/", "team29");
    leaves
}

#[test]
fn find_by_kind_over_a_tree_of_hundreds() {
    let env = common::env();
    let api = Api::new(&env);
    a_tree_of_hundreds(&api);

    // Which namespace holds the transit mount payments-keys? Best first, where it lives.
    let start = std::time::Instant::now();
    let doc = vj(&env, "find -t mount payments-keys");
    eprintln!("find -t mount over 311 namespaces: {:.2?}", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(
        doc[0],
        json!({
            "path": "t4/team17/payments-keys/",
            "namespace": "t4/team17/",
            "name": "payments-keys/",
            "type": "transit",
        }),
        "{doc}"
    );
    assert_eq!(doc.as_array().map(Vec::len), Some(1), "{doc}");
    let doc = vj(&env, "find -t mount payments");
    let mut two: Vec<&str> = doc.as_array().expect("a list")[..2]
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    two.sort();
    assert_eq!(two, ["t4/team17/payments-keys/", "t4/team17/payments-kv/"]);

    // Does every tenant have the baseline policy? Nine do; t7 is not among them.
    let start = std::time::Instant::now();
    let doc = vj(&env, "find -t policy baseline --all");
    eprintln!(
        "find -t policy over 311 namespaces: {:.2?}",
        start.elapsed()
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    let paths: Vec<&str> = doc
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    let exact: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| p.ends_with("/baseline"))
        .collect();
    assert_eq!(exact.len(), 9, "{paths:?}");
    assert!(!exact.contains(&"t7/baseline"), "{paths:?}");
    assert!(paths.contains(&"t3/team2/baseline-extra"), "{paths:?}");
    assert!(
        paths.iter().position(|p| *p == "t0/baseline")
            < paths.iter().position(|p| *p == "t3/team2/baseline-extra"),
        "shallow and exact before deeper: {paths:?}"
    );
    assert_eq!(doc[0]["namespace"], json!("t0/"), "{doc}");
    assert_eq!(doc[0]["name"], json!("baseline"), "{doc}");

    // In text: a table of namespace and name; the locked namespace said, not searched.
    let out = env.vnsh(&["-n", "t3", "-c", "find -t policy baseline"]);
    let text = ok(&out);
    let first = text.lines().nth(2).expect("a row");
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>(),
        ["t3", "baseline"],
        "{text}"
    );
    assert!(
        text.contains("t3/team2") && text.contains("baseline-extra"),
        "{text}"
    );
    assert!(!text.contains("t4"), "only below here: {text}");
    let out = env.vnsh(&["-c", "find -t mount payments"]);
    assert!(
        stderr(&out).contains("1 locked namespace was not searched"),
        "{}",
        stderr(&out)
    );

    // The "N of M shown" note stays with -t.
    let out = env.vnsh(&["-c", "find -t namespace team --limit 5"]);
    assert_eq!(ok(&out).lines().count(), 2 + 5);
    assert!(
        stderr(&out).contains("5 of 300 matches shown")
            && stderr(&out).contains("find -t namespace team --all"),
        "{}",
        stderr(&out)
    );

    // Every other kind.
    let doc = vj(&env, "find -t auth corp-ldap");
    assert_eq!(doc[0]["path"], json!("t6/team1/auth/corp-ldap/"), "{doc}");
    assert_eq!(doc[0]["type"], json!("userpass"));
    let doc = vj(&env, "find -t entity alice");
    assert_eq!(
        doc,
        json!([{ "path": "t8/alice-ops", "namespace": "t8/", "name": "alice-ops" }])
    );
    let doc = vj(&env, "find -t group admins");
    assert_eq!(doc[0]["path"], json!("t8/ops-admins"), "{doc}");
    let doc = vj(&env, "find -t secret stripe");
    assert_eq!(
        doc,
        json!([{
            "path": "t2/team5/kv/stripe/api-key",
            "namespace": "t2/team5/",
            "name": "kv/stripe/api-key",
            "type": "kv v1",
        }])
    );
    let doc = vj(&env, "find -t namespace t4/team17");
    assert_eq!(doc[0]["path"], json!("t4/team17/"), "{doc}");
    let doc = vj(&env, "find -t ns t9/team29");
    assert_eq!(doc[0]["path"], json!("t9/team29/"), "{doc}");
    assert_eq!(doc[0]["locked"], json!(true), "{doc}");
    assert_eq!(vj(&env, "find -t ns t8/team29")[0]["locked"], json!(false));

    // Without -t, as before: names only.
    let doc = vj(&env, "find payments-keys");
    assert_eq!(doc[0], json!("t4/team17/payments-keys/"));
    let out = env.vnsh(&["-c", "find -t frob x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out)
        .contains("the kinds are namespace, mount, auth, policy, entity, group, secret"));
}

#[test]
fn a_long_walk_shows_its_progress_on_a_terminal() {
    use common::proxy::{Fault, Proxy, Rule};
    use common::tmux::Tmux;
    let env = common::env();
    let api = Api::new(&env);
    let leaves: Vec<String> = (0..60).map(|i| format!("p{i}")).collect();
    api.mkns_all(&leaves);
    api.mount("p42/", "payments-keys", "transit", json!({}));
    // Each namespace's mounts take a while: the walk lasts a few seconds.
    let proxy = Proxy::start(env.server.addr());
    proxy.add(Rule::on(
        "GET",
        "sys/mounts",
        Fault::Delay {
            before: Duration::from_millis(1000),
            after: Duration::ZERO,
        },
    ));
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.env("VAULT_ADDR", proxy.addr())
        .env("TERM", "xterm-256color")
        .args(["-c", "find -t mount payments-keys"]);
    let tmux = Tmux::builder(&cmd).size(100, 20).start();
    let screen = tmux.wait_for("the progress line", |s| {
        s.contains("find: ") && s.contains("/61 namespaces (Ctrl-C stops)")
    });
    assert!(!screen.contains("vnsh-exit="), "{screen}");
    let screen = tmux.wait_for("the result", |s| s.contains("vnsh-exit=0"));
    assert!(screen.contains("payments-keys/"), "{screen}");
    assert!(
        !screen.contains("namespaces (Ctrl-C stops)"),
        "the progress line is cleared: {screen}"
    );
}

/// The steps `explain CMD` prints (as JSON), run from namespace `ns`.
fn explain(env: &Env, ns: &str, cmd: &str) -> Vec<Value> {
    let mut args = vec!["--format", "json"];
    if !ns.is_empty() {
        args.extend(["-n", ns]);
    }
    let line = format!("explain {cmd}");
    args.extend(["-c", &line]);
    let out = env.vnsh(&args);
    let doc = &json_lines(&out)[0];
    doc["steps"].as_array().expect("steps").clone()
}

/// Run a printed command line with sh, the token (and `vars`) in its environment; its
/// stdout, parsed as JSON when there is any.
fn sh(env: &Env, line: &str, vars: &[(&str, &str)]) -> Value {
    let mut cmd = env.command(std::path::Path::new("sh"), env.server.token());
    cmd.args(["-c", line]).current_dir(env.dir.path());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("sh");
    assert!(out.status.success(), "{line}: {}", stderr(&out));
    let text = stdout(&out);
    if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {text}"))
    }
}

/// The curl line of the only step that sends something.
fn the_curl(steps: &[Value]) -> String {
    let sent: Vec<&Value> = steps.iter().filter(|s| s.get("curl").is_some()).collect();
    assert_eq!(sent.len(), 1, "{steps:?}");
    sent[0]["curl"].as_str().expect("curl").to_string()
}

#[test]
fn explain_prints_bao_and_curl_for_a_command_of_each_family_and_the_curl_works() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/web".into()]);
    api.mount_kv("acme/", "kv", "1");
    api.mount_kv("acme/", "secret", "2");
    api.enable_auth("acme/", "userpass", "userpass");
    api.ok(
        "POST",
        "acme/",
        "auth/userpass/users/bob",
        Some(json!({ "password": "pw-bob", "token_policies": "default" })),
    );
    // A key whose name needs escaping: space, `?`, `#`.
    api.ok(
        "POST",
        "acme/",
        "kv/odd%20name%3F%23x",
        Some(json!({ "v": "odd" })),
    );
    api.kv2_put("acme/", "secret", "app", json!({ "user": "alice" }));
    let token = env.server.token();
    assert!(token.len() > 2);

    // explore: cat — the curl reads the same secret, the URL escaped as vnsh sends it.
    let steps = explain(&env, "acme", "cat 'kv/odd name?#x'");
    let curl = the_curl(&steps);
    assert!(curl.contains("X-Vault-Token: $VAULT_TOKEN"), "{curl}");
    assert!(curl.contains("X-Vault-Namespace: acme/"), "{curl}");
    assert!(curl.contains("/v1/kv/odd%20name%3F%23x"), "{curl}");
    assert!(!curl.contains(token), "never the token's value: {curl}");
    assert_eq!(sh(&env, &curl, &[])["data"], json!({ "v": "odd" }));
    let bao_line = steps[0]["bao"].as_str().expect("bao");
    assert_eq!(
        bao_line,
        "bao kv get -namespace=acme/ -mount=kv 'odd name?#x'"
    );
    let got = sh(
        &env,
        &bao_line.replacen("bao kv get", "bao kv get -format=json", 1),
        &[],
    );
    assert_eq!(got["data"], json!({ "v": "odd" }), "the bao line works too");
    let curl = the_curl(&explain(&env, "acme", "cat secret/app"));
    assert_eq!(
        sh(&env, &curl, &[])["data"]["data"],
        json!({ "user": "alice" })
    );

    // api: write with a secret value, as a shell variable; then read it back.
    let steps = explain(&env, "acme", "write kv/new user=u password=hunter2");
    let curl = the_curl(&steps);
    assert!(
        !curl.contains("hunter2") && curl.contains("$PASSWORD"),
        "{curl}"
    );
    assert!(
        steps[0]["bao"]
            .as_str()
            .unwrap()
            .contains("'password='\"$PASSWORD\""),
        "{steps:?}"
    );
    sh(&env, &curl, &[("PASSWORD", "from-env")]);
    assert_eq!(
        api.ok("GET", "acme/", "kv/new", None)["data"],
        json!({ "user": "u", "password": "from-env" })
    );
    let curl = the_curl(&explain(&env, "acme", "list kv/"));
    assert!(curl.contains("?list=true"), "{curl}");
    let keys = sh(&env, &curl, &[])["data"]["keys"].clone();
    assert!(keys.as_array().unwrap().contains(&json!("new")), "{keys}");

    // ns: create with custom metadata, from the grandparent (-namespace=acme/).
    let steps = explain(&env, "", "ns create acme/fresh team=core");
    let curl = the_curl(&steps);
    assert_eq!(
        steps[0]["bao"],
        json!("bao namespace create -namespace=acme/ -custom-metadata=team=core fresh")
    );
    sh(&env, &curl, &[]);
    assert_eq!(
        api.ok("GET", "acme/", "sys/namespaces/fresh", None)["data"]["custom_metadata"],
        json!({ "team": "core" })
    );

    // nav: ls of a namespace (three reads), each curl answers.
    let steps = explain(&env, "", "ls acme");
    assert_eq!(steps.len(), 3, "{steps:?}");
    let children = sh(&env, steps[0]["curl"].as_str().unwrap(), &[]);
    assert!(children["data"]["keys"]
        .as_array()
        .unwrap()
        .contains(&json!("web/")));
    let mounts = sh(&env, steps[1]["curl"].as_str().unwrap(), &[]);
    assert!(mounts["data"].get("secret/").is_some(), "{mounts}");
    // cd: the check, then VAULT_NAMESPACE.
    let steps = explain(&env, "acme", "cd web");
    assert_eq!(
        sh(&env, steps[0]["curl"].as_str().unwrap(), &[])["data"]["path"],
        json!("acme/web/")
    );
    assert!(steps[1]["what"]
        .as_str()
        .unwrap()
        .contains("VAULT_NAMESPACE=acme/web/"));

    // lock: lock and unlock with the key the lock's answer held.
    let curl = the_curl(&explain(&env, "acme", "lock web"));
    let answer = sh(&env, &curl, &[]);
    let key = answer["data"]["unlock_key"]
        .as_str()
        .expect("unlock key")
        .to_string();
    assert_eq!(
        api.scan("acme/").get("web/"),
        Some(&true),
        "locked by the printed curl"
    );
    let curl = the_curl(&explain(&env, "acme", "unlock web"));
    assert!(curl.contains("$UNLOCK_KEY"), "{curl}");
    sh(&env, &curl, &[("UNLOCK_KEY", &key)]);
    assert_eq!(api.scan("acme/").get("web/"), Some(&false), "unlocked");

    // auth: whoami and a login with the password in $PASSWORD (no token sent).
    let curl = the_curl(&explain(&env, "acme", "whoami"));
    assert!(sh(&env, &curl, &[])["data"]["policies"].is_array());
    let curl = the_curl(&explain(&env, "acme", "login userpass username=bob"));
    assert!(
        !curl.contains("X-Vault-Token"),
        "a login carries no token: {curl}"
    );
    let login = sh(&env, &curl, &[("PASSWORD", "pw-bob")]);
    assert!(login["auth"]["client_token"].is_string(), "{login}");

    // incident and shell: the walk behind `locks` and `refresh`; nothing for `keys`, `help`.
    for cmd in ["locks", "refresh"] {
        let steps = explain(&env, "acme", cmd);
        let scan = sh(&env, steps[0]["curl"].as_str().unwrap(), &[]);
        assert!(
            scan["data"]["keys"]
                .as_array()
                .unwrap()
                .contains(&json!("web/")),
            "{cmd}"
        );
    }
    for cmd in ["keys", "help", "pwd", "log", "explain ls"] {
        let steps = explain(&env, "acme", cmd);
        assert!(
            steps.iter().all(|s| s.get("curl").is_none()),
            "{cmd}: {steps:?}"
        );
    }

    // cp and diff: every request they print is one the server answers.
    let steps = explain(&env, "acme", "cp kv/new secret/copied");
    let reads: Vec<&str> = steps
        .iter()
        .filter(|s| s["method"] == json!("GET"))
        .map(|s| s["curl"].as_str().unwrap())
        .collect();
    assert_eq!(reads.len(), 2, "{steps:?}");
    assert_eq!(sh(&env, reads[0], &[])["data"]["user"], json!("u"));
    let write = steps
        .iter()
        .find(|s| s["method"] == json!("POST"))
        .expect("the write");
    std::fs::write(
        env.dir.path().join("data.json"),
        r#"{"data":{"k":"v"},"options":{"cas":0}}"#,
    )
    .expect("data.json");
    sh(&env, write["curl"].as_str().unwrap(), &[]);
    assert_eq!(
        kv2(&api, "acme/", "secret", "copied"),
        Some(json!({ "k": "v" }))
    );
    for s in explain(&env, "", "diff acme acme/web") {
        if let Some(curl) = s["curl"].as_str() {
            let answer = sh(&env, curl, &[]);
            // An empty list is a 404 without a message: nothing there, not an error.
            assert!(
                answer.get("data").is_some() || answer == json!({ "errors": [] }),
                "{curl}: {answer}"
            );
        }
    }
    // An explained command is refused as itself would be; explain alone needs one.
    let out = env.vnsh(&["-c", "explain frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown command `frobnicate`"));
    let out = env.vnsh(&["-c", "explain"]);
    assert!(stderr(&out).contains("`explain` needs a command"));
}

/// In the full-screen shell: the progress line of `cp -r` on the status line, and Ctrl-C
/// stops it after the key in flight, the report saying what was written.
#[test]
fn tui_shows_the_progress_and_ctrl_c_stops_cp_with_its_report() {
    use common::proxy::{Fault, Proxy, Rule};
    use common::tmux::Tmux;
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["t1".into(), "t2".into()]);
    api.mount_kv("t1/", "kv", "1");
    api.mount_kv("t2/", "secret", "2");
    for i in 0..12 {
        api.ok(
            "POST",
            "t1/",
            &format!("kv/many/k{i:02}"),
            Some(json!({ "v": i })),
        );
    }
    api.kv2_put("t2/", "secret", "warm", json!({ "x": 1 }));
    let proxy = Proxy::start(env.server.addr());
    proxy.add(Rule::on(
        "POST",
        "secret/data/copy/",
        Fault::Delay {
            before: Duration::from_millis(500),
            after: Duration::ZERO,
        },
    ));
    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.env("VAULT_ADDR", proxy.addr())
        .env("TERM", "xterm-256color");
    let tmux = Tmux::builder(&cmd).size(120, 40).start();
    tmux.wait_for("the full screen", |s| s.contains("/>"));
    tmux.line("cp -r t1/kv/many/ t2/secret/copy");
    tmux.wait_for("the progress line", |s| {
        s.contains("keys written (Ctrl-C stops)") && s.contains("/12")
    });
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("the report", |s| s.contains("not done (interrupted)"));
    assert!(screen.contains("interrupted (Ctrl-C)"), "{screen}");
    assert!(screen.contains("written"), "{screen}");
    // The server holds as many keys as the report says were written.
    let on_server = api.list("t2/", "secret/metadata/copy/");
    assert!(
        (1..12).contains(&on_server.len()),
        "some written, not all: {on_server:?}"
    );
    let rows = screen.matches("t2/secret/copy/k").count();
    assert!(rows >= on_server.len(), "{screen}");
    tmux.keys(&["C-d"]);
}

/// `explain` for the daily-work families (kv, secrets, auth, policy, token): the bao line
/// has `-namespace=` where the path lands, and each printed curl, run, does what the
/// command does — on KV v2 and v1, a path into a child namespace included.
#[test]
fn explain_the_daily_work_and_the_curl_works() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/web".into()]);
    api.mount_kv("acme/", "secret", "2");
    api.mount_kv("acme/web/", "old", "1");
    api.kv2_put("acme/", "secret", "app", json!({ "user": "alice" }));

    // kv put on v2: {"data": …} under data/, the secret value as a shell variable.
    let steps = explain(&env, "acme", "kv put secret/new user=u password=hunter2");
    let curl = the_curl(&steps);
    assert!(curl.contains("/v1/secret/data/new"), "{curl}");
    assert!(!curl.contains("hunter2"), "{curl}");
    let bao_line = steps[0]["bao"].as_str().unwrap();
    assert!(
        bao_line.starts_with("bao kv put -namespace=acme/ -mount=secret new user=u"),
        "{bao_line}"
    );
    sh(&env, &curl, &[("PASSWORD", "pw")]);
    let (_, got) = api.call("GET", "acme/", "secret/data/new", None);
    assert_eq!(
        got["data"]["data"],
        json!({ "user": "u", "password": "pw" })
    );
    // kv get -version, and the bao line works as it is printed.
    let steps = explain(&env, "acme", "kv get -version=1 secret/app");
    let curl = the_curl(&steps);
    assert!(curl.contains("version=1"), "{curl}");
    assert_eq!(
        sh(&env, &curl, &[])["data"]["data"],
        json!({ "user": "alice" })
    );
    let bao_line = steps[0]["bao"].as_str().unwrap();
    let via_bao = sh(
        &env,
        &bao_line.replacen("bao kv get", "bao kv get -format=json", 1),
        &[],
    );
    assert_eq!(via_bao["data"]["data"], json!({ "user": "alice" }));
    // kv list on v1, in a child namespace reached from acme: no metadata/ on v1.
    let steps = explain(&env, "acme", "kv put web/old/k v=1");
    let curl = the_curl(&steps);
    assert!(
        curl.contains("X-Vault-Namespace: acme/web/") && curl.contains("/v1/old/k"),
        "{curl}"
    );
    sh(&env, &curl, &[]);
    let curl = the_curl(&explain(&env, "acme", "kv list web/old/"));
    assert_eq!(sh(&env, &curl, &[])["data"]["keys"], json!(["k"]));
    // kv destroy: the versions in the body, on v2; refused on v1.
    let curl = the_curl(&explain(&env, "acme", "kv destroy -versions=1 secret/app"));
    sh(&env, &curl, &[]);
    let (_, meta) = api.call("GET", "acme/", "secret/metadata/app", None);
    assert_eq!(
        meta["data"]["versions"]["1"]["destroyed"],
        json!(true),
        "{meta}"
    );
    let out = env.vnsh(&[
        "-n",
        "acme",
        "-c",
        "explain kv destroy -versions=1 web/old/k",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("version 1"), "{}", stderr(&out));

    // secrets enable (placed in the child namespace on its path), then auth enable.
    let steps = explain(&env, "acme", "secrets enable -path=web/transit2 transit");
    let curl = the_curl(&steps);
    assert!(curl.contains("X-Vault-Namespace: acme/web/"), "{curl}");
    sh(&env, &curl, &[]);
    assert!(api.ok("GET", "acme/web/", "sys/mounts", None)["data"]
        .get("transit2/")
        .is_some());
    let curl = the_curl(&explain(&env, "acme", "auth enable userpass"));
    sh(&env, &curl, &[]);
    assert!(api.ok("GET", "acme/", "sys/auth", None)["data"]
        .get("userpass/")
        .is_some());

    // policy write from a file; then read it back through its explained curl.
    let file = env.dir.path().join("p.hcl");
    std::fs::write(&file, "path \"x/*\" { capabilities = [\"read\"] }\n").expect("policy file");
    let line = format!("policy write app {}", file.display());
    let curl = the_curl(&explain(&env, "acme", &line));
    sh(&env, &curl, &[]);
    let curl = the_curl(&explain(&env, "acme", "policy read app"));
    assert!(sh(&env, &curl, &[])["data"]["policy"]
        .as_str()
        .unwrap()
        .contains("x/*"));

    // k=@FILE: bao reads the file itself (the value never on a command line), the curl
    // in the shell; each, run, writes the file's text as it is: a quote, a backslash, an
    // inner and a trailing newline included.
    let jq = std::process::Command::new("jq").arg("--version").output();
    assert!(
        jq.is_ok_and(|o| o.status.success()),
        "`jq` is not installed; explain's curl reads a k=@FILE with it (apt-get install jq)"
    );
    let text = "from \"a\" file\\\nline two\n";
    let file = env.dir.path().join("value.txt");
    std::fs::write(&file, text).expect("value file");
    let line = format!("kv put secret/fromfile v=@{}", file.display());
    let steps = explain(&env, "acme", &line);
    let bao_line = steps[0]["bao"].as_str().unwrap().to_string();
    assert!(
        bao_line.ends_with(&format!("fromfile v=@{}", file.display())),
        "{bao_line}"
    );
    for run in [bao_line, the_curl(&steps)] {
        api.ok("DELETE", "acme/", "secret/metadata/fromfile", None);
        let out = env
            .command(std::path::Path::new("sh"), env.server.token())
            .args(["-c", &run])
            .output()
            .expect("sh");
        assert!(out.status.success(), "{run}: {}", stderr(&out));
        let (_, read) = api.call("GET", "acme/", "secret/data/fromfile", None);
        assert_eq!(read["data"]["data"], json!({ "v": text }), "{run}");
    }

    // token lookup: the session's own.
    let curl = the_curl(&explain(&env, "acme", "token lookup"));
    assert!(sh(&env, &curl, &[])["data"]["policies"].is_array());

    // token revoke -mode=orphan: the token comes from $OTHER_TOKEN, never its value is
    // printed; the curl revokes it.
    let parent = api.ok("POST", "acme/", "auth/token/create", Some(json!({})));
    let parent = parent["auth"]["client_token"].as_str().unwrap().to_string();
    let steps = explain(&env, "acme", "token revoke -mode=orphan -ask");
    let bao_line = steps[0]["bao"].as_str().unwrap();
    assert_eq!(
        bao_line, "bao token revoke -namespace=acme/ -mode=orphan \"$OTHER_TOKEN\"",
        "{steps:?}"
    );
    let curl = the_curl(&steps);
    assert!(curl.contains("/v1/auth/token/revoke-orphan"), "{curl}");
    sh(&env, &curl, &[("OTHER_TOKEN", &parent)]);
    let (status, _) = api.call(
        "POST",
        "acme/",
        "auth/token/lookup",
        Some(json!({"token": parent})),
    );
    assert_ne!(status, 200, "revoked by the explained curl");
}
