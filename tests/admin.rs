//! The daily admin work against a real OpenBao dev server, in a tenant reached by `cd`:
//! `secrets`, `auth`, `policy` and `token` commands, their `--format json` output compared
//! with what the real `bao … -format=json` prints for the same request (where bao prints
//! JSON; elsewhere both print nothing), the server's state checked over HTTP; what a new
//! user does in one session; completion and help; the questions destructive commands ask.
mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Stdio;

use serde_json::{json, Value};

use common::tmux::Tmux;
use common::{json_lines, ok, stderr, Api, Env};

/// `vnsh --format json --yes -c 'cd t; LINE'`: every JSON document printed.
fn in_t(env: &Env, line: &str) -> Vec<Value> {
    json_lines(&env.vnsh(&["--format", "json", "--yes", "-c", &format!("cd t; {line}")]))
}

/// The one JSON document of a command run in `t`.
fn in_t1(env: &Env, line: &str) -> Value {
    let mut docs = in_t(env, line);
    assert_eq!(docs.len(), 1, "{line}: expected one document: {docs:?}");
    docs.remove(0)
}

/// A command in `t` that prints no JSON (as the bao command, which has no -format).
fn in_t_quiet(env: &Env, line: &str) {
    let docs = in_t(env, line);
    assert!(docs.is_empty(), "{line}: printed {docs:?}");
}

/// The text for people of a command run in `t`.
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
        String::from_utf8_lossy(&out.stdout)
    );
    stderr(&out)
}

/// `bao CMD -namespace=t -format=json ARGS`, parsed, `request_id` removed.
fn bao_t(env: &Env, cmd: &[&str], args: &[&str]) -> Value {
    let mut all = cmd.to_vec();
    all.extend(["-namespace=t", "-format=json"]);
    all.extend(args);
    env.bao_json(&all)
}

/// A mount's description without what differs between two mounts made alike.
fn alike(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["uuid", "accessor"] {
            o.remove(k);
        }
    }
    v
}

/// The mounts (`sys/mounts`) or auth methods (`sys/auth`) of `ns`, over HTTP.
fn table(api: &Api, ns: &str, what: &str) -> Value {
    api.ok("GET", ns, what, None)["data"].clone()
}

