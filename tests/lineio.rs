//! What line mode keeps, prints and reads, end to end against a real OpenBao dev server:
//! no secret in history or the action log, no raw control character on the terminal, no
//! quiet end of a script it could not read, and a sane terminal after any signal.
mod common;

use std::fs;
use std::process::Command;

use common::tmux::Tmux;
use common::{vnsh_bin, Env};

/// `vnsh ARGS` in tmux (100×30) with the test's environment; after it exits, the wrapping
/// `sh` (dash: it does not repair the terminal the way an interactive bash does) prints the
/// status and the terminal's modes.
fn start(env: &Env, args: &[&str]) -> Tmux {
    let mut cmd = env.command(vnsh_bin(), env.server.token());
    cmd.args(args).env("TERM", "xterm-256color");
    Tmux::builder(&cmd)
        .size(100, 30)
        .then("stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo")
        .start()
}

/// The secrets typed below, each of which must be found nowhere vnsh keeps things.
const SECRETS: [&str; 10] = [
    "sEcret-a1",
    "sEcret-b2",
    "sEcret-c3",
    "sEcret-d4",
    "sEcret-e5",
    "sEcret-f6",
    "sEcret-g7",
    "sEcret-h8",
    "sEcret-i9",
    "sEcret-j0",
];

/// Every file of the state dir, as text.
fn state_text(env: &Env) -> String {
    let mut all = String::new();
    if let Ok(entries) = fs::read_dir(env.vnsh_state()) {
        for e in entries.flatten() {
            all.push_str(&String::from_utf8_lossy(
                &fs::read(e.path()).unwrap_or_default(),
            ));
        }
    }
    all
}

#[test]
fn no_secret_reaches_history_or_the_action_log() {
    let env = common::env();
    let s = SECRETS;
    // Batch mode: the action log.
    let script = format!(
        "ns create t1 db_password={} api-key={} team=x\n\
         write cubbyhole/a data={} value={}\n\
         write cubbyhole/b password= {} pass={}\n",
        s[0], s[1], s[2], s[3], s[4], s[5]
    );
    // `password= VALUE` is refused (vnsh reads no value from the next word), as a usage error.
    let out = env.vnsh_script(&["--keep-going"], &script);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let log = fs::read_to_string(env.vnsh_state().join("actions.jsonl")).expect("action log");
    assert!(
        log.contains("ns create t1 db_password=*** api-key=*** team=x"),
        "{log}"
    );
    assert!(
        log.contains("write cubbyhole/a data=*** value=***"),
        "{log}"
    );

    // Line mode: the history, `login TOKEN` and `login token TOKEN` included.
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");
    for line in [
        format!(
            "write cubbyhole/c private-key={} access_token= {}",
            s[6], s[7]
        ),
        format!("login {}", s[8]),
        format!("login token {}", s[9]),
    ] {
        t.line(&line);
        t.wait_count("vnsh />", 2);
        t.keys(&["C-l"]);
        t.ready("vnsh />");
    }
    t.keys(&["C-d"]);
    t.wait_for("vnsh to exit", |sc| sc.contains("vnsh-exit="));
    let history = fs::read_to_string(env.vnsh_state().join("history")).expect("history");
    assert!(
        history.contains("write cubbyhole/c private-key=*** access_token= ***"),
        "{history}"
    );
    assert!(history.contains("login ***"), "{history}");
    let kept = state_text(&env);
    for secret in SECRETS {
        assert!(!kept.contains(secret), "{secret} was kept:\n{kept}");
    }
}

/// Whether `s` holds a character a terminal would obey (newline aside).
fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\0'..='\x09' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'))
}

/// A value that retitles the terminal, clears it, turns it red (C1 CSI) and overwrites.
const HOSTILE: &str = "a\x1b]2;pwned\x07b\x1b[2J\u{9b}31mred\rover\x7f";

