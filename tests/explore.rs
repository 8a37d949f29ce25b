//! Exploring a tenant against a real OpenBao: a tenant seeded with mounts of several kinds
//! (KV v1 and v2, transit), userpass and approle, ACL and password policies, entities and
//! groups, tokens, custom metadata and a locked child; a token that sees only part of it.
//! JSON output is compared with what `bao … -format=json` prints for the same request.
//! Last, `tree --mounts` and `find` on a thousand namespaces, timed.
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{json_lines, ok, stderr, Api, Env};

/// What the seeding made, for the assertions.
struct Tenant {
    /// A token in acme that may read mounts, policies and the children, and secret/*, but
    /// not auth methods, identities, password policies or kv/.
    partial: String,
    /// A token in acme with display name ci-bot.
    bot: String,
    bot_accessor: String,
}

const PARTIAL_POLICY: &str = r#"
path "sys/mounts" { capabilities = ["read"] }
path "sys/policies/acl" { capabilities = ["list"] }
path "sys/policies/acl/*" { capabilities = ["read"] }
path "sys/namespaces" { capabilities = ["list"] }
path "secret/*" { capabilities = ["read", "list"] }
"#;

/// acme (custom metadata team=core, tier=gold) with payments (its own pay-kv/), web/prod
/// and a locked legacy; in acme: kv v1 at kv/, kv v2 at secret/, transit; userpass and
/// approle; policies reader and ops; password policy simple; entities alice and bob;
/// groups admins and devs; tokens.
fn tenant(api: &Api) -> Tenant {
    api.ok(
        "POST",
        "",
        "sys/namespaces/acme",
        Some(json!({ "custom_metadata": { "team": "core", "tier": "gold" } })),
    );
    api.mkns_all_in(
        "acme/",
        &["payments".into(), "web/prod".into(), "legacy".into()],
    );
    api.mount("acme/", "kv", "kv", json!({ "version": "1" }));
    api.mount("acme/", "secret", "kv", json!({ "version": "2" }));
    api.mount("acme/", "transit", "transit", json!({}));
    api.mount("acme/payments/", "pay-kv", "kv", json!({ "version": "2" }));
    api.enable_auth("acme/", "userpass", "userpass");
    api.enable_auth("acme/", "approle", "approle");
    api.policy(
        "acme/",
        "reader",
        r#"path "secret/*" { capabilities = ["read", "list"] }"#,
    );
    api.policy(
        "acme/",
        "ops",
        r#"path "sys/*" { capabilities = ["read"] }"#,
    );
    api.policy("acme/", "partial", PARTIAL_POLICY);
    api.ok(
        "PUT",
        "acme/",
        "sys/policies/password/simple",
        Some(json!({ "policy": "length = 20\nrule \"charset\" { charset = \"abcdefghij\" }" })),
    );
    let alice = api.ok(
        "POST",
        "acme/",
        "identity/entity",
        Some(json!({ "name": "alice" })),
    )["data"]["id"]
        .as_str()
        .expect("entity id")
        .to_string();
    api.ok(
        "POST",
        "acme/",
        "identity/entity",
        Some(json!({ "name": "bob" })),
    );
    api.ok(
        "POST",
        "acme/",
        "identity/group",
        Some(json!({ "name": "admins", "member_entity_ids": [alice] })),
    );
    api.ok(
        "POST",
        "acme/",
        "identity/group",
        Some(json!({ "name": "devs" })),
    );
    api.ok(
        "POST",
        "acme/",
        "kv/app/db",
        Some(json!({ "password": "hunter2" })),
    );
    api.ok("POST", "acme/", "kv/top", Some(json!({ "a": "1" })));
    api.kv2_put("acme/", "secret", "app", json!({ "user": "alice" }));
    api.kv2_put(
        "acme/",
        "secret",
        "app",
        json!({ "user": "alice", "pass": "s3cret" }),
    );
    api.ok(
        "POST",
        "acme/",
        "secret/metadata/app",
        Some(json!({ "custom_metadata": { "owner": "ops" } })),
    );
    let bot = api.ok(
        "POST",
        "acme/",
        "auth/token/create",
        Some(json!({ "policies": ["reader"], "display_name": "ci-bot", "ttl": "1h" })),
    );
    let partial = api.token("acme/", &["partial"]);
    api.ok("POST", "acme/", "sys/namespaces/api-lock/lock/legacy", None);
    Tenant {
        partial,
        bot: bot["auth"]["client_token"].as_str().expect("token").into(),
        bot_accessor: bot["auth"]["accessor"].as_str().expect("accessor").into(),
    }
}