#[test]
fn secrets_enable_tune_move_disable_in_a_tenant() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t/sub");

    // What was seen: the raw API quietly ignores `options.version`, and the mount was
    // KV v1. Now refused before anything is sent, naming `secrets enable -version=2`.
    let out = env.vnsh(&["-c", "cd t; write sys/mounts/kvw type=kv options.version=2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("nothing was sent") && err.contains("-version=2"),
        "{err}"
    );
    assert!(table(&api, "t/", "sys/mounts").get("kvw/").is_none());
    // The KV v1 mount that write made, as it was (tuned to v2 below).
    api.mount("t/", "kvw", "kv", json!({}));
    // And a raw write of keys under a KV v2 data/ path names `kv put`.
    api.mount_kv("t/", "raw2", "2");
    let out = env.vnsh(&["-c", "cd t; write raw2/data/y a=b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("kv put raw2/y k=v"),
        "{}",
        stderr(&out)
    );
    // `secrets enable -version=2` makes a KV v2 mount; JSON: nothing, as bao.
    in_t_quiet(
        &env,
        "secrets enable -path=kvy -version=2 -description=team -default-lease-ttl=1h -max-lease-ttl=2h kv",
    );
    env.bao(&[
        "secrets",
        "enable",
        "-namespace=t",
        "-path=kvtwin",
        "-version=2",
        "-description=team",
        "-default-lease-ttl=1h",
        "-max-lease-ttl=2h",
        "kv",
    ]);
    let mounts = table(&api, "t/", "sys/mounts");
    assert_eq!(mounts["kvy/"]["options"]["version"], "2");
    assert_eq!(mounts["kvy/"]["config"]["default_lease_ttl"], json!(3600));
    assert_eq!(alike(&mounts["kvy/"]), alike(&mounts["kvtwin/"]));
    // `secrets list` is bao's document; -detailed shows accessors and TTLs.
    let listed = in_t1(&env, "secrets list");
    assert_eq!(listed, bao_t(&env, &["secrets", "list"], &[]));
    assert_eq!(alike(&listed["kvy/"]), alike(&listed["kvtwin/"]));
    let detailed = text_in_t(&env, "secrets list -detailed");
    assert!(
        detailed.contains("ACCESSOR") && detailed.contains("3600"),
        "{detailed}"
    );
    // The people's answer says where it went.
    let said = text_in_t(&env, "secrets enable transit");
    assert!(
        said.contains("Enabled the transit secrets engine at t/transit/"),
        "{said}"
    );
    // -plugin-name with the type `plugin`, as bao: the plugin is the type, and the path
    // defaults to its name. With another type bao would drop it unseen: refused.
    in_t_quiet(&env, "secrets enable -plugin-name=kv -version=2 plugin");
    env.bao(&[
        "secrets",
        "enable",
        "-namespace=t",
        "-path=kvplugin",
        "-plugin-name=kv",
        "-version=2",
        "plugin",
    ]);
    let mounts = table(&api, "t/", "sys/mounts");
    assert_eq!(mounts["kv/"]["type"], "kv", "{mounts}");
    assert_eq!(alike(&mounts["kv/"]), alike(&mounts["kvplugin/"]));
    let err = fails_in_t(&env, "secrets enable plugin");
    assert!(err.contains("needs -plugin-name=NAME"), "{err}");
    let err = fails_in_t(&env, "secrets enable -plugin-name=kv pki");
    assert!(err.contains("goes with the type `plugin`"), "{err}");
    assert!(table(&api, "t/", "sys/mounts").get("pki/").is_none());
    // A leading child namespace moves the mount into it.
    in_t_quiet(&env, "secrets enable -path=sub/kvs kv");
    assert!(table(&api, "t/sub/", "sys/mounts").get("kvs/").is_some());
    assert!(table(&api, "t/", "sys/mounts").get("sub/kvs/").is_none());
    // A mount path of several segments that are no namespace stays one mount here.
    in_t_quiet(&env, "secrets enable -path=team/kv kv");
    assert!(table(&api, "t/", "sys/mounts").get("team/kv/").is_some());

    // tune: the same change as bao's, the same result.
    in_t_quiet(
        &env,
        "secrets tune -max-lease-ttl=3h -description=changed kvy",
    );
    env.bao(&[
        "secrets",
        "tune",
        "-namespace=t",
        "-max-lease-ttl=3h",
        "-description=changed",
        "kvtwin",
    ]);
    let mounts = table(&api, "t/", "sys/mounts");
    assert_eq!(mounts["kvy/"]["config"]["max_lease_ttl"], json!(10800));
    assert_eq!(mounts["kvy/"]["description"], "changed");
    assert_eq!(alike(&mounts["kvy/"]), alike(&mounts["kvtwin/"]));
    // -version=2 upgrades the KV v1 mount that `write` made (the server warns that it
    // does: its warning is all the JSON there is).
    let warned = in_t(&env, "secrets tune -version=2 kvw");
    assert!(
        warned.iter().all(|w| w.get("warnings").is_some()),
        "{warned:?}"
    );
    assert_eq!(
        table(&api, "t/", "sys/mounts")["kvw/"]["options"]["version"],
        "2"
    );

    // move: within t, then into t/sub; the data moves with it.
    api.kv2_put("t/", "kvy", "app", json!({"v": "1"}));
    in_t_quiet(&env, "secrets move kvy kvz");
    let mounts = table(&api, "t/", "sys/mounts");
    assert!(mounts.get("kvy/").is_none() && mounts.get("kvz/").is_some());
    let said = text_in_t(&env, "secrets move kvz sub/kvz");
    assert!(said.contains("t/kvz/ to t/sub/kvz/"), "{said}");
    let (status, body) = api.call("GET", "t/sub/", "kvz/data/app", None);
    assert_eq!(
        (status, body["data"]["data"].clone()),
        (200, json!({"v": "1"}))
    );

    // disable: gone, and what it held with it.
    in_t_quiet(&env, "secrets disable sub/kvz");
    assert!(table(&api, "t/sub/", "sys/mounts").get("kvz/").is_none());
    let said = text_in_t(&env, "secrets disable transit");
    assert!(
        said.contains("Disabled the secrets engine at t/transit/"),
        "{said}"
    );
    assert!(table(&api, "t/", "sys/mounts").get("transit/").is_none());
    // A type the server does not know: its message, nothing mounted.
    let err = fails_in_t(&env, "secrets enable -path=nope frobnicator");
    assert!(err.contains("frobnicator"), "{err}");
    assert!(table(&api, "t/", "sys/mounts").get("nope/").is_none());
}

#[test]
fn auth_enable_tune_disable_list_in_a_tenant() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");

    in_t_quiet(
        &env,
        "auth enable -path=people -description=staff -max-lease-ttl=2h userpass",
    );
    env.bao(&[
        "auth",
        "enable",
        "-namespace=t",
        "-path=twin",
        "-description=staff",
        "-max-lease-ttl=2h",
        "userpass",
    ]);
    let auths = table(&api, "t/", "sys/auth");
    assert_eq!(auths["people/"]["type"], "userpass");
    assert_eq!(alike(&auths["people/"]), alike(&auths["twin/"]));
    let listed = in_t1(&env, "auth list");
    assert_eq!(listed, bao_t(&env, &["auth", "list"], &[]));
    let said = text_in_t(&env, "auth enable approle");
    assert!(said.contains("at t/auth/approle/"), "{said}");
    assert!(said.contains("login approle"), "{said}");

    // tune, as bao's tune of the twin; `auth/people` and `people` are the same method.
    in_t_quiet(
        &env,
        "auth tune -default-lease-ttl=1h -token-type=default-batch -listing-visibility=unauth auth/people",
    );
    env.bao(&[
        "auth",
        "tune",
        "-namespace=t",
        "-default-lease-ttl=1h",
        "-token-type=default-batch",
        "-listing-visibility=unauth",
        "twin",
    ]);
    let auths = table(&api, "t/", "sys/auth");
    assert_eq!(auths["people/"]["config"]["default_lease_ttl"], json!(3600));
    assert_eq!(alike(&auths["people/"]), alike(&auths["twin/"]));
    // The user lockout of a userpass method, as bao tunes it.
    let lockout = [
        "-user-lockout-threshold=7",
        "-user-lockout-duration=10m",
        "-user-lockout-counter-reset-duration=5m",
        "-user-lockout-disable=false",
    ];
    in_t_quiet(&env, &format!("auth tune {} people", lockout.join(" ")));
    let mut args = vec!["auth", "tune", "-namespace=t"];
    args.extend(lockout);
    args.push("twin");
    env.bao(&args);
    let tuned = |m: &str| api.ok("GET", "t/", &format!("sys/auth/{m}/tune"), None)["data"].clone();
    let ours = tuned("people");
    assert_eq!(ours["user_lockout_threshold"], json!(7), "{ours}");
    assert_eq!(ours["user_lockout_duration"], json!(600), "{ours}");
    assert_eq!(ours, tuned("twin"));
    let err = fails_in_t(&env, "auth tune -user-lockout-threshold=many people");
    assert!(err.contains("user-lockout-threshold"), "{err}");
    assert_eq!(
        in_t1(&env, "auth list"),
        bao_t(&env, &["auth", "list"], &[])
    );

    // move, within t and into a namespace below it (as `bao auth move`).
    api.mkns("t/sub");
    let said = text_in_t(&env, "auth move twin auth/twin2");
    assert!(
        said.contains("Moved the auth method t/auth/twin/ to t/auth/twin2/"),
        "{said}"
    );
    let said = text_in_t(&env, "auth move twin2 sub/twin");
    assert!(said.contains("to t/sub/auth/twin/"), "{said}");
    let auths = table(&api, "t/", "sys/auth");
    assert!(
        auths.get("twin/").is_none() && auths.get("twin2/").is_none(),
        "{auths}"
    );
    let below = table(&api, "t/sub/", "sys/auth");
    assert_eq!(below["twin/"]["type"], "userpass", "{below}");
    assert_eq!(below["twin/"]["description"], "staff", "{below}");

    // disable.
    in_t_quiet(&env, "auth disable people");
    let said = text_in_t(&env, "auth disable auth/approle");
    assert!(said.contains("t/auth/approle/"), "{said}");
    let auths = table(&api, "t/", "sys/auth");
    assert!(auths.get("people/").is_none() && auths.get("approle/").is_none());
    assert!(table(&api, "t/sub/", "sys/auth").get("twin/").is_some());
}

