//! Any API path: `read`, `list`, `write`, `patch` and `delete`, relative to the current
//! namespace, printed as `bao read/list/… -format=json` prints them.

use serde_json::{json, Map, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath;
use crate::engine::output::{cell, warnings, warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, Checked, CommandInfo, Parsed, UsageError};
use crate::vault::{body, Method, RequestInfo, VaultError};

/// An API operation on an arbitrary path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiOp {
    /// `read PATH`
    Read,
    /// `list PATH`
    List,
    /// `write PATH k=v…`
    Write,
    /// `patch PATH k=v…`
    Patch,
    /// `delete PATH`
    Delete,
}

/// `read/list/write/patch/delete PATH [k=v…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// Which operation.
    pub op: ApiOp,
    /// The path, relative to here unless it starts with `/`.
    pub path: String,
    /// `k=v` arguments (and `-field=`/`-format=` flags).
    pub args: Vec<String>,
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "read",
        "read PATH [-field=KEY] [-format=json]",
        "read any API path, relative to here (/PATH: from the root)",
    )
    .flags(&["-field=", "-format="])
    .args(&[Arg::ApiPath]),
    CommandInfo::new("list", "list PATH", "list the keys under an API path")
        .flags(&["-format="])
        .args(&[Arg::ApiPath]),
    CommandInfo::new(
        "write",
        "write PATH k=v… (k=@file, k=-, -)",
        "write to an API path",
    )
    .flags(&["-format="])
    .args(&[Arg::ApiPath]),
    CommandInfo::new("patch", "patch PATH k=v…", "JSON merge-patch an API path")
        .flags(&["-format="])
        .args(&[Arg::ApiPath]),
    CommandInfo::new("delete", "delete PATH", "delete an API path (asks first)")
        .flags(&["-format="])
        .args(&[Arg::ApiPath]),
];

fn bad(name: &str, message: impl Into<String>) -> UsageError {
    let usage = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .map_or("help", |c| c.usage);
    UsageError::new(usage, message)
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Api> {
    let op = match name {
        "read" => ApiOp::Read,
        "list" => ApiOp::List,
        "write" => ApiOp::Write,
        "patch" => ApiOp::Patch,
        "delete" => ApiOp::Delete,
        _ => return None,
    };
    Some(parse_api(name, op, rest))
}

fn parse_api(name: &str, op: ApiOp, rest: &[String]) -> Result<Api, UsageError> {
    // `-field=KEY` / `-format=json` may come anywhere; they stay in the args.
    let (flags, rest) = ApiFlags::split(rest).map_err(|m| bad(name, m))?;
    let Some((path, args)) = rest.split_first() else {
        return Err(bad(name, format!("`{name}` needs a PATH")));
    };
    if matches!(op, ApiOp::List | ApiOp::Delete | ApiOp::Read) && !args.is_empty() {
        return Err(bad(name, format!("`{name}` takes only a PATH")));
    }
    if matches!(op, ApiOp::Write | ApiOp::Patch) && args.is_empty() {
        return Err(bad(name, format!("`{name}` needs k=v arguments")));
    }
    if flags.field.is_some() && op != ApiOp::Read {
        return Err(bad(name, "`-field` goes with `read`"));
    }
    Ok(Api {
        op,
        path: path.clone(),
        args: flags.words().into_iter().chain(args.to_vec()).collect(),
    })
}

impl Api {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        matches!(self.op, ApiOp::Write | ApiOp::Patch | ApiOp::Delete)
    }

    /// Whether it destroys something, and so asks first.
    pub fn is_destructive(&self) -> bool {
        self.op == ApiOp::Delete
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        self.is_destructive()
            .then(|| match session.route(&self.path) {
                Ok(route) => format!("Delete {} in namespace {}?", route.path, route.namespace),
                // Refused when it runs, before anything is sent.
                Err(_) => format!("Delete {}?", self.path),
            })
    }
}

