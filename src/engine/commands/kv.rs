//! The KV store as `bao kv` handles it: `kv get/put/patch/delete/undelete/destroy/
//! rollback/list` and `kv metadata get/put/delete`, on KV v1 and v2 alike. The mount's
//! version decides the API path (`data/`, `metadata/`, `delete/`… after a v2 mount), so
//! a path is typed the same on both. Every path goes through [`resolve::locate`]: from a
//! tenant, `kv get payments/secret/db` reaches the child namespace `payments`.
//!
//! With `--format json` (or `-format=json`) each prints what `bao kv … -format=json`
//! prints for the same request; for people, tables.

use serde_json::{json, Map, Value};

use crate::engine::commands::api;
use crate::engine::commands::flags::{field_output, secret_field, Flags, OutputFlags};
use crate::engine::error::EngineError;
use crate::engine::output::{cell, warnings, Output, View};
use crate::engine::resolve::{self, Located, Mount};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, Checked, CommandInfo, Parsed, UsageError};
use crate::vault::{ApiRequest, Method, VaultError};

/// How `kv patch` changes a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchMethod {
    /// An HTTP PATCH, and read-then-write when the server or the policy refuses it
    /// (bao's default).
    #[default]
    Auto,
    /// Only an HTTP PATCH.
    Patch,
    /// Read, change, write with check-and-set.
    ReadWrite,
}

/// What `kv metadata put` sets; what is not given stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataPut {
    /// `-max-versions=N`.
    pub max_versions: Option<u64>,
    /// `-cas-required[=bool]`.
    pub cas_required: Option<bool>,
    /// `-delete-version-after=DURATION`.
    pub delete_version_after: Option<String>,
    /// `-custom-metadata=k=v`, any number of times.
    pub custom: Vec<(String, String)>,
}

/// One `kv` operation and what only it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOp {
    /// Read a secret (`-version` for an older version of a v2 secret).
    Get {
        /// The version to read; the latest when not given.
        version: Option<u64>,
    },
    /// Write a secret (a new version on v2).
    Put {
        /// `-cas=N`: write only if the current version is N (0: only if there is none).
        cas: Option<u64>,
        /// `k=v` arguments (`@file`, `-`).
        args: Vec<String>,
    },
    /// Merge into a v2 secret.
    Patch {
        /// `-cas=N` (0 or absent: no check).
        cas: Option<u64>,
        /// `-method=patch|rw`.
        method: PatchMethod,
        /// `-remove-data=KEY`: keys to remove.
        remove: Vec<String>,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Delete the latest version (v2), these versions, or the secret (v1).
    Delete {
        /// `-versions=1,2`.
        versions: Vec<u64>,
    },
    /// Undelete versions of a v2 secret.
    Undelete {
        /// `-versions=1,2` (required).
        versions: Vec<u64>,
    },
    /// Destroy versions of a v2 secret for good.
    Destroy {
        /// `-versions=1,2` (required).
        versions: Vec<u64>,
    },
    /// Make an older version current again (a new version with its data).
    Rollback {
        /// `-version=N` (required).
        version: u64,
    },
    /// The keys under a path.
    List,
    /// A v2 secret's metadata and versions.
    MetadataGet,
    /// Set a v2 secret's metadata.
    MetadataPut(MetadataPut),
    /// Delete a v2 secret with every version and its metadata.
    MetadataDelete,
}

/// `kv SUBCOMMAND [flags] PATH [k=v…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kv {
    /// What to do.
    pub op: KvOp,
    /// The path as typed (with `-mount=M`, `M/PATH`), relative to here.
    pub path: String,
    /// `-field` and `-format`.
    pub out: OutputFlags,
}

