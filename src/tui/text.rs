//! Text measured in terminal columns: width, word wrap, cutting from the left.
//!
//! Every routine here is one pass over its input: a value can be a megabyte long, and a
//! frame must not wait on it.

use ratatui::text::Span;

use crate::engine::sanitize;

/// Display width of a string.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Display width of one character.
fn char_width(c: char) -> usize {
    width(c.encode_utf8(&mut [0; 4]))
}

/// Drop characters from the left until `s` fits in `max` columns, marking the cut.
pub fn fit_left(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(width(ellipsis));
    let mut w = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let cw = char_width(c);
        if w + cw > keep {
            break;
        }
        w += cw;
        start = i;
    }
    format!("{ellipsis}{}", &s[start..])
}

/// Skip `cols` columns from the left of `s`.
pub fn skip_cols(s: &str, cols: usize) -> &str {
    if cols == 0 {
        return s;
    }
    let mut w = 0;
    for (i, c) in s.char_indices() {
        if w >= cols {
            return &s[i..];
        }
        w += char_width(c);
    }
    ""
}

/// Word-wrap `text` to `max` columns; a word wider than a line is cut by columns. A
/// control character is shown escaped ([`sanitize::line`]), never sent to the terminal
/// (ratatui would drop it, and the reader would not know it is there).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    for para in text.lines() {
        let para = sanitize::line(para);
        let mut line = String::new();
        // The width of `line`, kept as it grows: measuring it again per word is quadratic.
        let mut line_w = 0;
        for word in para.split(' ') {
            let word_w = width(word);
            let sep = usize::from(!line.is_empty());
            if line_w + sep + word_w <= max {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += sep + word_w;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                line_w = 0;
            }
            if word_w <= max {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // A word wider than the line: cut it, in one pass over its characters.
            for c in word.chars() {
                let cw = char_width(c);
                if line_w + cw > max && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0;
                }
                line.push(c);
                line_w += cw;
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), Vec::<String>::new());
    }

    /// Guards a hang, not a speed target: a 1 MB word (a secret's value) once took ~25 s a
    /// frame, quadratic in its length. Linear, it takes well under a second even in a debug
    /// build on a loaded machine; the bound is generous so that only a quadratic wrap misses it.
    #[test]
    fn a_megabyte_word_wraps_in_linear_time() {
        let word = "x".repeat(1 << 20);
        let started = std::time::Instant::now();
        let lines = wrap(&word, 80);
        let long = format!("{} tail", "é".repeat(1 << 19));
        let mixed = wrap(&long, 77);
        let many = wrap(&"ab ".repeat(1 << 18), 80);
        let cut = fit_left(&word, 80, "…");
        let skipped = skip_cols(&word, (1 << 20) - 3);
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(10),
            "{elapsed:?}: quadratic?"
        );
        assert_eq!(lines.len(), (1 << 20) / 80 + 1);
        assert!(lines.iter().all(|l| width(l) <= 80));
        assert_eq!(lines.concat(), word);
        assert!(mixed.iter().all(|l| width(l) <= 77));
        // 2^19 = 77 × 6808 + 72: the last 72 columns of the word, then the next word fits.
        let last = format!("{} tail", "é".repeat((1 << 19) % 77));
        assert_eq!(mixed.last(), Some(&last));
        assert!(many.iter().all(|l| width(l) <= 80));
        assert_eq!(width(&cut), 80);
        assert_eq!(skipped, "xxx");
    }

    #[test]
    fn controls_are_shown_escaped() {
        assert_eq!(wrap("a\x1b]2;t\x07 b\tc", 40), vec!["a\\e]2;t\\x07 b\\tc"]);
    }

    #[test]
    fn wide_characters_are_cut_by_columns() {
        assert_eq!(
            wrap("日本語テキスト", 4),
            vec!["日本", "語テ", "キス", "ト"]
        );
        assert_eq!(wrap("ab 日本語", 5), vec!["ab", "日本", "語"]);
    }

    #[test]
    fn fits_from_the_left() {
        assert_eq!(fit_left("abcdef", 4, "…"), "…def");
        assert_eq!(fit_left("abc", 4, "…"), "abc");
        assert_eq!(skip_cols("abcdef", 2), "cdef");
        assert_eq!(skip_cols("ab", 5), "");
    }
}