/// What a raw write to `path` (below `/v1/`, as routed) does that cannot be undone: the
/// question it owes says it. `Err`: a write vnsh makes only through its own command, which
/// keeps what the raw one would lose (the error names it).
fn write_effect(path: &str) -> Result<Option<&'static str>, String> {
    let p = path.trim_matches('/');
    let segs: Vec<&str> = p.split('/').collect();
    let under = |prefix: &str| p == prefix || p.starts_with(&format!("{prefix}/"));
    if under("sys/namespaces/api-lock/lock") {
        return Err("use `lock NAME`: it saves the unlock key before it sends the lock; a raw write would show the key once and keep it nowhere".into());
    }
    if under("sys/namespaces/api-lock/unlock") {
        return Err(
            "use `unlock NAME`: it asks first where it must, and uses the key it saved".into(),
        );
    }
    let revokes = [
        "auth/token/revoke",
        "auth/token/revoke-accessor",
        "auth/token/revoke-orphan",
        "auth/token/revoke-self",
        "sys/leases/revoke",
        "sys/leases/revoke-prefix",
        "sys/leases/revoke-force",
        "sys/revoke",
        "sys/revoke-prefix",
        "sys/revoke-force",
    ];
    Ok(if revokes.iter().any(|r| under(r)) {
        Some("What it revokes cannot be brought back.")
    } else if under("sys/seal") || (segs.len() == 4 && under("sys/namespaces") && segs[3] == "seal")
    {
        Some("Everything there stops answering until it is unsealed with its key shares.")
    } else if under("sys/step-down") {
        Some("The active node gives up its role.")
    } else if under("sys/remount") {
        Some("The mount's leases are revoked.")
    } else if segs.len() >= 3 && segs[1..].contains(&"destroy") {
        Some("On a KV version 2 mount, destroyed versions cannot be recovered.")
    } else {
        None
    })
}

