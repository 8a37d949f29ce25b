//! The namespace tree below a namespace: one `SCAN` where the server has it, else a
//! concurrent level-by-level `LIST` (Vault Enterprise has no `SCAN`).

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::engine::nspath::NsPath;
use crate::vault::{Client, Method, VaultError};

/// How many `LIST` requests the fallback keeps in flight.
pub const LIST_CONCURRENCY: usize = 32;

/// One namespace found below the starting point.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Path relative to the starting namespace.
    pub path: NsPath,
    /// Whether its API is locked.
    pub locked: bool,
    /// The server's description of it (`key_info` entry), whose `path` is the full path.
    pub info: Value,
}

/// The result of a walk.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// Every namespace found, sorted by path.
    pub entries: Vec<Entry>,
    /// True when one `SCAN` answered; false when the tree was listed level by level.
    pub scanned: bool,
    /// Namespaces whose children could not be listed, and why.
    pub unlisted: Vec<(NsPath, String)>,
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

fn is_locked(info: &Value) -> bool {
    info.get("locked").and_then(Value::as_bool).unwrap_or(false)
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
/// one `SCAN` is tried first and the fallback is used only if the server has none.
pub async fn walk(
    client: &Client,
    root: &NsPath,
    max_depth: Option<usize>,
    use_scan: bool,
) -> Result<Walk, VaultError> {
    if use_scan {
        match client
            .request(Method::Scan, &root.header(), "sys/namespaces", None)
            .await
        {
            Ok(body) => {
                let mut entries: Vec<Entry> = key_info(body)
                    .into_iter()
                    .filter_map(|(k, info)| {
                        let path = NsPath::parse(&k).ok()?;
                        if max_depth.is_some_and(|d| path.depth() > d) {
                            return None;
                        }
                        Some(Entry {
                            locked: is_locked(&info),
                            path,
                            info,
                        })
                    })
                    .collect();
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                return Ok(Walk {
                    entries,
                    scanned: true,
                    unlisted: Vec::new(),
                });
            }
            Err(VaultError::NotFound { .. }) => {
                return Ok(Walk {
                    scanned: true,
                    ..Walk::default()
                })
            }
            Err(e) if scan_unsupported(&e) => {}
            // OpenBao has a `scan` capability of its own: a token may list without it.
            Err(VaultError::PermissionDenied { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    walk_by_list(client, root, max_depth).await
}

/// One finished LIST: the namespace (relative) and its children.
type Listed = (NsPath, Result<Map<String, Value>, VaultError>);

/// The fallback: list each level concurrently, at most [`LIST_CONCURRENCY`] at a time.
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
    while let Some(joined) = tasks.join_next().await {
        let Ok((parent, result)) = joined else {
            continue;
        };
        let children = match result {
            Ok(children) => children,
            // The starting namespace itself must be listable; below it, a namespace we may
            // not list is reported beside the rest rather than failing the whole tree.
            Err(e) if parent.is_root() => return Err(e),
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
            let locked = is_locked(&info);
            // As SCAN gives it: the full path, not the one relative to the walk's start.
            if let Some(obj) = info.as_object_mut() {
                obj.insert("path".into(), Value::String(root.join(&rel).header()));
            }
            if !locked && max_depth.is_none_or(|d| rel.depth() < d) {
                spawn(&mut tasks, rel.clone());
            }
            walk.entries.push(Entry {
                path: rel,
                locked,
                info,
            });
        }
    }
    walk.entries.sort_by(|a, b| a.path.cmp(&b.path));
    walk.unlisted.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(walk)
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
        if e.locked {
            line.push_str("  [locked]");
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
            locked,
            info: Value::Null,
        }
    }

    #[test]
    fn renders_branches() {
        let walk = Walk {
            entries: vec![
                entry("a", false),
                entry("a/x", true),
                entry("a/y", false),
                entry("a/y/z", false),
                entry("b", false),
            ],
            scanned: true,
            unlisted: vec![],
        };
        assert_eq!(
            render("/", &walk),
            "/\n├── a/\n│   ├── x/  [locked]\n│   └── y/\n│       └── z/\n└── b/"
        );
    }

    #[test]
    fn key_info_keeps_key_order() {
        let body = serde_json::json!({"data":{"keys":["b/","a/"],"key_info":{"a/":{"locked":true},"b/":{}}}});
        let m = key_info(Some(body));
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["b/", "a/"]);
        assert!(is_locked(&m["a/"]));
    }
}
