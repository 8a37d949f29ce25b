//! The TUI's state and what keys and events do to it. Pure: no terminal, no network.
//! What the app wants done outside (run a line, list a namespace, copy) comes back as
//! [`Effect`]s for the event loop; drawing is `ui::draw` of this state.
//!
//! The input model (docs/tui.md, "Typing"): every character typed is text for the
//! command line, wherever the focus is. Panes act on keys that type nothing (arrows,
//! Enter, function keys, Alt- and Ctrl- keys) and on `/ * ? [ ]`, which no command starts
//! with. Keys arrive in bursts (all that the terminal has sent so far, [`App::on_events`]):
//! an Enter inside a burst of pasted text is a line break of the paste, never a submit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::oneshot;

use crate::engine::commands::explore::Summary;
use crate::engine::nspath::NsPath;
use crate::engine::reader::{Child, ReadError, Subtree};
use crate::engine::session::Marks;
use crate::engine::{complete, words};

use super::engine::EngineEvent;
use super::input::{History, LineEditor, ReverseSearch, MAX_LINE};
use super::keymap::{help_rows, Action, Keymap, Scope};
use super::layout;
use super::mask;
use super::responses::{Entry, ResponsePane, Search, ViewMode};
use super::theme::Theme;
use super::tree_pane::{TreeFilter, TreePane};

/// Which pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The command line.
    #[default]
    Input,
    /// The namespace tree.
    Tree,
    /// The responses.
    Responses,
}

pub use crate::engine::reader::{Health, TokenInfo};

/// The server stopped answering: since when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// When it was first seen not answering.
    pub since: Instant,
    /// Why, in words (the last failure).
    pub reason: String,
}

/// What the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The server address.
    pub server: String,
    /// The current namespace.
    pub cwd: NsPath,
    /// The locked namespace that covers it.
    pub locked: Option<NsPath>,
    /// Sealed (here or above) or being deleted, as the engine last saw it.
    pub marks: Marks,
    /// Who the token is (None while it is being asked).
    pub token: Option<Result<TokenInfo, String>>,
    /// When the token was looked up: its remaining TTL counts from there.
    pub token_at: Option<Instant>,
    /// The server's state (None while it is being asked).
    pub health: Option<Result<Health, String>>,
    /// The server does not answer (None: it does, or it was not asked yet).
    pub down: Option<Down>,
    /// The cluster id of the server that answers at the address: another id is another
    /// server, and everything known of the old one is dropped.
    pub cluster: Option<String>,
    /// TLS certificates go unchecked (skip-verify): a warning that never leaves the bar.
    pub insecure: bool,
    /// The session refuses every mutating command (`--read-only`).
    pub read_only: bool,
}

/// A one-line message above the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Something went wrong.
    Error(String),
    /// Something to know.
    Info(String),
}

/// The command in flight.
#[derive(Debug, Clone)]
pub struct Running {
    /// Its job id.
    pub id: u64,
    /// What it is (redacted).
    pub label: String,
    /// When it started.
    pub started: Instant,
    /// It waits for the answer to a question (nothing runs yet: no spinner).
    pub asking: bool,
    /// Its progress line, when it is a long walk (`find: 12/40 namespaces`).
    pub progress: Option<String>,
}

/// The completion popup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Popup {
    /// The candidates, best first.
    pub items: Vec<String>,
    /// The selected one.
    pub selected: usize,
    /// Where the word being completed starts (a byte offset in the line).
    pub start: usize,
    /// Candidates are still being fetched.
    pub pending: bool,
    /// The input revision it was computed for ([`LineEditor::rev`]): for any other, it is
    /// stale, and is neither shown nor inserted.
    pub rev: u64,
    /// The completion context it was computed with (bumped by each prompt).
    pub context: u64,
}

/// What is typed in the hidden-input dialog: never shown, never in `Debug`.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct SecretInput(String);

impl SecretInput {
    /// Text typed so far (tests build a dialog with it).
    pub fn new(text: &str) -> SecretInput {
        SecretInput(text.to_string())
    }

    /// How many characters were typed (what the mask shows).
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    fn push_str(&mut self, text: &str) {
        self.0.push_str(text);
    }

    fn pop(&mut self) {
        self.0.pop();
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    fn take(&mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretInput({} chars)", self.chars())
    }
}

/// A window over everything else.
#[derive(Debug)]
pub enum Dialog {
    /// A command asks for a secret (`login`'s password), typed unseen.
    Secret {
        /// What is asked.
        label: String,
        /// What is typed so far (shown masked).
        value: SecretInput,
        /// Where the secret goes (dropping it cancels).
        reply: Option<oneshot::Sender<String>>,
    },
    /// A destructive command asks first.
    Confirm {
        /// The question.
        question: String,
        /// Where the answer goes.
        reply: Option<oneshot::Sender<bool>>,
    },
    /// A lock's unlock key, shown prominently.
    UnlockKey {
        /// The namespace locked and where the key was saved (the response's text).
        text: String,
        /// The key.
        key: String,
        /// Warnings (the key could not be saved).
        notes: Vec<String>,
        /// It was copied with OSC 52.
        copied: bool,
    },
    /// The keys.
    Help {
        /// The first line shown.
        scroll: usize,
    },
}

/// The summary pane's knowledge of one namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryState {
    /// Being read.
    Loading,
    /// Read (parts the token may not read say so inside).
    Ready(Box<Summary>),
    /// Could not be read at all (the namespace is gone).
    Failed(String),
}

/// What the event loop should do for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a command line to the engine.
    Run {
        /// The job id.
        id: u64,
        /// The line.
        line: String,
    },
    /// Cancel a job.
    Cancel(u64),
    /// List the children of a namespace for the tree.
    LoadChildren(NsPath),
    /// Walk the whole subtree of a namespace for the tree ("expand all").
    LoadSubtree(NsPath),
    /// Read a namespace's summary for the summary pane.
    LoadSummary {
        /// The namespace.
        ns: NsPath,
        /// The cache generation it is for (answers for an older one are dropped).
        generation: u64,
    },
    /// Ask the server's health now (a request found it unreachable).
    CheckHealth,
    /// Ask who the token is again.
    LookupToken,
    /// The server changed (it came back, or another one answers at the address): the
    /// engine asks who it is again, forgets what completion knew and looks at here.
    Recheck,
    /// Append a (redacted) line to the history file.
    AddHistory(String),
    /// Put text on the clipboard with OSC 52.
    Copy(String),
    /// Tell the app when the completion cache has filled.
    WatchCache,
    /// Tell the app when the session's index is open (what it knows can show at once).
    WatchIndex,
    /// Clear the terminal and draw everything again.
    Redraw,
}

/// Events from the background tasks.
#[derive(Debug)]
pub enum AppEvent {
    /// From the engine task.
    Engine(EngineEvent),
    /// The children of a namespace, or why they could not be listed.
    Children {
        /// The namespace listed.
        ns: NsPath,
        /// Its children.
        result: Result<Vec<Child>, ReadError>,
    },
    /// The whole subtree of a namespace, or why it could not be walked.
    Subtree {
        /// The namespace walked.
        ns: NsPath,
        /// What is below it.
        result: Result<Subtree, ReadError>,
    },
    /// A namespace's summary, or why it could not be read.
    Summary {
        /// The namespace.
        ns: NsPath,
        /// The cache generation it was asked for.
        generation: u64,
        /// What was read.
        result: Result<Box<Summary>, ReadError>,
    },
    /// Who the token is.
    Token(Result<TokenInfo, ReadError>),
    /// The server's state.
    Health(Result<Health, ReadError>),
    /// The completion cache filled something.
    CacheFilled,
    /// The session's index is open.
    IndexOpened,
}