/// Before the question: a write vnsh makes only through its own command is refused, with
/// nothing sent; a delete, and a write that cannot be undone, ask first.
pub fn prepare(session: &Session, cmd: &Api) -> Result<Checked<Api>, EngineError> {
    if !matches!(cmd.op, ApiOp::Write | ApiOp::Patch) {
        return Ok(match cmd.confirmation(session) {
            Some(q) => Checked::ask(cmd.clone(), q),
            None => Checked::run(cmd.clone()),
        });
    }
    // A path that cannot be routed is refused when it runs, before anything is sent.
    let Ok(route) = session.route(&cmd.path) else {
        return Ok(Checked::run(cmd.clone()));
    };
    match write_effect(&route.path) {
        Err(why) => Err(EngineError::Other(format!(
            "{} {}: {why} (nothing was sent)",
            if cmd.op == ApiOp::Patch {
                "patch"
            } else {
                "write"
            },
            cmd.path
        ))),
        Ok(Some(effect)) => Ok(Checked::ask(
            cmd.clone(),
            format!(
                "Write {} in namespace {}? {effect}",
                route.path, route.namespace
            ),
        )),
        Ok(None) => Ok(Checked::run(cmd.clone())),
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Api) -> Result<Output, EngineError> {
    let out = api(session, cmd.op, &cmd.path, &cmd.args).await?;
    if cmd.is_mutating() {
        let cache = session.cache();
        cache.invalidate_paths();
        // A raw write can change what completion and the index know of the tree or of a
        // namespace's mounts, as the commands that do so on purpose do.
        if let Ok(route) = session.route(&cmd.path) {
            let p = route.path.as_str();
            if p.starts_with("sys/namespaces") {
                cache.invalidate_tree();
            }
            if ["sys/mounts", "sys/auth", "sys/remount"]
                .iter()
                .any(|m| p.starts_with(m))
            {
                cache.invalidate_mounts(&route.namespace);
            }
        }
    }
    Ok(out)
}

async fn api(
    session: &mut Session,
    op: ApiOp,
    path: &str,
    args: &[String],
) -> Result<Output, EngineError> {
    // `-field=KEY` / `-format=json` (vault CLI style) travel in the arguments.
    let (flags, args) = ApiFlags::split(args).map_err(EngineError::Other)?;
    let args = args.as_slice();
    let route = session.route(path)?;
    if matches!(op, ApiOp::Write | ApiOp::Patch) {
        mount_keys_nest_not(&route.path, args)?;
    }
    let (method, body) = match op {
        ApiOp::Read => (Method::Get, None),
        ApiOp::List => (Method::List, None),
        ApiOp::Delete => (Method::Delete, None),
        ApiOp::Write => (Method::Put, Some(Value::Object(session.kv(args)?))),
        ApiOp::Patch => (Method::Patch, Some(Value::Object(session.kv(args)?))),
    };
    let resp = session
        .client()
        .request(
            method,
            &route.namespace.header(),
            &route.path,
            body.as_ref(),
        )
        .await
        .map_err(|e| kv2_data_hint(op, &route.path, e))
        .map_err(|e| match e {
            EngineError::Vault(e) => refused_above_top(session, &route, e),
            other => other,
        })?;
    let mut out = match op {
        ApiOp::List => {
            let info = RequestInfo {
                method: Method::List.as_str().into(),
                path: route.path.clone(),
                namespace: route.namespace.header(),
            };
            // An answer of another shape is an error naming the path, never an empty list.
            let keys = body::list_keys(resp.as_ref(), &info)?;
            Output::names(keys)
        }
        _ => match resp.map(raw_as_secret) {
            Some(body) if has_content(&body) => secret_output(&body),
            other => warnings_output(
                other.as_ref(),
                match op {
                    ApiOp::Delete => "deleted",
                    ApiOp::Read => "",
                    _ => "written",
                },
            ),
        },
    };
    if let Some(note) = route.note {
        out.notes.insert(0, note);
    }
    flags.apply(out).map_err(EngineError::Other)
}

/// `k=v` does not nest: `options.version=2` written to `sys/mounts/X` is a key of its
/// own, which the server ignores — a KV mount made that way is version 1, quietly.
/// Refused before anything is sent, naming the command that sets mount options.
fn mount_keys_nest_not(path: &str, args: &[String]) -> Result<(), EngineError> {
    let Some(family) = ["sys/mounts/", "sys/auth/"]
        .into_iter()
        .find(|p| path.starts_with(p))
    else {
        return Ok(());
    };
    let dotted = args
        .iter()
        .filter_map(|a| a.split_once('=').map(|(k, _)| k))
        .find(|k| k.contains('.'));
    match dotted {
        None => Ok(()),
        Some(key) => {
            let word = if family == "sys/auth/" {
                "auth"
            } else {
                "secrets"
            };
            Err(EngineError::Other(format!(
                "write {path}: `{key}` would be sent as a key of its own (k=v does not nest), and the server ignores it: nothing was sent; `{word} enable -path=NAME -options=k=v TYPE` (`-version=2` for kv) or `{word} tune -options=k=v NAME` sets mount options"
            )))
        }
    }
}

/// A raw write of keys under a KV v2 `data/` path: the server wants them inside `data`
/// and says only "no data provided"; name the command that writes them as bao does.
fn kv2_data_hint(op: ApiOp, path: &str, e: VaultError) -> EngineError {
    let no_data = matches!(&e, VaultError::Status { status: 400, messages, .. }
        if messages.iter().any(|m| m.contains("no data provided")));
    match path.split_once("/data/") {
        Some((mount, key)) if no_data && op == ApiOp::Write => EngineError::Other(format!(
            "{e}\nnote: on KV version 2 the raw API takes the keys inside `data` (a whole body: `write {path} @body.json` with {{\"data\": {{…}}}}); `kv put {mount}/{key} k=v` writes them as `bao kv put` does"
        )),
        _ => e.into(),
    }
}

/// A root-only path sent to the root by a token whose top is below it: say why it
/// was refused, instead of a bare "permission denied".
fn refused_above_top(session: &Session, route: &nspath::Route, e: VaultError) -> EngineError {
    let refused = matches!(e, VaultError::PermissionDenied { .. });
    match nspath::root_only_prefix(&route.path) {
        Some(prefix) if refused && route.namespace.is_root() && !session.top().is_root() => {
            EngineError::Other(format!(
                "{e}\nnote: {prefix} is root-only, so it was sent to the root namespace; this token belongs to {} and cannot reach the root: ask an operator with a root-namespace token",
                session.top()
            ))
        }
        _ => e.into(),
    }
}

/// As the Go client's `ParseSecret`: a body with none of a Secret's fields (`sys/health`,
/// `sys/leader`) is taken as the `data` of an otherwise empty Secret.
fn raw_as_secret(body: Value) -> Value {
    const SECRET_FIELDS: [&str; 9] = [
        "request_id",
        "lease_id",
        "lease_duration",
        "renewable",
        "data",
        "warnings",
        "auth",
        "wrap_info",
        "mount_type",
    ];
    let zero = |v: &Value| match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    };
    match body {
        Value::Object(m)
            if !m.is_empty() && SECRET_FIELDS.iter().all(|f| m.get(*f).is_none_or(zero)) =>
        {
            json!({ "data": m })
        }
        other => other,
    }
}

fn has_content(body: &Value) -> bool {
    ["data", "auth", "wrap_info"]
        .iter()
        .any(|k| body.get(*k).is_some_and(|v| !v.is_null()))
}

