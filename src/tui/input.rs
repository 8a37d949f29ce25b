//! The input line: a small readline (cursor moves, kills and yank), the history with
//! ↑/↓, and the reverse search of Ctrl-R. Pure state, no terminal.

/// The text being typed and the cursor (a byte offset on a char boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    cursor: usize,
    killed: String,
}

impl LineEditor {
    /// An editor holding `text`, the cursor at its end.
    pub fn with_text(text: &str) -> LineEditor {
        LineEditor {
            text: text.to_string(),
            cursor: text.len(),
            killed: String::new(),
        }
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
    }

    /// Take the text out, leaving the line empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Replace the bytes `start..cursor` with `with`; the cursor goes after it.
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        let start = start.min(self.cursor);
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
    }

    /// Type one character.
    pub fn insert(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    /// Type a string (a paste).
    pub fn insert_str(&mut self, s: &str) {
        // A pasted newline would be a second command line: keep it on one line.
        let s: String = s
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
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
    }

    /// Cursor right one character.
    pub fn right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
    }

    /// Cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.len();
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
    }

    /// Cursor to the end of this or the next word.
    pub fn word_right(&mut self) {
        let after = &self.text[self.cursor..];
        let skip = after.len() - after.trim_start_matches(|c: char| !Self::is_word(c)).len();
        let rest = &after[skip..];
        let word = rest.find(|c: char| !Self::is_word(c)).unwrap_or(rest.len());
        self.cursor += skip + word;
    }

    /// Delete the character before the cursor.
    pub fn delete_back(&mut self) {
        if self.cursor > 0 {
            let start = self.prev_boundary(self.cursor);
            self.text.replace_range(start..self.cursor, "");
            self.cursor = start;
        }
    }

    /// Delete the character under the cursor.
    pub fn delete_forward(&mut self) {
        let end = self.next_boundary(self.cursor);
        self.text.replace_range(self.cursor..end, "");
    }

    /// Cut from the start of the line to the cursor.
    pub fn kill_to_start(&mut self) {
        self.killed = self.text[..self.cursor].to_string();
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
    }

    /// Cut from the cursor to the end of the line.
    pub fn kill_to_end(&mut self) {
        self.killed = self.text[self.cursor..].to_string();
        self.text.truncate(self.cursor);
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
    }

    /// Paste what was cut last.
    pub fn yank(&mut self) {
        let killed = self.killed.clone();
        self.insert_str(&killed);
    }
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
        assert_eq!(p.text().chars().count(), N + 11);
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
