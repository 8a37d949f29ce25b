//! Exploring a tenant: what each namespace holds (secrets engines, auth methods,
//! policies, password policies, identities, tokens), `describe`, `tree --mounts`, `find`
//! and KV `cat`. Partial permissions are normal: what may not be read is shown as such.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::engine::error::EngineError;
use crate::engine::fuzzy;
use crate::engine::index;
use crate::engine::nspath::NsPath;
use crate::engine::output::{cell, Output, View};
use crate::engine::resolve;
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, UsageError};
use crate::engine::tree;
use crate::vault::{body, Client, Method, VaultError};

/// How many namespaces are read at once by `tree --mounts` and `find`.
pub const CONCURRENCY: usize = 32;

/// An exploring command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explore {
    /// Secrets engines here.
    Mounts,
    /// Auth methods here.
    Auths,
    /// ACL policy names.
    Policies,
    /// Password policy names.
    PasswordPolicies,
    /// Identity entities.
    Entities,
    /// Identity groups.
    Groups,
    /// Token accessors (`-l`: look each up).
    Tokens {
        /// Look each accessor up (display name, policies, TTL).
        detailed: bool,
    },
    /// One screen on a namespace.
    Describe(Option<String>),
    /// The tree with each namespace's mounts.
    TreeMounts {
        /// Where to start.
        path: Option<String>,
        /// How many levels.
        depth: Option<usize>,
    },
    /// Fuzzy search for namespaces and mounts below here (or one kind of thing, `-t`).
    Find {
        /// What to look for (fzf syntax).
        pattern: String,
        /// How many results at most (`None`: all of them).
        limit: Option<usize>,
        /// Only this kind (`-t KIND`); `None`: namespaces, mounts and auth methods.
        kind: Option<FindKind>,
    },
    /// A secret inside a KV mount (v1 or v2).
    Cat(String),
}

/// The exploring commands, for help.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "cat",
        "cat PATH",
        "a secret in a KV mount (v1 or v2: data, version and metadata)",
    )
    .args(&[Arg::KvPath]),
    CommandInfo::new(
        "describe",
        "describe [NS]",
        "one screen on a namespace: children, mounts, auth, policies, identities, lock, metadata",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "find",
        "find [-t KIND] PATTERN [--limit N | --all]",
        "fuzzy search below here, best first (the best 100 unless told); -t namespace, mount, auth, policy, entity, group or secret",
    )
    .flags(&["-t", "--limit", "--all"]),
    CommandInfo::new(
        "mounts",
        "mounts",
        "secrets engines here (type, version, description)",
    ),
    CommandInfo::new("auths", "auths", "auth methods here"),
    CommandInfo::new("policies", "policies", "ACL policies here"),
    CommandInfo::new(
        "password-policies",
        "password-policies",
        "password policies here",
    ),
    CommandInfo::new("entities", "entities", "identity entities here"),
    CommandInfo::new("groups", "groups", "identity groups here"),
    CommandInfo::new(
        "tokens",
        "tokens [-l]",
        "token accessors here (-l: look each up)",
    )
    .flags(&["-l"]),
];

fn bad(usage: &str, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        usage: usage.to_string(),
    }
}

/// Parse an exploring command; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Option<Result<Explore, UsageError>> {
    let none = |cmd: Explore, usage: &str| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(bad(usage, format!("`{name}` takes no argument")))
        }
    };
    let one = |usage: &str| match rest {
        [a] => Ok(a.clone()),
        _ => Err(bad(usage, format!("`{name}` needs exactly one argument"))),
    };
    Some(match name {
        "mounts" => none(Explore::Mounts, "mounts"),
        "auths" => none(Explore::Auths, "auths"),
        "policies" => none(Explore::Policies, "policies"),
        "password-policies" => none(Explore::PasswordPolicies, "password-policies"),
        "entities" => none(Explore::Entities, "entities"),
        "groups" => none(Explore::Groups, "groups"),
        "tokens" => match rest {
            [] => Ok(Explore::Tokens { detailed: false }),
            [f] if f == "-l" || f == "-detailed" => Ok(Explore::Tokens { detailed: true }),
            _ => Err(bad("tokens [-l]", "`tokens` takes only -l")),
        },
        "describe" => match rest {
            [] => Ok(Explore::Describe(None)),
            [a] => Ok(Explore::Describe(Some(a.clone()))),
            _ => Err(bad(
                "describe [NS]",
                "`describe` takes at most one namespace",
            )),
        },
        "find" => parse_find(rest),
        "cat" => one("cat PATH").map(Explore::Cat),
        _ => return None,
    })
}

/// How many results `find` shows unless told otherwise.
pub const FIND_LIMIT: usize = 100;

/// What `find -t` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKind {
    /// Namespaces.
    Namespace,
    /// Secrets engines.
    Mount,
    /// Auth methods.
    Auth,
    /// ACL policies.
    Policy,
    /// Identity entities.
    Entity,
    /// Identity groups.
    Group,
    /// Key names inside KV mounts.
    Secret,
}

impl FindKind {
    /// Every kind, by the word `-t` takes (and its plural).
    pub const ALL: &'static [(&'static str, FindKind)] = &[
        ("namespace", FindKind::Namespace),
        ("mount", FindKind::Mount),
        ("auth", FindKind::Auth),
        ("policy", FindKind::Policy),
        ("entity", FindKind::Entity),
        ("group", FindKind::Group),
        ("secret", FindKind::Secret),
    ];

    /// The kind `word` names (`policy`, `policies`, `ns`, …).
    pub fn named(word: &str) -> Option<FindKind> {
        let w = word.to_ascii_lowercase();
        let w = match w.as_str() {
            "ns" | "namespaces" => "namespace",
            "mounts" | "engine" | "engines" => "mount",
            "auths" | "method" | "methods" => "auth",
            "policies" => "policy",
            "entities" => "entity",
            "groups" => "group",
            "secrets" | "key" | "keys" => "secret",
            other => other,
        };
        Self::ALL.iter().find(|(n, _)| *n == w).map(|(_, k)| *k)
    }

    /// Its word.
    pub fn word(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
}

