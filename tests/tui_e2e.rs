//! The TUI end to end: the real binary in a real terminal (tmux, 100×30, xterm-256color)
//! against a real OpenBao dev server. It types `cd ac`, completes with Tab, locks with
//! the confirmation dialog, reads the unlock key off the screen, checks with `bao` that the
//! namespace is locked, resizes, quits with Ctrl-D and checks the terminal is restored.
//! The screen is polled with a timeout, never read after a fixed sleep.
mod common;

use std::process::Command;

use common::tmux::Tmux;
use common::{vnsh_bin, Env};
use serde_json::Value;

/// `vnsh` in tmux (100×30, xterm-256color) with the test's environment (server, token,
/// private HOME and state dir); after it exits, the shell prints its status and the
/// terminal's modes.
fn start_vnsh(env: &Env) -> Tmux {
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.env("TERM", "xterm-256color");
    Tmux::builder(&cmd)
        .size(100, 30)
        .then("stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo")
        .start()
}

/// The line after `vnsh-exit=…`: the terminal modes once vnsh is gone.
fn modes_line(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains("vnsh-exit="))
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Whether the terminal is cooked with echo (raw mode turns both off).
fn cooked(modes: &str) -> bool {
    let m: Vec<&str> = modes.split_whitespace().collect();
    m.contains(&"icanon") && m.contains(&"echo")
}

fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

#[test]
fn tui_cd_complete_lock_resize_and_quit() {
    let env = common::env();
    env.bao(&["namespace", "create", "acme"]);
    env.bao(&["namespace", "create", "-namespace=acme", "team"]);
    env.bao(&["namespace", "create", "globex"]);

    let tmux = start_vnsh(&env);

    // The full screen is up: status bar, the tree listed from the root, the prompt.
    tmux.wait_for("the tree and the prompt", |s| {
        s.contains("Namespaces") && s.contains("acme/") && s.contains("globex/") && s.contains("/>")
    });

    // `cd ac`, Tab completes from the popup (filled in the background), Enter runs it.
    tmux.type_text("cd ac");
    tmux.wait_for("the completion popup", |s| {
        s.lines().any(|l| l.contains("│acme/ "))
    });
    tmux.keys(&["Tab"]);
    tmux.wait_for("the completed word", |s| {
        line_with(s, "/> cd").is_some_and(|l| l.contains("/> cd acme/"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the namespace in the status bar and the prompt", |s| {
        s.lines().next().is_some_and(|l| l.contains("/ › acme"))
            && s.contains("acme>")
            && !s.contains("running:")
    });
    tmux.wait_for("the tree open at acme, its children listed", |s| {
        s.contains("▾ acme/") && s.contains("team/")
    });

    // `lock team` asks first; `y` locks; the unlock key is shown in a dialog.
    tmux.type_text("lock team");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the confirmation dialog, taking answers", |s| {
        s.contains("Confirm") && s.contains("Lock the API of acme/team") && s.contains("[y] yes")
    });
    assert!(
        !env.bao_json(&[
            "namespace",
            "lookup",
            "-namespace=acme",
            "-format=json",
            "team"
        ])["locked"]
            .as_bool()
            .unwrap_or(true),
        "nothing is locked before the answer"
    );
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the unlock key dialog, taking keys", |s| {
        s.contains("keep this unlock key") && s.contains("Unlock key:") && s.contains("] close")
    });
    let key = screen
        .lines()
        .skip_while(|l| !l.contains(" Unlock key:"))
        .nth(1)
        .and_then(|l| l.split('║').nth(1))
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    assert!(key.len() >= 16, "no key in the dialog:\n{screen}");
    let lookup = env.bao_json(&[
        "namespace",
        "lookup",
        "-namespace=acme",
        "-format=json",
        "team",
    ]);
    assert_eq!(lookup["locked"], Value::Bool(true), "{lookup}");
    let store =
        std::fs::read_to_string(env.vnsh_state().join("unlock-keys.json")).expect("the key store");
    assert!(store.contains(&key), "the key shown is the key saved");

    // Enter closes the dialog; the tree marks the lock.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the lock mark in the tree", |s| {
        !s.contains("keep this unlock key")
            && s.contains("team/ [locked]")
            && !s.contains("running:")
    });

    // Resize: at 80 columns the tree stays beside the responses (with its rows), below 64
    // it gives way; the status bar keeps the namespace.
    tmux.ok(&["resize-window", "-t", &tmux.session, "-x", "80", "-y", "24"]);
    tmux.wait_for("the tree beside the responses at 80x24", |s| {
        let lines: Vec<&str> = s.lines().collect();
        lines.iter().any(|l| {
            l.starts_with("┌ Namespaces") && l.contains("┌ Responses") && l.chars().count() == 80
        }) && lines.first().is_some_and(|l| l.contains("/ › acme"))
    });
    tmux.ok(&["resize-window", "-t", &tmux.session, "-x", "50", "-y", "16"]);
    tmux.wait_for("the narrow layout at 50x16", |s| {
        !s.contains("Namespaces")
            && s.lines()
                .any(|l| l.starts_with("┌ Responses") && l.chars().count() == 50)
            && s.contains("acme>")
    });

    // Ctrl-D on the empty line quits; the shell sees exit 0 and a cooked terminal.
    tmux.keys(&["C-d"]);
    let screen = tmux.wait_for("vnsh to exit and stty to answer", |s| {
        modes_line(s).contains("icanon")
    });
    assert!(screen.contains("vnsh-exit=0"), "{screen}");
    let modes = modes_line(&screen);
    assert!(
        cooked(&modes),
        "the terminal is back in cooked mode with echo: {modes:?}\n{screen}"
    );
    assert!(
        !screen.contains("Namespaces"),
        "the alternate screen is gone:\n{screen}"
    );
}

