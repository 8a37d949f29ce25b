//! The flags of bao's commands, as the daily-work families take them (`kv`, `secrets`,
//! `auth`, `policy`, `token`): `-name=value`, `-name value`, one or two dashes, a switch
//! `-name` (or `-name=false`), repeated flags kept in order, `--` ends them. A command's
//! row in the table lists its flags (`-version=` takes a value, `-local` does not): the
//! same list serves this parser, `help` and completion, so they cannot disagree.
//!
//! And what those families print the same way: `-field` (one raw value) and `-format`.

use serde_json::Value;

use crate::engine::output::{pretty, Output, View};
use crate::engine::spec::{CommandInfo, UsageError};

/// A command's words split into its flags and its positional arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// Every flag given, in order: its name without dashes, and its value (`"true"` for a
    /// switch given bare).
    given: Vec<(String, String)>,
    /// The other words, in order (`-` alone is one: standard input).
    pub positional: Vec<String>,
}

/// How a flag of a command's row is written: `-version=` takes a value, `-local` not.
fn flag_kinds(info: &CommandInfo) -> impl Iterator<Item = (&'static str, bool)> + '_ {
    info.flags.iter().map(|f| {
        let bare = f.trim_start_matches('-');
        match bare.strip_suffix('=') {
            Some(name) => (name, true),
            None => (bare, false),
        }
    })
}

impl Flags {
    /// Split `words` by the flags of `info` (its row in the table). A flag it does not
    /// take is a usage error naming the ones it does.
    pub fn parse(info: &CommandInfo, words: &[String]) -> Result<Flags, UsageError> {
        let bad = |m: String| UsageError::new(info.usage, m);
        let mut out = Flags::default();
        let mut it = words.iter();
        while let Some(w) = it.next() {
            if w == "--" {
                out.positional.extend(it.by_ref().cloned());
                break;
            }
            let bare = match w.strip_prefix("--").or_else(|| w.strip_prefix('-')) {
                Some(b) if !b.is_empty() && w != "-" => b,
                _ => {
                    out.positional.push(w.clone());
                    continue;
                }
            };
            let (name, value) = match bare.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (bare, None),
            };
            let Some((_, takes_value)) = flag_kinds(info).find(|(n, _)| *n == name) else {
                let known: Vec<&str> = info.flags.to_vec();
                return Err(bad(if known.is_empty() {
                    format!("unknown flag {w:?}: this command takes none")
                } else {
                    format!("unknown flag {w:?}; the flags are {}", known.join(" "))
                }));
            };
            let value = match (takes_value, value) {
                (true, Some(v)) => v,
                (true, None) => it
                    .next()
                    .cloned()
                    .ok_or_else(|| bad(format!("`-{name}` needs a value")))?,
                (false, None) => "true".to_string(),
                (false, Some(v)) => match v.as_str() {
                    "true" | "false" => v,
                    _ => return Err(bad(format!("`-{name}` is true or false, not {v:?}"))),
                },
            };
            out.given.push((name.to_string(), value));
        }
        Ok(out)
    }

    /// The value of the last `-name` given (a flag given twice: the last one counts).
    pub fn last(&self, name: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a flag that may be repeated, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.given
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether `-name` was given at all.
    pub fn has(&self, name: &str) -> bool {
        self.given.iter().any(|(n, _)| n == name)
    }

    /// A switch: `None` when not given, else its value (`-x`, `-x=true`, `-x=false`).
    pub fn switch(&self, name: &str) -> Option<bool> {
        self.last(name).map(|v| v == "true")
    }

    /// A whole number flag (`-version=3`), checked here so nothing is sent for a typo.
    pub fn number(&self, info: &CommandInfo, name: &str) -> Result<Option<u64>, UsageError> {
        self.last(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    UsageError::new(
                        info.usage,
                        format!("`-{name}` takes a whole number, not {v:?}"),
                    )
                })
            })
            .transpose()
    }

    /// A `-name=k=v` flag given any number of times, as pairs (`-options=version=2`).
    pub fn pairs(
        &self,
        info: &CommandInfo,
        name: &str,
    ) -> Result<Vec<(String, String)>, UsageError> {
        self.all(name)
            .into_iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(UsageError::new(
                    info.usage,
                    format!("`-{name}` takes key=value, not {kv:?}"),
                )),
            })
            .collect()
    }

    /// A flag that may be repeated or hold a comma list (`-versions=1,2 -versions=3`), as
    /// the whole numbers it names.
    pub fn number_list(&self, info: &CommandInfo, name: &str) -> Result<Vec<u64>, UsageError> {
        self.all(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    UsageError::new(
                        info.usage,
                        format!("`-{name}` takes version numbers (1,2,3), not {v:?}"),
                    )
                })
            })
            .collect()
    }

    /// `-field` and `-format`, where the command takes them.
    pub fn output(&self, info: &CommandInfo) -> Result<OutputFlags, UsageError> {
        let json = match self.last("format") {
            None | Some("table") => false,
            Some("json") => true,
            Some(other) => {
                return Err(UsageError::new(
                    info.usage,
                    format!("`-format={other}`: the formats are json and table"),
                ))
            }
        };
        let field = match self.last("field") {
            Some("") => {
                return Err(UsageError::new(info.usage, "`-field` needs a field name"));
            }
            other => other.map(str::to_string),
        };
        Ok(OutputFlags { field, json })
    }
}

