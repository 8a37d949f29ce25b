//! The response pane: the recent responses, each under the command that produced it,
//! as tables or as JSON, scrollable, searchable with `/`.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;

use crate::engine::output::pretty;
use crate::engine::{Output, View};

use super::text::{width, wrap};

/// At most this many responses are kept.
pub const MAX_ENTRIES: usize = 100;

/// How responses are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// Tables and text, as line mode prints them.
    #[default]
    Table,
    /// The JSON document `bao … -format=json` prints.
    Json,
}

impl ViewMode {
    /// Its name in the pane title.
    pub fn name(self) -> &'static str {
        match self {
            ViewMode::Table => "table",
            ViewMode::Json => "json",
        }
    }
}

/// What a line of a response is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The command that produced the response.
    Header,
    /// The response itself: a table or JSON (never wrapped, scrolled sideways instead).
    Body,
    /// The response itself as prose (wrapped to the pane).
    Text,
    /// A note or a server warning.
    Note,
    /// An error.
    Error,
    /// The gap between two responses.
    Gap,
}

/// One response, drawn in both modes once.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The namespace the command ran in.
    pub ns: String,
    /// The command (redacted).
    pub command: String,
    /// It failed.
    pub failed: bool,
    /// What `copy` puts on the clipboard instead of the text (a lock's unlock key).
    pub copy_value: Option<String>,
    /// Its secret values are shown (it has some, and they were revealed).
    pub revealed: bool,
    table: Vec<(LineKind, String)>,
    json: Vec<(LineKind, String)>,
    /// The same with its secret values masked (None: it has none to mask).
    masked: Option<(Lines, Lines)>,
    /// How many lines it takes, for (mode, width): counting wraps every line, and a frame
    /// asks often.
    shown_count: Cell<Option<(ViewMode, usize, usize)>>,
}

fn text_lines(kind: LineKind, text: &str) -> impl Iterator<Item = (LineKind, String)> + '_ {
    text.lines().map(move |l| (kind, l.replace('\t', "    ")))
}

type Lines = Vec<(LineKind, String)>;

impl Entry {
    /// The response of `command` in `ns`.
    pub fn new(ns: &str, command: &str, result: &Result<Output, String>) -> Entry {
        let (table, json) = Entry::render(ns, command, result);
        Entry {
            ns: ns.to_string(),
            command: command.to_string(),
            failed: result.is_err(),
            copy_value: None,
            revealed: false,
            table,
            json,
            masked: None,
            shown_count: Cell::new(None),
        }
    }

    /// The response of `command` in `ns`, its secret values shown as `mark` until revealed
    /// ([`super::mask`]), `hint` under its header saying how to reveal them.
    pub fn masked(
        ns: &str,
        command: &str,
        result: &Result<Output, String>,
        mark: &str,
        hint: &str,
    ) -> Entry {
        let mut e = Entry::new(ns, command, result);
        if let Ok(out) = result {
            let (mut table, mut json) =
                Entry::render(ns, command, &Ok(super::mask::mask_output(out, mark)));
            if table != e.table || json != e.json {
                for lines in [&mut table, &mut json] {
                    lines.insert(1, (LineKind::Note, hint.to_string()));
                }
                e.masked = Some((table, json));
            }
        }
        e
    }

    /// Whether it has secret values, and they are masked now.
    pub fn is_masked(&self) -> bool {
        self.masked.is_some() && !self.revealed
    }

    /// Whether it has secret values to mask or reveal.
    pub fn has_secrets(&self) -> bool {
        self.masked.is_some()
    }

    /// Show its secret values, or mask them again.
    pub fn toggle_reveal(&mut self) {
        self.revealed = !self.revealed;
        self.shown_count.set(None);
    }

    fn render(ns: &str, command: &str, result: &Result<Output, String>) -> (Lines, Lines) {
        let header = (LineKind::Header, format!("{ns}> {command}"));
        let mut table = vec![header.clone()];
        let mut json = vec![header];
        match result {
            Ok(out) => {
                let kind = if matches!(out.view, View::Text(_)) {
                    LineKind::Text
                } else {
                    LineKind::Body
                };
                table.extend(text_lines(kind, &out.view.render_text()));
                match &out.json {
                    Some(v) => json.extend(text_lines(LineKind::Body, &pretty(v))),
                    None => json.extend(text_lines(kind, &out.view.render_text())),
                }
                for note in &out.notes {
                    table.extend(text_lines(LineKind::Note, note));
                    json.extend(text_lines(LineKind::Note, note));
                }
            }
            Err(e) => {
                let text = format!("error: {e}");
                table.extend(text_lines(LineKind::Error, &text));
                json.extend(text_lines(LineKind::Error, &text));
            }
        }
        (table, json)
    }