/// How long a dialog shows before it takes keys: what arrives sooner was typed before the
/// question could be read (type-ahead), and goes to the command line once it closes.
pub const DIALOG_GUARD: Duration = Duration::from_millis(250);

/// At most this many keys typed ahead of a dialog are kept for the command line.
const HELD_MAX: usize = 4096;

/// A burst of at least this many characters is a paste, not typing: an Enter in it (or
/// ending it) is a line break of the paste.
pub const PASTE_MIN: usize = 64;

/// A paste with line breaks that arrives in several reads: an Enter this soon after it
/// is still one of its line breaks.
const PASTE_GAP: Duration = Duration::from_millis(30);

/// A line longer than this gets no completion (the popup would say nothing useful).
const COMPLETE_MAX: usize = 16 * 1024;

/// How a burst of input is going: what was typed in it, and its pasted line breaks.
#[derive(Debug, Default)]
struct Burst {
    typed: usize,
    breaks: usize,
    cut: bool,
}

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    /// Styles and symbols.
    pub theme: Theme,
    /// Key bindings.
    pub keymap: Keymap,
    /// The status bar.
    pub status: Status,
    /// Where the session started (the tree's top when the root cannot be listed).
    pub home: NsPath,
    /// Which pane has the keys.
    pub focus: Focus,
    /// The command line.
    pub input: LineEditor,
    /// Lines typed before.
    pub history: History,
    /// Ctrl-R in progress.
    pub rsearch: Option<ReverseSearch>,
    /// The completion popup.
    pub popup: Option<Popup>,
    /// The namespace tree.
    pub tree: TreePane,
    /// The tree's filter (`/`), while it is open.
    pub filter: Option<TreeFilter>,
    /// Show the tree pane (F4).
    pub show_tree: bool,
    /// Summaries of the namespaces the tree cursor rested on.
    pub summaries: BTreeMap<NsPath, SummaryState>,
    /// Bumped when the summaries are dropped (reconnect, a change to the server).
    pub summary_generation: u64,
    /// The responses.
    pub responses: ResponsePane,
    /// Show secret values in the responses as they are (`[tui] mask_secrets = false`).
    pub show_secrets: bool,
    /// Alias name → what it stands for (an alias of `read` masks as `read` does).
    pub aliases: BTreeMap<String, String>,
    /// The line above the input.
    pub message: Option<Message>,
    /// The command in flight.
    pub running: Option<Running>,
    /// The open dialog.
    pub dialog: Option<Dialog>,
    /// When the dialog opened (None: it takes keys at once). Until [`DIALOG_GUARD`] has
    /// passed, keys are type-ahead for the command line.
    pub dialog_opened: Option<Instant>,
    /// Characters typed ahead of the dialog, for the command line once it closes.
    held: Vec<KeyEvent>,
    /// Spinner frame.
    pub tick: usize,
    /// The terminal size (columns, rows).
    pub size: (u16, u16),
    /// The last unlock key a lock returned.
    pub last_unlock_key: Option<String>,
    /// What completion needs (None before the engine has started, and in tests).
    pub completion: Option<complete::Context>,
    /// Bumped with each new completion context.
    completion_gen: u64,
    /// The line changed since completion last looked at it.
    completion_due: bool,
    /// A cache watcher is running.
    pub watching_cache: bool,
    /// The popup was closed with Esc; it stays closed until the next edit.
    pub popup_dismissed: bool,
    /// The burst of keys being handled.
    burst: Burst,
    /// A multi-line paste was seen until then (its next read may start with an Enter).
    paste_until: Option<Instant>,
    /// The next character typed starts a new line of a paste.
    pending_break: bool,
    /// A command of this session failed (the exit status).
    pub failed: bool,
    /// Time to go.
    pub quit: bool,
    next_id: u64,
}

impl App {
    /// A fresh app for `server`, starting in `home`.
    pub fn new(theme: Theme, keymap: Keymap, server: &str, home: NsPath) -> App {
        let mut app = App {
            theme,
            keymap,
            status: Status {
                server: server.to_string(),
                cwd: home.clone(),
                locked: None,
                marks: Marks::default(),
                token: None,
                token_at: None,
                health: None,
                down: None,
                cluster: None,
                insecure: false,
                read_only: false,
            },
            tree: TreePane::new(NsPath::root()),
            filter: None,
            home,
            focus: Focus::Input,
            input: LineEditor::default(),
            history: History::default(),
            rsearch: None,
            popup: None,
            show_tree: true,
            summaries: BTreeMap::new(),
            summary_generation: 0,
            responses: ResponsePane::default(),
            show_secrets: false,
            aliases: BTreeMap::new(),
            message: None,
            running: None,
            dialog: None,
            dialog_opened: None,
            held: Vec::new(),
            tick: 0,
            size: (80, 24),
            last_unlock_key: None,
            completion: None,
            completion_gen: 0,
            completion_due: false,
            watching_cache: false,
            popup_dismissed: false,
            burst: Burst::default(),
            paste_until: None,
            pending_break: false,
            failed: false,
            quit: false,
            next_id: 1,
        };
        app.relayout();
        app
    }

