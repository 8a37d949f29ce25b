//! `diff [-r] A B`: two namespaces compared — their children, secrets engines (type, KV
//! version, description, options), auth methods, ACL policies (names, and a unified diff
//! of the text of those both have), password policies and custom metadata. With `-r`
//! their subtrees too, namespace by namespace at the same relative path.
//!
//! As `diff` does, the command fails (status 1) when they differ: the report is carried by
//! [`EngineError::Failed`], so a script sees the status and still gets the report (as
//! JSON with `--format json`). What cannot be read on either side is said, never taken
//! for "the same", and also fails the command.

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::{json, Map, Value};
use unicode_width::UnicodeWidthStr;

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{cell, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::engine::tree;
use crate::vault::{body, Client, Method, VaultError};

/// How many namespaces are read at once (each is several requests).
const CONCURRENCY: usize = 8;

/// How many policies of one namespace are read at once.
const POLICY_CONCURRENCY: usize = 8;

/// Lines of context around a change in a policy's diff.
const CONTEXT: usize = 3;

/// Texts longer than this (lines, either side) are said to differ, not diffed line by line.
const MAX_DIFF_LINES: usize = 4000;

/// `diff [-r] A B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The first namespace (`None`: here).
    pub a: Option<String>,
    /// The second namespace.
    pub b: String,
    /// Their subtrees too.
    pub recursive: bool,
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "diff",
    "diff [-r] [A] B",
    "compare two namespaces (A: here when left out): children, mounts, auth, policies, password policies, metadata; exit 1 when they differ",
)
.flags(&["-r"])
.args(&[Arg::Namespace, Arg::Namespace])];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Diff> {
    if name != "diff" {
        return None;
    }
    let usage = COMMANDS[0].usage;
    let mut recursive = false;
    let mut names = Vec::new();
    for w in rest {
        match w.as_str() {
            "-r" | "--recursive" => recursive = true,
            f if f.starts_with('-') && f != "-" => {
                return Some(Err(UsageError::new(
                    usage,
                    format!("`diff` has no flag {f}"),
                )))
            }
            _ => names.push(w.clone()),
        }
    }
    Some(match names.as_slice() {
        [b] => Ok(Diff {
            a: None,
            b: b.clone(),
            recursive,
        }),
        [a, b] => Ok(Diff {
            a: Some(a.clone()),
            b: b.clone(),
            recursive,
        }),
        _ => Err(UsageError::new(
            usage,
            "`diff` compares two namespaces: diff A B",
        )),
    })
}

/// A part of a namespace, or why it could not be read.
type Part<T> = Result<T, String>;

/// What of a secrets engine or auth method is compared.
#[derive(Debug, Clone, PartialEq)]
pub struct MountFacts {
    /// Its type.
    pub kind: String,
    /// Its KV version (`""` for other types).
    pub version: String,
    /// Its description.
    pub description: String,
    /// Its options (KV's version filled in when the server left it out).
    pub options: Value,
}

impl MountFacts {
    fn of(info: &Value) -> MountFacts {
        let kind = info
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut options = match info.get("options") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        // A KV mount without a version is version 1: say so, on both sides alike.
        if kind == "kv" && !options.contains_key("version") {
            options.insert("version".into(), json!("1"));
        }
        let version = if kind == "kv" {
            options
                .get("version")
                .map(cell)
                .unwrap_or_else(|| "1".into())
        } else {
            String::new()
        };
        MountFacts {
            description: info
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            kind,
            version,
            options: Value::Object(options),
        }
    }

    fn options_but_version(&self) -> Value {
        let mut o = self.options.clone();
        if let Some(m) = o.as_object_mut() {
            m.remove("version");
        }
        o
    }

    /// The fields that differ: name → [a, b].
    fn changes(&self, other: &MountFacts) -> Vec<(&'static str, Value, Value)> {
        let mut out = Vec::new();
        if self.kind != other.kind {
            out.push(("type", json!(self.kind), json!(other.kind)));
        }
        if self.version != other.version {
            out.push(("version", json!(self.version), json!(other.version)));
        }
        if self.description != other.description {
            out.push((
                "description",
                json!(self.description),
                json!(other.description),
            ));
        }
        // KV's version is its own line: the options are compared without it.
        let (oa, ob) = (self.options_but_version(), other.options_but_version());
        if oa != ob {
            out.push(("options", oa, ob));
        }
        out
    }
}

