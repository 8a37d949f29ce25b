//! Managing namespaces: `ns list`, `ns scan`, `ns lookup`, `ns create`, `ns patch`,
//! `ns delete` (`bao namespace …`). Sealable namespaces' commands are in [`seal`].
//!
//! A delete on OpenBao is asynchronous: the namespace is marked `tainted` and its contents
//! are cleared in the background (the answer's `status` is `in-progress`, also when asked
//! again meanwhile); a namespace with child namespaces is refused. Vault Enterprise says
//! a namespace "is already being deleted" in a warning. `--wait` polls until it is gone.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::seal;
use crate::engine::error::EngineError;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{cell, warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, Checked, CommandInfo, Parsed, UsageError};
use crate::engine::tree;
use crate::vault::{body, Method, VaultError};

/// How long `ns delete --wait` waits for a namespace to be gone, unless told.
pub const DELETE_WAIT: Duration = Duration::from_secs(300);

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ns {
    /// Direct children.
    List {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// Every descendant.
    Scan {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// One namespace.
    Lookup(String),
    /// Create a namespace with custom metadata.
    Create {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Merge-patch a namespace's custom metadata.
    Patch {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Delete a namespace.
    Delete {
        /// Its name, relative to here.
        name: String,
        /// `--wait`: wait until it is gone, at most this long.
        wait: Option<Duration>,
    },
    /// Sealable namespaces: create one, seal, unseal, seal-status, delete-sealed.
    Seal(seal::Seal),
}

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new("list", "ns list [-detailed]", "direct children").flags(&["-detailed"]),
    CommandInfo::new("scan", "ns scan [-detailed]", "every descendant").flags(&["-detailed"]),
    CommandInfo::new("lookup", "ns lookup NAME", "one namespace").args(&[Arg::Namespace]),
    CommandInfo::new(
        "create",
        "ns create NAME [k=v…]",
        "create a namespace with custom metadata",
    ),
    CommandInfo::new(
        "patch",
        "ns patch NAME k=v…",
        "merge-patch a namespace's custom metadata",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "delete",
        "ns delete [--wait[=DURATION]] NAME",
        "delete a namespace and everything in it (asks first); --wait: until it is gone (default at most 5m)",
    )
    .flags(&["--wait"])
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "seal",
        "ns seal NAME",
        "seal a sealable namespace (asks first)",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "unseal",
        "ns unseal [-reset] NAME [KEY]",
        "enter a key share of a sealed namespace (asked unseen when not given)",
    )
    .flags(&["-reset"])
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "seal-status",
        "ns seal-status NAME",
        "whether a namespace is sealed, and how far an unseal has come",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "delete-sealed",
        "ns delete-sealed [-force] NAME",
        "delete a sealed namespace by wiping its storage (asks first)",
    )
    .flags(&["-force"])
    .args(&[Arg::Namespace]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "ns",
    "ns list [-detailed] | scan [-detailed] | lookup NAME | create NAME [k=v…] | patch NAME k=v… | delete [--wait] NAME | create NAME -key-shares=N -key-threshold=T | seal NAME | unseal NAME [KEY] | seal-status NAME | delete-sealed NAME",
    "manage namespaces below here",
)
.subcommands(SUBCOMMANDS)
.aliases(&["namespace"])];

fn bad(message: impl Into<String>) -> UsageError {
    UsageError::new(COMMANDS[0].usage, message)
}

fn is_detailed_flag(w: &str) -> bool {
    matches!(w, "-detailed" | "--detailed" | "-l")
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Ns> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_ns(rest))
}

