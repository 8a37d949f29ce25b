//! Mounts as `bao secrets` and `bao auth` manage them: `list`, `enable`, `disable`, `tune`,
//! `move`, with the options bao takes. The two families differ only in a [`Family`] (where
//! the server keeps them, what they are called); this room holds their commands, parsing
//! and requests, and the secrets engines' face; `auth_methods.rs` is the auth methods'.
//! A mount path is relative to here as every path is (`/` the top, `..` the parent), and
//! its leading segments that name child namespaces move into them: `secrets enable
//! -path=payments/kv kv` from a tenant mounts `kv/` in `payments`.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::engine::commands::explore::{self, Explore};
use crate::engine::commands::flags::{Flags, OutputFlags};
use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{cell, warnings, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::engine::tree;
use crate::vault::{body, Method, VaultError};

/// What `enable` and `tune` set on a mount (a secrets engine or an auth method); what is
/// not given is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// `-description=`.
    pub description: Option<String>,
    /// `-default-lease-ttl=` (as typed: `1h`, `3600`).
    pub default_lease_ttl: Option<String>,
    /// `-max-lease-ttl=`.
    pub max_lease_ttl: Option<String>,
    /// `-options=k=v` (and `-version=N` as `version=N`).
    pub options: Vec<(String, String)>,
    /// `-local`.
    pub local: bool,
    /// `-seal-wrap`.
    pub seal_wrap: bool,
    /// `-external-entropy-access`.
    pub external_entropy_access: bool,
    /// `-force-no-cache`.
    pub force_no_cache: bool,
    /// `-audit-non-hmac-request-keys=` (repeated or a comma list).
    pub audit_non_hmac_request_keys: Vec<String>,
    /// `-audit-non-hmac-response-keys=`.
    pub audit_non_hmac_response_keys: Vec<String>,
    /// `-listing-visibility=` (`unauth`, `hidden`).
    pub listing_visibility: Option<String>,
    /// `-passthrough-request-headers=`.
    pub passthrough_request_headers: Vec<String>,
    /// `-allowed-response-headers=`.
    pub allowed_response_headers: Vec<String>,
    /// `-plugin-version=`.
    pub plugin_version: Option<String>,
    /// `-token-type=` (auth methods).
    pub token_type: Option<String>,
    /// `-user-lockout-threshold=N`, `-user-lockout-duration=T`,
    /// `-user-lockout-counter-reset-duration=T`, `-user-lockout-disable` (auth tune): the
    /// fields of `user_lockout_config` given, as bao sends them.
    pub user_lockout: Map<String, Value>,
}

/// The config keys of a mount that are lists, with their flag names.
const LIST_FLAGS: [(&str, &str); 4] = [
    ("audit-non-hmac-request-keys", "audit_non_hmac_request_keys"),
    (
        "audit-non-hmac-response-keys",
        "audit_non_hmac_response_keys",
    ),
    ("passthrough-request-headers", "passthrough_request_headers"),
    ("allowed-response-headers", "allowed_response_headers"),
];

