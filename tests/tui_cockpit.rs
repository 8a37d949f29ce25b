//! The TUI as an operator's cockpit, end to end: the real binary in a real terminal
//! (tmux, xterm-256color) against real OpenBao dev servers (issue 14). Every command name
//! typed after each focus change arrives whole; an unbracketed 20,000-character paste
//! lands whole and a multi-line one runs nothing unseen; `cd /ac` + Tab from
//! `initech/legacy` gives `/acme/`; a lock from the tree goes through its dialog and the
//! key store; a killed server is said so within 5 s and a new, empty one at the same
//! address replaces the tree; secret values are masked until revealed. The screen is
//! polled with a timeout, never read after a fixed sleep.
mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{vnsh_bin, Api, Env};
use serde_json::json;

/// `vnsh ARGS` in tmux at `cols`×`rows` with the test's environment.
fn start(env: &Env, cols: u16, rows: u16, args: &[&str]) -> Tmux {
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.env("TERM", "xterm-256color").args(args);
    Tmux::builder(&cmd).size(cols, rows).start()
}

/// The command line: the screen's line that starts with `prompt> `.
fn input_line(screen: &str, prompt: &str) -> Option<String> {
    let start = format!("{prompt}>");
    screen
        .lines()
        .find(|l| l.starts_with(&start))
        .map(|l| l.trim_end().to_string())
}

/// The tree pane is on screen and lists `what`.
fn tree_shows(screen: &str, what: &str) -> bool {
    screen.contains("Namespaces") && screen.contains(what)
}

/// After each way of moving the focus, every command name typed reaches the command line
/// whole (none of its letters taken as a pane key).
#[test]
fn every_command_name_arrives_whole_after_each_focus_change() {
    let env = common::env();
    Api::new(&env).mkns_all(&["acme/team".to_string(), "globex".to_string()]);
    let tmux = start(&env, 120, 30, &[]);
    tmux.wait_for("the tree and the prompt", |s| {
        tree_shows(s, "globex/") && input_line(s, "/").is_some()
    });
    let names: Vec<&str> = vnsh::engine::commands::table()
        .iter()
        .map(|c| c.name)
        .collect();
    // (what, keys that move the focus, the prompt after it)
    let changes: [(&str, &[&str], &str); 4] = [
        ("Tab into the tree", &["Tab"], "/"),
        ("Tab Tab into the responses", &["Tab", "Tab"], "/"),
        (
            "the tree's cursor moved",
            &["Tab", "Down", "Up", "Right", "Left"],
            "/",
        ),
        (
            "Enter on acme in the tree",
            &["Tab", "Down", "Enter"],
            "acme",
        ),
    ];
    for (what, keys, prompt) in changes {
        for name in &names {
            tmux.keys(keys);
            if keys.contains(&"Enter") {
                tmux.wait_for("the cd from the tree", |s| {
                    input_line(s, prompt).is_some() && !s.contains("running:")
                });
            }
            tmux.type_text(name);
            let want = format!("{prompt}> {name}");
            tmux.wait_for(&format!("{name:?} whole after {what}"), |s| {
                input_line(s, prompt).as_deref() == Some(want.as_str())
            });
            tmux.keys(&["C-u"]);
            if keys.contains(&"Enter") {
                // Back to the root for the next round, as a command line.
                tmux.type_text("cd /");
                tmux.keys(&["Enter"]);
                tmux.wait_for("back in the root", |s| {
                    input_line(s, "/").is_some_and(|l| l == "/>") && !s.contains("running:")
                });
            }
        }
    }
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}

/// Paste `text` into the pane as a terminal without bracketed paste does: `paste-buffer`
/// without `-p` writes it as typed characters, newlines as Enter, no markers.
fn paste(tmux: &Tmux, env: &Env, text: &str) {
    let file = env.dir.path().join("paste.txt");
    std::fs::write(&file, text).expect("paste file");
    tmux.ok(&["load-buffer", file.to_str().expect("utf-8")]);
    tmux.ok(&["paste-buffer", "-t", &tmux.session]);
}

