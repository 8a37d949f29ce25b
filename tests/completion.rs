//! Completion against a real OpenBao tree: 6 tenants × 8 teams × 6 environments (342
//! namespaces, created concurrently over HTTP), mounts of several kinds, KV v1 and v2 keys,
//! policies. Every case goes through `complete LINE` of the real binary (`--format json`,
//! which waits for the background cache); the orderings are asserted, not only the sets.
//! The last test drives Tab in `vnsh --line` through tmux.
mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::tmux::Tmux;
use common::{json_lines, stderr, vnsh_bin, Api, Env};

const TENANTS: &[&str] = &["acme", "globex", "initech", "umbrella", "hooli", "stark"];
const TEAMS: &[&str] = &[
    "payments", "platform", "web", "data", "security", "mobile", "infra", "search",
];
const ENVS: &[&str] = &["prod", "staging", "dev", "qa", "perf", "sandbox"];

/// The whole tree: every tenant/team/env (ancestors are created on the way).
fn big_tree(api: &Api) -> usize {
    let mut leaves = Vec::new();
    for t in TENANTS {
        for m in TEAMS {
            for e in ENVS {
                leaves.push(format!("{t}/{m}/{e}"));
            }
        }
    }
    api.mkns_all(&leaves);
    let count = TENANTS.len() * (1 + TEAMS.len() * (1 + ENVS.len()));
    assert_eq!(count, 342);
    count
}

/// Every JSON document a `vnsh --format json ARGS -c SCRIPT` run prints; exit 0 and an
/// empty stderr required (completion never makes noise).
fn docs(env: &Env, args: &[&str], script: &str) -> Vec<Value> {
    docs_as(env, env.server.token(), args, script)
}

fn docs_as(env: &Env, token: &str, args: &[&str], script: &str) -> Vec<Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    all.extend(["-c", script]);
    let out = env.vnsh_as(token, &all);
    assert_eq!(stderr(&out), "", "stderr of {script:?}");
    json_lines(&out)
}

fn words_of(doc: &Value) -> Vec<String> {
    doc.as_array()
        .unwrap_or_else(|| panic!("not an array: {doc}"))
        .iter()
        .map(|w| w.as_str().expect("string").to_string())
        .collect()
}

/// The completions of `line`, best first.
fn completions(env: &Env, args: &[&str], line: &str) -> Vec<String> {
    let mut d = docs(env, args, &format!("complete '{line}'"));
    assert_eq!(d.len(), 1, "{d:?}");
    words_of(&d.remove(0))
}