fn parse_ns(rest: &[String]) -> Result<Ns, UsageError> {
    let Some((sub, args)) = rest.split_first() else {
        return Err(bad("`ns` needs a subcommand"));
    };
    if let Some(sealed) = seal::parse(sub, args) {
        return sealed.map(Ns::Seal);
    }
    let name_and_args = |args: &[String]| -> Result<(String, Vec<String>), UsageError> {
        let Some((n, kv)) = args.split_first() else {
            return Err(bad(format!("`ns {sub}` needs a NAME")));
        };
        Ok((n.clone(), kv.to_vec()))
    };
    let only_name = |args: &[String]| -> Result<String, UsageError> {
        match args {
            [n] => Ok(n.clone()),
            [] => Err(bad(format!("`ns {sub}` needs a NAME"))),
            _ => Err(bad(format!("`ns {sub}` takes only a NAME"))),
        }
    };
    let flags = |args: &[String]| -> Result<bool, UsageError> {
        let mut detailed = false;
        for a in args {
            if is_detailed_flag(a) {
                detailed = true;
            } else {
                return Err(bad(format!("unexpected argument {a:?}")));
            }
        }
        Ok(detailed)
    };
    match sub.as_str() {
        "list" | "ls" => Ok(Ns::List {
            detailed: flags(args)?,
        }),
        "scan" => Ok(Ns::Scan {
            detailed: flags(args)?,
        }),
        "lookup" => only_name(args).map(Ns::Lookup),
        "create" => name_and_args(args).map(|(name, args)| Ns::Create { name, args }),
        "patch" => {
            let (name, args) = name_and_args(args)?;
            if args.is_empty() {
                return Err(bad("`ns patch` needs k=v arguments"));
            }
            Ok(Ns::Patch { name, args })
        }
        "delete" | "rm" => parse_delete(args),
        other => Err(bad(format!("unknown subcommand `ns {other}`"))),
    }
}

/// `ns delete [--wait[=DURATION]] NAME`.
fn parse_delete(args: &[String]) -> Result<Ns, UsageError> {
    let mut name = None;
    let mut wait = None;
    for a in args {
        if a == "--wait" || a == "-wait" {
            wait = Some(DELETE_WAIT);
        } else if let Some(d) = a
            .strip_prefix("--wait=")
            .or_else(|| a.strip_prefix("-wait="))
        {
            let d = humantime::parse_duration(d)
                .map_err(|e| bad(format!("`--wait={d}`: {e} (a duration: 30s, 5m, 1h)")))?;
            wait = Some(d);
        } else if a.starts_with('-') {
            return Err(bad(format!("unexpected argument {a:?}")));
        } else if name.is_none() {
            name = Some(a.clone());
        } else {
            return Err(bad("`ns delete` takes only a NAME"));
        }
    }
    let name = name.ok_or_else(|| bad("`ns delete` needs a NAME"))?;
    Ok(Ns::Delete { name, wait })
}

impl Ns {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        match self {
            Ns::Seal(s) => s.is_mutating(),
            _ => matches!(
                self,
                Ns::Create { .. } | Ns::Patch { .. } | Ns::Delete { .. }
            ),
        }
    }

    /// Whether it destroys something, and so always asks first.
    pub fn is_destructive(&self) -> bool {
        match self {
            Ns::Seal(s) => s.is_destructive(),
            _ => matches!(self, Ns::Delete { .. }),
        }
    }

    /// The checks that need no server: a command that fails them sends nothing at all.
    pub fn precheck(&self) -> Result<(), EngineError> {
        match self {
            Ns::Create { name, .. } | Ns::Delete { name, .. } => {
                nspath::validate_name(name)?;
            }
            Ns::Lookup(name) | Ns::Patch { name, .. } => {
                nspath::check_typed_path(name)?;
                NsPath::parse(name)?;
            }
            Ns::Seal(s) => s.precheck()?,
            _ => {}
        }
        Ok(())
    }
}

/// The checks before the question, and the question (the dispatcher's hook).
pub async fn prepare(session: &mut Session, cmd: &Ns) -> Result<Checked<Ns>, EngineError> {
    match cmd {
        Ns::Delete { name, .. } => prepare_delete(session, cmd, name).await,
        Ns::Seal(s) => Ok(match s.confirmation(session) {
            Some(q) => Checked::ask(cmd.clone(), q),
            None => Checked::run(cmd.clone()),
        }),
        _ => Ok(Checked::run(cmd.clone())),
    }
}

