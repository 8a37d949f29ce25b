//! Secret values in the response pane are masked by default: the answer of a command
//! that reads secrets (`read`, `cat`, `kv get`, …) is drawn with its values as `••••`,
//! its keys and metadata left readable. The response keeps the values: a key reveals
//! them (for the selected response only), and copying takes them as they are.

use serde_json::Value;

use crate::engine::output::pretty;
use crate::engine::{Output, View};

/// What a masked value shows (its length is not told).
pub const MARK: &str = "••••";
/// The same on an ASCII-only terminal.
pub const ASCII_MARK: &str = "****";

/// The commands whose answers carry secret values: a command name, and the subcommand
/// when only one of its subcommands does (`kv get`, not `kv list`).
pub const SECRET_COMMANDS: &[(&str, Option<&str>)] = &[
    ("read", None),
    ("cat", None),
    ("write", None),
    ("patch", None),
    ("diff", None),
    ("kv", Some("get")),
    ("kv", Some("patch")),
    ("kv", Some("put")),
    ("kv", Some("rollback")),
    ("token", Some("create")),
    ("token", Some("lookup")),
];

/// The sections of an answer that hold no secret value (a secret's metadata, its path).
const PLAIN_SECTIONS: &[&str] = &["Metadata", "Secret Path"];

/// Whether the answer of `command` (as typed; `alias` gives the command an alias stands
/// for) carries secret values.
pub fn carries_secrets(command: &str, alias: impl Fn(&str) -> Option<String>) -> bool {
    let mut words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    if let Some(expanded) = words.first().and_then(|w| alias(w)) {
        let rest = words.split_off(1);
        words = expanded
            .split_whitespace()
            .map(str::to_string)
            .chain(rest)
            .collect();
    }
    let (Some(name), sub) = (words.first(), words.get(1)) else {
        return false;
    };
    SECRET_COMMANDS.iter().any(|(n, s)| {
        n == name
            && match s {
                None => true,
                Some(s) => sub.is_some_and(|w| w == s),
            }
    })
}

/// `out` with its secret values replaced by `mark`: the values under `data` (of a KV v2
/// secret, under `data.data`, its metadata left), a client token and its accessor, every
/// value column of a KEY/VALUE table (rows of metadata, `(version)`, left), and a bare
/// value (`-field`).
pub fn mask_output(out: &Output, mark: &str) -> Output {
    let json = out.json.as_ref().map(|j| mask_json(j, mark));
    let view = match (&out.view, &out.json) {
        (View::Text(t), Some(j)) if t.trim_end() == pretty(j).trim_end() => {
            View::Text(pretty(json.as_ref().unwrap_or(j)))
        }
        // `-field=password`: the view is the value itself.
        (View::Text(t), Some(j)) if !j.is_object() && !j.is_array() && !t.is_empty() => {
            View::Text(mark.to_string())
        }
        (v, _) => mask_view(v, mark),
    };
    Output {
        json,
        view,
        notes: out.notes.clone(),
    }
}

