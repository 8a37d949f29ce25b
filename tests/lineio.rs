//! What line mode keeps, prints and reads, end to end against a real OpenBao dev server:
//! no secret in history or the action log, no raw control character on the terminal, no
//! quiet end of a script it could not read, and a sane terminal after any signal.
mod common;

use std::fs;

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
