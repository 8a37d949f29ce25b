//! What a command produced, in a form either front end can draw.

use serde_json::Value;

/// The result of one command: the JSON document for `--format json`, a view for people,
/// and notes (routing notes, server warnings) that go to stderr.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The value `bao … -format=json` prints for the same request; `None` prints nothing.
    pub json: Option<Value>,
    /// What people see.
    pub view: View,
    /// One-line notes shown beside the result (never part of the JSON document).
    pub notes: Vec<String>,
}

/// A human view of a result.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum View {
    /// Nothing to show.
    #[default]
    Empty,
    /// Plain lines.
    Text(String),
    /// Rows under a header.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Cells, one Vec per row.
        rows: Vec<Vec<String>>,
    },
    /// Several views one after another, each with a title.
    Sections(Vec<(String, View)>),
}

impl Output {
    /// An output with only a JSON value, shown to people as pretty JSON.
    pub fn json(value: Value) -> Output {
        Output {
            view: View::Text(pretty(&value)),
            json: Some(value),
            notes: Vec::new(),
        }
    }

    /// An output with no JSON document.
    pub fn text(text: impl Into<String>) -> Output {
        Output {
            json: None,
            view: View::Text(text.into()),
            notes: Vec::new(),
        }
    }

    /// A list of names: one per line for people (`(none)` when empty, so an empty list
    /// says so), a JSON array of them.
    pub fn names(names: Vec<String>) -> Output {
        Output {
            view: View::Text(if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join("\n")
            }),
            json: Some(Value::from(names)),
            notes: Vec::new(),
        }
    }

    /// Add a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Output {
        self.notes.push(note.into());
        self
    }

    /// Add notes.
    pub fn with_notes(mut self, notes: impl IntoIterator<Item = String>) -> Output {
        self.notes.extend(notes);
        self
    }
}

/// The server's warnings of an answer, as notes.
pub fn warnings(body: &Value) -> Vec<String> {
    body.get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().map(|m| format!("warning: {}", cell(m))).collect())
        .unwrap_or_default()
}

/// An answer without data: the server's warnings (as a JSON list in JSON mode), and for
/// people `Success! Data VERB.` (nothing when `verb` is empty).
pub fn warnings_output(body: Option<&Value>, verb: &str) -> Output {
    let list = body
        .and_then(|b| b.get("warnings"))
        .filter(|w| w.as_array().is_some_and(|a| !a.is_empty()))
        .cloned();
    let notes = body.map(warnings).unwrap_or_default();
    Output {
        json: list.map(|w| serde_json::json!({ "warnings": w })),
        view: if verb.is_empty() {
            View::Empty
        } else {
            View::Text(format!("Success! Data {verb}."))
        },
        notes,
    }
}

/// Pretty JSON, as `bao -format=json` prints it (two-space indent).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A cell for a JSON value: strings bare, everything else compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

impl View {
    /// Plain text for a terminal without colours, aligned columns, no trailing newline.
    pub fn render_text(&self) -> String {
        match self {
            View::Empty => String::new(),
            View::Text(t) => t.trim_end_matches('\n').to_string(),
            View::Table { header, rows } => render_table(header, rows),
            View::Sections(sections) => sections
                .iter()
                .map(|(title, view)| {
                    let body = view.render_text();
                    if body.is_empty() {
                        format!("{title}\n  (none)")
                    } else {
                        let indented: Vec<String> =
                            body.lines().map(|l| format!("  {l}")).collect();
                        format!("{title}\n{}", indented.join("\n"))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }
}

/// Columns on a terminal: wide (CJK) characters take two, combining marks none.
fn cols(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

fn render_table(header: &[String], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        // An empty list says so, rather than printing nothing at all.
        return "(none)".to_string();
    }
    let columns = header
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths = vec![0usize; columns];
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(cols(c));
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - cols(c) + 3));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = Vec::with_capacity(rows.len() + 2);
    if !header.is_empty() {
        out.push(line(header));
        let rule: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, _)| "-".repeat(widths[i].max(1)))
            .collect();
        out.push(line(&rule));
    }
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let v = View::Table {
            header: vec!["NAME".into(), "LOCKED".into()],
            rows: vec![
                vec!["payments/".into(), "yes".into()],
                vec!["a/".into(), "".into()],
            ],
        };
        assert_eq!(
            v.render_text(),
            "NAME        LOCKED\n---------   ------\npayments/   yes\na/"
        );
    }

    #[test]
    fn wide_characters_keep_the_columns() {
        let v = View::Table {
            header: vec!["NAME".into(), "TYPE".into()],
            rows: vec![
                vec!["東京/".into(), "namespace".into()],
                vec!["ab/".into(), "kv".into()],
            ],
        };
        let text = v.render_text();
        let starts: Vec<usize> = text
            .lines()
            .skip(2)
            .map(|l| {
                let name: String = l.chars().take_while(|c| *c != ' ').collect();
                let pad = l[name.len()..].chars().take_while(|c| *c == ' ').count();
                cols(&name) + pad
            })
            .collect();
        assert_eq!(starts, vec![8, 8], "{text}");
    }

    #[test]
    fn an_empty_table_says_none() {
        let v = View::Table {
            header: vec!["ACCESSOR".into()],
            rows: vec![],
        };
        assert_eq!(v.render_text(), "(none)");
    }

    #[test]
    fn sections_show_none_for_empty() {
        let v = View::Sections(vec![
            ("Namespaces".into(), View::Empty),
            ("Mounts".into(), View::Text("secret/".into())),
        ]);
        assert_eq!(v.render_text(), "Namespaces\n  (none)\n\nMounts\n  secret/");
    }
}