fn mask_view(view: &View, mark: &str) -> View {
    match view {
        View::Table { header, rows } if header.len() >= 2 => View::Table {
            header: header.clone(),
            rows: rows
                .iter()
                .map(|row| {
                    let keep = row.first().is_some_and(|k| k.starts_with('('));
                    row.iter()
                        .enumerate()
                        .map(|(i, cell)| {
                            if i == 0 || keep || cell.is_empty() {
                                cell.clone()
                            } else {
                                mark.to_string()
                            }
                        })
                        .collect()
                })
                .collect(),
        },
        // `kv get` of a v2 secret: its Metadata (and Secret Path) sections stay readable.
        View::Sections(s) => View::Sections(
            s.iter()
                .map(|(title, v)| {
                    let open = PLAIN_SECTIONS.iter().any(|t| t.eq_ignore_ascii_case(title));
                    (
                        title.clone(),
                        if open { v.clone() } else { mask_view(v, mark) },
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The JSON of a secret with its values masked.
pub fn mask_json(value: &Value, mark: &str) -> Value {
    let Some(obj) = value.as_object() else {
        return mask_leaves(value, mark);
    };
    let mut out = obj.clone();
    if let Some(data) = obj.get("data") {
        let kv2 = data.get("data").is_some_and(Value::is_object) && data.get("metadata").is_some();
        let masked = if kv2 {
            let mut d = data.as_object().cloned().unwrap_or_default();
            if let Some(inner) = d.get("data") {
                d.insert("data".into(), mask_leaves(inner, mark));
            }
            Value::Object(d)
        } else {
            mask_leaves(data, mark)
        };
        out.insert("data".into(), masked);
    }
    if let Some(auth) = obj.get("auth").and_then(Value::as_object) {
        let mut a = auth.clone();
        for k in ["client_token", "accessor"] {
            if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
                let masked = mask_leaves(v, mark);
                a.insert(k.into(), masked);
            }
        }
        out.insert("auth".into(), Value::Object(a));
    }
    Value::Object(out)
}

fn mask_leaves(value: &Value, mark: &str) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), mask_leaves(v, mark)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| mask_leaves(v, mark)).collect()),
        Value::Null => Value::Null,
        _ => Value::String(mark.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn which_commands_carry_secrets() {
        assert!(carries_secrets("read secret/data/db", none));
        assert!(carries_secrets("kv get -mount=secret db", none));
        assert!(!carries_secrets("kv list secret", none));
        assert!(!carries_secrets("ls", none));
        assert!(!carries_secrets("", none));
        // An alias is what it stands for.
        let alias = |w: &str| (w == "rd").then(|| "read".to_string());
        assert!(carries_secrets("rd secret/data/db", alias));
        let alias = |w: &str| (w == "kg").then(|| "kv get".to_string());
        assert!(carries_secrets("kg db", alias));
    }

    #[test]
    fn a_kv2_secret_keeps_its_metadata() {
        let secret = json!({"data": {"data": {"password": "hunter2", "n": 3}, "metadata": {"version": 3}}, "lease_id": ""});
        let m = mask_json(&secret, MARK);
        assert_eq!(m["data"]["data"]["password"], "••••");
        assert_eq!(m["data"]["data"]["n"], "••••");
        assert_eq!(m["data"]["metadata"]["version"], 3);
        assert_eq!(m["lease_id"], "");
        let v1 = mask_json(&json!({"data": {"k": ["a", {"b": "c"}]}}), MARK);
        assert_eq!(v1, json!({"data": {"k": ["••••", {"b": "••••"}]}}));
        let token = mask_json(
            &json!({"auth": {"client_token": "hvs.x", "accessor": "a", "policies": ["p"]}}),
            MARK,
        );
        assert_eq!(token["auth"]["client_token"], "••••");
        assert_eq!(token["auth"]["policies"], json!(["p"]));
    }

    #[test]
    fn views_are_masked_and_keys_kept() {
        let out = Output {
            json: Some(json!({"data": {"password": "hunter2"}})),
            view: View::Table {
                header: vec!["KEY".into(), "VALUE".into()],
                rows: vec![
                    vec!["(version)".into(), "3".into()],
                    vec!["password".into(), "hunter2".into()],
                ],
            },
            notes: vec!["note: n".into()],
        };
        let m = mask_output(&out, MARK);
        let text = m.view.render_text();
        assert!(
            !text.contains("hunter2") && text.contains("password"),
            "{text}"
        );
        assert!(text.contains("(version)   3"), "{text}");
        assert_eq!(m.notes, out.notes);
        // The JSON view of it.
        let as_json = Output::json(json!({"data": {"password": "hunter2"}}));
        let m = mask_output(&as_json, MARK);
        assert!(!m.view.render_text().contains("hunter2"));
        // `-field=password`.
        let field = Output {
            json: Some(json!("hunter2")),
            view: View::Text("hunter2".into()),
            notes: vec![],
        };
        assert_eq!(mask_output(&field, MARK).view.render_text(), "••••");
        // `kv get` of a v2 secret: the Data section only.
        let kv = Output {
            json: None,
            view: View::Sections(vec![
                (
                    "Metadata".into(),
                    View::Table {
                        header: vec!["Key".into(), "Value".into()],
                        rows: vec![vec!["version".into(), "3".into()]],
                    },
                ),
                (
                    "Data".into(),
                    View::Table {
                        header: vec!["Key".into(), "Value".into()],
                        rows: vec![vec!["password".into(), "hunter2".into()]],
                    },
                ),
            ]),
            notes: vec![],
        };
        let text = mask_output(&kv, MARK).view.render_text();
        assert!(
            text.contains("version   3") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(text.contains("password   ••••"), "{text}");
        // Prose stays.
        let prose = Output::text("Success! Data written.");
        assert_eq!(mask_output(&prose, MARK), prose);
    }
}