impl MountOptions {
    /// Read them from a command's flags (those its row lists).
    pub fn from_flags(info: &CommandInfo, f: &Flags) -> Result<MountOptions, UsageError> {
        let list = |name: &str| -> Vec<String> {
            f.all(name)
                .into_iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        let text = |name: &str| f.last(name).map(str::to_string);
        let mut user_lockout = Map::new();
        if let Some(n) = f.number(info, "user-lockout-threshold")? {
            user_lockout.insert("lockout_threshold".into(), json!(n.to_string()));
        }
        for (flag, key) in [
            ("user-lockout-duration", "lockout_duration"),
            (
                "user-lockout-counter-reset-duration",
                "lockout_counter_reset_duration",
            ),
        ] {
            if let Some(v) = text(flag) {
                user_lockout.insert(key.into(), json!(v));
            }
        }
        if let Some(b) = f.switch("user-lockout-disable") {
            user_lockout.insert("lockout_disable".into(), json!(b));
        }
        let mut options = f.pairs(info, "options")?;
        if let Some(v) = f.number(info, "version")? {
            options.retain(|(k, _)| k != "version");
            options.push(("version".into(), v.to_string()));
        }
        Ok(MountOptions {
            description: text("description"),
            default_lease_ttl: text("default-lease-ttl"),
            max_lease_ttl: text("max-lease-ttl"),
            options,
            local: f.switch("local").unwrap_or(false),
            seal_wrap: f.switch("seal-wrap").unwrap_or(false),
            external_entropy_access: f.switch("external-entropy-access").unwrap_or(false),
            force_no_cache: f.switch("force-no-cache").unwrap_or(false),
            audit_non_hmac_request_keys: list(LIST_FLAGS[0].0),
            audit_non_hmac_response_keys: list(LIST_FLAGS[1].0),
            passthrough_request_headers: list(LIST_FLAGS[2].0),
            allowed_response_headers: list(LIST_FLAGS[3].0),
            listing_visibility: text("listing-visibility"),
            plugin_version: text("plugin-version"),
            token_type: text("token-type"),
            user_lockout,
        })
    }

    /// The tunable settings, as `config` of an enable and the body of a tune.
    fn config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                c.insert(k.into(), json!(v));
            }
        };
        put("default_lease_ttl", &self.default_lease_ttl);
        put("max_lease_ttl", &self.max_lease_ttl);
        put("listing_visibility", &self.listing_visibility);
        put("plugin_version", &self.plugin_version);
        put("token_type", &self.token_type);
        if !self.user_lockout.is_empty() {
            c.insert(
                "user_lockout_config".into(),
                Value::Object(self.user_lockout.clone()),
            );
        }
        for (list, (_, key)) in [
            &self.audit_non_hmac_request_keys,
            &self.audit_non_hmac_response_keys,
            &self.passthrough_request_headers,
            &self.allowed_response_headers,
        ]
        .into_iter()
        .zip(LIST_FLAGS)
        {
            if !list.is_empty() {
                c.insert(key.into(), json!(list));
            }
        }
        c
    }

    fn options_object(&self) -> Option<Value> {
        (!self.options.is_empty()).then(|| {
            Value::Object(
                self.options
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect(),
            )
        })
    }

    /// The body of `sys/mounts/PATH` or `sys/auth/PATH` that enables a mount of `kind`.
    pub fn enable_body(&self, kind: &str) -> Value {
        let mut config = self.config();
        if self.force_no_cache {
            config.insert("force_no_cache".into(), json!(true));
        }
        let mut body = Map::new();
        body.insert("type".into(), json!(kind));
        body.insert(
            "description".into(),
            json!(self.description.clone().unwrap_or_default()),
        );
        body.insert("config".into(), Value::Object(config));
        // As bao: `null` when none are given (the server keeps it so; an absent one is {}).
        body.insert(
            "options".into(),
            self.options_object().unwrap_or(Value::Null),
        );
        body.insert("local".into(), json!(self.local));
        body.insert("seal_wrap".into(), json!(self.seal_wrap));
        body.insert(
            "external_entropy_access".into(),
            json!(self.external_entropy_access),
        );
        Value::Object(body)
    }

    /// The body of `…/PATH/tune`; `None` when nothing is to change.
    pub fn tune_body(&self) -> Option<Value> {
        let mut body = self.config();
        if let Some(d) = &self.description {
            body.insert("description".into(), json!(d));
        }
        if let Some(o) = self.options_object() {
            body.insert("options".into(), o);
        }
        (!body.is_empty()).then_some(Value::Object(body))
    }
}

/// The type an enable sends, as bao reads `-plugin-name`: with the type `plugin`, the
/// plugin's name (and the path defaults to it); with any other type it would be ignored,
/// so it is refused rather than dropped unseen.
fn plugin_kind(word: &str, kind: &str, plugin: Option<&str>) -> Result<String, String> {
    match (kind, plugin.filter(|p| !p.is_empty())) {
        ("plugin", Some(name)) => Ok(name.to_string()),
        ("plugin", None) => Err(format!(
            "the type `plugin` needs -plugin-name=NAME (a plugin in the server's catalog): `{word} enable -plugin-name=NAME plugin`"
        )),
        (k, Some(name)) if k != name => Err(format!(
            "-plugin-name goes with the type `plugin`: `{word} enable -plugin-name={name} plugin`, or `{word} enable {name}`; with the type `{k}` bao ignores it"
        )),
        (k, _) => Ok(k.to_string()),
    }
}

