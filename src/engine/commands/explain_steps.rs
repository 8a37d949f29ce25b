//! The parts of an explanation: a step (what it does, its bao line, its request), and the
//! shell text they are written in — quoting, secret values as shell variables, `k=v`
//! arguments as bao takes them and as a JSON body. A leaf: `explain` and
//! `explain_daily` build from it.

use serde_json::{Map, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::words;
use crate::vault::Method;

/// A value that is a shell expression, not a literal (`$PASSWORD`, `$(cat FILE)`): it
/// travels inside a string (a JSON body, a `k=v`) between these marks, and
/// [`quote_arg`] leaves it to the shell. The marks survive JSON encoding as they are.
pub const MARK: &str = "\u{27EA}sh:";
pub const MARK_END: &str = "\u{27EB}";

/// A JSON value that a shell expression prints whole (`$(jq -Rs . < FILE)`: a JSON
/// string, quotes and escapes made by jq): it stands for the value, quotes included.
pub const MARK_JSON: &str = "\u{27EA}json:";

/// The JSON value `expr` prints, in place of a string (see [`MARK_JSON`]).
pub fn shell_json(expr: &str) -> Value {
    Value::String(format!("{MARK_JSON}{expr}{MARK_END}"))
}

pub fn shell_value(expr: &str) -> Value {
    Value::String(shell_text(expr))
}

pub fn shell_text(expr: &str) -> String {
    format!("{MARK}{expr}{MARK_END}")
}

/// One request of the explained command.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub namespace: NsPath,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The variable the token comes from (`None`: no token, as a login sends none).
    pub token: Option<&'static str>,
}

impl Req {
    pub fn new(method: Method, namespace: &NsPath, path: impl Into<String>) -> Req {
        Req {
            method,
            namespace: namespace.clone(),
            path: path.into(),
            query: Vec::new(),
            body: None,
            token: Some("VAULT_TOKEN"),
        }
    }

    pub fn token(mut self, var: Option<&'static str>) -> Req {
        self.token = var;
        self
    }

    pub fn body(mut self, body: Value) -> Req {
        self.body = Some(body);
        self
    }
}

/// One step: what it does, the bao line, and the request.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub what: String,
    pub bao: Option<String>,
    pub req: Option<Req>,
}

pub fn step(what: impl Into<String>, bao: Option<String>, req: Option<Req>) -> Step {
    Step {
        what: what.into(),
        bao,
        req,
    }
}

/// A step with nothing sent: vnsh does it itself.
pub fn local(what: impl Into<String>) -> Step {
    step(what, None, None)
}

/// `bao WORDS… [-namespace=NS] ARGS…`: the flags before the arguments, as bao parses them.
pub fn bao(words: &[&str], ns: &NsPath, flags: &[String], args: &[String]) -> String {
    let mut out = vec!["bao".to_string()];
    out.extend(words.iter().map(|w| w.to_string()));
    if !ns.is_root() {
        out.push(quote(&format!("-namespace={}", ns.header())));
    }
    out.extend(flags.iter().cloned());
    out.extend(args.iter().map(|a| quote_arg(a)));
    out.join(" ")
}

/// A word for sh: single quotes where needed (what vnsh's own splitter reads back too).
pub fn quote(word: &str) -> String {
    words::quote_word(word)
}

/// An argument for sh: the literal parts single-quoted, each marked shell expression in
/// double quotes (so `$PASSWORD` is expanded), all one word.
pub fn quote_arg(arg: &str) -> String {
    if !arg.contains(MARK) && !arg.contains(MARK_JSON) {
        return quote(arg);
    }
    let literal = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut out = String::new();
    let mut rest = arg;
    loop {
        // The first mark of either kind.
        let found = [(MARK, false), (MARK_JSON, true)]
            .into_iter()
            .filter_map(|(m, whole)| rest.find(m).map(|at| (at, m, whole)))
            .min_by_key(|(at, ..)| *at);
        let Some((at, mark, whole)) = found else {
            break;
        };
        let after = &rest[at + mark.len()..];
        let Some(end) = after.find(MARK_END) else {
            break;
        };
        // A whole JSON value replaces the string it was encoded as, its quotes too.
        let before = match whole {
            true => rest[..at].strip_suffix('"').unwrap_or(&rest[..at]),
            false => &rest[..at],
        };
        if !before.is_empty() {
            out.push_str(&literal(before));
        }
        out.push('"');
        out.push_str(&after[..end]);
        out.push('"');
        rest = &after[end + MARK_END.len()..];
        if whole {
            rest = rest.strip_prefix('"').unwrap_or(rest);
        }
    }
    if !rest.is_empty() {
        out.push_str(&literal(rest));
    }
    out
}

/// A shell variable for a secret value named `key`: `db-pass` → `DB_PASS`.
pub fn var_for(key: &str) -> String {
    let mut v: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
        v.insert(0, '_');
    }
    v
}

/// `k=v` arguments for bao, the JSON body, and the shell variables to set.
pub type KvArgs = (Vec<String>, Map<String, Value>, Vec<String>);

/// `k=v` arguments as bao takes them and as a JSON body: a secret-named value becomes
/// `$NAME`; a `k=@FILE` stays so on the bao line (bao reads the file itself, so the value
/// is never in a process's arguments) and is `$(jq -Rs . < FILE)` in the body (the file
/// as one JSON string, newlines and quotes escaped, as bao reads it); `-` (standard input)
/// cannot be shown.
pub fn kv_args(args: &[String]) -> Result<KvArgs, EngineError> {
    let mut shown = Vec::new();
    let mut body = Map::new();
    let mut vars = Vec::new();
    for a in args {
        if a == "-" || a.ends_with("=-") {
            return Err(EngineError::Other(
                "explain: a value read from standard input cannot be shown; use k=@FILE".into(),
            ));
        }
        if let Some(file) = a.strip_prefix('@') {
            shown.push(a.clone());
            body.insert(
                format!("(the keys of {file})"),
                shell_value(&format!("$(cat {})", quote(file))),
            );
            continue;
        }
        let Some((k, v)) = a.split_once('=') else {
            return Err(EngineError::Other(format!("explain: {a:?} is not k=v")));
        };
        if let Some(file) = v.strip_prefix('@') {
            shown.push(a.clone());
            body.insert(
                k.to_string(),
                shell_json(&format!("$(jq -Rs . < {})", quote(file))),
            );
            continue;
        }
        let value = if words::is_secret_name(k, v) {
            let var = var_for(k);
            vars.push(var.clone());
            shell_value(&format!("${var}"))
        } else {
            Value::String(v.strip_prefix('\\').unwrap_or(v).to_string())
        };
        shown.push(format!("{k}={}", shown_value(&value)));
        body.insert(k.to_string(), value);
    }
    Ok((shown, body, vars))
}

/// A value as it goes on a bao line: a marker stays a marker (expanded when quoted).
pub fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn set_vars_note(vars: &[String], notes: &mut Vec<String>) {
    if !vars.is_empty() {
        let list: Vec<String> = vars.iter().map(|v| format!("${v}")).collect();
        notes.push(format!(
            "secret values are shell variables here: set {} first",
            list.join(", ")
        ));
    }
}

/// `-detailed` when asked, as a bao flag list.
pub fn detailed_flag(detailed: bool) -> Vec<String> {
    if detailed {
        vec!["-detailed".into()]
    } else {
        Vec::new()
    }
}
