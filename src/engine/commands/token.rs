//! Tokens as `bao token` manages them: `token lookup`, `create`, `revoke`, in the current
//! namespace. A token never goes on a command line (it would stay in the terminal's
//! scrollback): one to look up or revoke is typed unseen when asked (`-ask`), or read
//! from a file (`@FILE`); an accessor is not a secret and may be typed. A created token
//! is printed once, and only where asked for it (`-field=token`, or JSON); never in a
//! table, the history or the action log. A lookup's `id` (the token itself) is left out.

use serde_json::{json, Map, Value};

use crate::engine::commands::api;
use crate::engine::commands::flags::{field_output, secret_field, Flags, OutputFlags};
use crate::engine::commands::secrets::done;
use crate::engine::error::EngineError;
use crate::engine::output::{cell, warnings, Output, View};
use crate::engine::session::{SecretAsk, Session};
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::vault::Method;

/// Which token a lookup or a revoke is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// The session's own token.
    Own,
    /// The token with this accessor.
    Accessor(String),
    /// A token typed unseen when asked.
    Ask,
    /// A token read from this file.
    File(String),
}

/// What `token create` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Create {
    /// `-policy=P`, any number of times (or a comma list).
    pub policies: Vec<String>,
    /// `-ttl=`.
    pub ttl: Option<String>,
    /// `-explicit-max-ttl=`.
    pub explicit_max_ttl: Option<String>,
    /// `-period=`.
    pub period: Option<String>,
    /// `-orphan`: no parent (`auth/token/create-orphan`).
    pub orphan: bool,
    /// `-display-name=`.
    pub display_name: Option<String>,
    /// `-no-default-policy`.
    pub no_default_policy: bool,
    /// `-renewable[=bool]`.
    pub renewable: Option<bool>,
    /// `-metadata=k=v`, any number of times.
    pub metadata: Vec<(String, String)>,
    /// `-use-limit=N`.
    pub num_uses: Option<u64>,
    /// `-role=R` (`auth/token/create/R`).
    pub role: Option<String>,
    /// `-type=service|batch`.
    pub kind: Option<String>,
    /// `-entity-alias=`.
    pub entity_alias: Option<String>,
    /// `-field` and `-format`.
    pub out: OutputFlags,
}

