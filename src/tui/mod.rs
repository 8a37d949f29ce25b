//! The full-screen front end (ratatui + crossterm): a status bar, the namespace tree, the
//! responses and one command line, on the same engine as line mode.
//!
//! The [`Session`] runs in its own task ([`engine`]); the UI loop `select!`s over the
//! terminal's events, the engine's events, background fetches and a spinner tick, so a
//! slow server never freezes typing, scrolling or resizing. The [`app::App`] is pure state;
//! [`ui::draw`] is a function of it, which the snapshot tests call on a `TestBackend`.

pub mod app;
pub mod engine;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod mask;
pub mod osc52;
pub mod responses;
pub mod text;
pub mod theme;
pub mod tree_pane;
pub mod ui;

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Stdout, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event, EventStream};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use futures::StreamExt;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::Terminal;
use rustyline::history::{FileHistory, History as _};
use tokio::sync::mpsc;

use crate::engine::nspath::NsPath;
use crate::engine::reader::Reader;
use crate::engine::store::{secure_file, StateDir};
use crate::engine::{Format, Session};

use app::{App, AppEvent, Effect, Message};
use input::HISTORY_MAX;
use keymap::Keymap;
use responses::ViewMode;
use theme::Theme;

/// How the TUI looks and which keys it uses.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// ASCII borders and symbols (`VNSH_ASCII=1`).
    pub ascii: bool,
    /// Colours (off with `NO_COLOR`).
    pub colours: bool,
    /// Key overrides: action name → keys (`"history_search" → "ctrl-r"`).
    pub keys: BTreeMap<String, String>,
    /// Show secret values in the responses as they are (`[tui] mask_secrets = false`);
    /// masked by default.
    pub show_secrets: bool,
}

/// The terminal the TUI draws on: buffered, so one frame is one write over SSH.
type Tui = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

static HOOK: Once = Once::new();
static PANICKED: AtomicBool = AtomicBool::new(false);
/// The TUI has the terminal (raw mode, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Put the terminal back as it was: cooked mode, main screen, cursor shown. Does nothing
/// unless the TUI has the terminal, so it is safe to call more than once and from anywhere
/// (a panic hook, a signal handler about to exit the process).
pub fn restore_terminal() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restore the terminal before any panic message is printed (once per process).
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            restore_terminal();
            previous(info);
        }));
    });
}

fn init_terminal() -> io::Result<Tui> {
    install_panic_hook();
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
    execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
    terminal.clear()?;
    Ok(terminal)
}

/// The history file shared with line mode (rustyline's format, 0600).
struct HistoryFile {
    file: FileHistory,
    path: PathBuf,
    ok: bool,
}

impl HistoryFile {
    fn open(state: &StateDir) -> (HistoryFile, Option<String>) {
        let config = rustyline::Config::builder()
            .history_ignore_dups(true)
            .and_then(|b| b.history_ignore_space(true).max_history_size(HISTORY_MAX))
            .map(|b| b.build())
            .unwrap_or_default();
        let mut file = FileHistory::with_config(&config);
        let path = state.history_file();
        let checked = state.ensure().and_then(|_| secure_file(&path));
        let (ok, warning) = match checked {
            Ok(()) => (true, None),
            Err(e) => (false, Some(format!("history is off: {e}"))),
        };
        if ok {
            let _ = file.load(&path);
        }
        (HistoryFile { file, path, ok }, warning)
    }

    fn entries(&self) -> Vec<String> {
        self.file.iter().cloned().collect()
    }

    fn add(&mut self, line: &str) {
        if self.ok && self.file.add(line).unwrap_or(false) {
            let _ = self.file.append(&self.path);
        }
    }
}

/// Does what the app asks: talks to the engine task, spawns fetches, writes to the terminal.
struct Runner {
    reader: Reader,
    events: mpsc::UnboundedSender<AppEvent>,
    engine: engine::EngineHandle,
    history: HistoryFile,
    /// The home the token is looked up from.
    home: NsPath,
    /// When health is asked next.
    health_at: tokio::time::Instant,
    /// A health check is in flight (one at a time: a hanging server gets no pile).
    health_asking: bool,
    /// When the token is looked up again (its TTL and whether it still works).
    token_at: tokio::time::Instant,
}

/// How often the token is looked up again.
const TOKEN_EVERY: Duration = Duration::from_secs(60);

