//! Every namespace state the server has, against a real OpenBao (2.7.2, and 2.6.2 with
//! VNSH_TEST_BAO): sealable namespaces from `ns create -key-shares` to sealed again, their
//! marks in `ls`, `tree`, `locks`, `describe` and the prompt, the errors inside and below a
//! sealed one, and key shares that are shown once and kept nowhere.

mod common;

use std::fs;

use common::tmux::Tmux;
use common::{json_lines, ok, stderr, vnsh_bin, Api, Env};
use serde_json::{json, Value};

/// The one JSON document of `vnsh --format json ARGS`.
fn vj1(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let mut docs = json_lines(&env.vnsh(&all));
    assert_eq!(docs.len(), 1, "expected one JSON document: {docs:?}");
    docs.remove(0)
}

/// Create a sealable namespace `name` in `parent` over HTTP; its key shares.
fn sealable(api: &Api, parent: &str, name: &str, shares: u32, threshold: u32) -> Vec<String> {
    let seal = format!("seal \"shamir\" {{\n  shares = {shares}\n  threshold = {threshold}\n}}");
    let body = api.ok(
        "POST",
        parent,
        &format!("sys/namespaces/{name}"),
        Some(json!({ "seal": seal })),
    );
    body["data"]["key_shares"]
        .as_array()
        .expect("key_shares")
        .iter()
        .map(|k| k.as_str().expect("share").to_string())
        .collect()
}

/// The line of `text` that names `name/` (a row of `ls`, a branch of `tree`).
fn line_of<'a>(text: &'a str, name: &str) -> &'a str {
    let want = format!("{name}/");
    text.lines()
        .find(|l| {
            l.trim_start_matches(['│', ' ', '├', '└', '─'])
                .split_whitespace()
                .next()
                == Some(want.as_str())
        })
        .unwrap_or_else(|| panic!("no line for {name}/ in:\n{text}"))
}

/// What bao prints as a namespace's seal status in JSON: `seal-status -format=json`
/// (2.7), or — where `seal-status` has no `-format` (2.6) — the same document from
/// `unseal -reset -format=json`, which changes nothing when no share was entered.
fn bao_seal_status(env: &Env, name: &str) -> Value {
    let out = env.bao_raw(
        env.server.token(),
        &["namespace", "seal-status", "-format=json", name],
    );
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        assert!(
            stderr(&out).contains("flag provided but not defined: -format"),
            "{}",
            stderr(&out)
        );
        env.bao(&["namespace", "unseal", "-reset", "-format=json", name])
    };
    serde_json::from_str(&text).expect("bao printed JSON")
}