fn parse_find(rest: &[String]) -> Result<Explore, UsageError> {
    let usage = "find [-t KIND] PATTERN [--limit N | --all]";
    let mut pattern = None;
    let mut limit = Some(FIND_LIMIT);
    let mut kind = None;
    let kinds = || {
        FindKind::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        let typed = match w.as_str() {
            "-t" | "--type" => Some(
                it.next()
                    .ok_or_else(|| bad(usage, format!("`-t` needs a KIND: {}", kinds())))?
                    .as_str(),
            ),
            _ => w.strip_prefix("-t=").or_else(|| w.strip_prefix("--type=")),
        };
        if let Some(t) = typed {
            let k = FindKind::named(t)
                .ok_or_else(|| bad(usage, format!("`-t {t}`: the kinds are {}", kinds())))?;
            kind = Some(k);
            continue;
        }
        match w.as_str() {
            "--all" | "-a" => limit = None,
            "--limit" | "-n" => {
                let n = it
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| bad(usage, "`--limit` needs a number"))?;
                limit = Some(n);
            }
            _ if w.starts_with("--limit=") => {
                let n = w["--limit=".len()..]
                    .parse::<usize>()
                    .map_err(|_| bad(usage, "`--limit` needs a number"))?;
                limit = Some(n);
            }
            _ if pattern.is_none() => pattern = Some(w.clone()),
            _ => return Err(bad(usage, format!("unexpected argument {w:?}"))),
        }
    }
    let pattern = pattern.ok_or_else(|| bad(usage, "`find` needs a PATTERN"))?;
    Ok(Explore::Find {
        pattern,
        limit,
        kind,
    })
}

/// Parse the `--mounts` form of `tree` (`tree [PATH] --mounts [-d N]`).
pub fn parse_tree_mounts(name: &str, rest: &[String]) -> Option<Result<Explore, UsageError>> {
    if name != "tree" || !rest.iter().any(|w| w == "--mounts" || w == "-m") {
        return None;
    }
    let mut path = None;
    let mut depth = None;
    let mut it = rest.iter().filter(|w| *w != "--mounts" && *w != "-m");
    while let Some(w) = it.next() {
        if w == "-d" || w == "--depth" {
            match it.next().and_then(|d| d.parse().ok()) {
                Some(d) => depth = Some(d),
                None => {
                    return Some(Err(bad(
                        "tree [PATH] [-d N] [--mounts]",
                        "`-d` needs a number",
                    )))
                }
            }
        } else if path.is_none() && !w.starts_with('-') {
            path = Some(w.clone());
        } else {
            return Some(Err(bad(
                "tree [PATH] [-d N] [--mounts]",
                format!("unexpected argument {w:?}"),
            )));
        }
    }
    Some(Ok(Explore::TreeMounts { path, depth }))
}

/// Run an exploring command in `session`'s current namespace.
pub async fn run(session: &mut Session, cmd: &Explore) -> Result<Output, EngineError> {
    let here = session.cwd().clone();
    let client = &session.client().clone();
    match cmd {
        Explore::Mounts => {
            let m = mounts(client, &here, "sys/mounts").await?;
            Ok(mounts_output(m))
        }
        Explore::Auths => {
            let m = mounts(client, &here, "sys/auth").await?;
            Ok(mounts_output(m))
        }
        Explore::Policies => names(client, &here, "sys/policies/acl").await,
        Explore::PasswordPolicies => names(client, &here, "sys/policies/password").await,
        Explore::Entities => identities(client, &here, "identity/entity/id").await,
        Explore::Groups => identities(client, &here, "identity/group/id").await,
        Explore::Tokens { detailed } => tokens(client, &here, *detailed).await,
        Explore::Describe(ns) => {
            let target = match ns {
                None => here,
                Some(p) => session.resolve(Some(p))?,
            };
            describe(client, &target).await
        }
        Explore::TreeMounts { path, depth } => {
            let root = match path {
                None => here,
                Some(p) => session.resolve(Some(p))?,
            };
            tree_mounts(client, &root, *depth, !session.options().no_scan).await
        }
        Explore::Find {
            pattern,
            limit,
            kind: None,
        } => find(session, &here, pattern, *limit).await,
        Explore::Find {
            pattern,
            limit,
            kind: Some(kind),
        } => find_kind(session, &here, *kind, pattern, *limit).await,
        Explore::Cat(path) => cat(session, path).await,
    }
}

/// LIST that treats "nothing there" (404) as an empty answer.
async fn list(client: &Client, ns: &NsPath, path: &str) -> Result<Option<Value>, VaultError> {
    match client.request(Method::List, &ns.header(), path, None).await {
        Err(VaultError::NotFound { .. }) => Ok(None),
        other => other,
    }
}

/// The mounts at `sys/mounts` or `sys/auth` of `ns`, as the server describes them.
async fn mounts(
    client: &Client,
    ns: &NsPath,
    path: &str,
) -> Result<Map<String, Value>, VaultError> {
    let body = client
        .request(Method::Get, &ns.header(), path, None)
        .await?;
    Ok(body::mounts(body.as_ref()))
}

/// The KV version of a mount (`1`, `2`; empty for other types), a column of its own.
fn kv_version_of(info: &Value) -> String {
    if info.get("type").and_then(Value::as_str) != Some("kv") {
        return String::new();
    }
    info.pointer("/options/version")
        .and_then(Value::as_str)
        .unwrap_or("1")
        .to_string()
}