/// What `token revoke` takes down, as bao's `-mode` chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// A token and every token it created (no `-mode`).
    Tree(Which),
    /// Only the token; the tokens it created stay, as orphans (`-mode=orphan`). The token
    /// is given by value (`-ask` or `@FILE`), as bao refuses `-self` and `-accessor` here.
    Orphan(Which),
    /// Every token and lease created under an auth path prefix, e.g. `auth/userpass/`
    /// (`-mode=path PREFIX`: `sys/leases/revoke-prefix/PREFIX`).
    Prefix(String),
}

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Look a token up.
    Lookup {
        /// Which one.
        which: Which,
        /// `-field` and `-format`.
        out: OutputFlags,
    },
    /// Create a token here.
    Create(Box<Create>),
    /// Revoke a token (and every token it created, or not), or every token under a path.
    Revoke(Revoke),
    /// Extend a token's TTL.
    Renew {
        /// Which one.
        which: Which,
        /// `-increment`: the TTL asked for (the server's default when not given).
        increment: Option<String>,
        /// `-field` and `-format`.
        out: OutputFlags,
    },
}

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "lookup",
        "token lookup [-accessor ACCESSOR | -ask | @FILE] [-field=F] [-format=json]",
        "a token's policies, TTL, namespace…: this session's, one by accessor, or one typed unseen (-ask) or read from a file",
    )
    .flags(&["-accessor", "-ask", "-field=", "-format="])
    .args(&[Arg::Accessor]),
    CommandInfo::new(
        "create",
        "token create [-policy=P…] [-ttl=T] [-explicit-max-ttl=T] [-period=T] [-orphan] [-display-name=N] [-no-default-policy] [-metadata=k=v…] [-use-limit=N] [-role=R] [-type=T] [-field=token] [-format=json]",
        "create a token here; it is shown once, only with -field=token or JSON",
    )
    .flags(&[
        "-policy=",
        "-ttl=",
        "-explicit-max-ttl=",
        "-period=",
        "-orphan",
        "-display-name=",
        "-no-default-policy",
        "-renewable",
        "-metadata=",
        "-use-limit=",
        "-role=",
        "-type=",
        "-entity-alias=",
        "-id=",
        "-field=",
        "-format=",
    ]),
    CommandInfo::new(
        "renew",
        "token renew [-increment=T] [-accessor ACCESSOR | -ask | @FILE] [-field=F] [-format=json]",
        "extend a token's TTL: this session's (before it runs out), one by accessor, or one typed unseen (-ask) or read from a file",
    )
    .flags(&["-increment=", "-accessor", "-ask", "-field=", "-format="])
    .args(&[Arg::Accessor]),
    CommandInfo::new(
        "revoke",
        "token revoke -self | -accessor ACCESSOR | -ask | @FILE | -mode=orphan (-ask | @FILE) | -mode=path PREFIX",
        "revoke a token and every token it created; -mode=orphan: only the token, its children stay as orphans; -mode=path: every token made under an auth path such as auth/userpass/ (asks first)",
    )
    .flags(&["-self", "-accessor", "-ask", "-mode="])
    .args(&[Arg::Accessor]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "token",
    "token lookup [-accessor A | -ask | @FILE] | create [flags] | renew [-increment=T] [-accessor A | -ask | @FILE] | revoke -self|-accessor A|-ask|@FILE [-mode=orphan|path]",
    "tokens here: lookup, create, renew, revoke (as `bao token`; a token is never typed on the line)",
)
.subcommands(SUBCOMMANDS)];

const NO_TOKEN_ON_THE_LINE: &str = "a token never goes on a command line (it stays in the terminal's scrollback): use -ask to type it unseen, @FILE to read it from a file, or -accessor ACCESSOR";

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Token> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_token(rest))
}

fn which(info: &CommandInfo, f: &Flags, own: bool) -> Result<Which, UsageError> {
    let bad = |m: &str| UsageError::new(info.usage, m);
    let by_accessor = f.switch("accessor").unwrap_or(false);
    let ask = f.switch("ask").unwrap_or(false);
    let own_flag = f.switch("self").unwrap_or(false);
    let chosen = [by_accessor, ask, own_flag].iter().filter(|b| **b).count();
    if chosen > 1 {
        return Err(bad("give one of -self, -accessor, -ask"));
    }
    match (f.positional.as_slice(), by_accessor, ask || own_flag) {
        ([], true, _) => Err(bad("`-accessor` needs the ACCESSOR")),
        ([a], true, _) => Ok(Which::Accessor(a.clone())),
        ([], false, true) if ask => Ok(Which::Ask),
        ([], false, true) => Ok(Which::Own),
        ([], false, false) if own => Ok(Which::Own),
        ([], false, false) => Err(bad(
            "say which token: -self, -accessor ACCESSOR, -ask or @FILE",
        )),
        ([file], false, false) if file.len() > 1 && file.starts_with('@') => {
            Ok(Which::File(file[1..].to_string()))
        }
        ([_], false, _) => Err(bad(NO_TOKEN_ON_THE_LINE)),
        _ => Err(bad("one token at a time")),
    }
}

