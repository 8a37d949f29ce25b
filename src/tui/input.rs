//! The input line: a small readline (cursor moves, kills and yank), the history with
//! ↑/↓, and the reverse search of Ctrl-R. Pure state, no terminal.

/// The longest line the editor holds (bytes): a longer paste is cut there, and says so.
/// A value that large belongs in a file (`k=@FILE`).
pub const MAX_LINE: usize = 1 << 20;

/// What a paste broke into lines is joined with: the lines become commands of one line,
/// all shown before Enter runs them.
pub const LINE_JOIN: &str = "; ";

/// The text being typed and the cursor (a byte offset on a char boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    cursor: usize,
    killed: String,
    /// Bumped by every change of the text or the cursor: what was computed for an older
    /// revision (a completion) is stale.
    rev: u64,
}

/// How a paste was taken into the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pasted {
    /// Lines it held (after blank ones were dropped).
    pub lines: usize,
    /// It was cut at [`MAX_LINE`].
    pub cut: bool,
}

impl LineEditor {
    /// An editor holding `text`, the cursor at its end.
    pub fn with_text(text: &str) -> LineEditor {
        LineEditor {
            text: text.to_string(),
            cursor: text.len(),
            killed: String::new(),
            rev: 0,
        }
    }

    /// The revision: changes whenever the text or the cursor does.
    pub fn rev(&self) -> u64 {
        self.rev
    }

    fn bump(&mut self) {
        self.rev = self.rev.wrapping_add(1);
    }

    /// Room left before [`MAX_LINE`], in bytes.
    fn room(&self) -> usize {
        MAX_LINE.saturating_sub(self.text.len())
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor, as a byte offset.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The text before the cursor.
    pub fn before_cursor(&self) -> &str {
        &self.text[..self.cursor]
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replace the text; the cursor goes to the end.
    pub fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
        self.bump();
    }

    /// Take the text out, leaving the line empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        self.bump();
        std::mem::take(&mut self.text)
    }

