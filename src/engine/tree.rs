//! The namespace tree below a namespace: one `SCAN` where the server has it; else Vault
//! Enterprise's whole visible subtree from `sys/internal/ui/namespaces` in one request;
//! else a concurrent level-by-level `LIST`. And the state of each namespace: locked,
//! being deleted (`tainted`), sealed (OpenBao 2.6+, asked only where it can be).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::engine::nspath::NsPath;
use crate::vault::{body, ApiRequest, Client, Method, RequestInfo, VaultError};

/// How many `LIST` requests the fallback keeps in flight.
pub const LIST_CONCURRENCY: usize = 32;

/// How many `seal-status` requests are kept in flight.
pub const SEAL_CONCURRENCY: usize = 32;

/// At most this many namespaces have their seal state asked by `ls` and `tree` unless
/// told to ask them all (`tree --seal`): one request each, so a tree of thousands would
/// take many times its SCAN (see docs/performance.md).
pub const SEAL_ASK_LIMIT: usize = 256;

/// Whether a namespace is sealed (OpenBao 2.6+'s sealable namespaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seal {
    /// Not asked (a listing does not say).
    #[default]
    Unknown,
    /// It answers requests: not sealed now (sealable or not). A namespace whose children
    /// the server listed is open: the server shows nothing inside a sealed one.
    Open,
    /// Made without a seal: it cannot be sealed.
    NotSealable,
    /// Sealable, and unsealed now.
    Unsealed,
    /// Sealed: it refuses every request until enough key shares are entered.
    Sealed,
}

impl Seal {
    /// Whether it is sealed.
    pub fn is_sealed(self) -> bool {
        self == Seal::Sealed
    }
}

/// What vnsh marks of a namespace beside its name (`ls`, `tree`, `locks`, `describe`, the
/// prompt): each part as the server said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NsState {
    /// Its API is locked.
    pub locked: bool,
    /// It is being deleted (OpenBao's `tainted`).
    pub tainted: bool,
    /// Whether it is sealed.
    pub seal: Seal,
}

impl NsState {
    /// The state a listing's `key_info` entry (or a lookup) gives; the seal is not in it.
    pub fn of_info(info: &Value) -> NsState {
        let flag = |k: &str| info.get(k).and_then(Value::as_bool).unwrap_or(false);
        NsState {
            locked: flag("locked"),
            tainted: flag("tainted"),
            seal: Seal::Unknown,
        }
    }

    /// As [`NsState::of_info`], read from the entry's JSON text without making a document
    /// of it.
    pub fn of_raw(info: &RawValue) -> NsState {
        /// The two flags; anything else in the entry is skipped, a flag of another type is
        /// not set (as `of_info` reads it).
        #[derive(Deserialize, Default)]
        struct Flags {
            #[serde(default)]
            locked: Option<Value>,
            #[serde(default)]
            tainted: Option<Value>,
        }
        // Only an object has flags (a derived struct would also read an array by position).
        let text = info.get();
        let flags: Flags = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).unwrap_or_default()
        } else {
            Flags::default()
        };
        let set = |v: Option<Value>| v.and_then(|v| v.as_bool()).unwrap_or(false);
        NsState {
            locked: set(flags.locked),
            tainted: set(flags.tainted),
            seal: Seal::Unknown,
        }
    }

    /// The marks, in a fixed order: `locked`, `sealed`, `being deleted`.
    pub fn marks(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.locked {
            out.push("locked");
        }
        if self.seal.is_sealed() {
            out.push("sealed");
        }
        if self.tainted {
            out.push("being deleted");
        }
        out
    }

    /// The marks as one cell: `locked, sealed`, or empty.
    pub fn label(&self) -> String {
        self.marks().join(", ")
    }

    /// Whether requests in it are refused (locked or sealed): nothing below it can be read.
    pub fn is_closed(&self) -> bool {
        self.locked || self.seal.is_sealed()
    }
}

/// The server's description of a namespace (its `key_info` entry), kept as the JSON text
/// the server sent rather than as a document: a walk of 20,000 namespaces holds about 200
/// bytes for each, where a parsed document takes over 1 KB (see docs/performance.md).
#[derive(Debug, Clone, Default)]
pub struct Info(Option<Box<RawValue>>);

impl Info {
    /// The description as a JSON document (`null` when there is none), its objects no
    /// larger than they need be: a tree's JSON holds thousands of them at once.
    pub fn value(&self) -> Value {
        self.0
            .as_deref()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .map(exact)
            .unwrap_or(Value::Null)
    }
}

/// `v` with each object rebuilt at its exact size: parsed, a six-key object is given room
/// for seven (an eighth of the size of a tree's JSON, measured at 5,050 namespaces).
fn exact(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(k, exact(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(exact).collect()),
        other => other,
    }
}