/// Before a delete: the namespace exists, no locked namespace above it refuses the
/// request, and it has no child namespaces (OpenBao deletes only a leaf) — each refused
/// with nothing sent. One already being deleted (`tainted`) asks nothing: a delete again
/// only resumes it.
async fn prepare_delete(
    session: &mut Session,
    cmd: &Ns,
    name: &str,
) -> Result<Checked<Ns>, EngineError> {
    let (parent, leaf) = parent_and_name(session, &nspath::validate_name(name)?)?;
    let full = parent.child(&leaf);
    let info = match send(session, Method::Get, &parent, &leaf, None).await {
        Ok(body) => Some(body::data(body)),
        Err(EngineError::Vault(e)) => match e {
            VaultError::NotFound { .. } | VaultError::NamespaceNotFound { .. } => {
                return Err(EngineError::Other(format!(
                    "ns delete: namespace {full} does not exist; nothing was sent"
                )))
            }
            VaultError::NamespaceLocked { locked, .. } => {
                return Err(EngineError::Other(format!(
                    "ns delete: namespace {} is locked, and every request at or below a locked namespace is refused: unlock it first ({}); nothing was sent",
                    display_header(&locked),
                    unlock_hint_of(&locked)
                )))
            }
            // A token that may delete but not read decides with the server.
            VaultError::PermissionDenied { .. } => None,
            e => return Err(e.into()),
        },
        Err(e) => return Err(e),
    };
    let flag = |k: &str| {
        info.as_ref()
            .and_then(|i| i.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    if flag("tainted") {
        return Ok(Checked::run(cmd.clone()));
    }
    if let Some(children) = child_names(session, &full).await {
        if !children.is_empty() {
            return Err(has_children(&full, &children, "nothing was sent"));
        }
    }
    let locked = if flag("locked") { " It is locked." } else { "" };
    Ok(Checked::ask(
        cmd.clone(),
        format!(
            "Delete namespace {full} and everything in it (secrets engines, auth methods, policies, identities, tokens)?{locked} It cannot be undone."
        ),
    ))
}

/// The child namespaces of `full` (names), when they can be seen: listed in it, or, when
/// it is locked (nothing inside answers), from one `SCAN` in its parent.
async fn child_names(session: &Session, full: &NsPath) -> Option<Vec<String>> {
    // Sorted: a message names the same children in the same order every time.
    let mut names = child_names_unsorted(session, full).await?;
    names.sort();
    Some(names)
}

async fn child_names_unsorted(session: &Session, full: &NsPath) -> Option<Vec<String>> {
    match tree::list_children(session.client(), full).await {
        Ok(children) => Some(
            children
                .keys()
                .map(|k| k.trim_end_matches('/').to_string())
                .collect(),
        ),
        Err(VaultError::NamespaceLocked { .. }) if !session.options().no_scan => {
            let parent = full.parent()?;
            let walk = tree::walk(session.client(), &parent, Some(2), true)
                .await
                .ok()?;
            let rel = full.strip_prefix(&parent)?;
            Some(
                walk.entries
                    .iter()
                    .filter(|e| e.path.parent().as_ref() == Some(&rel))
                    .filter_map(|e| e.path.name().map(str::to_string))
                    .collect(),
            )
        }
        Err(_) => None,
    }
}

/// Why a namespace with children cannot be deleted, naming them (a few) and how many.
fn has_children(full: &NsPath, children: &[String], sent: &str) -> EngineError {
    let n = children.len();
    let mut names: Vec<String> = children.iter().take(5).cloned().collect();
    if n > names.len() {
        names.push(format!("and {} more", n - names.len()));
    }
    let what = if n == 1 {
        "1 child namespace".to_string()
    } else {
        format!("{n} child namespaces")
    };
    EngineError::Other(format!(
        "ns delete: {full} has {what} ({}): OpenBao deletes only a namespace without children, so delete those first; {sent}",
        names.join(", ")
    ))
}

/// "a/b/" for people: "a/b" ("/" for the root).
fn display_header(ns: &str) -> String {
    NsPath::parse(ns)
        .map(|p| p.display())
        .unwrap_or_else(|_| ns.to_string())
}

/// The commands that unlock `locked` ("a/b/"): from its parent, by name.
fn unlock_hint_of(locked: &str) -> String {
    match NsPath::parse(locked) {
        Ok(p) => match (p.parent(), p.name()) {
            (Some(parent), Some(name)) => format!(
                "`cd /{}; unlock {name}`",
                parent.display().trim_start_matches('/')
            ),
            _ => "`unlock`".to_string(),
        },
        Err(_) => "`unlock`".to_string(),
    }
}

/// The full path of a namespace named relative to here, for a question.
pub fn target_display(session: &Session, sub: &str) -> String {
    match named(session, sub) {
        Ok((_, _, full)) => full.display(),
        Err(_) => format!("{}/{}", session.cwd().display().trim_end_matches('/'), sub),
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Ns) -> Result<Output, EngineError> {
    match cmd {
        Ns::List { detailed } => {
            let children = tree::list_children(session.client(), session.cwd()).await?;
            Ok(ns_keys_output(children, *detailed))
        }
        Ns::Scan { detailed } => scan(session, *detailed).await,
        Ns::Seal(s) => seal::run(session, s).await,
        Ns::Lookup(name) => {
            let (parent, name, _) = named(session, name)?;
            let body = send(session, Method::Get, &parent, &name, None).await?;
            Ok(namespace_output(body::data(body)))
        }
        Ns::Create { name, args } => {
            let (parent, name) = parent_and_name(session, &nspath::validate_name(name)?)?;
            let meta = session.kv(args)?;
            let body = json!({ "custom_metadata": meta });
            let resp = send(session, Method::Post, &parent, &name, Some(&body)).await?;
            session.cache().invalidate_tree();
            Ok(namespace_output(body::data(resp)))
        }
        Ns::Patch { name, args } => {
            let (parent, name, _) = named(session, name)?;
            let meta = session.kv(args)?;
            let body = json!({ "custom_metadata": meta });
            let resp = send(session, Method::Patch, &parent, &name, Some(&body)).await?;
            Ok(namespace_output(body::data(resp)))
        }
        Ns::Delete { name, wait } => delete(session, name, *wait).await,
    }
}

/// What the answer to a delete says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteAnswer {
    /// Deleted at once (no status in the answer).
    Deleted,
    /// Being deleted in the background (OpenBao's `status: in-progress`).
    InProgress,
    /// Another delete is at it already (Vault Enterprise's warning).
    AlreadyBeingDeleted,
    /// Nothing was there (OpenBao's warning "requested namespace does not exist").
    Missing,
}

/// Read a delete's answer: its `status` and its warnings.
pub fn delete_answer(resp: Option<&Value>) -> DeleteAnswer {
    let warnings: Vec<String> = resp
        .and_then(|r| r.get("warnings"))
        .and_then(Value::as_array)
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let status = resp
        .and_then(|r| r.get("data"))
        .and_then(|d| d.get("status"))
        .and_then(Value::as_str);
    if warnings.iter().any(|w| w.contains("already being deleted")) {
        DeleteAnswer::AlreadyBeingDeleted
    } else if status == Some("in-progress") {
        DeleteAnswer::InProgress
    } else if warnings.iter().any(|w| w.contains("does not exist")) {
        DeleteAnswer::Missing
    } else {
        DeleteAnswer::Deleted
    }
}

async fn delete(
    session: &mut Session,
    name: &str,
    wait: Option<Duration>,
) -> Result<Output, EngineError> {
    let (parent, leaf) = parent_and_name(session, &nspath::validate_name(name)?)?;
    let full = parent.child(&leaf);
    let mut notes = Vec::new();
    // Shown when it is being deleted already: the delete again resumes it.
    if let Ok(body) = send(session, Method::Get, &parent, &leaf, None).await {
        if body::data(body).get("tainted").and_then(Value::as_bool) == Some(true) {
            notes.push(format!(
                "note: {full} is tainted: it is being deleted already (asked again, the deletion resumes)"
            ));
        }
    }
    let resp = match send(session, Method::Delete, &parent, &leaf, None).await {
        Ok(resp) => resp,
        Err(EngineError::Vault(VaultError::Status {
            status: 400 | 409,
            messages,
            req,
        })) if messages.iter().any(|m| m.contains("child namespaces")) => {
            let children = child_names(session, &full).await.unwrap_or_default();
            if children.is_empty() {
                return Err(EngineError::Other(format!(
                    "ns delete: {full} has child namespaces (the server refused: {}): OpenBao deletes only a namespace without children, so delete those first; nothing was deleted ({req})",
                    messages.join("; ")
                )));
            }
            return Err(has_children(&full, &children, "nothing was deleted"));
        }
        Err(e) => return Err(e),
    };
    session.cache().invalidate_tree();
    let answer = delete_answer(resp.as_ref());
    let mut out = warnings_output(resp.as_ref(), "");
    out.notes.splice(0..0, notes);
    let mut text = match answer {
        DeleteAnswer::Deleted => format!("Deleted namespace {full}."),
        DeleteAnswer::InProgress => format!(
            "Deleting namespace {full}: in progress (the server clears it in the background)."
        ),
        DeleteAnswer::AlreadyBeingDeleted => {
            format!("Namespace {full} is being deleted already (by an earlier delete).")
        }
        DeleteAnswer::Missing => format!("Namespace {full} does not exist (any more)."),
    };
    match wait {
        Some(bound) if answer != DeleteAnswer::Missing => {
            let client = session.client().clone();
            let (p, l) = (parent.clone(), leaf.clone());
            let probe = move || {
                let (client, p, l) = (client.clone(), p.clone(), l.clone());
                async move {
                    match client
                        .request(
                            Method::Get,
                            &p.header(),
                            &format!("sys/namespaces/{l}"),
                            None,
                        )
                        .await
                    {
                        Ok(body) => Ok(Some(body::data(body))),
                        Err(VaultError::NotFound { .. } | VaultError::NamespaceNotFound { .. }) => {
                            Ok(None)
                        }
                        Err(e) => Err(EngineError::from(e)),
                    }
                }
            };
            let report = |elapsed: Duration, info: &Value| {
                let tainted = info
                    .get("tainted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                session.progress(&format!(
                    "waiting for {full} to be gone: {} so far{}",
                    seconds(elapsed),
                    if tainted {
                        " (tainted: being deleted)"
                    } else {
                        ""
                    }
                ));
            };
            let waited = wait_until_gone(probe, bound, Backoff::default(), report)
                .await
                .map_err(|e| match e {
                    WaitError::Probe(e) => e,
                    WaitError::TimedOut { waited, last } => {
                        let tainted = last
                            .get("tainted")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        EngineError::Other(format!(
                            "ns delete --wait: {full} is still there after {}{}: the deletion goes on on the server; `ns lookup {name}` shows it",
                            seconds(waited),
                            if tainted {
                                " (tainted: being deleted)"
                            } else {
                                " (not tainted: its deletion may have stopped; delete it again)"
                            }
                        ))
                    }
                })?;
            text = format!("Deleted namespace {full} (gone after {}).", seconds(waited));
        }
        Some(_) | None => {
            if answer == DeleteAnswer::InProgress || answer == DeleteAnswer::AlreadyBeingDeleted {
                text.push_str(&format!(
                    " `ns delete --wait {name}` waits until it is gone."
                ));
            }
        }
    }
    out.view = View::Text(text);
    Ok(out)
}

/// A duration for people: "0.3 s", "12 s".
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{} s", d.as_secs())
    }
}