const GET: CommandInfo = CommandInfo::new(
    "get",
    "kv get [-version=N] [-field=F] [-format=json] [-mount=M] PATH",
    "a secret (v2: its data and metadata; -version: an older version)",
)
.flags(&["-version=", "-field=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const PUT: CommandInfo = CommandInfo::new(
    "put",
    "kv put [-cas=N] [-field=F] [-format=json] [-mount=M] PATH k=v… (k=@file, k=-, @file.json, -)",
    "write a secret (v2: a new version; -cas=N only if the current version is N)",
)
.flags(&["-cas=", "-field=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const PATCH: CommandInfo = CommandInfo::new(
    "patch",
    "kv patch [-cas=N] [-method=patch|rw] [-remove-data=K] [-field=F] [-format=json] [-mount=M] PATH [k=v…]",
    "change some keys of a v2 secret, keep the others (a new version)",
)
.flags(&[
    "-cas=",
    "-method=",
    "-remove-data=",
    "-field=",
    "-format=",
    "-mount=",
])
.args(&[Arg::KvPath]);
const DELETE: CommandInfo = CommandInfo::new(
    "delete",
    "kv delete [-versions=1,2] [-format=json] [-mount=M] PATH",
    "delete the latest version (v2, undeletable), these versions, or the secret (v1, for good); asks first",
)
.flags(&["-versions=", "-field=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const UNDELETE: CommandInfo = CommandInfo::new(
    "undelete",
    "kv undelete -versions=1,2 [-format=json] [-mount=M] PATH",
    "bring deleted versions of a v2 secret back",
)
.flags(&["-versions=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const DESTROY: CommandInfo = CommandInfo::new(
    "destroy",
    "kv destroy -versions=1,2 [-format=json] [-mount=M] PATH",
    "destroy versions of a v2 secret for good (asks first)",
)
.flags(&["-versions=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const ROLLBACK: CommandInfo = CommandInfo::new(
    "rollback",
    "kv rollback -version=N [-format=json] [-mount=M] PATH",
    "make version N of a v2 secret current again (written as a new version)",
)
.flags(&["-version=", "-format=", "-mount="])
.args(&[Arg::KvPath]);
const LIST: CommandInfo = CommandInfo::new(
    "list",
    "kv list [-format=json] [-mount=M] [PATH]",
    "the keys under a path (folders end with /)",
)
.flags(&["-format=", "-mount="])
.args(&[Arg::KvPath]);
const META_GET: CommandInfo = CommandInfo::new(
    "get",
    "kv metadata get [-format=json] [-mount=M] PATH",
    "a v2 secret's metadata and every version",
)
.flags(&["-format=", "-mount="])
.args(&[Arg::KvPath]);
const META_PUT: CommandInfo = CommandInfo::new(
    "put",
    "kv metadata put [-max-versions=N] [-cas-required] [-delete-version-after=D] [-custom-metadata=k=v…] [-format=json] [-mount=M] PATH",
    "set a v2 secret's metadata (what is not given stays)",
)
.flags(&[
    "-max-versions=",
    "-cas-required",
    "-delete-version-after=",
    "-custom-metadata=",
    "-format=",
    "-mount=",
])
.args(&[Arg::KvPath]);
const META_DELETE: CommandInfo = CommandInfo::new(
    "delete",
    "kv metadata delete [-mount=M] PATH",
    "delete a v2 secret with every version and its metadata, for good (asks first)",
)
.flags(&["-mount="])
.args(&[Arg::KvPath]);

const METADATA: &[CommandInfo] = &[META_GET, META_PUT, META_DELETE];

const SUBCOMMANDS: &[CommandInfo] = &[
    GET,
    PUT,
    PATCH,
    DELETE,
    UNDELETE,
    DESTROY,
    ROLLBACK,
    LIST,
    CommandInfo::new(
        "metadata",
        "kv metadata get|put|delete [flags] PATH",
        "a v2 secret's metadata: its versions, max-versions, custom metadata",
    )
    .subcommands(METADATA),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "kv",
    "kv get|put|patch|delete|undelete|destroy|rollback|list|metadata … PATH",
    "the KV store as `bao kv` (v1 and v2): versions, metadata, undelete, destroy, rollback",
)
.subcommands(SUBCOMMANDS)];

fn bad(info: &CommandInfo, message: impl Into<String>) -> UsageError {
    UsageError::new(info.usage, message)
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Kv> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_kv(rest))
}

fn parse_kv(rest: &[String]) -> Result<Kv, UsageError> {
    let Some((sub, rest)) = rest.split_first() else {
        return Err(bad(&COMMANDS[0], "`kv` needs a subcommand"));
    };
    let (info, rest) = match sub.as_str() {
        "metadata" => {
            let Some((meta, rest)) = rest.split_first() else {
                return Err(bad(
                    &SUBCOMMANDS[8],
                    "`kv metadata` needs get, put or delete",
                ));
            };
            let info = METADATA.iter().find(|c| c.is_called(meta)).ok_or_else(|| {
                bad(
                    &SUBCOMMANDS[8],
                    format!("unknown subcommand `kv metadata {meta}`"),
                )
            })?;
            (info, rest)
        }
        other => {
            let info = SUBCOMMANDS
                .iter()
                .find(|c| c.is_called(other))
                .ok_or_else(|| bad(&COMMANDS[0], format!("unknown subcommand `kv {other}`")))?;
            (info, rest)
        }
    };
    let flags = Flags::parse(info, rest)?;
    let out = flags.output(info)?;
    let mut positional = flags.positional.iter();
    let path_word = positional.next();
    let mount = flags.last("mount").filter(|m| !m.is_empty());
    // As bao: with -mount, the argument is the path inside it.
    let path = match (mount, path_word) {
        (Some(m), Some(p)) => format!("{}/{}", m.trim_end_matches('/'), p.trim_start_matches('/')),
        (Some(m), None) if info.name == "list" => m.to_string(),
        (None, Some(p)) => p.clone(),
        (_, None) => return Err(bad(info, format!("`kv {}` needs a PATH", sub_name(info)))),
    };
    let args: Vec<String> = positional.cloned().collect();
    let no_args = |op: KvOp| {
        if args.is_empty() {
            Ok(op)
        } else {
            Err(bad(
                info,
                format!("`kv {}` takes one PATH (and flags)", sub_name(info)),
            ))
        }
    };
    let versions = || -> Result<Vec<u64>, UsageError> {
        let v = flags.number_list(info, "versions")?;
        if v.contains(&0) {
            return Err(bad(info, "versions start at 1"));
        }
        Ok(v)
    };
    let required_versions = |what: &str| -> Result<Vec<u64>, UsageError> {
        let v = versions()?;
        if v.is_empty() {
            return Err(bad(
                info,
                format!("give the versions to {what} with -versions=1,2"),
            ));
        }
        Ok(v)
    };
    let is_meta = std::ptr::eq(info, &METADATA[0])
        || std::ptr::eq(info, &METADATA[1])
        || std::ptr::eq(info, &METADATA[2]);
    let op = match (is_meta, info.name) {
        (false, "get") => no_args(KvOp::Get {
            version: flags.number(info, "version")?,
        })?,
        (false, "put") => {
            if args.is_empty() {
                return Err(bad(
                    info,
                    "`kv put` needs data: k=v, k=@file, @file.json or -",
                ));
            }
            KvOp::Put {
                cas: flags.number(info, "cas")?,
                args,
            }
        }
        (false, "patch") => {
            let remove: Vec<String> = flags
                .all("remove-data")
                .iter()
                .map(|s| s.to_string())
                .collect();
            if args.is_empty() && remove.is_empty() {
                return Err(bad(info, "`kv patch` needs data: k=v… or -remove-data=KEY"));
            }
            let method = match flags.last("method") {
                None | Some("") => PatchMethod::Auto,
                Some("patch") => PatchMethod::Patch,
                Some("rw") => PatchMethod::ReadWrite,
                Some(other) => {
                    return Err(bad(
                        info,
                        format!("`-method={other}`: the methods are patch and rw"),
                    ))
                }
            };
            KvOp::Patch {
                cas: flags.number(info, "cas")?,
                method,
                remove,
                args,
            }
        }
        (false, "delete") => no_args(KvOp::Delete {
            versions: versions()?,
        })?,
        (false, "undelete") => no_args(KvOp::Undelete {
            versions: required_versions("undelete")?,
        })?,
        (false, "destroy") => no_args(KvOp::Destroy {
            versions: required_versions("destroy")?,
        })?,
        (false, "rollback") => match flags.number(info, "version")? {
            Some(v) if v > 0 => no_args(KvOp::Rollback { version: v })?,
            Some(_) => return Err(bad(info, "versions start at 1")),
            None => {
                return Err(bad(
                    info,
                    "give the version to roll back to with -version=N",
                ))
            }
        },
        (false, "list") => no_args(KvOp::List)?,
        (true, "get") => no_args(KvOp::MetadataGet)?,
        (true, "put") => no_args(KvOp::MetadataPut(MetadataPut {
            max_versions: flags.number(info, "max-versions")?,
            cas_required: flags.switch("cas-required"),
            delete_version_after: flags.last("delete-version-after").map(str::to_string),
            custom: flags.pairs(info, "custom-metadata")?,
        }))?,
        (true, "delete") => no_args(KvOp::MetadataDelete)?,
        _ => return Err(bad(info, "unknown kv subcommand")),
    };
    Ok(Kv { op, path, out })
}

/// `get`, `metadata put`, … as the user names it.
fn sub_name(info: &CommandInfo) -> String {
    if info.usage.starts_with("kv metadata") {
        format!("metadata {}", info.name)
    } else {
        info.name.to_string()
    }
}

/// "version 3", "versions 1,2": the versions named in a question or an answer.
fn versions_text(v: &[u64]) -> String {
    let list = v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    match v.len() {
        1 => format!("version {list}"),
        _ => format!("versions {list}"),
    }
}

impl Kv {
    /// The words that name it (`kv metadata put`), for messages.
    pub fn name(&self) -> &'static str {
        match self.op {
            KvOp::Get { .. } => "kv get",
            KvOp::Put { .. } => "kv put",
            KvOp::Patch { .. } => "kv patch",
            KvOp::Delete { .. } => "kv delete",
            KvOp::Undelete { .. } => "kv undelete",
            KvOp::Destroy { .. } => "kv destroy",
            KvOp::Rollback { .. } => "kv rollback",
            KvOp::List => "kv list",
            KvOp::MetadataGet => "kv metadata get",
            KvOp::MetadataPut(_) => "kv metadata put",
            KvOp::MetadataDelete => "kv metadata delete",
        }
    }

    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        !matches!(self.op, KvOp::Get { .. } | KvOp::List | KvOp::MetadataGet)
    }

    /// Whether it destroys something, and so asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self.op,
            KvOp::Delete { .. } | KvOp::Destroy { .. } | KvOp::MetadataDelete
        )
    }

    /// The `k=v` arguments it sends (for `-`: standard input).
    pub fn args(&self) -> &[String] {
        match &self.op {
            KvOp::Put { args, .. } | KvOp::Patch { args, .. } => args,
            _ => &[],
        }
    }

    /// The question to ask before running it, if it is destructive, on a mount of KV
    /// version 2 (`v2`) or 1. It names the full path (namespace and mount) the request
    /// goes to, and whether anything brings it back.
    fn confirmation(&self, session: &Session, v2: bool) -> Option<String> {
        let full = match session.route(&self.path) {
            Ok(r) => format!("{}{}", r.namespace.header(), r.path),
            // Refused when it runs, before anything is sent.
            Err(_) => self.path.clone(),
        };
        match &self.op {
            KvOp::Delete { .. } if !v2 => Some(format!(
                "Delete {full} for good? Its mount is KV version 1, which keeps no versions: nothing brings it back."
            )),
            KvOp::Delete { versions } if versions.is_empty() => Some(format!(
                "Delete the latest version of {full}? (kv undelete brings it back)"
            )),
            KvOp::Delete { versions } => Some(format!(
                "Delete {} of {full}? (kv undelete brings {} back)",
                versions_text(versions),
                if versions.len() == 1 { "it" } else { "them" }
            )),
            KvOp::Destroy { versions } => Some(format!(
                "Destroy {} of {full} for good? The data cannot be recovered.",
                versions_text(versions)
            )),
            KvOp::MetadataDelete => Some(format!(
                "Delete {full} with every version and its metadata, for good?"
            )),
            _ => None,
        }
    }
}

