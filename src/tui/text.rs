//! Text measured in terminal columns: width, word wrap, cutting from the left.

use ratatui::text::Span;

/// Display width of a string.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Drop characters from the left until `s` fits in `max` columns, marking the cut.
pub fn fit_left(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(width(ellipsis));
    let mut out: Vec<char> = Vec::new();
    let mut w = 0;
    for c in s.chars().rev() {
        let cw = width(c.encode_utf8(&mut [0; 4]));
        if w + cw > keep {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.reverse();
    format!("{ellipsis}{}", out.into_iter().collect::<String>())
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
        w += width(c.encode_utf8(&mut [0; 4]));
    }
    ""
}

/// Word-wrap `text` to `max` columns (long words are cut).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split(' ') {
            let mut word = word.to_string();
            loop {
                let sep = usize::from(!line.is_empty());
                if width(&line) + sep + width(&word) <= max {
                    if sep == 1 {
                        line.push(' ');
                    }
                    line.push_str(&word);
                    break;
                }
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    continue;
                }
                // A word longer than the line: cut it.
                let cut: String = word.chars().take(max).collect();
                word = word.chars().skip(max).collect();
                out.push(cut);
                if word.is_empty() {
                    break;
                }
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

    #[test]
    fn fits_from_the_left() {
        assert_eq!(fit_left("abcdef", 4, "…"), "…def");
        assert_eq!(fit_left("abc", 4, "…"), "abc");
        assert_eq!(skip_cols("abcdef", 2), "cdef");
        assert_eq!(skip_cols("ab", 5), "");
    }
}
