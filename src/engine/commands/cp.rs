//! Copying and moving KV secrets between any two namespaces the token reaches: `cp` and
//! `mv`, KV v1 or v2 on either side (paths as `cat` takes them, found by
//! [`resolve::locate`]).
//!
//! Plan, then act. Everything is read first (the source keys, and whether each
//! destination exists); an existing destination is never overwritten without `-f`, and
//! then nothing at all is written. Writes go one key at a time: Ctrl-C stops after the key
//! in flight, and the report says what was written. `mv` deletes a source key only once
//! its copy reads back the same. Values are held in memory only: the report, the action
//! log and the history name paths, never a value.

use futures::StreamExt;
use serde_json::{json, Map, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{Output, View};
use crate::engine::resolve::{self, Located};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::vault::{body, ApiRequest, Client, Method, VaultError};

/// How many keys `-r` copies at most: past it, copy a smaller folder.
pub const MAX_KEYS: usize = 10_000;

/// How many reads are in flight at once while planning.
const READ_CONCURRENCY: usize = 16;

/// Copy or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `cp`: the source stays.
    Copy,
    /// `mv`: the source is deleted once its copy reads back the same.
    Move,
}

/// `cp [-r] [-n] [-f] SRC DST` or `mv …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cp {
    /// Copy or move.
    pub op: Op,
    /// SRC is a folder: everything below it.
    pub recursive: bool,
    /// Only say what would be written.
    pub dry_run: bool,
    /// Overwrite keys that exist at the destination.
    pub force: bool,
    /// The source, as `cat` takes it.
    pub src: String,
    /// The destination, as `cat` takes it.
    pub dst: String,
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "cp",
        "cp [-r] [-n] [-f] SRC DST",
        "copy KV secrets to any namespace (v1 or v2 either side; -r a folder, -n dry run, -f overwrite)",
    )
    .flags(&["-r", "-n", "-f"])
    .args(&[Arg::KvPath, Arg::KvPath]),
    CommandInfo::new(
        "mv",
        "mv [-r] [-n] [-f] SRC DST",
        "move KV secrets: copy, read the copy back, then delete the source (asks first)",
    )
    .flags(&["-r", "-n", "-f"])
    .args(&[Arg::KvPath, Arg::KvPath]),
];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Cp> {
    let (op, usage) = match name {
        "cp" => (Op::Copy, COMMANDS[0].usage),
        "mv" => (Op::Move, COMMANDS[1].usage),
        _ => return None,
    };
    Some(parse_cp(name, op, usage, rest))
}

fn parse_cp(name: &str, op: Op, usage: &str, rest: &[String]) -> Result<Cp, UsageError> {
    let mut cmd = Cp {
        op,
        recursive: false,
        dry_run: false,
        force: false,
        src: String::new(),
        dst: String::new(),
    };
    let mut paths = Vec::new();
    let mut flags_done = false;
    for w in rest {
        match w.as_str() {
            "--" if !flags_done => flags_done = true,
            "--recursive" if !flags_done => cmd.recursive = true,
            "--dry-run" if !flags_done => cmd.dry_run = true,
            "--force" if !flags_done => cmd.force = true,
            f if !flags_done && f.len() > 1 && f.starts_with('-') && !f.starts_with("--") => {
                // Short flags combine: `-rf`, `-rn`.
                for c in f[1..].chars() {
                    match c {
                        'r' | 'R' => cmd.recursive = true,
                        'n' => cmd.dry_run = true,
                        'f' => cmd.force = true,
                        other => {
                            return Err(UsageError::new(
                                usage,
                                format!("`{name}` has no flag -{other}"),
                            ))
                        }
                    }
                }
            }
            f if !flags_done && f.starts_with("--") => {
                return Err(UsageError::new(usage, format!("`{name}` has no flag {f}")))
            }
            _ => paths.push(w.clone()),
        }
    }
    match <[String; 2]>::try_from(paths) {
        Ok([src, dst]) => {
            cmd.src = src;
            cmd.dst = dst;
            Ok(cmd)
        }
        Err(_) => Err(UsageError::new(
            usage,
            format!("`{name}` needs a SRC and a DST"),
        )),
    }
}

