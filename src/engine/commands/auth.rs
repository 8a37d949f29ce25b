//! Who the session is: `login` in the current namespace ("namespaces have separate login
//! paths"), `whoami`, and `connect` to a profile of the configuration file.
//!
//! The token's own namespace is the session's top: `/` means it and nothing is sent
//! above it (root-only paths aside). A token is never printed, never written to the
//! history or the action log, and reaches the token file only with `login -store`.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::engine::commands::nav;
use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{cell, Output, View};
use crate::engine::session::{SecretAsk, Session};
use crate::engine::spec::{CommandInfo, UsageError};
use crate::vault::{self, Client, Method, Token, VaultError};

/// A command about who the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Log in here with an auth method.
    Login(Login),
    /// Who the token is.
    Whoami,
    /// Switch to a profile of the configuration file (`None`: list them).
    Connect(Option<String>),
}

/// `login METHOD [k=v…] [-path=MOUNT] [-store]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The auth method: token, userpass, ldap, approle, or any other (generic `k=v` login).
    pub method: String,
    /// Where it is mounted, when not at the method's name.
    pub mount: Option<String>,
    /// `k=v` arguments (`@file`, `-`).
    pub args: Vec<String>,
    /// Write the new token to the token file (`~/.vault-token`).
    pub store: bool,
}

/// The commands of this room, for help.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new("login", "login [METHOD] [k=v…] [-path=MOUNT] [-store]", "log in here: token, userpass/ldap (username=), approle (role_id=, secret_id=), or any method's k=v; a password or secret not given is asked unseen; -store writes ~/.vault-token"),
    CommandInfo::new("whoami", "whoami", "the token's display name, policies, TTL, namespace (home) and accessor (never the token)"),
    CommandInfo::new("connect", "connect [PROFILE]", "switch to a cluster profile of the configuration file; without a name, list them"),
];

fn bad(usage: &str, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        usage: usage.to_string(),
    }
}

/// Parse a command of this room; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Option<Result<Auth, UsageError>> {
    Some(match name {
        "login" => parse_login(rest).map(Auth::Login),
        "whoami" if rest.is_empty() => Ok(Auth::Whoami),
        "whoami" => Err(bad("whoami", "`whoami` takes no argument")),
        "connect" => match rest {
            [] => Ok(Auth::Connect(None)),
            [p] => Ok(Auth::Connect(Some(p.clone()))),
            _ => Err(bad("connect [PROFILE]", "`connect` takes one profile name")),
        },
        _ => return None,
    })
}

fn parse_login(rest: &[String]) -> Result<Login, UsageError> {
    let usage = COMMANDS[0].usage;
    let mut method = None;
    let mut mount = None;
    let mut store = false;
    let mut args = Vec::new();
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        let flag = w.strip_prefix("--").or_else(|| w.strip_prefix('-'));
        let Some(flag) = flag.filter(|f| !f.is_empty()) else {
            if w.contains('=') || w == "-" || method.is_some() {
                if !w.contains('=') && w != "-" {
                    // Never repeat the word: it may be a token or a password typed by mistake.
                    let what = if looks_like_token(w) {
                        "it looks like a token, and a token never goes on a command line: run `login` and type it when asked (hidden), or give token=@FILE"
                    } else {
                        "arguments are k=v (username=NAME, role_id=ID…)"
                    };
                    return Err(bad(
                        usage,
                        format!("unexpected argument after the method: {what}"),
                    ));
                }
                args.push(w.clone());
            } else if looks_like_token(w) || !is_method_name(w) {
                // `login s.xxxx`: the token would go into the URL (and the server's logs).
                return Err(bad(
                    usage,
                    "that is not an auth method's name (it looks like a token or a secret): a token never goes on a command line — run `login` and type it when asked (hidden), or give token=@FILE",
                ));
            } else {
                method = Some(w.clone());
            }
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let mut value_of = |value: Option<String>| -> Result<String, UsageError> {
            match value {
                Some(v) if !v.is_empty() => Ok(v),
                Some(_) => Err(bad(usage, format!("`-{name}` needs a value"))),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| bad(usage, format!("`-{name}` needs a value"))),
            }
        };
        match name {
            "path" => mount = Some(value_of(value)?),
            "method" => {
                let m = value_of(value)?;
                if looks_like_token(&m) || !is_method_name(&m) {
                    return Err(bad(usage, "`-method` needs an auth method's name (userpass, approle, …); a token never goes on a command line"));
                }
                method = Some(m)
            }
            "store" if value.is_none() => store = true,
            "no-store" if value.is_none() => store = false,
            _ => return Err(bad(usage, format!("unknown flag {w:?}"))),
        }
    }
    Ok(Login {
        method: method.unwrap_or_else(|| "token".to_string()),
        mount: mount.map(|m| m.trim_matches('/').to_string()),
        args,
        store,
    })
}

