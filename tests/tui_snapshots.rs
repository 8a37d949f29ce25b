//! Snapshots of the TUI's main screens: the app state is built directly (no server, no
//! terminal), drawn on ratatui's `TestBackend`, and compared as text with insta.
//! Accept new ones with `INSTA_UPDATE=always cargo test --test tui_snapshots`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use serde_json::json;
use tokio::sync::oneshot;

use vnsh::engine::commands::explore::{Listed, Summary, Unreadable};
use vnsh::engine::nspath::NsPath;
use vnsh::engine::{Output, View};
use vnsh::tui::app::{App, AppEvent, Dialog, Effect, Focus, Health, Message, Popup, TokenInfo};
use vnsh::tui::keymap::Keymap;
use vnsh::tui::render_text;
use vnsh::tui::responses::Entry;
use vnsh::tui::theme::Theme;

const SERVER: &str = "https://vault.example.com:8200";

fn ns(s: &str) -> NsPath {
    NsPath::parse(s).expect("namespace")
}

fn table(header: &[&str], rows: &[&[&str]]) -> View {
    View::Table {
        header: header.iter().map(|s| s.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect(),
    }
}

/// An app on the demo tree, at `cwd`, with the status fetched and the tree listed.
fn app_at(cwd: &str) -> App {
    let mut app = App::new(Theme::default(), Keymap::defaults(), SERVER, NsPath::root());
    app.status.token = Some(Ok(TokenInfo {
        display_name: "token".into(),
        namespace: "/".into(),
        ..TokenInfo::default()
    }));
    app.status.health = Some(Ok(Health {
        sealed: false,
        standby: false,
        version: "2.7.2".into(),
        cluster_id: Some("c-1".into()),
    }));
    let tree = &mut app.tree;
    tree.set_children(
        &NsPath::root(),
        Ok(vec![
            ("acme/".into(), false),
            ("globex/".into(), false),
            ("initech/".into(), false),
        ]),
    );
    tree.set_children(
        &ns("acme"),
        Ok(vec![("payments/".into(), false), ("web/".into(), false)]),
    );
    tree.set_children(
        &ns("acme/payments"),
        Ok(vec![("prod/".into(), false), ("staging/".into(), false)]),
    );
    tree.set_children(&ns("initech"), Ok(vec![("legacy/".into(), true)]));
    let cwd = ns(cwd);
    app.status.cwd = cwd.clone();
    let _ = app.tree.reveal(&cwd);
    app
}

fn push(app: &mut App, ns: &str, command: &str, result: Result<Output, String>) {
    let h = app.response_height();
    app.responses.push(Entry::new(ns, command, &result), h);
}

fn ls_root() -> Output {
    Output {
        json: Some(json!({"namespaces": {"acme/": {}, "globex/": {}, "initech/": {}}})),
        view: table(
            &["NAME", "TYPE", "INFO"],
            &[
                &["acme/", "namespace", ""],
                &["globex/", "namespace", ""],
                &["initech/", "namespace", ""],
                &[
                    "cubbyhole/",
                    "cubbyhole",
                    "per-token private secret storage",
                ],
                &["identity/", "identity", "identity store"],
                &["secret/", "kv v2", "key/value secret storage"],
                &[
                    "sys/",
                    "system",
                    "system endpoints used for control, policy and debugging",
                ],
                &["auth/token/", "token", "token based credentials"],
            ],
        ),
        notes: vec![],
    }
}

#[test]
fn root() {
    let mut app = app_at("/");
    push(&mut app, "/", "ls", Ok(ls_root()));
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn inside_a_tenant() {
    let mut app = app_at("acme/payments");
    push(&mut app, "/", "cd acme/payments", Ok(Output::default()));
    push(
        &mut app,
        "acme/payments",
        "ns list -detailed",
        Ok(Output {
            json: None,
            view: table(
                &["NAMESPACE", "LOCKED", "ID", "CUSTOM METADATA"],
                &[
                    &[
                        "prod/",
                        "",
                        "Xq1Fz",
                        r#"{"demo":"true","owner":"platform"}"#,
                    ],
                    &[
                        "staging/",
                        "",
                        "b7Ke2",
                        r#"{"demo":"true","owner":"platform"}"#,
                    ],
                ],
            ),
            notes: vec![],
        }),
    );
    push(
        &mut app,
        "acme/payments",
        "read secret/data/db",
        Ok(Output {
            json: None,
            view: table(
                &["KEY", "VALUE"],
                &[
                    &["data", r#"{"user":"app"}"#],
                    &["metadata", r#"{"version":3}"#],
                ],
            ),
            notes: vec![],
        }),
    );
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn locked_namespace() {
    let mut app = app_at("initech/legacy");
    app.status.locked = Some(ns("initech/legacy"));
    push(
        &mut app,
        "/",
        "cd initech/legacy",
        Ok(Output::default().with_note(
            "note: namespace initech/legacy is locked; requests here are refused until it is unlocked",
        )),
    );
    push(
        &mut app,
        "initech/legacy",
        "ls",
        Err("namespace initech/legacy is locked: LIST sys/namespaces in initech/legacy/ was refused; unlock it with `unlock` from its parent (with the saved key) or with a sudo token".into()),
    );
    app.message = Some(Message::Error(
        "error: namespace initech/legacy is locked: LIST sys/namespaces in initech/legacy/ was refused".into(),
    ));
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn an_error() {
    let mut app = app_at("acme");
    push(
        &mut app,
        "acme",
        "ns create sys",
        Err("`sys` is reserved by Vault: sys, audit, auth, cubbyhole, identity cannot be namespace names (nothing was sent)".into()),
    );
    push(
        &mut app,
        "acme",
        "cd nowhere",
        Err("cd: namespace acme/nowhere does not exist".into()),
    );
    app.message = Some(Message::Error(
        "error: cd: namespace acme/nowhere does not exist".into(),
    ));
    app.input.set("cd nowh");
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn completion_popup() {
    let mut app = app_at("/");
    push(&mut app, "/", "ls", Ok(ls_root()));
    app.input.set("cd ac");
    app.popup = Some(Popup {
        items: vec![
            "acme/".into(),
            "acme/payments/".into(),
            "acme/web/".into(),
            "acme/payments/prod/".into(),
        ],
        selected: 0,
        start: 3,
        pending: false,
        rev: app.input.rev(),
        context: 0,
    });
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn help_overlay() {
    let mut app = app_at("/");
    app.dialog = Some(Dialog::Help { scroll: 0 });
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn narrow_terminal() {
    let mut app = app_at("acme/payments");
    push(&mut app, "acme/payments", "ls", Ok(ls_root()));
    app.input.set("read secret/data/db");
    assert_snapshot!(render_text(&mut app, 60, 20));
}

#[test]
fn narrow_terminal_tree_focused() {
    let mut app = app_at("acme/payments");
    push(&mut app, "acme/payments", "ls", Ok(ls_root()));
    app.focus = Focus::Tree;
    assert_snapshot!(render_text(&mut app, 60, 20));
}

#[test]
fn standard_terminal_80x24() {
    let mut app = app_at("acme");
    push(&mut app, "/", "ls", Ok(ls_root()));
    assert_snapshot!(render_text(&mut app, 80, 24));
}

#[test]
fn confirmation_dialog() {
    let mut app = app_at("acme");
    let (reply, _answer) = oneshot::channel();
    app.dialog = Some(Dialog::Confirm {
        question: "Lock the API of acme/payments and of every namespace below it?".into(),
        reply: Some(reply),
    });
    assert_snapshot!(render_text(&mut app, 100, 30));
}

#[test]
fn unlock_key_dialog() {
    let mut app = app_at("acme");
    let key = "hQy4U2mVw0LnZ7xK1aTq9sRb";
    let text = format!(
        "Locked acme/payments and every namespace below it.\nUnlock key: {key}\nThe key is saved in /home/op/.local/state/vnsh/unlock-keys.json; `unlock` uses it."
    );
    push(
        &mut app,
        "acme",
        "lock payments",
        Ok(Output::text(text.clone())),
    );
    app.dialog = Some(Dialog::UnlockKey {
        text,
        key: key.into(),
        notes: vec![],
        copied: false,
    });
    assert_snapshot!(render_text(&mut app, 80, 24));
}

#[test]
fn ascii_and_json_view() {
    let mut app = app_at("acme");
    app.theme = Theme::new(false, true);
    push(
        &mut app,
        "acme",
        "ns lookup payments",
        Ok(Output::json(
            json!({"custom_metadata": {"owner": "platform"}, "id": "Xq1Fz", "locked": false, "path": "acme/payments/"}),
        )),
    );
    app.set_view_mode(vnsh::tui::responses::ViewMode::Json);
    assert_snapshot!(render_text(&mut app, 80, 24));
}

/// Keys drive the app the way a terminal would: what is typed runs, Ctrl-C cancels.
#[test]
fn keys_type_run_and_cancel() {
    use vnsh::tui::app::Effect;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let mut app = app_at("/");
    for c in "pwd".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    let fx = app.on_key(key(KeyCode::Enter));
    assert!(fx.contains(&Effect::AddHistory("pwd".into())), "{fx:?}");
    let id = match fx.iter().find(|e| matches!(e, Effect::Run { .. })) {
        Some(Effect::Run { id, line }) => {
            assert_eq!(line, "pwd");
            *id
        }
        other => panic!("no run: {other:?}"),
    };
    assert!(app.busy());
    // A slow server: typing goes on, and Ctrl-C cancels the command, not the app.
    app.on_key(key(KeyCode::Char('l')));
    assert_eq!(app.input.text(), "l");
    let fx = app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(fx, vec![Effect::Cancel(id)]);
    assert!(!app.quit);
    // Ctrl-D on a non-empty line deletes; on an empty one it quits once nothing runs.
    app.on_key(key(KeyCode::Home));
    app.on_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    assert_eq!(app.input.text(), "");
    app.running = None;
    app.on_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    assert!(app.quit);
}

/// History redacts secrets, ↑ recalls, and `?` on an empty line opens the help.
#[test]
fn keys_history_and_help() {
    use vnsh::tui::app::Effect;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let mut app = app_at("/");
    app.input
        .set("write auth/userpass/users/op password=hunter2");
    let fx = app.on_key(key(KeyCode::Enter));
    assert!(
        fx.contains(&Effect::AddHistory(
            "write auth/userpass/users/op password=***".into()
        )),
        "{fx:?}"
    );
    app.running = None;
    app.on_key(key(KeyCode::Up));
    assert_eq!(
        app.input.text(),
        "write auth/userpass/users/op password=***"
    );
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    app.on_key(key(KeyCode::Char('?')));
    assert!(matches!(app.dialog, Some(Dialog::Help { .. })));
    app.on_key(key(KeyCode::Esc));
    assert!(app.dialog.is_none());
    // Tab moves the focus when no completion is open; typing goes back to the input.
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Tree);
    app.on_key(key(KeyCode::Down));
    assert_eq!(app.tree.selected, ns("acme"));
    // A letter is never a pane key: `j` goes to the command line, whole.
    app.on_key(key(KeyCode::Char('j')));
    assert_eq!(app.tree.selected, ns("acme"));
    assert_eq!((app.focus, app.input.text()), (Focus::Input, "j"));
}

/// What a tenant admin may read of acme/payments: not its auth methods nor its entities.
fn payments_summary() -> Summary {
    let listed = |keys: &[&str]| Listed {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        names: keys.iter().map(|k| k.to_string()).collect(),
    };
    let denied = || Unreadable {
        reason: "permission denied".into(),
        error: "permission denied (403)".into(),
    };
    let object = |v: serde_json::Value| v.as_object().cloned().expect("an object");
    Summary {
        path: ns("acme/payments"),
        namespace: Ok(json!({
            "path": "acme/payments/",
            "locked": false,
            "custom_metadata": {"owner": "payments-team", "tier": "gold"}
        })),
        children: Ok(object(json!({"prod/": {}, "staging/": {}}))),
        mounts: Ok(object(json!({
            "cubbyhole/": {"type": "cubbyhole"},
            "identity/": {"type": "identity"},
            "sys/": {"type": "system"},
            "kv/": {"type": "kv", "options": {"version": "2"}},
            "legacy/": {"type": "kv", "options": {"version": "1"}},
            "pki/": {"type": "pki"},
        }))),
        auth: Err(denied()),
        policies: Ok(listed(&["default", "payments-admin"])),
        entities: Err(denied()),
        groups: Ok(listed(&["g1"])),
    }
}

/// The tree cursor on a namespace, its summary read: beside the tree on a wide screen.
#[test]
fn summary_beside_the_tree() {
    let mut app = app_at("acme/payments");
    let _ = app.load_summary(ns("acme/payments"));
    let _ = app.on_event(AppEvent::Summary {
        ns: ns("acme/payments"),
        generation: app.summary_generation,
        result: Ok(Box::new(payments_summary())),
    });
    assert_snapshot!(render_text(&mut app, 140, 24));
}

/// The same at 100 columns: below the tree.
#[test]
fn summary_below_the_tree() {
    let mut app = app_at("acme/payments");
    let _ = app.load_summary(ns("acme/payments"));
    let _ = app.on_event(AppEvent::Summary {
        ns: ns("acme/payments"),
        generation: app.summary_generation,
        result: Ok(Box::new(payments_summary())),
    });
    assert_snapshot!(render_text(&mut app, 100, 30));
}

/// The summary pane asks for the namespace under the cursor once, drops what it knows
/// after a change to the server, and ignores answers asked before that.
#[test]
fn summary_is_cached_and_dropped() {
    let mut app = app_at("acme/payments");
    app.on_resize(140, 30);
    assert_eq!(app.summary_wanted(), Some(ns("acme/payments")));
    let fx = app.load_summary(ns("acme/payments"));
    assert!(matches!(
        &fx[..],
        [Effect::LoadSummary { generation: 0, .. }]
    ));
    assert_eq!(app.summary_wanted(), None, "being read");
    assert!(app.load_summary(ns("acme/payments")).is_empty());
    // Alt-R in the tree lists it again and forgets the summaries; a late answer is dropped.
    app.focus = Focus::Tree;
    let _ = app.on_key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::ALT));
    assert_eq!(app.summary_wanted(), Some(ns("acme/payments")));
    let _ = app.on_event(AppEvent::Summary {
        ns: ns("acme/payments"),
        generation: 0,
        result: Ok(Box::new(payments_summary())),
    });
    assert!(app.summaries.is_empty());
    // Too narrow: no pane, nothing asked.
    app.on_resize(80, 24);
    assert_eq!(app.summary_wanted(), None);
}

/// docs/tui.md shows the key bindings as they are.
#[test]
fn docs_show_the_default_keys() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tui.md"))
        .expect("docs/tui.md");
    let table = Keymap::defaults().key_table();
    assert!(
        doc.contains(&table),
        "docs/tui.md is out of date; its key table should be:\n{table}"
    );
}

/// No size is too small to draw: every screen at tiny sizes, dialogs and popup open.
#[test]
fn tiny_terminals_do_not_panic() {
    for (cols, rows) in [
        (1, 1),
        (5, 2),
        (12, 4),
        (20, 6),
        (30, 9),
        (63, 17),
        (64, 18),
    ] {
        for scene in 0..5 {
            let mut app = app_at("acme/payments");
            push(&mut app, "acme", "ls", Ok(ls_root()));
            app.input.set("cd ac");
            match scene {
                0 => {
                    app.popup = Some(Popup {
                        items: vec!["acme/".into(), "acme/payments/prod/".into()],
                        selected: 1,
                        start: 3,
                        pending: true,
                        rev: app.input.rev(),
                        context: 0,
                    })
                }
                1 => app.dialog = Some(Dialog::Help { scroll: 3 }),
                2 => {
                    app.dialog = Some(Dialog::UnlockKey {
                        text: "Locked acme.\nUnlock key: K".into(),
                        key: "K".repeat(40),
                        notes: vec!["WARNING: not saved".into()],
                        copied: true,
                    })
                }
                3 => {
                    app.dialog = Some(Dialog::Confirm {
                        question: "Delete namespace acme/payments and everything in it?".into(),
                        reply: None,
                    })
                }
                _ => app.focus = Focus::Tree,
            }
            let text = render_text(&mut app, cols, rows);
            assert_eq!(text.lines().count(), usize::from(rows));
        }
    }
}

/// The engine asks, the dialog answers; a lock's key gets its own dialog and is copied.
#[test]
fn confirm_then_unlock_key_dialog() {
    use vnsh::tui::app::{AppEvent, Effect};
    use vnsh::tui::engine::EngineEvent;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let mut app = app_at("acme");
    let (reply, mut answer) = oneshot::channel();
    app.on_event(AppEvent::Engine(EngineEvent::Confirm {
        id: 1,
        question: "Lock the API of acme/team and of every namespace below it?".into(),
        reply,
    }));
    assert!(matches!(app.dialog, Some(Dialog::Confirm { .. })));
    // It takes keys once it can have been read.
    assert!(app.guard_pending());
    app.dialog_opened = None;
    // Keys that mean nothing to the dialog leave it open; `y` answers yes.
    app.on_key(key(KeyCode::Char('x')));
    assert!(app.dialog.is_some());
    app.on_key(key(KeyCode::Char('y')));
    assert!(app.dialog.is_none());
    assert_eq!(answer.try_recv(), Ok(true));

    let text = "Locked acme/team and every namespace below it.\nUnlock key: KEY123";
    let fx = app.on_event(AppEvent::Engine(EngineEvent::Finished {
        id: 1,
        ns: "acme".into(),
        command: "lock team".into(),
        result: Ok(Output::text(text)),
        unlock_key: Some("KEY123".into()),
        mutating: true,
    }));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadChildren(_))),
        "the tree is listed again after a change: {fx:?}"
    );
    assert!(matches!(app.dialog, Some(Dialog::UnlockKey { .. })));
    assert_eq!(app.last_unlock_key.as_deref(), Some("KEY123"));
    app.dialog_opened = None;
    let fx = app.on_key(key(KeyCode::F(3)));
    assert_eq!(fx, vec![Effect::Copy("KEY123".into())]);
    app.on_key(key(KeyCode::Enter));
    assert!(app.dialog.is_none());
    // The response keeps the key as what `copy` copies.
    let fx = app.on_key(key(KeyCode::F(3)));
    assert_eq!(fx, vec![Effect::Copy("KEY123".into())]);

    // Enter (the default) answers no.
    let (reply, mut answer) = oneshot::channel();
    app.on_event(AppEvent::Engine(EngineEvent::Confirm {
        id: 2,
        question: "Delete namespace acme/x and everything in it?".into(),
        reply,
    }));
    app.dialog_opened = None;
    app.on_key(key(KeyCode::Enter));
    assert_eq!(answer.try_recv(), Ok(false));
}

/// Ctrl-R finds older lines as the query grows; Esc puts the line back.
#[test]
fn reverse_history_search() {
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let ctrl = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let mut app = app_at("/");
    app.history = vnsh::tui::input::History::new(vec![
        "cd acme".into(),
        "lock team".into(),
        "cd globex".into(),
    ]);
    app.input.set("draft");
    app.on_key(ctrl('r'));
    for c in "cd".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    assert_eq!(app.input.text(), "cd globex");
    app.on_key(ctrl('r'));
    assert_eq!(app.input.text(), "cd acme");
    let screen = render_text(&mut app, 100, 30);
    assert!(
        screen.contains("(reverse-i-search)`cd': cd acme"),
        "{screen}"
    );
    app.on_key(key(KeyCode::Esc));
    assert_eq!(app.input.text(), "draft");
    assert!(app.rsearch.is_none());
}

/// On a narrow terminal Tab still reaches the tree, which then takes the responses' place.
#[test]
fn narrow_tab_reaches_the_tree() {
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let mut app = app_at("acme");
    let screen = render_text(&mut app, 50, 16);
    assert!(!screen.contains("Namespaces"), "{screen}");
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Tree);
    let screen = render_text(&mut app, 50, 16);
    assert!(
        screen.contains("Namespaces") && !screen.contains("Responses"),
        "{screen}"
    );
    app.on_key(key(KeyCode::Tab));
    let screen = render_text(&mut app, 50, 16);
    assert!(
        !screen.contains("Namespaces") && screen.contains("Responses"),
        "{screen}"
    );
}

/// `login userpass username=bob` asks the password in a hidden-input dialog: only a mark
/// per character is drawn; Enter sends what was typed, Esc cancels.
#[test]
fn secret_dialog_is_masked() {
    use vnsh::tui::app::{AppEvent, SecretInput};
    use vnsh::tui::engine::EngineEvent;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let mut app = app_at("acme");
    let (reply, mut answer) = oneshot::channel();
    app.on_event(AppEvent::Engine(EngineEvent::Secret {
        label: "Password (will be hidden): ".into(),
        reply,
    }));
    for c in "hunter2x".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    app.on_key(key(KeyCode::Backspace));
    let screen = render_text(&mut app, 100, 30);
    assert!(!screen.contains("hunter2"), "{screen}");
    assert!(screen.contains("•••••••_"), "{screen}");
    assert!(
        !format!("{:?}", app.dialog).contains("hunter2"),
        "Debug never shows it"
    );
    assert_snapshot!(screen);
    // A paste goes into the secret, not the command line.
    app.on_paste("!\nsecond line");
    app.on_key(key(KeyCode::Enter));
    assert!(app.dialog.is_none());
    assert_eq!(answer.try_recv().as_deref(), Ok("hunter2!"));
    assert!(app.input.is_empty());

    // Esc cancels: the reply is dropped, nothing is sent.
    let (reply, mut answer) = oneshot::channel();
    app.on_event(AppEvent::Engine(EngineEvent::Secret {
        label: "Password (will be hidden): ".into(),
        reply,
    }));
    app.on_key(key(KeyCode::Char('x')));
    app.on_key(key(KeyCode::Esc));
    assert!(app.dialog.is_none());
    assert!(answer.try_recv().is_err());

    // ASCII terminals get `*`.
    let mut app = app_at("/");
    app.theme = Theme::new(false, true);
    app.dialog = Some(Dialog::Secret {
        label: "Password (will be hidden): ".into(),
        value: SecretInput::new("abc"),
        reply: None,
    });
    let screen = render_text(&mut app, 80, 24);
    assert!(
        screen.contains("***_") && !screen.contains("abc"),
        "{screen}"
    );
}

/// After a `login` the engine sends the new client and top: the status bar asks who the
/// token is again and shows the new user; the tree starts at the token's namespace.
#[test]
fn a_new_token_updates_the_status_bar_and_the_tree() {
    use vnsh::engine::reader::Reader;
    use vnsh::tui::app::{AppEvent, Effect};
    use vnsh::tui::engine::EngineEvent;
    use vnsh::vault::{Client, Config};
    let mut app = app_at("acme/payments");
    let config = Config::from_lookup(|k| (k == "VAULT_ADDR").then(|| SERVER.to_string()), || None);
    let reader = Reader::new(Client::new(&config).expect("client"));
    let fx = app.on_event(AppEvent::Engine(EngineEvent::Reconnected {
        reader,
        top: ns("acme"),
        home: ns("acme"),
    }));
    assert_eq!(app.tree.top, ns("acme"));
    assert_eq!(app.home, ns("acme"));
    assert!(
        fx.contains(&Effect::LoadChildren(ns("acme"))),
        "the new top is listed: {fx:?}"
    );
    assert!(
        app.status.token.is_none(),
        "who the token is is asked again"
    );
    app.on_event(AppEvent::Token(Ok(TokenInfo {
        display_name: "userpass-bob".into(),
        namespace: "acme/".into(),
        ..TokenInfo::default()
    })));
    let screen = render_text(&mut app, 100, 30);
    let bar = screen.lines().next().unwrap_or_default();
    assert!(bar.contains("token: userpass-bob @ acme/"), "{screen}");
    assert!(
        !screen.contains("globex"),
        "nothing above the token's namespace in the tree:\n{screen}"
    );
}

/// The cockpit: a read-only session, a token near its end, a locked tenant whose
/// descendants say so, one being deleted, a masked secret, the tree with the keys.
fn cockpit() -> App {
    use vnsh::engine::reader::Child;
    let mut app = app_at("acme/payments");
    app.status.read_only = true;
    app.status.token = Some(Ok(TokenInfo {
        display_name: "oncall".into(),
        namespace: "/".into(),
        ttl: Some(240),
        creation_ttl: Some(3600),
    }));
    app.status.token_at = Some(std::time::Instant::now());
    app.tree.set_listing(
        &NsPath::root(),
        Ok(vec![
            Child {
                name: "acme/".into(),
                ..Child::default()
            },
            Child {
                name: "globex/".into(),
                locked: true,
                ..Child::default()
            },
            Child {
                name: "initech/".into(),
                tainted: true,
                ..Child::default()
            },
        ]),
    );
    app.tree.expand(&ns("globex"));
    app.tree.set_children(
        &ns("globex"),
        Ok(vec![("eu/".into(), false), ("us/".into(), false)]),
    );
    app.focus = Focus::Tree;
    let _ = app.on_event(AppEvent::Engine(vnsh::tui::engine::EngineEvent::Finished {
        id: 0,
        ns: "acme/payments".into(),
        command: "read secret/data/db".into(),
        result: Ok(Output {
            json: Some(json!({"data": {"data": {"password": "hunter2", "user": "app"}, "metadata": {"version": 3}}})),
            view: table(
                &["KEY", "VALUE"],
                &[
                    &["data", r#"{"password":"hunter2","user":"app"}"#],
                    &["metadata", r#"{"version":3}"#],
                ],
            ),
            notes: vec![],
        }),
        unlock_key: None,
        mutating: false,
    }));
    app
}

#[test]
fn cockpit_80x24() {
    let mut app = cockpit();
    let screen = render_text(&mut app, 80, 24);
    assert!(!screen.contains("hunter2"), "{screen}");
    assert_snapshot!(screen);
}

#[test]
fn cockpit_200x50() {
    let mut app = cockpit();
    let _ = app.load_summary(ns("acme/payments"));
    let _ = app.on_event(AppEvent::Summary {
        ns: ns("acme/payments"),
        generation: app.summary_generation,
        result: Ok(Box::new(payments_summary())),
    });
    let screen = render_text(&mut app, 200, 50);
    assert!(!screen.contains("hunter2"), "{screen}");
    assert_snapshot!(screen);
}

fn unreachable_app() -> App {
    use vnsh::engine::reader::ReadError;
    let mut app = app_at("acme/payments");
    let _ = app.on_event(AppEvent::Health(Err(ReadError {
        message: "cannot reach https://vault.example.com:8200: connection refused".into(),
        unreachable: true,
    })));
    app
}

#[test]
fn server_unreachable_80x24() {
    let mut app = unreachable_app();
    assert_snapshot!(render_text(&mut app, 80, 24));
}

#[test]
fn server_unreachable_200x50() {
    let mut app = unreachable_app();
    assert_snapshot!(render_text(&mut app, 200, 50));
}

fn filtering() -> App {
    let mut app = app_at("/");
    app.focus = Focus::Tree;
    let key = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    app.on_key(key('/'));
    for c in "pay".chars() {
        app.on_key(key(c));
    }
    app
}

#[test]
fn tree_filter_80x24() {
    let mut app = filtering();
    assert_snapshot!(render_text(&mut app, 80, 24));
}

#[test]
fn tree_filter_200x50() {
    let mut app = filtering();
    assert_snapshot!(render_text(&mut app, 200, 50));
}

#[test]
fn help_80x24() {
    let mut app = app_at("/");
    app.dialog = Some(Dialog::Help { scroll: 0 });
    assert_snapshot!(render_text(&mut app, 80, 24));
}

#[test]
fn help_200x50() {
    let mut app = app_at("/");
    app.dialog = Some(Dialog::Help { scroll: 20 });
    assert_snapshot!(render_text(&mut app, 200, 50));
}
