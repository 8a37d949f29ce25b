//! The TUI's screen tells the truth, on the pure app (no terminal, no server): a server
//! that stops answering, one that comes back or is replaced, a token's remaining life,
//! a read-only session, secrets masked, what a locked namespace covers, and what the
//! tree's keys run. Each screen is drawn on ratatui's `TestBackend` and read as text.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use vnsh::engine::nspath::NsPath;
use vnsh::engine::reader::{Child, ReadError, Subtree};
use vnsh::engine::{Output, View};
use vnsh::tui::app::{App, AppEvent, Effect, Focus, Health, TokenInfo};
use vnsh::tui::engine::EngineEvent;
use vnsh::tui::keymap::Keymap;
use vnsh::tui::render_text;
use vnsh::tui::theme::Theme;

fn ns(s: &str) -> NsPath {
    NsPath::parse(s).expect("namespace")
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn health(cluster: &str) -> Result<Health, ReadError> {
    Ok(Health {
        sealed: false,
        standby: false,
        version: "2.7.2".into(),
        cluster_id: Some(cluster.into()),
    })
}

fn down() -> ReadError {
    ReadError {
        message: "cannot reach http://127.0.0.1:8200: connection refused".into(),
        unreachable: true,
    }
}

/// An app on a small tree in the root, the server answering.
fn app() -> App {
    let mut app = App::new(
        Theme::default(),
        Keymap::defaults(),
        "http://127.0.0.1:8200",
        NsPath::root(),
    );
    let _ = app.start();
    let _ = app.on_event(AppEvent::Children {
        ns: NsPath::root(),
        result: Ok(vec![
            Child {
                name: "acme/".into(),
                ..Child::default()
            },
            Child {
                name: "globex/".into(),
                ..Child::default()
            },
        ]),
    });
    let _ = app.on_event(AppEvent::Health(health("c-1")));
    let _ = app.on_event(AppEvent::Token(Ok(TokenInfo {
        display_name: "token".into(),
        namespace: "/".into(),
        ..TokenInfo::default()
    })));
    app
}

fn bar(screen: &str) -> &str {
    screen.lines().next().unwrap_or_default()
}

/// The server dies: the status bar says so at the first failed request, health is asked
/// at once, the summary says "server unreachable" (not "not readable"); when it answers
/// again, everything known of it is read again.
#[test]
fn a_server_that_stops_answering_and_comes_back() {
    let mut app = app();
    let screen = render_text(&mut app, 140, 30);
    assert!(bar(&screen).contains("active v2.7.2"), "{screen}");
    // A listing finds it gone: health is asked at once.
    let fx = app.on_event(AppEvent::Children {
        ns: ns("acme"),
        result: Err(down()),
    });
    assert_eq!(fx, vec![Effect::CheckHealth]);
    let _ = app.on_event(AppEvent::Health(Err(down())));
    let screen = render_text(&mut app, 140, 30);
    assert!(bar(&screen).contains("SERVER UNREACHABLE"), "{screen}");
    assert!(!bar(&screen).contains("active"), "{screen}");
    assert!(screen.contains("server unreachable (for"), "{screen}");
    assert!(!screen.contains("not readable"), "{screen}");
    assert_eq!(
        app.summary_wanted(),
        None,
        "nothing is asked of a server that is gone"
    );
    assert!(app.clock_shown(), "how long it has been away counts");
    assert!(app.health_every() <= Duration::from_secs(2));
    // It answers again: the tree, the summary and completion are read again.
    let fx = app.on_event(AppEvent::Health(health("c-1")));
    assert!(fx.contains(&Effect::LoadChildren(NsPath::root())), "{fx:?}");
    assert!(fx.contains(&Effect::Recheck), "{fx:?}");
    assert!(fx.contains(&Effect::LookupToken), "{fx:?}");
    let screen = render_text(&mut app, 140, 30);
    assert!(bar(&screen).contains("active v2.7.2"), "{screen}");
    assert!(screen.contains("the server answers again"), "{screen}");
    assert!(app.status.down.is_none());
}

/// Another server at the same address (its cluster id changed): nothing of the old one
/// stays on screen.
#[test]
fn another_server_at_the_same_address_replaces_the_tree() {
    let mut app = app();
    assert!(render_text(&mut app, 100, 30).contains("acme/"));
    let fx = app.on_event(AppEvent::Health(health("c-2")));
    assert!(fx.contains(&Effect::LoadChildren(NsPath::root())), "{fx:?}");
    assert!(fx.contains(&Effect::Recheck), "{fx:?}");
    let _ = app.on_event(AppEvent::Children {
        ns: NsPath::root(),
        result: Ok(vec![]),
    });
    let screen = render_text(&mut app, 100, 30);
    assert!(!screen.contains("acme/"), "{screen}");
    assert!(screen.contains("another server answers"), "{screen}");
    // The same id again is no change.
    let fx = app.on_event(AppEvent::Health(health("c-2")));
    assert!(fx.is_empty(), "{fx:?}");
}

/// A command that found the server unreachable marks it so too.
#[test]
fn a_command_that_finds_no_server() {
    let mut app = app();
    let fx = app.on_event(AppEvent::Engine(EngineEvent::Unreachable(
        "cannot reach http://127.0.0.1:8200: connection refused".into(),
    )));
    assert_eq!(fx, vec![Effect::CheckHealth]);
    assert!(bar(&render_text(&mut app, 140, 30)).contains("SERVER UNREACHABLE"));
    // Only once: the cadence asks again, not every failure.
    let fx = app.on_event(AppEvent::Engine(EngineEvent::Unreachable("again".into())));
    assert!(fx.is_empty());
}

fn token(ttl: Option<u64>, creation: Option<u64>) -> AppEvent {
    AppEvent::Token(Ok(TokenInfo {
        display_name: "ops".into(),
        namespace: "/".into(),
        ttl,
        creation_ttl: creation,
    }))
}

/// The token's remaining TTL is shown, a warning near its end, "expired" after it.
#[test]
fn the_token_ttl_is_shown_and_warns() {
    let mut app = app();
    let _ = app.on_event(token(None, None));
    let b = render_text(&mut app, 200, 30);
    assert!(
        bar(&b).contains("token: ops @ /") && !bar(&b).contains("ttl"),
        "{b}"
    );
    let _ = app.on_event(token(Some(7200), Some(7200)));
    let b = render_text(&mut app, 200, 30);
    assert!(bar(&b).contains("token: ops @ / ttl 2h"), "{b}");
    let _ = app.on_event(token(Some(100), Some(3600)));
    let b = render_text(&mut app, 200, 30);
    assert!(bar(&b).contains("expires in 1m40s"), "{b}");
    assert!(app.clock_shown());
    // Counted from the lookup.
    app.status.token_at = Some(Instant::now() - Duration::from_secs(101));
    let b = render_text(&mut app, 200, 30);
    assert!(bar(&b).contains("TOKEN EXPIRED"), "{b}");
    assert!(app.token_expired());
    // An expired token cannot look itself up: it stays shown expired.
    let _ = app.on_event(AppEvent::Token(Err(ReadError::other("permission denied"))));
    assert!(bar(&render_text(&mut app, 200, 30)).contains("TOKEN EXPIRED"));
    // On a narrow bar the warning outlives the server's address.
    let b = render_text(&mut app, 45, 30);
    assert!(
        bar(&b).contains("EXPIRED") && !bar(&b).contains("127.0.0.1"),
        "{b}"
    );
}

#[test]
fn read_only_is_on_the_status_bar() {
    let mut app = app();
    app.status.read_only = true;
    let b = render_text(&mut app, 50, 20);
    assert!(bar(&b).contains("READ-ONLY"), "{b}");
}

/// Seal and deletion state are on the status bar, as a lock is (issue 15): the engine's
/// prompt event carries them.
#[test]
fn sealed_and_being_deleted_are_on_the_status_bar() {
    use vnsh::engine::session::Marks;
    // Never asked: the bar is drawn from the events alone.
    let client = || {
        let config = vnsh::vault::Config::from_lookup(
            |k| match k {
                "VAULT_ADDR" => Some("http://127.0.0.1:1".to_string()),
                "VAULT_TOKEN" => Some("t".to_string()),
                _ => None,
            },
            || None,
        );
        vnsh::vault::Client::new(&config).expect("client")
    };
    let ns = |s: &str| vnsh::engine::nspath::NsPath::parse(s).unwrap();
    let mut app = app();
    let prompt = |cwd: &str, marks: Marks| {
        AppEvent::Engine(EngineEvent::Prompt {
            cwd: ns(cwd),
            locked: None,
            marks,
            context: vnsh::engine::complete::Context {
                cache: vnsh::engine::cache::Cache::new(
                    client(),
                    vnsh::engine::nspath::NsPath::root(),
                    true,
                ),
                cwd: ns(cwd),
                commands: vnsh::engine::commands::table(),
            },
        })
    };
    app.on_event(prompt(
        "vault1",
        Marks {
            sealed: Some(ns("vault1")),
            deleting: false,
        },
    ));
    let b = render_text(&mut app, 100, 20);
    assert!(bar(&b).contains(" SEALED "), "{b}");
    app.on_event(prompt(
        "vault1/app",
        Marks {
            sealed: Some(ns("vault1")),
            deleting: true,
        },
    ));
    let b = render_text(&mut app, 100, 20);
    assert!(bar(&b).contains("SEALED by vault1"), "{b}");
    assert!(bar(&b).contains("BEING DELETED"), "{b}");
    app.on_event(prompt("other", Marks::default()));
    let b = render_text(&mut app, 100, 20);
    assert!(
        !bar(&b).contains("SEALED") && !bar(&b).contains("DELETED"),
        "{b}"
    );
}

fn read_db() -> EngineEvent {
    EngineEvent::Finished {
        id: 0,
        ns: "/".into(),
        command: "read secret/data/db".into(),
        result: Ok(Output {
            json: Some(
                json!({"data": {"data": {"password": "hunter2"}, "metadata": {"version": 3}}}),
            ),
            view: View::Table {
                header: vec!["KEY".into(), "VALUE".into()],
                rows: vec![vec!["data".into(), r#"{"password":"hunter2"}"#.into()]],
            },
            notes: vec![],
        }),
        unlock_key: None,
        mutating: false,
    }
}

/// Secret values are masked by default, shown on F5 for the selected response, copied as
/// they are; with masking off they are shown.
#[test]
fn secrets_are_masked_revealed_and_copied() {
    let mut app = app();
    let _ = app.on_event(AppEvent::Engine(read_db()));
    let screen = render_text(&mut app, 100, 30);
    assert!(!screen.contains("hunter2"), "{screen}");
    assert!(screen.contains("data   ••••"), "{screen}");
    assert!(
        screen.contains("secret values masked: F5 shows them"),
        "{screen}"
    );
    app.on_key(key(KeyCode::F(2)));
    assert!(
        !render_text(&mut app, 100, 30).contains("hunter2"),
        "nor in JSON"
    );
    let fx = app.on_key(key(KeyCode::F(3)));
    assert!(
        matches!(&fx[..], [Effect::Copy(t)] if t.contains("hunter2")),
        "{fx:?}"
    );
    app.on_key(key(KeyCode::F(5)));
    let screen = render_text(&mut app, 100, 30);
    assert!(screen.contains("\"password\": \"hunter2\""), "{screen}");
    app.on_key(key(KeyCode::F(5)));
    assert!(!render_text(&mut app, 100, 30).contains("hunter2"));
    // The switch in the configuration file.
    let mut app = self::app();
    app.show_secrets = true;
    let _ = app.on_event(AppEvent::Engine(read_db()));
    assert!(render_text(&mut app, 100, 30).contains("hunter2"));
}

/// What a locked namespace covers says so: "locked by acme/".
#[test]
fn descendants_of_a_locked_namespace_say_so() {
    let mut app = app();
    app.tree.expand(&ns("acme"));
    app.tree
        .set_children(&ns("acme"), Ok(vec![("web/".into(), false)]));
    app.tree.expand(&ns("acme/web"));
    app.tree
        .set_children(&ns("acme/web"), Ok(vec![("prod/".into(), false)]));
    app.tree.set_children(
        &NsPath::root(),
        Ok(vec![("acme/".into(), true), ("globex/".into(), false)]),
    );
    let screen = render_text(&mut app, 200, 30);
    assert!(screen.contains("acme/ [locked]"), "{screen}");
    assert!(screen.contains("web/ [locked by acme/]"), "{screen}");
    assert!(screen.contains("prod/ [locked by acme/]"), "{screen}");
    assert!(!screen.contains("globex/ [locked"), "{screen}");
}

fn runs(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Run { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect()
}

fn done(app: &mut App) {
    if let Some(id) = app.running.as_ref().map(|r| r.id) {
        let _ = app.on_event(AppEvent::Engine(EngineEvent::Done {
            id,
            exit: false,
            failed: false,
        }));
    }
}

/// The tree acts on its cursor with command lines, through the engine like any other;
/// the keys go back to the command line after each.
#[test]
fn the_tree_acts_on_its_cursor() {
    let mut app = app();
    app.status.cwd = ns("globex");
    app.on_key(key(KeyCode::Tab));
    app.on_key(key(KeyCode::Down));
    assert_eq!(app.tree.selected, ns("acme"));
    for (k, line) in [
        (KeyCode::F(6), "ls /acme"),
        (KeyCode::F(7), "describe /acme"),
        (KeyCode::F(8), "cd /; lock acme"),
        (KeyCode::F(9), "cd /; unlock acme"),
        (KeyCode::Enter, "cd /acme"),
    ] {
        app.focus = Focus::Tree;
        let fx = app.on_key(key(k));
        assert_eq!(runs(&fx), vec![line.to_string()], "{k:?}");
        assert_eq!(app.focus, Focus::Input, "{k:?}");
        done(&mut app);
    }
    app.focus = Focus::Tree;
    let fx = app.on_key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::ALT));
    assert_eq!(runs(&fx), vec!["cd /; lock acme".to_string()]);
    done(&mut app);
    // F3 in the tree copies the path.
    app.focus = Focus::Tree;
    let fx = app.on_key(key(KeyCode::F(3)));
    assert_eq!(fx, vec![Effect::Copy("acme".into())]);
    // `*` walks the subtree once and opens it all.
    let fx = app.on_key(key(KeyCode::Char('*')));
    assert_eq!(fx, vec![Effect::LoadSubtree(ns("acme"))]);
    let child = |n: &str| Child {
        name: n.into(),
        ..Child::default()
    };
    let _ = app.on_event(AppEvent::Subtree {
        ns: ns("acme"),
        result: Ok(Subtree {
            entries: vec![
                (ns("acme/a"), child("a/")),
                (ns("acme/a/deep"), child("deep/")),
                (ns("acme/b"), child("b/")),
            ],
            unlisted: vec![],
        }),
    });
    let screen = render_text(&mut app, 100, 30);
    assert!(screen.contains("deep/"), "{screen}");
    assert!(screen.contains("3 namespaces below acme"), "{screen}");
}

/// `/` filters the whole known tree, fuzzily, and Enter jumps to the match (its
/// ancestors listed as needed).
#[test]
fn the_filter_jumps() {
    let mut app = app();
    app.on_key(key(KeyCode::Tab));
    app.on_key(key(KeyCode::Char('/')));
    for c in "glo".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    let screen = render_text(&mut app, 100, 30);
    assert!(screen.contains("Namespaces /glo"), "{screen}");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tree.selected, ns("globex"));
    assert!(app.filter.is_none());
    assert_eq!(app.focus, Focus::Tree);
}

/// A question waits: the message line says so, no "running" spinner.
#[test]
fn no_spinner_while_a_question_waits() {
    let mut app = app();
    for c in "lock acme".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    app.on_key(key(KeyCode::Enter));
    let id = app.running.as_ref().map(|r| r.id).expect("running");
    assert!(render_text(&mut app, 100, 30).contains("running: lock acme"));
    let (reply, _answer) = tokio::sync::oneshot::channel();
    let _ = app.on_event(AppEvent::Engine(EngineEvent::Confirm {
        id,
        question: "Lock the API of acme?".into(),
        reply,
    }));
    let screen = render_text(&mut app, 100, 30);
    assert!(!screen.contains("running:"), "{screen}");
    assert!(
        screen.contains("waiting for your answer: lock acme"),
        "{screen}"
    );
    let _ = app.on_event(AppEvent::Engine(EngineEvent::Started {
        id,
        command: "lock acme".into(),
    }));
    app.dialog = None;
    assert!(render_text(&mut app, 100, 30).contains("running: lock acme"));
}

/// At 80×24 the tree has ten rows at least, and the help wraps instead of being cut.
#[test]
fn small_screens() {
    let mut app = app();
    let screen = render_text(&mut app, 80, 24);
    let tree_rows = screen
        .lines()
        .filter(|l| l.starts_with('│') || l.starts_with('┃'))
        .count();
    assert!(tree_rows >= 10, "{screen}");
    for cols in [80, 120] {
        app.on_key(key(KeyCode::F(1)));
        app.dialog_opened = None;
        let screen = render_text(&mut app, cols, 200);
        // The longest description, whole, across lines.
        let text: String = screen
            .lines()
            .map(|l| l.trim_matches(|c| c == '│' || c == '║' || c == ' ' || c == '┃'))
            .collect::<Vec<_>>()
            .join(" ");
        let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains("in the tree, the namespace's path"),
            "{cols} columns:\n{screen}"
        );
        app.on_key(key(KeyCode::Esc));
    }
}