impl From<Box<RawValue>> for Info {
    fn from(raw: Box<RawValue>) -> Info {
        Info(Some(raw))
    }
}

impl From<&Value> for Info {
    fn from(v: &Value) -> Info {
        Info(serde_json::value::to_raw_value(v).ok())
    }
}

impl PartialEq for Info {
    fn eq(&self, other: &Info) -> bool {
        self.value() == other.value()
    }
}

impl PartialEq<Value> for Info {
    fn eq(&self, other: &Value) -> bool {
        self.value() == *other
    }
}

/// One namespace found below the starting point.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Path relative to the starting namespace.
    pub path: NsPath,
    /// Locked, being deleted, sealed.
    pub state: NsState,
    /// The server's description of it (`key_info` entry), whose `path` is the full path.
    pub info: Info,
}

/// Where a walk's namespaces came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// One `SCAN` (OpenBao).
    Scan,
    /// One `sys/internal/ui/namespaces` (Vault Enterprise: the token's whole visible
    /// subtree). Its answer names the namespaces only: no lock state.
    UiList,
    /// A `LIST` of each namespace.
    #[default]
    List,
}

/// The result of a walk.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// Every namespace found, sorted by path.
    pub entries: Vec<Entry>,
    /// True when one `SCAN` answered; false when the tree was listed another way.
    pub scanned: bool,
    /// How the tree was read.
    pub source: Source,
    /// Namespaces whose children could not be listed, and why.
    pub unlisted: Vec<(NsPath, String)>,
    /// The server has no namespaces at all (Vault Community Edition): only the root.
    pub no_namespaces: bool,
}

/// The entries as a JSON document (`key_info`: each namespace's info by its `a/b/` path),
/// moved, not copied, and sized once (thousands of namespaces).
pub fn info_document(entries: Vec<Entry>) -> Map<String, Value> {
    let mut info = Map::with_capacity(entries.len());
    for e in entries {
        info.insert(e.path.header(), e.info.value());
    }
    info
}

/// How to walk a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// Down to this many levels (None: all).
    pub max_depth: Option<usize>,
    /// Try one `SCAN` first.
    pub use_scan: bool,
    /// Where `SCAN` is missing, try `sys/internal/ui/namespaces` before listing level by
    /// level (false: always list, which is the only way to see lock state on Vault).
    pub use_ui_list: bool,
}

impl WalkOptions {
    /// All levels, SCAN first when `use_scan`, then Vault's one-request subtree.
    pub fn new(max_depth: Option<usize>, use_scan: bool) -> WalkOptions {
        WalkOptions {
            max_depth,
            use_scan,
            use_ui_list: true,
        }
    }
}

/// The direct children of `ns`, as the server's `key_info` (empty map when none).
pub async fn list_children(client: &Client, ns: &NsPath) -> Result<Map<String, Value>, VaultError> {
    match client
        .request(Method::List, &ns.header(), "sys/namespaces", None)
        .await
    {
        Ok(body) => {
            // An answer of another shape is an error naming the request, never "no children".
            let info = crate::vault::RequestInfo {
                method: Method::List.as_str().into(),
                path: "sys/namespaces".into(),
                namespace: ns.header(),
            };
            crate::vault::body::list_keys(body.as_ref(), &info)?;
            Ok(key_info(body))
        }
        Err(VaultError::NotFound { .. }) => Ok(Map::new()),
        Err(VaultError::Status {
            status: 404,
            messages,
            ..
        }) if messages.is_empty() => Ok(Map::new()),
        Err(e) => Err(e),
    }
}

/// `data.key_info` of a LIST or SCAN answer, ordered as `data.keys`. It takes the
/// answer so the entries are moved, not copied: a SCAN of thousands of namespaces is
/// held once.
pub fn key_info(body: Option<Value>) -> Map<String, Value> {
    let mut data = match body {
        Some(mut b) => b.get_mut("data").map(Value::take).unwrap_or(Value::Null),
        None => Value::Null,
    };
    let mut info = match data.get_mut("key_info").map(Value::take) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    if let Some(Value::Array(keys)) = data.get_mut("keys").map(Value::take) {
        for k in keys {
            if let Value::String(k) = k {
                let v = info.remove(&k).unwrap_or(Value::Null);
                out.insert(k, v);
            }
        }
    }
    out
}

/// Whether an error means "this server has no SCAN" rather than a real failure.
fn scan_unsupported(e: &VaultError) -> bool {
    match e {
        VaultError::Status {
            status, messages, ..
        } => {
            matches!(status, 400 | 404 | 405 | 501)
                && (messages.is_empty()
                    || messages
                        .iter()
                        .any(|m| m.contains("unsupported") || m.contains("not supported")))
        }
        VaultError::NotFound { .. } => false,
        _ => false,
    }
}