/// Before the question of a destructive command, what the server would refuse or the
/// question would get wrong, with nothing sent: the path is a secret in a KV mount (the
/// mounts are looked up once), and the mount's version decides what the command does —
/// KV version 1 keeps no versions, so its delete is for good (the question says so), and
/// `-versions`, `destroy` and `metadata delete` are refused there.
pub async fn prepare(session: &mut Session, cmd: &Kv) -> Result<Checked<Kv>, EngineError> {
    if !cmd.is_destructive() {
        return Ok(Checked::run(cmd.clone()));
    }
    let name = cmd.name();
    let t = target(session, &cmd.path, name).await?;
    match &cmd.op {
        KvOp::Delete { versions } if !t.v2() && !versions.is_empty() => {
            return Err(EngineError::Other(format!(
                "{name} -versions: {} is a KV version 1 mount, which keeps no versions: `kv delete {}` (without -versions) deletes the secret for good; nothing was sent",
                t.mount.path, cmd.path
            )));
        }
        KvOp::Destroy { .. } | KvOp::MetadataDelete => t.need_v2(name)?,
        _ => {}
    }
    t.need_secret(name)?;
    Ok(match cmd.confirmation(session, t.v2()) {
        Some(q) => Checked::ask(cmd.clone(), q),
        None => Checked::run(cmd.clone()),
    })
}

