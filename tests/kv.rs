//! `kv …` against a real OpenBao dev server, in a tenant reached by `cd`, on KV v1 and v2:
//! each command's `--format json` output is compared with what the real `bao kv …
//! -format=json` prints for the same request (`request_id` aside), and the server's state
//! is checked over HTTP afterwards.
mod common;

use std::process::Output;

use serde_json::{json, Value};

use common::{json_lines, ok, stderr, Api, Env};

/// `vnsh --format json -c 'cd t; LINE'`: every JSON document printed (`cd` prints none).
fn in_t(env: &Env, line: &str) -> Vec<Value> {
    json_lines(&env.vnsh(&["--format", "json", "--yes", "-c", &format!("cd t; {line}")]))
}

/// The one JSON document of a command run in `t`.
fn in_t1(env: &Env, line: &str) -> Value {
    let mut docs = in_t(env, line);
    assert_eq!(docs.len(), 1, "{line}: expected one document: {docs:?}");
    docs.remove(0)
}

/// A command in `t` whose JSON output is nothing, as bao's.
fn in_t_quiet(env: &Env, line: &str) {
    let docs = in_t(env, line);
    assert!(docs.is_empty(), "{line}: printed {docs:?}");
}

/// The text a command prints for people, run in `t`.
fn text_in_t(env: &Env, line: &str) -> String {
    ok(&env.vnsh(&["--yes", "-c", &format!("cd t; {line}")]))
}