    /// The lines in a mode as shown (masked unless revealed), the header first.
    pub fn lines(&self, mode: ViewMode) -> &[(LineKind, String)] {
        match (&self.masked, self.revealed, mode) {
            (Some((table, _)), false, ViewMode::Table) => table,
            (Some((_, json)), false, ViewMode::Json) => json,
            (_, _, ViewMode::Table) => &self.table,
            (_, _, ViewMode::Json) => &self.json,
        }
    }

    fn clear_lines(&self, mode: ViewMode) -> &[(LineKind, String)] {
        match mode {
            ViewMode::Table => &self.table,
            ViewMode::Json => &self.json,
        }
    }

    /// What `copy` copies: the unlock key of a lock, else the response without its header,
    /// its secret values as they are (copying is asking for them).
    pub fn copy_text(&self, mode: ViewMode) -> String {
        if let Some(v) = &self.copy_value {
            return v.clone();
        }
        let pick = |kinds: &[LineKind]| {
            self.clear_lines(mode)
                .iter()
                .filter(|(k, _)| kinds.contains(k))
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        // The response itself; when there is none (an error, a note), what was said.
        let body = pick(&[LineKind::Body, LineKind::Text]);
        if body.is_empty() {
            pick(&[LineKind::Note, LineKind::Error])
        } else {
            body
        }
    }
}

/// A search in the responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// What is searched for (case-insensitive).
    pub query: String,
    /// The query is being typed.
    pub editing: bool,
    /// The line of the current match.
    pub current: Option<usize>,
}

/// The response pane's state.
#[derive(Debug, Clone, Default)]
pub struct ResponsePane {
    /// The responses, oldest first.
    pub entries: VecDeque<Entry>,
    /// Table or JSON.
    pub mode: ViewMode,
    /// The first line shown.
    pub scroll: usize,
    /// Columns scrolled to the right.
    pub hscroll: usize,
    /// The selected response (what `copy` copies).
    pub selected: Option<usize>,
    /// The search, if one is open.
    pub search: Option<Search>,
    /// Columns of text: prose, notes and errors wrap at it (0: no wrapping).
    pub width: usize,
}

/// A line as the pane shows it: which entry, what kind, the text.
pub type ShownLine<'a> = (usize, LineKind, Cow<'a, str>);

impl ResponsePane {
    fn wraps(&self, kind: LineKind, text: &str) -> bool {
        self.width > 0
            && matches!(
                kind,
                LineKind::Text | LineKind::Note | LineKind::Error | LineKind::Header
            )
            && width(text) > self.width
    }