impl Cp {
    /// Whether it writes (a dry run does not).
    pub fn is_mutating(&self) -> bool {
        !self.dry_run
    }

    /// Whether it may destroy something (overwrite, or delete the source), and so asks first.
    pub fn is_destructive(&self) -> bool {
        !self.dry_run && (self.force || self.op == Op::Move)
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        if !self.is_destructive() {
            return None;
        }
        let overwrite = if self.force {
            ", overwriting the keys that exist there"
        } else {
            ""
        };
        let what = if self.recursive {
            "everything below "
        } else {
            ""
        };
        Some(match self.op {
            Op::Copy => format!(
                "Copy {what}{} to {}{overwrite} (from namespace {})?",
                self.src,
                self.dst,
                session.cwd()
            ),
            Op::Move => format!(
                "Move {what}{} to {}{overwrite} (from namespace {})? Each source key is deleted once its copy reads back the same (in KV v2 with all its versions).",
                self.src,
                self.dst,
                session.cwd()
            ),
        })
    }

    fn name(&self) -> &'static str {
        match self.op {
            Op::Copy => "cp",
            Op::Move => "mv",
        }
    }
}

/// One side of a copy: a KV mount in a namespace, and the path typed into it.
#[derive(Debug, Clone)]
pub struct Side {
    /// The namespace of the mount.
    pub namespace: NsPath,
    /// The mount's path (`secret/`).
    pub mount: String,
    /// Whether it is KV v2.
    pub v2: bool,
    /// The path inside the mount, as typed (`app/db`, `app/`, `""`).
    pub rest: String,
}

impl Side {
    /// The KV side `at` names, or why it is not one.
    pub async fn of(
        client: &Client,
        at: Located,
        typed: &str,
        which: &str,
        name: &str,
    ) -> Result<Side, EngineError> {
        let Some(mount) = at.mount else {
            return Err(EngineError::Other(format!(
                "{name}: the {which} {typed} is in no mount: {}",
                resolve::why_no_mount(client, &at, typed).await
            )));
        };
        if mount.kind != "kv" {
            return Err(EngineError::Other(format!(
                "{name}: the {which} {typed} is in {}, a {} mount, not a KV mount",
                mount.path, mount.kind
            )));
        }
        Ok(Side {
            namespace: at.namespace,
            v2: mount.is_kv2(),
            mount: mount.path,
            rest: at.rest,
        })
    }

    /// Whether the typed path is a folder (or the mount itself).
    pub fn is_folder(&self) -> bool {
        self.rest.is_empty() || self.rest.ends_with('/')
    }

    /// The typed path as a folder prefix: `""` for the mount, else `x/`.
    pub fn folder(&self) -> String {
        let f = self.rest.trim_matches('/');
        if f.is_empty() {
            String::new()
        } else {
            format!("{f}/")
        }
    }

    /// The API path of `key`'s data.
    pub fn data_path(&self, key: &str) -> String {
        self.sub_path(if self.v2 { "data/" } else { "" }, key)
    }

    /// The API path that lists `folder` (`x/`).
    pub fn list_path(&self, folder: &str) -> String {
        self.sub_path(if self.v2 { "metadata/" } else { "" }, folder)
    }

    /// The API path of `key`'s metadata (KV v2).
    pub fn metadata_path(&self, key: &str) -> String {
        self.sub_path("metadata/", key)
    }

    fn sub_path(&self, sub: &str, key: &str) -> String {
        format!("{}{sub}{key}", self.mount)
    }

    /// `key` for people: `ns/mount/key` from the root.
    pub fn display(&self, key: &str) -> String {
        format!("{}{}{key}", self.namespace.header(), self.mount)
    }