/// 20,000 characters pasted without bracketed-paste markers land in the command line
/// whole and at once; Enter sends them. Lines pasted run nothing until Enter.
#[test]
fn an_unbracketed_paste_lands_whole_and_runs_nothing_unseen() {
    let env = common::env();
    let api = Api::new(&env);
    api.mount_kv("", "kv1", "1");
    let tmux = start(&env, 100, 30, &[]);
    tmux.wait_for("the prompt", |s| {
        input_line(s, "/").is_some() && s.contains("Namespaces")
    });
    // Its end is unique, so that the screen shows the end only once it has all arrived.
    let value: String = "0123456789abcdef"
        .chars()
        .cycle()
        .take(19_997)
        .chain("END".chars())
        .collect();
    let line = format!("write kv1/pasted value={value}");
    let started = Instant::now();
    paste(&tmux, &env, &line);
    tmux.wait_for("the end of the paste in the command line", |s| {
        input_line(s, "/").is_some_and(|l| l.ends_with("abcEND"))
    });
    let landed = started.elapsed();
    assert!(
        landed < Duration::from_secs(8),
        "{landed:?} for 20,000 characters (tmux included)"
    );
    // An Enter within 30 ms of a paste is one of its line breaks (a paste can arrive in
    // several reads): a person's Enter comes later than that.
    std::thread::sleep(Duration::from_millis(100));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the write's answer", |s| {
        s.contains("Success! Data written") && !s.contains("running:")
    });
    let stored = api.ok("GET", "", "kv1/pasted", None);
    assert_eq!(
        stored["data"]["value"],
        json!(value),
        "every character arrived"
    );

    // Three lines in one paste: one line of three commands, run by the next Enter only.
    paste(&tmux, &env, "pwd\nls\nmounts\n");
    let screen = tmux.wait_for("the pasted lines joined", |s| {
        input_line(s, "/").as_deref() == Some("/> pwd; ls; mounts")
    });
    assert!(screen.contains("pasted 3 lines"), "{screen}");
    assert!(!screen.contains("│/> pwd"), "nothing ran:\n{screen}");
    std::thread::sleep(Duration::from_millis(100));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the three commands' answers", |s| {
        s.contains("│/> pwd") && s.contains("│/> mounts") && !s.contains("running:")
    });
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit="));
}