/// Everything `diff` compares of one namespace.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Child name (`x/`) → locked.
    pub children: Option<Part<BTreeMap<String, bool>>>,
    /// Secrets engines by path.
    pub mounts: Option<Part<BTreeMap<String, MountFacts>>>,
    /// Auth methods by path.
    pub auth: Option<Part<BTreeMap<String, MountFacts>>>,
    /// ACL policies: name → text.
    pub policies: Option<Part<BTreeMap<String, String>>>,
    /// Password policies: name → text.
    pub password_policies: Option<Part<BTreeMap<String, String>>>,
    /// The namespace's custom metadata.
    pub metadata: Option<Part<BTreeMap<String, Value>>>,
}

fn why(e: &VaultError) -> String {
    match e {
        VaultError::PermissionDenied { .. } => "permission denied".into(),
        VaultError::NamespaceLocked { locked, .. } => format!("namespace {locked} is locked"),
        other => other.to_string(),
    }
}

async fn mount_table(
    client: &Client,
    ns: &NsPath,
    path: &str,
) -> Part<BTreeMap<String, MountFacts>> {
    let answer = client
        .request(Method::Get, &ns.header(), path, None)
        .await
        .map_err(|e| why(&e))?;
    Ok(body::mounts(answer.as_ref())
        .iter()
        .map(|(k, v)| (k.clone(), MountFacts::of(v)))
        .collect())
}

/// Every policy under `list_path` with its text (`policy` of each one's read).
async fn policy_texts(
    client: &Client,
    ns: &NsPath,
    list_path: &str,
) -> Part<BTreeMap<String, String>> {
    let names = client
        .list_keys(&ns.header(), list_path)
        .await
        .map_err(|e| why(&e))?;
    let header = ns.header();
    let texts: Vec<(String, Result<String, String>)> =
        futures::stream::iter(names.into_iter().map(|n| {
            let header = header.clone();
            async move {
                let path = format!("{list_path}/{n}");
                let r = client
                    .read_data(&header, &path)
                    .await
                    .map(|d| d.get("policy").map(cell).unwrap_or_default())
                    .map_err(|e| why(&e));
                (n, r)
            }
        }))
        .buffered(POLICY_CONCURRENCY)
        .collect()
        .await;
    let mut out = BTreeMap::new();
    for (n, t) in texts {
        out.insert(n.clone(), t.map_err(|e| format!("policy {n}: {e}"))?);
    }
    Ok(out)
}

async fn custom_metadata(client: &Client, ns: &NsPath) -> Part<BTreeMap<String, Value>> {
    let (Some(parent), Some(name)) = (ns.parent(), ns.name()) else {
        // The root has no custom metadata.
        return Ok(BTreeMap::new());
    };
    let data = client
        .read_data(&parent.header(), &format!("sys/namespaces/{name}"))
        .await
        .map_err(|e| why(&e))?;
    Ok(match data.get("custom_metadata") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => BTreeMap::new(),
    })
}

/// Read what `diff` compares of `ns`, all at once. A namespace that does not exist is an
/// error; a part the token may not read says why.
pub async fn snapshot(client: &Client, ns: &NsPath) -> Result<Snapshot, EngineError> {
    let children = async {
        tree::list_children(client, ns).await.map(|c| {
            c.iter()
                .map(|(k, v)| {
                    let locked = v.get("locked").and_then(Value::as_bool).unwrap_or(false);
                    (k.clone(), locked)
                })
                .collect::<BTreeMap<String, bool>>()
        })
    };
    let (children, mounts, auth, policies, password_policies, metadata) = tokio::join!(
        children,
        mount_table(client, ns, "sys/mounts"),
        mount_table(client, ns, "sys/auth"),
        policy_texts(client, ns, "sys/policies/acl"),
        policy_texts(client, ns, "sys/policies/password"),
        custom_metadata(client, ns),
    );
    let children = match children {
        Err(VaultError::NamespaceNotFound { .. }) => {
            return Err(EngineError::Other(format!(
                "diff: namespace {ns} does not exist"
            )))
        }
        other => other.map_err(|e| why(&e)),
    };
    Ok(Snapshot {
        children: Some(children),
        mounts: Some(mounts),
        auth: Some(auth),
        policies: Some(policies),
        password_policies: Some(password_policies),
        metadata: Some(metadata),
    })
}

/// A name and its JSON detail (a mount's type, a metadata value).
type Named = (String, Value);

/// How one part of the two namespaces compares.
#[derive(Debug, Clone, PartialEq)]
pub enum Compared {
    /// Both were read: what is only on either side, and what both have but differs.
    Read {
        /// Names (or, for metadata, `k=v`) only in A, with their JSON detail.
        only_a: Vec<Named>,
        /// The same, only in B.
        only_b: Vec<Named>,
        /// Name → (lines for people, JSON detail).
        changed: Vec<(String, Vec<String>, Value)>,
    },
    /// Not compared: why.
    Unread(String),
}