/// A KV path resolved: where it goes, and the KV mount it is in.
struct Target {
    at: Located,
    mount: Mount,
}

impl Target {
    fn v2(&self) -> bool {
        self.mount.is_kv2()
    }

    fn ns(&self) -> String {
        self.at.namespace.header()
    }

    /// The full path for people: `ns/mount/rest`.
    fn display(&self) -> String {
        self.at.display()
    }

    /// The API path of the secret: `sub/` after a v2 mount, none on v1.
    fn api(&self, sub: &str) -> String {
        self.at.api_path(sub)
    }

    /// `kv patch` and friends exist on v2 only, as in bao.
    fn need_v2(&self, cmd: &str) -> Result<(), EngineError> {
        if self.v2() {
            return Ok(());
        }
        Err(EngineError::Other(format!(
            "{cmd}: {} is a KV version 1 mount, which keeps no versions or metadata: {cmd} needs KV version 2 (`secrets enable -version=2 kv`, or `secrets tune -options=version=2 {}` to upgrade it)",
            self.mount.path,
            self.mount.path.trim_end_matches('/')
        )))
    }

    /// The path names a secret, not the mount or a folder.
    fn need_secret(&self, cmd: &str) -> Result<(), EngineError> {
        if self.at.rest.is_empty() || self.at.rest.ends_with('/') {
            return Err(EngineError::Other(format!(
                "{cmd}: {} is not a secret (a mount or a folder); `kv list {}` lists its keys",
                self.display(),
                self.display()
            )));
        }
        Ok(())
    }
}