    /// The effects to run when the app starts: list the top of the tree, show home.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut fx = Vec::new();
        let top = self.tree.top.clone();
        self.tree.mark_loading(&top);
        fx.push(Effect::LoadChildren(top));
        let home = self.home.clone();
        fx.extend(
            self.tree
                .reveal(&home)
                .into_iter()
                .map(Effect::LoadChildren),
        );
        fx
    }

    /// Show at once what the session knows below `ns` (its listings, the index), while
    /// the server is asked: `open` for everything below (expand all), else its children.
    /// The rows stay provisional until the server's listing replaces them.
    pub fn show_known(&mut self, ns: &NsPath, open: bool) {
        let Some(ctx) = &self.completion else {
            return;
        };
        if let Some(below) = ctx.cache.known_below(ns, (!open).then_some(1)) {
            self.tree.set_known(ns, &below, open);
            let th = self.tree_height();
            self.tree.scroll_into_view(th);
        }
    }

    /// A command is in flight.
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Something on screen changes with time alone (a TTL counting down, how long the
    /// server has been away, a dialog about to take keys): the loop redraws every second.
    pub fn clock_shown(&self) -> bool {
        let ttl_soon = match (&self.status.token, self.status.token_at) {
            (Some(Ok(TokenInfo { ttl: Some(t), .. })), Some(at)) => {
                t.saturating_sub(at.elapsed().as_secs()) < 3600
            }
            _ => false,
        };
        ttl_soon || self.status.down.is_some() || self.guard_pending()
    }

    /// A dialog is open and does not take keys yet.
    pub fn guard_pending(&self) -> bool {
        self.dialog.is_some()
            && self
                .dialog_opened
                .is_some_and(|t| t.elapsed() < DIALOG_GUARD)
    }

    /// How often the server's health is asked: more often while it does not answer.
    pub fn health_every(&self) -> Duration {
        if self.status.down.is_some() {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(3)
        }
    }

    fn areas(&self) -> layout::Areas {
        layout::layout(
            ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1),
            self.show_tree,
            self.focus == Focus::Tree,
        )
    }

    /// Lines of content the response pane shows.
    pub fn response_height(&self) -> usize {
        usize::from(self.areas().responses.height.saturating_sub(2))
    }

    fn tree_height(&self) -> usize {
        self.areas()
            .tree
            .map_or(0, |r| usize::from(r.height.saturating_sub(2)))
    }

    /// Whether the tree pane is on screen now.
    pub fn tree_visible(&self) -> bool {
        self.areas().tree.is_some()
    }

    /// The namespace whose summary the pane wants and does not have: the one under the
    /// tree cursor, when the summary pane is on screen (and the server answers). The event
    /// loop asks for it once the cursor has rested there a moment ([`App::load_summary`]).
    pub fn summary_wanted(&self) -> Option<NsPath> {
        self.areas().summary?;
        if self.status.down.is_some() {
            return None;
        }
        let sel = &self.tree.selected;
        (!self.summaries.contains_key(sel)).then(|| sel.clone())
    }

    /// Read the summary of `ns` (unless it is known or being read).
    pub fn load_summary(&mut self, ns: NsPath) -> Vec<Effect> {
        if self.summaries.contains_key(&ns) {
            return Vec::new();
        }
        self.summaries.insert(ns.clone(), SummaryState::Loading);
        vec![Effect::LoadSummary {
            ns,
            generation: self.summary_generation,
        }]
    }

    /// Forget every summary (the server changed, or another token looks at it).
    fn drop_summaries(&mut self) {
        self.summaries.clear();
        self.summary_generation += 1;
    }

    /// The panes' widths follow the layout (prose in the responses wraps at it).
    fn relayout(&mut self) {
        self.responses.width = usize::from(self.areas().responses.width.saturating_sub(2));
    }

    /// The terminal was resized.
    pub fn on_resize(&mut self, cols: u16, rows: u16) {
        self.size = (cols, rows);
        self.relayout();
        let h = self.response_height();
        let max = self.responses.total().saturating_sub(h);
        // Keep the selected response in view (from its header) when the pane shrinks.
        let keep = match self.responses.selected {
            Some(sel) => self.responses.start_of(sel).max(self.responses.scroll),
            None => self.responses.scroll,
        };
        self.responses.scroll = keep.min(max);
        let th = self.tree_height();
        self.tree.scroll_into_view(th);
    }

    /// The spinner moves on.
    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }

    /// An interrupt (SIGINT): what the cancel key does.
    pub fn interrupt(&mut self) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.act(Action::Cancel, &mut fx);
        fx
    }

    /// Text pasted into the terminal (bracketed paste).
    pub fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        self.on_events(&[Event::Paste(text.to_string())])
    }

    /// A key was pressed (a burst of one).
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.on_events(&[Event::Key(key)])
    }

    /// What the terminal sent since the last look, in order: keys, pastes, resizes. A
    /// burst is handled as a whole: completion looks at the line once at its end, and an
    /// Enter among pasted characters breaks the paste's lines instead of running them.
    pub fn on_events(&mut self, events: &[Event]) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.burst = Burst::default();
        // Whether a character follows each event in this burst (one pass from the end).
        let mut char_after = vec![false; events.len()];
        let mut seen = false;
        for (i, ev) in events.iter().enumerate().rev() {
            char_after[i] = seen;
            seen |= matches!(ev, Event::Key(k) if typed_char(k).is_some())
                || matches!(ev, Event::Paste(_));
        }
        for (ev, more) in events.iter().zip(char_after) {
            match ev {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    if self.is_pasted_break(key, more) {
                        self.burst.breaks += 1;
                        self.pending_break = true;
                    } else {
                        self.key(*key, &mut fx);
                    }
                }
                Event::Paste(text) => self.paste(text, &mut fx),
                Event::Resize(cols, rows) => self.on_resize(*cols, *rows),
                _ => {}
            }
        }
        self.end_burst(&mut fx);
        fx
    }

    /// Whether `key` is an Enter that breaks a paste's lines (see [`App::on_events`]).
    fn is_pasted_break(&self, key: &KeyEvent, char_follows: bool) -> bool {
        let enter = key.code == KeyCode::Enter
            || (key.code == KeyCode::Char('j') && key.modifiers == KeyModifiers::CONTROL);
        if !enter || self.focus != Focus::Input || self.dialog.is_some() || self.rsearch.is_some() {
            return false;
        }
        char_follows
            || self.burst.breaks > 0
            || self.burst.typed >= PASTE_MIN
            || self.paste_until.is_some_and(|t| Instant::now() < t)
    }

    fn end_burst(&mut self, fx: &mut Vec<Effect>) {
        let burst = std::mem::take(&mut self.burst);
        if burst.breaks > 0 || burst.typed >= PASTE_MIN {
            self.paste_until = Some(Instant::now() + PASTE_GAP);
        }
        if burst.breaks > 0 {
            let lines = burst.breaks + usize::from(!self.pending_break);
            self.message = Some(Message::Info(format!(
                "pasted {lines} lines as one line of commands (`;` between them): Enter runs them, Ctrl-U clears"
            )));
        }
        if burst.cut {
            self.message = Some(Message::Error(format!(
                "the line is full ({} MiB): the rest was not taken; a value that large belongs in a file (k=@FILE)",
                MAX_LINE >> 20
            )));
        }
        if self.completion_due {
            self.completion_due = false;
            self.refresh_completion(fx);
        }
        self.relayout();
    }

    fn paste(&mut self, text: &str, fx: &mut Vec<Effect>) {
        if let Some(Dialog::Secret { value, .. }) = self.dialog.as_mut() {
            // A password manager pastes: the first line is the secret.
            value.push_str(text.lines().next().unwrap_or_default());
            return;
        }
        if self.dialog.is_some() {
            return;
        }
        if let Some(s) = self.responses.search.as_mut().filter(|s| s.editing) {
            s.query.push_str(text.lines().next().unwrap_or_default());
            return;
        }
        if let Some(f) = self.filter.as_mut() {
            for c in text.lines().next().unwrap_or_default().chars() {
                f.push(c);
            }
            return;
        }
        self.rsearch = None;
        self.focus = Focus::Input;
        if self.pending_break {
            self.pending_break = false;
            self.input.line_break();
        }
        let pasted = self.input.insert_str(text);
        self.burst.typed += text.len();
        if pasted.lines > 1 {
            self.burst.breaks += pasted.lines - 1;
        }
        self.burst.cut |= pasted.cut;
        self.edited(fx);
    }

    /// Type one character into the command line (from wherever the focus was).
    fn type_char(&mut self, c: char, fx: &mut Vec<Effect>) {
        self.focus = Focus::Input;
        if self.pending_break {
            self.pending_break = false;
            // A pasted line break is kept only while the paste goes on.
            if self.burst.typed > 0
                || self.burst.breaks > 0
                || self.paste_until.is_some_and(|t| Instant::now() < t)
            {
                self.burst.cut |= !self.input.line_break();
            }
        }
        if self.input.insert(c) {
            self.burst.typed += 1;
        } else {
            self.burst.cut = true;
        }
        self.edited(fx);
    }

    fn key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) {
        if self.dialog.is_some() {
            if self.guard_pending() {
                // Typed before the question could be read: not an answer.
                if self.held.len() < HELD_MAX {
                    self.held.push(key);
                }
                return;
            }
            self.dialog_key(key, fx);
            if self.dialog.is_none() {
                self.replay_held(fx);
            }
            return;
        }
        if self.rsearch.is_some() && self.rsearch_key(key, fx) {
            return;
        }
        if self.responses.search.as_ref().is_some_and(|s| s.editing) {
            self.search_key(key);
            return;
        }
        if self.filter.is_some() && self.filter_key(key, fx) {
            return;
        }
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if plain
            && key.code == KeyCode::Char('?')
            && (self.focus != Focus::Input || self.input.is_empty())
        {
            self.open_dialog(Dialog::Help { scroll: 0 }, false);
            return;
        }
        // A key of the popup (Tab, ↑/↓) typed in the same burst as the characters before
        // it acts on candidates for the line as it is now, never on older ones.
        if self.completion_due
            && self.focus == Focus::Input
            && self.keymap.action(&[Scope::Popup], &key).is_some()
        {
            self.completion_due = false;
            self.refresh_completion(fx);
        }
        let mut scopes = Vec::with_capacity(4);
        if self.focus == Focus::Input && self.popup_open() {
            scopes.push(Scope::Popup);
        }
        scopes.push(Scope::Global);
        match self.focus {
            Focus::Input => scopes.push(Scope::Input),
            Focus::Tree => scopes.extend([Scope::Tree, Scope::Pane]),
            Focus::Responses => scopes.extend([Scope::Responses, Scope::Pane]),
        }
        if let Some(action) = self.keymap.action(&scopes, &key) {
            self.act(action, fx);
            return;
        }
        if let Some(c) = typed_char(&key) {
            // Every character is text for the command line, from any pane.
            self.type_char(c, fx);
        }
    }

    /// The keys typed ahead of a dialog that just closed go to the command line: the
    /// characters and Backspace (an Enter among them does not run anything unseen).
    fn replay_held(&mut self, fx: &mut Vec<Effect>) {
        for key in std::mem::take(&mut self.held) {
            match (typed_char(&key), key.code) {
                (Some(c), _) => self.type_char(c, fx),
                (None, KeyCode::Backspace) => {
                    self.input.delete_back();
                    self.edited(fx);
                }
                _ => {}
            }
        }
    }

    fn open_dialog(&mut self, dialog: Dialog, guarded: bool) {
        self.popup = None;
        self.dialog = Some(dialog);
        self.dialog_opened = guarded.then(Instant::now);
    }

    /// Whether the completion popup is showing: open, and computed for the line as it is.
    pub fn popup_open(&self) -> bool {
        self.focus == Focus::Input
            && self.dialog.is_none()
            && self.rsearch.is_none()
            && self.popup.as_ref().is_some_and(|p| {
                (!p.items.is_empty() || p.pending)
                    && p.rev == self.input.rev()
                    && p.context == self.completion_gen
            })
    }

    fn act(&mut self, action: Action, fx: &mut Vec<Effect>) {
        let rh = self.response_height();
        let th = self.tree_height();
        match action {
            Action::Help => self.open_dialog(Dialog::Help { scroll: 0 }, false),
            Action::Quit => {
                if !self.input.is_empty() {
                    // readline: Ctrl-D on a line deletes; it quits only on an empty one.
                    if self.focus == Focus::Input {
                        self.input.delete_forward();
                        self.edited(fx);
                    }
                } else if self.busy() {
                    self.message = Some(Message::Info(
                        "a command is running: Ctrl-C cancels it, then Ctrl-D quits".into(),
                    ));
                } else {
                    self.quit = true;
                }
            }
            Action::Cancel => {
                if let Some(r) = &self.running {
                    fx.push(Effect::Cancel(r.id));
                    self.message = Some(Message::Info("cancelling…".into()));
                } else if !self.input.is_empty() {
                    self.input.take();
                    self.popup = None;
                    self.history.reset();
                } else {
                    self.message = Some(Message::Info("Ctrl-D or `exit` quits".into()));
                }
            }
            Action::FocusNext => self.cycle_focus(true),
            Action::FocusPrev => self.cycle_focus(false),
            Action::Close => {
                if self.popup_open() {
                    self.popup = None;
                    self.popup_dismissed = true;
                } else if self.responses.search.is_some() {
                    self.responses.search = None;
                } else if self.focus != Focus::Input {
                    self.focus = Focus::Input;
                } else {
                    self.message = None;
                }
            }
            Action::ToggleView => self.responses.toggle_mode(rh),
            Action::Copy if self.focus == Focus::Tree => {
                let path = self.tree.selected.display();
                fx.push(Effect::Copy(path.clone()));
                self.message = Some(Message::Info(format!("copied {path} (OSC 52)")));
            }
            Action::Copy => self.copy_selected(fx),
            Action::Reveal => {
                self.message = Some(Message::Info(match self.responses.toggle_reveal(rh) {
                    Some(true) => format!(
                        "secret values shown for this response ({} masks them again)",
                        self.keymap.first_key(Action::Reveal, self.theme.ascii)
                    ),
                    Some(false) => "secret values masked again".into(),
                    None => "the selected response has no secret values".into(),
                }));
            }
            Action::ToggleTree => {
                self.show_tree = !self.show_tree;
                if !self.show_tree && self.focus == Focus::Tree {
                    self.focus = Focus::Input;
                }
            }
            Action::PageUp | Action::PageDown => {
                let down = action == Action::PageDown;
                match self.focus {
                    Focus::Tree => {
                        let page = th.max(2) as isize - 1;
                        self.tree.move_by(if down { page } else { -page });
                        self.tree.scroll_into_view(th);
                    }
                    _ => {
                        let page = rh.max(2) as isize - 1;
                        self.responses
                            .scroll_by(if down { page } else { -page }, rh);
                    }
                }
            }
            Action::Redraw => fx.push(Effect::Redraw),
            Action::CompleteAccept => self.accept_completion(fx),
            Action::CompleteNext | Action::CompletePrev => {
                if let Some(p) = self.popup.as_mut().filter(|p| !p.items.is_empty()) {
                    let n = p.items.len();
                    p.selected = if action == Action::CompleteNext {
                        (p.selected + 1) % n
                    } else {
                        (p.selected + n - 1) % n
                    };
                }
            }
            Action::Submit => self.submit(fx),
            Action::HistoryPrev => {
                if let Some(line) = self.history.older(self.input.text()) {
                    self.input.set(&line);
                    self.popup = None;
                }
            }
            Action::HistoryNext => {
                if let Some(line) = self.history.newer() {
                    self.input.set(&line);
                    self.popup = None;
                }
            }
            Action::HistorySearch => {
                let original = self.input.text().to_string();
                self.rsearch = Some(ReverseSearch {
                    original,
                    ..ReverseSearch::default()
                });
                self.popup = None;
            }
            Action::LineStart => self.input.home(),
            Action::LineEnd => self.input.end(),
            Action::CharLeft => self.input.left(),
            Action::CharRight => self.input.right(),
            Action::WordLeft => self.input.word_left(),
            Action::WordRight => self.input.word_right(),
            Action::DeleteBack
            | Action::DeleteForward
            | Action::KillToStart
            | Action::KillToEnd
            | Action::KillWord
            | Action::Yank => {
                match action {
                    Action::DeleteBack => self.input.delete_back(),
                    Action::DeleteForward => self.input.delete_forward(),
                    Action::KillToStart => self.input.kill_to_start(),
                    Action::KillToEnd => self.input.kill_to_end(),
                    Action::KillWord => self.input.kill_word(),
                    _ => self.input.yank(),
                }
                self.edited(fx);
            }
            Action::Up | Action::Down => {
                let delta = if action == Action::Down { 1 } else { -1 };
                match self.focus {
                    Focus::Tree => {
                        self.tree.move_by(delta);
                        self.tree.scroll_into_view(th);
                    }
                    _ => self.responses.scroll_by(delta, rh),
                }
            }
            Action::Top | Action::Bottom => {
                let bottom = action == Action::Bottom;
                match self.focus {
                    Focus::Tree => {
                        self.tree.select_edge(bottom);
                        self.tree.scroll_into_view(th);
                    }
                    _ => self.responses.scroll_to_edge(bottom, rh),
                }
            }
            Action::Expand => {
                let sel = self.tree.selected.clone();
                let expanded = self.tree.node(&sel).is_some_and(|n| n.expanded);
                if expanded {
                    // Already open: step to its first child.
                    self.tree.move_by(1);
                } else {
                    fx.extend(self.tree.expand(&sel).map(Effect::LoadChildren));
                }
                self.tree.scroll_into_view(th);
            }
            Action::Collapse => {
                let sel = self.tree.selected.clone();
                let expanded = self.tree.node(&sel).is_some_and(|n| n.expanded);
                if expanded && sel != self.tree.top {
                    self.tree.collapse(&sel);
                } else if let Some(parent) = sel.parent().filter(|p| p.starts_with(&self.tree.top))
                {
                    self.tree.selected = parent;
                }
                self.tree.scroll_into_view(th);
            }
            Action::ExpandAll => {
                let sel = self.tree.selected.clone();
                self.tree.expand_known(&sel);
                fx.push(Effect::LoadSubtree(sel.clone()));
                self.message = Some(Message::Info(format!(
                    "listing everything below {}{}",
                    sel.display(),
                    self.theme.ellipsis()
                )));
                self.tree.scroll_into_view(th);
            }
            Action::Filter => self.open_filter(fx),
            Action::CdSelected
            | Action::TreeLs
            | Action::TreeDescribe
            | Action::TreeLock
            | Action::TreeUnlock => {
                let line = tree_line(action, &self.tree.selected, &self.status.cwd);
                if self.busy() {
                    self.message = Some(Message::Error(
                        "a command is running: wait for it, or Ctrl-C to cancel it".into(),
                    ));
                } else {
                    // What the tree runs is a command line like any other, and the keys go
                    // back to the command line after it.
                    self.focus = Focus::Input;
                    self.run_line(&line, fx);
                }
            }
            Action::ReloadTree => self.reload_tree(fx),
            Action::Search => {
                self.responses.search = Some(Search {
                    editing: true,
                    ..Search::default()
                });
            }
            Action::SearchNext | Action::SearchPrev => {
                if self.responses.search.is_some() {
                    let forward = action == Action::SearchNext;
                    if !self.responses.find(forward, false, rh) {
                        self.message = Some(Message::Info("no more matches".into()));
                    }
                }
            }
            Action::PrevResponse => self.responses.select_by(-1, rh),
            Action::NextResponse => self.responses.select_by(1, rh),
            Action::ScrollLeft => {
                self.responses.hscroll = self.responses.hscroll.saturating_sub(8);
            }
            Action::ScrollRight => self.responses.hscroll += 8,
            Action::Yes | Action::No | Action::DialogCopy => {}
        }
    }

    fn cycle_focus(&mut self, forward: bool) {
        let mut order = vec![Focus::Input];
        if self.show_tree {
            order.push(Focus::Tree);
        }
        order.push(Focus::Responses);
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        }];
        self.filter = None;
        if self.focus == Focus::Tree {
            let th = self.tree_height();
            self.tree.scroll_into_view(th);
        }
    }

    /// `/` in the tree: rank every namespace known (listed here, or walked by completion;
    /// what the walk has not brought yet joins the ranking when it arrives).
    fn open_filter(&mut self, fx: &mut Vec<Effect>) {
        let mut known: Vec<NsPath> = self.tree.known().cloned().collect();
        let mut recent = Vec::new();
        let mut walking = false;
        if let Some(ctx) = &self.completion {
            match ctx.cache.namespaces() {
                Some(all) => known.extend(all),
                None => walking = true,
            }
            recent = ctx.cache.recent();
        }
        let mut filter = TreeFilter::new(&self.tree.top, known, &recent);
        filter.walking = walking;
        self.filter = Some(filter);
        if walking && !self.watching_cache {
            self.watching_cache = true;
            fx.push(Effect::WatchCache);
        }
    }

    /// Keys while the tree's filter is open. Returns false when the key is not the
    /// filter's (it closes, and the key does what it does).
    fn filter_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) -> bool {
        let Some(filter) = self.filter.as_mut() else {
            return false;
        };
        let action = self.keymap.action(&[Scope::Global, Scope::Pane], &key);
        match (key.code, action) {
            (_, Some(Action::Close | Action::Cancel)) => self.filter = None,
            (KeyCode::Enter, _) => {
                let chosen = filter.chosen().cloned();
                self.filter = None;
                if let Some(target) = chosen {
                    fx.extend(
                        self.tree
                            .reveal(&target)
                            .into_iter()
                            .map(Effect::LoadChildren),
                    );
                    let th = self.tree_height();
                    self.tree.scroll_into_view(th);
                }
            }
            (KeyCode::Backspace, _) => filter.pop(),
            (_, Some(Action::Up)) => filter.move_by(-1),
            (_, Some(Action::Down)) => filter.move_by(1),
            (_, Some(Action::PageUp)) => filter.move_by(-8),
            (_, Some(Action::PageDown)) => filter.move_by(8),
            _ => match typed_char(&key) {
                Some(c) => filter.push(c),
                None => {
                    self.filter = None;
                    return false;
                }
            },
        }
        true
    }

    fn copy_selected(&mut self, fx: &mut Vec<Effect>) {
        let mode = self.responses.mode;
        let Some(entry) = self.responses.selected_entry() else {
            self.message = Some(Message::Info("nothing to copy".into()));
            return;
        };
        let text = entry.copy_text(mode);
        if text.is_empty() {
            self.message = Some(Message::Info("nothing to copy".into()));
            return;
        }
        let what = if entry.copy_value.is_some() {
            "the unlock key".to_string()
        } else if entry.has_secrets() {
            format!("{} lines, secret values included", text.lines().count())
        } else {
            format!("{} lines", text.lines().count())
        };
        fx.push(Effect::Copy(text));
        self.message = Some(Message::Info(format!("copied {what} (OSC 52)")));
    }

    fn reload_tree(&mut self, fx: &mut Vec<Effect>) {
        self.drop_summaries();
        for ns in self.tree.expanded() {
            self.tree.mark_loading(&ns);
            fx.push(Effect::LoadChildren(ns));
        }
    }

    /// Everything known of the server is dropped and read again: it came back after it
    /// did not answer, or another server answers at the address.
    fn server_changed(&mut self, why: String, fx: &mut Vec<Effect>) {
        self.drop_summaries();
        self.filter = None;
        let top = self.tree.top.clone();
        self.tree = TreePane::new(top.clone());
        self.tree.mark_loading(&top);
        fx.push(Effect::LoadChildren(top));
        let cwd = self.status.cwd.clone();
        fx.extend(self.tree.reveal(&cwd).into_iter().map(Effect::LoadChildren));
        let th = self.tree_height();
        self.tree.scroll_into_view(th);
        fx.push(Effect::Recheck);
        fx.push(Effect::LookupToken);
        self.message = Some(Message::Info(why));
    }

    /// A request found the server unreachable: the status bar says so, and health is
    /// asked at once (then every few seconds until it answers).
    fn unreachable(&mut self, reason: &str, fx: &mut Vec<Effect>) {
        if self.status.down.is_none() {
            self.status.down = Some(Down {
                since: Instant::now(),
                reason: reason.to_string(),
            });
            fx.push(Effect::CheckHealth);
        }
    }

    /// The line changed: history navigation ends, completion follows (at the end of the
    /// burst).
    fn edited(&mut self, _fx: &mut Vec<Effect>) {
        self.history.reset();
        self.popup_dismissed = false;
        self.completion_due = true;
    }

    /// Ask the completer for the word before the cursor. Never waits: what is not known
    /// yet is being fetched, and [`AppEvent::CacheFilled`] brings it. Whenever the
    /// candidates change, the best one is selected.
    pub fn refresh_completion(&mut self, fx: &mut Vec<Effect>) {
        let Some(ctx) = &self.completion else {
            self.popup = None;
            return;
        };
        let before = self.input.before_cursor();
        if before.trim().is_empty() || self.popup_dismissed || before.len() > COMPLETE_MAX {
            self.popup = None;
            return;
        }
        let (items, pending) = complete::candidates(ctx, before);
        let start = words::last_word_start(before);
        let current = &before[start..];
        // The word as typed is no suggestion.
        let items: Vec<String> = items.into_iter().filter(|i| i != current).collect();
        let selected = match &self.popup {
            // The same candidates for the same word: the choice made in them stays.
            Some(p) if p.items == items && p.start == start => p.selected,
            _ => 0,
        };
        self.popup = if items.is_empty() && !pending {
            None
        } else {
            Some(Popup {
                items,
                selected,
                start,
                pending,
                rev: self.input.rev(),
                context: self.completion_gen,
            })
        };
        if pending && !self.watching_cache {
            self.watching_cache = true;
            fx.push(Effect::WatchCache);
        }
    }

    fn accept_completion(&mut self, fx: &mut Vec<Effect>) {
        // Candidates computed for another line (the line changed in this burst) are never
        // inserted: ask again for the line as it is, and take the best.
        if !self.popup_open() {
            self.refresh_completion(fx);
        }
        if !self.popup_open() {
            self.popup = None;
            return;
        }
        let Some(p) = self.popup.take() else {
            return;
        };
        let Some(item) = p.items.get(p.selected) else {
            self.popup = Some(p);
            return;
        };
        let mut word = words::quote_word(item);
        let at_end = self.input.cursor() == self.input.text().len();
        if !item.ends_with('/') && at_end {
            word.push(' ');
        }
        self.input.replace_before_cursor(p.start, &word);
        self.edited(fx);
    }

    fn submit(&mut self, fx: &mut Vec<Effect>) {
        let line = self.input.text().to_string();
        if line.trim().is_empty() {
            return;
        }
        if self.busy() {
            self.message = Some(Message::Error(
                "a command is running: wait for it, or Ctrl-C to cancel it".into(),
            ));
            return;
        }
        self.input.take();
        self.popup = None;
        self.popup_dismissed = false;
        self.pending_break = false;
        self.run_line(&line, fx);
    }

    fn run_line(&mut self, line: &str, fx: &mut Vec<Effect>) {
        if self.busy() {
            self.message = Some(Message::Error(
                "a command is running: wait for it, or Ctrl-C to cancel it".into(),
            ));
            return;
        }
        // History never holds a secret; a line typed with a leading space is not kept.
        if !line.starts_with(' ') {
            let redacted = words::redact_line(line.trim());
            if self.history.push(&redacted) {
                fx.push(Effect::AddHistory(redacted));
            }
        }
        self.history.reset();
        let id = self.next_id;
        self.next_id += 1;
        self.running = Some(Running {
            id,
            label: words::redact_line(line.trim()),
            started: Instant::now(),
            asking: false,
            progress: None,
        });
        self.message = None;
        fx.push(Effect::Run {
            id,
            line: line.to_string(),
        });
    }

    fn dialog_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) {
        let action = self
            .keymap
            .action(&[Scope::Dialog, Scope::Global, Scope::Pane], &key);
        let plain_q = key.code == KeyCode::Char('q') || key.code == KeyCode::Char('?');
        match self.dialog.take() {
            Some(Dialog::Secret {
                label,
                mut value,
                reply,
            }) => {
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match (key.code, action) {
                    (KeyCode::Esc, _) | (_, Some(Action::Cancel)) => {
                        self.message = Some(Message::Info("cancelled".into()));
                    }
                    (KeyCode::Enter, _) => {
                        if let Some(reply) = reply {
                            let _ = reply.send(value.take());
                        }
                    }
                    (code, _) => {
                        match code {
                            KeyCode::Backspace => value.pop(),
                            KeyCode::Char('u') if ctrl => value.clear(),
                            KeyCode::Char(c)
                                if !key
                                    .modifiers
                                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
                            {
                                value.push_str(c.encode_utf8(&mut [0; 4]))
                            }
                            _ => {}
                        }
                        self.dialog = Some(Dialog::Secret {
                            label,
                            value,
                            reply,
                        });
                    }
                }
            }
            Some(Dialog::Confirm { question, reply }) => {
                let answer = match action {
                    Some(Action::Yes) => Some(true),
                    Some(Action::No | Action::Close | Action::Cancel) => Some(false),
                    _ => None,
                };
                match (answer, reply) {
                    (Some(a), Some(reply)) => {
                        let _ = reply.send(a);
                    }
                    (None, reply) => {
                        self.message = Some(Message::Info(format!(
                            "answer the question: {} yes, {} no",
                            self.keymap.first_key(Action::Yes, self.theme.ascii),
                            self.keymap.first_key(Action::No, self.theme.ascii)
                        )));
                        self.dialog = Some(Dialog::Confirm { question, reply })
                    }
                    (Some(_), None) => {}
                }
            }
            Some(Dialog::UnlockKey {
                text,
                key: unlock,
                notes,
                copied,
            }) => {
                let closes = matches!(key.code, KeyCode::Enter | KeyCode::Esc)
                    || matches!(action, Some(Action::Close | Action::Cancel));
                if matches!(action, Some(Action::DialogCopy | Action::Copy)) {
                    fx.push(Effect::Copy(unlock.clone()));
                    self.message = Some(Message::Info("copied the unlock key (OSC 52)".into()));
                    self.dialog = Some(Dialog::UnlockKey {
                        text,
                        key: unlock,
                        notes,
                        copied: true,
                    });
                } else if closes {
                } else if typed_char(&key).is_some() {
                    // The key stays in the responses (F3 copies it) and in the key store:
                    // a character typed closes the dialog and goes to the command line.
                    self.held.push(key);
                } else {
                    self.dialog = Some(Dialog::UnlockKey {
                        text,
                        key: unlock,
                        notes,
                        copied,
                    })
                }
            }
            Some(Dialog::Help { scroll }) => {
                let page = usize::from(self.size.1.saturating_sub(6)).max(1);
                let scroll = match action {
                    Some(Action::Close | Action::Help | Action::Cancel) => return,
                    _ if plain_q => return,
                    Some(Action::Up) => scroll.saturating_sub(1),
                    Some(Action::Down) => scroll + 1,
                    Some(Action::PageUp) => scroll.saturating_sub(page),
                    Some(Action::PageDown) => scroll + page,
                    Some(Action::Top) => 0,
                    Some(Action::Bottom) => usize::MAX / 2,
                    _ => scroll,
                };
                // Wrapped lines are more than rows: the drawing stops at the last one.
                let max = 3 * help_rows(&self.keymap, self.theme.ascii).len();
                self.dialog = Some(Dialog::Help {
                    scroll: scroll.min(max),
                });
            }
            None => {}
        }
        if self.dialog.is_none() {
            self.dialog_opened = None;
        }
    }

    /// Keys while Ctrl-R is open. Returns false when the key ends the search and should
    /// then be handled as usual.
    fn rsearch_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) -> bool {
        let Some(mut rs) = self.rsearch.take() else {
            return false;
        };
        let action = self.keymap.action(&[Scope::Global, Scope::Input], &key);
        let ctrl_g = key.code == KeyCode::Char('g') && key.modifiers == KeyModifiers::CONTROL;
        match (action, key.code) {
            (Some(Action::HistorySearch), _) => {
                let before = rs.found;
                match self.history.search(&rs.query, before) {
                    Some(i) => {
                        rs.found = Some(i);
                        rs.failed = false;
                    }
                    None => rs.failed = true,
                }
            }
            (Some(Action::Close | Action::Cancel), _) => {
                self.input.set(&rs.original);
                return true;
            }
            _ if ctrl_g => {
                self.input.set(&rs.original);
                return true;
            }
            (Some(Action::DeleteBack), _) => {
                rs.query.pop();
                rs.found = self.history.search(&rs.query, None);
                rs.failed = rs.found.is_none() && !rs.query.is_empty();
            }
            (Some(Action::Submit), _) => {
                if let Some(line) = rs.found.and_then(|i| self.history.get(i)) {
                    self.input.set(line);
                }
                self.submit(fx);
                return true;
            }
            (None, KeyCode::Char(c))
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                rs.query.push(c);
                let from = rs.found.map(|i| i + 1);
                rs.found = self.history.search(&rs.query, from);
                rs.failed = rs.found.is_none();
            }
            _ => {
                // Any other key takes the found line and does what it does.
                if let Some(line) = rs.found.and_then(|i| self.history.get(i)) {
                    self.input.set(line);
                }
                return false;
            }
        }
        if let Some(line) = rs.found.and_then(|i| self.history.get(i)) {
            self.input.set(line);
        }
        self.rsearch = Some(rs);
        true
    }

    fn search_key(&mut self, key: KeyEvent) {
        let rh = self.response_height();
        let action = self.keymap.action(&[Scope::Global, Scope::Input], &key);
        let Some(search) = self.responses.search.as_mut() else {
            return;
        };
        match (action, key.code) {
            (Some(Action::Close | Action::Cancel), _) => self.responses.search = None,
            (Some(Action::Submit), _) => {
                search.editing = false;
                if search.current.is_none() && !self.responses.find(true, true, rh) {
                    self.message = Some(Message::Info("no match".into()));
                }
            }
            (Some(Action::DeleteBack), _) => {
                search.query.pop();
                search.current = None;
            }
            (_, KeyCode::Char(c))
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                search.query.push(c);
                search.current = None;
                // Incremental: show the first match from the top line as it is typed.
                self.responses.find(true, true, rh);
            }
            _ => {}
        }
    }

    /// An event from a background task.
    pub fn on_event(&mut self, ev: AppEvent) -> Vec<Effect> {
        let mut fx = Vec::new();
        match ev {
            AppEvent::Engine(e) => self.on_engine(e, &mut fx),
            AppEvent::Children { ns, result } => {
                if let Err(e) = &result {
                    if e.unreachable {
                        self.unreachable(&e.message, &mut fx);
                    }
                }
                let failed_top =
                    result.as_ref().is_err_and(|e| !e.unreachable) && ns == self.tree.top;
                let result = result.map_err(|e| {
                    if e.unreachable {
                        "server unreachable".to_string()
                    } else {
                        e.message
                    }
                });
                self.tree.set_listing(&ns, result);
                // A token that may not list the root (a delegated admin) sees its home.
                if failed_top && self.tree.top.is_root() && !self.home.is_root() {
                    self.tree = TreePane::new(self.home.clone());
                    let top = self.tree.top.clone();
                    self.tree.mark_loading(&top);
                    fx.push(Effect::LoadChildren(top));
                    let cwd = self.status.cwd.clone();
                    fx.extend(self.tree.reveal(&cwd).into_iter().map(Effect::LoadChildren));
                }
                let th = self.tree_height();
                self.tree.scroll_into_view(th);
            }
            AppEvent::Subtree { ns, result } => match result {
                Ok(s) => {
                    let n = s.entries.len();
                    self.tree.set_subtree(&ns, s.entries, s.unlisted);
                    self.message = Some(Message::Info(format!(
                        "{n} namespaces below {}",
                        ns.display()
                    )));
                    let th = self.tree_height();
                    self.tree.scroll_into_view(th);
                }
                Err(e) => {
                    if e.unreachable {
                        self.unreachable(&e.message, &mut fx);
                    }
                    self.message = Some(Message::Error(format!(
                        "error: cannot list below {}: {}",
                        ns.display(),
                        e.message
                    )));
                }
            },
            AppEvent::Summary {
                ns,
                generation,
                result,
            } => {
                if generation == self.summary_generation {
                    match result {
                        Ok(s) => {
                            self.summaries.insert(ns, SummaryState::Ready(s));
                        }
                        // Not kept: it is read again once the server answers.
                        Err(e) if e.unreachable => {
                            self.summaries.remove(&ns);
                            self.unreachable(&e.message, &mut fx);
                        }
                        Err(e) => {
                            self.summaries.insert(ns, SummaryState::Failed(e.message));
                        }
                    }
                }
            }
            AppEvent::Token(t) => match t {
                Ok(info) => {
                    self.status.token = Some(Ok(info));
                    self.status.token_at = Some(Instant::now());
                }
                Err(e) if e.unreachable => self.unreachable(&e.message, &mut fx),
                Err(e) => {
                    // An expired token cannot look itself up: it stays shown as expired.
                    if !self.token_expired() {
                        self.status.token = Some(Err(e.message));
                    }
                }
            },
            AppEvent::Health(h) => self.on_health(h, &mut fx),
            AppEvent::IndexOpened => {
                for ns in self.tree.waiting() {
                    self.show_known(&ns, false);
                }
            }
            AppEvent::CacheFilled => {
                self.watching_cache = false;
                if self.focus == Focus::Input && !self.input.is_empty() {
                    self.refresh_completion(&mut fx);
                }
                if let Some(f) = self.filter.as_ref().filter(|f| f.walking) {
                    // The rest of the tree arrived: rank it too, keeping what is typed.
                    let query = f.query.clone();
                    self.open_filter(&mut fx);
                    if let Some(f) = self.filter.as_mut() {
                        for c in query.chars() {
                            f.push(c);
                        }
                    }
                }
            }
        }
        fx
    }

    /// Whether the token's TTL has run out (as counted since its lookup).
    pub fn token_expired(&self) -> bool {
        matches!(
            (&self.status.token, self.status.token_at),
            (Some(Ok(TokenInfo { ttl: Some(t), .. })), Some(at)) if at.elapsed().as_secs() >= *t
        )
    }

    fn on_health(&mut self, h: Result<Health, ReadError>, fx: &mut Vec<Effect>) {
        match h {
            Ok(h) => {
                let came_back = self.status.down.take();
                let other = match (&self.status.cluster, &h.cluster_id) {
                    (Some(old), Some(new)) => old != new,
                    _ => false,
                };
                if h.cluster_id.is_some() {
                    self.status.cluster = h.cluster_id.clone();
                }
                self.status.health = Some(Ok(h));
                if other {
                    self.server_changed(
                        format!(
                            "another server answers at {} (its cluster id changed): the tree, the summary and completion were read again",
                            self.status.server
                        ),
                        fx,
                    );
                } else if let Some(down) = came_back {
                    self.server_changed(
                        format!(
                            "the server answers again (after {}): the tree, the summary and completion were read again",
                            human(down.since.elapsed())
                        ),
                        fx,
                    );
                }
            }
            Err(e) if e.unreachable => {
                if self.status.down.is_none() {
                    self.status.down = Some(Down {
                        since: Instant::now(),
                        reason: e.message.clone(),
                    });
                } else if let Some(d) = self.status.down.as_mut() {
                    d.reason = e.message.clone();
                }
                self.status.health = Some(Err(e.message));
            }
            Err(e) => self.status.health = Some(Err(e.message)),
        }
    }

    fn on_engine(&mut self, ev: EngineEvent, fx: &mut Vec<Effect>) {
        let rh = self.response_height();
        match ev {
            EngineEvent::Prompt {
                cwd,
                locked,
                marks,
                context,
            } => {
                let moved = cwd != self.status.cwd;
                self.status.cwd = cwd.clone();
                self.status.locked = locked;
                self.status.marks = marks;
                let new_cache = self
                    .completion
                    .as_ref()
                    .is_none_or(|c| !std::sync::Arc::ptr_eq(&c.cache, &context.cache));
                if new_cache {
                    // A new session cache (the first, or one for the token's top): its
                    // index opens in the background, and what it knows is shown while
                    // the tree's listings are on their way.
                    fx.push(Effect::WatchIndex);
                }
                self.completion = Some(context);
                self.completion_gen += 1;
                if moved {
                    fx.extend(self.tree.reveal(&cwd).into_iter().map(Effect::LoadChildren));
                    let th = self.tree_height();
                    self.tree.scroll_into_view(th);
                }
                if !self.input.is_empty() {
                    self.refresh_completion(fx);
                }
            }
            EngineEvent::Started { id, command } => {
                if let Some(r) = self.running.as_mut().filter(|r| r.id == id) {
                    r.label = command;
                    // The question (if any) was answered: the command runs from now.
                    if r.asking {
                        r.asking = false;
                        r.started = Instant::now();
                    }
                }
            }
            EngineEvent::Secret { label, reply } => {
                // No guard: what is typed goes into the secret, never into the command
                // line (a password typed quickly must not land in the history).
                self.open_dialog(
                    Dialog::Secret {
                        label,
                        value: SecretInput::default(),
                        reply: Some(reply),
                    },
                    false,
                );
            }
            EngineEvent::Reconnected { top, home, .. } => {
                // Another token (or the first look at it): who it is is asked again, and
                // the tree starts at its namespace (nothing above it is reachable).
                self.home = home;
                self.status.token = None;
                self.status.token_at = None;
                if top == self.tree.top {
                    self.reload_tree(fx);
                } else {
                    self.drop_summaries();
                    self.filter = None;
                    self.tree = TreePane::new(top.clone());
                    self.tree.mark_loading(&top);
                    fx.push(Effect::LoadChildren(top));
                    let cwd = self.status.cwd.clone();
                    fx.extend(self.tree.reveal(&cwd).into_iter().map(Effect::LoadChildren));
                }
                let th = self.tree_height();
                self.tree.scroll_into_view(th);
            }
            EngineEvent::Confirm {
                id,
                question,
                reply,
            } => {
                if let Some(r) = self.running.as_mut().filter(|r| r.id == id) {
                    r.asking = true;
                }
                self.open_dialog(
                    Dialog::Confirm {
                        question,
                        reply: Some(reply),
                    },
                    true,
                );
            }
            EngineEvent::Finished {
                ns,
                command,
                result,
                unlock_key,
                mutating,
                ..
            } => {
                let secret = !self.show_secrets
                    && result.is_ok()
                    && mask::carries_secrets(&command, |w| self.aliases.get(w).cloned());
                let mut entry = if secret {
                    let mark = if self.theme.ascii {
                        mask::ASCII_MARK
                    } else {
                        mask::MARK
                    };
                    let hint = format!(
                        "secret values masked: {} shows them, {} copies them",
                        self.keymap.first_key(Action::Reveal, self.theme.ascii),
                        self.keymap.first_key(Action::Copy, self.theme.ascii)
                    );
                    Entry::masked(&ns, &command, &result, mark, &hint)
                } else {
                    Entry::new(&ns, &command, &result)
                };
                entry.copy_value = unlock_key.clone();
                self.responses.push(entry, rh);
                match &result {
                    Err(e) => {
                        self.failed = true;
                        let first = e.lines().next().unwrap_or_default();
                        self.message = Some(Message::Error(format!("error: {first}")));
                    }
                    Ok(out) => {
                        if let Some(note) = out.notes.first() {
                            self.message = Some(Message::Info(note.clone()));
                        }
                    }
                }
                if let (Some(key), Ok(out)) = (unlock_key, &result) {
                    self.last_unlock_key = Some(key.clone());
                    self.open_dialog(
                        Dialog::UnlockKey {
                            text: out.view.render_text(),
                            key,
                            notes: out.notes.clone(),
                            copied: false,
                        },
                        true,
                    );
                }
                if mutating && result.is_ok() {
                    self.reload_tree(fx);
                }
            }
            EngineEvent::Cancelled { .. } => {
                if let Some(r) = &self.running {
                    let entry = Entry::new(
                        &self.status.cwd.display(),
                        &r.label,
                        &Err("cancelled (Ctrl-C)".into()),
                    );
                    self.responses.push(entry, rh);
                }
                if matches!(
                    self.dialog,
                    Some(Dialog::Confirm { .. } | Dialog::Secret { .. })
                ) {
                    self.dialog = None;
                    self.dialog_opened = None;
                    self.replay_held(fx);
                }
                self.message = Some(Message::Info("cancelled".into()));
            }
            EngineEvent::Done { id, exit, failed } => {
                if self.running.as_ref().is_some_and(|r| r.id == id) {
                    self.running = None;
                }
                self.failed |= failed;
                if exit {
                    self.quit = true;
                }
            }
            EngineEvent::Progress(line) => {
                if let Some(r) = self.running.as_mut() {
                    r.progress = line;
                }
            }
            EngineEvent::Notice(text) => {
                let first = text.lines().next().unwrap_or_default().to_string();
                self.message = Some(Message::Error(format!("error: {first}")));
            }
            EngineEvent::Unreachable(reason) => self.unreachable(&reason, fx),
        }
    }

    /// The mode responses are shown in.
    pub fn set_view_mode(&mut self, mode: ViewMode) {
        self.responses.mode = mode;
    }
}