impl Compared {
    fn differs(&self) -> bool {
        matches!(self, Compared::Read { only_a, only_b, changed } if !(only_a.is_empty() && only_b.is_empty() && changed.is_empty()))
    }
}

/// One part, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Its key in the JSON document.
    pub key: &'static str,
    /// Its title for people.
    pub title: &'static str,
    /// How it compares.
    pub compared: Compared,
}

/// Two namespaces compared, part by part.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// One per part, in the report's order.
    pub sections: Vec<Section>,
}

impl Comparison {
    /// Whether any part differs.
    pub fn differs(&self) -> bool {
        self.sections.iter().any(|s| s.compared.differs())
    }

    /// The parts that could not be compared, with why.
    pub fn unread(&self) -> Vec<(&'static str, &str)> {
        self.sections
            .iter()
            .filter_map(|s| match &s.compared {
                Compared::Unread(w) => Some((s.title, w.as_str())),
                Compared::Read { .. } => None,
            })
            .collect()
    }

    /// The titles of the parts that differ.
    pub fn differing(&self) -> Vec<&'static str> {
        self.sections
            .iter()
            .filter(|s| s.compared.differs())
            .map(|s| s.title)
            .collect()
    }

    /// The JSON document: each part's `only_in_a`, `only_in_b` and `changed` (or `error`).
    pub fn to_json(&self, only_differing: bool) -> Map<String, Value> {
        let mut out = Map::new();
        for s in &self.sections {
            if only_differing && !s.compared.differs() && !matches!(s.compared, Compared::Unread(_))
            {
                continue;
            }
            let v = match &s.compared {
                Compared::Unread(w) => json!({ "error": w }),
                Compared::Read {
                    only_a,
                    only_b,
                    changed,
                } => {
                    let side = |items: &[Named]| -> Value {
                        if s.key == "custom_metadata" {
                            Value::Object(items.iter().cloned().collect())
                        } else {
                            Value::from(items.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
                        }
                    };
                    json!({
                        "only_in_a": side(only_a),
                        "only_in_b": side(only_b),
                        "changed": changed.iter().map(|(n, _, j)| (n.clone(), j.clone())).collect::<Map<String, Value>>(),
                    })
                }
            };
            out.insert(s.key.into(), v);
        }
        out
    }

    /// The report for people: a section per part, `-` only in A, `+` only in B, `~` both
    /// but different.
    pub fn to_views(&self, a: &str, b: &str, only_differing: bool) -> Vec<(String, View)> {
        self.sections
            .iter()
            .filter(|s| {
                !only_differing || s.compared.differs() || matches!(s.compared, Compared::Unread(_))
            })
            .map(|s| {
                let lines = match &s.compared {
                    Compared::Unread(w) => vec![format!("(not compared: {w})")],
                    c if !c.differs() => vec!["(same)".to_string()],
                    Compared::Read {
                        only_a,
                        only_b,
                        changed,
                    } => {
                        let mut lines = Vec::new();
                        let label = |n: &str, v: &Value| match v {
                            Value::Null => n.to_string(),
                            _ if s.key == "custom_metadata" => format!("{n}={}", cell(v)),
                            other => format!("{n} ({})", cell(other)),
                        };
                        // "only in …" in one column, under the widest name.
                        let labelled: Vec<(char, String, &str)> = only_a
                            .iter()
                            .map(|(n, v)| ('-', label(n, v), a))
                            .chain(only_b.iter().map(|(n, v)| ('+', label(n, v), b)))
                            .collect();
                        let width = labelled.iter().map(|(_, l, _)| l.width()).max();
                        lines.extend(labelled.iter().map(|(sign, l, side)| {
                            let pad = width.unwrap_or(0) - l.width();
                            format!("{sign} {l}{}   only in {side}", " ".repeat(pad))
                        }));
                        for (n, detail, _) in changed {
                            match detail.as_slice() {
                                [one] => lines.push(format!("~ {n}: {one}")),
                                _ => {
                                    lines.push(format!("~ {n}"));
                                    lines.extend(detail.iter().map(|l| format!("    {l}")));
                                }
                            }
                        }
                        lines
                    }
                };
                (s.title.to_string(), View::Text(lines.join("\n")))
            })
            .collect()
    }
}