/// What tells the two families of mounts apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Family {
    /// The command word: `secrets`, `auth`.
    pub word: &'static str,
    /// What one is called: `secrets engine`, `auth method`.
    pub noun: &'static str,
    /// Where the server keeps them: `sys/mounts`, `sys/auth`.
    pub api: &'static str,
    /// What their paths start with beside a namespace's others: ``, `auth/` (taken off
    /// what is typed: no namespace is called `auth`).
    pub prefix: &'static str,
    /// The family's usage line.
    pub usage: &'static str,
    /// Its subcommands.
    pub subcommands: &'static [CommandInfo],
    /// What `enable` without a TYPE is told it needs.
    pub type_hint: &'static str,
    /// Said after a missing or unknown subcommand (where the other thing is).
    pub aside: &'static str,
    /// The listing `list` is.
    pub listing: Explore,
    /// The question `disable` asks, `{}` the mount's full path.
    pub disable_question: &'static str,
    /// What a move costs, said in its question.
    pub move_cost: &'static str,
    /// `enable` says how to log in with what it enabled.
    pub login_hint: bool,
}

/// The secrets engines.
pub const SECRETS: Family = Family {
    word: "secrets",
    noun: "secrets engine",
    api: "sys/mounts",
    prefix: "",
    usage: COMMANDS[0].usage,
    subcommands: SUBCOMMANDS,
    type_hint: "the engine's TYPE (kv, transit, pki, …)",
    aside: "",
    listing: Explore::Mounts,
    disable_question:
        "Disable the secrets engine at {} and delete everything in it (its leases are revoked)?",
    move_cost: "its leases are revoked",
    login_hint: false,
};

/// A command of either family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountCommand {
    /// Secrets engines or auth methods.
    pub family: &'static Family,
    /// What to do.
    pub action: MountAction,
}

/// A command of the secrets engines.
pub type Secrets = MountCommand;

/// What a mount command does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountAction {
    /// The mounts here.
    List {
        /// More columns (accessor, TTLs, options, …).
        detailed: bool,
        /// `-format`.
        out: OutputFlags,
    },
    /// Mount one.
    Enable {
        /// Its type (`kv`, `transit`, `userpass`, …).
        kind: String,
        /// Where (`-path`); the type's name when not given.
        path: Option<String>,
        /// What to set.
        opts: MountOptions,
    },
    /// Unmount one (a secrets engine's data is deleted; an auth method's tokens revoked).
    Disable(String),
    /// Change a mount's settings.
    Tune {
        /// The mount, relative to here.
        path: String,
        /// What to change.
        opts: MountOptions,
    },
    /// Move a mount (within a namespace or to another below the token's).
    Move {
        /// The mount now.
        from: String,
        /// Where it goes.
        to: String,
    },
}

/// The types of secrets engines OpenBao has built in, for completion.
pub const ENGINE_TYPES: &[&str] = &[
    "kv",
    "transit",
    "pki",
    "database",
    "ssh",
    "totp",
    "rabbitmq",
    "kubernetes",
    "ldap",
    "cubbyhole",
];

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "list",
        "secrets list [-detailed] [-format=json]",
        "the secrets engines here (as `mounts`; -detailed: accessor, TTLs, options)",
    )
    .flags(&["-detailed", "-format="]),
    CommandInfo::new(
        "enable",
        "secrets enable [-path=P] [-version=N] [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-options=k=v…] [-local] [-seal-wrap] [-plugin-name=N] … TYPE",
        "mount a secrets engine (kv with -version=2 for versions); the path defaults to TYPE",
    )
    .flags(&[
        "-path=",
        "-version=",
        "-description=",
        "-default-lease-ttl=",
        "-max-lease-ttl=",
        "-options=",
        "-local",
        "-seal-wrap",
        "-external-entropy-access",
        "-force-no-cache",
        "-audit-non-hmac-request-keys=",
        "-audit-non-hmac-response-keys=",
        "-listing-visibility=",
        "-passthrough-request-headers=",
        "-allowed-response-headers=",
        "-plugin-name=",
        "-plugin-version=",
    ])
    .args(&[Arg::Words(ENGINE_TYPES)]),
    CommandInfo::new(
        "disable",
        "secrets disable PATH",
        "unmount a secrets engine and delete everything in it (asks first)",
    )
    .args(&[Arg::SecretsMount]),
    CommandInfo::new(
        "tune",
        "secrets tune [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-options=k=v…] [-version=N] … PATH",
        "change a secrets engine's settings (-version=2 upgrades a KV v1 mount)",
    )
    .flags(&[
        "-description=",
        "-default-lease-ttl=",
        "-max-lease-ttl=",
        "-options=",
        "-version=",
        "-audit-non-hmac-request-keys=",
        "-audit-non-hmac-response-keys=",
        "-listing-visibility=",
        "-passthrough-request-headers=",
        "-allowed-response-headers=",
        "-plugin-version=",
    ])
    .args(&[Arg::SecretsMount]),
    CommandInfo::new(
        "move",
        "secrets move FROM TO",
        "move a secrets engine, within this namespace or to one below (its leases are revoked)",
    )
    .args(&[Arg::SecretsMount, Arg::Free]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "secrets",
    "secrets list | enable [flags] TYPE | disable PATH | tune [flags] PATH | move FROM TO",
    "secrets engines here: list, enable, disable, tune, move (as `bao secrets`)",
)
.subcommands(SUBCOMMANDS)];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Secrets> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_family(&SECRETS, rest))
}