/// Walk the tree below `root` down to `max_depth` levels (None: all). With `use_scan`,
/// one `SCAN` is tried first and the fallbacks are used only if the server has none.
pub async fn walk(
    client: &Client,
    root: &NsPath,
    max_depth: Option<usize>,
    use_scan: bool,
) -> Result<Walk, VaultError> {
    walk_with(client, root, WalkOptions::new(max_depth, use_scan)).await
}

/// Walk the tree below `root` as `opts` say.
pub async fn walk_with(
    client: &Client,
    root: &NsPath,
    opts: WalkOptions,
) -> Result<Walk, VaultError> {
    if opts.use_scan {
        let header = root.header();
        let req = ApiRequest::new(Method::Scan, &header, "sys/namespaces");
        let info = req.info();
        match client.send_bytes(req).await {
            Ok(bytes) => {
                return Ok(from_scan(
                    scan_entries(client, &bytes, &info)?,
                    opts.max_depth,
                ))
            }
            Err(VaultError::NotFound { .. }) => {
                return Ok(Walk {
                    scanned: true,
                    source: Source::Scan,
                    ..Walk::default()
                })
            }
            Err(e) if scan_unsupported(&e) => {}
            // OpenBao has a `scan` capability of its own: a token may list without it.
            Err(VaultError::PermissionDenied { .. }) => {}
            Err(VaultError::NamespacesUnsupported { .. }) => return Ok(no_namespaces()),
            Err(e) => return Err(e),
        }
    }
    if opts.use_ui_list {
        if let Some(walk) = ui_list(client, root, opts.max_depth).await {
            return Ok(walk);
        }
    }
    walk_by_list(client, root, opts.max_depth).await
}

/// The walk of a server without namespaces: the root alone.
fn no_namespaces() -> Walk {
    Walk {
        no_namespaces: true,
        ..Walk::default()
    }
}

/// A SCAN answer as the server sends it, each `key_info` entry kept as its JSON text.
#[derive(Deserialize)]
struct ScanAnswer {
    data: ScanData,
}

/// The `data` of a SCAN answer.
#[derive(Deserialize)]
struct ScanData {
    keys: Vec<String>,
    #[serde(default)]
    key_info: HashMap<String, Box<RawValue>>,
}

/// The `key_info` entries of a SCAN answer's bytes, in the order of `data.keys`, each with
/// its state read from it. Read straight from the bytes into text per entry: the answer
/// is never a JSON document (at 20,000 namespaces that alone was 20 MB). An answer of
/// another shape is read as [`key_info`] reads it.
fn scan_entries(
    client: &Client,
    bytes: &[u8],
    req: &RequestInfo,
) -> Result<Vec<(String, NsState, Info)>, VaultError> {
    let Ok(answer) = serde_json::from_slice::<ScanAnswer>(bytes) else {
        let body = client.decode(200, bytes, req)?;
        return Ok(key_info(body)
            .into_iter()
            .map(|(k, v)| (k, NsState::of_info(&v), Info::from(&v)))
            .collect());
    };
    let ScanData { keys, mut key_info } = answer.data;
    Ok(keys
        .into_iter()
        .map(|k| match key_info.remove(&k) {
            Some(raw) => (k, NsState::of_raw(&raw), Info::from(raw)),
            None => (k, NsState::default(), Info::default()),
        })
        .collect())
}