    fn same_mount(&self, other: &Side) -> bool {
        self.namespace == other.namespace && self.mount == other.mount
    }
}

/// A secret as read from a KV mount.
#[derive(Debug, Clone, PartialEq)]
pub enum Secret {
    /// Its current data, and (KV v2) its custom metadata.
    Data {
        /// The key/value pairs.
        data: Map<String, Value>,
        /// KV v2's custom metadata (empty for v1).
        custom: Map<String, Value>,
    },
    /// KV v2: its current version is deleted or destroyed.
    Deleted,
    /// Nothing there.
    Missing,
}

/// Read `key` of `side`: its data, and in KV v2 its custom metadata (the data's answer
/// carries it).
pub async fn read_secret(client: &Client, side: &Side, key: &str) -> Result<Secret, VaultError> {
    let (ns, path) = (side.namespace.header(), side.data_path(key));
    // No `version`: the current one.
    let req = ApiRequest::new(Method::Get, &ns, &path);
    let info = req.info();
    let answer = match client.send(req).await {
        Ok(a) => a,
        Err(VaultError::NotFound { .. }) => return Ok(Secret::Missing),
        Err(e) => return Err(e),
    };
    let data = body::data_object(answer, &info)?;
    if !side.v2 {
        return Ok(Secret::Data {
            data,
            custom: Map::new(),
        });
    }
    let custom = match data.get("metadata").and_then(|m| m.get("custom_metadata")) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    match data.get("data") {
        Some(Value::Object(d)) => Ok(Secret::Data {
            data: d.clone(),
            custom,
        }),
        // A deleted or destroyed current version: the answer has metadata, data null.
        Some(Value::Null) | None => Ok(Secret::Deleted),
        Some(_) => Err(VaultError::BadShape {
            req: info,
            what: "data.data is not an object".into(),
        }),
    }
}

/// Every key below `folder` of `side` (relative to it), listed level by level.
pub async fn list_below(
    client: &Client,
    side: &Side,
    folder: &str,
    max: usize,
) -> Result<Vec<String>, EngineError> {
    let ns = side.namespace.header();
    let mut keys = Vec::new();
    let mut level = vec![String::new()];
    while !level.is_empty() {
        let listed: Vec<(String, Result<Vec<String>, VaultError>)> =
            futures::stream::iter(level.drain(..).map(|sub| {
                let path = side.list_path(&format!("{folder}{sub}"));
                let ns = ns.clone();
                async move {
                    let r = client.list_keys(&ns, &path).await;
                    (sub, r)
                }
            }))
            .buffered(READ_CONCURRENCY)
            .collect()
            .await;
        for (sub, r) in listed {
            for k in r? {
                if k.ends_with('/') {
                    level.push(format!("{sub}{k}"));
                } else {
                    keys.push(format!("{sub}{k}"));
                }
            }
        }
        if keys.len() > max {
            return Err(EngineError::Other(format!(
                "{} holds more than {max} keys: copy a smaller folder",
                side.display(folder)
            )));
        }
    }
    keys.sort();
    Ok(keys)
}

/// Write `data` as `key` of `side`; in KV v2 with `cas=0` when `new_only` (the server
/// refuses if the key appeared meanwhile).
pub async fn write_secret(
    client: &Client,
    side: &Side,
    key: &str,
    data: &Map<String, Value>,
    new_only: bool,
) -> Result<(), VaultError> {
    let ns = side.namespace.header();
    let body = if side.v2 {
        let mut b = json!({ "data": data });
        if new_only {
            b["options"] = json!({ "cas": 0 });
        }
        b
    } else {
        Value::Object(data.clone())
    };
    let method = if side.v2 { Method::Post } else { Method::Put };
    client
        .request(method, &ns, &side.data_path(key), Some(&body))
        .await
        .map(|_| ())
}

