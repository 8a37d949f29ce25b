//! The TUI's key-to-frame time (goal: p99 under 16 ms with 10,000 namespaces known): the
//! app with 11,110 namespaces listed and open in the tree and 100 responses (some of
//! them masked secrets), drawn on ratatui's `TestBackend` after every key — the work the
//! event loop does between a key and the bytes of its frame, diffed as over SSH.
//! `cargo bench --bench tui`. No server needed.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use vnsh::engine::nspath::NsPath;
use vnsh::engine::{Output, View};
use vnsh::tui::app::{App, AppEvent, Focus};
use vnsh::tui::engine::EngineEvent;
use vnsh::tui::keymap::Keymap;
use vnsh::tui::theme::Theme;
use vnsh::tui::ui;

const TENANTS: usize = 100;
const TEAMS: usize = 10;
const ENVS: usize = 10;
const RESPONSES: usize = 100;

fn ns(s: &str) -> NsPath {
    NsPath::parse(s).expect("namespace")
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// The app: 100 tenants × 10 teams × 10 environments listed and open, 100 responses.
fn app() -> App {
    let mut app = App::new(
        Theme::default(),
        Keymap::defaults(),
        "https://vault:8200",
        NsPath::root(),
    );
    let tenant = |t: usize| format!("tenant-{t:03}");
    app.tree.set_children(
        &NsPath::root(),
        Ok((0..TENANTS)
            .map(|t| (format!("{}/", tenant(t)), t % 17 == 0))
            .collect()),
    );
    for t in 0..TENANTS {
        let tp = ns(&tenant(t));
        app.tree.expand(&tp);
        app.tree.set_children(
            &tp,
            Ok((0..TEAMS)
                .map(|m| (format!("team-{m:02}/"), false))
                .collect()),
        );
        for m in 0..TEAMS {
            let mp = tp.child(&format!("team-{m:02}"));
            app.tree.expand(&mp);
            app.tree.set_children(
                &mp,
                Ok((0..ENVS).map(|e| (format!("env-{e}/"), e == 3)).collect()),
            );
        }
    }
    for i in 0..RESPONSES {
        let rows: Vec<Vec<String>> = (0..30)
            .map(|r| {
                vec![
                    format!("key-{r}"),
                    format!("value number {r} of response {i}"),
                ]
            })
            .collect();
        let command = if i % 3 == 0 {
            format!("read secret/data/app{i}")
        } else {
            format!("ls tenant-{:03}", i % TENANTS)
        };
        let _ = app.on_event(AppEvent::Engine(EngineEvent::Finished {
            id: 0,
            ns: "/".into(),
            command,
            result: Ok(Output {
                json: Some(json!({"data": {"i": i}})),
                view: View::Table {
                    header: vec!["KEY".into(), "VALUE".into()],
                    rows,
                },
                notes: vec![],
            }),
            unlock_key: None,
            mutating: false,
        }));
    }
    app
}

struct Scenario {
    name: &'static str,
    focus: Focus,
    keys: Vec<Event>,
}

fn scenarios() -> Vec<Scenario> {
    let keys = |codes: &[KeyCode], n: usize| -> Vec<Event> {
        codes
            .iter()
            .cycle()
            .take(n)
            .map(|c| Event::Key(key(*c)))
            .collect()
    };
    let typed: Vec<Event> = "cd tenant-042/team-03/env-7 "
        .chars()
        .cycle()
        .take(400)
        .map(|c| Event::Key(key(KeyCode::Char(c))))
        .collect();
    let mut filter = vec![Event::Key(key(KeyCode::Char('/')))];
    for round in 0..20 {
        filter.extend("t42m3e7".chars().map(|c| Event::Key(key(KeyCode::Char(c)))));
        filter.extend((0..7).map(|_| Event::Key(key(KeyCode::Backspace))));
        if round % 5 == 4 {
            filter.push(Event::Key(key(KeyCode::Down)));
        }
    }
    vec![
        Scenario {
            name: "tree: ↓ through 11,110 namespaces",
            focus: Focus::Tree,
            keys: keys(&[KeyCode::Down], 600),
        },
        Scenario {
            name: "tree: PgDn/PgUp, → ←",
            focus: Focus::Tree,
            keys: keys(
                &[
                    KeyCode::PageDown,
                    KeyCode::PageDown,
                    KeyCode::Right,
                    KeyCode::Left,
                    KeyCode::PageUp,
                ],
                400,
            ),
        },
        Scenario {
            name: "tree: / filter over 11,110, typing and deleting",
            focus: Focus::Tree,
            keys: filter,
        },
        Scenario {
            name: "responses: ↑ ↓ PgUp [ ] F5",
            focus: Focus::Responses,
            keys: keys(
                &[
                    KeyCode::Up,
                    KeyCode::PageUp,
                    KeyCode::Char('['),
                    KeyCode::F(5),
                    KeyCode::Down,
                    KeyCode::Char(']'),
                ],
                600,
            ),
        },
        Scenario {
            name: "input: typing a line (400 keys)",
            focus: Focus::Input,
            keys: typed,
        },
        Scenario {
            name: "Tab around the panes, F2 table/JSON",
            focus: Focus::Input,
            keys: keys(&[KeyCode::Tab, KeyCode::F(2)], 300),
        },
    ]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let started = Instant::now();
    let base = app();
    let built = started.elapsed();
    let nodes = base.tree.known().count();
    println!(
        "{nodes} namespaces known (all open), {} responses; set up in {}",
        base.responses.entries.len(),
        ms(built)
    );
    // What a change to the tree costs: the changed namespace's rows built again and
    // spliced in (expanding or collapsing a tenant of 110 namespaces).
    let mut tree = base.tree.clone();
    let rebuild = (0..20)
        .map(|i| {
            let t = Instant::now();
            if i % 2 == 0 {
                tree.collapse(&ns("tenant-099"));
            } else {
                let _ = tree.expand(&ns("tenant-099"));
            }
            let _ = tree.rows();
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    println!(
        "a tenant expanded or collapsed (its rows spliced in), best of 20: {}",
        ms(rebuild)
    );
    // The first look at a tree nobody has drawn yet builds every row.
    let fresh = app().tree;
    let t = Instant::now();
    let _ = fresh.rows();
    println!(
        "every row of the tree built from nothing (the first frame): {}",
        ms(t.elapsed())
    );
    println!();
    println!("| screen | keys | key events | p50 | p99 | max |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut worst = Duration::ZERO;
    for (cols, rows) in [(80u16, 24u16), (200, 50)] {
        for sc in scenarios() {
            let mut app = app();
            app.on_resize(cols, rows);
            app.focus = sc.focus;
            if sc.focus == Focus::Tree {
                app.tree.selected = ns("tenant-050/team-05/env-5");
            }
            let mut terminal = match Terminal::new(TestBackend::new(cols, rows)) {
                Ok(t) => t,
                Err(never) => match never {},
            };
            if let Err(never) = terminal.draw(|f| ui::draw(f, &app)) {
                match never {}
            }
            let mut times = Vec::with_capacity(sc.keys.len());
            for ev in &sc.keys {
                let t = Instant::now();
                let _ = app.on_events(std::slice::from_ref(ev));
                if let Err(never) = terminal.draw(|f| ui::draw(f, &app)) {
                    match never {}
                }
                times.push(t.elapsed());
                // A command line typed is kept short, as people type them.
                if app.input.text().len() > 120 {
                    app.input.take();
                }
            }
            times.sort();
            let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
            let (p50, p99, max) = (
                pick(0.5),
                pick(0.99),
                *times.last().unwrap_or(&Duration::ZERO),
            );
            worst = worst.max(p99);
            println!(
                "| {cols}×{rows} | {} | {} | {} | {} | {} |",
                sc.name,
                times.len(),
                ms(p50),
                ms(p99),
                ms(max)
            );
        }
    }
    println!();
    // A paste without bracketed-paste markers: 100,000 characters as key events, a burst
    // per 1 KiB read (what the terminal delivers), a frame after each burst.
    let mut pasted = Duration::MAX;
    for _ in 0..3 {
        let mut app = app();
        app.on_resize(200, 50);
        let mut terminal = match Terminal::new(TestBackend::new(200, 50)) {
            Ok(t) => t,
            Err(never) => match never {},
        };
        let events: Vec<Event> = "write secret/data/blob value="
            .chars()
            .chain("0123456789abcdef".chars().cycle())
            .take(100_000)
            .map(|c| Event::Key(key(KeyCode::Char(c))))
            .collect();
        let t = Instant::now();
        for chunk in events.chunks(1024) {
            let _ = app.on_events(chunk);
            if let Err(never) = terminal.draw(|f| ui::draw(f, &app)) {
                match never {}
            }
        }
        pasted = pasted.min(t.elapsed());
        assert_eq!(app.input.text().len(), 100_000);
    }
    println!(
        "an unbracketed paste of 100,000 characters (98 bursts, a frame after each, best of 3): {}",
        ms(pasted)
    );
    println!(
        "worst p99: {} (goal: under 16 ms) — {}",
        ms(worst),
        if worst < Duration::from_millis(16) {
            "met"
        } else {
            "NOT met"
        }
    );
}