/// A walk from one SCAN's `key_info` entries with their states (paths relative to the
/// start). A namespace with children in the answer is open: the server shows nothing
/// inside a sealed one.
pub fn from_scan(
    info: impl IntoIterator<Item = (String, NsState, Info)>,
    max_depth: Option<usize>,
) -> Walk {
    let parsed: Vec<(NsPath, NsState, Info)> = info
        .into_iter()
        .filter_map(|(k, state, v)| Some((NsPath::parse(&k).ok()?, state, v)))
        .collect();
    let parents: HashSet<NsPath> = parsed.iter().filter_map(|(p, _, _)| p.parent()).collect();
    let mut entries: Vec<Entry> = parsed
        .into_iter()
        .filter(|(path, _, _)| max_depth.is_none_or(|d| path.depth() <= d))
        .map(|(path, mut state, info)| {
            if parents.contains(&path) {
                state.seal = Seal::Open;
            }
            Entry { path, state, info }
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Walk {
        entries,
        scanned: true,
        source: Source::Scan,
        ..Walk::default()
    }
}

/// Vault Enterprise's `sys/internal/ui/namespaces`: the token's visible namespaces below
/// the request's, in one answer. Used only when it holds nested paths (OpenBao answers
/// with the children alone, and a listing of them says more); `None` otherwise.
async fn ui_list(client: &Client, root: &NsPath, max_depth: Option<usize>) -> Option<Walk> {
    let body = client
        .request(
            Method::Get,
            &root.header(),
            "sys/internal/ui/namespaces",
            None,
        )
        .await
        .ok()?;
    from_ui_list(root, &body::keys(body.as_ref()), max_depth)
}

/// A walk from the keys of `sys/internal/ui/namespaces` asked in `root` (paths relative
/// to it, as Vault's own UI reads them); `None` unless some key is nested.
pub fn from_ui_list(root: &NsPath, keys: &[String], max_depth: Option<usize>) -> Option<Walk> {
    let paths: Vec<NsPath> = keys
        .iter()
        .filter_map(|k| NsPath::parse(k).ok())
        .filter(|p| !p.is_root())
        .collect();
    if !paths.iter().any(|p| p.depth() > 1) {
        return None;
    }
    // Every ancestor of a listed namespace is one too (the answer may leave out the ones
    // the token only passes through).
    let mut all: HashSet<NsPath> = HashSet::new();
    for p in &paths {
        for a in p.ancestors() {
            if !a.is_root() {
                all.insert(a);
            }
        }
    }
    let parents: HashSet<NsPath> = all.iter().filter_map(NsPath::parent).collect();
    let mut entries: Vec<Entry> = all
        .into_iter()
        .filter(|p| max_depth.is_none_or(|d| p.depth() <= d))
        .map(|path| Entry {
            state: NsState {
                seal: if parents.contains(&path) {
                    Seal::Open
                } else {
                    Seal::Unknown
                },
                ..NsState::default()
            },
            info: Info::from(&json!({ "path": root.join(&path).header() })),
            path,
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Some(Walk {
        entries,
        scanned: false,
        source: Source::UiList,
        ..Walk::default()
    })
}

/// One finished LIST: the namespace (relative) and its children.
type Listed = (NsPath, Result<Map<String, Value>, VaultError>);

/// The fallback: list each level concurrently, at most [`LIST_CONCURRENCY`] at a time.
/// A namespace that answers "namespace is sealed" is marked sealed (no request more); one
/// that lists is open.
pub async fn walk_by_list(
    client: &Client,
    root: &NsPath,
    max_depth: Option<usize>,
) -> Result<Walk, VaultError> {
    let permits = Arc::new(Semaphore::new(LIST_CONCURRENCY));
    let mut tasks: JoinSet<Listed> = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<_>, rel: NsPath| {
        let client = client.clone();
        let permits = permits.clone();
        let abs = root.join(&rel);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = list_children(&client, &abs).await;
            (rel, result)
        });
    };
    spawn(&mut tasks, NsPath::root());
    let mut walk = Walk::default();
    // Where each entry is, to mark it when its own listing answers.
    let mut index: HashMap<NsPath, usize> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((parent, result)) = joined else {
            continue;
        };
        let seal = match &result {
            Ok(_) => Seal::Open,
            Err(VaultError::NamespaceSealed { .. }) => Seal::Sealed,
            Err(_) => Seal::Unknown,
        };
        if let Some(&i) = index.get(&parent) {
            walk.entries[i].state.seal = seal;
        }
        let children = match result {
            Ok(children) => children,
            // A server without namespaces has only the root.
            Err(VaultError::NamespacesUnsupported { .. }) if parent.is_root() => {
                return Ok(no_namespaces())
            }
            // The starting namespace itself must be listable; below it, a namespace we may
            // not list is reported beside the rest rather than failing the whole tree.
            Err(e) if parent.is_root() => return Err(e),
            // A sealed one is marked, not reported: nothing inside it can be seen.
            Err(VaultError::NamespaceSealed { .. }) => continue,
            Err(e) => {
                walk.unlisted.push((parent, e.to_string()));
                continue;
            }
        };
        for (key, mut info) in children {
            let Ok(name) = NsPath::parse(&key) else {
                continue;
            };
            let rel = parent.join(&name);
            let state = NsState::of_info(&info);
            // As SCAN gives it: the full path, not the one relative to the walk's start.
            if let Some(obj) = info.as_object_mut() {
                obj.insert("path".into(), Value::String(root.join(&rel).header()));
            }
            if !state.locked && max_depth.is_none_or(|d| rel.depth() < d) {
                spawn(&mut tasks, rel.clone());
            }
            index.insert(rel.clone(), walk.entries.len());
            walk.entries.push(Entry {
                path: rel,
                state,
                info: Info::from(&info),
            });
        }
    }
    walk.entries.sort_by(|a, b| a.path.cmp(&b.path));
    walk.unlisted.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(walk)
}

/// What asking the seal state of some namespaces came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealAnswers {
    /// Each namespace asked (full path) and its state.
    pub states: HashMap<NsPath, Seal>,
    /// How many were left unasked (over the limit).
    pub not_asked: usize,
    /// Why some seal states are not known: the token may not ask, or another refusal. None
    /// when every namespace asked was answered.
    pub stopped: Option<String>,
    /// The server has no sealable namespaces (an OpenBao before 2.6, Vault): nothing is
    /// sealed, and nothing more was asked.
    pub unsupported: bool,
    /// The token may not read seal-status (what it may not read is not marked).
    pub denied: bool,
}