/// `vnsh ARGS` with `input` on a pipe as standard input (not a script: `-c` is given).
fn with_stdin(env: &Env, args: &[&str], input: &str) -> std::process::Output {
    let mut child = env
        .command(common::vnsh_bin(), env.server.token())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vnsh");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("vnsh output")
}

#[test]
fn policy_write_read_list_delete_in_a_tenant() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    let hcl = "path \"secret/data/app/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n";
    let file = env.dir.path().join("app.hcl");
    std::fs::write(&file, hcl).unwrap();

    // write from a file: no JSON (bao's `policy write` has none); the server has it.
    in_t_quiet(&env, &format!("policy write app {}", file.display()));
    let (_, body) = api.call("GET", "t/", "sys/policies/acl/app", None);
    assert_eq!(body["data"]["policy"], hcl);
    // and from standard input.
    let out = with_stdin(&env, &["-c", "cd t; policy write app2 -"], hcl);
    assert!(
        ok(&out).contains("Uploaded the policy app2 in namespace t"),
        "{}",
        ok(&out)
    );
    let (_, body) = api.call("GET", "t/", "sys/policies/acl/app2", None);
    assert_eq!(body["data"]["policy"], hcl.trim_end());

    // read and list: bao's documents.
    assert_eq!(
        in_t1(&env, "policy read app"),
        bao_t(&env, &["policy", "read"], &["app"])
    );
    assert_eq!(
        text_in_t(&env, "policy read app").trim_end(),
        hcl.trim_end()
    );
    assert_eq!(
        in_t1(&env, "policy list"),
        bao_t(&env, &["policy", "list"], &[])
    );
    assert_eq!(
        in_t1(&env, "policy list"),
        json!(["app", "app2", "default"])
    );

    // A policy that does not parse: the server's message, with where; nothing stored.
    let bad = env.dir.path().join("bad.hcl");
    std::fs::write(&bad, "path \"x\" { capabilities = [\"read\"] \n").unwrap();
    let err = fails_in_t(&env, &format!("policy write broken {}", bad.display()));
    assert!(err.contains("failed to parse policy"), "{err}");
    assert!(err.contains("At 2:"), "the line and column: {err}");
    assert!(!api
        .list("t/", "sys/policies/acl")
        .contains(&"broken".to_string()));
    // An empty file sends nothing.
    let empty = env.dir.path().join("empty.hcl");
    std::fs::write(&empty, "\n").unwrap();
    let err = fails_in_t(&env, &format!("policy write empty {}", empty.display()));
    assert!(err.contains("is empty"), "{err}");

    // delete.
    in_t_quiet(&env, "policy delete app2");
    assert_eq!(api.list("t/", "sys/policies/acl"), ["app", "default"]);
    let err = fails_in_t(&env, "policy read app2");
    assert!(err.contains("sys/policies/acl/app2"), "{err}");
}