/// How often `--wait` asks: first after `first`, then half as long again each time, never
/// more than `max` apart; progress is told once the wait passes `first_report`, then
/// every `report`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first pause.
    pub first: Duration,
    /// The longest pause.
    pub max: Duration,
    /// When progress is first told.
    pub first_report: Duration,
    /// How often progress is told after that.
    pub report: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
            first_report: Duration::from_secs(2),
            report: Duration::from_secs(5),
        }
    }
}

/// Why a wait ended without the namespace gone.
#[derive(Debug)]
pub enum WaitError {
    /// Asking failed.
    Probe(EngineError),
    /// Still there at the bound.
    TimedOut {
        /// How long it waited.
        waited: Duration,
        /// The namespace as last seen.
        last: Value,
    },
}

/// Ask `probe` until it says the namespace is gone (`None`), at most `bound` long; tell
/// `report` how far it is every `backoff.report`. Returns how long it took. Dropping the
/// future (Ctrl-C) stops the wait, never the deletion on the server.
pub async fn wait_until_gone<P, F>(
    mut probe: P,
    bound: Duration,
    backoff: Backoff,
    mut report: impl FnMut(Duration, &Value),
) -> Result<Duration, WaitError>
where
    P: FnMut() -> F,
    F: Future<Output = Result<Option<Value>, EngineError>>,
{
    let start = Instant::now();
    let mut pause = backoff.first;
    let mut next_report = backoff.first_report;
    loop {
        let seen = probe().await.map_err(WaitError::Probe)?;
        let elapsed = start.elapsed();
        let Some(info) = seen else {
            return Ok(elapsed);
        };
        if elapsed >= bound {
            return Err(WaitError::TimedOut {
                waited: elapsed,
                last: info,
            });
        }
        if elapsed >= next_report {
            next_report = elapsed + backoff.report;
            report(elapsed, &info);
        }
        tokio::time::sleep(pause.min(bound.saturating_sub(elapsed))).await;
        pause = (pause + pause / 2).min(backoff.max);
    }
}