/// Resolve `typed` into a KV mount, or say why it is not in one.
async fn target(session: &Session, typed: &str, cmd: &str) -> Result<Target, EngineError> {
    let at = resolve::locate(session, typed).await?;
    let Some(mount) = at.mount.clone() else {
        return Err(EngineError::Other(format!(
            "{cmd}: {typed} is in no mount: {}",
            resolve::why_no_mount(session.client(), &at, typed).await
        )));
    };
    if mount.kind != "kv" {
        return Err(EngineError::Other(format!(
            "{cmd}: {} is a {} mount, not a KV mount; use `read`/`write` for its API",
            mount.path, mount.kind
        )));
    }
    Ok(Target { at, mount })
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Kv) -> Result<Output, EngineError> {
    let name = cmd.name();
    let t = target(session, &cmd.path, name).await?;
    let out = match &cmd.op {
        KvOp::Get { version } => get(session, &t, *version, cmd.out.field.as_deref()).await?,
        KvOp::Put { cas, args } => put(session, &t, *cas, args, cmd.out.field.as_deref()).await?,
        KvOp::Patch {
            cas,
            method,
            remove,
            args,
        } => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            let mut data = session.kv(args)?;
            for k in remove {
                // A null in a JSON merge patch removes the key.
                data.insert(k.clone(), Value::Null);
            }
            let (body, notes) = patch(session, &t, data, *cas, *method).await?;
            let out = match body {
                Some(b) => written_output(&t, &b, cmd.out.field.as_deref())?,
                None => Output::text(format!("Success! Data written to {}.", t.display())),
            };
            out.with_notes(notes)
        }
        KvOp::Delete { versions } => {
            t.need_secret(name)?;
            let resp = if !t.v2() {
                send(session, &t, Method::Delete, t.api(""), None).await?
            } else if versions.is_empty() {
                send(session, &t, Method::Delete, t.api("data"), None).await?
            } else {
                let body = json!({ "versions": versions });
                send(session, &t, Method::Put, t.api("delete"), Some(body)).await?
            };
            match resp {
                Some(b) if cmd.out.field.is_some() => {
                    let field = cmd.out.field.as_deref().unwrap_or_default();
                    let secret = secret_json(&b);
                    field_output(field, secret_field(&secret, field)).map_err(EngineError::Other)?
                }
                Some(b) => secret_output(&b, View::Empty),
                None => Output::text(match (t.v2(), versions.is_empty()) {
                    (false, _) => format!("Success! Deleted {} (if it existed).", t.display()),
                    (true, true) => format!(
                        "Success! Deleted the latest version of {} (if it existed); `kv undelete` brings it back.",
                        t.display()
                    ),
                    (true, false) => format!(
                        "Success! Deleted {} of {} (if {} existed).",
                        versions_text(versions),
                        t.display(),
                        if versions.len() == 1 { "it" } else { "they" }
                    ),
                }),
            }
        }
        KvOp::Undelete { versions } | KvOp::Destroy { versions } => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            let (sub, done) = if matches!(cmd.op, KvOp::Undelete { .. }) {
                ("undelete", "Undeleted")
            } else {
                ("destroy", "Destroyed")
            };
            let body = json!({ "versions": versions });
            match send(session, &t, Method::Put, t.api(sub), Some(body)).await? {
                Some(b) => secret_output(&b, View::Empty),
                None => Output::text(format!(
                    "Success! {done} {} of {}.",
                    versions_text(versions),
                    t.display()
                )),
            }
        }
        KvOp::Rollback { version } => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            rollback(session, &t, *version).await?
        }
        KvOp::List => list(session, &t).await?,
        KvOp::MetadataGet => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            metadata_get(session, &t).await?
        }
        KvOp::MetadataPut(m) => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            let mut body = Map::new();
            if let Some(n) = m.max_versions {
                body.insert("max_versions".into(), json!(n));
            }
            if let Some(d) = &m.delete_version_after {
                body.insert("delete_version_after".into(), json!(d));
            }
            if let Some(c) = m.cas_required {
                body.insert("cas_required".into(), json!(c));
            }
            if !m.custom.is_empty() {
                let custom: Map<String, Value> = m
                    .custom
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                body.insert("custom_metadata".into(), Value::Object(custom));
            }
            let body = Value::Object(body);
            match send(session, &t, Method::Put, t.api("metadata"), Some(body)).await? {
                Some(b) => secret_output(&b, View::Empty),
                None => Output::text(format!("Success! Metadata of {} written.", t.display())),
            }
        }
        KvOp::MetadataDelete => {
            t.need_v2(name)?;
            t.need_secret(name)?;
            match send(session, &t, Method::Delete, t.api("metadata"), None).await? {
                Some(b) => secret_output(&b, View::Empty),
                None => Output::text(format!(
                    "Success! Deleted {} with every version and its metadata (if it existed).",
                    t.display()
                )),
            }
        }
    };
    if cmd.is_mutating() {
        session.cache().invalidate_paths();
    }
    let mut out = cmd.out.apply(out);
    if let Some(n) = &t.at.note {
        out.notes.insert(0, n.clone());
    }
    Ok(out)
}

/// One request on the target's namespace.
async fn send(
    session: &Session,
    t: &Target,
    method: Method,
    path: String,
    body: Option<Value>,
) -> Result<Option<Value>, VaultError> {
    session
        .client()
        .send(ApiRequest::new(method, &t.ns(), &path).body(body.as_ref()))
        .await
}