/// Parse `rest`, the words after a family's own (`secrets`, `auth`).
pub fn parse_family(family: &'static Family, rest: &[String]) -> Result<MountCommand, UsageError> {
    let word = family.word;
    let Some((sub, rest)) = rest.split_first() else {
        return Err(UsageError::new(
            family.usage,
            format!("`{word}` needs a subcommand{}", family.aside),
        ));
    };
    let Some(info) = family.subcommands.iter().find(|c| c.is_called(sub)) else {
        return Err(UsageError::new(
            family.usage,
            format!("unknown subcommand `{word} {sub}`{}", family.aside),
        ));
    };
    let f = Flags::parse(info, rest)?;
    let bad = |m: String| UsageError::new(info.usage, m);
    let pos = f.positional.as_slice();
    let action = match info.name {
        "list" if pos.is_empty() => MountAction::List {
            detailed: f.switch("detailed").unwrap_or(false),
            out: f.output(info)?,
        },
        "list" => return Err(bad(format!("`{word} list` takes no argument"))),
        "enable" => match pos {
            [kind] => MountAction::Enable {
                kind: plugin_kind(word, kind, f.last("plugin-name")).map_err(bad)?,
                path: f.last("path").filter(|p| !p.is_empty()).map(str::to_string),
                opts: MountOptions::from_flags(info, &f)?,
            },
            [] => return Err(bad(format!("`{word} enable` needs {}", family.type_hint))),
            _ => {
                return Err(bad(format!(
                    "`{word} enable` takes one TYPE; the path goes in -path=P"
                )))
            }
        },
        "disable" => match pos {
            [p] => MountAction::Disable(p.clone()),
            _ => return Err(bad(format!("`{word} disable` takes one PATH"))),
        },
        "tune" => match pos {
            [p] => {
                let opts = MountOptions::from_flags(info, &f)?;
                if opts.tune_body().is_none() {
                    return Err(bad(format!(
                        "`{word} tune` needs something to change (a flag)"
                    )));
                }
                MountAction::Tune {
                    path: p.clone(),
                    opts,
                }
            }
            _ => return Err(bad(format!("`{word} tune` takes one PATH"))),
        },
        "move" => match pos {
            [a, b] => MountAction::Move {
                from: a.clone(),
                to: b.clone(),
            },
            _ => return Err(bad(format!("`{word} move` takes FROM and TO"))),
        },
        _ => return Err(bad("unknown subcommand".into())),
    };
    Ok(MountCommand { family, action })
}