/// `a/b/c` typed here names `c` inside `here/a/b`: the request goes to that parent, as
/// `bao namespace … -namespace=a/b c` sends it (the server takes one name per request).
fn parent_and_name(session: &Session, name: &NsPath) -> Result<(NsPath, String), EngineError> {
    let full = session.cwd().join(name);
    match (full.parent(), full.name()) {
        (Some(parent), Some(last)) if !name.is_root() => Ok((parent, last.to_string())),
        _ => Err(EngineError::Name(nspath::NameError::Empty)),
    }
}

/// A namespace typed here as `cd` reads it (`/` from the top, `..`), for the commands
/// that name one that exists (`ns lookup`, `ns patch`, the seal commands): its parent,
/// its name there, and its full path.
pub fn named(session: &Session, typed: &str) -> Result<(NsPath, String, NsPath), EngineError> {
    Ok(nspath::parent_and_name(
        session.top(),
        session.cwd(),
        typed,
    )?)
}

/// One request on `sys/namespaces/NAME` in `parent`.
async fn send(
    session: &Session,
    method: Method,
    parent: &NsPath,
    name: &str,
    body: Option<&Value>,
) -> Result<Option<Value>, EngineError> {
    Ok(session
        .client()
        .request(
            method,
            &parent.header(),
            &format!("sys/namespaces/{name}"),
            body,
        )
        .await?)
}