/// Whether a word has the shape of a Vault or OpenBao token (`hvs.…`, `s.…`, `b.…`, a long
/// random string): such a word is never sent, printed or kept.
pub fn looks_like_token(w: &str) -> bool {
    const PREFIXES: [&str; 8] = ["hvs.", "hvb.", "hvr.", "s.", "b.", "r.", "sb.", "sr."];
    let long_random = w.len() >= 20
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && w.chars().any(|c| c.is_ascii_digit())
        && w.chars().any(|c| c.is_ascii_uppercase());
    PREFIXES
        .iter()
        .any(|p| w.starts_with(p) && w.len() > p.len() + 8)
        || long_random
}

/// Whether a word can be an auth method's name (what `bao login -method=` takes): short,
/// lower case letters, digits, `-` and `_`.
fn is_method_name(w: &str) -> bool {
    !w.is_empty()
        && w.len() <= 32
        && w.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Run a command of this room.
pub async fn run(session: &mut Session, cmd: &Auth) -> Result<Output, EngineError> {
    match cmd {
        Auth::Login(l) => login(session, l).await,
        Auth::Whoami => whoami(session).await,
        Auth::Connect(None) => list_profiles(session),
        Auth::Connect(Some(p)) => connect(session, p).await,
    }
}

/// Who a token is, from `auth/token/lookup-self` (its `id`, the token, removed).
#[derive(Debug, Clone)]
pub struct Identity {
    /// The lookup's `data`, without `id`.
    pub data: Value,
    /// The token's own namespace.
    pub namespace: NsPath,
    /// Where the lookup succeeded: that namespace exists and is not locked.
    pub asked_in: NsPath,
}

/// Ask who the client's token is: from `start` (a token works in its namespace and
/// below), else from the root. Its namespace is `namespace_path` when the server says
/// it, else where the lookup succeeded.
pub async fn lookup_self(client: &Client, start: &NsPath) -> Result<Identity, VaultError> {
    let mut tries = vec![start.clone()];
    if !start.is_root() {
        tries.push(NsPath::root());
    }
    let mut found: Option<Identity> = None;
    let mut first_error = None;
    for ns in tries {
        match client
            .request(Method::Get, &ns.header(), "auth/token/lookup-self", None)
            .await
        {
            Ok(body) => {
                let mut data = body
                    .and_then(|mut b| b.get_mut("data").map(Value::take))
                    .unwrap_or(Value::Null);
                if let Some(o) = data.as_object_mut() {
                    o.remove("id");
                }
                let said = data
                    .get("namespace_path")
                    .and_then(Value::as_str)
                    .and_then(|p| NsPath::parse(p).ok());
                match said {
                    Some(namespace) => {
                        return Ok(Identity {
                            data,
                            namespace,
                            asked_in: ns,
                        })
                    }
                    // No namespace_path: the root, if the token works there too.
                    None if found.is_none() && !ns.is_root() => {
                        found = Some(Identity {
                            data,
                            namespace: ns.clone(),
                            asked_in: ns,
                        })
                    }
                    None => {
                        return Ok(Identity {
                            data,
                            namespace: ns.clone(),
                            asked_in: ns,
                        })
                    }
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (found, first_error) {
        (Some(id), _) => Ok(id),
        (None, Some(e)) => Err(e),
        (None, None) => Err(VaultError::Config(
            "the token could not be looked up".into(),
        )),
    }
}

/// How long the first look at the token may take before the session goes on without it.
pub const ADOPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// At start-up: the token's namespace becomes the session's top, and its home unless the
/// shell was started below it (`-n`, `VAULT_NAMESPACE`). A token that cannot be looked up
/// leaves the session as it is (the first command says why). A start outside the token's
/// namespace cannot be entered: an error, and the session stays where it was. Returns
/// whether the token was looked up in the start namespace itself (so it exists and is not
/// locked, and needs no other check), and notes for the user.
pub async fn adopt_token(
    session: &mut Session,
    start_given: bool,
) -> Result<(bool, Vec<String>), EngineError> {
    let start = session.cwd().clone();
    // A server that does not answer must not hold the session: without an answer in
    // time the session goes on as it is (the server still refuses what is above the token).
    let lookup = lookup_self(session.client(), &start);
    let Ok(Ok(id)) = tokio::time::timeout(ADOPT_TIMEOUT, lookup).await else {
        return Ok((false, Vec::new()));
    };
    let seen_here = id.asked_in == start;
    let top = id.namespace;
    let mut notes = Vec::new();
    let here = if !start_given || start.starts_with(&top) {
        if start_given {
            start
        } else {
            top.clone()
        }
    } else if top.starts_with(&start) {
        // Started above it (the root, or a parent on the way): the token's own is the
        // nearest place it can be.
        notes.push(format!(
            "note: the token belongs to namespace {top} and reaches nothing above it: starting there, not in {start}"
        ));
        top.clone()
    } else {
        return Err(EngineError::Other(format!(
            "the token belongs to namespace {top} and reaches nothing outside it, so {start} cannot be entered: start in {top} or below it (-n {}…), or use a token of {start}",
            top.header()
        )));
    };
    let client = session.client().clone();
    session.reconnect(client, top, here.clone(), here);
    Ok((seen_here, notes))
}

/// The mount a method has when `-path` is not given.
fn default_mount(method: &str) -> &str {
    match method {
        "oidc" => "oidc",
        "aws" => "aws",
        other => other,
    }
}

/// Take a string argument out of the `k=v` map.
fn take_str(kv: &mut Map<String, Value>, key: &str) -> Option<String> {
    match kv.remove(key)? {
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// Ask for a secret on the terminal without echo (or in the front end's hidden-input
/// dialog), or say how to give it instead.
async fn ask(session: &Session, label: &str, key: &str) -> Result<String, EngineError> {
    let cancelled = || EngineError::Other(format!("login: cancelled (no {key} typed)"));
    if let Some(asker) = session.secret_asker() {
        let (reply, answer) = tokio::sync::oneshot::channel();
        asker(SecretAsk {
            label: label.to_string(),
            reply,
        });
        return answer
            .await
            .ok()
            .filter(|a| !a.is_empty())
            .ok_or_else(cancelled);
    }
    if !session.options().prompt {
        return Err(EngineError::Other(format!(
            "login: no {key} given, and there is no terminal to ask it on (a script, -c without a terminal, or the full-screen shell): give {key}=@FILE"
        )));
    }
    let read = || rpassword::prompt_password(label);
    // The prompt blocks this thread: let the runtime move its other work elsewhere.
    let answer = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
    .map_err(|e| EngineError::Other(format!("login: cannot read the {key}: {e}")))?;
    if answer.is_empty() {
        return Err(cancelled());
    }
    Ok(answer)
}

/// The token of a login answer (`auth.client_token`).
fn client_token(body: Option<Value>) -> Result<(Token, Value), EngineError> {
    let mut auth = body
        .and_then(|mut b| b.get_mut("auth").map(Value::take))
        .filter(Value::is_object)
        .ok_or_else(|| EngineError::Other("login: the server's answer has no token".into()))?;
    let token = auth
        .as_object_mut()
        .and_then(|o| o.remove("client_token"))
        .and_then(|t| t.as_str().map(Token::new))
        .filter(|t| !t.expose().is_empty())
        .ok_or_else(|| EngineError::Other("login: the server's answer has no token".into()))?;
    Ok((token, auth))
}

async fn login(session: &mut Session, l: &Login) -> Result<Output, EngineError> {
    // A token typed on a command line stays in the terminal's scrollback.
    if l.args.iter().any(|a| {
        a.split_once('=')
            .is_some_and(|(k, v)| k == "token" && !v.starts_with('@') && v != "-")
    }) {
        return Err(EngineError::Other(
            "login: a token never goes on a command line: run `login token` and type it when asked, or give token=@FILE".into(),
        ));
    }
    if session.options().fullscreen && l.args.iter().any(|a| a == "-" || a.ends_with("=-")) {
        return Err(EngineError::Other(
            "login: in the full-screen shell the keyboard is standard input: `-` cannot read a value; use k=@FILE".into(),
        ));
    }
    let mut kv = session.kv(&l.args)?;
    // A secret read from a file (`password=@FILE`) loses the newline `echo` put there.
    for key in ["password", "secret_id", "token"] {
        if let Some(Value::String(v)) = kv.get_mut(key) {
            let trimmed = v.trim_end_matches(['\n', '\r']).len();
            v.truncate(trimmed);
        }
    }
    let method = l.method.as_str();
    let mount = l
        .mount
        .clone()
        .unwrap_or_else(|| default_mount(method).to_string());
    let cwd = session.cwd().clone();
    // A login request carries no token: the old one has nothing to do with it.
    let anon = session.client().with_token(None);
    let post = |path: String, body: Map<String, Value>| {
        let anon = anon.clone();
        let ns = cwd.header();
        async move {
            anon.request(Method::Post, &ns, &path, Some(&Value::Object(body)))
                .await
        }
    };
    let token = match method {
        "token" => {
            let t = match take_str(&mut kv, "token") {
                Some(t) => t,
                None => ask(session, "Token (will be hidden): ", "token").await?,
            };
            Token::new(t)
        }
        "userpass" | "ldap" | "okta" | "radius" => {
            let user = take_str(&mut kv, "username").ok_or_else(|| {
                EngineError::Other(format!(
                    "login {method}: give username=NAME (the password is asked when not given)"
                ))
            })?;
            // The name is one segment of the login path: it may not reach elsewhere.
            if user.is_empty() || user.contains('/') || user.chars().any(char::is_control) {
                return Err(EngineError::Other(format!(
                    "login {method}: a username cannot be empty or contain / or control characters"
                )));
            }
            if !kv.contains_key("password") {
                let p = ask(session, "Password (will be hidden): ", "password").await?;
                kv.insert("password".into(), Value::String(p));
            }
            let body = post(format!("auth/{mount}/login/{user}"), kv).await?;
            client_token(body)?.0
        }
        "approle" => {
            if !kv.contains_key("role_id") {
                return Err(EngineError::Other(
                    "login approle: give role_id=ID (and secret_id=@FILE, or it is asked)".into(),
                ));
            }
            // A role may not need a secret id (bind_secret_id=false): ask only when one
            // can be typed; the server says when it is missing.
            if !kv.contains_key("secret_id") && session.can_ask_secret() {
                let s = ask(session, "Secret ID (will be hidden): ", "secret_id").await?;
                kv.insert("secret_id".into(), Value::String(s));
            }
            let body = post(format!("auth/{mount}/login"), kv).await?;
            client_token(body)?.0
        }
        _ => {
            let body = post(format!("auth/{mount}/login"), kv).await?;
            client_token(body)?.0
        }
    };
    let client = session.client().with_token(Some(token.clone()));
    let id = lookup_self(&client, &cwd).await.map_err(|e| {
        EngineError::Other(if method == "token" {
            format!("login: the token was not accepted: {e}")
        } else {
            format!("login: the server gave a token, but looking it up failed: {e}")
        })
    })?;
    let top = id.namespace.clone();
    let here = if cwd.starts_with(&top) {
        cwd
    } else {
        top.clone()
    };
    let stored = if l.store {
        Some(store_token(&token)?)
    } else {
        None
    };
    session.reconnect(client, top.clone(), top.clone(), here);
    let _ = nav::look(session).await;

    let d = &id.data;
    let name = d.get("display_name").and_then(Value::as_str).unwrap_or("?");
    let mut text = format!(
        "Logged in as {name} in namespace {top} (policies: {}; TTL {}; accessor {}).",
        list(d.get("policies")),
        ttl_text(d),
        d.get("accessor").map(cell).unwrap_or_default()
    );
    let mut notes = Vec::new();
    match &stored {
        Some(path) => {
            text.push_str(&format!(
                "\nThe token is saved in {} (0600).",
                path.display()
            ));
            if ["VAULT_TOKEN", "BAO_TOKEN"]
                .iter()
                .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
            {
                notes.push(
                    "note: VAULT_TOKEN/BAO_TOKEN is set: the vault and bao CLIs (and vnsh) use it before the token file".into(),
                );
            }
        }
        None => text.push_str("\nThe token is used by this session only (-store saves it)."),
    }
    let mut doc = identity_json(d);
    if let Some(o) = doc.as_object_mut() {
        o.insert(
            "token_file".into(),
            stored
                .as_ref()
                .map_or(Value::Null, |p| json!(p.display().to_string())),
        );
    }
    Ok(Output {
        json: Some(doc),
        view: View::Text(text),
        notes,
    })
}

/// Write the token file as the CLIs do, but atomically and readable by the user only.
fn store_token(token: &Token) -> Result<std::path::PathBuf, EngineError> {
    let path = vault::token_file_path().ok_or_else(|| {
        EngineError::Other("login: HOME is not set, so there is no token file to write".into())
    })?;
    write_private(&path, token.expose()).map_err(|e| {
        EngineError::Other(format!(
            "login: the token could not be saved in {}: {e} (the session uses it all the same)",
            path.display()
        ))
    })?;
    Ok(path)
}

/// Replace `path` with `text`: a 0600 temporary file beside it, synced, renamed over it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.vnsh-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn list(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        _ => "none".to_string(),
    }
}

/// `768h0m0s`-style TTL, or "never expires" for a token without one.
fn ttl_text(d: &Value) -> String {
    match d.get("ttl").and_then(Value::as_u64) {
        Some(0) | None => "never expires".to_string(),
        Some(secs) => {
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            format!("{h}h{m}m{s}s")
        }
    }
}

/// The lookup's fields worth showing, never the token (`id` was removed already).
fn identity_json(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("id");
    }
    d
}

async fn whoami(session: &mut Session) -> Result<Output, EngineError> {
    let id = lookup_self(session.client(), session.cwd()).await?;
    let d = &id.data;
    let get = |k: &str| d.get(k).map(cell).unwrap_or_default();
    let mut rows = vec![
        vec!["display_name".to_string(), get("display_name")],
        vec!["namespace".to_string(), id.namespace.display()],
        vec!["policies".to_string(), list(d.get("policies"))],
    ];
    if d.get("identity_policies")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        rows.push(vec![
            "identity_policies".into(),
            list(d.get("identity_policies")),
        ]);
    }
    let mut ttl = ttl_text(d);
    if let Some(exp) = d.get("expire_time").and_then(Value::as_str) {
        ttl.push_str(&format!(" (expires {exp})"));
    }
    rows.push(vec!["ttl".into(), ttl]);
    for k in [
        "accessor",
        "type",
        "renewable",
        "orphan",
        "entity_id",
        "path",
        "num_uses",
    ] {
        if d.get(k).is_some_and(|v| !v.is_null()) {
            rows.push(vec![k.to_string(), get(k)]);
        }
    }
    if let Some(meta) = d.get("meta").and_then(Value::as_object) {
        for (k, v) in meta {
            rows.push(vec![format!("meta.{k}"), cell(v)]);
        }
    }
    rows.push(vec!["server".into(), session.client().addr().to_string()]);
    if !session.top().is_root() {
        rows.push(vec![
            "top".into(),
            format!("{} (nothing above it is reachable)", session.top()),
        ]);
    }
    let mut notes = Vec::new();
    if session.client().skips_verify() {
        rows.push(vec!["tls".into(), "NOT VERIFIED (skip_verify)".into()]);
        notes.push(vault::SKIP_VERIFY_WARNING.to_string());
    }
    Ok(Output {
        json: Some(identity_json(d)),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes,
    })
}

fn list_profiles(session: &Session) -> Result<Output, EngineError> {
    let profiles = session.profiles();
    let list = profiles.list().map_err(EngineError::Other)?;
    let mut rows = Vec::new();
    let mut doc = Map::new();
    for p in list {
        rows.push(vec![
            p.name.clone(),
            p.addr,
            p.namespace,
            p.tls,
            p.token_from,
        ]);
        doc.insert(p.name, p.json);
    }
    let mut notes = Vec::new();
    if rows.is_empty() {
        notes.push(format!(
            "note: no profiles in {}; `man vnsh` and docs/connect.md show how to write one",
            profiles.location()
        ));
    }
    Ok(Output {
        json: Some(Value::Object(doc)),
        view: View::Table {
            header: vec![
                "PROFILE".into(),
                "ADDR".into(),
                "NAMESPACE".into(),
                "TLS".into(),
                "TOKEN FROM".into(),
            ],
            rows,
        },
        notes,
    })
}

async fn connect(session: &mut Session, name: &str) -> Result<Output, EngineError> {
    if session.options().fullscreen {
        return Err(EngineError::Other(format!(
            "connect: the full-screen shell stays on one server; quit and run `vnsh --profile {name}` (or use `vnsh --line`)"
        )));
    }
    let config = session
        .profiles()
        .connection(name)
        .map_err(EngineError::Other)?;
    let client = Client::new(&config)?;
    let start = NsPath::parse(&config.namespace)?;
    let id = lookup_self(&client, &start).await.map_err(|e| {
        EngineError::Other(format!(
            "connect {name}: {} did not accept the token: {e}",
            config.addr
        ))
    })?;
    let top = id.namespace;
    let here = if start.starts_with(&top) {
        start
    } else {
        top.clone()
    };
    session.reconnect(client, top, here.clone(), here.clone());
    let _ = nav::look(session).await;
    let who = id
        .data
        .get("display_name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let mut notes = Vec::new();
    if config.tls.skips_verify() {
        notes.push(vault::SKIP_VERIFY_WARNING.to_string());
    }
    Ok(Output {
        json: Some(json!({ "profile": name, "addr": config.addr, "namespace": here.header() })),
        view: View::Text(format!(
            "Connected to {} (profile {name}) as {who}, in namespace {here}.",
            config.addr
        )),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Auth, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_login_forms() {
        assert_eq!(
            p("login userpass username=a -path=people -store"),
            Ok(Auth::Login(Login {
                method: "userpass".into(),
                mount: Some("people".into()),
                args: vec!["username=a".into()],
                store: true,
            }))
        );
        assert_eq!(
            p("login -method=approle role_id=r --path /ar/"),
            Ok(Auth::Login(Login {
                method: "approle".into(),
                mount: Some("ar".into()),
                args: vec!["role_id=r".into()],
                store: false,
            }))
        );
        assert_eq!(
            p("login"),
            Ok(Auth::Login(Login {
                method: "token".into(),
                mount: None,
                args: vec![],
                store: false,
            }))
        );
        assert!(p("login userpass alice").is_err());
        // A token typed where the method goes is refused, and never repeated.
        for line in [
            "login s.AbCdEf0123456789xyz",
            "login hvs.CAESIJ0123456789abcdefABCDEF",
            "login token s.AbCdEf0123456789xyz",
            "login -method=s.AbCdEf0123456789xyz",
        ] {
            let e = p(line).unwrap_err();
            assert!(e.message.contains("token"), "{line}: {e}");
            assert!(!e.to_string().contains("AbCdEf"), "{line}: {e}");
            assert!(!e.to_string().contains("CAESIJ"), "{line}: {e}");
        }
        assert!(p("login userpass -path").is_err());
        assert!(p("login userpass -frob").is_err());
        assert_eq!(p("whoami"), Ok(Auth::Whoami));
        assert!(p("whoami x").is_err());
        assert_eq!(p("connect"), Ok(Auth::Connect(None)));
        assert_eq!(p("connect prod"), Ok(Auth::Connect(Some("prod".into()))));
        assert!(parse("frob", &[]).is_none());
    }

    #[test]
    fn a_login_answer_gives_its_token_and_keeps_it_out_of_the_rest() {
        let body =
            json!({"auth": {"client_token": "s.secret", "accessor": "acc", "policies": ["a"]}});
        let (token, auth) = client_token(Some(body)).unwrap();
        assert_eq!(token.expose(), "s.secret");
        assert!(!auth.to_string().contains("s.secret"));
        assert!(client_token(Some(json!({"data": {}}))).is_err());
        assert!(client_token(None).is_err());
    }

    #[test]
    fn history_never_holds_a_login_secret() {
        use crate::engine::words::redact_line;
        for (line, secret) in [
            ("login userpass username=a password=hunter2", "hunter2"),
            ("login approle role_id=r secret_id=s3cr3t -store", "s3cr3t"),
            ("login jwt role=r jwt=eyJhbGci", "eyJhbGci"),
            ("login token token=@/tmp/t; whoami", "/tmp/t"),
            ("login -method=ldap username=a 'password=p w'", "p w"),
        ] {
            let shown = redact_line(line);
            assert!(!shown.contains(secret), "{line:?} → {shown:?}");
            assert!(shown.starts_with("login"), "{shown}");
        }
    }

    #[test]
    fn ttl_reads_as_time() {
        assert_eq!(ttl_text(&json!({"ttl": 0})), "never expires");
        assert_eq!(ttl_text(&json!({"ttl": 3723})), "1h2m3s");
    }

    #[test]
    fn the_token_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(".vault-token");
        std::fs::write(&f, "old").unwrap();
        write_private(&f, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "new");
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