impl MountCommand {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        !matches!(self.action, MountAction::List { .. })
    }

    /// Whether it destroys something, and so asks first: a disable, and a move (the
    /// server revokes the mount's leases, an auth method's tokens: not to be undone).
    pub fn is_destructive(&self) -> bool {
        matches!(
            self.action,
            MountAction::Disable(_) | MountAction::Move { .. }
        )
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        let family = self.family;
        match &self.action {
            MountAction::Disable(p) => Some(
                family
                    .disable_question
                    .replace("{}", &family.full_path(session, p)),
            ),
            MountAction::Move { from, to } => Some(format!(
                "Move the {} {} to {}? {}.",
                family.noun,
                family.full_path(session, from),
                family.full_path(session, to),
                capitalized(family.move_cost)
            )),
            _ => None,
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl Family {
    /// A path as typed, without the family's prefix (`auth/userpass` and `userpass` name
    /// the same auth method).
    pub fn typed(&self, typed: &str) -> String {
        let lead = if typed.starts_with('/') { "/" } else { "" };
        let t = typed.trim_start_matches('/');
        match t
            .strip_prefix(self.prefix)
            .filter(|_| !self.prefix.is_empty())
        {
            Some(rest) => format!("{lead}{rest}"),
            None => typed.to_string(),
        }
    }

    /// Where a mount typed here lives, and its path there (without the prefix).
    pub async fn place(
        &self,
        session: &Session,
        typed: &str,
    ) -> Result<(NsPath, String), EngineError> {
        place(session, &self.typed(typed)).await
    }

    /// The full path a typed mount path names, for a question (`t/auth/people/`), asked
    /// of nothing: where a path has more than one segment, which of them are namespaces is
    /// not known yet, so the prefix (which goes after the namespaces) is left out.
    fn full_path(&self, session: &Session, typed: &str) -> String {
        match session.route(&self.typed(typed)) {
            Ok(r) => {
                let path = r.path.trim_matches('/');
                let prefix = if path.contains('/') { "" } else { self.prefix };
                format!("{}{prefix}{path}/", r.namespace.header())
            }
            Err(_) => typed.to_string(),
        }
    }

    /// `ns/auth/path/` for people.
    pub fn shown(&self, ns: &NsPath, mount: &str) -> String {
        shown(ns, &format!("{}{mount}", self.prefix))
    }
}

/// Where a mount path typed here lives: its namespace (leading segments that name child
/// namespaces move into them, as the server does for API paths) and the mount's path
/// there, with a trailing slash. One LIST per namespace level; a path of one segment
/// costs nothing.
pub async fn place(session: &Session, typed: &str) -> Result<(NsPath, String), EngineError> {
    let route = session.route(typed)?;
    let mut ns = route.namespace;
    let mut segs: Vec<String> = route
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if segs.is_empty() {
        return Err(EngineError::Other(format!("{typed:?} names no mount path")));
    }
    while segs.len() > 1 {
        let children = match tree::list_children(session.client(), &ns).await {
            Ok(c) => c,
            // A token that may not list namespaces: the path is a mount path here.
            Err(VaultError::PermissionDenied { .. }) => break,
            Err(e) => return Err(e.into()),
        };
        if !children.contains_key(&format!("{}/", segs[0])) {
            break;
        }
        ns = ns.child(&segs.remove(0));
    }
    Ok((ns, format!("{}/", segs.join("/"))))
}

/// `ns/path` for people (the root's mounts without a leading `/`).
pub fn shown(ns: &NsPath, path: &str) -> String {
    format!("{}{path}", ns.header())
}

/// What a command without a JSON document of its own prints: nothing in JSON (as bao),
/// or the server's warnings; `text` for people.
pub fn done(body: Option<&Value>, text: String) -> Output {
    let list = body
        .and_then(|b| b.get("warnings"))
        .filter(|w| w.as_array().is_some_and(|a| !a.is_empty()))
        .cloned();
    Output {
        json: list.map(|w| json!({ "warnings": w })),
        view: View::Text(text),
        notes: body.map(warnings).unwrap_or_default(),
    }
}

/// A mount's table for `-detailed`: the JSON of `secrets list` / `auth list` (the Go
/// client's mount map) as rows.
pub fn detailed_view(json: Option<&Value>) -> View {
    let ttl = |info: &Value, key: &str| {
        let kind = info.get("type").and_then(Value::as_str).unwrap_or_default();
        match info
            .pointer(&format!("/config/{key}"))
            .and_then(Value::as_u64)
        {
            _ if kind == "system" || kind == "cubbyhole" || kind == "identity" => String::new(),
            Some(0) | None => "system".into(),
            Some(n) => n.to_string(),
        }
    };
    let rows = json
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(path, info)| {
                    let get = |k: &str| info.get(k).map(cell).unwrap_or_default();
                    let yes = |k: &str| info.get(k) == Some(&json!(true));
                    vec![
                        path.clone(),
                        body::mount_kind(info),
                        get("accessor"),
                        ttl(info, "default_lease_ttl"),
                        ttl(info, "max_lease_ttl"),
                        if yes("local") { "local" } else { "replicated" }.into(),
                        yes("seal_wrap").to_string(),
                        info.get("options")
                            .filter(|o| !o.is_null())
                            .map(cell)
                            .unwrap_or_default(),
                        get("running_plugin_version"),
                        get("description"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    View::Table {
        header: [
            "PATH",
            "TYPE",
            "ACCESSOR",
            "DEFAULT TTL",
            "MAX TTL",
            "REPLICATION",
            "SEAL WRAP",
            "OPTIONS",
            "VERSION",
            "DESCRIPTION",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    }
}

/// Run a command of either family.
pub async fn run(session: &mut Session, cmd: &MountCommand) -> Result<Output, EngineError> {
    let family = cmd.family;
    let (noun, api) = (family.noun, family.api);
    // The namespaces whose mounts this changes: what completion and the index knew of
    // them is read again.
    let mut changed: Vec<NsPath> = Vec::new();
    let out = match &cmd.action {
        MountAction::List { detailed, out } => {
            let mut listed = explore::run(session, &family.listing).await?;
            if *detailed {
                listed.view = detailed_view(listed.json.as_ref());
            }
            return Ok(out.apply(listed));
        }
        MountAction::Enable { kind, path, opts } => {
            let (ns, mount) = family
                .place(session, path.as_deref().unwrap_or(kind))
                .await?;
            changed.push(ns.clone());
            let body = opts.enable_body(kind);
            let name = mount.trim_end_matches('/');
            let resp = session
                .client()
                .request(
                    Method::Post,
                    &ns.header(),
                    &format!("{api}/{name}"),
                    Some(&body),
                )
                .await?;
            let version = opts
                .options
                .iter()
                .find(|(k, _)| k == "version")
                .filter(|_| kind == "kv")
                .map_or(String::new(), |(_, v)| format!(" (version {v})"));
            let login = match (family.login_hint, name == kind) {
                (false, _) => String::new(),
                (true, true) => format!(" (log in with `login {kind}`)"),
                (true, false) => format!(" (log in with `login {kind} -path={name}`)"),
            };
            done(
                resp.as_ref(),
                format!(
                    "Success! Enabled the {kind} {noun}{version} at {}{login}.",
                    family.shown(&ns, &mount)
                ),
            )
        }
        MountAction::Disable(path) => {
            let (ns, mount) = family.place(session, path).await?;
            changed.push(ns.clone());
            let resp = session
                .client()
                .request(
                    Method::Delete,
                    &ns.header(),
                    &format!("{api}/{}", mount.trim_end_matches('/')),
                    None,
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Disabled the {noun} at {} (if it existed).",
                    family.shown(&ns, &mount)
                ),
            )
        }
        MountAction::Tune { path, opts } => {
            let (ns, mount) = family.place(session, path).await?;
            changed.push(ns.clone());
            let body = opts.tune_body();
            let resp = session
                .client()
                .request(
                    Method::Post,
                    &ns.header(),
                    &format!("{api}/{mount}tune"),
                    body.as_ref(),
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Tuned the {noun} at {}.",
                    family.shown(&ns, &mount)
                ),
            )
        }
        MountAction::Move { from, to } => {
            let from = family.place(session, from).await?;
            let to = family.place(session, to).await?;
            changed.extend([from.0.clone(), to.0.clone()]);
            move_mount(session, family, from, to).await?
        }
    };
    session.cache().invalidate_paths();
    for ns in &changed {
        session.cache().invalidate_mounts(ns);
    }
    Ok(out)
}

/// The longest namespace both are in.
fn common(a: &NsPath, b: &NsPath) -> NsPath {
    NsPath::from_segments(
        a.segments()
            .iter()
            .zip(b.segments())
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x.clone()),
    )
}

/// `sys/remount` from the namespace both mounts are in (placed: the server follows the
/// namespace segments of each path), then its status until the move is done.
async fn move_mount(
    session: &Session,
    family: &Family,
    (from_ns, from): (NsPath, String),
    (to_ns, to): (NsPath, String),
) -> Result<Output, EngineError> {
    let (word, noun) = (family.word, family.noun);
    let base = common(&from_ns, &to_ns);
    // Each path as the server takes it from `base`: the namespaces below it, then the
    // family's prefix (`auth/`) and the mount.
    let rel = |ns: &NsPath, mount: &str| {
        let below = ns.strip_prefix(&base).unwrap_or_default();
        format!("{}{}{mount}", below.header(), family.prefix)
    };
    let (src, dst) = (rel(&from_ns, &from), rel(&to_ns, &to));
    let client = session.client();
    let body = json!({ "from": src, "to": dst });
    let started = client
        .request(Method::Post, &base.header(), "sys/remount", Some(&body))
        .await?;
    let id = started
        .as_ref()
        .and_then(|b| {
            b.pointer("/data/migration_id")
                .or_else(|| b.get("migration_id"))
        })
        .and_then(Value::as_str)
        .map(str::to_string);
    let (src_shown, dst_shown) = (shown(&base, &src), shown(&base, &dst));
    let Some(id) = id else {
        // An older server moves at once and names no migration.
        return Ok(done(
            None,
            format!("Success! Moved the {noun} {src_shown} to {dst_shown}."),
        ));
    };
    let mut wait = Duration::from_millis(100);
    loop {
        let status = client
            .request(
                Method::Get,
                &base.header(),
                &format!("sys/remount/status/{id}"),
                None,
            )
            .await?;
        let state = status
            .as_ref()
            .and_then(|s| s.pointer("/data/migration_info/status"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match state.as_str() {
            "success" => {
                return Ok(done(
                    None,
                    format!(
                        "Success! Moved the {noun} {src_shown} to {dst_shown} (migration {id})."
                    ),
                ))
            }
            "failure" => {
                return Err(EngineError::Other(format!(
                    "{word} move: the server could not move {src_shown} to {dst_shown} (migration {id}); its log says why"
                )))
            }
            // Still in progress: ask again, less often as it goes on (Ctrl-C stops waiting).
            _ => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<MountAction, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap().map(|c| c.action)
    }

    fn cmd(line: &str) -> Secrets {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&words[0], &words[1..]).unwrap().unwrap()
    }

    #[test]
    fn enable_sends_what_bao_sends() {
        let Ok(MountAction::Enable { kind, path, opts }) = p(
            "secrets enable -path=kv2 -version=2 -description=team -max-lease-ttl=1h -local -options=x=y kv",
        ) else {
            panic!("parse")
        };
        assert_eq!((kind.as_str(), path.as_deref()), ("kv", Some("kv2")));
        assert_eq!(
            opts.enable_body("kv"),
            json!({"type": "kv", "description": "team", "config": {"max_lease_ttl": "1h"},
                   "options": {"x": "y", "version": "2"}, "local": true, "seal_wrap": false,
                   "external_entropy_access": false})
        );
        assert_eq!(
            opts.tune_body(),
            Some(
                json!({"max_lease_ttl": "1h", "description": "team", "options": {"x": "y", "version": "2"}})
            )
        );
        assert_eq!(MountOptions::default().tune_body(), None);
        let Ok(MountAction::Tune { opts, .. }) =
            p("secrets tune -audit-non-hmac-request-keys=a,b -audit-non-hmac-request-keys c kv")
        else {
            panic!("parse")
        };
        assert_eq!(
            opts.tune_body(),
            Some(json!({"audit_non_hmac_request_keys": ["a", "b", "c"]}))
        );
    }

    #[test]
    fn refuses_before_sending() {
        for (line, says) in [
            ("secrets", "needs a subcommand"),
            ("secrets frob", "unknown subcommand"),
            ("secrets enable", "needs the engine's TYPE"),
            ("secrets enable kv kv2", "takes one TYPE"),
            ("secrets enable -version=two kv", "whole number"),
            ("secrets tune kv", "something to change"),
            ("secrets move a", "FROM and TO"),
            ("secrets disable", "one PATH"),
            ("secrets list x", "no argument"),
            ("secrets enable -token-type=batch kv", "unknown flag"),
        ] {
            let e = p(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
        assert!(cmd("secrets disable kv").is_destructive());
        assert!(cmd("secrets move a b").is_destructive());
        assert!(cmd("secrets move a b").is_mutating());
        assert!(!cmd("secrets list").is_mutating());
    }

    #[test]
    fn the_common_namespace_of_a_move() {
        let a = NsPath::parse("t/a").unwrap();
        let b = NsPath::parse("t/b/c").unwrap();
        assert_eq!(common(&a, &b), NsPath::parse("t").unwrap());
        assert_eq!(common(&a, &NsPath::root()), NsPath::root());
    }
}