/// Set the custom metadata of `key` of a KV v2 `side` (an empty map clears it).
pub async fn write_custom(
    client: &Client,
    side: &Side,
    key: &str,
    custom: &Map<String, Value>,
) -> Result<(), VaultError> {
    let body = json!({ "custom_metadata": custom });
    client
        .request(
            Method::Post,
            &side.namespace.header(),
            &side.metadata_path(key),
            Some(&body),
        )
        .await
        .map(|_| ())
}

/// Delete `key` of `side` entirely (KV v2: its metadata, so every version).
pub async fn delete_secret(client: &Client, side: &Side, key: &str) -> Result<(), VaultError> {
    let path = if side.v2 {
        side.metadata_path(key)
    } else {
        side.data_path(key)
    };
    client
        .request(Method::Delete, &side.namespace.header(), &path, None)
        .await
        .map(|_| ())
}

/// What is at a destination before anything is written.
#[derive(Debug, Clone, PartialEq)]
enum Dest {
    /// Nothing.
    New,
    /// A secret (in KV v2, maybe only deleted versions).
    Exists,
    /// The token may not read it, so vnsh cannot tell.
    Unknown,
}

/// One key of the plan.
#[derive(Debug, Clone)]
struct Item {
    from: String,
    to: String,
    secret: Secret,
    dest: Dest,
}

/// What happened to one key, for the report.
#[derive(Debug, Clone)]
struct Row {
    from: String,
    to: String,
    result: String,
}