/// A run in `t` that fails; its stderr.
fn fails_in_t(env: &Env, line: &str) -> String {
    let out = env.vnsh(&["--yes", "-c", &format!("cd t; {line}")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{line} should fail: {}",
        ok_or(&out)
    );
    stderr(&out)
}

fn ok_or(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bao CMD -namespace=t -format=json ARGS` (flags first in ARGS: bao stops reading
/// flags at the first argument), parsed, `request_id` removed.
fn bao_t(env: &Env, cmd: &[&str], args: &[&str]) -> Value {
    let mut all = cmd.to_vec();
    all.extend(["-namespace=t", "-format=json"]);
    all.extend(args);
    env.bao_json(&all)
}

/// `v` without the write's time (two writes differ in it).
fn without_time(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
        d.remove("created_time");
    }
    v
}

/// The data of version `version` (0: the latest) of a v2 secret, over HTTP.
fn v2_data(api: &Api, ns: &str, path: &str, version: u64) -> Value {
    let q = if version == 0 {
        String::new()
    } else {
        format!("?version={version}")
    };
    let (_, body) = api.call("GET", ns, &format!("secret/data/{path}{q}"), None);
    body["data"]["data"].clone()
}

#[test]
fn kv_v2_in_a_tenant_matches_bao() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t/sub");
    api.mount_kv("t/", "secret", "2");

    // put: vnsh writes app, bao writes twin, with the same data.
    let ours = in_t1(&env, "kv put secret/app user=bob pw=s3");
    let bao = bao_t(&env, &["kv", "put"], &["secret/twin", "user=bob", "pw=s3"]);
    assert_eq!(ours["data"]["version"], json!(1));
    assert_eq!(without_time(&ours), without_time(&bao));
    assert_eq!(
        v2_data(&api, "t/", "app", 0),
        json!({"user": "bob", "pw": "s3"})
    );
    // A second version, from a JSON file (as bao: @file.json is the whole data).
    let file = env.dir.path().join("v2.json");
    std::fs::write(&file, r#"{"user":"bob","pw":"s4"}"#).unwrap();
    let at = format!("@{}", file.display());
    let ours = in_t1(&env, &format!("kv put secret/app {at}"));
    let bao = bao_t(&env, &["kv", "put"], &["secret/twin", &at]);
    assert_eq!(ours["data"]["version"], json!(2));
    assert_eq!(without_time(&ours), without_time(&bao));

    // get, the latest and an older version, and one field.
    for args in [vec![], vec!["-version=1"]] {
        let mut b = args.clone();
        b.push("secret/app");
        let line = format!("kv get {} secret/app", args.join(" "));
        assert_eq!(
            in_t1(&env, &line),
            bao_t(&env, &["kv", "get"], &b),
            "{line}"
        );
    }
    assert_eq!(in_t1(&env, "kv get secret/app")["data"]["data"]["pw"], "s4");
    assert_eq!(
        text_in_t(&env, "kv get -field=pw secret/app").trim_end(),
        "s4"
    );
    let bao_field = env.bao(&["kv", "get", "-namespace=t", "-field=pw", "secret/app"]);
    assert_eq!(bao_field, "s4");
    assert_eq!(
        in_t1(&env, "kv get -field=pw secret/app"),
        bao_t(&env, &["kv", "get"], &["-field=pw", "secret/app"])
    );
    // -mount=, and a table for people that names the version and the keys.
    assert_eq!(
        in_t1(&env, "kv get -mount=secret app"),
        in_t1(&env, "kv get secret/app")
    );
    let table = text_in_t(&env, "kv get secret/app");
    assert!(
        table.contains("Metadata") && table.contains("version"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("  pw") && l.ends_with("s4")),
        "{table}"
    );

    // The same secret from the parent, from a child with `..`, and from the top with `/`.
    let here = in_t1(&env, "kv get secret/app");
    let from_root = json_lines(&env.vnsh(&["--format", "json", "-c", "kv get t/secret/app"]));
    assert_eq!(from_root, vec![here.clone()]);
    let from_child = json_lines(&env.vnsh(&[
        "--format",
        "json",
        "-c",
        "cd t/sub; kv get ../secret/app; kv get /t/secret/app",
    ]));
    assert_eq!(from_child, vec![here.clone(), here]);

    // patch: merged, a new version; -remove-data takes a key out.
    let ours = in_t1(&env, "kv patch secret/app pw=s5 extra=1");
    let bao = bao_t(&env, &["kv", "patch"], &["secret/twin", "pw=s5", "extra=1"]);
    assert_eq!(ours["data"]["version"], json!(3));
    assert_eq!(without_time(&ours), without_time(&bao));
    assert_eq!(
        v2_data(&api, "t/", "app", 0),
        json!({"user": "bob", "pw": "s5", "extra": "1"})
    );
    let ours = in_t1(&env, "kv patch -remove-data=extra secret/app");
    let bao = bao_t(
        &env,
        &["kv", "patch"],
        &["-remove-data=extra", "secret/twin"],
    );
    assert_eq!(without_time(&ours), without_time(&bao));
    assert_eq!(
        v2_data(&api, "t/", "app", 0),
        json!({"user": "bob", "pw": "s5"})
    );
    // -method=rw reads and writes with check-and-set; the result is the same.
    let ours = in_t1(&env, "kv patch -method=rw secret/app pw=s6");
    assert_eq!(ours["data"]["version"], json!(5));
    assert_eq!(
        v2_data(&api, "t/", "app", 0),
        json!({"user": "bob", "pw": "s6"})
    );

    // A token whose policy grants no "patch": read and written whole, with a warning
    // (as bao); with -method=patch, no fallback.
    api.policy(
        "t/",
        "no-patch",
        r#"path "secret/data/*" { capabilities = ["create", "update", "read"] }"#,
    );
    let made = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({ "policies": ["no-patch"] })),
    );
    let narrow = made["auth"]["client_token"].as_str().unwrap().to_string();
    api.kv2_put("t/", "secret", "np", json!({"a": "1", "b": "2"}));
    let out = env.vnsh_as(&narrow, &["-n", "t", "-c", "kv patch secret/np b=3"]);
    ok(&out);
    assert!(stderr(&out).contains("no \"patch\""), "{}", stderr(&out));
    assert_eq!(v2_data(&api, "t/", "np", 0), json!({"a": "1", "b": "3"}));
    let out = env.vnsh_as(
        &narrow,
        &["-n", "t", "-c", "kv patch -method=patch secret/np b=4"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v2_data(&api, "t/", "np", 0)["b"], "3");
    api.ok("DELETE", "t/", "secret/metadata/np", None);

    // put -cas: refused when the version is not the current one, nothing written.
    let err = fails_in_t(&env, "kv put -cas=1 secret/app pw=nope");
    assert!(err.contains("check-and-set"), "{err}");
    assert_eq!(v2_data(&api, "t/", "app", 0)["pw"], "s6");

    // list, at the mount and in a folder.
    api.kv2_put("t/", "secret", "team/db", json!({"x": "1"}));
    for (ours, theirs) in [("secret", "secret"), ("secret/team", "secret/team")] {
        assert_eq!(
            in_t1(&env, &format!("kv list {ours}")),
            bao_t(&env, &["kv", "list"], &[theirs])
        );
    }
    assert_eq!(
        in_t1(&env, "kv list secret"),
        json!(["app", "team/", "twin"])
    );
    assert_eq!(
        in_t1(&env, "kv list -mount=secret"),
        json!(["app", "team/", "twin"])
    );

    // metadata get: the same document as bao's (the same secret, so the same times).
    let meta = in_t1(&env, "kv metadata get secret/app");
    assert_eq!(
        meta,
        bao_t(&env, &["kv", "metadata", "get"], &["secret/app"])
    );
    assert_eq!(meta["data"]["current_version"], json!(5));
    let table = text_in_t(&env, "kv metadata get secret/app");
    assert!(
        table.contains("Version 1") && table.contains("Version 5"),
        "{table}"
    );

    // metadata put: nothing printed in JSON (as bao); the server has it.
    in_t_quiet(
        &env,
        "kv metadata put -max-versions=7 -custom-metadata=owner=ops -custom-metadata=tier=1 secret/app",
    );
    let (_, m) = api.call("GET", "t/", "secret/metadata/app", None);
    assert_eq!(m["data"]["max_versions"], json!(7));
    assert_eq!(
        m["data"]["custom_metadata"],
        json!({"owner": "ops", "tier": "1"})
    );

    // delete the latest version: nothing in JSON; get shows it deleted, as bao does.
    in_t_quiet(&env, "kv delete secret/app");
    let got = in_t1(&env, "kv get secret/app");
    assert_eq!(got, bao_t(&env, &["kv", "get"], &["secret/app"]));
    assert_eq!(got["data"]["data"], Value::Null);
    assert_ne!(got["data"]["metadata"]["deletion_time"], json!(""));
    // undelete brings it back.
    in_t_quiet(&env, "kv undelete -versions=5 secret/app");
    assert_eq!(v2_data(&api, "t/", "app", 0)["pw"], "s6");
    // delete -versions, then undelete two at once.
    in_t_quiet(&env, "kv delete -versions=1,2 secret/app");
    let (_, m) = api.call("GET", "t/", "secret/metadata/app", None);
    assert_ne!(m["data"]["versions"]["1"]["deletion_time"], json!(""));
    assert_ne!(m["data"]["versions"]["2"]["deletion_time"], json!(""));
    in_t_quiet(&env, "kv undelete -versions=1 -versions=2 secret/app");
    assert_eq!(
        v2_data(&api, "t/", "app", 1),
        json!({"user": "bob", "pw": "s3"})
    );

    // rollback to version 1: a new version with its data, as bao's rollback of twin.
    let ours = in_t1(&env, "kv rollback -version=1 secret/app");
    let bao = bao_t(&env, &["kv", "rollback"], &["-version=1", "secret/twin"]);
    assert_eq!(ours["data"]["version"], json!(6));
    let unversioned = |v: &Value| {
        let mut v = without_time(v);
        v["data"]["version"] = Value::Null;
        // app has custom metadata (set above), twin none.
        v["data"]["custom_metadata"] = Value::Null;
        v
    };
    assert_eq!(unversioned(&ours), unversioned(&bao));
    assert_eq!(
        v2_data(&api, "t/", "app", 0),
        json!({"user": "bob", "pw": "s3"})
    );
    // A deleted version cannot be rolled back to; nothing is written.
    in_t_quiet(&env, "kv delete -versions=2 secret/app");
    let err = fails_in_t(&env, "kv rollback -version=2 secret/app");
    assert!(err.contains("deleted"), "{err}");

    // destroy: the data of version 2 is gone for good.
    in_t_quiet(&env, "kv destroy -versions=2 secret/app");
    let (_, m) = api.call("GET", "t/", "secret/metadata/app", None);
    assert_eq!(m["data"]["versions"]["2"]["destroyed"], json!(true));
    let got = in_t1(&env, "kv get -version=2 secret/app");
    assert_eq!(
        got,
        bao_t(&env, &["kv", "get"], &["-version=2", "secret/app"])
    );
    assert!(text_in_t(&env, "kv get -version=2 secret/app").contains("(destroyed)"));

    // metadata delete: every version and the metadata, gone.
    in_t_quiet(&env, "kv metadata delete secret/app");
    assert_eq!(api.list("t/", "secret/metadata"), ["team/", "twin"]);
    let err = fails_in_t(&env, "kv get secret/app");
    assert!(err.contains("no value found at t/secret/app"), "{err}");
}

#[test]
fn kv_v1_in_a_tenant_matches_bao() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.mount_kv("t/", "kv", "1");
    api.mount("t/", "transit", "transit", json!({}));

    // put: no answer, so nothing in JSON (as bao); for people, where it went.
    in_t_quiet(&env, "kv put kv/app user=bob pw=s3");
    assert_eq!(
        env.bao(&[
            "kv",
            "put",
            "-namespace=t",
            "-format=json",
            "kv/twin",
            "user=bob",
            "pw=s3"
        ])
        .trim(),
        ""
    );
    assert!(text_in_t(&env, "kv put kv/app user=bob pw=s4").contains("t/kv/app"));
    let (_, body) = api.call("GET", "t/", "kv/app", None);
    assert_eq!(body["data"], json!({"user": "bob", "pw": "s4"}));

    // get and -field.
    assert_eq!(
        in_t1(&env, "kv get kv/app"),
        bao_t(&env, &["kv", "get"], &["kv/app"])
    );
    assert_eq!(text_in_t(&env, "kv get -field=pw kv/app").trim_end(), "s4");
    assert_eq!(
        in_t1(&env, "kv get -field=pw kv/app"),
        bao_t(&env, &["kv", "get"], &["-field=pw", "kv/app"])
    );
    // list.
    assert_eq!(
        in_t1(&env, "kv list kv"),
        bao_t(&env, &["kv", "list"], &["kv"])
    );
    assert_eq!(in_t1(&env, "kv list kv/"), json!(["app", "twin"]));

    // What needs versions is refused on v1, saying why, with nothing changed.
    for line in [
        "kv patch kv/app pw=x",
        "kv undelete -versions=1 kv/app",
        "kv destroy -versions=1 kv/app",
        "kv rollback -version=1 kv/app",
        "kv metadata get kv/app",
        "kv metadata put -max-versions=2 kv/app",
        "kv metadata delete kv/app",
    ] {
        let err = fails_in_t(&env, line);
        assert!(err.contains("KV version 1"), "{line}: {err}");
    }
    let (_, body) = api.call("GET", "t/", "kv/app", None);
    assert_eq!(body["data"], json!({"user": "bob", "pw": "s4"}));

    // Not a KV mount, no mount, a folder: said before anything is written.
    let err = fails_in_t(&env, "kv put transit/keys/x a=1");
    assert!(err.contains("transit mount, not a KV mount"), "{err}");
    let err = fails_in_t(&env, "kv get nomount/x");
    assert!(
        err.contains("there is no mount `nomount/` this token may see in namespace t; `ls` shows"),
        "{err}"
    );
    let err = fails_in_t(&env, "kv get kv/");
    assert!(err.contains("not a secret"), "{err}");

    // -versions on v1 (which keeps none), destroy and metadata delete: refused before
    // the question, nothing sent.
    for line in [
        "kv delete -versions=1 kv/app",
        "kv destroy -versions=1 kv/app",
        "kv metadata delete kv/app",
    ] {
        let err = fails_in_t(&env, line);
        assert!(err.contains("KV version 1"), "{line}: {err}");
    }
    assert_eq!(api.list("t/", "kv"), ["app", "twin"]);

    // delete: for good on v1.
    in_t_quiet(&env, "kv delete kv/app");
    assert_eq!(api.list("t/", "kv"), ["twin"]);
    let err = fails_in_t(&env, "kv get kv/app");
    assert!(err.contains("no value found"), "{err}");
}

#[test]
fn no_value_of_a_kv_command_reaches_the_history_or_the_action_log() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.mount_kv("t/", "secret", "2");
    let out = env.vnsh(&[
        "--yes",
        "-c",
        "cd t; kv put secret/app pw=hunter2 user=s3cr3tuser; kv patch secret/app pw=hunter3; \
         kv metadata put -custom-metadata=owner=ownervalue secret/app",
    ]);
    ok(&out);
    let log = std::fs::read_to_string(env.vnsh_state().join("actions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    for secret in ["hunter2", "hunter3", "s3cr3tuser", "ownervalue"] {
        assert!(!log.contains(secret), "{secret} in the action log:\n{log}");
    }
    // Paths and key names stay, so the log says what was done.
    assert!(log.contains("kv put secret/app pw=***"), "{log}");
}