/// `token revoke`'s `-mode`, with bao's rules: `-self` takes no mode, `-accessor` neither
/// `orphan` nor `path`; `path` takes the prefix instead of a token.
fn revoke_mode(info: &CommandInfo, f: &Flags) -> Result<Revoke, UsageError> {
    let bad = |m: &str| UsageError::new(info.usage, m);
    match f.last("mode").unwrap_or("") {
        "" => which(info, f, false).map(Revoke::Tree),
        "orphan" => match which(info, f, false)? {
            w @ (Which::Ask | Which::File(_)) => Ok(Revoke::Orphan(w)),
            Which::Own => Err(bad("-mode=orphan cannot revoke this session's own token (as bao: -self takes no -mode): give the token with -ask or @FILE")),
            Which::Accessor(_) => Err(bad("-mode=orphan takes the token itself, not an accessor (as bao): give it with -ask or @FILE")),
        },
        "path" => {
            if ["self", "accessor", "ask"].iter().any(|n| f.has(n)) {
                return Err(bad(
                    "-mode=path takes an auth path prefix (auth/userpass/), not a token: leave out -self, -accessor and -ask",
                ));
            }
            let needs = || bad("-mode=path needs the auth path prefix, e.g. auth/userpass/");
            match f.positional.as_slice() {
                [prefix] if prefix.starts_with('@') => Err(bad(
                    "-mode=path takes an auth path prefix (auth/userpass/), not a token",
                )),
                [prefix] => match prefix.trim_matches('/') {
                    "" => Err(needs()),
                    p => Ok(Revoke::Prefix(p.to_string())),
                },
                [] => Err(needs()),
                _ => Err(bad("-mode=path takes one auth path prefix, e.g. auth/userpass/")),
            }
        }
        other => Err(bad(&format!(
            "-mode is orphan or path (or left out: the token and every token it created), not {other:?}"
        ))),
    }
}

fn parse_token(rest: &[String]) -> Result<Token, UsageError> {
    let Some((word, rest)) = rest.split_first() else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            "`token` needs a subcommand",
        ));
    };
    let Some(info) = SUBCOMMANDS.iter().find(|c| c.is_called(word)) else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            format!("unknown subcommand `token {word}`"),
        ));
    };
    let f = Flags::parse(info, rest)?;
    let bad = |m: &str| UsageError::new(info.usage, m);
    match info.name {
        "lookup" => Ok(Token::Lookup {
            which: which(info, &f, true)?,
            out: f.output(info)?,
        }),
        "revoke" => revoke_mode(info, &f).map(Token::Revoke),
        "renew" => Ok(Token::Renew {
            which: which(info, &f, true)?,
            increment: f
                .last("increment")
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            out: f.output(info)?,
        }),
        _ => {
            if f.has("id") {
                return Err(bad(
                    "-id would put a token on the command line: let the server choose it",
                ));
            }
            if !f.positional.is_empty() {
                return Err(bad("`token create` takes only flags"));
            }
            let text = |n: &str| f.last(n).filter(|v| !v.is_empty()).map(str::to_string);
            Ok(Token::Create(Box::new(Create {
                policies: f
                    .all("policy")
                    .into_iter()
                    .flat_map(|p| p.split(','))
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
                ttl: text("ttl"),
                explicit_max_ttl: text("explicit-max-ttl"),
                period: text("period"),
                orphan: f.switch("orphan").unwrap_or(false),
                display_name: text("display-name"),
                no_default_policy: f.switch("no-default-policy").unwrap_or(false),
                renewable: f.switch("renewable"),
                metadata: f.pairs(info, "metadata")?,
                num_uses: f.number(info, "use-limit")?,
                role: text("role"),
                kind: text("type"),
                entity_alias: text("entity-alias"),
                out: f.output(info)?,
            })))
        }
    }
}