/// The version of the plugin that serves a mount (`v2.7.2+builtin.bao`).
fn plugin_version_of(info: &Value) -> String {
    ["running_plugin_version", "plugin_version"]
        .iter()
        .filter_map(|k| info.get(*k).and_then(Value::as_str))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// The fields of the Go client's `MountOutput` (`AuthMount` is the same type), in its
/// order, with the value each takes when the server leaves it out.
/// A field of a Go struct and the value it takes when the server leaves it out.
type GoField = (&'static str, fn() -> Value);

const MOUNT_FIELDS: &[GoField] = &[
    ("uuid", || json!("")),
    ("type", || json!("")),
    ("description", || json!("")),
    ("accessor", || json!("")),
    ("config", || json!({})),
    ("options", || Value::Null),
    ("local", || json!(false)),
    ("seal_wrap", || json!(false)),
    ("external_entropy_access", || json!(false)),
    ("plugin_version", || json!("")),
    ("running_plugin_version", || json!("")),
    ("running_sha256", || json!("")),
    ("deprecation_status", || json!("")),
];

/// The fields of `MountConfigOutput` that are always printed; the others are printed
/// only when set (`omitempty`).
const CONFIG_ALWAYS: &[GoField] = &[
    ("default_lease_ttl", || json!(0)),
    ("max_lease_ttl", || json!(0)),
    ("force_no_cache", || json!(false)),
];
const CONFIG_OMITEMPTY: &[&str] = &[
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
    "listing_visibility",
    "passthrough_request_headers",
    "allowed_response_headers",
    "token_type",
    "allowed_managed_keys",
    "user_lockout_config",
];

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `config.user_lockout_config` through the Go client's struct: its fields are named
/// `lockout_threshold`, `lockout_duration`, `lockout_counter_reset`, `disable_lockout`,
/// and the server (OpenBao 2.6, 2.7) names them `user_lockout_*`, so bao prints none of
/// them and leaves the object out (seen against both). Fields of the Go names are kept.
fn go_user_lockout(v: &Value) -> Option<Value> {
    const GO_FIELDS: [&str; 4] = [
        "lockout_threshold",
        "lockout_duration",
        "lockout_counter_reset",
        "disable_lockout",
    ];
    let kept: Map<String, Value> = GO_FIELDS
        .iter()
        .filter_map(|k| v.get(*k).map(|x| ((*k).to_string(), x.clone())))
        // omitempty drops a zero, except of disable_lockout: a pointer (false is printed).
        .filter(|(k, x)| !x.is_null() && (k == "disable_lockout" || *x != json!(0)))
        .collect();
    (!kept.is_empty()).then_some(Value::Object(kept))
}

/// One mount as `bao secrets list -format=json` prints it: the server's answer decoded
/// into the Go client's struct and encoded again (unknown fields dropped, missing ones
/// zero, empty optional config fields left out).
fn as_go_mount(info: &Value) -> Value {
    let mut out = Map::new();
    for (field, zero) in MOUNT_FIELDS {
        let v = match (*field, info.get(*field)) {
            ("config", Some(c)) => {
                let mut config = Map::new();
                for (k, zero) in CONFIG_ALWAYS {
                    config.insert((*k).into(), c.get(*k).cloned().unwrap_or_else(zero));
                }
                for k in CONFIG_OMITEMPTY {
                    let v = match c.get(*k) {
                        Some(v) if *k == "user_lockout_config" => go_user_lockout(v),
                        v => v.cloned(),
                    };
                    if let Some(v) = v.filter(|v| !is_empty_value(v)) {
                        config.insert((*k).into(), v);
                    }
                }
                Value::Object(config)
            }
            ("config", None) => Value::Object(
                CONFIG_ALWAYS
                    .iter()
                    .map(|(k, zero)| ((*k).to_string(), zero()))
                    .collect(),
            ),
            (_, Some(v)) if !v.is_null() => v.clone(),
            _ => zero(),
        };
        out.insert((*field).into(), v);
    }
    Value::Object(out)
}

/// `bao secrets list -format=json` / `bao auth list -format=json`: the map of mounts.
fn mounts_output(m: Map<String, Value>) -> Output {
    // As bao prints them: sorted by path (a Go map is encoded in key order).
    let mut m: Vec<(String, Value)> = m.into_iter().collect();
    m.sort_by(|a, b| a.0.cmp(&b.0));
    let rows = m
        .iter()
        .map(|(path, info)| {
            vec![
                path.clone(),
                info.get("type").map(cell).unwrap_or_default(),
                kv_version_of(info),
                plugin_version_of(info),
                info.get("description").map(cell).unwrap_or_default(),
            ]
        })
        .collect();
    Output {
        json: Some(Value::Object(
            m.iter().map(|(k, v)| (k.clone(), as_go_mount(v))).collect(),
        )),
        view: View::Table {
            header: vec![
                "PATH".into(),
                "TYPE".into(),
                "KV".into(),
                "PLUGIN VERSION".into(),
                "DESCRIPTION".into(),
            ],
            rows,
        },
        notes: vec![],
    }
}

async fn names(client: &Client, ns: &NsPath, path: &str) -> Result<Output, EngineError> {
    let names = body::keys(list(client, ns, path).await?.as_ref());
    Ok(Output::names(names))
}

async fn identities(client: &Client, ns: &NsPath, path: &str) -> Result<Output, EngineError> {
    let body = list(client, ns, path).await?;
    let d = body::data(body);
    let info = d.get("key_info").and_then(Value::as_object);
    let ids: Vec<String> = d
        .get("keys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let rows = ids
        .iter()
        .map(|id| {
            let name = info
                .and_then(|i| i.get(id))
                .and_then(|e| e.get("name"))
                .map(cell)
                .unwrap_or_default();
            vec![name, id.clone()]
        })
        .collect();
    Ok(Output {
        json: Some(Value::from(ids)),
        view: View::Table {
            header: vec!["NAME".into(), "ID".into()],
            rows,
        },
        notes: vec![],
    })
}

async fn tokens(client: &Client, ns: &NsPath, detailed: bool) -> Result<Output, EngineError> {
    let accessors = body::keys(list(client, ns, "auth/token/accessors").await?.as_ref());
    if !detailed {
        return Ok(Output::names(accessors));
    }
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (i, a) in accessors.iter().enumerate() {
        let (client, permits, header, a) =
            (client.clone(), permits.clone(), ns.header(), a.clone());
        tasks.spawn(async move {
            let _p = permits.acquire_owned().await;
            let body = json!({ "accessor": a });
            let r = client
                .request(
                    Method::Post,
                    &header,
                    "auth/token/lookup-accessor",
                    Some(&body),
                )
                .await;
            (i, a, r.map(body::data))
        });
    }
    let mut found = Vec::new();
    while let Some(Ok(r)) = tasks.join_next().await {
        found.push(r);
    }
    found.sort_by_key(|(i, _, _)| *i);
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for (_, accessor, r) in found {
        match r {
            Ok(d) => {
                // The lookup never returns the token itself; keep only what describes it.
                let pick = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
                rows.push(vec![
                    accessor.clone(),
                    cell(&pick("display_name")),
                    cell(&pick("policies")),
                    cell(&pick("ttl")),
                ]);
                json_rows.push(json!({
                    "accessor": accessor, "display_name": pick("display_name"),
                    "policies": pick("policies"), "ttl": pick("ttl"), "expire_time": pick("expire_time"),
                }));
            }
            Err(e) => {
                rows.push(vec![
                    accessor.clone(),
                    format!("(not readable: {})", short(&e)),
                    String::new(),
                    String::new(),
                ]);
                json_rows.push(json!({ "accessor": accessor, "error": e.to_string() }));
            }
        }
    }
    Ok(Output {
        json: Some(Value::from(json_rows)),
        view: View::Table {
            header: vec![
                "ACCESSOR".into(),
                "DISPLAY NAME".into(),
                "POLICIES".into(),
                "TTL".into(),
            ],
            rows,
        },
        notes: vec![],
    })
}

/// A short reason for a section that could not be read.
fn short(e: &VaultError) -> String {
    match e {
        VaultError::PermissionDenied { .. } => "permission denied".into(),
        VaultError::NamespaceLocked { locked, .. } => format!("locked: {locked}"),
        VaultError::NamespaceSealed { sealed, .. } if !sealed.is_empty() => {
            format!("sealed: {}", sealed.trim_end_matches('/'))
        }
        other => other.to_string(),
    }
}

/// Why a part of a namespace could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// In a few words ("permission denied"), for a line of text.
    pub reason: String,
    /// The whole error, for JSON.
    pub error: String,
}

impl From<VaultError> for Unreadable {
    fn from(e: VaultError) -> Unreadable {
        Unreadable {
            reason: short(&e),
            error: e.to_string(),
        }
    }
}

/// A part of a [`Summary`]: what was read, or why it could not be.
pub type Part<T> = Result<T, Unreadable>;

/// A LIST of policies or identities: the keys (identities: ids) and what a person reads
/// (identities: their names), sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    /// The keys as listed.
    pub keys: Vec<String>,
    /// The names shown, sorted.
    pub names: Vec<String>,
}

impl Listed {
    fn from_body(b: Option<Value>) -> Listed {
        let d = body::data(b);
        let keys: Vec<String> = d
            .get("keys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        // Identities are listed by id; their names are what a person reads.
        let info = d.get("key_info").and_then(Value::as_object);
        let mut names: Vec<String> = keys
            .iter()
            .map(|id| {
                info.and_then(|i| i.get(id))
                    .and_then(|e| e.get("name"))
                    .and_then(Value::as_str)
                    .map_or_else(|| id.clone(), str::to_string)
            })
            .collect();
        names.sort();
        Listed { keys, names }
    }
}

/// What `describe` shows of a namespace, as data (the TUI's summary pane draws it too):
/// each part as read, or why the token may not read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The namespace.
    pub path: NsPath,
    /// Its entry in its parent (`path`, `locked`, `custom_metadata`).
    pub namespace: Part<Value>,
    /// Its child namespaces (`name/` → key info with `locked`).
    pub children: Part<Map<String, Value>>,
    /// Its secrets engines (`sys/mounts`).
    pub mounts: Part<Map<String, Value>>,
    /// Its auth methods (`sys/auth`).
    pub auth: Part<Map<String, Value>>,
    /// Its ACL policies.
    pub policies: Part<Listed>,
    /// Its identity entities.
    pub entities: Part<Listed>,
    /// Its identity groups.
    pub groups: Part<Listed>,
}

impl Summary {
    /// Whether it is locked.
    pub fn locked(&self) -> Part<bool> {
        self.namespace
            .as_ref()
            .map(|d| d.get("locked").and_then(Value::as_bool).unwrap_or(false))
            .map_err(Clone::clone)
    }

    /// Its custom metadata, sorted by key.
    pub fn metadata(&self) -> Part<Vec<(String, String)>> {
        self.namespace
            .as_ref()
            .map(|d| {
                d.get("custom_metadata")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), cell(v))).collect())
                    .unwrap_or_default()
            })
            .map_err(Clone::clone)
    }
}