#[test]
fn a_sealable_namespace_from_create_to_sealed_again() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("plain");

    // Created sealed, with JSON of the shape bao prints for the same request.
    let created = vj1(
        &env,
        &[
            "-c",
            "ns create sealy -key-shares=1 -key-threshold=1 team=a",
        ],
    );
    let bao = env.bao_json(&[
        "namespace",
        "create",
        "-format=json",
        "-key-shares=1",
        "-key-threshold=1",
        "-custom-metadata=team=a",
        "other",
    ]);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&created), keys(&bao), "{created}\n{bao}");
    for same in ["custom_metadata", "key_threshold", "locked", "tainted"] {
        assert_eq!(created[same], bao[same], "{same}");
    }
    assert_eq!(created["path"], "sealy/");
    let share = created["key_shares"][0]
        .as_str()
        .expect("one share")
        .to_string();

    // Shown sealed where its state is shown.
    let ls = ok(&env.vnsh(&["-c", "ls"]));
    assert!(line_of(&ls, "sealy").ends_with("sealed"), "{ls}");
    assert!(!line_of(&ls, "plain").contains("sealed"), "{ls}");
    for flags in [&[][..], &["--no-scan"][..]] {
        let mut args = flags.to_vec();
        args.extend(["-c", "tree"]);
        let tree = ok(&env.vnsh(&args));
        assert!(
            line_of(&tree, "sealy").ends_with("sealy/  [sealed]"),
            "{flags:?}:\n{tree}"
        );
        assert!(line_of(&tree, "plain").ends_with("plain/"), "{tree}");
    }
    let listed = vj1(&env, &["-c", "ls"]);
    assert_eq!(listed["namespaces"]["sealy/"]["locked"], false, "{listed}");

    // An error inside it names it, and the command that unseals it.
    let out = env.vnsh(&["-c", "cd sealy; ls"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("namespace sealy is sealed"), "{err}");
    assert!(err.contains("`cd /; ns unseal sealy`"), "{err}");
    assert!(!err.contains("the server is sealed"), "{err}");

    // Unsealed with its share: the status bao prints for it.
    let unsealed = vj1(&env, &["-c", &format!("ns unseal sealy {share}")]);
    assert_eq!(unsealed["sealed"], false, "{unsealed}");
    assert_eq!(unsealed, bao_seal_status(&env, "sealy"));
    let text = ok(&env.vnsh(&["-c", "ns seal-status sealy"]));
    assert!(text.contains("unsealed"), "{text}");

    // Used: a mount and a secret inside it.
    let out = env.vnsh(&[
        "-c",
        "cd sealy; write sys/mounts/kv type=kv; write kv/x a=1; read kv/x",
    ]);
    assert!(ok(&out).contains('1'), "{}", stderr(&out));
    let ls = ok(&env.vnsh(&["-c", "ls"]));
    assert!(!line_of(&ls, "sealy").contains("sealed"), "{ls}");

    // Sealed again (it asks first: --yes), and shown so.
    let out = env.vnsh(&["--yes", "-c", "ns seal sealy"]);
    assert!(ok(&out).contains("sealed"), "{}", stderr(&out));
    let status = vj1(&env, &["-c", "ns seal-status sealy"]);
    assert_eq!(status["sealed"], true);
    assert_eq!(status, bao_seal_status(&env, "sealy"));
    let ls = ok(&env.vnsh(&["-c", "ls"]));
    assert!(line_of(&ls, "sealy").ends_with("sealed"), "{ls}");
    let out = env.vnsh(&["-c", "read /sealy/kv/x"]);
    assert!(
        stderr(&out).contains("namespace sealy is sealed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unseal_shows_progress_and_reset_starts_again() {
    let env = common::env();
    let api = Api::new(&env);
    let shares = sealable(&api, "", "vault3", 3, 2);

    let out = ok(&env.vnsh(&["-c", &format!("ns unseal vault3 {}", shares[0])]));
    assert!(out.contains("1/2"), "{out}");
    assert!(out.contains("sealed"), "{out}");
    let status = vj1(&env, &["-c", "ns seal-status vault3"]);
    assert_eq!(
        (status["progress"].as_u64(), status["t"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(!status["nonce"].as_str().unwrap_or_default().is_empty());

    let reset = vj1(&env, &["-c", "ns unseal -reset vault3"]);
    assert_eq!(reset["progress"], 0, "{reset}");
    assert_eq!(reset["sealed"], true);

    let script = format!(
        "ns unseal vault3 {}\nns unseal vault3 {}\n",
        shares[1], shares[2]
    );
    let out = env.vnsh_script(&[], &script);
    let text = ok(&out);
    assert!(text.contains("1/2"), "{text}");
    assert!(text.contains("unsealed"), "{text}");
    assert_eq!(vj1(&env, &["-c", "ns seal-status vault3"])["sealed"], false);

    // A share is never asked where no one can type it: the error says how to give it.
    let out = env.vnsh(&["-c", "ns unseal vault3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ns unseal vault3 KEY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn key_shares_are_shown_once_and_kept_nowhere() {
    let env = common::env();
    // Table mode: the shares and the warning that they are the only copy.
    let out = env.vnsh(&["-c", "ns create keep -key-shares=3 -key-threshold=2"]);
    let text = ok(&out);
    let all = format!("{text}{}", stderr(&out));
    assert!(all.contains("only copy"), "{all}");
    let shares: Vec<String> = vj1(
        &env,
        &["-c", "ns create keep2 -key-shares=2 -key-threshold=2"],
    )["key_shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| s.as_str().expect("share").to_string())
        .collect();
    assert_eq!(shares.len(), 2);
    // Each share of `keep` is in the table.
    let first_share = text
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.len() >= 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .unwrap_or_else(|| panic!("no share in:\n{text}"))
        .to_string();

    // Line mode: a share typed at the hidden prompt; history, the action log and every
    // other state file hold none of them.
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.args(["--line"]).env("TERM", "xterm-256color");
    let t = Tmux::builder(&cmd).size(120, 30).start();
    t.ready("vnsh />");
    t.line("cd keep2");
    t.ready("vnsh keep2 [sealed]>");
    t.line("cd /");
    t.ready("vnsh />");
    t.line("ns unseal keep2");
    t.wait_for("the hidden prompt", |s| s.contains("Key share for keep2"));
    t.line(&shares[0]);
    t.wait_for("progress", |s| s.contains("1/2"));
    t.ready("vnsh />");
    let screen = t.screen();
    assert!(
        !screen.contains(&shares[0]),
        "the share was echoed:\n{screen}"
    );
    t.line(&format!("ns unseal keep2 {}", shares[1]));
    t.wait_for("unsealed", |s| s.contains("unsealed"));
    t.ready("vnsh />");
    t.line("cd keep2");
    t.ready("vnsh keep2>");
    // Sealing and deleting a sealed namespace ask first; "n" leaves it as it is.
    t.line("cd /");
    // Three prompts of `/` were on screen before this one.
    t.wait_count("vnsh />", 4);
    t.line("ns seal keep2");
    t.wait_for("the question", |s| s.contains("Seal namespace keep2?"));
    t.line("n");
    t.wait_for("not done", |s| s.contains("not done."));
    t.line("ns delete-sealed keep");
    t.wait_for("the question", |s| {
        s.contains("Delete sealed namespace keep")
    });
    t.line("n");
    t.wait_count("not done.", 2);
    t.keys(&["C-d"]);
    t.wait_for("vnsh to exit", |s| {
        !s.contains("vnsh keep2>") || s.contains("exit")
    });

    let api = Api::new(&env);
    assert!(api.children("").contains(&"keep/".to_string()));
    assert_eq!(vj1(&env, &["-c", "ns seal-status keep2"])["sealed"], false);
    let history = fs::read_to_string(env.vnsh_state().join("history")).unwrap_or_default();
    assert!(history.contains("ns unseal keep2"), "{history}");
    let mut kept = String::new();
    for e in fs::read_dir(env.vnsh_state()).expect("state dir").flatten() {
        kept.push_str(&String::from_utf8_lossy(
            &fs::read(e.path()).unwrap_or_default(),
        ));
    }
    for share in shares.iter().chain([&first_share]) {
        assert!(!kept.contains(share.as_str()), "a share was kept:\n{kept}");
    }
}

#[test]
fn sealing_and_deleting_sealed_check_what_they_can() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns("plain");
    sealable(&api, "", "doomed", 1, 1);
    sealable(&api, "", "parent", 1, 1);
    // A child inside `parent` needs it unsealed: made before it was sealed.
    let shares = sealable(&api, "", "kin", 1, 1);
    api.ok(
        "PUT",
        "",
        "sys/namespaces/kin/unseal",
        Some(json!({ "key": shares[0] })),
    );
    api.mkns_all_in("kin/", &["kid".to_string()]);
    api.ok("PUT", "", "sys/namespaces/kin/seal", None);

    // A namespace made without a seal cannot be sealed: said before anything is sent
    // (the server would answer "204 No Content" and do nothing).
    let out = env.vnsh(&["--yes", "-c", "ns seal plain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not sealable"), "{}", stderr(&out));

    // With children it needs -force; with it, the whole tree goes.
    let out = env.vnsh(&["--yes", "-c", "ns delete-sealed kin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-force"), "{}", stderr(&out));
    let out = env.vnsh(&["--yes", "-c", "ns delete-sealed -force kin"]);
    assert!(ok(&out).contains("deletion scheduled"), "{}", stderr(&out));
    let out = env.vnsh(&["--yes", "--format", "json", "-c", "ns delete-sealed doomed"]);
    assert_eq!(ok(&out).trim(), "", "bao prints no JSON for delete-sealed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while api
        .children("")
        .iter()
        .any(|c| c == "kin/" || c == "doomed/")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            api.children("")
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // `ns delete` of a sealed namespace: named, with both ways out.
    sealable(&api, "", "shut", 1, 1);
    let out = env.vnsh(&["--yes", "-c", "ns delete shut"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("namespace shut is sealed"), "{err}");
    assert!(err.contains("ns delete-sealed shut"), "{err}");
    // Not sealed: the server's refusal, said as it is.
    let out = env.vnsh(&["--yes", "-c", "ns delete-sealed plain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not sealed"), "{}", stderr(&out));
}

#[test]
fn below_a_sealed_namespace_the_error_names_it() {
    let env = common::env();
    let api = Api::new(&env);
    let shares = sealable(&api, "", "outer", 1, 1);
    api.ok(
        "PUT",
        "",
        "sys/namespaces/outer/unseal",
        Some(json!({ "key": shares[0] })),
    );
    api.mkns_all_in("outer/", &["inner".to_string()]);
    api.ok("PUT", "", "sys/namespaces/outer/seal", None);
    for args in [
        &["-c", "cd outer/inner"][..],
        &["-n", "outer/inner", "-c", "pwd"][..],
        &["-c", "read /outer/inner/sys/mounts"][..],
    ] {
        let out = env.vnsh(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("namespace outer is sealed"), "{args:?}: {err}");
        assert!(err.contains("ns unseal outer"), "{args:?}: {err}");
    }
    // The tree cannot see inside it, and says why.
    let tree = ok(&env.vnsh(&["-c", "tree"]));
    assert!(line_of(&tree, "outer").ends_with("[sealed]"), "{tree}");
    assert!(!tree.contains("inner"), "{tree}");
}

#[test]
fn locks_shows_locked_sealed_and_being_deleted() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["open".into(), "frozen".into(), "t/deep".into()]);
    sealable(&api, "t/", "vault", 1, 1);
    let _key = api.lock("", "frozen");

    let text = ok(&env.vnsh(&["-c", "locks"]));
    assert!(line_of(&text, "frozen").contains("locked"), "{text}");
    assert!(line_of(&text, "t/vault").contains("sealed"), "{text}");
    assert!(!text.contains("open/"), "{text}");
    assert!(!text.contains("t/deep/"), "{text}");
    let doc = vj1(&env, &["-c", "locks"]);
    let rows = doc.as_array().expect("array");
    let row = |p: &str| {
        rows.iter()
            .find(|r| r["path"] == p)
            .unwrap_or_else(|| panic!("no {p} in {doc}"))
    };
    assert_eq!(row("frozen/")["locked"], true);
    assert_eq!(row("frozen/")["sealed"], false);
    assert_eq!(row("t/vault/")["sealed"], true);
    assert_eq!(row("t/vault/")["locked"], false);
    assert_eq!(row("t/vault/")["being_deleted"], false);

    // describe says it too.
    let d = ok(&env.vnsh(&["-c", "describe t/vault"]));
    assert!(d.contains("sealed"), "{d}");
    let d = vj1(&env, &["-c", "describe t"]);
    assert_eq!(d["children"]["vault/"]["sealed"], true, "{d}");
    let d = vj1(&env, &["-c", "describe open"]);
    assert_eq!(d["seal"]["sealable"], false, "{d}");
}

#[test]
fn a_big_tree_asks_seal_states_only_when_told() {
    let env = common::env();
    let api = Api::new(&env);
    let many: Vec<String> = (0..300).map(|i| format!("leaf{i:03}")).collect();
    api.mkns_all(&many);
    sealable(&api, "", "zz-sealed", 1, 1);
    // Over the limit: no request per namespace, and the note says how to ask them all.
    let out = env.vnsh(&["-c", "tree"]);
    let tree = ok(&out);
    assert!(!line_of(&tree, "zz-sealed").contains("[sealed]"), "{tree}");
    assert!(
        stderr(&out).contains("seal state of 301 namespaces not asked")
            && stderr(&out).contains("tree --seal"),
        "{}",
        stderr(&out)
    );
    let out = env.vnsh(&["-c", "tree --seal"]);
    let tree = ok(&out);
    assert!(line_of(&tree, "zz-sealed").ends_with("[sealed]"), "{tree}");
    assert!(!line_of(&tree, "leaf000").contains("sealed"), "{tree}");
    assert_eq!(stderr(&out), "");
    // `locks` always asks: it is the view for an incident.
    let text = ok(&env.vnsh(&["-c", "locks"]));
    assert!(line_of(&text, "zz-sealed").contains("sealed"), "{text}");
}