impl Token {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        !matches!(self, Token::Lookup { .. })
    }

    /// Whether it destroys something, and so asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Token::Revoke(_))
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        let Token::Revoke(revoke) = self else {
            return None;
        };
        let here = session.cwd();
        let which = match revoke {
            Revoke::Tree(w) => w,
            Revoke::Orphan(w) => {
                let what = match w {
                    Which::File(f) => format!("the token in {f}"),
                    _ => "the token you are about to type".to_string(),
                };
                return Some(format!(
                    "Revoke {what} (namespace {here})? The tokens it created stay, as orphans."
                ));
            }
            Revoke::Prefix(prefix) => {
                return Some(format!(
                    "Revoke every token and lease created under {prefix}/ in namespace {here}, and every token they created? Everyone logged in through it is logged out."
                ))
            }
        };
        Some(match which {
            Which::Own => "Revoke this session's own token, and every token it created? Every command after it is refused until you `login` again.".to_string(),
            Which::Accessor(a) => format!(
                "Revoke the token with accessor {a} (namespace {here}), and every token it created?"
            ),
            Which::Ask => format!(
                "Revoke the token you are about to type (namespace {here}), and every token it created?"
            ),
            Which::File(f) => format!(
                "Revoke the token in {f} (namespace {here}), and every token it created?"
            ),
        })
    }
}

/// Ask for a token unseen: on the terminal, or in the front end's hidden-input dialog.
async fn ask(session: &Session, cmd: &str) -> Result<String, EngineError> {
    let cancelled = || EngineError::Other(format!("{cmd}: cancelled (no token typed)"));
    let label = "Token (will be hidden): ";
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
            "{cmd}: there is no terminal to ask for the token on (a script, or -c without a terminal): give @FILE"
        )));
    }
    let read = || rpassword::prompt_password(label);
    // The prompt blocks this thread: let the runtime move its other work elsewhere.
    let answer = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
    .map_err(|e| EngineError::Other(format!("{cmd}: cannot read the token: {e}")))?;
    if answer.trim().is_empty() {
        return Err(cancelled());
    }
    Ok(answer.trim().to_string())
}

/// The token a lookup or revoke names, when it names one by value.
async fn token_value(
    session: &Session,
    which: &Which,
    cmd: &str,
) -> Result<Option<String>, EngineError> {
    match which {
        Which::Ask => ask(session, cmd).await.map(Some),
        Which::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| EngineError::Other(format!("{cmd}: cannot read {path}: {e}")))?;
            let t = text.trim();
            if t.is_empty() {
                return Err(EngineError::Other(format!("{cmd}: {path} is empty")));
            }
            Ok(Some(t.to_string()))
        }
        _ => Ok(None),
    }
}