async fn scan(session: &Session, detailed: bool) -> Result<Output, EngineError> {
    let walk = tree::walk(
        session.client(),
        session.cwd(),
        None,
        !session.options().no_scan,
    )
    .await?;
    let info = tree::info_document(walk.entries);
    let mut out = ns_keys_output(info, detailed);
    out.notes.extend(
        walk.unlisted
            .iter()
            .map(|(ns, why)| format!("note: children of {ns} not listed: {why}")),
    );
    Ok(out)
}

/// `bao namespace …` prints the `data` of the answer.
fn namespace_output(data: Value) -> Output {
    let rows = match &data {
        Value::Object(m) => m.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect(),
        _ => vec![],
    };
    Output {
        json: Some(data),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes: vec![],
    }
}

/// `bao namespace list` prints the keys, or with `-detailed` the key_info.
fn ns_keys_output(info: Map<String, Value>, detailed: bool) -> Output {
    // People get the names sorted; the JSON keeps the server's order, as bao prints it.
    let mut sorted: Vec<(&String, &Value)> = info.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let rows: Vec<Vec<String>> = sorted
        .into_iter()
        .map(|(k, v)| {
            let locked = v.get("locked").and_then(Value::as_bool).unwrap_or(false);
            let mut row = vec![
                k.clone(),
                if locked {
                    "locked".into()
                } else {
                    String::new()
                },
            ];
            if detailed {
                row.push(v.get("id").map(cell).unwrap_or_default());
                row.push(
                    v.get("custom_metadata")
                        .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()))
                        .map(cell)
                        .unwrap_or_default(),
                );
            }
            row
        })
        .collect();
    let mut header = vec!["NAMESPACE".to_string(), "LOCKED".to_string()];
    if detailed {
        header.extend(["ID".to_string(), "CUSTOM METADATA".to_string()]);
    }
    let json = if detailed {
        Value::Object(info)
    } else {
        Value::from(info.keys().cloned().collect::<Vec<_>>())
    };
    Output {
        json: Some(json),
        view: View::Table { header, rows },
        notes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Ns, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_its_commands() {
        assert_eq!(p("ns list -detailed"), Ok(Ns::List { detailed: true }));
        assert_eq!(p("namespace scan"), Ok(Ns::Scan { detailed: false }));
        assert_eq!(
            p("ns create a x=1"),
            Ok(Ns::Create {
                name: "a".into(),
                args: vec!["x=1".into()]
            })
        );
        assert!(p("ns patch a").is_err());
        assert!(p("ns frob").is_err());
        assert!(p("ns").is_err());
        assert!(p("ns delete a").unwrap().is_mutating());
        assert!(!p("ns list").unwrap().is_mutating());
    }

    #[test]
    fn delete_takes_wait() {
        assert_eq!(
            p("ns delete a"),
            Ok(Ns::Delete {
                name: "a".into(),
                wait: None
            })
        );
        assert_eq!(
            p("ns delete --wait a/b"),
            Ok(Ns::Delete {
                name: "a/b".into(),
                wait: Some(DELETE_WAIT)
            })
        );
        assert_eq!(
            p("ns delete a --wait=90s"),
            Ok(Ns::Delete {
                name: "a".into(),
                wait: Some(Duration::from_secs(90))
            })
        );
        assert!(p("ns delete --wait=soon a").is_err());
        assert!(p("ns delete a b").is_err());
        assert!(p("ns delete --wait").is_err());
        assert!(p("ns delete -x a").is_err());
        assert!(p("ns delete a").unwrap().is_destructive());
        assert!(!p("ns create a").unwrap().is_destructive());
    }

    #[test]
    fn delete_answers_are_read() {
        assert_eq!(
            delete_answer(Some(
                &json!({"data": {"status": "in-progress"}, "warnings": null})
            )),
            DeleteAnswer::InProgress
        );
        assert_eq!(
            delete_answer(Some(
                &json!({"data": null, "warnings": ["requested namespace does not exist"]})
            )),
            DeleteAnswer::Missing
        );
        // Vault Enterprise, asked again while a delete runs.
        assert_eq!(
            delete_answer(Some(
                &json!({"data": null, "warnings": ["Namespace \"ns1/\" is already being deleted"]})
            )),
            DeleteAnswer::AlreadyBeingDeleted
        );
        assert_eq!(delete_answer(None), DeleteAnswer::Deleted);
    }

    fn fast() -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(2),
            first_report: Duration::ZERO,
            report: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn wait_ends_when_gone_and_tells_progress() {
        let mut left = 3;
        let mut reports = Vec::new();
        let waited = wait_until_gone(
            || {
                left -= 1;
                let gone = left == 0;
                async move {
                    Ok(if gone {
                        None
                    } else {
                        Some(json!({"tainted": true}))
                    })
                }
            },
            Duration::from_secs(10),
            fast(),
            |_, info| reports.push(info.clone()),
        )
        .await;
        assert!(waited.is_ok(), "{waited:?}");
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0]["tainted"], true);
    }

    #[tokio::test]
    async fn wait_is_bounded_and_a_probe_error_stops_it() {
        let r = wait_until_gone(
            || async { Ok(Some(json!({"tainted": true}))) },
            Duration::from_millis(20),
            fast(),
            |_, _| {},
        )
        .await;
        match r {
            Err(WaitError::TimedOut { waited, last }) => {
                assert!(waited >= Duration::from_millis(20));
                assert_eq!(last["tainted"], true);
            }
            other => panic!("{other:?}"),
        }
        let r = wait_until_gone(
            || async { Err(EngineError::Other("boom".into())) },
            Duration::from_secs(10),
            fast(),
            |_, _| {},
        )
        .await;
        assert!(matches!(r, Err(WaitError::Probe(_))));
    }
}