/// The one JSON document `vnsh --format json -n acme -c CMD` prints (`request_id` removed).
fn vj(env: &Env, token: &str, cmd: &str) -> Value {
    let out = env.vnsh_as(token, &["--format", "json", "-n", "acme", "-c", cmd]);
    let mut docs = json_lines(&out);
    assert_eq!(docs.len(), 1, "{cmd}: {docs:?}");
    docs.remove(0)
}

/// The text `vnsh -n acme -c CMD` prints; exit 0 and an empty stderr required.
fn vt(env: &Env, token: &str, cmd: &str) -> String {
    let out = env.vnsh_as(token, &["-n", "acme", "-c", cmd]);
    let text = ok(&out);
    assert_eq!(stderr(&out), "", "{cmd}");
    text
}

/// `bao COMMAND… -format=json -namespace=acme ARGS…`, `request_id` removed.
fn bao(env: &Env, command: &[&str], args: &[&str]) -> Value {
    let mut all = command.to_vec();
    all.extend(["-format=json", "-namespace=acme"]);
    all.extend_from_slice(args);
    env.bao_json(&all)
}

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

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// The line of a table whose first cell is `first`.
fn row<'a>(text: &'a str, first: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first} in:\n{text}"))
}

/// The lines of the section titled `title` of a `describe` screen.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| l.trim_end() != title);
    assert!(lines.next().is_some(), "no section {title} in:\n{text}");
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect()
}