/// A read of a secret as bao's `kvReadRequest`: a 404 with data (a deleted v2 version,
/// its metadata) is an answer; a 404 without is "no value".
async fn read(
    session: &Session,
    t: &Target,
    version: Option<u64>,
    cmd: &str,
) -> Result<Value, EngineError> {
    let path = t.api("data");
    let ns = t.ns();
    let mut req = ApiRequest::new(Method::Get, &ns, &path);
    if let Some(v) = version.filter(|_| t.v2()) {
        req = req.query("version", v);
    }
    match session.client().send(req).await {
        Ok(Some(body)) => Ok(body),
        Ok(None) | Err(VaultError::NotFound { .. }) => Err(EngineError::Other(format!(
            "{cmd}: no value found at {}{}",
            t.display(),
            version.map_or(String::new(), |v| format!(" (version {v})"))
        ))),
        Err(e) => Err(e.into()),
    }
}

/// What `bao … -format=json` prints of an answer: the Go client's Secret.
fn secret_json(body: &Value) -> Value {
    api::secret_output(body).json.unwrap_or(Value::Null)
}

/// The Secret as JSON, `view` for people, the server's warnings as notes.
fn secret_output(body: &Value, view: View) -> Output {
    Output {
        json: Some(secret_json(body)),
        view,
        notes: warnings(body),
    }
}

/// KEY/VALUE rows of an object, keys sorted (as bao prints a Go map).
fn rows_of(v: Option<&Value>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = v
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect())
        .unwrap_or_default();
    rows.sort();
    rows
}

fn table(rows: Vec<Vec<String>>) -> View {
    View::Table {
        header: vec!["KEY".into(), "VALUE".into()],
        rows,
    }
}

async fn get(
    session: &Session,
    t: &Target,
    version: Option<u64>,
    field: Option<&str>,
) -> Result<Output, EngineError> {
    t.need_secret("kv get")?;
    let body = read(session, t, version, "kv get").await?;
    let secret = secret_json(&body);
    if let Some(field) = field {
        let value = if t.v2() {
            let data = secret.pointer("/data/data").filter(|d| !d.is_null());
            let Some(data) = data else {
                return Err(EngineError::Other(format!(
                    "kv get: no data at {} (this version was deleted or destroyed)",
                    t.display()
                )));
            };
            // `-field=data` is a key named data when the secret has one, else all of it.
            match (field, data.get("data")) {
                ("data", None) => secret_field(&secret, "data"),
                _ => data.get(field).cloned(),
            }
        } else {
            secret_field(&secret, field)
        };
        return field_output(field, value).map_err(EngineError::Other);
    }
    let view = if t.v2() {
        let meta = secret.pointer("/data/metadata");
        let data = secret.pointer("/data/data").filter(|d| !d.is_null());
        let state = if meta.and_then(|m| m.get("destroyed")) == Some(&json!(true)) {
            "(destroyed)"
        } else {
            "(deleted: `kv undelete` brings it back)"
        };
        View::Sections(vec![
            ("Metadata".into(), table(rows_of(meta))),
            (
                "Data".into(),
                match data {
                    Some(d) => table(rows_of(Some(d))),
                    None => View::Text(state.into()),
                },
            ),
        ])
    } else {
        table(rows_of(secret.get("data")))
    };
    Ok(secret_output(&body, view))
}

/// The answer to a v2 write: the new version's metadata.
fn written_output(t: &Target, body: &Value, field: Option<&str>) -> Result<Output, EngineError> {
    let secret = secret_json(body);
    if let Some(field) = field {
        return field_output(field, secret_field(&secret, field)).map_err(EngineError::Other);
    }
    let view = View::Sections(vec![
        ("Secret Path".into(), View::Text(t.display())),
        ("Metadata".into(), table(rows_of(secret.get("data")))),
    ]);
    Ok(secret_output(body, view))
}

async fn put(
    session: &Session,
    t: &Target,
    cas: Option<u64>,
    args: &[String],
    field: Option<&str>,
) -> Result<Output, EngineError> {
    t.need_secret("kv put")?;
    let data = Value::Object(session.kv(args)?);
    let (path, body) = if t.v2() {
        let mut options = Map::new();
        if let Some(c) = cas {
            options.insert("cas".into(), json!(c));
        }
        (
            t.api("data"),
            json!({ "data": data, "options": Value::Object(options) }),
        )
    } else {
        (t.api(""), data)
    };
    match send(session, t, Method::Put, path, Some(body)).await? {
        Some(b) => written_output(t, &b, field),
        None => Ok(Output::text(format!(
            "Success! Data written to {}.",
            t.display()
        ))),
    }
}