/// SIGTERM (and SIGHUP: the SSH session went away) restore the terminal before vnsh exits.
#[test]
fn tui_restores_the_terminal_on_sigterm() {
    let env = common::env();
    let tmux = start_vnsh(&env);
    tmux.wait_for("the full screen", |s| {
        s.contains("Namespaces") && s.contains("/>")
    });
    let out = tmux.cmd(&["display-message", "-p", "-t", &tmux.session, "#{pane_pid}"]);
    let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(!pid.is_empty(), "no child of the pane's shell {shell}");
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let screen = tmux.wait_for("vnsh to exit and stty to answer", |s| {
        modes_line(s).contains("icanon")
    });
    assert!(screen.contains("vnsh-exit=143"), "{screen}");
    assert!(cooked(&modes_line(&screen)), "{screen}");
    assert!(
        !screen.contains("Namespaces"),
        "the alternate screen is gone:\n{screen}"
    );
}

/// A server that accepts connections and never answers: every request hangs.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    format!("http://{addr}")
}

/// A server that never answers freezes nothing: typing goes on, the spinner says what is
/// in flight, Ctrl-C cancels the command (not the app), and the shell stays usable.
#[test]
fn tui_a_hanging_server_freezes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().to_string_lossy().into_owned();
    let mut env: Vec<(String, String)> = vec![
        ("VAULT_ADDR".into(), silent_server()),
        ("VAULT_TOKEN".into(), "root".into()),
        ("HOME".into(), home.clone()),
        ("XDG_STATE_HOME".into(), format!("{home}/state")),
        ("XDG_CONFIG_HOME".into(), format!("{home}/config")),
        ("TERM".into(), "xterm-256color".into()),
    ];
    if let Ok(path) = std::env::var("PATH") {
        env.push(("PATH".into(), path));
    }
    let mut cmd = Command::new(vnsh_bin());
    cmd.envs(env);
    let tmux = Tmux::builder(&cmd).size(100, 30).start();
    tmux.wait_for("the full screen", |s| {
        s.contains("Namespaces") && s.contains("loading") && s.contains("/>")
    });
    tmux.type_text("ls");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the spinner", |s| s.contains("running: ls"));
    tmux.type_text("typing goes on");
    tmux.wait_for("what was typed, while the request hangs", |s| {
        s.contains("/> typing goes on") && s.contains("running: ls")
    });
    tmux.keys(&["C-c"]);
    tmux.wait_for("the cancelled command", |s| {
        s.contains("cancelled (Ctrl-C)") && !s.contains("running: ls")
    });
    // Ctrl-C again clears the line; a command that needs no server still runs.
    tmux.keys(&["C-c"]);
    tmux.type_text("pwd");
    tmux.keys(&["Enter"]);
    tmux.wait_for("pwd's answer, the prompt empty again", |s| {
        // The response's header (inside the pane's border), not the line being typed.
        s.lines().any(|l| l.contains("│/> pwd"))
            && s.lines().any(|l| l.trim_end() == "/>")
            && !s.contains("running:")
    });
    tmux.keys(&["C-d"]);
    let screen = tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit="));
    assert!(
        screen.contains("vnsh-exit=1"),
        "a cancelled command makes the status 1, as in line mode:\n{screen}"
    );
}

/// `login userpass` without `password=` asks it in a hidden-input dialog; after the login
/// the status bar shows the new user and the tree starts at the token's namespace.
#[test]
fn tui_login_asks_the_password_unseen() {
    let env = common::env();
    env.bao(&["namespace", "create", "t1"]);
    env.bao(&["namespace", "create", "-namespace=t1", "child"]);
    env.bao(&["namespace", "create", "globex"]);
    let policy = env.dir.path().join("list.hcl");
    std::fs::write(
        &policy,
        "path \"sys/namespaces*\" { capabilities = [\"read\", \"list\"] }\n",
    )
    .expect("policy");
    env.bao(&[
        "policy",
        "write",
        "-namespace=t1",
        "lister",
        policy.to_str().expect("path"),
    ]);
    env.bao(&["auth", "enable", "-namespace=t1", "userpass"]);
    env.bao(&[
        "write",
        "-namespace=t1",
        "auth/userpass/users/bob",
        "password=correct horse",
        "policies=lister",
    ]);
    let tmux = start_vnsh(&env);
    tmux.wait_for("the tree and the prompt", |s| {
        s.contains("globex/") && s.contains("/>")
    });
    tmux.type_text("cd t1");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the prompt in t1", |s| s.contains("t1>"));
    tmux.type_text("login userpass username=bob");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the password dialog", |s| {
        s.contains("Password (will be hidden)")
    });
    tmux.type_text("correct horse");
    let screen = tmux.wait_for("the masked password", |s| s.contains("•••••••••••••_"));
    assert!(!screen.contains("correct horse"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the new user in the status bar", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("token: t1-auth-userpass-bob @ t1"))
            && s.contains("Logged in as t1-auth-userpass-bob")
    });
    assert!(!screen.contains("correct horse"), "{screen}");
    tmux.wait_for("the tree from t1 down, nothing above it", |s| {
        s.contains("child/") && !s.contains("globex/")
    });
    tmux.keys(&["C-d"]);
    tmux.wait_for("vnsh to exit", |s| s.contains("vnsh-exit=0"));
    let history = std::fs::read_to_string(env.vnsh_state().join("history")).unwrap_or_default();
    assert!(!history.contains("correct horse"), "{history}");
}