/// Mounts grouped by type (`kv v2` for a KV v2 mount): type → paths, sorted.
pub fn mounts_by_type(m: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, info) in m {
        groups
            .entry(body::mount_kind(info))
            .or_default()
            .push(path.clone());
    }
    groups.into_iter().collect()
}

/// Read what `describe` shows of `ns`, all at once. Only a namespace that does not exist
/// is an error; a part the token may not read is [`Unreadable`].
pub async fn summary(client: &Client, ns: &NsPath) -> Result<Summary, EngineError> {
    let lookup = async {
        match (ns.parent(), ns.name()) {
            (Some(parent), Some(name)) => client
                .request(
                    Method::Get,
                    &parent.header(),
                    &format!("sys/namespaces/{name}"),
                    None,
                )
                .await
                .map(body::data),
            _ => Ok(json!({ "path": "", "locked": false, "custom_metadata": {} })),
        }
    };
    let (info, children, secrets, auths, policies, entities, groups) = tokio::join!(
        lookup,
        tree::list_children(client, ns),
        mounts(client, ns, "sys/mounts"),
        mounts(client, ns, "sys/auth"),
        list(client, ns, "sys/policies/acl"),
        list(client, ns, "identity/entity/id"),
        list(client, ns, "identity/group/id"),
    );
    // A namespace that does not exist is an error, not a screen of "not readable".
    if let Err(e @ (VaultError::NotFound { .. } | VaultError::NamespaceNotFound { .. })) = &info {
        return Err(EngineError::Other(format!(
            "namespace {ns} does not exist ({e})"
        )));
    }
    Ok(Summary {
        path: ns.clone(),
        namespace: info.map_err(Unreadable::from),
        children: children.map_err(Unreadable::from),
        mounts: secrets.map_err(Unreadable::from),
        auth: auths.map_err(Unreadable::from),
        policies: policies.map(Listed::from_body).map_err(Unreadable::from),
        entities: entities.map(Listed::from_body).map_err(Unreadable::from),
        groups: groups.map(Listed::from_body).map_err(Unreadable::from),
    })
}

/// One section of `describe`: a view, or why it could not be read.
fn section<T>(r: Part<T>, f: impl FnOnce(T) -> (Value, View)) -> (Value, View) {
    match r {
        Ok(v) => f(v),
        Err(e) => (
            json!({ "error": e.error }),
            View::Text(format!("(not readable: {})", e.reason)),
        ),
    }
}