/// `kv patch`: an HTTP PATCH, falling back (bao's default) to read-then-write when the
/// server has no PATCH (405) or the policy grants no `patch` (403, with a warning).
async fn patch(
    session: &Session,
    t: &Target,
    data: Map<String, Value>,
    cas: Option<u64>,
    method: PatchMethod,
) -> Result<(Option<Value>, Vec<String>), EngineError> {
    if method == PatchMethod::ReadWrite {
        return Ok((read_then_write(session, t, data).await?, Vec::new()));
    }
    let mut options = Map::new();
    if let Some(c) = cas.filter(|c| *c > 0) {
        options.insert("cas".into(), json!(c));
    }
    let body = json!({ "data": Value::Object(data.clone()), "options": Value::Object(options) });
    let fallback = method == PatchMethod::Auto;
    match send(session, t, Method::Patch, t.api("data"), Some(body)).await {
        Ok(b) => Ok((b, Vec::new())),
        Err(VaultError::Status { status: 405, .. }) if fallback => {
            Ok((read_then_write(session, t, data).await?, Vec::new()))
        }
        Err(VaultError::PermissionDenied { .. }) if fallback => {
            let written = read_then_write(session, t, data).await?;
            Ok((
                written,
                vec![format!(
                    "warning: the policy grants no \"patch\" on {}, so it was read and written whole (add \"patch\" to use HTTP PATCH)",
                    t.api("data")
                )],
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The current data and version of a v2 secret.
fn current(
    body: &Value,
    t: &Target,
    cmd: &str,
) -> Result<(Map<String, Value>, Value), EngineError> {
    let meta = body
        .pointer("/data/metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            EngineError::Other(format!(
                "{cmd}: no metadata at {}; it works on existing data",
                t.display()
            ))
        })?;
    let data = body
        .pointer("/data/data")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| {
            EngineError::Other(format!(
                "{cmd}: no data at {} (its latest version is deleted or destroyed); it works on existing data",
                t.display()
            ))
        })?;
    Ok((data, meta.get("version").cloned().unwrap_or(Value::Null)))
}

async fn read_then_write(
    session: &Session,
    t: &Target,
    new: Map<String, Value>,
) -> Result<Option<Value>, EngineError> {
    let body = read(session, t, None, "kv patch").await?;
    let (mut data, version) = current(&body, t, "kv patch")?;
    for (k, v) in new {
        if v.is_null() {
            data.remove(&k);
        } else {
            data.insert(k, v);
        }
    }
    let body = json!({ "data": Value::Object(data), "options": { "cas": version } });
    Ok(send(session, t, Method::Put, t.api("data"), Some(body)).await?)
}

/// `kv rollback`: version N's data written as a new version, checked against the
/// current version so a write in between is not lost.
async fn rollback(session: &Session, t: &Target, version: u64) -> Result<Output, EngineError> {
    let latest = read(session, t, None, "kv rollback").await?;
    let cas = latest
        .pointer("/data/metadata/version")
        .cloned()
        .ok_or_else(|| {
            EngineError::Other(format!(
                "kv rollback: no metadata at {}; it works on existing data",
                t.display()
            ))
        })?;
    let old = read(session, t, Some(version), "kv rollback").await?;
    let meta = old.pointer("/data/metadata");
    if meta
        .and_then(|m| m.get("deletion_time"))
        .and_then(Value::as_str)
        .is_some_and(|d| !d.is_empty())
    {
        return Err(EngineError::Other(format!(
            "kv rollback: version {version} of {} is deleted: `kv undelete -versions={version}` first",
            t.display()
        )));
    }
    if meta.and_then(|m| m.get("destroyed")) == Some(&json!(true)) {
        return Err(EngineError::Other(format!(
            "kv rollback: version {version} of {} was destroyed: it cannot be rolled back to",
            t.display()
        )));
    }
    let (data, _) = current(&old, t, "kv rollback")?;
    let body = json!({ "data": Value::Object(data), "options": { "cas": cas } });
    match send(session, t, Method::Put, t.api("data"), Some(body)).await? {
        Some(b) => written_output(t, &b, None),
        None => Ok(Output::text(format!(
            "Success! {} rolled back to version {version}.",
            t.display()
        ))),
    }
}

async fn list(session: &Session, t: &Target) -> Result<Output, EngineError> {
    let path = t.api("metadata");
    let ns = t.ns();
    let req = ApiRequest::new(Method::List, &ns, &path);
    let info = req.info();
    let none = || EngineError::Other(format!("kv list: no keys under {}", t.display()));
    let body = match session.client().send(req).await {
        Ok(Some(b)) => b,
        Ok(None) | Err(VaultError::NotFound { .. }) => return Err(none()),
        Err(e) => return Err(e.into()),
    };
    let keys = crate::vault::body::list_keys(Some(&body), &info)?;
    Ok(Output::names(keys))
}

async fn metadata_get(session: &Session, t: &Target) -> Result<Output, EngineError> {
    let body = match send(session, t, Method::Get, t.api("metadata"), None).await {
        Ok(Some(b)) => b,
        Ok(None) | Err(VaultError::NotFound { .. }) => {
            return Err(EngineError::Other(format!(
                "kv metadata get: no value found at {}",
                t.display()
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let secret = secret_json(&body);
    let data = secret.get("data");
    let mut sections = vec![(
        "Metadata".to_string(),
        table(
            rows_of(data)
                .into_iter()
                .filter(|r| r[0] != "versions")
                .collect(),
        ),
    )];
    if let Some(versions) = data
        .and_then(|d| d.get("versions"))
        .and_then(Value::as_object)
    {
        let mut numbered: Vec<(u64, &Value)> = versions
            .iter()
            .filter_map(|(k, v)| k.parse::<u64>().ok().map(|n| (n, v)))
            .collect();
        numbered.sort_by_key(|(n, _)| *n);
        sections.extend(
            numbered
                .into_iter()
                .map(|(n, v)| (format!("Version {n}"), table(rows_of(Some(v))))),
        );
    }
    Ok(secret_output(&body, View::Sections(sections)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Kv, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_every_subcommand() {
        assert_eq!(
            p("kv get -version=2 -field=pw secret/app"),
            Ok(Kv {
                op: KvOp::Get { version: Some(2) },
                path: "secret/app".into(),
                out: OutputFlags {
                    field: Some("pw".into()),
                    json: false
                },
            })
        );
        assert_eq!(
            p("kv put -mount=payments/secret db user=a pw=@f").map(|k| (k.path, k.op)),
            Ok((
                "payments/secret/db".into(),
                KvOp::Put {
                    cas: None,
                    args: vec!["user=a".into(), "pw=@f".into()]
                }
            ))
        );
        assert_eq!(
            p("kv patch -remove-data=old -method=rw s/a").map(|k| k.op),
            Ok(KvOp::Patch {
                cas: None,
                method: PatchMethod::ReadWrite,
                remove: vec!["old".into()],
                args: vec![]
            })
        );
        assert_eq!(
            p("kv delete -versions=1,2 -versions 3 s/a").map(|k| k.op),
            Ok(KvOp::Delete {
                versions: vec![1, 2, 3]
            })
        );
        assert_eq!(
            p("kv rollback -version 1 s/a").map(|k| k.op),
            Ok(KvOp::Rollback { version: 1 })
        );
        assert_eq!(
            p("kv list -mount=secret").map(|k| k.path),
            Ok("secret".into())
        );
        assert_eq!(
            p("kv metadata put -max-versions=3 -cas-required -custom-metadata=owner=me s/a")
                .map(|k| k.op),
            Ok(KvOp::MetadataPut(MetadataPut {
                max_versions: Some(3),
                cas_required: Some(true),
                delete_version_after: None,
                custom: vec![("owner".into(), "me".into())],
            }))
        );
        assert_eq!(
            p("kv metadata delete s/a").map(|k| k.op),
            Ok(KvOp::MetadataDelete)
        );
        assert_eq!(
            p("kv metadata get s/a").map(|k| k.op),
            Ok(KvOp::MetadataGet)
        );
    }

    #[test]
    fn refuses_what_bao_refuses_before_sending() {
        for (line, says) in [
            ("kv", "needs a subcommand"),
            ("kv frob x", "unknown subcommand"),
            ("kv get", "needs a PATH"),
            ("kv put s/a", "needs data"),
            ("kv patch s/a", "needs data"),
            ("kv undelete s/a", "-versions="),
            ("kv destroy s/a", "-versions="),
            ("kv rollback s/a", "-version=N"),
            ("kv rollback -version=0 s/a", "start at 1"),
            ("kv delete -versions=0 s/a", "start at 1"),
            ("kv get -version=x s/a", "whole number"),
            ("kv get s/a extra", "takes one PATH"),
            ("kv get -cas=1 s/a", "unknown flag"),
            ("kv patch -method=frob s/a k=v", "patch and rw"),
            ("kv metadata", "get, put or delete"),
            ("kv metadata frob s/a", "unknown subcommand"),
            ("kv metadata put -custom-metadata=x s/a", "key=value"),
            ("kv get -format=yaml s/a", "json and table"),
        ] {
            let e = p(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn classifies_mutating_and_destructive() {
        for (line, mutating, destructive) in [
            ("kv get s/a", false, false),
            ("kv list s", false, false),
            ("kv metadata get s/a", false, false),
            ("kv put s/a k=v", true, false),
            ("kv patch s/a k=v", true, false),
            ("kv rollback -version=1 s/a", true, false),
            ("kv undelete -versions=1 s/a", true, false),
            ("kv metadata put s/a", true, false),
            ("kv delete s/a", true, true),
            ("kv destroy -versions=1 s/a", true, true),
            ("kv metadata delete s/a", true, true),
        ] {
            let k = p(line).unwrap();
            assert_eq!(k.is_mutating(), mutating, "{line}");
            assert_eq!(k.is_destructive(), destructive, "{line}");
        }
    }
}