/// The Go client's `SecretAuth`, as bao prints it: its fields in its order, zero where
/// the server leaves one out, the server's others dropped.
pub fn go_auth(auth: &Value) -> Value {
    /// A field and the value it takes when the server leaves it out.
    type Field = (&'static str, fn() -> Value);
    const FIELDS: &[Field] = &[
        ("client_token", || json!("")),
        ("accessor", || json!("")),
        ("policies", || Value::Null),
        ("token_policies", || Value::Null),
        ("identity_policies", || Value::Null),
        ("metadata", || Value::Null),
        ("orphan", || json!(false)),
        ("entity_id", || json!("")),
        ("lease_duration", || json!(0)),
        ("renewable", || json!(false)),
        ("mfa_requirement", || Value::Null),
    ];
    Value::Object(
        FIELDS
            .iter()
            .map(|(k, zero)| ((*k).to_string(), auth.get(*k).cloned().unwrap_or_else(zero)))
            .collect(),
    )
}

/// What `bao read -format=json` prints: the Go client's Secret, fields in its order.
pub fn secret_output(body: &Value) -> Output {
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let mut secret = Map::new();
    secret.insert(
        "request_id".into(),
        body.get("request_id").cloned().unwrap_or(json!("")),
    );
    secret.insert(
        "lease_id".into(),
        body.get("lease_id").cloned().unwrap_or(json!("")),
    );
    secret.insert(
        "lease_duration".into(),
        body.get("lease_duration").cloned().unwrap_or(json!(0)),
    );
    secret.insert(
        "renewable".into(),
        body.get("renewable").cloned().unwrap_or(json!(false)),
    );
    secret.insert("data".into(), get("data"));
    secret.insert("warnings".into(), get("warnings"));
    if let Some(auth) = body.get("auth").filter(|v| !v.is_null()) {
        secret.insert("auth".into(), go_auth(auth));
    }
    if body.get("wrap_info").is_some_and(|v| !v.is_null()) {
        secret.insert("wrap_info".into(), get("wrap_info"));
    }
    if let Some(m) = body
        .get("mount_type")
        .filter(|m| m.as_str().is_some_and(|s| !s.is_empty()))
    {
        secret.insert("mount_type".into(), m.clone());
    }
    let mut rows = Vec::new();
    if let Some(d) = body.get("data").and_then(Value::as_object) {
        rows.extend(d.iter().map(|(k, v)| vec![k.clone(), cell(v)]));
    }
    if let Some(a) = body.get("auth").and_then(Value::as_object) {
        for (k, v) in a {
            // Never print a client token in a table; JSON mode is explicit.
            let shown = if k == "client_token" {
                "(hidden; use --format json)".to_string()
            } else {
                cell(v)
            };
            rows.push(vec![format!("auth.{k}"), shown]);
        }
    }
    let notes = warnings(body);
    Output {
        json: Some(Value::Object(secret)),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes,
    }
}

/// `-field=KEY` and `-format=json|table` on an API command, as the vault CLI takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiFlags {
    /// Print only this field of the answer, raw (`read -field=password secret/data/db`).
    pub field: Option<String>,
    /// Print this answer as JSON whatever the session's format.
    pub json: bool,
}

impl ApiFlags {
    /// Take the flags out of `args` (`-field=K`, `-field K`, `-format=F`, one or two
    /// dashes); the rest keep their order.
    pub fn split(args: &[String]) -> Result<(ApiFlags, Vec<String>), String> {
        let mut flags = ApiFlags::default();
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(w) = it.next() {
            let bare = w.strip_prefix("--").or_else(|| w.strip_prefix('-'));
            let Some((name, value)) = bare.and_then(|b| match b.split_once('=') {
                Some((n, v)) if n == "field" || n == "format" => Some((n, Some(v.to_string()))),
                None if b == "field" || b == "format" => Some((b, None)),
                _ => None,
            }) else {
                rest.push(w.clone());
                continue;
            };
            let value = match value {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`-{name}` needs a value"))?,
            };
            match name {
                "field" if value.is_empty() => return Err("`-field` needs a KEY".into()),
                "field" => flags.field = Some(value),
                _ => match value.as_str() {
                    "json" => flags.json = true,
                    "table" => flags.json = false,
                    other => {
                        return Err(format!("`-format={other}`: the formats are json and table"))
                    }
                },
            }
        }
        Ok((flags, rest))
    }