/// The seal state of one namespace (full path): `seal-status` from its parent. The root
/// is never sealable here (the server's own seal is another matter).
pub async fn seal_of(client: &Client, ns: &NsPath) -> Result<Seal, VaultError> {
    let Some(data) = seal_status(client, ns).await? else {
        return Ok(Seal::NotSealable);
    };
    match data.get("sealed").and_then(Value::as_bool) {
        Some(true) => Ok(Seal::Sealed),
        Some(false) => Ok(Seal::Unsealed),
        None => Err(VaultError::BadShape {
            req: seal_status_request(ns),
            what: "data.sealed is missing (expected true or false)".into(),
        }),
    }
}

/// The request that asks `ns`'s seal status (sent in its parent).
fn seal_status_request(ns: &NsPath) -> RequestInfo {
    let parent = ns.parent().unwrap_or_default();
    let path = format!(
        "sys/namespaces/{}/seal-status",
        ns.name().unwrap_or_default()
    );
    RequestInfo::new(Method::Get, &parent.header(), &path)
}

/// The `data` of `ns`'s seal-status (`sealed`, `t`, `n`, `progress`, …), or None when it
/// cannot be sealed (made without a seal, or the root).
pub async fn seal_status(client: &Client, ns: &NsPath) -> Result<Option<Value>, VaultError> {
    let (Some(parent), Some(name)) = (ns.parent(), ns.name()) else {
        return Ok(None);
    };
    let path = format!("sys/namespaces/{name}/seal-status");
    match client
        .request(Method::Get, &parent.header(), &path, None)
        .await
    {
        Ok(b) => Ok(Some(body::data(b))),
        Err(VaultError::Status {
            status: 400,
            messages,
            ..
        }) if messages.iter().any(|m| m.contains("not sealable")) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ask the seal state of `targets` (full paths), [`SEAL_CONCURRENCY`] at a time — none of
/// them when there are more than `limit` (a partly marked tree would read as if the rest
/// were not sealed). The first is asked alone: a server without sealable namespaces (an
/// OpenBao before 2.6, Vault) or a token that may not ask stops it there, rather than
/// costing a refused request per namespace.
pub async fn ask_seals(client: &Client, targets: Vec<NsPath>, limit: Option<usize>) -> SealAnswers {
    let mut answers = SealAnswers::default();
    if limit.is_some_and(|l| targets.len() > l) {
        answers.not_asked = targets.len();
        return answers;
    }
    let mut targets = targets.into_iter();
    let Some(first) = targets.next() else {
        return answers;
    };
    match seal_of(client, &first).await {
        Ok(seal) => {
            answers.states.insert(first, seal);
        }
        Err(e) => match seal_refusal(&e) {
            _ if matches!(e, VaultError::PermissionDenied { .. }) => {
                answers.not_asked += 1 + targets.len();
                answers.denied = true;
                answers.stopped = seal_refusal(&e);
                return answers;
            }
            None => {
                answers.unsupported = true;
                return answers;
            }
            Some(why) => {
                answers.not_asked += 1 + targets.len();
                answers.stopped = Some(why);
                return answers;
            }
        },
    }
    let permits = Arc::new(Semaphore::new(SEAL_CONCURRENCY));
    let mut tasks = JoinSet::new();
    for ns in targets {
        let (client, permits) = (client.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let seal = seal_of(&client, &ns).await;
            (ns, seal)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok((ns, seal)) = joined else {
            continue;
        };
        match seal {
            Ok(seal) => {
                answers.states.insert(ns, seal);
            }
            Err(e) => {
                answers.not_asked += 1;
                answers
                    .stopped
                    .get_or_insert_with(|| seal_refusal(&e).unwrap_or_else(|| e.to_string()));
            }
        }
    }
    answers
}

/// Why seal states could not be asked, in a few words; None when the server has no
/// sealable namespaces at all (nothing is missing then).
fn seal_refusal(e: &VaultError) -> Option<String> {
    match e {
        VaultError::PermissionDenied { .. } => Some("the token may not read seal-status".into()),
        VaultError::NotFound { .. }
        | VaultError::NamespaceNotFound { .. }
        | VaultError::NamespacesUnsupported { .. }
        | VaultError::Status {
            status: 404 | 405, ..
        } => None,
        other => Some(other.to_string()),
    }
}

/// Ask the seal state of the entries of `walk` (relative to `root`) that may be sealed —
/// not asked yet, not known open — at most `limit` of them, and mark them.
pub async fn fill_seals(
    client: &Client,
    root: &NsPath,
    walk: &mut Walk,
    limit: Option<usize>,
) -> SealAnswers {
    let targets: Vec<NsPath> = walk
        .entries
        .iter()
        .filter(|e| e.state.seal == Seal::Unknown)
        .map(|e| root.join(&e.path))
        .collect();
    let answers = ask_seals(client, targets, limit).await;
    for e in &mut walk.entries {
        if let Some(seal) = answers.states.get(&root.join(&e.path)) {
            e.state.seal = *seal;
        }
    }
    answers
}

/// One child namespace and its state, for a front end's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Its name with the trailing `/`, as listed.
    pub name: String,
    /// Locked, being deleted, sealed (asked for at most [`SEAL_ASK_LIMIT`] children).
    pub state: NsState,
}

/// The children of `ns` with their state: one LIST, then the seal state of each child
/// (none when there are more than `seal_limit`).
pub async fn children_with_state(
    client: &Client,
    ns: &NsPath,
    seal_limit: Option<usize>,
) -> Result<(Vec<Child>, SealAnswers), VaultError> {
    let listed = list_children(client, ns).await?;
    let mut children: Vec<Child> = listed
        .iter()
        .map(|(name, info)| Child {
            name: name.clone(),
            state: NsState::of_info(info),
        })
        .collect();
    let targets: Vec<NsPath> = children
        .iter()
        .filter_map(|c| NsPath::parse(&c.name).ok().map(|n| ns.join(&n)))
        .collect();
    let answers = ask_seals(client, targets, seal_limit).await;
    for c in &mut children {
        if let Some(seal) = NsPath::parse(&c.name)
            .ok()
            .and_then(|n| answers.states.get(&ns.join(&n)))
        {
            c.state.seal = *seal;
        }
    }
    Ok((children, answers))
}

/// A note on seal states left unasked, if any. A token that may not read seal-status is
/// told only where `tell_denied` (the incident view): elsewhere it is not noise to it.
pub fn seal_note(answers: &SealAnswers, how_to_ask_all: &str, tell_denied: bool) -> Option<String> {
    if answers.denied && !tell_denied {
        return None;
    }
    match (&answers.stopped, answers.not_asked) {
        (Some(why), _) if answers.states.is_empty() => {
            Some(format!("note: seal state not shown: {why}"))
        }
        (Some(why), n) => Some(format!(
            "note: seal state of {n} namespaces not shown: {why}"
        )),
        (None, 0) => None,
        (None, n) => Some(format!(
            "note: seal state of {n} namespaces not asked (one request each, more than {SEAL_ASK_LIMIT}): {how_to_ask_all}"
        )),
    }
}

/// Draw a walk as an indented tree under a title line (entries sorted, so in depth-first order).
pub fn render(title: &str, walk: &Walk) -> String {
    render_with(title, walk, |_| String::new())
}

/// Draw a walk, with `suffix(path)` after each namespace (the root is `NsPath::root()`).
pub fn render_with(title: &str, walk: &Walk, suffix: impl Fn(&NsPath) -> String) -> String {
    // Pass 1, from the end: an entry is the last of its siblings if no later entry shares its parent.
    let mut is_last = vec![false; walk.entries.len()];
    let mut parents_seen = std::collections::HashSet::new();
    for (i, e) in walk.entries.iter().enumerate().rev() {
        is_last[i] = parents_seen.insert(e.path.parent());
    }
    // Pass 2: a stack of "was the ancestor at this depth the last one" draws the rails.
    let mut lines = vec![format!("{title}{}", suffix(&NsPath::root()))];
    let mut rails: Vec<bool> = Vec::new();
    for (e, last) in walk.entries.iter().zip(is_last) {
        let depth = e.path.depth().max(1);
        rails.resize(depth - 1, true);
        let mut line: String = rails
            .iter()
            .map(|ancestor_last| if *ancestor_last { "    " } else { "│   " })
            .collect();
        line.push_str(if last { "└── " } else { "├── " });
        line.push_str(e.path.name().unwrap_or_default());
        line.push('/');
        let marks = e.state.label();
        if !marks.is_empty() {
            line.push_str(&format!("  [{marks}]"));
        }
        line.push_str(&suffix(&e.path));
        lines.push(line);
        rails.push(last);
    }
    for (ns, why) in &walk.unlisted {
        lines.push(format!("(children of {} not listed: {why})", ns.display()));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(p: &str, locked: bool) -> Entry {
        Entry {
            path: NsPath::parse(p).unwrap(),
            state: NsState {
                locked,
                ..NsState::default()
            },
            info: Info::default(),
        }
    }

    /// A client that sends nothing here: `scan_entries` only reads with it.
    fn offline_client() -> Client {
        Client::new(&crate::vault::Config {
            addr: "http://127.0.0.1:1".into(),
            token: None,
            namespace: String::new(),
            tls: crate::vault::TlsConfig::default(),
            timeout: std::time::Duration::from_secs(1),
            max_response_bytes: crate::vault::DEFAULT_MAX_RESPONSE_BYTES,
        })
        .unwrap()
    }

    /// The entries of a SCAN answer, read as `walk` reads them.
    fn scan_of(body: &Value) -> Vec<(String, NsState, Info)> {
        let req = RequestInfo::new(Method::Scan, "", "sys/namespaces");
        scan_entries(&offline_client(), body.to_string().as_bytes(), &req).unwrap()
    }

    fn paths(walk: &Walk) -> Vec<String> {
        walk.entries.iter().map(|e| e.path.header()).collect()
    }

    #[test]
    fn renders_branches() {
        let mut walk = Walk {
            entries: vec![
                entry("a", false),
                entry("a/x", true),
                entry("a/y", false),
                entry("a/y/z", false),
                entry("b", false),
            ],
            scanned: true,
            ..Walk::default()
        };
        assert_eq!(
            render("/", &walk),
            "/\n├── a/\n│   ├── x/  [locked]\n│   └── y/\n│       └── z/\n└── b/"
        );
        walk.entries[4].state.seal = Seal::Sealed;
        walk.entries[1].state.tainted = true;
        walk.entries[1].state.seal = Seal::Sealed;
        assert_eq!(
            render("/", &walk),
            "/\n├── a/\n│   ├── x/  [locked, sealed, being deleted]\n│   └── y/\n│       └── z/\n└── b/  [sealed]"
        );
    }

    #[test]
    fn key_info_keeps_key_order() {
        let body = serde_json::json!({"data":{"keys":["b/","a/"],"key_info":{"a/":{"locked":true},"b/":{}}}});
        let m = key_info(Some(body));
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["b/", "a/"]);
        assert!(NsState::of_info(&m["a/"]).locked);
    }

    #[test]
    fn a_scan_keeps_each_entry_as_the_server_sent_it() {
        let body = json!({"data":{"keys":["b/","a/","gone/"],"key_info":{
            "a/":{"custom_metadata":{"team":"x","n":"1"},"id":"RtIFI4","locked":true,"path":"a/","uuid":"5a6f"},
            "b/":{"path":"b/","tainted":true,"extra":[1,{"k":null}]}
        }}});
        let entries = scan_of(&body);
        let names: Vec<&str> = entries.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(names, ["b/", "a/", "gone/"]);
        // The same document, its keys in the server's order.
        for (k, _, info) in &entries[..2] {
            assert_eq!(
                info.value().to_string(),
                body["data"]["key_info"][k].to_string()
            );
        }
        assert!(entries[1].1.locked && !entries[1].1.tainted);
        assert!(entries[0].1.tainted && !entries[0].1.locked);
        // A key without an entry: no state, no description (as `key_info` reads it).
        assert_eq!(entries[2].1, NsState::default());
        assert_eq!(entries[2].2, Value::Null);
    }

    #[test]
    fn a_scan_of_another_shape_is_read_as_before() {
        // A key that is not a string is skipped, as `key_info` does.
        let odd = json!({"data":{"keys":["a/", 3],"key_info":{"a/":{"locked":true}}}});
        let entries = scan_of(&odd);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].1.locked);
        // No data: no namespaces.
        assert!(scan_of(&json!({"warnings":["x"]})).is_empty());
        // Not JSON: an error naming the request, never "no namespaces".
        let req = RequestInfo::new(Method::Scan, "", "sys/namespaces");
        let e = scan_entries(&offline_client(), b"<html>", &req).unwrap_err();
        assert!(matches!(e, VaultError::NotJson { .. }), "{e:?}");
    }

    #[test]
    fn state_from_the_text_is_the_state_from_the_document() {
        for info in [
            json!({"locked": true, "tainted": true}),
            json!({"locked": false, "tainted": true, "path": "a/"}),
            json!({"locked": "yes"}),
            json!({"tainted": 1}),
            json!({}),
            json!(null),
            json!([true]),
            json!("locked"),
        ] {
            let raw = serde_json::value::to_raw_value(&info).unwrap();
            assert_eq!(NsState::of_raw(&raw), NsState::of_info(&info), "{info}");
        }
    }

    #[test]
    fn state_comes_from_key_info() {
        // OpenBao 2.6.2 and 2.7.2 list `locked` and `tainted`; the seal is not listed.
        let info = json!({"custom_metadata":{},"id":"RtIFI4","locked":false,"path":"sealy/","tainted":true,"uuid":"5a6f"});
        let s = NsState::of_info(&info);
        assert_eq!(
            s,
            NsState {
                locked: false,
                tainted: true,
                seal: Seal::Unknown
            }
        );
        assert_eq!(s.label(), "being deleted");
        // Vault Enterprise's listing has neither: nothing is marked.
        assert_eq!(
            NsState::of_info(&json!({"custom_metadata":{},"id":"HWmNL","path":"bar/"})),
            NsState::default()
        );
        assert!(NsState {
            seal: Seal::Sealed,
            ..NsState::default()
        }
        .is_closed());
    }

    #[test]
    fn a_scan_marks_namespaces_with_children_open() {
        let body = json!({"data":{"keys":["a/","a/b/","c/"],"key_info":{
            "a/":{"locked":false,"tainted":false},
            "a/b/":{"locked":true},
            "c/":{}
        }}});
        let walk = from_scan(scan_of(&body), None);
        assert_eq!(paths(&walk), ["a/", "a/b/", "c/"]);
        let seal: Vec<Seal> = walk.entries.iter().map(|e| e.state.seal).collect();
        assert_eq!(seal, [Seal::Open, Seal::Unknown, Seal::Unknown]);
        assert!(walk.entries[1].state.locked);
        // Cut at one level, `a` is still known open (its children were in the answer).
        let walk = from_scan(scan_of(&body), Some(1));
        assert_eq!(paths(&walk), ["a/", "c/"]);
        assert_eq!(walk.entries[0].state.seal, Seal::Open);
    }

    #[test]
    fn vault_enterprise_subtree_from_the_ui_list() {
        // Vault Enterprise's documented answer of sys/internal/ui/namespaces.
        let answer = json!({"request_id":"28a1ca80-cc97-913d-8ed2-844ea501ae0d","lease_id":"","renewable":false,"lease_duration":0,
            "data":{"keys":["software/","software/eng/","software/eng/dev/","software/eng/qc/","devops/"]},
            "wrap_info":null,"warnings":null,"auth":null,"mount_type":""});
        let keys = body::keys(Some(&answer));
        let root = NsPath::root();
        let walk = from_ui_list(&root, &keys, None).expect("nested paths: used");
        assert_eq!(
            paths(&walk),
            [
                "devops/",
                "software/",
                "software/eng/",
                "software/eng/dev/",
                "software/eng/qc/"
            ]
        );
        assert_eq!(walk.source, Source::UiList);
        assert!(!walk.scanned);
        assert_eq!(walk.entries[1].info, json!({"path": "software/"}));
        assert_eq!(walk.entries[1].state.seal, Seal::Open);
        assert_eq!(walk.entries[0].state.seal, Seal::Unknown);
        // Asked in a namespace, the paths are below it; the info names the full path.
        let acme = NsPath::parse("acme").unwrap();
        let walk = from_ui_list(&acme, &keys, Some(2)).unwrap();
        assert_eq!(paths(&walk), ["devops/", "software/", "software/eng/"]);
        assert_eq!(walk.entries[2].info, json!({"path": "acme/software/eng/"}));
        // An ancestor the answer leaves out is still in the tree.
        let walk = from_ui_list(&root, &["x/y/".to_string()], None).unwrap();
        assert_eq!(paths(&walk), ["x/", "x/y/"]);
        // OpenBao answers with the children only: not used (a LIST says more).
        let openbao = json!({"data":{"keys":["z1/","plain/"]}});
        assert!(from_ui_list(&root, &body::keys(Some(&openbao)), None).is_none());
        assert!(from_ui_list(&root, &[], None).is_none());
    }

    #[test]
    fn seal_notes_say_what_was_left_out() {
        let mut a = SealAnswers::default();
        assert_eq!(seal_note(&a, "ask", true), None);
        a.not_asked = 300;
        assert!(seal_note(&a, "`tree --seal` asks them all", true)
            .unwrap()
            .contains("seal state of 300 namespaces not asked"));
        a.stopped = Some("the token may not read seal-status".into());
        a.denied = true;
        assert_eq!(seal_note(&a, "x", false), None);
        assert_eq!(
            seal_note(&a, "x", true).unwrap(),
            "note: seal state not shown: the token may not read seal-status"
        );
        // A server without sealable namespaces leaves nothing out.
        let none = SealAnswers {
            unsupported: true,
            ..SealAnswers::default()
        };
        assert_eq!(seal_note(&none, "x", true), None);
    }
}