/// The character a key types, if it types one (no Ctrl, no Alt).
fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// The command line a tree action runs on `target`, from `cwd`: `cd`, `ls` and `describe`
/// take its full path; `lock` and `unlock` take a path below here, so for a namespace
/// elsewhere the line goes to its parent first.
pub fn tree_line(action: Action, target: &NsPath, cwd: &NsPath) -> String {
    let full = words::quote_word(&format!("/{}", target.segments().join("/")));
    let verb = match action {
        Action::TreeLs => "ls",
        Action::TreeDescribe => "describe",
        Action::TreeLock => "lock",
        Action::TreeUnlock => "unlock",
        _ => "cd",
    };
    match verb {
        "lock" | "unlock" => {
            let below = target.strip_prefix(cwd);
            match below {
                Some(rel) if rel.is_root() => verb.to_string(),
                Some(rel) => format!("{verb} {}", words::quote_word(&rel.display())),
                None => {
                    let parent = target.parent().unwrap_or_else(NsPath::root);
                    let parent = words::quote_word(&format!("/{}", parent.segments().join("/")));
                    let name = words::quote_word(target.name().unwrap_or_default());
                    format!("cd {parent}; {verb} {name}")
                }
            }
        }
        _ => format!("{verb} {full}"),
    }
}

/// A duration for people: `42s`, `3m10s`, `2h5m`, `3d`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 if s.is_multiple_of(60) => format!("{}m", s / 60),
        60..=3599 => format!("{}m{}s", s / 60, s % 60),
        3600..=86_399 if (s % 3600) < 60 => format!("{}h", s / 3600),
        3600..=86_399 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NsPath {
        NsPath::parse(s).unwrap()
    }

    #[test]
    fn tree_lines() {
        let cwd = p("acme");
        assert_eq!(
            tree_line(Action::CdSelected, &p("acme/web"), &cwd),
            "cd /acme/web"
        );
        assert_eq!(tree_line(Action::TreeLs, &NsPath::root(), &cwd), "ls /");
        assert_eq!(
            tree_line(Action::TreeDescribe, &p("acme/web"), &cwd),
            "describe /acme/web"
        );
        assert_eq!(
            tree_line(Action::TreeLock, &p("acme/web/prod"), &cwd),
            "lock web/prod"
        );
        assert_eq!(tree_line(Action::TreeUnlock, &p("acme"), &cwd), "unlock");
        assert_eq!(
            tree_line(Action::TreeLock, &p("globex/x"), &cwd),
            "cd /globex; lock x"
        );
        assert_eq!(
            tree_line(Action::TreeLock, &p("globex"), &cwd),
            "cd /; lock globex"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human(Duration::from_secs(42)), "42s");
        assert_eq!(human(Duration::from_secs(190)), "3m10s");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(7500)), "2h5m");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 5)), "3d");
    }
}