fn names_only<T>(
    a: &BTreeMap<String, T>,
    b: &BTreeMap<String, T>,
    detail: impl Fn(&T) -> Value,
) -> (Vec<Named>, Vec<Named>) {
    let only = |x: &BTreeMap<String, T>, y: &BTreeMap<String, T>| {
        x.iter()
            .filter(|(k, _)| !y.contains_key(*k))
            .map(|(k, v)| (k.clone(), detail(v)))
            .collect()
    };
    (only(a, b), only(b, a))
}

fn both<'m, T>(
    a: &'m BTreeMap<String, T>,
    b: &'m BTreeMap<String, T>,
) -> impl Iterator<Item = (&'m String, &'m T, &'m T)> {
    a.iter()
        .filter_map(|(k, va)| b.get(k).map(|vb| (k, va, vb)))
}

fn compare_part<T>(
    a: &Option<Part<T>>,
    b: &Option<Part<T>>,
    an: &str,
    bn: &str,
    f: impl FnOnce(&T, &T) -> Compared,
) -> Compared {
    match (a, b) {
        (Some(Ok(x)), Some(Ok(y))) => f(x, y),
        (Some(Err(e)), _) => Compared::Unread(format!("not readable in {an}: {e}")),
        (_, Some(Err(e))) => Compared::Unread(format!("not readable in {bn}: {e}")),
        _ => Compared::Unread("not read".into()),
    }
}

fn compare_mounts(
    a: &BTreeMap<String, MountFacts>,
    b: &BTreeMap<String, MountFacts>,
    an: &str,
    bn: &str,
) -> Compared {
    let (only_a, only_b) = names_only(a, b, |m| json!(kind_of(m)));
    let changed = both(a, b)
        .filter_map(|(k, x, y)| {
            let ch = x.changes(y);
            if ch.is_empty() {
                return None;
            }
            let lines = ch
                .iter()
                .map(|(f, va, vb)| format!("{f}: {} in {an}, {} in {bn}", shown(va), shown(vb)))
                .collect();
            let detail: Map<String, Value> = ch
                .into_iter()
                .map(|(f, va, vb)| (f.to_string(), json!([va, vb])))
                .collect();
            Some((k.clone(), lines, Value::Object(detail)))
        })
        .collect();
    Compared::Read {
        only_a,
        only_b,
        changed,
    }
}

fn kind_of(m: &MountFacts) -> String {
    if m.version.is_empty() {
        m.kind.clone()
    } else {
        format!("{} v{}", m.kind, m.version)
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "(empty)".into(),
        other => cell(other),
    }
}

fn compare_texts(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    an: &str,
    bn: &str,
) -> Compared {
    let (only_a, only_b) = names_only(a, b, |_| Value::Null);
    let changed = both(a, b)
        .filter(|(_, x, y)| x != y)
        .map(|(k, x, y)| {
            let lines = if x.lines().count() > MAX_DIFF_LINES || y.lines().count() > MAX_DIFF_LINES
            {
                vec!["the texts differ (too long to compare line by line)".to_string()]
            } else {
                let mut l = vec![format!("--- {an} {k}"), format!("+++ {bn} {k}")];
                l.extend(unified(x, y, CONTEXT));
                l
            };
            let diff = Value::from(lines.join("\n"));
            (k.clone(), lines, diff)
        })
        .collect();
    Compared::Read {
        only_a,
        only_b,
        changed,
    }
}

/// Compare two snapshots; `an` and `bn` name them in the report.
pub fn compare(a: &Snapshot, b: &Snapshot, an: &str, bn: &str) -> Comparison {
    let children = compare_part(&a.children, &b.children, an, bn, |x, y| {
        let (only_a, only_b) = names_only(x, y, |_| Value::Null);
        let changed = both(x, y)
            .filter(|(_, la, lb)| la != lb)
            .map(|(k, la, _)| {
                let (l, u) = if *la { (an, bn) } else { (bn, an) };
                (
                    k.clone(),
                    vec![format!("locked in {l}, not in {u}")],
                    json!({ "locked": [la, !la] }),
                )
            })
            .collect();
        Compared::Read {
            only_a,
            only_b,
            changed,
        }
    });
    let mounts = compare_part(&a.mounts, &b.mounts, an, bn, |x, y| {
        compare_mounts(x, y, an, bn)
    });
    let auth = compare_part(&a.auth, &b.auth, an, bn, |x, y| {
        compare_mounts(x, y, an, bn)
    });
    let policies = compare_part(&a.policies, &b.policies, an, bn, |x, y| {
        compare_texts(x, y, an, bn)
    });
    let password = compare_part(
        &a.password_policies,
        &b.password_policies,
        an,
        bn,
        |x, y| compare_texts(x, y, an, bn),
    );
    let metadata = compare_part(&a.metadata, &b.metadata, an, bn, |x, y| {
        let (only_a, only_b) = names_only(x, y, Clone::clone);
        let changed = both(x, y)
            .filter(|(_, va, vb)| va != vb)
            .map(|(k, va, vb)| {
                (
                    k.clone(),
                    vec![format!("{} in {an}, {} in {bn}", shown(va), shown(vb))],
                    json!([va, vb]),
                )
            })
            .collect();
        Compared::Read {
            only_a,
            only_b,
            changed,
        }
    });
    Comparison {
        sections: vec![
            Section {
                key: "children",
                title: "Child namespaces",
                compared: children,
            },
            Section {
                key: "mounts",
                title: "Secrets engines",
                compared: mounts,
            },
            Section {
                key: "auth",
                title: "Auth methods",
                compared: auth,
            },
            Section {
                key: "policies",
                title: "ACL policies",
                compared: policies,
            },
            Section {
                key: "password_policies",
                title: "Password policies",
                compared: password,
            },
            Section {
                key: "custom_metadata",
                title: "Custom metadata",
                compared: metadata,
            },
        ],
    }
}