impl Runner {
    fn apply(&mut self, terminal: &mut Tui, app: &mut App, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Run { id, line } => {
                    if self
                        .engine
                        .requests
                        .send(engine::Request::Run { id, line })
                        .is_err()
                    {
                        app.running = None;
                        app.message = Some(Message::Error("error: the engine stopped".into()));
                    }
                }
                Effect::Cancel(id) => {
                    let _ = self.engine.cancels.send(id);
                }
                Effect::LoadChildren(ns) => {
                    app.show_known(&ns, false);
                    let reader = self.reader.clone();
                    let tx = self.events.clone();
                    tokio::spawn(async move {
                        let result = reader.children(&ns).await;
                        let _ = tx.send(AppEvent::Children { ns, result });
                    });
                }
                Effect::LoadSubtree(ns) => {
                    app.show_known(&ns, true);
                    let reader = self.reader.clone();
                    let tx = self.events.clone();
                    tokio::spawn(async move {
                        let result = reader.subtree(&ns).await;
                        let _ = tx.send(AppEvent::Subtree { ns, result });
                    });
                }
                Effect::CheckHealth => self.refresh_health(),
                Effect::LookupToken => self.refresh_token(),
                Effect::Recheck => {
                    let _ = self.engine.requests.send(engine::Request::Recheck);
                }
                Effect::LoadSummary { ns, generation } => {
                    let reader = self.reader.clone();
                    let tx = self.events.clone();
                    tokio::spawn(async move {
                        let result = reader.summary(&ns).await.map(Box::new);
                        let _ = tx.send(AppEvent::Summary {
                            ns,
                            generation,
                            result,
                        });
                    });
                }
                Effect::AddHistory(line) => self.history.add(&line),
                Effect::Copy(text) => {
                    let seq = osc52::sequence(&text);
                    let backend = terminal.backend_mut();
                    if backend
                        .write_all(seq.as_bytes())
                        .and_then(|_| backend.flush())
                        .is_err()
                    {
                        app.message = Some(Message::Error("error: could not copy".into()));
                    }
                }
                Effect::WatchIndex => {
                    if let Some(ctx) = app.completion.clone() {
                        let tx = self.events.clone();
                        tokio::spawn(async move {
                            if ctx.cache.indexed(Duration::from_secs(30)).await {
                                let _ = tx.send(AppEvent::IndexOpened);
                            }
                        });
                    }
                }
                Effect::WatchCache => match app.completion.clone() {
                    Some(ctx) => {
                        let tx = self.events.clone();
                        tokio::spawn(async move {
                            ctx.cache.settle(Duration::from_secs(30)).await;
                            let _ = tx.send(AppEvent::CacheFilled);
                        });
                    }
                    None => app.watching_cache = false,
                },
                Effect::Redraw => {
                    let _ = terminal.clear();
                }
            }
        }
    }

    /// The session has another connection (a `login`, the token's first lookup): the
    /// tree, the status bar and health read through it from now on.
    fn reconnected(&mut self, reader: &Reader, home: &NsPath) {
        self.reader = reader.clone();
        self.home = home.clone();
        self.refresh_token();
        self.health_asking = false;
        self.refresh_health();
    }

    fn refresh_token(&mut self) {
        self.token_at = tokio::time::Instant::now() + TOKEN_EVERY;
        let (reader, home, tx) = (self.reader.clone(), self.home.clone(), self.events.clone());
        tokio::spawn(async move {
            let _ = tx.send(AppEvent::Token(reader.token(&home).await));
        });
    }

    fn refresh_health(&mut self) {
        if self.health_asking {
            return;
        }
        self.health_asking = true;
        let reader = self.reader.clone();
        let tx = self.events.clone();
        tokio::spawn(async move {
            let _ = tx.send(AppEvent::Health(reader.health().await));
        });
    }

    /// A health answer came: the next is asked after the app's cadence.
    fn health_answered(&mut self, app: &App) {
        self.health_asking = false;
        self.health_at = tokio::time::Instant::now() + app.health_every();
    }
}

/// At most this many terminal events are taken as one burst (then a frame is drawn).
const BURST_MAX: usize = 1 << 16;

/// Keys that follow each other within this belong to one burst.
const BURST_GAP: Duration = Duration::from_millis(1);