/// In `initech/legacy`, `cd /ac` and Tab gives `cd /acme/`, typed key by key or at once.
#[test]
fn cd_slash_ac_tab_from_initech_legacy() {
    let env = common::env();
    let mut tree: Vec<String> = ["acme/payments", "acme/web", "globex", "initech/legacy"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    tree.extend((0..30).map(|i| format!("tenant{i:02}/app")));
    Api::new(&env).mkns_all(&tree);
    let tmux = start(&env, 120, 30, &[]);
    tmux.wait_for("the prompt", |s| {
        input_line(s, "/").is_some() && s.contains("acme/")
    });
    tmux.type_text("cd initech/legacy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the prompt in initech/legacy", |s| {
        input_line(s, "initech/legacy").is_some() && !s.contains("running:")
    });
    for _ in 0..4 {
        tmux.type_text("cd /");
        tmux.wait_for("the popup for `cd /`", |s| s.contains("/initech/legacy/"));
        tmux.type_text("a");
        tmux.type_text("c");
        tmux.wait_for("the popup for `cd /ac`", |s| {
            input_line(s, "initech/legacy").as_deref() == Some("initech/legacy> cd /ac")
                && s.contains("/acme/")
        });
        tmux.keys(&["Tab"]);
        tmux.wait_for("the completed word", |s| {
            input_line(s, "initech/legacy").as_deref() == Some("initech/legacy> cd /acme/")
        });
        tmux.keys(&["C-u"]);
    }
    // All in one read, Tab included.
    tmux.type_text("cd /ac\t");
    tmux.wait_for("the completed word", |s| {
        input_line(s, "initech/legacy").as_deref() == Some("initech/legacy> cd /acme/")
    });
    tmux.keys(&["C-u", "C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}

/// A lock from the tree: the filter finds the namespace, F8 asks in the lock's dialog, the
/// key is saved and shown, the server has it locked, and what is below it says so.
#[test]
fn a_lock_from_the_tree_with_its_dialog() {
    let env = common::env();
    Api::new(&env).mkns_all(&["acme/team/x".to_string(), "globex".to_string()]);
    let tmux = start(&env, 200, 40, &[]);
    tmux.wait_for("the tree", |s| tree_shows(s, "globex/"));
    tmux.keys(&["Tab"]);
    tmux.type_text("/");
    tmux.type_text("team");
    tmux.wait_for("the filter's match", |s| {
        s.contains("Namespaces /team") && s.contains("acme/team/")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the tree open down to team, x listed", |s| {
        s.contains("▾ team/") && s.contains("x/")
    });
    tmux.keys(&["F8"]);
    tmux.wait_for("the lock's question, taking answers", |s| {
        s.contains("Confirm") && s.contains("acme/team") && s.contains("[y] yes")
    });
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the unlock key", |s| {
        s.contains("keep this unlock key") && s.contains("[F3] copy")
    });
    let key = screen
        .lines()
        .skip_while(|l| !l.contains(" Unlock key:"))
        .nth(1)
        .and_then(|l| l.split('║').nth(1))
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    assert!(key.len() >= 16, "no key in the dialog:\n{screen}");
    let store =
        std::fs::read_to_string(env.vnsh_state().join("unlock-keys.json")).expect("the key store");
    assert!(store.contains(&key), "the key shown is the key saved");
    let lookup = Api::new(&env).ok("GET", "acme/", "sys/namespaces/team", None);
    assert_eq!(lookup["data"]["locked"], json!(true), "{lookup}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the lock and what it covers, marked", |s| {
        !s.contains("keep this unlock key")
            && s.contains("team/ [locked]")
            && s.contains("x/ [locked by acme/team/]")
            && s.contains("│/> lock acme/team")
            && !s.contains("running:")
    });
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}

/// The server is killed: within 5 s the status bar says so and the summary says "server
/// unreachable". A new, empty server at the same address: the old tenants leave the tree.
#[test]
fn the_server_killed_then_restarted_empty() {
    // The release that runs (CI runs the suite on 2.7.2 and again on 2.6.2).
    let (major, minor, patch) = common::bao_release();
    let active = format!("active v{major}.{minor}.{patch}");
    let mut env = common::env();
    let tenants: Vec<String> = (0..30).map(|i| format!("tenant{i:02}")).collect();
    Api::new(&env).mkns_all(&tenants);
    let tmux = start(&env, 160, 40, &[]);
    tmux.wait_for("the tenants, the summary, the server active", |s| {
        tree_shows(s, "tenant29/") && s.contains("Summary") && s.contains(&active)
    });
    let (addr, token) = (
        env.server.addr().to_string(),
        env.server.token().to_string(),
    );
    env.server.stop();
    let killed = Instant::now();
    let screen = tmux.wait_for("the status bar saying the server is gone", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("SERVER UNREACHABLE"))
    });
    let told = killed.elapsed();
    assert!(told < Duration::from_secs(5), "{told:?}:\n{screen}");
    tmux.wait_for("the summary saying so", |s| {
        s.contains("server unreachable (for") && !s.contains("not readable")
    });
    let _new = common::replace_server(&addr, &token, env.dir.path());
    let screen = tmux.wait_for("the new server's empty tree", |s| {
        s.lines().next().is_some_and(|l| l.contains("active"))
            && !s.contains("tenant")
            && s.contains("▾ /")
    });
    assert!(
        screen.contains("another server answers") || screen.contains("answers again"),
        "{screen}"
    );
    // Completion knows the new server too: its mounts are offered, none of the old tenants.
    tmux.type_text("ls ");
    let screen = tmux.wait_for("the new server's paths in the popup", |s| {
        s.lines().any(|l| l.contains("│secret/"))
    });
    assert!(!screen.contains("tenant"), "{screen}");
    tmux.keys(&["C-u", "C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit="));
}