/// KEY/VALUE rows of an object, sorted.
fn rows(v: Option<&Value>, skip: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = v
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .map(|(k, v)| vec![k.clone(), cell(v)])
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn kv_table(rows: Vec<Vec<String>>) -> View {
    View::Table {
        header: vec!["KEY".into(), "VALUE".into()],
        rows,
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Token) -> Result<Output, EngineError> {
    match cmd {
        Token::Lookup { which, out } => lookup(session, which, out).await,
        Token::Create(c) => create(session, c).await,
        Token::Revoke(Revoke::Prefix(prefix)) => revoke_prefix(session, prefix).await,
        Token::Revoke(Revoke::Tree(which)) => revoke(session, which, false).await,
        Token::Revoke(Revoke::Orphan(which)) => revoke(session, which, true).await,
        Token::Renew {
            which,
            increment,
            out,
        } => renew(session, which, increment.as_deref(), out).await,
    }
}

async fn lookup(
    session: &Session,
    which: &Which,
    out: &OutputFlags,
) -> Result<Output, EngineError> {
    let here = session.cwd().header();
    let client = session.client();
    let value = token_value(session, which, "token lookup").await?;
    let body = match (which, value) {
        (Which::Accessor(a), _) => {
            let b = json!({ "accessor": a });
            client
                .request(Method::Post, &here, "auth/token/lookup-accessor", Some(&b))
                .await?
        }
        (_, Some(t)) => {
            let b = json!({ "token": t });
            client
                .request(Method::Post, &here, "auth/token/lookup", Some(&b))
                .await?
        }
        (_, None) => {
            client
                .request(Method::Get, &here, "auth/token/lookup-self", None)
                .await?
        }
    };
    let mut body = body.unwrap_or(Value::Null);
    // The token itself is never printed, not even the one just typed.
    if let Some(d) = body.get_mut("data").and_then(Value::as_object_mut) {
        d.remove("id");
    }
    let secret = api::secret_output(&body).json.unwrap_or(Value::Null);
    if let Some(field) = &out.field {
        if field == "id" {
            return Err(EngineError::Other(
                "token lookup: the token itself (id) is never printed".into(),
            ));
        }
        return field_output(field, secret_field(&secret, field)).map_err(EngineError::Other);
    }
    let view = kv_table(rows(secret.get("data"), &[]));
    Ok(out.apply(Output {
        json: Some(secret),
        view,
        notes: warnings(&body),
    }))
}

async fn create(session: &mut Session, c: &Create) -> Result<Output, EngineError> {
    let mut body = Map::new();
    let mut text = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            body.insert(k.into(), json!(v));
        }
    };
    text("ttl", &c.ttl);
    text("explicit_max_ttl", &c.explicit_max_ttl);
    text("period", &c.period);
    text("display_name", &c.display_name);
    text("type", &c.kind);
    text("entity_alias", &c.entity_alias);
    if !c.policies.is_empty() {
        body.insert("policies".into(), json!(c.policies));
    }
    if !c.metadata.is_empty() {
        let m: Map<String, Value> = c
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        body.insert("meta".into(), Value::Object(m));
    }
    if c.no_default_policy {
        body.insert("no_default_policy".into(), json!(true));
    }
    if let Some(r) = c.renewable {
        body.insert("renewable".into(), json!(r));
    }
    if let Some(n) = c.num_uses {
        body.insert("num_uses".into(), json!(n));
    }
    let path = match (&c.role, c.orphan) {
        (Some(role), _) => format!("auth/token/create/{role}"),
        (None, true) => "auth/token/create-orphan".to_string(),
        (None, false) => "auth/token/create".to_string(),
    };
    let here = session.cwd().header();
    let resp = session
        .client()
        .request(Method::Post, &here, &path, Some(&Value::Object(body)))
        .await?
        .unwrap_or(Value::Null);
    session.cache().invalidate_paths();
    auth_output(
        &resp,
        &c.out,
        "(not shown: -field=token or --format json prints it, once)",
    )
}

/// What a command answered with an auth block prints (`create`, `renew`), as bao: its
/// Secret, a `-field` of it, or its rows for people (the token's row says `token_row`).
fn auth_output(resp: &Value, out: &OutputFlags, token_row: &str) -> Result<Output, EngineError> {
    let secret = api::secret_output(resp).json.unwrap_or(Value::Null);
    let auth = secret.get("auth").cloned().unwrap_or(Value::Null);
    if let Some(field) = &out.field {
        // bao's RawField of a Secret with an auth block.
        let value = match field.as_str() {
            "token" => auth.get("client_token").cloned(),
            "token_accessor" => auth.get("accessor").cloned(),
            "token_duration" => auth.get("lease_duration").cloned(),
            "token_renewable" => auth.get("renewable").cloned(),
            "token_policies" => auth.get("token_policies").cloned(),
            "identity_policies" => auth.get("identity_policies").cloned(),
            "policies" => auth.get("policies").cloned(),
            other => secret_field(&secret, other),
        };
        return field_output(field, value).map_err(EngineError::Other);
    }
    let get = |k: &str| auth.get(k).map(cell).unwrap_or_default();
    let mut table = vec![
        vec!["token".to_string(), token_row.to_string()],
        vec!["token_accessor".into(), get("accessor")],
        vec!["token_duration".into(), get("lease_duration")],
        vec!["token_renewable".into(), get("renewable")],
        vec!["token_policies".into(), get("token_policies")],
        vec!["identity_policies".into(), get("identity_policies")],
        vec!["policies".into(), get("policies")],
    ];
    if let Some(m) = auth.get("metadata").and_then(Value::as_object) {
        table.extend(
            m.iter()
                .map(|(k, v)| vec![format!("token_meta_{k}"), cell(v)]),
        );
    }
    Ok(out.apply(Output {
        json: Some(secret),
        view: kv_table(table),
        notes: warnings(resp),
    }))
}