/// `v` without the fields that differ between two tokens made alike.
fn token_alike(v: &Value) -> Value {
    let mut v = v.clone();
    v["auth"]["client_token"] = Value::Null;
    v["auth"]["accessor"] = Value::Null;
    v
}

/// A lookup without what moves with the clock (and without `id`, which vnsh never prints).
fn lookup_alike(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(d) = v["data"].as_object_mut() {
        for k in ["ttl", "id"] {
            d.remove(k);
        }
    }
    v
}

#[test]
fn token_lookup_create_revoke_in_a_tenant() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.policy(
        "t/",
        "app",
        r#"path "secret/*" { capabilities = ["read"] }"#,
    );

    // create: bao's document, the token and accessor aside.
    let flags = [
        "-policy=app",
        "-ttl=1h",
        "-display-name=ci",
        "-metadata=team=core",
    ];
    let ours = in_t1(&env, &format!("token create {}", flags.join(" ")));
    let bao = bao_t(&env, &["token", "create"], &flags);
    assert_eq!(token_alike(&ours), token_alike(&bao));
    assert_eq!(ours["auth"]["policies"], json!(["app", "default"]));
    let made = ours["auth"]["client_token"].as_str().unwrap().to_string();
    let accessor = ours["auth"]["accessor"].as_str().unwrap().to_string();
    // -orphan and -no-default-policy, as bao.
    let flags = ["-policy=app", "-orphan", "-no-default-policy"];
    let ours = in_t1(&env, &format!("token create {}", flags.join(" ")));
    assert_eq!(
        token_alike(&ours),
        token_alike(&bao_t(&env, &["token", "create"], &flags))
    );
    assert_eq!(ours["auth"]["orphan"], json!(true));

    // For people: the token is not shown; -field=token prints it alone.
    let table_text = text_in_t(&env, "token create -policy=app");
    assert!(table_text.contains("not shown"), "{table_text}");
    assert!(
        !table_text.split_whitespace().any(|w| w.starts_with("s.")),
        "a token in the table: {table_text}"
    );
    let raw = text_in_t(
        &env,
        "token create -policy=app -display-name=raw -field=token",
    );
    let raw = raw.trim();
    let (status, looked) = api.call(
        "POST",
        "t/",
        "auth/token/lookup",
        Some(json!({"token": raw})),
    );
    assert_eq!(status, 200, "{looked}");
    assert_eq!(looked["data"]["display_name"], "token-raw");

    // lookup: by accessor, of the session's own token, and of one read from a file; as
    // bao's, without `id` (the token itself).
    let ours = in_t1(&env, &format!("token lookup -accessor {accessor}"));
    let bao = bao_t(&env, &["token", "lookup"], &["-accessor", &accessor]);
    assert_eq!(lookup_alike(&ours), lookup_alike(&bao));
    assert_eq!(ours["data"]["display_name"], "token-ci");
    assert!(ours["data"].get("id").is_none());
    let ours = in_t1(&env, "token lookup");
    assert_eq!(
        lookup_alike(&ours),
        lookup_alike(&bao_t(&env, &["token", "lookup"], &[]))
    );
    let file = env.dir.path().join("made.token");
    std::fs::write(&file, format!("{made}\n")).unwrap();
    let ours = in_t1(&env, &format!("token lookup @{}", file.display()));
    let bao = bao_t(&env, &["token", "lookup"], &[&made]);
    assert_eq!(lookup_alike(&ours), lookup_alike(&bao));
    assert_eq!(
        text_in_t(
            &env,
            &format!("token lookup -accessor -field=display_name {accessor}")
        )
        .trim(),
        "token-ci"
    );

    // renew: by accessor with an increment, as bao's; the token itself is never printed
    // (bao prints it in JSON; vnsh leaves it empty).
    let ours = in_t1(
        &env,
        &format!("token renew -increment=2h -accessor {accessor}"),
    );
    let bao = bao_t(
        &env,
        &["token", "renew"],
        &["-increment=2h", "-accessor", &accessor],
    );
    assert_eq!(token_alike(&ours), token_alike(&bao));
    assert_eq!(ours["auth"]["lease_duration"], json!(7200), "{ours}");
    assert_eq!(ours["auth"]["client_token"], json!(""), "{ours}");
    // The session's own token, renewed from inside its namespace, for people.
    let short = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["app"], "ttl": "10m"})),
    );
    let short = short["auth"]["client_token"].as_str().unwrap().to_string();
    let out = env.vnsh_as(&short, &["-n", "t", "-c", "token renew -increment=30m"]);
    let said = ok(&out);
    assert!(
        said.contains("token_duration") && said.contains("1800"),
        "{said}"
    );
    assert!(
        !said.contains(&short) && !stderr(&out).contains(&short),
        "{said}"
    );
    let (_, looked) = api.call(
        "POST",
        "t/",
        "auth/token/lookup",
        Some(json!({"token": short})),
    );
    assert!(looked["data"]["ttl"].as_u64().unwrap() > 1700, "{looked}");
    let err = fails_in_t(&env, "token renew -field=token");
    assert!(err.contains("never printed"), "{err}");

    // A token typed on the line is refused before anything is sent, and not echoed.
    let err = fails_in_t(&env, &format!("token lookup {made}"));
    assert!(err.contains("never goes on a command line"), "{err}");
    assert!(!err.contains(&made), "{err}");
    // Nobody to ask in a script: -ask says how else.
    let err = fails_in_t(&env, "token lookup -ask");
    assert!(err.contains("@FILE"), "{err}");

    // revoke by accessor, from a file, and a token's own.
    in_t_quiet(&env, &format!("token revoke -accessor {accessor}"));
    let (status, _) = api.call(
        "POST",
        "t/",
        "auth/token/lookup",
        Some(json!({"token": made})),
    );
    assert_ne!(status, 200, "revoked");
    let raw_file = env.dir.path().join("raw.token");
    std::fs::write(&raw_file, raw).unwrap();
    in_t_quiet(&env, &format!("token revoke @{}", raw_file.display()));
    let (status, _) = api.call(
        "POST",
        "t/",
        "auth/token/lookup",
        Some(json!({"token": raw})),
    );
    assert_ne!(status, 200, "revoked");
    // A token of t (with the default policy, which lets a token revoke itself).
    let own = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["app"]})),
    );
    let own = own["auth"]["client_token"].as_str().unwrap().to_string();
    let out = env.vnsh_as(&own, &["--yes", "-n", "t", "-c", "token revoke -self"]);
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    ok(&out);
    let (status, _) = api.call(
        "POST",
        "t/",
        "auth/token/lookup",
        Some(json!({"token": own})),
    );
    assert_ne!(status, 200, "revoked");

    // -mode=orphan (bao's revoke-orphan): only the token; the one it created stays, as
    // an orphan.
    api.policy(
        "t/",
        "maker",
        r#"path "auth/token/create" { capabilities = ["create", "update"] }"#,
    );
    let parent = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["maker", "app"]})),
    );
    let parent = parent["auth"]["client_token"].as_str().unwrap().to_string();
    let child = Api::with_token(&env, &parent).ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["app"]})),
    );
    let child = child["auth"]["client_token"].as_str().unwrap().to_string();
    let parent_file = env.dir.path().join("parent.token");
    std::fs::write(&parent_file, &parent).unwrap();
    let said = text_in_t(
        &env,
        &format!("token revoke -mode=orphan @{}", parent_file.display()),
    );
    assert!(said.contains("stay, as orphans"), "{said}");
    let lookup = |t: &str| api.call("POST", "t/", "auth/token/lookup", Some(json!({"token": t})));
    assert_ne!(lookup(&parent).0, 200, "the parent is revoked");
    let (status, kept) = lookup(&child);
    assert_eq!(status, 200, "the child stays: {kept}");
    assert_eq!(kept["data"]["orphan"], json!(true), "{kept}");

    // -mode=path (bao's RevokePrefix): every token made by logins under an auth path,
    // and nothing else.
    api.enable_auth("t/", "people", "userpass");
    api.ok(
        "POST",
        "t/",
        "auth/people/users/alice",
        Some(json!({"password": "pw-alice", "token_policies": "app"})),
    );
    let login = api.ok(
        "POST",
        "t/",
        "auth/people/login/alice",
        Some(json!({"password": "pw-alice"})),
    );
    let alice = login["auth"]["client_token"].as_str().unwrap().to_string();
    assert_eq!(lookup(&alice).0, 200);
    let said = text_in_t(&env, "token revoke -mode=path auth/people/");
    assert!(said.contains("under auth/people/ in t"), "{said}");
    assert_ne!(lookup(&alice).0, 200, "alice's login is revoked");
    assert_eq!(lookup(&child).0, 200, "a token from elsewhere stays");
    // bao's refusals, before anything is sent.
    for (line, says) in [
        ("token revoke -mode=orphan -self", "-self takes no -mode"),
        ("token revoke -mode=path -accessor x", "not a token"),
    ] {
        let err = fails_in_t(&env, line);
        assert!(err.contains(says), "{line}: {err}");
    }

    // No token reached a state file: not the one made, not the ones read.
    let log = std::fs::read_to_string(env.vnsh_state().join("actions.jsonl")).unwrap();
    assert!(log.contains("token create"), "{log}");
    for t in [
        made.as_str(),
        raw,
        own.as_str(),
        parent.as_str(),
        alice.as_str(),
    ] {
        assert!(!log.contains(t), "a token in the action log:\n{log}");
    }
}