#[test]
fn control_characters_from_the_server_are_shown_not_obeyed() {
    let env = common::env();
    let api = common::Api::new(&env);
    api.ok(
        "POST",
        "",
        "cubbyhole/esc",
        Some(serde_json::json!({ "v": HOSTILE, "multi": "line1\nline2\ttab" })),
    );
    // A table: every control escaped, the cell kept on one row.
    let text = common::ok(&env.vnsh(&["-c", "read cubbyhole/esc"]));
    assert!(!has_control(&text), "{text:?}");
    assert!(
        text.contains(r"a\e]2;pwned\x07b\e[2J\u{9b}31mred\rover\x7f"),
        "{text}"
    );
    assert!(text.contains(r"line1\nline2\ttab"), "{text}");
    // JSON: still the same value, with no raw control on the wire.
    let out = env.vnsh(&["--format", "json", "-c", "read cubbyhole/esc"]);
    let doc = common::ok(&out);
    assert!(!has_control(doc.trim_end()), "{doc:?}");
    let v: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
    assert_eq!(v["data"]["v"], HOSTILE);
    // An error that names what was typed.
    let out = env.vnsh(&["-c", "read 'cubbyhole/\x1b]2;err\x07'"]);
    let err = common::stderr(&out);
    assert!(!has_control(&err.replace('\n', "")), "{err:?}");

    // In a real terminal: the title is not changed.
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");
    let title = |t: &Tmux| {
        let out = t.cmd(&["display-message", "-p", "-t", &t.session, "#{pane_title}"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let before = title(&t);
    t.line("read cubbyhole/esc");
    t.wait_for("the value, escaped", |s| s.contains(r"\e]2;pwned\x07"));
    t.ready("vnsh />");
    assert_eq!(title(&t), before, "{}", t.screen());
    assert_ne!(title(&t), "pwned");
}

/// `vnsh ARGS` with raw bytes on stdin.
fn vnsh_bytes(env: &Env, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = env
        .command(vnsh_bin(), env.server.token())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vnsh");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write the script");
    drop(stdin);
    child.wait_with_output().expect("vnsh output")
}

#[test]
fn a_script_vnsh_cannot_read_is_an_error_naming_the_line() {
    let env = common::env();
    let api = common::Api::new(&env);
    let namespaces = || api.list("", "sys/namespaces");
    // Line 3 is not UTF-8: lines 1 and 2 run, the error names line 3, the status is 1.
    let out = vnsh_bytes(&env, &[], b"pwd\n# two\nls \xff\xfe\nns create after\n");
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 3") && err.contains("UTF-8"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("/")
    );
    assert!(
        namespaces().is_empty(),
        "a line after the unreadable one ran"
    );
    // --keep-going goes on after it, and still ends with 1.
    let out = vnsh_bytes(&env, &["--keep-going"], b"\xc3(\nns create after\r\n");
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert_eq!(namespaces(), vec!["after/"]);
    // JSON mode: the error as {"errors":[…]}.
    let out = vnsh_bytes(&env, &["--format", "json"], b"\x80\n");
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value =
        serde_json::from_str(common::stderr(&out).trim()).expect("JSON error");
    assert!(
        err["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("line 1")),
        "{err}"
    );
    // A line with no newline at the end is read too; a script that reads well still ends 0.
    let out = vnsh_bytes(&env, &[], b"pwd\npwd");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/\n/\n");
    // `-c` with bytes that are not UTF-8: a bad invocation (2), said so, nothing run.
    let out = {
        use std::os::unix::ffi::OsStrExt;
        env.command(vnsh_bin(), env.server.token())
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(b"ns create c\xff"))
            .output()
            .expect("run vnsh")
    };
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("UTF-8"),
        "{}",
        common::stderr(&out)
    );
    // `k=-` reading a value that is not UTF-8 from stdin fails the command.
    let out = vnsh_bytes(&env, &["-c", "write cubbyhole/x v=-"], b"\xff\n");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
}

/// The PID of the program the pane's `sh` runs (vnsh).
fn vnsh_pid(t: &Tmux) -> String {
    let out = t.cmd(&["display-message", "-p", "-t", &t.session, "#{pane_pid}"]);
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
    pid
}

/// Send `signal` (a `kill -s` name) to vnsh in `t`; the screen once `sh` has printed the
/// status and the terminal's modes.
fn kill_and_wait(t: &Tmux, signal: &str) -> String {
    let pid = vnsh_pid(t);
    let killed = Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    t.wait_for("vnsh to exit and stty to answer", |s| {
        modes_line(s).contains("icanon")
    })
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

/// A line-mode shell killed at the prompt (rustyline holds raw mode there) gives the
/// terminal back as it found it, and exits 128+N, whatever the wrapping shell (here dash,
/// which, unlike an interactive bash, repairs nothing).
#[test]
fn line_mode_restores_the_terminal_on_every_signal_that_ends_it() {
    let env = common::env();
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("QUIT", 131)] {
        let t = start(&env, &["--line"]);
        t.ready("vnsh />");
        t.type_text("half a li");
        let screen = kill_and_wait(&t, signal);
        assert!(
            cooked(&modes_line(&screen)),
            "SIG{signal} left the terminal raw:\n{screen}"
        );
        assert!(
            screen.contains(&format!("vnsh-exit={code}")),
            "SIG{signal}:\n{screen}"
        );
    }
    // A SIGINT from elsewhere at the prompt is Ctrl-C: the shell stays.
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");
    let pid = vnsh_pid(&t);
    assert!(Command::new("kill")
        .args(["-s", "INT", &pid])
        .status()
        .expect("kill")
        .success());
    t.line("pwd");
    t.wait_for("pwd after SIGINT", |s| {
        s.lines().any(|l| l.trim_end() == "/")
    });
    assert_eq!(
        t.exit_status(),
        None,
        "SIGINT ended the shell:\n{}",
        t.screen()
    );
}