    /// The lines of one entry as shown (wrapped where they wrap).
    fn shown<'a>(&self, e: &'a Entry) -> Vec<(LineKind, Cow<'a, str>)> {
        let mut out = Vec::new();
        for (kind, text) in e.lines(self.mode) {
            if self.wraps(*kind, text) {
                out.extend(
                    wrap(text, self.width)
                        .into_iter()
                        .map(|piece| (*kind, Cow::Owned(piece))),
                );
            } else {
                out.push((*kind, Cow::Borrowed(text.as_str())));
            }
        }
        out
    }

    fn count(&self, e: &Entry) -> usize {
        if let Some((mode, width, n)) = e.shown_count.get() {
            if mode == self.mode && width == self.width {
                return n;
            }
        }
        let n = e
            .lines(self.mode)
            .iter()
            .map(|(kind, text)| {
                if self.wraps(*kind, text) {
                    wrap(text, self.width).len()
                } else {
                    1
                }
            })
            .sum();
        e.shown_count.set(Some((self.mode, self.width, n)));
        n
    }

    /// Every line in the current mode, with a gap between responses.
    pub fn lines(&self) -> Vec<ShownLine<'_>> {
        self.window(0, usize::MAX)
    }

    /// The lines `from..from + n` only: whole responses above are skipped by their count,
    /// so a frame costs what it shows, not what was ever printed.
    pub fn window(&self, from: usize, n: usize) -> Vec<ShownLine<'_>> {
        let mut out = Vec::new();
        let mut at = 0usize;
        for (i, e) in self.entries.iter().enumerate() {
            if out.len() >= n {
                break;
            }
            let gap = usize::from(i > 0);
            let len = self.count(e) + gap;
            if at + len <= from {
                at += len;
                continue;
            }
            let mut lines = Vec::with_capacity(len);
            if gap == 1 {
                lines.push((i, LineKind::Gap, Cow::Borrowed("")));
            }
            lines.extend(self.shown(e).into_iter().map(|(k, l)| (i, k, l)));
            let skip = from.saturating_sub(at);
            let room = n - out.len();
            out.extend(lines.into_iter().skip(skip).take(room));
            at += len;
        }
        out
    }

    /// How many lines there are.
    pub fn total(&self) -> usize {
        let body: usize = self.entries.iter().map(|e| self.count(e)).sum();
        body + self.entries.len().saturating_sub(1)
    }

    /// The line where entry `i` starts (its header).
    pub fn start_of(&self, i: usize) -> usize {
        self.entries.iter().take(i).map(|e| self.count(e) + 1).sum()
    }

    fn max_scroll(&self, height: usize) -> usize {
        self.total().saturating_sub(height)
    }

    /// Add a response, select it, and scroll so that it shows from its header.
    pub fn push(&mut self, entry: Entry, height: usize) {
        self.entries.push_back(entry);
        while self.entries.len() > MAX_ENTRIES {
            self.entries.pop_front();
        }
        let last = self.entries.len() - 1;
        self.selected = Some(last);
        self.scroll = self.start_of(last).min(self.max_scroll(height));
        self.hscroll = 0;
    }

    /// The selected response.
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selected.and_then(|i| self.entries.get(i))
    }

    /// Reveal (or mask again) the secret values of the selected response; returns whether
    /// it has any.
    pub fn toggle_reveal(&mut self, height: usize) -> Option<bool> {
        let i = self.selected?;
        let e = self.entries.get_mut(i)?;
        if !e.has_secrets() {
            return None;
        }
        e.toggle_reveal();
        let shown = e.revealed;
        self.scroll = self.scroll.min(self.max_scroll(height));
        Some(shown)
    }

    fn entry_at_line(&self, line: usize) -> Option<usize> {
        let mut at = 0;
        for (i, e) in self.entries.iter().enumerate() {
            at += self.count(e) + 1;
            if line < at {
                return Some(i);
            }
        }
        self.entries.len().checked_sub(1)
    }

    /// Scroll by `delta` lines; the selection follows the top line (the last response at the
    /// bottom).
    pub fn scroll_by(&mut self, delta: isize, height: usize) {
        let max = self.max_scroll(height);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
        self.selected = if self.scroll == max && delta > 0 {
            self.entries.len().checked_sub(1)
        } else {
            self.entry_at_line(self.scroll)
        };
    }

    /// Scroll to the top or the bottom.
    pub fn scroll_to_edge(&mut self, bottom: bool, height: usize) {
        if bottom {
            self.scroll = self.max_scroll(height);
            self.selected = self.entries.len().checked_sub(1);
        } else {
            self.scroll = 0;
            self.selected = if self.entries.is_empty() {
                None
            } else {
                Some(0)
            };
        }
    }

    /// Select the previous (`-1`) or next (`1`) response and show it from its header.
    pub fn select_by(&mut self, delta: isize, height: usize) {
        if self.entries.is_empty() {
            return;
        }
        let at = self.selected.unwrap_or(self.entries.len() - 1);
        let to = at.saturating_add_signed(delta).min(self.entries.len() - 1);
        self.selected = Some(to);
        self.scroll = self.start_of(to).min(self.max_scroll(height));
    }

    /// Switch between table and JSON, keeping the selected response in view.
    pub fn toggle_mode(&mut self, height: usize) {
        self.mode = match self.mode {
            ViewMode::Table => ViewMode::Json,
            ViewMode::Json => ViewMode::Table,
        };
        if let Some(sel) = self.selected {
            self.scroll = self.start_of(sel).min(self.max_scroll(height));
        } else {
            self.scroll = self.scroll.min(self.max_scroll(height));
        }
    }

    /// Jump to the next (or previous) line that contains the query, after (or before) the
    /// current match or the top line; `inclusive` also looks at that line. Returns whether
    /// one was found.
    pub fn find(&mut self, forward: bool, inclusive: bool, height: usize) -> bool {
        let Some(search) = self.search.as_ref().filter(|s| !s.query.is_empty()) else {
            return false;
        };
        let query = search.query.to_lowercase();
        let at = search.current.unwrap_or(self.scroll);
        let lines = self.lines();
        let hit = |i: &usize| lines[*i].2.to_lowercase().contains(&query);
        let found = if forward {
            let from = if inclusive { at } else { at + 1 };
            (from..lines.len()).find(hit)
        } else {
            let to = if inclusive { at + 1 } else { at };
            (0..to.min(lines.len())).rev().find(hit)
        };
        let Some(i) = found else {
            return false;
        };
        let entry = lines[i].0;
        self.selected = Some(entry);
        self.scroll = i.min(self.max_scroll(height));
        if let Some(s) = self.search.as_mut() {
            s.current = Some(i);
        }
        true
    }

    /// How many lines match the query, and which of them is the current one (1-based, 0
    /// before the first jump).
    pub fn match_counts(&self) -> Option<(usize, usize)> {
        let search = self.search.as_ref()?;
        let query = search.query.to_lowercase();
        if query.is_empty() {
            return None;
        }
        let mut total = 0;
        let mut position = 0;
        for (i, (_, _, l)) in self.lines().iter().enumerate() {
            if l.to_lowercase().contains(&query) {
                total += 1;
                if search.current.is_some_and(|c| i <= c) {
                    position = total;
                }
            }
        }
        Some((total, position))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::View;
    use serde_json::json;

    fn out(text: &str) -> Result<Output, String> {
        Ok(Output {
            json: Some(json!({ "t": text })),
            view: View::Text(text.into()),
            notes: vec!["note: n".into()],
        })
    }

    #[test]
    fn lines_and_scroll() {
        let mut p = ResponsePane::default();
        p.push(Entry::new("/", "pwd", &out("/")), 3);
        p.push(Entry::new("/", "ls", &out("a\nb\nc\nd")), 3);
        // pwd: header, body, note (3) + gap + ls: header, 4 body, note (6)
        assert_eq!(p.total(), 10);
        assert_eq!(p.lines().len(), 10);
        assert_eq!(p.start_of(1), 4);
        assert_eq!(p.scroll, 4, "the new response shows from its header");
        p.scroll_by(-10, 3);
        assert_eq!((p.scroll, p.selected), (0, Some(0)));
        p.scroll_to_edge(true, 3);
        assert_eq!((p.scroll, p.selected), (7, Some(1)));
        p.toggle_mode(3);
        assert_eq!(p.mode, ViewMode::Json);
        assert_eq!(p.scroll, 6);
        p.search = Some(Search {
            query: "PWD".into(),
            ..Search::default()
        });
        p.scroll = 9;
        assert!(p.find(false, false, 3));
        assert_eq!((p.scroll, p.selected), (0, Some(0)));
        assert_eq!(p.match_counts(), Some((1, 1)));
    }

    #[test]
    fn a_window_is_a_slice_of_all_lines() {
        let mut p = ResponsePane {
            width: 12,
            ..ResponsePane::default()
        };
        p.push(
            Entry::new("/", "pwd", &out("a long line of prose that wraps")),
            3,
        );
        p.push(Entry::new("/", "ls", &out("a\nb\nc\nd")), 3);
        let all = p.lines();
        assert_eq!(all.len(), p.total());
        for from in 0..all.len() + 2 {
            for n in 0..5 {
                let w = p.window(from, n);
                let expect: Vec<_> = all.iter().skip(from).take(n).cloned().collect();
                assert_eq!(w, expect, "window({from}, {n})");
            }
        }
    }

    #[test]
    fn secrets_are_masked_until_revealed_and_copied_as_they_are() {
        let secret = Ok(Output {
            json: Some(json!({"data": {"password": "hunter2"}})),
            view: View::Table {
                header: vec!["KEY".into(), "VALUE".into()],
                rows: vec![vec!["password".into(), "hunter2".into()]],
            },
            notes: vec![],
        });
        let mut p = ResponsePane::default();
        p.push(
            Entry::masked("/", "read secret/db", &secret, "••••", "F5 shows"),
            10,
        );
        let shown = |p: &ResponsePane| {
            p.lines()
                .iter()
                .map(|l| l.2.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(!shown(&p).contains("hunter2"), "{}", shown(&p));
        assert!(shown(&p).contains("password   ••••"));
        assert!(shown(&p).contains("F5 shows"));
        p.toggle_mode(10);
        assert!(!shown(&p).contains("hunter2"), "the JSON view too");
        assert!(p
            .selected_entry()
            .unwrap()
            .copy_text(ViewMode::Json)
            .contains("hunter2"));
        assert_eq!(p.toggle_reveal(10), Some(true));
        assert!(shown(&p).contains("hunter2"));
        assert_eq!(p.toggle_reveal(10), Some(false));
        assert!(!shown(&p).contains("hunter2"));
        // Nothing to mask: not masked, nothing to reveal.
        p.push(
            Entry::masked("/", "read sys/x", &out("plain"), "••••", "F5 shows"),
            10,
        );
        assert!(!p.selected_entry().unwrap().has_secrets());
        assert_eq!(p.toggle_reveal(10), None);
    }

    #[test]
    fn copy_prefers_the_unlock_key() {
        let mut e = Entry::new("/", "lock a", &out("Locked"));
        assert_eq!(e.copy_text(ViewMode::Table), "Locked");
        e.copy_value = Some("KEY".into());
        assert_eq!(e.copy_text(ViewMode::Json), "KEY");
        let err = Entry::new("/", "x", &Err("bad\nusage: y".into()));
        assert!(err.failed);
        assert_eq!(err.lines(ViewMode::Table).len(), 3);
    }
}