#[test]
fn a_new_user_does_the_daily_work_in_one_session() {
    let env = common::env();
    let api = Api::new(&env);
    let dir = env.dir.path();
    let hcl = "path \"kv/data/*\" { capabilities = [\"read\"] }\n";
    std::fs::write(dir.join("app.hcl"), hcl).unwrap();
    // `k=@file` is the file as it is: no newline, or it is part of the password.
    std::fs::write(dir.join("pw"), "alice-pw").unwrap();
    let script = format!(
        "# a tenant, its engine, its login, its policy, a secret's life\n\
         ns create acme\n\
         cd acme\n\
         secrets enable -version=2 -path=kv kv\n\
         auth enable userpass\n\
         policy write app {app}\n\
         write auth/userpass/users/alice password=@{pw} token_policies=app\n\
         kv put kv/db user=app pw=one\n\
         kv patch kv/db pw=two\n\
         kv get -field=pw kv/db\n\
         kv rollback -version=1 kv/db\n\
         kv get -field=pw kv/db\n\
         kv metadata get kv/db\n",
        app = dir.join("app.hcl").display(),
        pw = dir.join("pw").display(),
    );
    let out = env.vnsh_script(&[], &script);
    let text = ok(&out);
    let fields: Vec<&str> = text
        .lines()
        .filter(|l| *l == "one" || *l == "two")
        .collect();
    assert_eq!(fields, ["two", "one"], "{text}");

    // The server holds all of it.
    assert_eq!(api.children(""), ["acme/"]);
    assert_eq!(
        table(&api, "acme/", "sys/mounts")["kv/"]["options"]["version"],
        "2"
    );
    assert_eq!(
        table(&api, "acme/", "sys/auth")["userpass/"]["type"],
        "userpass"
    );
    let (_, p) = api.call("GET", "acme/", "sys/policies/acl/app", None);
    assert_eq!(p["data"]["policy"], hcl);
    let (_, m) = api.call("GET", "acme/", "kv/metadata/db", None);
    assert_eq!(m["data"]["current_version"], json!(3));
    let (_, d) = api.call("GET", "acme/", "kv/data/db", None);
    assert_eq!(d["data"]["data"], json!({"user": "app", "pw": "one"}));
    // alice logs in with what was written, and her policy reads the secret.
    let login = api.ok(
        "POST",
        "acme/",
        "auth/userpass/login/alice",
        Some(json!({"password": "alice-pw"})),
    );
    let alice = login["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, d) = Api::with_token(&env, &alice).call("GET", "acme/", "kv/data/db", None);
    assert_eq!(
        (status, d["data"]["data"]["pw"].clone()),
        (200, json!("one"))
    );
    // Nothing of the values in the action log.
    let log = std::fs::read_to_string(env.vnsh_state().join("actions.jsonl")).unwrap();
    assert!(
        !log.contains("alice-pw") && !log.contains("pw=one"),
        "{log}"
    );
}

/// The words `complete LINE` offers in `t`.
fn offered(env: &Env, line: &str) -> Vec<String> {
    let doc = in_t1(env, &format!("complete '{line}'"));
    doc.as_array()
        .unwrap_or_else(|| panic!("{line}: {doc}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_and_help_know_every_command() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.mount_kv("t/", "secret", "2");
    api.kv2_put("t/", "secret", "app", json!({"a": "1"}));
    api.enable_auth("t/", "people", "userpass");
    api.policy("t/", "app", r#"path "x" { capabilities = ["read"] }"#);
    let made = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["app"]})),
    );
    let accessor = made["auth"]["accessor"].as_str().unwrap().to_string();

    let has = |line: &str, want: &[&str]| {
        let words: BTreeSet<String> = offered(&env, line).into_iter().collect();
        for w in want {
            assert!(
                words.contains(*w),
                "{line:?} does not offer {w:?}: {words:?}"
            );
        }
        words
    };
    has(
        "kv ",
        &[
            "get", "put", "patch", "delete", "undelete", "destroy", "rollback", "list", "metadata",
        ],
    );
    has("kv metadata ", &["get", "put", "delete"]);
    has("kv put -", &["-cas=", "-mount=", "-field=", "-format="]);
    has("kv get -", &["-version=", "-field="]);
    has("kv get ", &["secret/"]);
    has("kv get secret/", &["secret/app"]);
    has("kv metadata get secret/", &["secret/app"]);
    let mounts = has("secrets disable ", &["secret/"]);
    assert!(
        !mounts.contains("sys/") && !mounts.contains("auth/people/"),
        "{mounts:?}"
    );
    has("secrets enable ", &["kv", "transit", "pki"]);
    has(
        "secrets enable -",
        &["-version=", "-path=", "-local", "-options="],
    );
    has("secrets ", &["list", "enable", "disable", "tune", "move"]);
    let auths = has("auth tune ", &["people/"]);
    assert!(!auths.contains("token/"), "{auths:?}");
    has("auth enable ", &["userpass", "approle"]);
    has("auth ", &["list", "enable", "disable", "tune"]);
    has("policy ", &["list", "read", "write", "delete"]);
    has("policy delete ", &["app", "default"]);
    has("token ", &["lookup", "create", "revoke"]);
    has("token lookup -accessor ", &[accessor.as_str()]);
    has(
        "token create -",
        &[
            "-policy=",
            "-ttl=",
            "-orphan",
            "-no-default-policy",
            "-field=",
        ],
    );

    // help: each command's subcommands with their flags; a subcommand's own row.
    let help = text_in_t(&env, "help kv");
    for want in [
        "kv get",
        "flags: -version= -field= -format= -mount=",
        "kv metadata put",
        "-max-versions=",
    ] {
        assert!(help.contains(want), "help kv lacks {want:?}:\n{help}");
    }
    let help = text_in_t(&env, "help kv put");
    assert!(
        help.starts_with("usage: kv put") && help.contains("-cas="),
        "{help}"
    );
    let help = text_in_t(&env, "help secrets enable");
    assert!(
        help.contains("-version=") && help.contains("-seal-wrap"),
        "{help}"
    );
    for cmd in ["secrets", "auth", "policy", "token"] {
        let help = text_in_t(&env, &format!("help {cmd}"));
        assert!(help.starts_with(&format!("usage: {cmd}")), "{help}");
    }
    assert!(text_in_t(&env, "help token create").contains("-field="));
    let out = env.vnsh(&["-c", "help kv frob"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn destructive_commands_ask_first_naming_the_full_path() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.mount_kv("t/", "secret", "2");
    api.kv2_put("t/", "secret", "app", json!({"a": "1"}));
    api.mount_kv("t/", "old", "1");
    api.ok("POST", "t/", "old/app", Some(json!({"a": "1"})));
    api.enable_auth("t/", "people", "userpass");
    api.policy("t/", "app", r#"path "x" { capabilities = ["read"] }"#);
    let made = api.ok(
        "POST",
        "t/",
        "auth/token/create",
        Some(json!({"policies": ["app"]})),
    );
    let accessor = made["auth"]["accessor"].as_str().unwrap().to_string();

    let mut cmd = env.command(common::vnsh_bin(), env.server.token());
    cmd.args(["--line", "-n", "t"]);
    let t = Tmux::builder(&cmd).size(200, 80).joined().start();
    t.ready("vnsh t>");
    let revoke = format!("token revoke -accessor {accessor}");
    let asks = [
        (
            "kv delete secret/app",
            "Delete the latest version of t/secret/app? (kv undelete brings it back)",
        ),
        // KV version 1 keeps no versions: the question says the delete is for good.
        (
            "kv delete old/app",
            "Delete t/old/app for good? Its mount is KV version 1",
        ),
        (
            "kv destroy -versions=1 secret/app",
            "Destroy version 1 of t/secret/app",
        ),
        (
            "kv metadata delete secret/app",
            "Delete t/secret/app with every version",
        ),
        (
            "secrets disable secret",
            "Disable the secrets engine at t/secret/",
        ),
        ("auth disable people", "Disable the auth method t/auth/people/"),
        // Which segments are namespaces is not asked before the question: no `auth/`
        // placed where it may be wrong.
        (
            "auth disable sub/people",
            "Disable the auth method t/sub/people/ and",
        ),
        (
            "secrets move secret moved",
            "Move the secrets engine t/secret/ to t/moved/? Its leases are revoked.",
        ),
        (
            "auth move people staff",
            "Move the auth method t/auth/people/ to t/auth/staff/? Every token it issued is revoked.",
        ),
        ("policy delete app", "Delete the policy app in namespace t?"),
        (revoke.as_str(), "Revoke the token with accessor"),
        (
            "token revoke -mode=path auth/people/",
            "Revoke every token and lease created under auth/people/ in namespace t",
        ),
        // cp that overwrites, and mv (which deletes the source), ask too (issue 17).
        (
            "cp -f secret/app old/app",
            "Copy secret/app to old/app, overwriting the keys that exist there",
        ),
        ("mv secret/app secret/moved", "Move secret/app to secret/moved"),
    ];
    for (i, (line, question)) in asks.iter().enumerate() {
        t.line(line);
        let screen = t.wait_count("[y/N]", i + 1);
        assert!(
            screen.contains(question),
            "{line}: {question:?} not asked:\n{screen}"
        );
        t.line("n");
        t.wait_count("not done.", i + 1);
        t.ready("vnsh t>");
    }
    // Nothing was done.
    let (_, old) = api.call("GET", "t/", "old/app", None);
    assert_eq!(old["data"], json!({"a": "1"}), "cp -f wrote: {old}");
    assert!(!api
        .list("t/", "secret/metadata")
        .contains(&"moved".to_string()));
    let (_, m) = api.call("GET", "t/", "secret/metadata/app", None);
    assert_eq!(m["data"]["versions"]["1"]["deletion_time"], json!(""));
    assert_eq!(m["data"]["versions"]["1"]["destroyed"], json!(false));
    assert!(table(&api, "t/", "sys/mounts").get("secret/").is_some());
    assert!(table(&api, "t/", "sys/auth").get("people/").is_some());
    assert!(api
        .list("t/", "sys/policies/acl")
        .contains(&"app".to_string()));
    let (status, _) = api.call(
        "POST",
        "t/",
        "auth/token/lookup-accessor",
        Some(json!({"accessor": accessor})),
    );
    assert_eq!(status, 200);
    // Yes does it.
    t.line("policy delete app");
    t.wait_count("[y/N]", asks.len() + 1);
    t.line("y");
    t.wait_count("Deleted the policy app", 1);
    assert!(!api
        .list("t/", "sys/policies/acl")
        .contains(&"app".to_string()));
    // What does not destroy does not ask.
    t.line("kv put secret/app a=2");
    t.wait_count("Secret Path", 1);
    let screen = t.ready("vnsh t>");
    assert_eq!(screen.matches("[y/N]").count(), asks.len() + 1, "{screen}");
}

#[test]
fn read_only_refuses_every_change_of_the_daily_work() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("t");
    api.mount_kv("t/", "secret", "2");
    api.kv2_put("t/", "secret", "app", json!({"a": "1"}));
    api.enable_auth("t/", "people", "userpass");
    api.policy("t/", "app", r#"path "x" { capabilities = ["read"] }"#);
    let file = env.dir.path().join("p.hcl");
    std::fs::write(&file, r#"path "y" { capabilities = ["read"] }"#).unwrap();
    let before = |api: &Api| {
        (
            api.list("t/", "secret/metadata"),
            api.call("GET", "t/", "secret/metadata/app", None).1["data"]["current_version"].clone(),
            table(api, "t/", "sys/mounts").as_object().map(|m| m.len()),
            table(api, "t/", "sys/auth").as_object().map(|m| m.len()),
            api.list("t/", "sys/policies/acl"),
            api.list("t/", "auth/token/accessors").len(),
        )
    };
    let was = before(&api);
    for line in [
        "kv put secret/app a=2",
        "kv patch secret/app a=2",
        "kv delete secret/app",
        "kv undelete -versions=1 secret/app",
        "kv destroy -versions=1 secret/app",
        "kv rollback -version=1 secret/app",
        "kv metadata put -max-versions=2 secret/app",
        "kv metadata delete secret/app",
        "secrets enable -path=new kv",
        "secrets disable secret",
        "secrets tune -max-lease-ttl=1h secret",
        "secrets move secret other",
        "auth enable -path=new userpass",
        "auth disable people",
        "auth tune -max-lease-ttl=1h people",
        &format!("policy write app {}", file.display()),
        "policy delete app",
        "token create -policy=app",
        "token revoke -self",
        "cp secret/app secret/copy",
        "mv secret/app secret/moved",
    ] {
        let out = env.vnsh(&["--read-only", "--yes", "-n", "t", "-c", line]);
        assert_eq!(out.status.code(), Some(1), "{line}");
        assert!(
            stderr(&out).contains("read-only"),
            "{line}: {}",
            stderr(&out)
        );
    }
    assert_eq!(before(&api), was);
    // What only reads still runs.
    for line in [
        "kv get secret/app",
        "kv list secret",
        "secrets list",
        "auth list",
        "policy list",
        "token lookup",
    ] {
        ok(&env.vnsh(&["--read-only", "-n", "t", "-c", line]));
    }
}