/// The terminal's events: the one that woke the loop and every one already waiting
/// behind it (a paste without bracketed-paste markers arrives as a burst of keys).
/// None when the terminal is gone.
fn drain(first: Event) -> Option<Vec<Event>> {
    let mut burst = vec![first];
    // The stream has just answered, so no waiting task of its own holds the reader: a
    // short poll takes what is there. (Polling the stream itself without a waker would
    // lose its next wake-up; crossterm's /dev/tty reader looks at nothing on a zero
    // timeout, so the poll waits up to a millisecond for the rest of a read.)
    while burst.len() < BURST_MAX {
        match crossterm::event::poll(BURST_GAP) {
            Ok(true) => match crossterm::event::read() {
                Ok(ev) => burst.push(ev),
                Err(_) => return None,
            },
            Ok(false) => break,
            Err(_) => return None,
        }
    }
    Some(burst)
}

async fn recv_signal(sig: &mut Option<tokio::signal::unix::Signal>) {
    match sig {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// How long the tree cursor rests on a namespace before its summary is read.
const SUMMARY_DEBOUNCE: Duration = Duration::from_millis(150);

/// Run the TUI on `session` until the user quits. Returns the exit status: 0, 1 when a
/// command failed (as line mode), 128+N on a signal, 2 when the terminal cannot be used.
pub async fn run(session: Session, options: TuiOptions) -> i32 {
    use tokio::signal::unix::{signal, SignalKind};

    let (keymap, problems) = Keymap::with_overrides(&options.keys);
    let theme = Theme::new(options.colours, options.ascii);
    let reader = Reader::of(&session);
    let home = session.cwd().clone();
    let mut app = App::new(theme, keymap, reader.addr(), home.clone());
    app.status.insecure = reader.skips_verify();
    app.status.read_only = session.options().read_only;
    app.show_secrets = options.show_secrets;
    app.aliases = session
        .aliases()
        .iter()
        .map(|(name, words)| (name.clone(), words.join(" ")))
        .collect();
    if session.options().format == Format::Json {
        app.set_view_mode(ViewMode::Json);
    }
    let (history, warning) = HistoryFile::open(session.state());
    app.history = input::History::new(history.entries());
    if let Some(w) = warning.into_iter().chain(problems).next() {
        app.message = Some(Message::Error(w));
    }

    let mut terminal = match init_terminal() {
        Ok(t) => t,
        Err(e) => {
            restore_terminal();
            eprintln!("error: cannot use the terminal ({e}); try `vnsh --line`");
            return 2;
        }
    };
    if let Ok(size) = terminal.size() {
        app.on_resize(size.width, size.height);
    }

    let (tx, mut rx) = mpsc::unbounded_channel::<AppEvent>();
    let (engine, engine_task) = engine::spawn(session, tx.clone(), AppEvent::Engine);
    let now = tokio::time::Instant::now();
    let mut runner = Runner {
        reader,
        events: tx,
        engine,
        history,
        home,
        health_at: now,
        health_asking: false,
        token_at: now,
    };
    runner.refresh_token();
    let start = app.start();
    runner.apply(&mut terminal, &mut app, start);

    let mut events = EventStream::new();
    let mut spinner = tokio::time::interval(Duration::from_millis(100));
    spinner.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut idle = tokio::time::interval(Duration::from_secs(1));
    let mut term_sig = signal(SignalKind::terminate()).ok();
    let mut hup_sig = signal(SignalKind::hangup()).ok();
    // SIGQUIT's default (a core dump) would leave the terminal raw: it ends the TUI the same way.
    let mut quit_sig = signal(SignalKind::quit()).ok();
    // In raw mode Ctrl-C is a key; a SIGINT from elsewhere means the same: cancel.
    let mut int_sig = signal(SignalKind::interrupt()).ok();
    let mut code: Option<i32> = None;
    let mut dirty = true;
    let mut draw_failures = 0u32;
    // The namespace whose summary is asked for once the cursor has rested on it until then.
    let mut summary_due: Option<(NsPath, tokio::time::Instant)> = None;
    loop {
        if PANICKED.load(Ordering::SeqCst) {
            code = Some(101);
            break;
        }
        if dirty {
            match terminal.draw(|f| ui::draw(f, &app)) {
                Ok(_) => draw_failures = 0,
                // One failure can be a resize race; several in a row: the terminal is gone.
                Err(e) => {
                    draw_failures += 1;
                    if draw_failures >= 3 {
                        restore_terminal();
                        eprintln!("error: cannot draw: {e}");
                        code = Some(1);
                        break;
                    }
                }
            }
        }
        dirty = true;
        let wanted = app.summary_wanted();
        if wanted.as_ref() != summary_due.as_ref().map(|(ns, _)| ns) {
            summary_due = wanted.map(|ns| (ns, tokio::time::Instant::now() + SUMMARY_DEBOUNCE));
        }
        let due_at = summary_due.as_ref().map(|(_, at)| *at);
        let health_at = runner.health_at;
        let token_at = runner.token_at;
        let effects = tokio::select! {
            ev = events.next() => match ev.and_then(Result::ok).and_then(drain) {
                Some(burst) => {
                    // What the engine has already sent is taken in before these keys: a
                    // command whose output is on screen is done before Ctrl-D is read
                    // (the select can pick either of two ready branches first). A key
                    // typed before a dialog could be read is held, not an answer.
                    let mut fx = Vec::new();
                    while let Ok(ev) = rx.try_recv() {
                        fx.extend(on_app_event(&mut runner, &mut app, ev));
                    }
                    if !fx.is_empty() {
                        runner.apply(&mut terminal, &mut app, fx);
                    }
                    app.on_events(&burst)
                }
                None => {
                    // The terminal is gone (the SSH session dropped): nothing to draw on.
                    code = Some(1);
                    break;
                }
            },
            Some(ev) = rx.recv() => on_app_event(&mut runner, &mut app, ev),
            _ = tokio::time::sleep_until(due_at.unwrap_or_else(tokio::time::Instant::now)), if due_at.is_some() => {
                match summary_due.take() {
                    Some((ns, _)) => app.load_summary(ns),
                    None => Vec::new(),
                }
            }
            _ = spinner.tick(), if app.busy() || app.guard_pending() => {
                app.on_tick();
                Vec::new()
            }
            _ = tokio::time::sleep_until(health_at), if !runner.health_asking => {
                runner.refresh_health();
                dirty = false;
                Vec::new()
            }
            _ = tokio::time::sleep_until(token_at) => {
                runner.refresh_token();
                dirty = false;
                Vec::new()
            }
            _ = idle.tick() => {
                // A clock on screen (a TTL, how long the server has been away) moves on.
                dirty = app.clock_shown();
                if app.token_expired() {
                    // Ask once more: it may have been renewed elsewhere.
                    if runner.token_at > tokio::time::Instant::now() + Duration::from_secs(10) {
                        runner.token_at = tokio::time::Instant::now() + Duration::from_secs(10);
                    }
                }
                Vec::new()
            }
            _ = recv_signal(&mut int_sig) => app.interrupt(),
            _ = recv_signal(&mut term_sig) => {
                code = Some(128 + 15);
                break;
            }
            _ = recv_signal(&mut hup_sig) => {
                code = Some(128 + 1);
                break;
            }
            _ = recv_signal(&mut quit_sig) => {
                code = Some(128 + 3);
                break;
            }
        };
        if !effects.is_empty() {
            runner.apply(&mut terminal, &mut app, effects);
        }
        if app.quit {
            break;
        }
    }
    let _ = terminal.backend_mut().flush();
    let _ = terminal.show_cursor();
    drop(terminal);
    restore_terminal();
    // The engine ends when its requests end: it writes what it learnt to the index first
    // (a moment at most; a command still running is dropped).
    drop(runner);
    let mut engine_task = engine_task;
    if tokio::time::timeout(Duration::from_secs(2), &mut engine_task)
        .await
        .is_err()
    {
        engine_task.abort();
    }
    code.unwrap_or(i32::from(app.failed))
}

/// Take in one event of the engine or of a background read; the effects it asks for.
fn on_app_event(runner: &mut Runner, app: &mut App, ev: AppEvent) -> Vec<Effect> {
    match &ev {
        AppEvent::Engine(engine::EngineEvent::Reconnected { reader, home, .. }) => {
            runner.reconnected(reader, home);
        }
        AppEvent::Health(_) => {
            let fx = app.on_event(ev);
            runner.health_answered(app);
            return fx;
        }
        _ => {}
    }
    app.on_event(ev)
}

/// The screen `app` draws at `cols`×`rows`, as plain text (trailing spaces trimmed): what
/// the snapshot tests compare and the docs show.
pub fn render_text(app: &mut App, cols: u16, rows: u16) -> String {
    app.on_resize(cols, rows);
    let mut terminal = match Terminal::new(TestBackend::new(cols, rows)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    if let Err(never) = terminal.draw(|f| ui::draw(f, app)) {
        match never {}
    }
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..rows {
        let mut line = String::new();
        let mut skip = 0usize;
        for x in 0..cols {
            let symbol = buffer[(x, y)].symbol();
            if skip > 0 {
                skip -= 1;
                continue;
            }
            line.push_str(symbol);
            skip = ratatui::text::Span::raw(symbol).width().saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