/// `token renew`: `renew-self`, `renew-accessor` or `renew` with the token typed unseen
/// or read from a file. The token renewed is the caller's already: never printed, not
/// even in JSON (where bao prints it) or by `-field=token`.
async fn renew(
    session: &mut Session,
    which: &Which,
    increment: Option<&str>,
    out: &OutputFlags,
) -> Result<Output, EngineError> {
    if out.field.as_deref() == Some("token") {
        return Err(EngineError::Other(
            "token renew: the token itself is never printed (it is the one you have)".into(),
        ));
    }
    let here = session.cwd().header();
    let value = token_value(session, which, "token renew").await?;
    let mut body = Map::new();
    if let Some(i) = increment {
        body.insert("increment".into(), json!(i));
    }
    let path = match (which, value) {
        (Which::Accessor(a), _) => {
            body.insert("accessor".into(), json!(a));
            "auth/token/renew-accessor"
        }
        (_, Some(t)) => {
            body.insert("token".into(), json!(t));
            "auth/token/renew"
        }
        (_, None) => "auth/token/renew-self",
    };
    let mut resp = session
        .client()
        .request(Method::Post, &here, path, Some(&Value::Object(body)))
        .await?
        .unwrap_or(Value::Null);
    if let Some(t) = resp.pointer_mut("/auth/client_token") {
        *t = json!("");
    }
    auth_output(
        &resp,
        out,
        "(not shown: the token renewed is the one you gave)",
    )
}

/// `-mode=path`: every token and lease under an auth path prefix, as bao's
/// `RevokePrefix` (`PUT sys/leases/revoke-prefix/PREFIX`; sudo).
async fn revoke_prefix(session: &mut Session, prefix: &str) -> Result<Output, EngineError> {
    let here = session.cwd().header();
    let path = format!("sys/leases/revoke-prefix/{prefix}");
    let resp = session
        .client()
        .clone()
        .request(Method::Put, &here, &path, None)
        .await?;
    session.cache().invalidate_paths();
    Ok(done(
        resp.as_ref(),
        format!(
            "Success! Revoked every token and lease created under {prefix}/ in {} (if there were any).",
            session.cwd()
        ),
    ))
}

