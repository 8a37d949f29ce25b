//! The TUI's state and what keys and events do to it. Pure: no terminal, no network.
//! What the app wants done outside (run a line, list a namespace, copy) comes back as
//! [`Effect`]s for the event loop; drawing is `ui::draw` of this state.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::oneshot;

use crate::engine::commands::explore::Summary;
use crate::engine::nspath::NsPath;
use crate::engine::{complete, words};

use super::engine::EngineEvent;
use super::input::{History, LineEditor, ReverseSearch};
use super::keymap::{help_rows, Action, Keymap, Scope};
use super::layout;
use super::responses::{Entry, ResponsePane, Search, ViewMode};
use super::theme::Theme;
use super::tree_pane::TreePane;

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

/// What the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The server address.
    pub server: String,
    /// The current namespace.
    pub cwd: NsPath,
    /// The locked namespace that covers it.
    pub locked: Option<NsPath>,
    /// Who the token is (None while it is being asked).
    pub token: Option<Result<TokenInfo, String>>,
    /// The server's state (None while it is being asked).
    pub health: Option<Result<Health, String>>,
    /// TLS certificates go unchecked (skip-verify): a warning that never leaves the bar.
    pub insecure: bool,
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
    /// Could not be read at all (the namespace is gone, the server is down).
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
    /// Read a namespace's summary for the summary pane.
    LoadSummary {
        /// The namespace.
        ns: NsPath,
        /// The cache generation it is for (answers for an older one are dropped).
        generation: u64,
    },
    /// Append a (redacted) line to the history file.
    AddHistory(String),
    /// Put text on the clipboard with OSC 52.
    Copy(String),
    /// Tell the app when the completion cache has filled.
    WatchCache,
    /// Clear the terminal and draw everything again.
    Redraw,
}