async fn dest_state(client: &Client, side: &Side, key: &str) -> Result<Dest, VaultError> {
    match read_secret(client, side, key).await {
        Ok(Secret::Missing) => Ok(Dest::New),
        Ok(_) => Ok(Dest::Exists),
        Err(VaultError::PermissionDenied { .. }) => Ok(Dest::Unknown),
        Err(e) => Err(e),
    }
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// Run `cp` or `mv`.
pub async fn run(session: &Session, cmd: &Cp) -> Result<Output, EngineError> {
    let name = cmd.name();
    let (src, dst) = tokio::join!(
        resolve::locate(session, &cmd.src),
        resolve::locate(session, &cmd.dst)
    );
    let src = Side::of(session.client(), src?, &cmd.src, "source", name).await?;
    let dst = Side::of(session.client(), dst?, &cmd.dst, "destination", name).await?;
    let client = session.client();
    // Which keys go where.
    let pairs: Vec<(String, String)> = if cmd.recursive {
        let from = src.folder();
        let to = dst.folder();
        if src.same_mount(&dst) && (from.starts_with(&to) || to.starts_with(&from)) {
            return Err(EngineError::Other(format!(
                "{name}: {} and {} overlap: copy a folder to a place outside it",
                src.display(&from),
                dst.display(&to)
            )));
        }
        let keys = list_below(client, &src, &from, MAX_KEYS).await?;
        if keys.is_empty() {
            return Err(EngineError::Other(format!(
                "{name}: there is nothing below {} (no keys listed)",
                src.display(&from)
            )));
        }
        keys.into_iter()
            .map(|k| (format!("{from}{k}"), format!("{to}{k}")))
            .collect()
    } else {
        if src.is_folder() {
            return Err(EngineError::Other(format!(
                "{name}: {} is a folder (or a mount): `{name} -r` copies everything below it",
                cmd.src
            )));
        }
        let to = if dst.is_folder() {
            format!("{}{}", dst.folder(), basename(&src.rest))
        } else {
            dst.rest.clone()
        };
        if src.same_mount(&dst) && src.rest == to {
            return Err(EngineError::Other(format!(
                "{name}: {} is the source itself",
                dst.display(&to)
            )));
        }
        vec![(src.rest.clone(), to)]
    };
    let items = plan(session, &src, &dst, pairs, name).await?;
    if !cmd.recursive {
        if let Some(Item {
            secret: Secret::Missing,
            from,
            ..
        }) = items.first()
        {
            return Err(EngineError::Other(format!(
                "{name}: there is no secret at {} (`ls` lists what is there)",
                src.display(from)
            )));
        }
    }
    let blocked = items
        .iter()
        .filter(|i| matches!(i.secret, Secret::Data { .. }) && i.dest != Dest::New)
        .count();
    if cmd.dry_run {
        return Ok(dry_run_output(cmd, &src, &dst, &items, blocked));
    }
    if blocked > 0 && !cmd.force {
        let rows = items
            .iter()
            .map(|i| Row {
                from: src.display(&i.from),
                to: dst.display(&i.to),
                result: match (&i.secret, &i.dest) {
                    (Secret::Data { .. }, Dest::Exists) => "exists: not overwritten".into(),
                    (Secret::Data { .. }, Dest::Unknown) => {
                        "may exist (the token may not read it): not written".into()
                    }
                    _ => "not written".into(),
                },
            })
            .collect::<Vec<_>>();
        let out = report(cmd, &src, &dst, &rows, 0);
        return Err(EngineError::failed(
            format!(
                "{name}: {blocked} of the {} destination keys exist (or cannot be read to tell); nothing was written: -f overwrites them",
                items.len()
            ),
            out,
        ));
    }
    act(session, cmd, &src, &dst, items).await
}

/// Read every source key and look at every destination, a few at a time.
async fn plan(
    session: &Session,
    src: &Side,
    dst: &Side,
    pairs: Vec<(String, String)>,
    name: &str,
) -> Result<Vec<Item>, EngineError> {
    let client = session.client();
    let mut meter = session.meter(name, "keys read", pairs.len());
    let mut reads = futures::stream::iter(pairs.into_iter().map(|(from, to)| async move {
        let (secret, dest) = tokio::join!(
            read_secret(client, src, &from),
            dest_state(client, dst, &to)
        );
        (from, to, secret, dest)
    }))
    .buffered(READ_CONCURRENCY);
    let mut items = Vec::new();
    while let Some((from, to, secret, dest)) = reads.next().await {
        items.push(Item {
            secret: secret?,
            dest: dest?,
            from,
            to,
        });
        meter.tick(items.len());
    }
    Ok(items)
}

fn dry_run_output(cmd: &Cp, src: &Side, dst: &Side, items: &[Item], blocked: usize) -> Output {
    let deletes = cmd.op == Op::Move;
    let rows: Vec<Row> = items
        .iter()
        .map(|i| {
            let result = match (&i.secret, &i.dest) {
                (Secret::Deleted, _) => "skipped: its current version is deleted".to_string(),
                (Secret::Missing, _) => "skipped: gone since it was listed".to_string(),
                (_, Dest::New) => "would be written".to_string(),
                (_, Dest::Exists) if cmd.force => "would be overwritten".to_string(),
                (_, Dest::Unknown) if cmd.force => {
                    "would be written (the token may not read what is there)".to_string()
                }
                (_, Dest::Exists) => "exists: needs -f".to_string(),
                (_, Dest::Unknown) => "may exist (the token may not read it): needs -f".to_string(),
            };
            let result = if deletes && matches!(i.secret, Secret::Data { .. }) {
                format!("{result}; source deleted after")
            } else {
                result
            };
            Row {
                from: src.display(&i.from),
                to: dst.display(&i.to),
                result,
            }
        })
        .collect();
    let mut out = report(cmd, src, dst, &rows, 0);
    out.notes.push(format!(
        "note: dry run: nothing was written ({} keys)",
        items.len()
    ));
    if blocked > 0 && !cmd.force {
        out.notes.push(format!(
            "note: {blocked} destination keys exist (or cannot be read): without -f, `{}` writes nothing",
            cmd.name()
        ));
    }
    out
}

/// Write the plan, one key at a time; stop at the first failure, or after the key in
/// flight when interrupted.
async fn act(
    session: &Session,
    cmd: &Cp,
    src: &Side,
    dst: &Side,
    items: Vec<Item>,
) -> Result<Output, EngineError> {
    let name = cmd.name();
    let client = session.client();
    let interrupt = session.interrupt().clone();
    let _listening = interrupt.listen();
    let mut meter = session.meter(name, "keys written", items.len());
    let mut rows = Vec::with_capacity(items.len());
    let mut written = 0;
    let mut failure: Option<String> = None;
    let total = items.len();
    for (n, item) in items.into_iter().enumerate() {
        let (from, to) = (src.display(&item.from), dst.display(&item.to));
        let row = |result: String| Row {
            from: from.clone(),
            to: to.clone(),
            result,
        };
        if failure.is_some() {
            rows.push(row("not done".into()));
            continue;
        }
        if interrupt.is_tripped() {
            failure = Some(format!(
                "{name}: interrupted (Ctrl-C) after {written} of {total} keys; the rest were not written"
            ));
            rows.push(row("not done (interrupted)".into()));
            continue;
        }
        let Item {
            from: key_from,
            to: key_to,
            secret,
            dest,
        } = item;
        let (data, custom) = match secret {
            Secret::Data { data, custom } => (data, custom),
            Secret::Deleted => {
                rows.push(row("skipped: its current version is deleted".into()));
                continue;
            }
            Secret::Missing => {
                rows.push(row("skipped: gone since it was listed".into()));
                continue;
            }
        };
        let existed = dest != Dest::New;
        let keys = (key_from.as_str(), key_to.as_str());
        match copy_one(client, cmd, (src, dst), keys, &data, &custom, existed).await {
            Ok(result) => {
                written += 1;
                rows.push(row(result));
            }
            Err((result, why)) => {
                if result.starts_with("written") {
                    written += 1;
                }
                rows.push(row(result));
                failure = Some(format!("{name}: {to}: {why}"));
            }
        }
        meter.tick(n + 1);
    }
    drop(meter);
    if written > 0 {
        session.cache().invalidate_paths();
    }
    let out = report(cmd, src, dst, &rows, written);
    match failure {
        Some(summary) => Err(EngineError::failed(summary, out)),
        None => Ok(out),
    }
}

/// Copy one key (and, for `mv`, delete its source once the copy reads back the same).
/// Ok: what was done; Err: what was done and why it stopped there.
async fn copy_one(
    client: &Client,
    cmd: &Cp,
    (src, dst): (&Side, &Side),
    (from, to): (&str, &str),
    data: &Map<String, Value>,
    custom: &Map<String, Value>,
    existed: bool,
) -> Result<String, (String, String)> {
    let new_only = !cmd.force;
    if let Err(e) = write_secret(client, dst, to, data, new_only).await {
        let why = match &e {
            VaultError::Status {
                status: 400,
                messages,
                ..
            } if messages.iter().any(|m| m.contains("check-and-set")) => {
                "it was created meanwhile: not overwritten (-f overwrites)".to_string()
            }
            _ => e.to_string(),
        };
        return Err(("failed: not written".into(), why));
    }
    let written = if existed { "overwritten" } else { "written" };
    // Between two v2 mounts the custom metadata goes too (an overwrite makes it equal).
    let metadata = src.v2 && dst.v2 && (!custom.is_empty() || existed);
    if metadata {
        if let Err(e) = write_custom(client, dst, to, custom).await {
            return Err((
                format!("{written}, without its custom metadata"),
                format!("custom metadata: {e}"),
            ));
        }
    }
    if cmd.op == Op::Copy {
        return Ok(written.to_string());
    }
    let source_kept = |why: String| (format!("{written}; the source is kept"), why);
    match read_secret(client, dst, to).await {
        Ok(Secret::Data {
            data: back,
            custom: back_custom,
        }) if back == *data && (!metadata || back_custom == *custom) => {}
        Ok(_) => {
            return Err(source_kept(
                "the copy does not read back the same: the source was not deleted".into(),
            ))
        }
        Err(e) => {
            return Err(source_kept(format!(
                "the copy could not be read back, so the source was not deleted: {e}"
            )))
        }
    }
    match delete_secret(client, src, from).await {
        Ok(()) => Ok(format!("moved ({written})")),
        Err(e) => Err(source_kept(format!("the source could not be deleted: {e}"))),
    }
}

/// The report: a row per key (never a value) and, in JSON, the same with counts.
fn report(cmd: &Cp, src: &Side, dst: &Side, rows: &[Row], written: usize) -> Output {
    let keys: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "from": r.from, "to": r.to, "result": r.result }))
        .collect();
    let json = json!({
        "operation": cmd.name(),
        "from": src.display(&src.rest),
        "to": dst.display(&dst.rest),
        "dry_run": cmd.dry_run,
        "written": written,
        "keys": keys,
    });
    let mut out = Output {
        json: Some(json),
        view: View::Table {
            header: vec!["FROM".into(), "TO".into(), "RESULT".into()],
            rows: rows
                .iter()
                .map(|r| vec![r.from.clone(), r.to.clone(), r.result.clone()])
                .collect(),
        },
        notes: vec![],
    };
    if !cmd.dry_run {
        out.notes
            .push(format!("note: {written} of {} keys written", rows.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_flags_combined_or_apart() {
        let c = parse("cp", &w("-rf a b")).unwrap().unwrap();
        assert!(c.recursive && c.force && !c.dry_run);
        assert_eq!((c.src.as_str(), c.dst.as_str()), ("a", "b"));
        let c = parse("mv", &w("a -n b")).unwrap().unwrap();
        assert!(c.dry_run && c.op == Op::Move);
        let c = parse("cp", &w("-- -odd b")).unwrap().unwrap();
        assert_eq!(c.src, "-odd");
        assert!(parse("cp", &w("a")).unwrap().is_err());
        assert!(parse("cp", &w("a b c")).unwrap().is_err());
        assert!(parse("cp", &w("-x a b")).unwrap().is_err());
        assert!(parse("cp", &w("--frob a b")).unwrap().is_err());
        assert!(parse("ls", &w("a b")).is_none());
    }

    #[test]
    fn what_asks_first() {
        let p = |l: &str| parse(&w(l)[0], &w(l)[1..]).unwrap().unwrap();
        assert!(!p("cp a b").is_destructive());
        assert!(p("cp a b").is_mutating());
        assert!(p("cp -f a b").is_destructive());
        assert!(!p("cp -nf a b").is_destructive());
        assert!(!p("cp -n a b").is_mutating());
        assert!(p("mv a b").is_destructive());
        assert!(!p("mv -n a b").is_destructive());
    }

    #[test]
    fn sides_build_the_paths_of_their_version() {
        let v2 = Side {
            namespace: NsPath::parse("t1").unwrap(),
            mount: "secret/".into(),
            v2: true,
            rest: "app/".into(),
        };
        assert!(v2.is_folder());
        assert_eq!(v2.folder(), "app/");
        assert_eq!(v2.data_path("app/db"), "secret/data/app/db");
        assert_eq!(v2.list_path("app/"), "secret/metadata/app/");
        assert_eq!(v2.display("app/db"), "t1/secret/app/db");
        let v1 = Side {
            namespace: NsPath::root(),
            mount: "kv/".into(),
            v2: false,
            rest: "".into(),
        };
        assert_eq!(v1.folder(), "");
        assert_eq!(v1.data_path("x"), "kv/x");
        assert_eq!(v1.list_path("a/"), "kv/a/");
        assert_eq!(v1.display("x"), "kv/x");
        assert_eq!(basename("a/b/db"), "db");
        assert_eq!(basename("db"), "db");
    }
}
