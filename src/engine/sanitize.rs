//! Text from a server never drives the terminal: control characters are shown, not obeyed.
//!
//! A secret holding `ESC ] 2 ; … BEL` retitles a terminal that prints it raw; `ESC [ 2 J`
//! clears it; a lone `CR` lets a value overwrite what came before it on the line. Both
//! front ends print through these functions. The escapes are C-like and visible: `\e` for
//! ESC, `\r`, `\n` and `\t` where they are escaped, `\xNN` for the other C0 controls and DEL,
//! `\u{NN}` for the C1 controls (U+0080–U+009F, which terminals read as ESC sequences too).
//! A backslash itself is left alone: this is for reading, not for reading back.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::engine::output::View;

/// Whether a terminal would act on `c` rather than draw it: C0, DEL and C1.
pub fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\x1b' => out.push_str("\\e"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `s` with every character for which `escape` holds replaced by its visible form; borrowed
/// when there is none (the common case costs one scan).
fn escape_where(s: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line text for a terminal: every control escaped except newline and tab.
pub fn text(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| is_control(c) && c != '\n' && c != '\t')
}

/// One line for a terminal (a table cell, a name, a prompt): every control escaped,
/// newline and tab included, so it cannot break a row or a column.
pub fn line(s: &str) -> Cow<'_, str> {
    escape_where(s, is_control)
}