/// A namespace's seal, as `describe` shows it (the TUI's summary may show it too): the
/// seal-status (`sealed`, `t`, `n`, `progress`), or that it cannot be sealed.
#[derive(Debug, Clone, PartialEq)]
pub enum SealInfo {
    /// Made without a seal (or the root): it cannot be sealed.
    NotSealable,
    /// Its seal-status `data`.
    Status(Value),
}

impl SealInfo {
    /// One line for people: `no (not sealable)`, `no (unsealed, 2 of 3 shares unseal it)`,
    /// `yes: 1/2 key shares entered`.
    pub fn line(&self) -> String {
        match self {
            SealInfo::NotSealable => "no (not sealable)".into(),
            SealInfo::Status(d) => {
                let get = |k: &str| d.get(k).and_then(Value::as_u64).unwrap_or(0);
                if d.get("sealed").and_then(Value::as_bool).unwrap_or(false) {
                    format!(
                        "yes: {}/{} key shares entered (`ns unseal` from its parent)",
                        get("progress"),
                        get("t")
                    )
                } else {
                    format!(
                        "no (unsealed; {} of its {} key shares unseal it)",
                        get("t"),
                        get("n")
                    )
                }
            }
        }
    }

    /// As JSON: `{"sealable": false}`, or `{"sealable": true, …the seal-status}`.
    pub fn json(&self) -> Value {
        match self {
            SealInfo::NotSealable => json!({ "sealable": false }),
            SealInfo::Status(d) => {
                let mut m = d.as_object().cloned().unwrap_or_default();
                m.insert("sealable".into(), Value::Bool(true));
                Value::Object(m)
            }
        }
    }
}

/// The seal of `ns` (one seal-status request), for `describe` and the TUI's summary.
pub async fn seal_info(client: &Client, ns: &NsPath) -> Part<SealInfo> {
    match tree::seal_status(client, ns).await {
        Ok(None) => Ok(SealInfo::NotSealable),
        Ok(Some(d)) => Ok(SealInfo::Status(d)),
        // A server without sealable namespaces: nothing here can be sealed.
        Err(VaultError::NotFound { .. })
        | Err(VaultError::Status {
            status: 404 | 405, ..
        }) => Ok(SealInfo::NotSealable),
        Err(e) => Err(Unreadable::from(e)),
    }
}

async fn describe(client: &Client, ns: &NsPath) -> Result<Output, EngineError> {
    let (s, seal) = tokio::join!(summary(client, ns), seal_info(client, ns));
    let mut s = s?;
    // The children's seal states, asked after their listing (at most SEAL_ASK_LIMIT).
    let mut notes = Vec::new();
    if let Ok(children) = &mut s.children {
        let full = |k: &str| NsPath::parse(k).ok().map(|n| ns.join(&n));
        let seals = tree::ask_seals(
            client,
            children.keys().filter_map(|k| full(k)).collect(),
            Some(tree::SEAL_ASK_LIMIT),
        )
        .await;
        notes.extend(tree::seal_note(
            &seals,
            "`tree --seal` asks them all",
            false,
        ));
        for (k, info) in children.iter_mut() {
            let sealed = full(k).and_then(|f| seals.states.get(&f)).copied();
            if let (Some(obj), Some(sealed)) = (info.as_object_mut(), sealed) {
                obj.insert("sealed".into(), Value::Bool(sealed.is_sealed()));
            }
        }
    }
    let mut json_out = Map::new();
    let mut sections = Vec::new();
    let seal_line = match &seal {
        Ok(i) => i.line(),
        Err(e) => format!("(not readable: {})", e.reason),
    };
    let (j, v) = section(s.namespace, |d| {
        let state = tree::NsState::of_info(&d);
        let meta = d.get("custom_metadata").cloned().unwrap_or(json!({}));
        let yes_no = |b: bool| {
            if b {
                "yes".to_string()
            } else {
                "no".to_string()
            }
        };
        let mut rows = vec![
            vec!["path".to_string(), ns.display()],
            vec!["locked".to_string(), yes_no(state.locked)],
            vec!["sealed".to_string(), seal_line],
        ];
        if state.tainted {
            rows.push(vec!["being deleted".to_string(), "yes".to_string()]);
        }
        if let Some(m) = meta.as_object() {
            rows.extend(
                m.iter()
                    .map(|(k, v)| vec![format!("metadata.{k}"), cell(v)]),
            );
        }
        (
            d,
            View::Table {
                header: vec![],
                rows,
            },
        )
    });
    json_out.insert("namespace".into(), j);
    json_out.insert(
        "seal".into(),
        match &seal {
            Ok(i) => i.json(),
            Err(e) => json!({ "error": e.error }),
        },
    );
    sections.push(("Namespace".to_string(), v));
    let (j, v) = section(s.children, |c| {
        let mut names: Vec<(&String, &Value)> = c.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let rows = names
            .into_iter()
            .map(|(k, i)| {
                let mut state = tree::NsState::of_info(i);
                if i.get("sealed").and_then(Value::as_bool) == Some(true) {
                    state.seal = tree::Seal::Sealed;
                }
                vec![k.clone(), state.label()]
            })
            .collect();
        (
            Value::Object(c),
            View::Table {
                header: vec![],
                rows,
            },
        )
    });
    json_out.insert("children".into(), j);
    sections.push(("Child namespaces".to_string(), v));
    let by_type = |m: Map<String, Value>| {
        let rows = mounts_by_type(&m)
            .into_iter()
            .map(|(k, v)| vec![k, v.join(" ")])
            .collect();
        (
            Value::Object(m),
            View::Table {
                header: vec![],
                rows,
            },
        )
    };
    let (j, v) = section(s.mounts, by_type);
    json_out.insert("mounts".into(), j);
    sections.push(("Secrets engines (by type)".to_string(), v));
    let (j, v) = section(s.auth, by_type);
    json_out.insert("auth".into(), j);
    sections.push(("Auth methods (by type)".to_string(), v));
    for (title, key, r) in [
        ("Policies", "policies", s.policies),
        ("Entities", "entities", s.entities),
        ("Groups", "groups", s.groups),
    ] {
        let (j, v) = section(r, |l| {
            let text = if l.names.is_empty() {
                "(none)".to_string()
            } else if key == "policies" {
                l.names.join(" ")
            } else {
                format!("{}: {}", l.names.len(), l.names.join(" "))
            };
            (Value::from(l.keys), View::Text(text))
        });
        json_out.insert(key.into(), j);
        sections.push((title.to_string(), v));
    }
    Ok(Output {
        json: Some(Value::Object(json_out)),
        view: View::Sections(sections),
        notes,
    })
}