/// `-field=NAME` and `-format=json|table`, as bao takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputFlags {
    /// Print only this field of the answer, raw (its JSON with `-format=json`).
    pub field: Option<String>,
    /// Print this answer as JSON whatever the session's format.
    pub json: bool,
}

impl OutputFlags {
    /// The output of a command with these flags: `-format=json` shows the JSON document
    /// (nothing where bao prints none).
    pub fn apply(&self, mut out: Output) -> Output {
        if self.json {
            out.view = match &out.json {
                Some(j) => View::Text(pretty(j)),
                None => View::Empty,
            };
        }
        out
    }
}

/// One field of an answer, as `-field` prints it: the value raw for people (a string
/// bare, anything else as JSON), the value itself in JSON. `None` is bao's error.
pub fn field_output(name: &str, value: Option<Value>) -> Result<Output, String> {
    let value = value
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("field {name:?} is not present in the answer"))?;
    let raw = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Output {
        view: View::Text(raw),
        json: Some(value),
        notes: Vec::new(),
    })
}

/// A field of a Secret as bao's `RawField` finds it without an `auth` block: the
/// Secret's own fields by name, `data` (a KV v2 `data.data` when there is one), else a
/// key of `data`.
pub fn secret_field(secret: &Value, name: &str) -> Option<Value> {
    let data = secret.get("data");
    match name {
        "lease_duration" | "lease_id" | "request_id" | "renewable" => secret.get(name).cloned(),
        "refresh_interval" => secret.get("lease_duration").cloned(),
        "data" => data.and_then(|d| d.get("data")).or(data).cloned(),
        _ => data.and_then(|d| d.get(name)).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROW: CommandInfo = CommandInfo::new("x", "x [-version=N] [-local] PATH", "").flags(&[
        "-version=",
        "-local",
        "-options=",
        "-field=",
        "-format=",
    ]);

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn values_switches_and_positionals() {
        let f = Flags::parse(&ROW, &w("a -version=2 --local b -options k=v - -- -local")).unwrap();
        assert_eq!(f.positional, w("a b - -local"));
        assert_eq!(f.last("version"), Some("2"));
        assert_eq!(f.switch("local"), Some(true));
        assert_eq!(
            f.pairs(&ROW, "options").unwrap(),
            [("k".into(), "v".into())]
        );
        let f = Flags::parse(&ROW, &w("-local=false -version 3 -version=4")).unwrap();
        assert_eq!(f.switch("local"), Some(false));
        assert_eq!(f.number(&ROW, "version").unwrap(), Some(4));
        assert_eq!(f.switch("nope"), None);
    }

    #[test]
    fn refusals_name_the_flag() {
        for (line, says) in [
            ("-frob", "unknown flag \"-frob\""),
            ("-version", "`-version` needs a value"),
            ("-local=yes", "true or false"),
            ("-format=yaml", "json and table"),
            ("-field=", "needs a field name"),
        ] {
            let e = Flags::parse(&ROW, &w(line)).and_then(|f| f.output(&ROW).map(|_| f));
            let e = e.unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
        let f = Flags::parse(&ROW, &w("-version=two -options=novalue")).unwrap();
        assert!(f.number(&ROW, "version").is_err());
        assert!(f.pairs(&ROW, "options").is_err());
    }

    #[test]
    fn version_lists_take_commas_and_repeats() {
        const V: CommandInfo = CommandInfo::new("v", "v", "").flags(&["-versions="]);
        let f = Flags::parse(&V, &w("-versions=1,2 -versions 3")).unwrap();
        assert_eq!(f.number_list(&V, "versions").unwrap(), [1, 2, 3]);
        let f = Flags::parse(&V, &w("-versions=1,x")).unwrap();
        assert!(f.number_list(&V, "versions").is_err());
    }

    #[test]
    fn fields_as_bao_finds_them() {
        let kv2 = json!({"lease_duration": 0, "data": {"data": {"a": "1"}, "metadata": {}}});
        assert_eq!(secret_field(&kv2, "data"), Some(json!({"a": "1"})));
        assert_eq!(secret_field(&kv2, "lease_duration"), Some(json!(0)));
        let kv1 = json!({"data": {"a": "1"}});
        assert_eq!(secret_field(&kv1, "a"), Some(json!("1")));
        assert_eq!(secret_field(&kv1, "data"), Some(json!({"a": "1"})));
        let out = field_output("a", Some(json!("p w"))).unwrap();
        assert_eq!(out.view.render_text(), "p w");
        assert!(field_output("b", None).is_err());
        assert!(field_output("b", Some(Value::Null)).is_err());
        let json = OutputFlags {
            field: None,
            json: true,
        };
        assert_eq!(json.apply(Output::text("Success!")).view, View::Empty);
    }
}