/// The TUI gives the terminal back on SIGQUIT too (SIGTERM and SIGHUP: tests/tui_e2e.rs).
#[test]
fn the_tui_restores_the_terminal_on_sigquit() {
    let env = common::env();
    let t = start(&env, &[]);
    t.wait_for("the full screen", |s| {
        s.contains("Namespaces") && s.contains("/>")
    });
    let screen = kill_and_wait(&t, "QUIT");
    assert!(screen.contains("vnsh-exit=131"), "{screen}");
    assert!(cooked(&modes_line(&screen)), "{screen}");
    assert!(
        !screen.contains("Namespaces"),
        "the alternate screen is gone:\n{screen}"
    );
}

/// Seen: `login s.xxx` sent `POST auth/s.xxx/login` (the token in the server's logs) and
/// printed it in the error. A token is refused before anything is sent, and never repeated.
#[test]
fn a_token_typed_at_login_is_refused_unsent_and_unrepeated() {
    let env = common::env();
    let proxy = common::proxy::Proxy::start(env.server.addr());
    let token = "s.AbCdEf0123456789ZyXw";
    for line in [
        format!("login {token}"),
        format!("login token {token}"),
        format!("login userpass username=a {token}"),
        format!("login token={token}"),
    ] {
        let out = env
            .command(common::vnsh_bin(), env.server.token())
            .env("VAULT_ADDR", proxy.addr())
            .args(["-c", &line])
            .output()
            .expect("vnsh");
        assert_eq!(out.status.code(), Some(1), "{line}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("never goes on a command line"),
            "{line}: {err}"
        );
        assert!(!err.contains("AbCdEf"), "the token was repeated: {err}");
        assert_eq!(
            proxy.received("POST", "login"),
            0,
            "{line}: a login request was sent: {:?}",
            proxy.seen()
        );
    }
}

/// Lines typed ahead, while a command runs (several arrive in one read of the terminal, as
/// a fast typist or a paste over SSH sends them), all run in order: none is dropped with
/// the line editor's read buffer at the end of the line before.
#[test]
fn lines_typed_ahead_all_run() {
    let env = common::env();
    let api = common::Api::new(&env);
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");
    let names: Vec<String> = (1..=8).map(|i| format!("ahead{i}")).collect();
    let mut keys: Vec<&str> = Vec::new();
    let lines: Vec<String> = names.iter().map(|n| format!("ns create {n}")).collect();
    for line in &lines {
        keys.push(line);
        keys.push("Enter");
    }
    keys.extend(["cd ahead8", "Enter", "pwd", "Enter"]);
    t.keys(&keys);
    let screen = t.wait_for("pwd's answer after the eight lines", |s| {
        s.lines().any(|l| l.trim() == "ahead8")
    });
    let want: Vec<String> = names.iter().map(|n| format!("{n}/")).collect();
    assert_eq!(api.children(""), want, "{screen}");
}

/// A `y` typed ahead, with the line that asks (a paste, a fast typist), never answers the
/// question: only what is typed once it shows does. The line typed ahead still runs after.
#[test]
fn a_yes_typed_ahead_never_answers_a_question() {
    let env = common::env();
    let api = common::Api::new(&env);
    api.mkns("keepme");
    let t = start(&env, &["--line"]);
    t.ready("vnsh />");
    t.keys(&[
        "ns delete keepme",
        "Enter",
        "y",
        "Enter",
        "cd keepme",
        "Enter",
    ]);
    t.wait_for("the question", |s| {
        s.contains("Delete namespace keepme") && s.contains("[y/N]")
    });
    // Nothing answered it: the namespace is there, and the question still waits.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        api.children(""),
        vec!["keepme/".to_string()],
        "{}",
        t.screen()
    );
    t.line("n");
    // The lines typed ahead run after the question, in order: `y` (no such command),
    // then `cd keepme`.
    let screen = t.ready("vnsh keepme>");
    assert!(
        screen.contains("not done") || screen.contains("Not done"),
        "{screen}"
    );
    assert_eq!(api.children(""), vec!["keepme/".to_string()], "{screen}");
}