/// One line of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit<'a> {
    Same(&'a str),
    Del(&'a str),
    Add(&'a str),
}

/// The shortest edit script from `a` to `b` (a longest common subsequence of lines).
fn edits<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Edit<'a>> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(Edit::Same(a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Edit::Add(b[j]));
            j += 1;
        } else {
            out.push(Edit::Del(a[i]));
            i += 1;
        }
    }
    // Deletions before additions within a run of changes, as `diff -u` prints them.
    let mut k = 0;
    while k < out.len() {
        if matches!(out[k], Edit::Same(_)) {
            k += 1;
            continue;
        }
        let end = (k..out.len())
            .find(|&e| matches!(out[e], Edit::Same(_)))
            .unwrap_or(out.len());
        out[k..end].sort_by_key(|e| matches!(e, Edit::Add(_)));
        k = end;
    }
    out
}

/// A unified diff of two texts, line by line: `@@ -l,n +l,n @@` hunks with `context`
/// lines around each change. Empty when they are the same.
pub fn unified(a: &str, b: &str, context: usize) -> Vec<String> {
    let al: Vec<&str> = a.lines().collect();
    let bl: Vec<&str> = b.lines().collect();
    let ops = edits(&al, &bl);
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, _) in ops
        .iter()
        .enumerate()
        .filter(|(_, e)| !matches!(e, Edit::Same(_)))
    {
        let (s, e) = (i.saturating_sub(context), (i + 1 + context).min(ops.len()));
        match groups.last_mut() {
            Some(g) if s <= g.1 => g.1 = g.1.max(e),
            _ => groups.push((s, e)),
        }
    }
    // How many lines of a and of b come before each edit.
    let mut at = vec![(0usize, 0usize); ops.len() + 1];
    for (i, e) in ops.iter().enumerate() {
        let (x, y) = at[i];
        at[i + 1] = match e {
            Edit::Same(_) => (x + 1, y + 1),
            Edit::Del(_) => (x + 1, y),
            Edit::Add(_) => (x, y + 1),
        };
    }
    let range = |start: usize, len: usize| {
        // As diff -u: an empty range names the line before it.
        let first = if len == 0 { start } else { start + 1 };
        format!("{first},{len}")
    };
    let mut out = Vec::new();
    for (s, e) in groups {
        let (a0, b0) = at[s];
        let (a1, b1) = at[e];
        out.push(format!(
            "@@ -{} +{} @@",
            range(a0, a1 - a0),
            range(b0, b1 - b0)
        ));
        for op in &ops[s..e] {
            out.push(match op {
                Edit::Same(l) => format!(" {l}"),
                Edit::Del(l) => format!("-{l}"),
                Edit::Add(l) => format!("+{l}"),
            });
        }
    }
    out
}