/// The mounts every namespace has: not worth showing in a tree or a search.
pub fn is_builtin(mount: &str) -> bool {
    matches!(mount, "sys/" | "identity/" | "cubbyhole/" | "auth/token/")
}

/// For each namespace, its mounts (secrets and auth), read concurrently and bounded.
/// A namespace and its mount paths (`auth/…` for auth methods), or why they could not be read.
type NsMounts = (NsPath, Result<Vec<String>, String>);

async fn mounts_of_all(client: &Client, namespaces: Vec<NsPath>) -> Vec<NsMounts> {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (i, ns) in namespaces.into_iter().enumerate() {
        let (client, permits) = (client.clone(), permits.clone());
        tasks.spawn(async move {
            let _p = permits.acquire_owned().await;
            // One request per namespace: secrets engines and auth methods together.
            let r = match crate::engine::mounts::of(&client, &ns).await {
                // Every namespace has built-in mounts: none listed means none this token
                // may use (the UI endpoint lists only those).
                Ok(t) if t.secret.is_empty() && t.auth.is_empty() => {
                    Err("none this token may use".to_string())
                }
                Ok(t) => Ok(t.paths()),
                Err(e) => Err(short(&e)),
            };
            (i, ns, r)
        });
    }
    let mut out = Vec::new();
    while let Some(Ok(r)) = tasks.join_next().await {
        out.push(r);
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, ns, r)| (ns, r)).collect()
}

/// The tree below `root` and the mounts of `root` and of every namespace in it that is
/// not locked (a locked one refuses every request).
async fn walk_with_mounts(
    client: &Client,
    root: &NsPath,
    depth: Option<usize>,
    use_scan: bool,
) -> Result<(tree::Walk, Vec<NsMounts>), EngineError> {
    let walk = tree::walk(client, root, depth, use_scan).await?;
    let mut all = vec![root.clone()];
    all.extend(
        walk.entries
            .iter()
            .filter(|e| !e.state.is_closed())
            .map(|e| root.join(&e.path)),
    );
    let found = mounts_of_all(client, all).await;
    Ok((walk, found))
}

async fn tree_mounts(
    client: &Client,
    root: &NsPath,
    depth: Option<usize>,
    use_scan: bool,
) -> Result<Output, EngineError> {
    let (walk, found) = walk_with_mounts(client, root, depth, use_scan).await?;
    let by_ns: std::collections::HashMap<NsPath, &Result<Vec<String>, String>> = found
        .iter()
        .map(|(ns, r)| (ns.strip_prefix(root).unwrap_or_default(), r))
        .collect();
    // Every namespace of the tree, in its order; a locked one is not read (its API
    // refuses every request) and says so.
    let mut json_out = Map::new();
    for rel in std::iter::once(NsPath::root()).chain(walk.entries.iter().map(|e| e.path.clone())) {
        let v = match by_ns.get(&rel) {
            Some(Ok(p)) => Value::from(p.clone()),
            Some(Err(e)) => json!({ "error": e }),
            None => json!({ "error": "locked" }),
        };
        json_out.insert(rel.header(), v);
    }
    // In the text, each namespace's own mounts follow its name; the built-in ones that
    // every namespace has (sys/, identity/, cubbyhole/, auth/token/) only in JSON.
    let text = tree::render_with(&root.display(), &walk, |ns| match by_ns.get(ns) {
        Some(Ok(p)) => {
            let own: Vec<&str> = p
                .iter()
                .map(String::as_str)
                .filter(|m| !is_builtin(m))
                .collect();
            if own.is_empty() {
                String::new()
            } else {
                format!("  {}", own.join(" "))
            }
        }
        Some(Err(e)) => format!("  (mounts not readable: {e})"),
        None => String::new(),
    });
    Ok(Output {
        json: Some(Value::Object(json_out)),
        view: View::Text(text),
        notes: vec![],
    })
}

/// `find PATTERN`: every namespace and mount below here, ranked. The tree and the mounts
/// come through the index ([`index::gather`]): a warm index answers at once.
async fn find(
    session: &mut Session,
    here: &NsPath,
    pattern: &str,
    limit: Option<usize>,
) -> Result<Output, EngineError> {
    let known = index::attach_and_gather(session, here, |p| !is_builtin(p)).await?;
    let mut notes = Vec::new();
    let mut candidates: Vec<String> = known.namespaces.iter().map(NsPath::header).collect();
    for (ns, paths) in &known.mounts {
        let rel = ns.strip_prefix(here).unwrap_or_default().header();
        candidates.extend(paths.iter().map(|p| format!("{rel}{p}")));
    }
    // What the walk changed is written when the session ends (`index::finish`), not
    // before the answer.
    notes.extend(known.notes);
    let mut ranked = fuzzy::rank(candidates, &[], pattern, usize::MAX);
    let total = ranked.len();
    if let Some(limit) = limit.filter(|l| *l < total) {
        ranked.truncate(limit);
        // Never a silent cut: say how many were left out and how to see them.
        notes.push(format!(
            "note: {limit} of {total} matches shown, best first; {} more with `find {pattern} --all` (or --limit N)",
            total - limit
        ));
    }
    Ok(Output::names(ranked).with_notes(notes))
}

/// How many key names `find -t secret` lists at most, over every KV mount.
pub const FIND_SECRET_KEYS: usize = 20_000;

/// How many LIST requests `find -t secret` sends at most.
pub const FIND_SECRET_LISTS: usize = 5_000;

/// One thing `find -t` found: where it lives and what it is.
#[derive(Debug, Clone)]
struct Found {
    /// Its namespace, relative to where the search started.
    rel: NsPath,
    /// Its name there (`pay-kv/`, `auth/userpass/`, `reader`, `kv/app/db`).
    name: String,
    /// Its type, for mounts, auth methods and secrets (`kv v2`).
    kind: String,
}