/// Secret values are masked in the responses, shown on F5 for the selected response, and
/// shown as they are when the configuration says so.
#[test]
fn secrets_are_masked_until_revealed() {
    let env = common::env();
    let api = Api::new(&env);
    api.mount_kv("", "kv1", "1");
    api.ok(
        "POST",
        "",
        "kv1/db",
        Some(json!({"password": "correct-horse-battery"})),
    );
    api.kv2_put("", "secret", "app", json!({"api_token": "tok-0123456789"}));
    let tmux = start(&env, 120, 30, &[]);
    tmux.wait_for("the prompt", |s| {
        input_line(s, "/").is_some() && s.contains("Namespaces")
    });
    tmux.type_text("read kv1/db");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the masked answer", |s| {
        s.contains("password") && s.contains("••••") && !s.contains("running:")
    });
    assert!(!screen.contains("correct-horse-battery"), "{screen}");
    tmux.keys(&["F5"]);
    tmux.wait_for("the value shown", |s| s.contains("correct-horse-battery"));
    tmux.keys(&["F5"]);
    tmux.wait_for("masked again", |s| {
        !s.contains("correct-horse-battery") && s.contains("••••")
    });
    // `kv get` of a v2 secret: its data masked, its metadata readable.
    tmux.type_text("kv get secret/app");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the masked KV answer", |s| {
        s.contains("api_token") && s.contains("version") && !s.contains("running:")
    });
    assert!(!screen.contains("tok-0123456789"), "{screen}");
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));

    // `[tui] mask_secrets = false`: shown as they are.
    let config = env.dir.path().join("config").join("vnsh");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("config.toml"), "[tui]\nmask_secrets = false\n").expect("config");
    let tmux = start(&env, 120, 30, &[]);
    tmux.wait_for("the prompt", |s| {
        input_line(s, "/").is_some() && s.contains("Namespaces")
    });
    tmux.type_text("read kv1/db");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the value in clear", |s| {
        s.contains("correct-horse-battery") && !s.contains("running:")
    });
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}

/// A sealed namespace (OpenBao 2.6+) is marked in the tree, is not listed, and what is
/// known below it says so.
#[test]
fn a_sealed_namespace_in_the_tree() {
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&["acme/web".to_string()]);
    let seal = "seal \"shamir\" {\n  shares = 1\n  threshold = 1\n}";
    api.ok(
        "POST",
        "acme/",
        "sys/namespaces/vaulted",
        Some(json!({ "seal": seal })),
    );
    let tmux = start(&env, 200, 40, &[]);
    tmux.wait_for("the tree", |s| tree_shows(s, "acme/"));
    tmux.keys(&["Tab", "Down", "Right"]);
    tmux.wait_for("acme's children, the sealed one marked", |s| {
        s.contains("vaulted/ [sealed]") && s.contains("web/") && !s.contains("web/ [sealed")
    });
    tmux.keys(&["Down", "Right"]);
    tmux.wait_for("a sealed namespace is not listed", |s| {
        s.contains("▾ vaulted/ [sealed]") && s.contains("! sealed")
    });
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}

/// The tree answers from the index at once (issue 18): a new session whose listings are
/// slow (5 s each) shows the tree the index holds, and "expand all" everything below, the
/// title saying they are as last known, until the server's answers replace them (a child
/// made since appears, one deleted since goes).
#[test]
fn the_tree_shows_the_index_while_the_listings_are_slow() {
    use common::proxy::{Fault, Proxy, Rule};
    let env = common::env();
    let api = Api::new(&env);
    api.mkns_all(&[
        "slowp/known1".to_string(),
        "slowp/known2".to_string(),
        "other".to_string(),
    ]);
    // A session leaves the index; then the tree changes behind its back.
    common::ok(&env.vnsh(&["-c", "refresh"]));
    let (status, body) = api.call("DELETE", "slowp/", "sys/namespaces/known2", None);
    assert!((200..300).contains(&status), "{status} {body}");
    api.mkns("slowp/fresh");

    let proxy = Proxy::start(env.server.addr());
    for method in ["LIST", "SCAN"] {
        proxy.add(Rule::on(
            method,
            "sys/namespaces",
            Fault::Delay {
                before: Duration::from_secs(5),
                after: Duration::ZERO,
            },
        ));
    }
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.env("TERM", "xterm-256color")
        .env("VAULT_ADDR", proxy.addr());
    let started = Instant::now();
    let tmux = Tmux::builder(&cmd).size(120, 30).start();
    let early = tmux.wait_for("the index's tree at start, said so", |s| {
        s.contains("as last known") && s.contains("slowp/") && s.contains("other/")
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shown only once the listing answered:\n{early}"
    );
    // Expand all: what the index holds below, known2 (which the server no longer has)
    // included, while the walk is on its way.
    tmux.keys(&["Tab"]);
    tmux.type_text("*");
    tmux.wait_for("the index's subtree", |s| {
        s.contains("as last known") && s.contains("known1/") && s.contains("known2/")
    });
    tmux.wait_for("the server's answers in their place", |s| {
        s.contains("known1/")
            && s.contains("fresh/")
            && !s.contains("known2/")
            && !s.contains("as last known")
    });
    proxy.clear();
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
}