/// Run `diff`.
pub async fn run(session: &Session, cmd: &Diff) -> Result<Output, EngineError> {
    let a = session.resolve(cmd.a.as_deref().or(Some(".")))?;
    let b = session.resolve(Some(&cmd.b))?;
    let client = session.client();
    let (an, bn) = (a.display(), b.display());
    let (sa, sb) = tokio::join!(snapshot(client, &a), snapshot(client, &b));
    let top = compare(&sa?, &sb?, &an, &bn);
    let mut json_out = Map::new();
    json_out.insert("a".into(), json!(a.header()));
    json_out.insert("b".into(), json!(b.header()));
    let mut sections = top.to_views(&an, &bn, false);
    let mut differs = top.differs();
    let mut unread: Vec<String> = top
        .unread()
        .iter()
        .map(|(t, w)| format!("{t}: {w}"))
        .collect();
    let mut doc = top.to_json(false);
    if cmd.recursive {
        let sub = subtrees(session, &a, &b).await?;
        differs |= sub.differs();
        unread.extend(sub.unread.iter().cloned());
        sections.extend(sub.views(&an, &bn));
        doc.insert("subtrees".into(), sub.json());
    }
    json_out.insert("same".into(), json!(!differs && unread.is_empty()));
    json_out.extend(doc);
    let out = Output {
        json: Some(Value::Object(json_out)),
        view: View::Sections(sections),
        notes: vec![],
    };
    if differs {
        let mut parts = top.differing();
        if cmd.recursive && !parts.contains(&"Subtrees") {
            parts.push("Subtrees");
        }
        let parts: Vec<&str> = parts.into_iter().collect();
        return Err(EngineError::failed(
            format!("{an} and {bn} differ ({})", parts.join(", ").to_lowercase()),
            out,
        ));
    }
    if !unread.is_empty() {
        return Err(EngineError::failed(
            format!(
                "{an} and {bn} could not be compared entirely ({}): no difference in what was read",
                unread.join("; ")
            ),
            out,
        ));
    }
    Ok(out.with_note(format!(
        "note: {an} and {bn} are the same in every part compared"
    )))
}

/// The subtrees of A and B compared by relative path.
struct Subtrees {
    only_a: Vec<NsPath>,
    only_b: Vec<NsPath>,
    /// Relative path → its comparison, for the pairs that differ or could not be read.
    pairs: Vec<(NsPath, Comparison)>,
    /// Why a walk or a pair could not be read.
    unread: Vec<String>,
}

impl Subtrees {
    fn differs(&self) -> bool {
        !self.only_a.is_empty()
            || !self.only_b.is_empty()
            || self.pairs.iter().any(|(_, c)| c.differs())
    }

    fn json(&self) -> Value {
        let names = |v: &[NsPath]| Value::from(v.iter().map(NsPath::header).collect::<Vec<_>>());
        let pairs: Map<String, Value> = self
            .pairs
            .iter()
            .map(|(p, c)| (p.header(), Value::Object(c.to_json(true))))
            .collect();
        json!({
            "only_in_a": names(&self.only_a),
            "only_in_b": names(&self.only_b),
            "differ": pairs,
            "errors": self.unread,
        })
    }

    fn views(&self, an: &str, bn: &str) -> Vec<(String, View)> {
        let mut lines = Vec::new();
        lines.extend(
            self.only_a
                .iter()
                .map(|p| format!("- {}   only below {an}", p.header())),
        );
        lines.extend(
            self.only_b
                .iter()
                .map(|p| format!("+ {}   only below {bn}", p.header())),
        );
        for (p, c) in &self.pairs {
            let mut what = c.differing();
            what.extend(c.unread().iter().map(|(t, _)| *t));
            lines.push(format!(
                "~ {}: {}",
                p.header(),
                what.join(", ").to_lowercase()
            ));
        }
        lines.extend(self.unread.iter().map(|u| format!("(not compared: {u})")));
        if lines.is_empty() {
            lines.push("(same)".into());
        }
        let mut out = vec![("Subtrees".to_string(), View::Text(lines.join("\n")))];
        for (p, c) in &self.pairs {
            let (pa, pb) = (join_display(an, p), join_display(bn, p));
            for (title, view) in c.to_views(&pa, &pb, true) {
                out.push((format!("{}: {title}", p.header()), view));
            }
        }
        out
    }
}

fn join_display(base: &str, rel: &NsPath) -> String {
    if base == "/" {
        rel.display()
    } else {
        format!("{base}/{}", rel.display())
    }
}