/// Serialized JSON for a terminal. serde escapes C0 controls in strings but writes DEL and
/// C1 raw; each raw control becomes `\u00NN`, which is the same JSON value. Newlines are the
/// pretty printer's own (inside a string serde has already written `\n`), so they stay.
pub fn json(s: &str) -> Cow<'_, str> {
    let escape = |c: char| is_control(c) && c != '\n';
    let Some(first) = s.find(escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if escape(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that does to serialized JSON what [`json`] does, as it passes: a document of
/// thousands of namespaces is written out without a copy of it as a string. It expects
/// UTF-8, as serde writes it, in pieces cut anywhere (a C1 control's two bytes may come
/// apart); call [`JsonWriter::finish`] at the end.
pub struct JsonWriter<W: std::io::Write> {
    inner: W,
    /// The first byte of a two-byte character whose second byte has not come yet.
    lead: Option<u8>,
}

impl<W: std::io::Write> JsonWriter<W> {
    /// A writer into `inner`.
    pub fn new(inner: W) -> JsonWriter<W> {
        JsonWriter { inner, lead: None }
    }

    /// Write what is held back (only a text cut inside a character leaves anything).
    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(b) = self.lead.take() {
            self.inner.write_all(&[b])?;
        }
        Ok(self.inner)
    }

    fn escape(&mut self, code: u8) -> std::io::Result<()> {
        write!(self.inner, "\\u{:04x}", code)
    }
}

impl<W: std::io::Write> std::io::Write for JsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let mut i = 0;
        if let Some(lead) = self.lead.take() {
            match buf.first() {
                None => {
                    self.lead = Some(lead);
                    return Ok(());
                }
                Some(&b) if lead == 0xc2 && (0x80..=0x9f).contains(&b) => {
                    self.escape(b)?;
                    i = 1;
                }
                Some(_) => self.inner.write_all(&[lead])?,
            }
        }
        let mut start = i;
        while i < buf.len() {
            let b = buf[i];
            // C0 (but a newline) and DEL are one byte; C1 is U+0080–U+009F, 0xC2 0x80–0x9F.
            if (b < 0x20 && b != b'\n') || b == 0x7f {
                self.inner.write_all(&buf[start..i])?;
                self.escape(b)?;
                start = i + 1;
            } else if b == 0xc2 {
                match buf.get(i + 1) {
                    Some(&next) if (0x80..=0x9f).contains(&next) => {
                        self.inner.write_all(&buf[start..i])?;
                        self.escape(next)?;
                        i += 1;
                        start = i + 1;
                    }
                    Some(_) => {}
                    None => {
                        self.inner.write_all(&buf[start..i])?;
                        self.lead = Some(b);
                        return Ok(());
                    }
                }
            }
            i += 1;
        }
        self.inner.write_all(&buf[start..])
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A copy of `view` that is safe to print: text with [`text`], cells and titles with [`line`]
/// (so the table's widths are those of what is printed).
pub fn view(view: &View) -> View {
    let cells =
        |row: &[String]| -> Vec<String> { row.iter().map(|c| line(c).into_owned()).collect() };
    match view {
        View::Empty => View::Empty,
        View::Text(t) => View::Text(text(t).into_owned()),
        View::Table { header, rows } => View::Table {
            header: cells(header),
            rows: rows.iter().map(|r| cells(r)).collect(),
        },
        View::Sections(sections) => View::Sections(
            sections
                .iter()
                .map(|(title, v)| (line(title).into_owned(), self::view(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    #[test]
    fn escapes_table() {
        let cases = [
            ("plain", "plain", "plain"),
            ("a\nb\tc", "a\nb\tc", "a\\nb\\tc"),
            ("\x1b]2;pwned\x07", "\\e]2;pwned\\x07", "\\e]2;pwned\\x07"),
            ("\x1b[2J", "\\e[2J", "\\e[2J"),
            ("over\rwrite", "over\\rwrite", "over\\rwrite"),
            ("\0\x7f", "\\x00\\x7f", "\\x00\\x7f"),
            ("\u{9b}31m\u{9d}", "\\u{9b}31m\\u{9d}", "\\u{9b}31m\\u{9d}"),
            ("é ✓ \u{a0}", "é ✓ \u{a0}", "é ✓ \u{a0}"),
            ("back\\slash", "back\\slash", "back\\slash"),
        ];
        for (raw, as_text, as_line) in cases {
            assert_eq!(text(raw), as_text, "{raw:?}");
            assert_eq!(line(raw), as_line, "{raw:?}");
        }
        assert!(matches!(text("no controls"), Cow::Borrowed(_)));
    }

    #[test]
    fn serde_escapes_c0_but_not_c1_or_del_and_json_does() {
        let value = json!({"v": "\x1b]2;t\x07 \u{9b}2J \x7f"});
        let raw = serde_json::to_string_pretty(&value).unwrap();
        assert!(!raw.contains('\x1b') && !raw.contains('\x07'), "{raw:?}");
        assert!(raw.contains('\u{9b}') && raw.contains('\x7f'), "{raw:?}");
        let safe = json(&raw);
        assert!(
            !safe.chars().any(|c| is_control(c) && c != '\n'),
            "{safe:?}"
        );
        assert_eq!(serde_json::from_str::<Value>(&safe).unwrap(), value);
    }

    #[test]
    fn views_are_escaped_cell_by_cell() {
        let v = View::Sections(vec![(
            "t\x1b".into(),
            View::Table {
                header: vec!["KEY".into(), "VALUE".into()],
                rows: vec![vec!["k\x07".into(), "two\nlines".into()]],
            },
        )]);
        let out = view(&v).render_text();
        assert!(!out.chars().any(|c| is_control(c) && c != '\n'), "{out:?}");
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(out.contains("two\\nlines"), "{out}");
    }

    /// What a [`JsonWriter`] makes of `s` written in pieces that end at `cuts` (byte
    /// offsets, anywhere, inside a character too).
    fn written(s: &str, cuts: &[usize]) -> String {
        use std::io::Write as _;
        let bytes = s.as_bytes();
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut w = JsonWriter::new(Vec::new());
        let mut from = 0;
        for to in at.into_iter().chain([bytes.len()]) {
            w.write_all(&bytes[from..to]).unwrap();
            from = to;
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn the_writer_escapes_what_json_escapes() {
        let value = json!({"v": "\x1b]2;t\x07 \u{9b}2J \x7f é\u{a0}\u{80}\u{9f}✓"});
        for doc in [
            value.to_string(),
            serde_json::to_string_pretty(&value).unwrap(),
        ] {
            assert_eq!(written(&doc, &[]), json(&doc));
            // Every cut, the C1 characters' two bytes split apart included.
            for cut in 0..=doc.len() {
                assert_eq!(written(&doc, &[cut]), json(&doc), "cut at {cut}");
            }
        }
    }

    proptest! {
        #[test]
        fn the_writer_writes_what_json_returns(
            s in any::<String>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            let doc = serde_json::to_string_pretty(&json!({ "s": s })).unwrap();
            prop_assert_eq!(written(&doc, &cuts), json(&doc).into_owned());
            // Any text, not only serde's, comes out as `json` makes it.
            prop_assert_eq!(written(&s, &cuts), json(&s).into_owned());
        }

        #[test]
        fn nothing_a_terminal_obeys_is_left(s in any::<String>()) {
            prop_assert!(!text(&s).chars().any(|c| is_control(c) && c != '\n' && c != '\t'));
            prop_assert!(!line(&s).chars().any(is_control));
            let doc = serde_json::to_string_pretty(&json!({ "s": s })).unwrap();
            let safe = json(&doc);
            prop_assert!(!safe.chars().any(|c| is_control(c) && c != '\n'));
            prop_assert_eq!(
                serde_json::from_str::<Value>(&safe).unwrap(),
                json!({ "s": s })
            );
        }
    }
}