    /// The flags as words, for a command's arguments.
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = &self.field {
            out.push(format!("-field={f}"));
        }
        if self.json {
            out.push("-format=json".into());
        }
        out
    }

    /// Apply the flags to a command's output: one raw field, or the JSON as the view.
    pub fn apply(&self, mut out: Output) -> Result<Output, String> {
        if let Some(field) = &self.field {
            let value = out
                .json
                .as_ref()
                .and_then(|j| field_of(j, field))
                .ok_or_else(|| format!("field {field:?} is not in the answer"))?;
            let raw = match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.view = View::Text(raw);
            out.json = Some(value);
        } else if self.json {
            if let Some(j) = &out.json {
                out.view = View::Text(crate::engine::output::pretty(j));
            }
        }
        Ok(out)
    }
}

/// A field of a secret as the vault CLI's `-field` finds it: in `data`, in a KV v2
/// `data.data`, then among the secret's own fields. Never a client token.
fn field_of(secret: &Value, field: &str) -> Option<Value> {
    if field == "client_token" || (field == "token" && secret.get("auth").is_some()) {
        return None;
    }
    let data = secret.get("data");
    data.and_then(|d| d.get(field))
        .or_else(|| data.and_then(|d| d.get("data")).and_then(|d| d.get(field)))
        .or_else(|| secret.get(field).filter(|_| field != "auth"))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(l: &str) -> Vec<String> {
        l.split_whitespace().map(str::to_string).collect()
    }

    fn p(line: &str) -> Result<Api, UsageError> {
        let w = words(line);
        let (first, rest) = w.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn api_flags_anywhere_and_kept_in_the_args() {
        assert_eq!(
            p("read -field=password secret/data/db"),
            Ok(Api {
                op: ApiOp::Read,
                path: "secret/data/db".into(),
                args: vec!["-field=password".into()]
            })
        );
        assert_eq!(
            p("read secret/x -format json"),
            Ok(Api {
                op: ApiOp::Read,
                path: "secret/x".into(),
                args: vec!["-format=json".into()]
            })
        );
        assert!(p("read -format=yaml x").is_err());
        assert!(p("list -field=a x").is_err());
        assert!(p("read -field").is_err());
        assert!(p("write x").is_err());
        assert!(p("read").is_err());
        let (flags, rest) = ApiFlags::split(&words("--field=a b=1 -")).unwrap();
        assert_eq!(flags.field.as_deref(), Some("a"));
        assert_eq!(rest, words("b=1 -"));
    }

    #[test]
    fn classifies_mutating_and_destructive() {
        assert!(p("delete x").unwrap().is_destructive());
        assert!(!p("write x a=1").unwrap().is_destructive());
        assert!(p("write x a=1").unwrap().is_mutating());
        assert!(!p("read x").unwrap().is_mutating());
    }

    #[test]
    fn field_looks_in_data_then_kv2_data() {
        let flags = ApiFlags {
            field: Some("password".into()),
            json: false,
        };
        for secret in [
            json!({"data": {"password": "p w"}}),
            json!({"data": {"data": {"password": "p w"}, "metadata": {}}}),
        ] {
            let out = flags
                .apply(Output {
                    json: Some(secret),
                    view: View::Empty,
                    notes: vec![],
                })
                .unwrap();
            assert_eq!(out.view.render_text(), "p w");
            assert_eq!(out.json, Some(json!("p w")));
        }
        let token = ApiFlags {
            field: Some("client_token".into()),
            json: false,
        };
        let out = Output {
            json: Some(json!({"auth": {"client_token": "s.x"}})),
            view: View::Empty,
            notes: vec![],
        };
        assert!(token.apply(out).is_err());
    }

    #[test]
    fn secret_output_keeps_go_field_order_and_drops_nulls() {
        let body = json!({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,
            "data":{"a":"1"},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"});
        let out = secret_output(&body);
        assert_eq!(
            serde_json::to_string(&out.json.unwrap()).unwrap(),
            r#"{"request_id":"r","lease_id":"","lease_duration":0,"renewable":false,"data":{"a":"1"},"warnings":null,"mount_type":"kv"}"#
        );
    }

    #[test]
    fn auth_in_the_go_clients_shape() {
        let server = json!({"client_token": "s.x", "accessor": "a", "policies": ["default"],
            "token_policies": ["default"], "metadata": null, "lease_duration": 60,
            "renewable": true, "entity_id": "", "token_type": "service", "orphan": false,
            "mfa_requirement": null, "num_uses": 0});
        assert_eq!(
            serde_json::to_string(&go_auth(&server)).unwrap(),
            r#"{"client_token":"s.x","accessor":"a","policies":["default"],"token_policies":["default"],"identity_policies":null,"metadata":null,"orphan":false,"entity_id":"","lease_duration":60,"renewable":true,"mfa_requirement":null}"#
        );
    }
}