    /// Replace the bytes `start..cursor` with `with`; the cursor goes after it.
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        let start = floor_boundary(&self.text, start.min(self.cursor));
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
        self.bump();
    }

    /// Type one character; false (and nothing typed) when the line is full.
    pub fn insert(&mut self, c: char) -> bool {
        if c.len_utf8() > self.room() {
            return false;
        }
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        self.bump();
        true
    }

    /// Type a string as it is (no line breaks in it); what does not fit is dropped.
    /// Returns whether all of it fit.
    fn insert_plain(&mut self, s: &str) -> bool {
        let fits = floor_boundary(s, self.room().min(s.len()));
        self.text.insert_str(self.cursor, &s[..fits]);
        self.cursor += fits;
        self.bump();
        fits == s.len()
    }

    /// Start a new pasted line at the cursor: the lines of a paste become the commands of
    /// one line, joined by [`LINE_JOIN`], so nothing runs before it has been seen.
    pub fn line_break(&mut self) -> bool {
        let before = self.before_cursor().trim_end();
        if before.is_empty() || before.ends_with(';') {
            return true;
        }
        self.insert_plain(LINE_JOIN)
    }

    /// Paste a string: each of its non-blank lines becomes a command of this one line
    /// ([`LineEditor::line_break`]). One pass over the text.
    pub fn insert_str(&mut self, s: &str) -> Pasted {
        let mut pasted = Pasted::default();
        for line in s.split(['\n', '\r']) {
            if line.trim().is_empty() {
                continue;
            }
            if pasted.lines > 0 && !self.line_break() {
                pasted.cut = true;
                break;
            }
            pasted.lines += 1;
            if !self.insert_plain(line) {
                pasted.cut = true;
                break;
            }
        }
        pasted
    }

    fn prev_boundary(&self, at: usize) -> usize {
        self.text[..at]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> usize {
        self.text[at..]
            .chars()
            .next()
            .map_or(at, |c| at + c.len_utf8())
    }

    /// Cursor left one character.
    pub fn left(&mut self) {
        self.cursor = self.prev_boundary(self.cursor);
        self.bump();
    }

    /// Cursor right one character.
    pub fn right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
        self.bump();
    }

    /// Cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
        self.bump();
    }

    /// Cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.len();
        self.bump();
    }

    fn is_word(c: char) -> bool {
        c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
    }

    /// Cursor to the start of this or the previous word.
    pub fn word_left(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end_matches(|c: char| !Self::is_word(c));
        let start = trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| !Self::is_word(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        self.cursor = start;
        self.bump();
    }

    /// Cursor to the end of this or the next word.
    pub fn word_right(&mut self) {
        let after = &self.text[self.cursor..];
        let skip = after.len() - after.trim_start_matches(|c: char| !Self::is_word(c)).len();
        let rest = &after[skip..];
        let word = rest.find(|c: char| !Self::is_word(c)).unwrap_or(rest.len());
        self.cursor += skip + word;
        self.bump();
    }

    /// Delete the character before the cursor.
    pub fn delete_back(&mut self) {
        if self.cursor > 0 {
            let start = self.prev_boundary(self.cursor);
            self.text.replace_range(start..self.cursor, "");
            self.cursor = start;
            self.bump();
        }
    }

    /// Delete the character under the cursor.
    pub fn delete_forward(&mut self) {
        let end = self.next_boundary(self.cursor);
        self.text.replace_range(self.cursor..end, "");
        self.bump();
    }

    /// Cut from the start of the line to the cursor.
    pub fn kill_to_start(&mut self) {
        self.killed = self.text[..self.cursor].to_string();
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
        self.bump();
    }

    /// Cut from the cursor to the end of the line.
    pub fn kill_to_end(&mut self) {
        self.killed = self.text[self.cursor..].to_string();
        self.text.truncate(self.cursor);
        self.bump();
    }

    /// Cut the word before the cursor (up to the previous space, as readline's Ctrl-W).
    pub fn kill_word(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        let start = trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        self.killed = self.text[start..self.cursor].to_string();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.bump();
    }

    /// Paste what was cut last.
    pub fn yank(&mut self) {
        let killed = self.killed.clone();
        self.insert_plain(&killed);
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The lines typed before (already redacted), oldest first, and where ↑/↓ is.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<String>,
    pos: Option<usize>,
    draft: String,
}

/// At most this many lines are kept in memory (as line mode keeps in its file).
pub const HISTORY_MAX: usize = 5000;

impl History {
    /// A history holding `entries`, oldest first.
    pub fn new(entries: Vec<String>) -> History {
        let mut h = History {
            entries,
            ..History::default()
        };
        h.trim();
        h
    }

    fn trim(&mut self) {
        if self.entries.len() > HISTORY_MAX {
            let extra = self.entries.len() - HISTORY_MAX;
            self.entries.drain(..extra);
        }
    }

    /// The lines, oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Add a line (not twice in a row); ↑ starts again from the newest. Returns whether it
    /// was added.
    pub fn push(&mut self, line: &str) -> bool {
        self.pos = None;
        if line.trim().is_empty() || self.entries.last().map(String::as_str) == Some(line) {
            return false;
        }
        self.entries.push(line.to_string());
        self.trim();
        true
    }

    /// Forget where ↑/↓ was.
    pub fn reset(&mut self) {
        self.pos = None;
    }

    /// ↑: the previous line, remembering `current` to come back to.
    pub fn older(&mut self, current: &str) -> Option<String> {
        let pos = match self.pos {
            None => {
                if self.entries.is_empty() {
                    return None;
                }
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(p) => p - 1,
        };
        self.pos = Some(pos);
        self.entries.get(pos).cloned()
    }

    /// ↓: the next line, or the line being typed before ↑.
    pub fn newer(&mut self) -> Option<String> {
        let pos = self.pos?;
        if pos + 1 >= self.entries.len() {
            self.pos = None;
            return Some(std::mem::take(&mut self.draft));
        }
        self.pos = Some(pos + 1);
        self.entries.get(pos + 1).cloned()
    }

    /// The newest line before index `before` (None: from the newest) that contains `query`.
    pub fn search(&self, query: &str, before: Option<usize>) -> Option<usize> {
        let end = before.unwrap_or(self.entries.len()).min(self.entries.len());
        let query = query.to_lowercase();
        self.entries[..end]
            .iter()
            .rposition(|e| e.to_lowercase().contains(&query))
    }

    /// The line at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.entries.get(index).map(String::as_str)
    }
}

/// Ctrl-R: the query typed so far, the line it found, and the line to restore on Esc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReverseSearch {
    /// What is searched for.
    pub query: String,
    /// The history index of the match.
    pub found: Option<usize>,
    /// The line as it was before the search.
    pub original: String,
    /// The query matched nothing (more).
    pub failed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readline_edits() {
        let mut e = LineEditor::with_text("read secret/data/foo");
        e.kill_word();
        assert_eq!(e.text(), "read ");
        e.yank();
        assert_eq!(e.text(), "read secret/data/foo");
        e.home();
        e.word_right();
        assert_eq!(e.cursor(), 4);
        e.end();
        e.word_left();
        assert_eq!(e.before_cursor(), "read secret/data/");
        e.kill_to_end();
        assert_eq!(e.text(), "read secret/data/");
        e.left();
        e.kill_to_start();
        assert_eq!(e.text(), "/");
        e.delete_back();
        e.delete_forward();
        assert_eq!(e.text(), "");
        e.insert('é');
        e.insert('x');
        e.left();
        e.left();
        e.delete_forward();
        assert_eq!(e.text(), "x");
    }

    /// Guards a hang, not a speed target: a 100,000-character paste, typed key by key (a
    /// terminal without bracketed paste) or pasted at once into the middle of a line, and
    /// the moves and deletes over it. Linear work takes milliseconds; the bound is generous so
    /// that only a quadratic editor misses it.
    #[test]
    fn a_large_paste_is_linear() {
        const N: usize = 100_000;
        let paste: String = "aé ".repeat(N / 3 + 1).chars().take(N).collect();
        let started = std::time::Instant::now();
        let mut e = LineEditor::default();
        for c in paste.chars() {
            e.insert(c);
        }
        assert_eq!(e.text(), paste);
        let mut p = LineEditor::with_text("write x k=");
        p.left();
        p.insert_str(&format!("{paste}\n"));
        assert_eq!(p.text().chars().count(), N + 10);
        for _ in 0..N {
            e.left();
        }
        assert_eq!(e.cursor(), 0);
        for _ in 0..N / 10 {
            e.word_right();
        }
        e.end();
        for _ in 0..N {
            e.delete_back();
        }
        assert!(e.is_empty());
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(10),
            "{elapsed:?}: quadratic?"
        );
    }

    #[test]
    fn a_multi_line_paste_becomes_one_line_of_commands() {
        let mut e = LineEditor::default();
        let pasted = e.insert_str("ls\r\n\n  \npwd\nlock team\n");
        assert_eq!(e.text(), "ls; pwd; lock team");
        assert_eq!(
            pasted,
            Pasted {
                lines: 3,
                cut: false
            }
        );
        // A break at the start of the line, or after a `;`, adds nothing.
        let mut e = LineEditor::with_text("ls;");
        e.line_break();
        assert_eq!(e.text(), "ls;");
    }

    #[test]
    fn the_line_is_capped_and_says_so() {
        let mut e = LineEditor::with_text(&"x".repeat(MAX_LINE - 2));
        let pasted = e.insert_str("ééé");
        assert!(pasted.cut);
        assert_eq!(
            e.text().len(),
            MAX_LINE,
            "one é fits, cut on a char boundary"
        );
        assert!(!e.insert('y'));
        assert_eq!(e.text().len(), MAX_LINE);
    }

    #[test]
    fn every_change_bumps_the_revision() {
        let mut e = LineEditor::default();
        let mut last = e.rev();
        let mut check = |e: &LineEditor, what: &str| {
            assert_ne!(e.rev(), last, "{what}");
            last = e.rev();
        };
        e.insert('a');
        check(&e, "insert");
        e.left();
        check(&e, "left");
        e.right();
        check(&e, "right");
        e.home();
        check(&e, "home");
        e.end();
        check(&e, "end");
        e.word_left();
        check(&e, "word_left");
        e.word_right();
        check(&e, "word_right");
        e.delete_back();
        check(&e, "delete_back");
        e.set("ab");
        check(&e, "set");
        e.replace_before_cursor(0, "x");
        check(&e, "replace");
        e.kill_word();
        check(&e, "kill_word");
        e.yank();
        check(&e, "yank");
        e.take();
        check(&e, "take");
    }

    #[test]
    fn history_walks_and_restores_the_draft() {
        let mut h = History::new(vec!["ls".into(), "cd acme".into()]);
        assert_eq!(h.older("pw").as_deref(), Some("cd acme"));
        assert_eq!(h.older("").as_deref(), Some("ls"));
        assert_eq!(h.older(""), None);
        assert_eq!(h.newer().as_deref(), Some("cd acme"));
        assert_eq!(h.newer().as_deref(), Some("pw"));
        assert_eq!(h.newer(), None);
        assert!(h.push("pwd"));
        assert!(!h.push("pwd"));
        assert_eq!(h.search("cd", None), Some(1));
        assert_eq!(h.search("s", Some(1)), Some(0));
        assert_eq!(h.search("zz", None), None);
    }
}