/// `find -t KIND PATTERN`: every thing of that kind below here, ranked (fzf syntax) by
/// `namespace/name`, best first, with where it lives.
async fn find_kind(
    session: &Session,
    here: &NsPath,
    kind: FindKind,
    pattern: &str,
    limit: Option<usize>,
) -> Result<Output, EngineError> {
    let client = session.client();
    let walk = tree::walk(client, here, None, !session.options().no_scan).await?;
    let mut found: Vec<Found> = Vec::new();
    let mut notes = Vec::new();
    if kind == FindKind::Namespace {
        found.extend(walk.entries.iter().map(|e| Found {
            rel: NsPath::root(),
            name: e.path.header(),
            kind: if e.state.locked {
                "locked".into()
            } else {
                String::new()
            },
        }));
    } else {
        // Here and every namespace below that is not locked (a locked one refuses all).
        let mut targets = vec![NsPath::root()];
        targets.extend(
            walk.entries
                .iter()
                .filter(|e| !e.state.locked)
                .map(|e| e.path.clone()),
        );
        let locked = walk.entries.iter().filter(|e| e.state.locked).count();
        if locked > 0 {
            notes.push(match locked {
                1 => "note: 1 locked namespace was not searched".to_string(),
                n => format!("note: {n} locked namespaces were not searched"),
            });
        }
        let total = targets.len();
        let mut meter = session.meter("find", "namespaces", total);
        let budget = Arc::new(SecretBudget::default());
        let reads = futures::stream::iter(targets.into_iter().map(|rel| {
            let (client, budget) = (client.clone(), budget.clone());
            let ns = here.join(&rel);
            async move {
                let r = of_kind(&client, &ns, &rel, kind, &budget).await;
                (rel, r)
            }
        }));
        let mut reads = futures::StreamExt::buffer_unordered(reads, CONCURRENCY);
        let mut unreadable: Vec<String> = Vec::new();
        let mut done = 0;
        while let Some((rel, r)) = futures::StreamExt::next(&mut reads).await {
            done += 1;
            meter.tick(done);
            match r {
                Ok(things) => found.extend(things),
                Err(e) => unreadable.push(format!("{} ({e})", here.join(&rel))),
            }
        }
        if !unreadable.is_empty() {
            unreadable.sort();
            let shown: Vec<&str> = unreadable.iter().take(5).map(String::as_str).collect();
            let more = unreadable.len().saturating_sub(shown.len());
            notes.push(format!(
                "note: {} namespaces could not be searched: {}{}",
                unreadable.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if budget.exhausted() {
            notes.push(format!(
                "note: the search of key names stopped at its bound ({FIND_SECRET_KEYS} keys, {FIND_SECRET_LISTS} lists): search from a namespace further down for the rest"
            ));
        }
    }
    let candidates: Vec<String> = found
        .iter()
        .map(|f| format!("{}{}", f.rel.header(), f.name))
        .collect();
    let by_path: std::collections::HashMap<String, &Found> =
        candidates.iter().cloned().zip(found.iter()).collect();
    let mut ranked = fuzzy::rank(candidates, &[], pattern, usize::MAX);
    let total = ranked.len();
    if let Some(limit) = limit.filter(|l| *l < total) {
        ranked.truncate(limit);
        notes.push(format!(
            "note: {limit} of {total} matches shown, best first; {} more with `find -t {} {pattern} --all` (or --limit N)",
            total - limit,
            kind.word()
        ));
    }
    let typed = matches!(
        kind,
        FindKind::Mount | FindKind::Auth | FindKind::Secret | FindKind::Namespace
    );
    let mut rows = Vec::with_capacity(ranked.len());
    let mut docs = Vec::with_capacity(ranked.len());
    for path in &ranked {
        let Some(f) = by_path.get(path) else { continue };
        // A namespace found lives in itself; anything else in the namespace it was found in.
        let ns = match kind {
            FindKind::Namespace => here.join(&NsPath::parse(&f.name).unwrap_or_default()),
            _ => here.join(&f.rel),
        };
        let mut row = vec![ns.display()];
        if kind != FindKind::Namespace {
            row.push(f.name.clone());
        }
        if typed {
            row.push(f.kind.clone());
        }
        rows.push(row);
        let mut doc = json!({ "path": path, "namespace": ns.header(), "name": f.name });
        if kind == FindKind::Namespace {
            doc["locked"] = json!(f.kind == "locked");
        } else if typed {
            doc["type"] = json!(f.kind);
        }
        docs.push(doc);
    }
    let header: Vec<String> = match kind {
        FindKind::Namespace => vec!["NAMESPACE".into(), "STATE".into()],
        _ if typed => vec![
            "NAMESPACE".into(),
            kind.word().to_uppercase(),
            "TYPE".into(),
        ],
        _ => vec!["NAMESPACE".into(), kind.word().to_uppercase()],
    };
    Ok(Output {
        json: Some(Value::from(docs)),
        view: View::Table { header, rows },
        notes,
    })
}

/// The bound of `find -t secret`, shared by every namespace searched at once.
#[derive(Default)]
struct SecretBudget {
    keys: std::sync::atomic::AtomicUsize,
    lists: std::sync::atomic::AtomicUsize,
}

impl SecretBudget {
    /// Take one LIST; false when none is left.
    fn list(&self) -> bool {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < FIND_SECRET_LISTS
    }

    /// Take `n` keys; false when the bound was passed.
    fn keys(&self, n: usize) -> bool {
        self.keys.fetch_add(n, std::sync::atomic::Ordering::SeqCst) + n <= FIND_SECRET_KEYS
    }

    fn exhausted(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.keys.load(SeqCst) > FIND_SECRET_KEYS || self.lists.load(SeqCst) > FIND_SECRET_LISTS
    }
}

/// What `ns` holds of `kind`.
async fn of_kind(
    client: &Client,
    ns: &NsPath,
    rel: &NsPath,
    kind: FindKind,
    budget: &SecretBudget,
) -> Result<Vec<Found>, String> {
    let thing = |name: String, kind: String| Found {
        rel: rel.clone(),
        name,
        kind,
    };
    let named = |path: &'static str| async move {
        match client.list_keys(&ns.header(), path).await {
            Ok(keys) => Ok(keys.into_iter().map(|k| thing(k, String::new())).collect()),
            Err(e) => Err(short(&e)),
        }
    };
    match kind {
        FindKind::Namespace => Ok(Vec::new()),
        FindKind::Policy => named("sys/policies/acl").await,
        FindKind::Entity => named("identity/entity/name").await,
        FindKind::Group => named("identity/group/name").await,
        FindKind::Mount | FindKind::Auth => {
            let (path, prefix) = if kind == FindKind::Mount {
                ("sys/mounts", "")
            } else {
                ("sys/auth", "auth/")
            };
            let m = mounts(client, ns, path).await.map_err(|e| short(&e))?;
            Ok(m.iter()
                .map(|(p, info)| (format!("{prefix}{p}"), info))
                .filter(|(p, _)| !is_builtin(p))
                .map(|(p, info)| thing(p, body::mount_kind(info)))
                .collect())
        }
        FindKind::Secret => {
            let m = mounts(client, ns, "sys/mounts")
                .await
                .map_err(|e| short(&e))?;
            let mut out = Vec::new();
            for (mount, info) in m
                .iter()
                .filter(|(_, i)| i.get("type").and_then(Value::as_str) == Some("kv"))
            {
                let v2 = info.pointer("/options/version").and_then(Value::as_str) == Some("2");
                let kind = body::mount_kind(info);
                // Level by level, within the shared bound.
                let mut level = vec![String::new()];
                'walk: while let Some(folder) = level.pop() {
                    if !budget.list() {
                        break 'walk;
                    }
                    let path = if v2 {
                        format!("{mount}metadata/{folder}")
                    } else {
                        format!("{mount}{folder}")
                    };
                    let keys = match client.list_keys(&ns.header(), &path).await {
                        Ok(k) => k,
                        // A mount (or folder) this token may not list: the others still count.
                        Err(VaultError::PermissionDenied { .. }) => continue,
                        Err(e) => return Err(short(&e)),
                    };
                    if !budget.keys(keys.len()) {
                        break 'walk;
                    }
                    for k in keys {
                        let full = format!("{folder}{k}");
                        if k.ends_with('/') {
                            level.push(full);
                        } else {
                            out.push(thing(format!("{mount}{full}"), kind.clone()));
                        }
                    }
                }
            }
            Ok(out)
        }
    }
}

/// A secret in a KV mount; `path` is what was typed, the resolver finds its namespace and
/// mount.
async fn cat(session: &Session, path: &str) -> Result<Output, EngineError> {
    let at = resolve::locate(session, path).await?;
    let Some(mount) = &at.mount else {
        return Err(EngineError::Other(format!(
            "cat: {path} is in no mount: {}",
            resolve::why_no_mount(session.client(), &at, path).await
        )));
    };
    if mount.kind != "kv" {
        return Err(EngineError::Other(format!(
            "cat: {} is a {} mount, not a KV mount; use `read {path}`",
            mount.path, mount.kind
        )));
    }
    if at.rest.is_empty() || at.rest.ends_with('/') {
        return Err(EngineError::Other(format!(
            "cat: {path} is not a secret (a mount or a folder); `ls {path}` lists its keys"
        )));
    }
    let v2 = mount.is_kv2();
    let api = at.api_path("data");
    let client = session.client();
    let route = at;
    let body = client
        .request(Method::Get, &route.namespace.header(), &api, None)
        .await?
        .unwrap_or(Value::Null);
    let d = body.get("data").cloned().unwrap_or(Value::Null);
    let (values, meta) = if v2 {
        (
            d.get("data").cloned().unwrap_or(Value::Null),
            d.get("metadata").cloned(),
        )
    } else {
        (d.clone(), None)
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(m) = meta.as_ref().and_then(Value::as_object) {
        for k in [
            "version",
            "created_time",
            "deletion_time",
            "destroyed",
            "custom_metadata",
        ] {
            if let Some(v) = m.get(k) {
                rows.push(vec![format!("({k})"), cell(v)]);
            }
        }
    }
    if let Some(o) = values.as_object() {
        rows.extend(o.iter().map(|(k, v)| vec![k.clone(), cell(v)]));
    }
    // As `bao kv get -format=json`: the Secret, with data (and metadata for v2).
    let mut secret = Map::new();
    for k in [
        "request_id",
        "lease_id",
        "lease_duration",
        "renewable",
        "data",
        "warnings",
    ] {
        secret.insert(k.into(), body.get(k).cloned().unwrap_or(Value::Null));
    }
    let mut out = Output {
        json: Some(Value::Object(secret)),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes: vec![],
    };
    if let Some(n) = route.note {
        out.notes.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_exploring_commands() {
        assert_eq!(parse("mounts", &[]), Some(Ok(Explore::Mounts)));
        assert_eq!(
            parse("tokens", &w("-l")),
            Some(Ok(Explore::Tokens { detailed: true }))
        );
        assert!(matches!(parse("mounts", &w("x")), Some(Err(_))));
        assert_eq!(parse("policy", &w("read default")), None);
        assert_eq!(parse("nope", &[]), None);
        assert_eq!(
            parse_tree_mounts("tree", &w("acme --mounts -d 2")),
            Some(Ok(Explore::TreeMounts {
                path: Some("acme".into()),
                depth: Some(2)
            }))
        );
        assert_eq!(parse_tree_mounts("tree", &w("acme")), None);
        assert_eq!(parse_tree_mounts("ls", &w("--mounts")), None);
    }

    #[test]
    fn find_takes_a_kind() {
        let find = |l: &str| parse("find", &w(l));
        assert_eq!(
            find("-t policy base --all"),
            Some(Ok(Explore::Find {
                pattern: "base".into(),
                limit: None,
                kind: Some(FindKind::Policy)
            }))
        );
        assert_eq!(
            find("pay"),
            Some(Ok(Explore::Find {
                pattern: "pay".into(),
                limit: Some(FIND_LIMIT),
                kind: None
            }))
        );
        for (typed, kind) in [
            ("--type=mounts", FindKind::Mount),
            ("-t=ns", FindKind::Namespace),
            ("-t=secrets", FindKind::Secret),
        ] {
            assert!(
                matches!(find(&format!("{typed} x")), Some(Ok(Explore::Find { kind: Some(k), .. })) if k == kind),
                "{typed}"
            );
        }
        for (_, k) in FindKind::ALL {
            assert_eq!(FindKind::named(k.word()), Some(*k));
        }
        assert!(matches!(find("-t frob x"), Some(Err(e)) if e.message.contains("the kinds are")));
        assert!(matches!(find("-t"), Some(Err(_))));
    }
}