async fn subtrees(session: &Session, a: &NsPath, b: &NsPath) -> Result<Subtrees, EngineError> {
    let client = session.client();
    let scan = !session.options().no_scan;
    let (wa, wb) = tokio::join!(
        tree::walk(client, a, None, scan),
        tree::walk(client, b, None, scan)
    );
    let (wa, wb) = (wa?, wb?);
    let mut unread: Vec<String> = Vec::new();
    for (base, w) in [(a, &wa), (b, &wb)] {
        unread.extend(
            w.unlisted
                .iter()
                .map(|(p, e)| format!("the children of {} could not be listed: {e}", base.join(p))),
        );
    }
    let rel = |w: &tree::Walk| -> BTreeMap<NsPath, bool> {
        w.entries
            .iter()
            .map(|e| (e.path.clone(), e.state.locked))
            .collect()
    };
    let (ra, rb) = (rel(&wa), rel(&wb));
    let only = |x: &BTreeMap<NsPath, bool>, y: &BTreeMap<NsPath, bool>| -> Vec<NsPath> {
        x.keys().filter(|k| !y.contains_key(*k)).cloned().collect()
    };
    let common: Vec<NsPath> = ra
        .iter()
        .filter(|(k, la)| rb.get(*k).is_some_and(|lb| !**la && !*lb))
        .map(|(k, _)| k.clone())
        .collect();
    // A namespace locked on either side refuses every read: said, not compared.
    for (k, la) in &ra {
        if let Some(lb) = rb.get(k) {
            if *la || *lb {
                unread.push(format!("{}: locked, not compared", k.header()));
            }
        }
    }
    let mut meter = session.meter("diff", "namespace pairs", common.len());
    let (an, bn) = (a.display(), b.display());
    let mut compared = futures::stream::iter(common.into_iter().map(|rel| {
        let (pa, pb) = (a.join(&rel), b.join(&rel));
        async move {
            let (sa, sb) = tokio::join!(snapshot(client, &pa), snapshot(client, &pb));
            (rel, sa, sb)
        }
    }))
    .buffered(CONCURRENCY);
    let mut pairs = Vec::new();
    let mut done = 0;
    while let Some((rel, sa, sb)) = compared.next().await {
        done += 1;
        meter.tick(done);
        match (sa, sb) {
            (Ok(sa), Ok(sb)) => {
                let c = compare(&sa, &sb, &join_display(&an, &rel), &join_display(&bn, &rel));
                if c.differs() || !c.unread().is_empty() {
                    unread.extend(
                        c.unread()
                            .iter()
                            .map(|(t, w)| format!("{}: {t}: {w}", rel.header())),
                    );
                    pairs.push((rel, c));
                }
            }
            (Err(e), _) | (_, Err(e)) => unread.push(format!("{}: {e}", rel.header())),
        }
    }
    Ok(Subtrees {
        only_a: only(&ra, &rb),
        only_b: only(&rb, &ra),
        pairs,
        unread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_one_or_two_namespaces() {
        assert_eq!(
            parse("diff", &w("-r a b")),
            Some(Ok(Diff {
                a: Some("a".into()),
                b: "b".into(),
                recursive: true
            }))
        );
        assert_eq!(
            parse("diff", &w("../b")),
            Some(Ok(Diff {
                a: None,
                b: "../b".into(),
                recursive: false
            }))
        );
        assert!(matches!(parse("diff", &[]), Some(Err(_))));
        assert!(matches!(parse("diff", &w("a b c")), Some(Err(_))));
        assert!(matches!(parse("diff", &w("-x a b")), Some(Err(_))));
        assert_eq!(parse("cp", &w("a b")), None);
    }

    #[test]
    fn a_unified_diff_of_one_changed_line() {
        let a = "path \"a\" {\n  capabilities = [\"read\"]\n}\n";
        let b = "path \"a\" {\n  capabilities = [\"read\", \"list\"]\n}\n";
        assert_eq!(
            unified(a, b, 3),
            [
                "@@ -1,3 +1,3 @@",
                " path \"a\" {",
                "-  capabilities = [\"read\"]",
                "+  capabilities = [\"read\", \"list\"]",
                " }",
            ]
        );
        assert!(unified(a, a, 3).is_empty());
        // Two changes far apart: two hunks; an addition at the end names the line before.
        let long: Vec<String> = (1..=20).map(|i| format!("l{i}")).collect();
        let mut changed = long.clone();
        changed[1] = "X".into();
        changed.push("end".into());
        let d = unified(&long.join("\n"), &changed.join("\n"), 1);
        assert_eq!(d[0], "@@ -1,3 +1,3 @@");
        assert_eq!(&d[1..5], [" l1", "-l2", "+X", " l3"]);
        assert_eq!(d[5], "@@ -20,1 +20,2 @@");
        assert_eq!(&d[6..], [" l20", "+end"]);
        assert_eq!(unified("", "x", 3), ["@@ -0,0 +1,1 @@", "+x"]);
    }

    proptest! {
        #[test]
        fn an_edit_script_rebuilds_both_sides(
            a in prop::collection::vec("[abc]{0,2}", 0..12),
            b in prop::collection::vec("[abc]{0,2}", 0..12),
        ) {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let b: Vec<&str> = b.iter().map(String::as_str).collect();
            let ops = edits(&a, &b);
            let left: Vec<&str> = ops.iter().filter_map(|e| match e { Edit::Same(l) | Edit::Del(l) => Some(*l), Edit::Add(_) => None }).collect();
            let right: Vec<&str> = ops.iter().filter_map(|e| match e { Edit::Same(l) | Edit::Add(l) => Some(*l), Edit::Del(_) => None }).collect();
            prop_assert_eq!(left, a.clone());
            prop_assert_eq!(right, b.clone());
            // Minimal: as many lines kept as the longest common subsequence.
            let same = ops.iter().filter(|e| matches!(e, Edit::Same(_))).count();
            prop_assert_eq!(same, lcs_len(&a, &b));
        }
    }

    fn lcs_len(a: &[&str], b: &[&str]) -> usize {
        if a.is_empty() || b.is_empty() {
            return 0;
        }
        if a[0] == b[0] {
            1 + lcs_len(&a[1..], &b[1..])
        } else {
            lcs_len(&a[1..], b).max(lcs_len(a, &b[1..]))
        }
    }

    fn facts(kind: &str, version: Option<&str>) -> MountFacts {
        let options = version.map_or(Value::Null, |v| json!({ "version": v }));
        MountFacts::of(&json!({ "type": kind, "description": "", "options": options }))
    }

    #[test]
    fn snapshots_compare_part_by_part() {
        let mut a = Snapshot::default();
        let mut b = Snapshot::default();
        a.children = Some(Ok(BTreeMap::from([
            ("web/".into(), false),
            ("old/".into(), true),
            ("billing-eu/".into(), false),
        ])));
        b.children = Some(Ok(BTreeMap::from([
            ("web/".into(), false),
            ("old/".into(), false),
            ("api/".into(), false),
        ])));
        a.mounts = Some(Ok(BTreeMap::from([
            ("kv/".into(), facts("kv", None)),
            ("t/".into(), facts("transit", None)),
        ])));
        b.mounts = Some(Ok(BTreeMap::from([("kv/".into(), facts("kv", Some("2")))])));
        a.auth = Some(Ok(BTreeMap::from([(
            "token/".into(),
            facts("token", None),
        )])));
        b.auth = Some(Ok(BTreeMap::from([(
            "token/".into(),
            facts("token", None),
        )])));
        a.policies = Some(Ok(BTreeMap::from([("p".into(), "x\ny".into())])));
        b.policies = Some(Err("permission denied".into()));
        a.password_policies = Some(Ok(BTreeMap::new()));
        b.password_policies = Some(Ok(BTreeMap::new()));
        a.metadata = Some(Ok(BTreeMap::from([("tier".into(), json!("gold"))])));
        b.metadata = Some(Ok(BTreeMap::from([
            ("tier".into(), json!("silver")),
            ("team".into(), json!("x")),
        ])));
        let c = compare(&a, &b, "acme", "beta");
        assert!(c.differs());
        assert_eq!(
            c.differing(),
            ["Child namespaces", "Secrets engines", "Custom metadata"]
        );
        assert_eq!(
            c.unread(),
            [("ACL policies", "not readable in beta: permission denied")]
        );
        let j = Value::Object(c.to_json(false));
        assert_eq!(j["children"]["only_in_b"], json!(["api/"]));
        assert_eq!(
            j["children"]["changed"]["old/"],
            json!({ "locked": [true, false] })
        );
        assert_eq!(j["mounts"]["only_in_a"], json!(["t/"]));
        assert_eq!(j["mounts"]["changed"]["kv/"]["version"], json!(["1", "2"]));
        assert_eq!(
            j["auth"],
            json!({ "only_in_a": [], "only_in_b": [], "changed": {} })
        );
        assert_eq!(
            j["policies"],
            json!({ "error": "not readable in beta: permission denied" })
        );
        assert_eq!(j["custom_metadata"]["only_in_b"], json!({ "team": "x" }));
        assert_eq!(
            j["custom_metadata"]["changed"]["tier"],
            json!(["gold", "silver"])
        );
        let text = View::Sections(c.to_views("acme", "beta", false)).render_text();
        // One column for "only in", under the widest name of the section.
        assert!(
            text.contains("- billing-eu/   only in acme\n  + api/          only in beta"),
            "{text}"
        );
        assert!(
            text.contains("~ old/: locked in acme, not in beta"),
            "{text}"
        );
        assert!(text.contains("- t/ (transit)   only in acme"), "{text}");
        assert!(text.contains("Auth methods\n  (same)"), "{text}");
        assert!(
            text.contains("(not compared: not readable in beta: permission denied)"),
            "{text}"
        );
        assert!(text.contains("+ team=x   only in beta"), "{text}");
    }
}