#[test]
fn mounts_and_auths_match_bao_and_read_as_tables() {
    let env = common::env();
    let api = Api::new(&env);
    let t = tenant(&api);
    let root = env.server.token();

    // JSON: the value bao prints, field for field.
    let mounts = vj(&env, root, "mounts");
    assert_eq!(mounts, bao(&env, &["secrets", "list"], &[]));
    assert_eq!(
        keys(&mounts),
        BTreeSet::from(
            [
                "cubbyhole/",
                "identity/",
                "kv/",
                "secret/",
                "sys/",
                "transit/"
            ]
            .map(String::from)
        )
    );
    let auths = vj(&env, root, "auths");
    assert_eq!(auths, bao(&env, &["auth", "list"], &[]));
    assert_eq!(
        keys(&auths),
        BTreeSet::from(["approle/", "token/", "userpass/"].map(String::from))
    );
    // In order, as bao prints a Go map.
    let text = env.vnsh(&["--format", "json", "-n", "acme", "-c", "mounts"]);
    let order: Vec<String> = keys(&mounts).into_iter().collect();
    let printed = ok(&text);
    let mut at = 0;
    for k in &order {
        let found = printed[at..]
            .find(&format!("\"{k}\":{{"))
            .unwrap_or_else(|| panic!("{k} out of order in {printed}"));
        at += found;
    }

    // Tables: path, type, KV version, plugin version, description.
    let text = vt(&env, root, "mounts");
    assert!(text.lines().next().unwrap().starts_with("PATH"), "{text}");
    assert!(row(&text, "secret/").contains(" kv "), "{text}");
    let kv_column = |p: &str| row(&text, p).split_whitespace().nth(2).map(str::to_string);
    assert_eq!(kv_column("secret/").as_deref(), Some("2"), "{text}");
    assert_eq!(kv_column("kv/").as_deref(), Some("1"), "{text}");
    assert!(row(&text, "transit/").contains("transit"), "{text}");
    assert!(row(&text, "sys/").contains("system endpoints"), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(rows, order, "sorted by path:\n{text}");
    let text = vt(&env, root, "auths");
    assert!(row(&text, "userpass/").contains("userpass"), "{text}");
    assert!(row(&text, "approle/").contains("approle"), "{text}");
    assert!(
        row(&text, "token/").contains("token based credentials"),
        "{text}"
    );

    // The partial token may read the secrets engines, not the auth methods: one clear line.
    assert_eq!(vj(&env, &t.partial, "mounts"), mounts);
    let out = env.vnsh_as(&t.partial, &["-n", "acme", "-c", "auths"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.trim_end(),
        "error: permission denied: GET sys/auth in namespace acme",
        "{err}"
    );
}

#[test]
fn policies_password_policies_identities_and_tokens() {
    let env = common::env();
    let api = Api::new(&env);
    let t = tenant(&api);
    let root = env.server.token();

    // ACL policies.
    let policies = vj(&env, root, "policies");
    assert_eq!(policies, bao(&env, &["policy", "list"], &[]));
    assert_eq!(sorted(&policies), ["default", "ops", "partial", "reader"]);
    let text = vt(&env, root, "policies");
    assert_eq!(
        text.lines().collect::<BTreeSet<_>>(),
        BTreeSet::from(["default", "ops", "partial", "reader"])
    );
    let one = vj(&env, root, "policy read reader");
    assert_eq!(one, bao(&env, &["policy", "read"], &["reader"]));
    assert_eq!(
        vt(&env, root, "policy read reader").trim_end(),
        r#"path "secret/*" { capabilities = ["read", "list"] }"#
    );
    let out = env.vnsh(&["-n", "acme", "-c", "policy read nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sys/policies/acl/nope"),
        "{}",
        stderr(&out)
    );
    // The partial token may list and read them.
    assert_eq!(vj(&env, &t.partial, "policies"), policies);
    assert_eq!(vj(&env, &t.partial, "policy read reader"), one);

    // Password policies.
    let pw = vj(&env, root, "password-policies");
    assert_eq!(pw, bao(&env, &["list"], &["sys/policies/password"]));
    assert_eq!(pw, json!(["simple"]));
    assert_eq!(vt(&env, root, "password-policies").trim_end(), "simple");

    // Entities and groups: ids in JSON (as bao lists them), names beside ids in tables.
    let entities = vj(&env, root, "entities");
    let bao_entities = bao(&env, &["list"], &["identity/entity/id"]);
    assert_eq!(sorted(&entities), sorted(&bao_entities));
    assert_eq!(sorted(&entities).len(), 2);
    let text = vt(&env, root, "entities");
    for name in ["alice", "bob"] {
        let id = api.ok(
            "GET",
            "acme/",
            &format!("identity/entity/name/{name}"),
            None,
        )["data"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert!(row(&text, name).contains(&id), "{text}");
    }
    let groups = vj(&env, root, "groups");
    assert_eq!(
        sorted(&groups),
        sorted(&bao(&env, &["list"], &["identity/group/id"]))
    );
    let text = vt(&env, root, "groups");
    for name in ["admins", "devs"] {
        row(&text, name);
    }
    // Not for the partial token: an error, not an empty list.
    for cmd in ["entities", "groups", "password-policies"] {
        let out = env.vnsh_as(&t.partial, &["-n", "acme", "-c", cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(stderr(&out).contains("permission denied"), "{cmd}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }

    // Tokens: the accessors, as bao lists them; with -l each looked up, never the token.
    let tokens = vj(&env, root, "tokens");
    assert_eq!(
        sorted(&tokens),
        sorted(&bao(&env, &["list"], &["auth/token/accessors"]))
    );
    assert!(sorted(&tokens).contains(&t.bot_accessor), "{tokens}");
    assert_eq!(sorted(&tokens).len(), 2, "ci-bot and the partial token");
    let text = vt(&env, root, "tokens");
    assert!(text.lines().any(|l| l == t.bot_accessor), "{text}");
    let detailed = vj(&env, root, "tokens -l");
    let rows = detailed.as_array().expect("array");
    assert_eq!(rows.len(), 2, "{detailed}");
    let bot = rows
        .iter()
        .find(|r| r["accessor"] == json!(t.bot_accessor))
        .expect("the bot's row");
    assert_eq!(bot["display_name"], json!("token-ci-bot"));
    assert_eq!(sorted(&bot["policies"]), ["default", "reader"]);
    assert!(
        bot["ttl"].as_u64().is_some_and(|s| s > 3000 && s <= 3600),
        "{bot}"
    );
    let text = vt(&env, root, "tokens -l");
    assert!(text.starts_with("ACCESSOR"), "{text}");
    assert!(
        row(&text, &t.bot_accessor).contains("token-ci-bot"),
        "{text}"
    );
    assert!(row(&text, &t.bot_accessor).contains("reader"), "{text}");
    for out in [text, detailed.to_string()] {
        assert!(!out.contains(&t.bot), "a token was printed: {out}");
        assert!(!out.contains(&t.partial), "a token was printed: {out}");
    }
}

#[test]
fn cat_in_kv_v1_and_v2_matches_bao_kv_get() {
    let env = common::env();
    let api = Api::new(&env);
    let t = tenant(&api);
    let root = env.server.token();

    // KV v2: data, version and metadata, as bao kv get prints them.
    let doc = vj(&env, root, "cat secret/app");
    assert_eq!(doc, bao(&env, &["kv", "get"], &["secret/app"]));
    assert_eq!(
        doc["data"]["data"],
        json!({ "user": "alice", "pass": "s3cret" })
    );
    assert_eq!(doc["data"]["metadata"]["version"], json!(2));
    assert_eq!(
        doc["data"]["metadata"]["custom_metadata"],
        json!({ "owner": "ops" })
    );
    let text = vt(&env, root, "cat secret/app");
    assert!(row(&text, "(version)").ends_with(" 2"), "{text}");
    assert!(row(&text, "(created_time)").contains('T'), "{text}");
    assert!(row(&text, "(custom_metadata)").contains("owner"), "{text}");
    assert!(row(&text, "user").ends_with(" alice"), "{text}");
    assert!(row(&text, "pass").ends_with(" s3cret"), "{text}");
    // The same secret from the root, through the namespace's name or absolutely.
    let out = env.vnsh(&["--format", "json", "-c", "cat acme/secret/app"]);
    assert_eq!(json_lines(&out)[0]["data"], doc["data"]);
    let out = env.vnsh(&[
        "--format",
        "json",
        "-n",
        "acme/web",
        "-c",
        "cat /acme/secret/app",
    ]);
    assert_eq!(json_lines(&out)[0]["data"], doc["data"]);

    // A deleted version: its metadata and no data, as bao shows it.
    api.kv2_put("acme/", "secret", "gone", json!({ "k": "v" }));
    api.ok("DELETE", "acme/", "secret/data/gone", None);
    let doc = vj(&env, root, "cat secret/gone");
    assert_eq!(doc, bao(&env, &["kv", "get"], &["secret/gone"]));
    assert_eq!(doc["data"]["data"], Value::Null);
    let text = vt(&env, root, "cat secret/gone");
    assert!(row(&text, "(deletion_time)").contains('T'), "{text}");

    // KV v1.
    let doc = vj(&env, root, "cat kv/app/db");
    assert_eq!(doc, bao(&env, &["kv", "get"], &["kv/app/db"]));
    assert_eq!(doc["data"], json!({ "password": "hunter2" }));
    let text = vt(&env, root, "cat kv/top");
    assert!(row(&text, "a").ends_with(" 1"), "{text}");

    // A token that may read the secret but not sys/mounts still reads it (as bao does).
    let doc = vj(&env, &t.partial, "cat secret/app");
    assert_eq!(doc["data"]["data"]["user"], json!("alice"));
    let reader = api.token("acme/", &["reader"]);
    let (status, _) = Api::with_token(&env, &reader).call("GET", "acme/", "sys/mounts", None);
    assert_eq!(status, 403);
    let doc = vj(&env, &reader, "cat secret/app");
    assert_eq!(doc["data"]["data"]["user"], json!("alice"));

    // Not a secret: clear errors, never a crash.
    for (cmd, says) in [
        ("cat secret", "not a secret"),
        ("cat secret/", "not a secret"),
        ("cat kv/app/", "not a secret"),
        ("cat transit/keys/x", "not a KV mount"),
        ("cat secret/nope", "no value found"),
        ("cat nowhere/x", "nowhere/x"),
    ] {
        let out = env.vnsh(&["-n", "acme", "-c", cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{cmd}: {}", stderr(&out));
    }
}

#[test]
fn describe_shows_every_section_and_what_may_not_be_read() {
    let env = common::env();
    let api = Api::new(&env);
    let t = tenant(&api);
    let root = env.server.token();

    let text = vt(&env, root, "describe");
    let ns = section(&text, "Namespace");
    assert!(
        ns.iter()
            .any(|l| l.starts_with("path") && l.ends_with(" acme")),
        "{text}"
    );
    assert!(
        ns.iter()
            .any(|l| l.starts_with("locked") && l.ends_with(" no")),
        "{text}"
    );
    assert!(
        ns.iter()
            .any(|l| l.starts_with("metadata.team") && l.ends_with(" core")),
        "{text}"
    );
    assert!(
        ns.iter()
            .any(|l| l.starts_with("metadata.tier") && l.ends_with(" gold")),
        "{text}"
    );
    let children = section(&text, "Child namespaces");
    assert_eq!(children.len(), 3, "{text}");
    assert!(
        children[0].starts_with("legacy/") && children[0].ends_with(" locked"),
        "{text}"
    );
    assert_eq!(children[1..], ["payments/", "web/"], "{text}");
    let engines = section(&text, "Secrets engines (by type)");
    assert!(
        engines
            .iter()
            .any(|l| l.starts_with("kv v1") && l.ends_with(" kv/")),
        "{text}"
    );
    assert!(
        engines
            .iter()
            .any(|l| l.starts_with("kv v2") && l.ends_with(" secret/")),
        "{text}"
    );
    assert!(
        engines
            .iter()
            .any(|l| l.starts_with("transit") && l.ends_with(" transit/")),
        "{text}"
    );
    let auth = section(&text, "Auth methods (by type)");
    assert!(
        auth.iter()
            .any(|l| l.starts_with("userpass") && l.ends_with(" userpass/")),
        "{text}"
    );
    assert!(
        auth.iter()
            .any(|l| l.starts_with("approle") && l.ends_with(" approle/")),
        "{text}"
    );
    assert_eq!(section(&text, "Policies"), ["default ops partial reader"]);
    assert_eq!(section(&text, "Entities"), ["2: alice bob"]);
    assert_eq!(section(&text, "Groups"), ["2: admins devs"]);
    assert!(!text.contains("not readable"), "{text}");

    // JSON: each section as the server (and bao) gives it.
    let doc = vj(&env, root, "describe");
    let lookup = env.bao_json(&["namespace", "lookup", "-format=json", "acme"]);
    assert_eq!(doc["namespace"], lookup);
    assert_eq!(
        keys(&doc["mounts"]),
        keys(&bao(&env, &["secrets", "list"], &[]))
    );
    assert_eq!(keys(&doc["auth"]), keys(&bao(&env, &["auth", "list"], &[])));
    assert_eq!(
        keys(&doc["children"]),
        BTreeSet::from(["legacy/", "payments/", "web/"].map(String::from))
    );
    assert_eq!(doc["children"]["legacy/"]["locked"], json!(true));
    assert_eq!(
        sorted(&doc["policies"]),
        ["default", "ops", "partial", "reader"]
    );
    assert_eq!(sorted(&doc["entities"]).len(), 2);
    assert_eq!(sorted(&doc["groups"]).len(), 2);
    // Another namespace by path, from the root.
    let out = env.vnsh(&["--format", "json", "-c", "describe acme/payments"]);
    let pay = &json_lines(&out)[0];
    assert_eq!(pay["namespace"]["path"], json!("acme/payments/"));
    assert!(pay["mounts"].get("pay-kv/").is_some(), "{pay}");

    // A locked namespace: its lock state, and why the rest cannot be read.
    let text = vt(&env, root, "describe legacy");
    assert!(
        section(&text, "Namespace")
            .iter()
            .any(|l| l.starts_with("locked") && l.ends_with(" yes")),
        "{text}"
    );
    assert_eq!(
        section(&text, "Secrets engines (by type)"),
        ["(not readable: locked: acme/legacy/)"]
    );
    // A namespace that does not exist: an error.
    let out = env.vnsh(&["-n", "acme", "-c", "describe nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    // The partial token: what it may read, and beside it what it may not, not a wall of
    // errors (exit 0, nothing on stderr).
    let text = vt(&env, &t.partial, "describe");
    let denied = "(not readable: permission denied)";
    assert_eq!(section(&text, "Namespace"), [denied], "{text}");
    assert_eq!(section(&text, "Child namespaces").len(), 3, "{text}");
    assert!(
        section(&text, "Secrets engines (by type)")
            .iter()
            .any(|l| l.starts_with("kv v2") && l.ends_with(" secret/")),
        "{text}"
    );
    assert_eq!(section(&text, "Auth methods (by type)"), [denied], "{text}");
    assert_eq!(
        section(&text, "Policies"),
        ["default ops partial reader"],
        "{text}"
    );
    assert_eq!(section(&text, "Entities"), [denied], "{text}");
    assert_eq!(section(&text, "Groups"), [denied], "{text}");
    assert_eq!(text.matches(denied).count(), 4, "{text}");
    let doc = vj(&env, &t.partial, "describe");
    for k in ["namespace", "auth", "entities", "groups"] {
        assert!(
            doc[k]["error"]
                .as_str()
                .is_some_and(|e| e.contains("permission denied")),
            "{k}: {doc}"
        );
    }
    assert!(doc["mounts"].get("secret/").is_some(), "{doc}");
    assert_eq!(sorted(&doc["policies"]).len(), 4, "{doc}");
}

#[test]
fn tree_with_mounts_and_find_best_first() {
    let env = common::env();
    let api = Api::new(&env);
    let t = tenant(&api);
    let root = env.server.token();

    // Text: each namespace followed by its own mounts; a locked one marked.
    let text = vt(&env, root, "tree --mounts");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "acme  kv/ secret/ transit/ auth/approle/ auth/userpass/",
        "{text}"
    );
    let line = |name: &str| -> &str {
        lines
            .iter()
            .find(|l| {
                l.trim_start_matches(['│', ' ', '├', '└', '─'])
                    .starts_with(name)
            })
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert!(line("payments/").ends_with("payments/  pay-kv/"), "{text}");
    assert!(line("legacy/").contains("[locked]"), "{text}");
    assert!(line("web/").ends_with("web/"), "{text}");
    assert!(line("prod/").ends_with("prod/"), "{text}");
    assert_eq!(lines.len(), 1 + 4, "{text}");

    // JSON: every namespace of the tree (as bao scans it), with all its mounts.
    let doc = vj(&env, root, "tree --mounts");
    let scan = env.bao_json(&["namespace", "scan", "-format=json", "-namespace=acme"]);
    let mut want: BTreeSet<String> = sorted(&scan).into_iter().collect();
    want.insert(String::new());
    assert_eq!(keys(&doc), want);
    assert_eq!(
        sorted(&doc[""]),
        [
            "auth/approle/",
            "auth/token/",
            "auth/userpass/",
            "cubbyhole/",
            "identity/",
            "kv/",
            "secret/",
            "sys/",
            "transit/"
        ]
    );
    assert!(
        sorted(&doc["payments/"]).contains(&"pay-kv/".to_string()),
        "{doc}"
    );
    assert_eq!(doc["legacy/"], json!({ "error": "locked" }));
    // A path and a depth.
    let doc = vj(&env, root, "tree --mounts -d 1 /acme");
    assert_eq!(
        keys(&doc),
        BTreeSet::from(["", "legacy/", "payments/", "web/"].map(String::from))
    );

    // The partial token: the mounts it may use (one request per namespace, the UI
    // endpoint, lists only those) beside the children where it may use none.
    let text = vt(&env, &t.partial, "tree --mounts");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "acme  secret/", "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("payments/  (mounts not readable: none this token may use)")),
        "{text}"
    );

    // find: namespaces and mounts over the subtree, best first.
    let found = vj(&env, root, "find pay");
    assert_eq!(found[0], json!("payments/"), "{found}");
    assert_eq!(found[1], json!("payments/pay-kv/"), "{found}");
    let found = vj(&env, root, "find kv");
    assert_eq!(found[0], json!("kv/"), "{found}");
    assert!(
        sorted(&found).contains(&"payments/pay-kv/".to_string()),
        "{found}"
    );
    let found = vj(&env, root, "find userp");
    assert_eq!(found[0], json!("auth/userpass/"), "{found}");
    let found = vj(&env, root, "find prd");
    assert_eq!(found[0], json!("web/prod/"), "fuzzy: {found}");
    assert_eq!(vj(&env, root, "find zzzz"), json!([]));
    let text = vt(&env, root, "find pay");
    assert_eq!(
        text.lines().take(2).collect::<Vec<_>>(),
        ["payments/", "payments/pay-kv/"]
    );
    // From the root the paths carry the tenant.
    let out = env.vnsh(&["--format", "json", "-c", "find pay-kv"]);
    assert_eq!(json_lines(&out)[0][0], json!("acme/payments/pay-kv/"));
}

// ---------------------------------------------------------------------------------------
// Scale: a thousand namespaces
// ---------------------------------------------------------------------------------------

/// Generous: fails on a hang, not on a slow machine.
const BOUND: Duration = Duration::from_secs(30);

fn timed(env: &Env, args: &[&str]) -> (Duration, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let start = Instant::now();
    let out = env.vnsh(&all);
    let took = start.elapsed();
    let mut docs = json_lines(&out);
    assert_eq!(docs.len(), 1);
    (took, docs.remove(0))
}

#[test]
fn tree_mounts_and_find_on_a_thousand_namespaces() {
    let env = common::env();
    let api = Api::new(&env);
    let mut leaves = Vec::new();
    for t in 0..10 {
        for m in 0..10 {
            for e in 0..9 {
                leaves.push(format!("t{t}/team{m}/env{e}"));
            }
        }
    }
    let start = Instant::now();
    api.mkns_all(&leaves);
    eprintln!(
        "scale: created 1010 namespaces over HTTP ({} at a time) in {:.2?}",
        common::SEED_CONCURRENCY,
        start.elapsed()
    );
    api.mount("t3/team4/env5/", "deep-kv", "kv", json!({ "version": "2" }));

    for flags in [&[][..], &["--no-scan"][..]] {
        let label = if flags.is_empty() {
            "SCAN"
        } else {
            "--no-scan"
        };
        let mut args = flags.to_vec();
        args.extend(["-c", "tree --mounts"]);
        let (took, doc) = timed(&env, &args);
        eprintln!("scale: tree --mounts over 1011 namespaces ({label}): {took:.2?}");
        assert!(took < BOUND, "tree --mounts took {took:?}");
        assert_eq!(keys(&doc).len(), 1011);
        assert!(doc.as_object().unwrap().values().all(Value::is_array));
        assert!(sorted(&doc["t3/team4/env5/"]).contains(&"deep-kv/".to_string()));

        let mut args = flags.to_vec();
        args.extend(["-c", "find deep-kv"]);
        let (took, doc) = timed(&env, &args);
        eprintln!("scale: find over 1011 namespaces ({label}): {took:.2?}");
        assert!(took < BOUND, "find took {took:?}");
        assert_eq!(doc[0], json!("t3/team4/env5/deep-kv/"), "{doc}");

        let mut args = flags.to_vec();
        args.extend(["-c", "find team7"]);
        let (took, doc) = timed(&env, &args);
        eprintln!("scale: find team7 ({label}): {took:.2?}");
        assert!(took < BOUND);
        let found = doc.as_array().unwrap();
        assert_eq!(found.len(), 100, "at most 100 shown");
        assert!(
            found[..10]
                .iter()
                .all(|f| f.as_str().unwrap().ends_with("/team7/")),
            "{doc}"
        );
    }
}