async fn revoke(session: &mut Session, which: &Which, orphan: bool) -> Result<Output, EngineError> {
    let here = session.cwd().header();
    let value = token_value(session, which, "token revoke").await?;
    let client = session.client().clone();
    let (resp, what) = match (which, value) {
        (Which::Accessor(a), _) => {
            let b = json!({ "accessor": a });
            (
                client
                    .request(Method::Post, &here, "auth/token/revoke-accessor", Some(&b))
                    .await?,
                format!("the token with accessor {a}"),
            )
        }
        (_, Some(t)) => {
            let b = json!({ "token": t });
            let path = if orphan {
                "auth/token/revoke-orphan"
            } else {
                "auth/token/revoke"
            };
            (
                client.request(Method::Post, &here, path, Some(&b)).await?,
                "the token".to_string(),
            )
        }
        (_, None) => (
            client
                .request(Method::Post, &here, "auth/token/revoke-self", None)
                .await?,
            "this session's own token".to_string(),
        ),
    };
    session.cache().invalidate_paths();
    let children = if orphan {
        "; the tokens it created stay, as orphans"
    } else {
        " and every token it created"
    };
    let mut out = done(
        resp.as_ref(),
        format!("Success! Revoked {what} (if it existed){children}."),
    );
    if *which == Which::Own {
        out.notes.push(
            "note: this session's token is revoked: the server refuses every command now; `login` for a new one".into(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Token, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn a_token_on_the_line_is_refused() {
        for line in [
            "token lookup s.AbCdEf",
            "token revoke s.AbCdEf",
            "token lookup -ask s.x",
            "token create -id=s.mine",
        ] {
            assert!(p(line).is_err(), "{line}");
        }
        let e = p("token lookup s.AbCdEf").unwrap_err();
        assert!(!e.to_string().contains("s.AbCdEf"), "{e}");
        assert_eq!(
            p("token lookup"),
            Ok(Token::Lookup {
                which: Which::Own,
                out: OutputFlags::default()
            })
        );
        assert_eq!(
            p("token lookup -accessor abc -format=json"),
            Ok(Token::Lookup {
                which: Which::Accessor("abc".into()),
                out: OutputFlags {
                    field: None,
                    json: true
                }
            })
        );
        let tree = |w| Ok(Token::Revoke(Revoke::Tree(w)));
        assert_eq!(p("token revoke -self"), tree(Which::Own));
        assert_eq!(p("token revoke -ask"), tree(Which::Ask));
        assert_eq!(
            p("token revoke @/tmp/t"),
            tree(Which::File("/tmp/t".into()))
        );
        assert!(p("token revoke").is_err());
        assert!(p("token revoke -self -accessor a").is_err());
        assert!(p("token revoke -accessor").is_err());
    }

    #[test]
    fn revoke_modes_follow_bao() {
        let orphan = |w| Ok(Token::Revoke(Revoke::Orphan(w)));
        assert_eq!(p("token revoke -mode=orphan -ask"), orphan(Which::Ask));
        assert_eq!(
            p("token revoke -mode orphan @t.txt"),
            orphan(Which::File("t.txt".into()))
        );
        assert_eq!(
            p("token revoke -mode=path auth/userpass/"),
            Ok(Token::Revoke(Revoke::Prefix("auth/userpass".into())))
        );
        assert_eq!(
            p("token revoke -mode= -self"),
            Ok(Token::Revoke(Revoke::Tree(Which::Own)))
        );
        // bao's refusals: -self with a mode, -accessor with orphan or path.
        for (line, says) in [
            ("token revoke -mode=orphan -self", "-self takes no -mode"),
            ("token revoke -mode=orphan -accessor a", "not an accessor"),
            ("token revoke -mode=path -accessor a", "not a token"),
            ("token revoke -mode=path -self", "not a token"),
            ("token revoke -mode=path", "needs the auth path prefix"),
            ("token revoke -mode=path a b", "one auth path prefix"),
            ("token revoke -mode=path /", "needs the auth path prefix"),
            ("token revoke -mode=children -self", "orphan or path"),
            ("token revoke -mode=orphan", "say which token"),
        ] {
            let e = p(line).expect_err(line);
            assert!(e.to_string().contains(says), "{line}: {e}");
        }
        // A token by value is still refused in every mode.
        let e = p("token revoke -mode=orphan s.secret").unwrap_err();
        assert!(!e.to_string().contains("s.secret"), "{e}");
        assert!(p("token revoke -mode=path auth/x")
            .unwrap()
            .is_destructive());
    }

    #[test]
    fn create_takes_bao_flags() {
        let Ok(Token::Create(c)) =
            p("token create -policy=a,b -policy c -ttl=1h -orphan -no-default-policy -metadata=team=x -use-limit=3 -field=token")
        else {
            panic!("parse")
        };
        assert_eq!(c.policies, ["a", "b", "c"]);
        assert_eq!(c.ttl.as_deref(), Some("1h"));
        assert!(c.orphan && c.no_default_policy);
        assert_eq!(c.metadata, [("team".to_string(), "x".to_string())]);
        assert_eq!(c.num_uses, Some(3));
        assert_eq!(c.out.field.as_deref(), Some("token"));
        assert!(p("token create x").is_err());
        assert!(p("token revoke -self").unwrap().is_destructive());
        assert!(p("token create").unwrap().is_mutating());
        assert!(!p("token lookup").unwrap().is_mutating());
    }
}