/// Events from the background tasks.
#[derive(Debug)]
pub enum AppEvent {
    /// From the engine task.
    Engine(EngineEvent),
    /// The children of a namespace (name, locked), or why they could not be listed.
    Children {
        /// The namespace listed.
        ns: NsPath,
        /// Its children.
        result: Result<Vec<(String, bool)>, String>,
    },
    /// A namespace's summary, or why it could not be read.
    Summary {
        /// The namespace.
        ns: NsPath,
        /// The cache generation it was asked for.
        generation: u64,
        /// What was read.
        result: Result<Box<Summary>, String>,
    },
    /// Who the token is.
    Token(Result<TokenInfo, String>),
    /// The server's state.
    Health(Result<Health, String>),
    /// The completion cache filled something.
    CacheFilled,
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
    /// Show the tree pane (F4).
    pub show_tree: bool,
    /// Summaries of the namespaces the tree cursor rested on.
    pub summaries: BTreeMap<NsPath, SummaryState>,
    /// Bumped when the summaries are dropped (reconnect, a change to the server).
    pub summary_generation: u64,
    /// The responses.
    pub responses: ResponsePane,
    /// The line above the input.
    pub message: Option<Message>,
    /// The command in flight.
    pub running: Option<Running>,
    /// The open dialog.
    pub dialog: Option<Dialog>,
    /// Spinner frame.
    pub tick: usize,
    /// The terminal size (columns, rows).
    pub size: (u16, u16),
    /// The last unlock key a lock returned.
    pub last_unlock_key: Option<String>,
    /// What completion needs (None before the engine has started, and in tests).
    pub completion: Option<complete::Context>,
    /// A cache watcher is running.
    pub watching_cache: bool,
    /// The popup was closed with Esc; it stays closed until the next edit.
    pub popup_dismissed: bool,
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
                token: None,
                health: None,
                insecure: false,
            },
            tree: TreePane::new(NsPath::root()),
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
            message: None,
            running: None,
            dialog: None,
            tick: 0,
            size: (80, 24),
            last_unlock_key: None,
            completion: None,
            watching_cache: false,
            popup_dismissed: false,
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

    /// A command is in flight.
    pub fn busy(&self) -> bool {
        self.running.is_some()
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
    /// tree cursor, when the summary pane is on screen. The event loop asks for it once
    /// the cursor has rested there a moment ([`App::load_summary`]).
    pub fn summary_wanted(&self) -> Option<NsPath> {
        self.areas().summary?;
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
        let mut fx = Vec::new();
        if let Some(Dialog::Secret { value, .. }) = self.dialog.as_mut() {
            // A password manager pastes: the first line is the secret.
            value.push_str(text.lines().next().unwrap_or_default());
            return fx;
        }
        if self.dialog.is_some() {
            return fx;
        }
        if let Some(s) = self.responses.search.as_mut().filter(|s| s.editing) {
            s.query.push_str(text.lines().next().unwrap_or_default());
            return fx;
        }
        self.rsearch = None;
        self.focus = Focus::Input;
        self.input.insert_str(text);
        self.edited(&mut fx);
        fx
    }

    /// A key was pressed.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mut fx = Vec::new();
        if key.kind == KeyEventKind::Release {
            return fx;
        }
        if self.dialog.is_some() {
            self.dialog_key(key, &mut fx);
            return fx;
        }
        if self.rsearch.is_some() && self.rsearch_key(key, &mut fx) {
            return fx;
        }
        if self.responses.search.as_ref().is_some_and(|s| s.editing) {
            self.search_key(key);
            return fx;
        }
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if plain
            && key.code == KeyCode::Char('?')
            && (self.focus != Focus::Input || self.input.is_empty())
        {
            self.dialog = Some(Dialog::Help { scroll: 0 });
            return fx;
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
            self.act(action, &mut fx);
            self.relayout();
            return fx;
        }
        if let KeyCode::Char(c) = key.code {
            if plain {
                // Typing in a pane goes to the command line, as in k9s.
                self.focus = Focus::Input;
                self.input.insert(c);
                self.edited(&mut fx);
            }
        }
        fx
    }

    /// Whether the completion popup is showing.
    pub fn popup_open(&self) -> bool {
        self.focus == Focus::Input
            && self.dialog.is_none()
            && self.rsearch.is_none()
            && self
                .popup
                .as_ref()
                .is_some_and(|p| !p.items.is_empty() || p.pending)
    }

    fn act(&mut self, action: Action, fx: &mut Vec<Effect>) {
        let rh = self.response_height();
        let th = self.tree_height();
        match action {
            Action::Help => self.dialog = Some(Dialog::Help { scroll: 0 }),
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
            Action::ToggleView | Action::ResponsesView => self.responses.toggle_mode(rh),
            Action::Copy | Action::ResponsesCopy => self.copy_selected(fx),
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
            Action::ToggleNode => {
                let sel = self.tree.selected.clone();
                if self.tree.node(&sel).is_some_and(|n| n.expanded) {
                    self.tree.collapse(&sel);
                } else {
                    fx.extend(self.tree.expand(&sel).map(Effect::LoadChildren));
                }
                self.tree.scroll_into_view(th);
            }
            Action::CdSelected => {
                let target = format!("/{}", self.tree.selected.segments().join("/"));
                let line = format!("cd {}", words::quote_word(&target));
                self.run_line(&line, fx);
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
        if self.focus == Focus::Tree {
            let th = self.tree_height();
            self.tree.scroll_into_view(th);
        }
    }

    fn copy_selected(&mut self, fx: &mut Vec<Effect>) {
        let mode = self.responses.mode;
        match self.responses.selected_entry().map(|e| e.copy_text(mode)) {
            Some(text) if !text.is_empty() => {
                let what = if self
                    .responses
                    .selected_entry()
                    .is_some_and(|e| e.copy_value.is_some())
                {
                    "the unlock key".to_string()
                } else {
                    format!("{} lines", text.lines().count())
                };
                fx.push(Effect::Copy(text));
                self.message = Some(Message::Info(format!("copied {what} (OSC 52)")));
            }
            _ => self.message = Some(Message::Info("nothing to copy".into())),
        }
    }

    fn reload_tree(&mut self, fx: &mut Vec<Effect>) {
        self.drop_summaries();
        for ns in self.tree.expanded() {
            self.tree.mark_loading(&ns);
            fx.push(Effect::LoadChildren(ns));
        }
    }

    /// The line changed: history navigation ends, completion follows.
    fn edited(&mut self, fx: &mut Vec<Effect>) {
        self.history.reset();
        self.popup_dismissed = false;
        self.refresh_completion(fx);
    }

    /// Ask the completer for the word before the cursor. Never waits: what is not known
    /// yet is being fetched, and [`AppEvent::CacheFilled`] brings it.
    pub fn refresh_completion(&mut self, fx: &mut Vec<Effect>) {
        let Some(ctx) = &self.completion else {
            self.popup = None;
            return;
        };
        let before = self.input.before_cursor();
        if before.trim().is_empty() || self.popup_dismissed {
            self.popup = None;
            return;
        }
        let (items, pending) = complete::candidates(ctx, before);
        let start = words::last_word_start(before);
        let current = &before[start..];
        // The word as typed is no suggestion.
        let items: Vec<String> = items.into_iter().filter(|i| i != current).collect();
        let keep = self
            .popup
            .as_ref()
            .and_then(|p| p.items.get(p.selected))
            .and_then(|sel| items.iter().position(|i| i == sel))
            .unwrap_or(0);
        self.popup = if items.is_empty() && !pending {
            None
        } else {
            Some(Popup {
                items,
                selected: keep,
                start,
                pending,
            })
        };
        if pending && !self.watching_cache {
            self.watching_cache = true;
            fx.push(Effect::WatchCache);
        }
    }

    fn accept_completion(&mut self, fx: &mut Vec<Effect>) {
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
                    (None, reply) => self.dialog = Some(Dialog::Confirm { question, reply }),
                    (Some(_), None) => {}
                }
            }
            Some(Dialog::UnlockKey {
                text,
                key: unlock,
                notes,
                copied,
            }) => match action {
                Some(Action::DialogCopy | Action::Copy | Action::Yes) => {
                    fx.push(Effect::Copy(unlock.clone()));
                    self.message = Some(Message::Info("copied the unlock key (OSC 52)".into()));
                    self.dialog = Some(Dialog::UnlockKey {
                        text,
                        key: unlock,
                        notes,
                        copied: true,
                    });
                }
                Some(Action::No | Action::Close | Action::Cancel | Action::Submit) => {}
                _ => {
                    self.dialog = Some(Dialog::UnlockKey {
                        text,
                        key: unlock,
                        notes,
                        copied,
                    })
                }
            },
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
                let max = help_rows(&self.keymap, self.theme.ascii)
                    .len()
                    .saturating_sub(usize::from(self.size.1.saturating_sub(4)));
                self.dialog = Some(Dialog::Help {
                    scroll: scroll.min(max),
                });
            }
            None => {}
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
                let failed_top = result.is_err() && ns == self.tree.top;
                self.tree.set_children(&ns, result);
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
            AppEvent::Summary {
                ns,
                generation,
                result,
            } => {
                if generation == self.summary_generation {
                    let state = match result {
                        Ok(s) => SummaryState::Ready(s),
                        Err(e) => SummaryState::Failed(e),
                    };
                    self.summaries.insert(ns, state);
                }
            }
            AppEvent::Token(t) => self.status.token = Some(t),
            AppEvent::Health(h) => self.status.health = Some(h),
            AppEvent::CacheFilled => {
                self.watching_cache = false;
                if self.focus == Focus::Input && !self.input.is_empty() {
                    self.refresh_completion(&mut fx);
                }
            }
        }
        fx
    }

    fn on_engine(&mut self, ev: EngineEvent, fx: &mut Vec<Effect>) {
        let rh = self.response_height();
        match ev {
            EngineEvent::Prompt {
                cwd,
                locked,
                context,
            } => {
                let moved = cwd != self.status.cwd;
                self.status.cwd = cwd.clone();
                self.status.locked = locked;
                self.completion = Some(context);
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
                }
            }
            EngineEvent::Secret { label, reply } => {
                self.popup = None;
                self.dialog = Some(Dialog::Secret {
                    label,
                    value: SecretInput::default(),
                    reply: Some(reply),
                });
            }
            EngineEvent::Reconnected { top, home, .. } => {
                // Another token (or the first look at it): who it is is asked again, and
                // the tree starts at its namespace (nothing above it is reachable).
                self.home = home;
                self.status.token = None;
                if top == self.tree.top {
                    self.reload_tree(fx);
                } else {
                    self.drop_summaries();
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
                question, reply, ..
            } => {
                self.popup = None;
                self.dialog = Some(Dialog::Confirm {
                    question,
                    reply: Some(reply),
                });
            }
            EngineEvent::Finished {
                ns,
                command,
                result,
                unlock_key,
                mutating,
                ..
            } => {
                let mut entry = Entry::new(&ns, &command, &result);
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
                    self.dialog = Some(Dialog::UnlockKey {
                        text: out.view.render_text(),
                        key,
                        notes: out.notes.clone(),
                        copied: false,
                    });
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
        }
    }

    /// The mode responses are shown in.
    pub fn set_view_mode(&mut self, mode: ViewMode) {
        self.responses.mode = mode;
    }
}