/// What the last `complete` of `script` printed.
fn last_completions(env: &Env, args: &[&str], script: &str) -> Vec<String> {
    let d = docs(env, args, script);
    words_of(d.last().expect("a document"))
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

fn strs(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn pos(words: &[String], w: &str) -> usize {
    words
        .iter()
        .position(|x| x == w)
        .unwrap_or_else(|| panic!("{w} not offered: {words:?}"))
}

fn depth(w: &str) -> usize {
    w.trim_matches('/').matches('/').count()
}

/// Best first, as the ranking promises: every word that starts with `partial` comes before
/// every one that does not (an exact prefix before a fuzzy match), and within each of the
/// two groups a shallower word never follows a deeper one.
fn assert_ranked(words: &[String], partial: &str) {
    let split = words
        .iter()
        .position(|w| !w.starts_with(partial))
        .unwrap_or(words.len());
    assert!(
        words[split..].iter().all(|w| !w.starts_with(partial)),
        "a prefix match after a fuzzy one for {partial:?}: {words:?}"
    );
    for group in [&words[..split], &words[split..]] {
        for pair in group.windows(2) {
            assert!(
                depth(&pair[0]) <= depth(&pair[1]),
                "{} (deeper) before {} for {partial:?}: {words:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Namespaces: depth, relative, ../, absolute, fuzzy jump, ranking
// ---------------------------------------------------------------------------------------

#[test]
fn namespaces_at_any_depth_relative_absolute_and_fuzzy() {
    let env = common::env();
    let api = Api::new(&env);
    let started = Instant::now();
    big_tree(&api);
    eprintln!("seeded 342 namespaces in {:?}", started.elapsed());

    // Depth: the children of the namespace typed so far, shallow before deep.
    let words = completions(&env, &[], "cd acme/pa");
    assert_eq!(words[0], "acme/payments/", "{words:?}");
    assert_ranked(&words, "acme/pa");
    for e in ENVS {
        assert!(
            pos(&words, &format!("acme/payments/{e}/")) < pos(&words, "acme/platform/"),
            "prefix matches first: {words:?}"
        );
    }
    assert!(words.iter().all(|w| w.starts_with("acme/")), "{words:?}");

    let words = completions(&env, &[], "cd acme/se");
    assert_eq!(
        set(&words[..2]),
        strs(&["acme/search/", "acme/security/"]),
        "{words:?}"
    );
    assert_eq!(depth(&words[2]), 2, "{words:?}");
    assert_ranked(&words, "acme/se");

    let words = completions(&env, &[], "cd acme/");
    assert_eq!(words[0], "acme/", "{words:?}");
    let teams: BTreeSet<String> = TEAMS.iter().map(|t| format!("acme/{t}/")).collect();
    assert_eq!(set(&words[1..9]), teams, "{words:?}");
    assert_eq!(words.len(), 1 + 8 + 48, "{words:?}");
    assert_ranked(&words, "acme/");

    let words = completions(&env, &[], "cd acme/payments/pr");
    assert_eq!(words[0], "acme/payments/prod/", "{words:?}");

    // Nothing known: nothing offered, quietly.
    assert!(completions(&env, &[], "cd zzz").is_empty());

    // Relative to where the shell is.
    let words = completions(&env, &["-n", "acme"], "cd ");
    assert!(words.contains(&"../".to_string()), "{words:?}");
    let mut top: BTreeSet<String> = TEAMS.iter().map(|t| format!("{t}/")).collect();
    top.insert("../".into());
    assert_eq!(set(&words[..9]), top, "{words:?}");
    assert_eq!(words.len(), 1 + 8 + 48, "{words:?}");
    assert!(
        words
            .iter()
            .all(|w| !w.starts_with("acme") && !w.starts_with("globex")),
        "{words:?}"
    );
    let words = completions(&env, &["-n", "acme"], "cd pa");
    assert_eq!(words[0], "payments/", "{words:?}");
    assert_ranked(&words, "pa");
    let words = completions(&env, &["-n", "acme/payments"], "cd ");
    let envs: BTreeSet<String> = ENVS.iter().map(|e| format!("{e}/")).collect();
    assert_eq!(
        set(&words).difference(&envs).collect::<Vec<_>>(),
        vec!["../"]
    );

    // ../ forms: siblings, cousins, and nothing above the root.
    let words = completions(&env, &["-n", "acme/payments"], "cd ../");
    let siblings: BTreeSet<String> = TEAMS.iter().map(|t| format!("../{t}/")).collect();
    assert_eq!(set(&words[..8]), siblings, "{words:?}");
    assert!(words.iter().all(|w| w.starts_with("../")), "{words:?}");
    assert_ranked(&words, "../");
    let words = completions(&env, &["-n", "acme/payments"], "cd ../pl");
    assert_eq!(words[0], "../platform/", "{words:?}");
    assert!(words.iter().all(|w| w.starts_with("../")), "{words:?}");
    let words = completions(&env, &["-n", "acme/payments"], "cd ../../gl");
    assert_eq!(words[0], "../../globex/", "{words:?}");
    assert_ranked(&words, "../../gl");
    assert!(completions(&env, &["-n", "acme/payments"], "cd ../../../").is_empty());
    assert!(completions(&env, &[], "cd ../").is_empty());

    // Absolute forms, wherever the shell is.
    let words = completions(&env, &["-n", "acme/payments"], "cd /gl");
    assert_eq!(words[0], "/globex/", "{words:?}");
    assert!(words.iter().all(|w| w.starts_with("/globex/")), "{words:?}");
    assert_ranked(&words, "/gl");
    let words = completions(&env, &["-n", "acme/payments"], "cd /acme/pa");
    assert_eq!(words[0], "/acme/payments/", "{words:?}");
    // Every namespace matches `cd /` (342): the best 200, and a note says more match.
    let out = env.vnsh(&[
        "--format",
        "json",
        "-n",
        "hooli/web",
        "-c",
        "complete 'cd /'",
    ]);
    assert!(
        stderr(&out).contains("the 200 best completions are shown; more match"),
        "{}",
        stderr(&out)
    );
    let words = words_of(&json_lines(&out)[0]);
    assert_eq!(words.len(), 200, "{words:?}");
    for t in TENANTS {
        assert!(words.contains(&format!("/{t}/")), "{words:?}");
    }

    // Fuzzy jump to any namespace below.
    let words = completions(&env, &[], "cd pymnts");
    assert_eq!(words[0], "acme/payments/", "{words:?}");
    let payments: BTreeSet<String> = TENANTS.iter().map(|t| format!("{t}/payments/")).collect();
    assert_eq!(set(&words[..6]), payments, "{words:?}");
    let words = completions(&env, &["-n", "acme"], "cd pymnts");
    assert_eq!(words[0], "payments/", "{words:?}");
    assert!(
        words.iter().all(|w| w.starts_with("payments/")),
        "{words:?}"
    );

    // The other namespace arguments complete the same way.
    for cmd in [
        "tree",
        "describe",
        "lock",
        "unlock",
        "ns lookup",
        "ns delete",
    ] {
        let words = completions(&env, &[], &format!("{cmd} acme/pa"));
        assert_eq!(words[0], "acme/payments/", "{cmd}: {words:?}");
    }
}

#[test]
fn ranking_prefix_before_fuzzy_shallow_before_deep_recent_first() {
    let env = common::env();
    let api = Api::new(&env);
    big_tree(&api);

    // An exact prefix before a fuzzy match, even a shallower one: "search/" matches
    // "sec" only fuzzily, so it follows every "security/…".
    let words = completions(&env, &["-n", "acme"], "cd sec");
    assert_eq!(words[0], "security/", "{words:?}");
    assert!(
        pos(&words, "security/sandbox/") < pos(&words, "search/"),
        "{words:?}"
    );
    assert_ranked(&words, "sec");

    // Shallow before deep: no prefix match here; the six */data/ lead, then their children.
    let words = completions(&env, &[], "cd data");
    let datas: BTreeSet<String> = TENANTS.iter().map(|t| format!("{t}/data/")).collect();
    assert_eq!(set(&words[..6]), datas, "{words:?}");
    assert_eq!(
        words[0], "acme/data/",
        "shortest first among equals: {words:?}"
    );
    assert!(words[6..].iter().all(|w| depth(w) >= 2), "{words:?}");
    assert_ranked(&words, "data");

    // Recently used first among equals: `cd X; cd /` puts X first.
    let words = last_completions(&env, &[], "cd globex/data; cd /; complete 'cd data'");
    assert_eq!(words[0], "globex/data/", "{words:?}");
    assert_eq!(set(&words[..6]), datas, "{words:?}");

    // Among prefix matches too: perf before prod alphabetically, unless prod was used.
    let fresh = completions(&env, &[], "cd acme/payments/p");
    assert_eq!(fresh[..2], ["acme/payments/perf/", "acme/payments/prod/"]);
    let used = last_completions(
        &env,
        &[],
        "cd acme/payments/prod; cd /; complete 'cd acme/payments/p'",
    );
    assert_eq!(used[..2], ["acme/payments/prod/", "acme/payments/perf/"]);

    // In the form being typed: from acme, the recent acme/security/qa is security/qa/.
    let fresh = completions(&env, &["-n", "acme"], "cd qa");
    assert_eq!(fresh[0], "web/qa/", "{fresh:?}");
    let used = last_completions(&env, &[], "cd acme/security/qa; cd /acme; complete 'cd qa'");
    assert_eq!(used[0], "security/qa/", "{used:?}");
    assert_eq!(set(&used), set(&fresh));

    // The most recent of two comes first.
    let words = last_completions(
        &env,
        &[],
        "cd hooli/data; cd /stark/data; cd /; complete 'cd data'",
    );
    assert_eq!(words[..2], ["stark/data/", "hooli/data/"], "{words:?}");

    // fzf syntax: ^ anchors, ! excludes.
    let words = completions(&env, &["-n", "acme"], "cd ^sec");
    assert!(words.iter().all(|w| w.starts_with("sec")), "{words:?}");
    let words = completions(&env, &["-n", "acme/payments"], "cd !prod");
    assert!(!words.iter().any(|w| w.contains("prod")), "{words:?}");
    assert!(words.contains(&"qa/".to_string()), "{words:?}");
}

// ---------------------------------------------------------------------------------------
// API paths: mounts, then keys in KV v1 and v2, level by level
// ---------------------------------------------------------------------------------------

/// acme (with payments and web below) holding kv v1 at kv/, kv v2 at secret/, transit,
/// userpass and approle.
fn tenant_with_mounts(api: &Api) {
    api.mkns_all(&["acme/payments".into(), "acme/web".into()]);
    api.mount("acme/", "kv", "kv", json!({ "version": "1" }));
    api.mount("acme/", "secret", "kv", json!({ "version": "2" }));
    api.mount("acme/", "transit", "transit", json!({}));
    api.enable_auth("acme/", "userpass", "userpass");
    api.enable_auth("acme/", "approle", "approle");
    api.ok(
        "POST",
        "acme/",
        "kv/app/db",
        Some(json!({ "password": "x" })),
    );
    api.ok("POST", "acme/", "kv/top", Some(json!({ "a": "1" })));
    api.kv2_put("acme/", "secret", "root", json!({ "k": "v" }));
    api.kv2_put("acme/", "secret", "team/svc/api", json!({ "k": "v" }));
    api.kv2_put("acme/", "secret", "team/other", json!({ "k": "v" }));
}

#[test]
fn mounts_then_keys_in_kv_v1_and_v2() {
    let env = common::env();
    let api = Api::new(&env);
    tenant_with_mounts(&api);
    let acme = ["-n", "acme"];

    // First level: every mount of the namespace (as the server lists them), auth methods
    // under auth/, the usual sys paths, and the child namespaces.
    let mut mounts: Vec<String> = api.ok("GET", "acme/", "sys/mounts", None)["data"]
        .as_object()
        .expect("mounts")
        .keys()
        .cloned()
        .collect();
    mounts.extend(
        api.ok("GET", "acme/", "sys/auth", None)["data"]
            .as_object()
            .expect("auths")
            .keys()
            .map(|k| format!("auth/{k}")),
    );
    assert_eq!(mounts.len(), 9, "{mounts:?}");
    for cmd in ["read", "ls", "list", "write", "delete", "cat"] {
        let words = completions(&env, &acme, &format!("{cmd} "));
        for m in &mounts {
            assert!(words.contains(m), "{cmd}: {m} not in {words:?}");
        }
        for w in ["payments/", "web/"] {
            assert!(words.contains(&w.to_string()), "{cmd}: {words:?}");
        }
    }
    let words = completions(&env, &acme, "read ");
    assert!(words.contains(&"sys/mounts".to_string()), "{words:?}");
    assert_eq!(completions(&env, &acme, "read tr")[0], "transit/");
    let words = completions(&env, &acme, "read auth/");
    assert_eq!(
        set(&words[..3]),
        strs(&["auth/approle/", "auth/token/", "auth/userpass/"]),
        "{words:?}"
    );
    assert!(words.iter().all(|w| w.starts_with("auth/")), "{words:?}");
    let words = completions(&env, &acme, "read sys/po");
    assert!(
        words.contains(&"sys/policies/acl/".to_string()),
        "{words:?}"
    );

    // KV v1: keys level by level, as the server lists them.
    assert_eq!(api.list("acme/", "kv"), ["app/", "top"]);
    let words = completions(&env, &acme, "read kv/");
    assert_eq!(set(&words), strs(&["kv/app/", "kv/top"]));
    assert_eq!(completions(&env, &acme, "read kv/app/"), ["kv/app/db"]);
    assert_eq!(completions(&env, &acme, "read kv/t"), ["kv/top"]);
    assert_eq!(set(&completions(&env, &acme, "cat kv/")), set(&words));

    // KV v2: the sub-paths of the mount, then keys under data/ listed through metadata/.
    let words = completions(&env, &acme, "read secret/");
    for w in ["secret/data/", "secret/metadata/", "secret/destroy/"] {
        assert!(words.contains(&w.to_string()), "{words:?}");
    }
    assert_eq!(
        set(&completions(&env, &acme, "read secret/data/")),
        strs(&["secret/data/root", "secret/data/team/"])
    );
    assert_eq!(
        set(&completions(&env, &acme, "read secret/data/team/")),
        strs(&["secret/data/team/other", "secret/data/team/svc/"])
    );
    assert_eq!(
        completions(&env, &acme, "read secret/data/team/svc/"),
        ["secret/data/team/svc/api"]
    );
    assert_eq!(
        completions(&env, &acme, "read secret/metadata/te")[0],
        "secret/metadata/team/"
    );
    assert_eq!(
        completions(&env, &acme, "write secret/data/team/o"),
        ["secret/data/team/other"]
    );

    // ls and cat take KV v2 paths without data/: so do their completions.
    assert_eq!(
        set(&completions(&env, &acme, "cat secret/")),
        strs(&["secret/root", "secret/team/"])
    );
    assert_eq!(
        set(&completions(&env, &acme, "ls secret/team/")),
        strs(&["secret/team/other", "secret/team/svc/"])
    );
    assert_eq!(
        completions(&env, &acme, "cat secret/team/svc/"),
        ["secret/team/svc/api"]
    );
    // …and what they offer is what they take.
    let out = env.vnsh(&["-n", "acme", "-c", "cat secret/team/svc/api"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // From the root: a child namespace's name leads into it; a / from anywhere.
    let words = completions(&env, &[], "read acme/");
    for w in [
        "acme/secret/",
        "acme/kv/",
        "acme/auth/userpass/",
        "acme/payments/",
    ] {
        assert!(words.contains(&w.to_string()), "{words:?}");
    }
    assert_eq!(
        set(&completions(&env, &[], "read acme/secret/data/")),
        strs(&["acme/secret/data/root", "acme/secret/data/team/"])
    );
    assert_eq!(
        set(&completions(&env, &["-n", "acme/web"], "read /acme/kv/")),
        strs(&["/acme/kv/app/", "/acme/kv/top"])
    );
    // (acme/secret/root matches `t` fuzzily, after the prefix match.)
    assert_eq!(
        completions(&env, &[], "cat acme/secret/t"),
        ["acme/secret/team/", "acme/secret/root"]
    );
}

#[test]
fn policies_command_names_and_flags() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme".into()]);
    api.policy(
        "acme/",
        "reader",
        r#"path "secret/*" { capabilities = ["read"] }"#,
    );
    api.policy(
        "acme/",
        "ops",
        r#"path "sys/*" { capabilities = ["read"] }"#,
    );

    // Policy names where a policy is expected, from the namespace's own list.
    let server = api.list("acme/", "sys/policies/acl");
    assert_eq!(server, ["default", "ops", "reader"]);
    let words = completions(&env, &["-n", "acme"], "policy read ");
    assert_eq!(set(&words), set(&server));
    assert_eq!(
        completions(&env, &["-n", "acme"], "policy read re")[0],
        "reader"
    );
    let root = completions(&env, &[], "policy read ");
    assert_eq!(set(&root), strs(&["default", "root"]));
    assert_eq!(
        completions(&env, &[], "policy "),
        ["list", "read", "write", "delete"]
    );

    // Command names.
    let words = completions(&env, &[], "");
    for c in [
        "cd", "ls", "tree", "ns", "describe", "find", "complete", "refresh",
    ] {
        assert!(words.contains(&c.to_string()), "{words:?}");
    }
    assert_eq!(completions(&env, &[], "des")[0], "describe");
    assert_eq!(
        set(&completions(&env, &[], "pol")[..2]),
        strs(&["policies", "policy"])
    );
    assert_eq!(
        set(&completions(&env, &[], "ns ")),
        strs(&[
            "list",
            "scan",
            "lookup",
            "create",
            "patch",
            "delete",
            "seal",
            "unseal",
            "seal-status",
            "delete-sealed"
        ])
    );
    assert_eq!(completions(&env, &[], "ns lo")[0], "lookup");
    assert_eq!(completions(&env, &[], "namespace cr")[0], "create");

    // Flags.
    let words = completions(&env, &[], "tree -");
    assert_eq!(words, ["-d", "--seal", "--mounts"]);
    assert_eq!(completions(&env, &[], "tree acme --m"), ["--mounts"]);
    assert_eq!(completions(&env, &[], "tokens -"), ["-l"]);
    assert_eq!(completions(&env, &[], "ns list -"), ["-detailed"]);
    assert_eq!(
        completions(&env, &[], "unlock acme --"),
        ["--key", "--mine"]
    );
    // Nothing after a command that takes nothing.
    assert!(completions(&env, &[], "pwd ").is_empty());
}

// ---------------------------------------------------------------------------------------
// The cache: refresh, invalidation, tokens that may not list
// ---------------------------------------------------------------------------------------

/// A `vnsh --format json` reading its script from a pipe, one line at a time, so the test
/// can act between two commands.
struct Piped {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Piped {
    fn start(env: &Env) -> Piped {
        let mut child = env
            .command(vnsh_bin(), env.server.token())
            .args(["--format", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vnsh");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Piped { child, lines }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write a command");
        stdin.flush().expect("flush");
    }

    /// Send `complete 'LINE'` and read its answer.
    fn complete(&mut self, line: &str) -> Vec<String> {
        self.send(&format!("complete '{line}'"));
        let answer = self
            .lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no answer to complete {line:?}: {e}"));
        let doc: Value = serde_json::from_str(&answer).expect("JSON");
        words_of(&doc)
    }

    fn finish(mut self) -> Output {
        drop(self.child.stdin.take());
        self.child.wait_with_output().expect("vnsh output")
    }
}

#[test]
fn refresh_shows_what_others_created_and_own_changes_need_none() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/payments".into(), "acme/web".into()]);

    // The tree is cached: a namespace created by another client (bao) appears after
    // `refresh`, not before.
    let mut sh = Piped::start(&env);
    assert!(sh.complete("cd newt").is_empty());
    assert_eq!(sh.complete("cd acme/p")[0], "acme/payments/");
    env.bao(&["namespace", "create", "newteam"]);
    env.bao(&["namespace", "create", "-namespace=acme", "newapp"]);
    assert!(sh.complete("cd newt").is_empty(), "the cache was not used");
    sh.send("refresh");
    assert_eq!(sh.complete("cd newt"), ["newteam/"]);
    assert_eq!(sh.complete("cd acme/newa"), ["acme/newapp/"]);
    // Mounts and keys are cached the same way and reloaded too.
    assert!(!sh.complete("read ").contains(&"later/".to_string()));
    api.mount("", "later", "kv", json!({ "version": "1" }));
    assert!(!sh.complete("read ").contains(&"later/".to_string()));
    sh.send("refresh");
    assert!(sh.complete("read ").contains(&"later/".to_string()));
    let out = sh.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    // The shell's own `ns create` invalidates the tree: no refresh needed.
    let d = docs(
        &env,
        &[],
        "complete 'cd fresh'; ns create freshteam; complete 'cd fresh'; \
         cd acme; ns create freshapp; complete 'cd fresh'; complete 'cd /fresh'",
    );
    assert_eq!(d.len(), 6, "{d:?}");
    assert_eq!(d[0], json!([]));
    assert_eq!(d[1]["path"], json!("freshteam/"));
    assert_eq!(words_of(&d[2])[0], "freshteam/");
    assert_eq!(d[3]["path"], json!("acme/freshapp/"));
    assert_eq!(words_of(&d[4]), ["freshapp/"]);
    assert_eq!(words_of(&d[5])[0], "/freshteam/");
    // A mount written by the shell shows up too (written paths invalidate mounts and keys).
    let d = docs(
        &env,
        &["-n", "acme"],
        "complete 'read own'; write sys/mounts/own type=kv; complete 'read own'",
    );
    assert_eq!(d.last(), Some(&json!(["own/"])), "{d:?}");
}

#[test]
fn a_token_that_may_not_list_gets_nothing_and_no_noise() {
    let env = common::env();
    let api = Api::new(&env);
    big_tree(&api);
    api.policy(
        "",
        "kv-only",
        r#"path "secret/*" { capabilities = ["read"] }"#,
    );
    let token = api.token("", &["kv-only"]);
    // Sure enough, it may not list.
    let (status, _) = Api::with_token(&env, &token).call("LIST", "", "sys/namespaces", None);
    assert_eq!(status, 403);

    for line in [
        "cd ",
        "cd ac",
        "cd acme/pa",
        "cd /",
        "cd pymnts",
        "tree ",
        "read ",
        "read secret/",
        "read secret/data/",
        "read acme/",
        "cat secret/",
        "policy read ",
        "ns lookup a",
    ] {
        let words = words_of(&docs_as(&env, &token, &[], &format!("complete '{line}'"))[0]);
        assert!(
            !words.iter().any(|w| TENANTS.iter().any(|t| w.contains(t))),
            "{line:?}: {words:?}"
        );
        assert!(
            words
                .iter()
                .all(|w| w == "/" || line.starts_with("read ") || line.starts_with("cat ")),
            "{line:?}: {words:?}"
        );
    }
    // Commands and flags still complete: they need no server.
    let words = words_of(&docs_as(&env, &token, &[], "complete 'tree -'")[0]);
    assert_eq!(words, ["-d", "--seal", "--mounts"]);
}

// ---------------------------------------------------------------------------------------
// Tab in line mode, in a real terminal (tmux)
// ---------------------------------------------------------------------------------------

/// `vnsh --line` in a real terminal: 100×40, xterm-256color, the test's environment.
fn start_line_mode(env: &Env) -> Tmux {
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.arg("--line").env("TERM", "xterm-256color");
    Tmux::builder(&cmd).size(100, 40).start()
}

/// Whether a screen line starts with `prompt` (tmux drops the trailing blank).
fn has_prompt(line: &str, prompt: &str) -> bool {
    line.trim_end().starts_with(prompt.trim_end())
}

/// The last screen line that starts with `prompt`.
fn prompt_line(screen: &str, prompt: &str) -> Option<String> {
    screen
        .lines()
        .rfind(|l| has_prompt(l, prompt))
        .map(|l| l.trim_end().to_string())
}

/// The words rustyline lists below the line being edited, in the order it lays them out
/// (column by column, like ls).
fn listed_words(screen: &str, prompt_line_text: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.trim_end() == prompt_line_text)
        .expect("the prompt line");
    // The list is printed under the line being edited, which is then drawn again.
    let start = lines[..at]
        .iter()
        .rposition(|l| l.trim_end() == prompt_line_text)
        .expect("the line being edited, above the list");
    let rows: Vec<Vec<&str>> = lines[start + 1..at]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .filter(|r: &Vec<&str>| !r.is_empty())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for c in 0..cols {
        for r in &rows {
            if let Some(w) = r.get(c) {
                out.push(w.to_string());
            }
        }
    }
    out
}

#[test]
fn tab_completes_in_line_mode_in_a_real_terminal() {
    let env = common::env();
    let api = Api::new(&env);
    big_tree(&api);
    let tmux = start_line_mode(&env);
    tmux.wait_for("the prompt", |s| prompt_line(s, "vnsh /> ").is_some());

    // `cd ac` + Tab: the line becomes `cd acme/`, although fuzzy matches exist too.
    tmux.type_text("cd ac");
    tmux.wait_for("the typed text", |s| {
        prompt_line(s, "vnsh /> ").as_deref() == Some("vnsh /> cd ac")
    });
    tmux.keys(&["Tab"]);
    tmux.wait_for("cd acme/", |s| {
        prompt_line(s, "vnsh /> ").as_deref() == Some("vnsh /> cd acme/")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the prompt in acme", |s| {
        prompt_line(s, "vnsh acme> ").is_some()
    });

    // Several matches: Tab Tab lists them, best first. Having been in security/qa makes it
    // the best of the `se` matches below acme.
    tmux.type_text("cd security/qa");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the prompt in acme/security/qa", |s| {
        prompt_line(s, "vnsh acme/security/qa> ").is_some()
    });
    tmux.type_text("cd /acme");
    tmux.keys(&["Enter"]);
    let prompt = "vnsh acme> ";
    tmux.wait_for("back in acme", |s| {
        s.lines().filter(|l| has_prompt(l, prompt)).count() >= 2
    });
    tmux.type_text("cd se");
    tmux.keys(&["Tab"]);
    let edited = format!("{prompt}cd se");
    tmux.wait_for("the line unchanged (no longer common prefix)", |s| {
        prompt_line(s, prompt).as_deref() == Some(edited.as_str())
    });
    tmux.keys(&["Tab"]);
    let screen = tmux.wait_for("the list of matches", |s| {
        s.contains("security/prod/") && s.lines().filter(|l| l.trim_end() == edited).count() >= 2
    });
    let listed = listed_words(&screen, &edited);
    assert_eq!(
        listed.first().map(String::as_str),
        Some("security/qa/"),
        "recently used first:\n{screen}"
    );
    // The same words in the same order as `complete` gives for the line (Tab keeps
    // those that extend the typed word).
    tmux.keys(&["C-u"]);
    tmux.type_text("complete 'cd se'");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the complete output", |s| {
        s.lines()
            .any(|l| l.trim_end() == format!("{prompt}complete 'cd se'"))
            && s.lines().filter(|l| has_prompt(l, prompt)).count() >= 4
    });
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.trim_end() == format!("{prompt}complete 'cd se'"))
        .expect("the complete line");
    let printed: Vec<String> = lines[at + 1..]
        .iter()
        .take_while(|l| !has_prompt(l, prompt))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && l.starts_with("se"))
        .collect();
    assert_eq!(listed, printed, "the list follows the ranking:\n{screen}");
    assert!(listed.len() >= 14, "{listed:?}");
    assert!(listed.iter().all(|w| w.starts_with("se")), "{listed:?}");

    // A fuzzy jump with a single match replaces the word.
    tmux.type_text("cd pymnts");
    tmux.keys(&["Tab"]);
    tmux.wait_for("cd payments/", |s| {
        prompt_line(s, prompt).as_deref() == Some("vnsh acme> cd payments/")
    });
    tmux.keys(&["C-u", "C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}
