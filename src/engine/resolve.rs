//! The one resolver of paths: what a user typed, from where the shell is, turned into
//! (namespace, mount, path inside the mount). `ls`, `cat`, `kv …`, `cp`, `describe` and
//! every other command that takes a path into a mount ask here, so that a path means the
//! same thing to every command: relative (`payments/secret/db` reaches into the child
//! namespace `payments`), `..`, absolute from the token's top, root-only paths at the root.
//!
//! The mount is found with `sys/internal/ui/mounts/PATH`, which any token may ask about a
//! path it has a capability on (what `bao kv` asks): no `sys/mounts` read is needed. Its
//! answer names the mount from the root (`tenant01/payments/secret/`) when the mount lives
//! in a namespace below the one asked in; the namespace is then the longest prefix that
//! the server confirms holds the mount itself (asked there, it names the mount bare) —
//! one more request, never a guess from a cache that may be stale.

use serde_json::Value;

use crate::engine::error::EngineError;
use crate::engine::nspath::{NsPath, Route};
use crate::engine::session::Session;
use crate::vault::{body, Client, Method, VaultError};

/// A secrets engine (or auth method) a path falls in.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// Its path in its namespace, with a trailing slash (`secret/`).
    pub path: String,
    /// Its type (`kv`, `transit`, …).
    pub kind: String,
    /// For a KV mount, its version (1 or 2).
    pub kv_version: Option<u8>,
    /// What the server said of it.
    pub info: Value,
}

impl Mount {
    /// From a mount's description (`sys/mounts/X`, `sys/internal/ui/mounts/X`).
    pub fn from_info(path: &str, info: Value) -> Mount {
        let kind = info
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kv_version = (kind == "kv").then(|| {
            match info.pointer("/options/version").and_then(Value::as_str) {
                Some("2") => 2,
                _ => 1,
            }
        });
        let mut path = path.trim_start_matches('/').to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        Mount {
            path,
            kind,
            kv_version,
            info,
        }
    }

    /// Whether it is a KV mount of version 2.
    pub fn is_kv2(&self) -> bool {
        self.kv_version == Some(2)
    }
}

/// Where a typed path lands.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The namespace the request goes to.
    pub namespace: NsPath,
    /// The mount the path is in, when one was found that the token may see.
    pub mount: Option<Mount>,
    /// The path inside the mount (`app/db`, `""` for the mount itself); without a mount,
    /// the whole path relative to `namespace`.
    pub rest: String,
    /// A note for the user (a root-only path sent to the root).
    pub note: Option<String>,
}

impl Located {
    /// The API path of `rest` in the mount; for KV v2 with `sub` (`data`, `metadata`,
    /// `delete`, …) after the mount, as `bao kv` builds it.
    pub fn api_path(&self, sub: &str) -> String {
        match &self.mount {
            Some(m) if m.is_kv2() && !sub.is_empty() => format!("{}{sub}/{}", m.path, self.rest),
            Some(m) => format!("{}{}", m.path, self.rest),
            None => self.rest.clone(),
        }
    }

    /// The full path for people: `ns/mount/rest` (the root's paths without a leading `/`).
    pub fn display(&self) -> String {
        let inner = match &self.mount {
            Some(m) => format!("{}{}", m.path, self.rest),
            None => self.rest.clone(),
        };
        format!("{}{inner}", self.namespace.header())
    }
}

/// Find where `typed` lands from here: the namespace, the mount and the path inside it.
/// A path the token may not ask about (or that is in no mount) comes back without a
/// mount; the caller says what that means for it.
pub async fn locate(session: &Session, typed: &str) -> Result<Located, EngineError> {
    locate_route(session.client(), session.route(typed)?).await
}

/// [`locate`] for an already routed path.
pub async fn locate_route(client: &Client, route: Route) -> Result<Located, EngineError> {
    let Route {
        namespace,
        path,
        note,
    } = route;
    let unmounted = |namespace: NsPath, rest: String| Located {
        namespace,
        mount: None,
        rest,
        note: note.clone(),
    };
    if path.trim_matches('/').is_empty() {
        return Ok(unmounted(namespace, String::new()));
    }
    let Some((answer, info)) = ui_mount(client, &namespace, &path).await? else {
        // Not allowed to ask, or in no mount: a token that may read `sys/mounts` learns it there.
        return Ok(match sys_mounts_lookup(client, &namespace, &path).await {
            Some((mount, rest)) => Located {
                namespace,
                mount: Some(mount),
                rest,
                note,
            },
            None => unmounted(namespace, path),
        });
    };
    let typed_segs = segments(&path);
    let answer_segs = segments(&answer);
    // The mount lives here: its path is a prefix of what was typed. Asked in the root, a
    // mount of a child is named from the root too (`t1/kv/`), which reads the same: one
    // of several segments is confirmed below like any other.
    if typed_segs.starts_with(&answer_segs) && (!namespace.is_root() || answer_segs.len() == 1) {
        let rest = rest_after(&path, answer_segs.len());
        return Ok(Located {
            namespace,
            mount: Some(Mount::from_info(&answer, info)),
            rest,
            note,
        });
    }
    // It lives below: the answer names it from the root (`NS/…/MOUNT/`).
    let full: Vec<String> = namespace
        .segments()
        .iter()
        .cloned()
        .chain(typed_segs.iter().cloned())
        .collect();
    if !full.starts_with(&answer_segs) || answer_segs.len() <= namespace.depth() {
        // (Unreachable for an honest server: it names a mount on the path asked about.)
        return Err(EngineError::Other(format!(
            "the server placed {path:?} in the mount {answer:?}, which is not on that path; nothing was done"
        )));
    }
    // From the deepest namespace that could hold it up to the one asked (the root).
    let shallowest = namespace.depth() + usize::from(!namespace.is_root());
    for split in (shallowest..answer_segs.len()).rev() {
        let candidate = NsPath::from_segments(answer_segs[..split].iter().cloned());
        let mount_path = format!("{}/", answer_segs[split..].join("/"));
        // Asked in the namespace that holds it, the server names the mount without prefix.
        let confirmed = matches!(
            ui_mount(client, &candidate, &mount_path).await,
            Ok(Some((p, _))) if segments(&p) == answer_segs[split..]
        );
        if confirmed {
            // The typed path's namespace names and then the mount's segments are used up.
            let rest = rest_after(&path, answer_segs.len() - namespace.depth());
            return Ok(Located {
                namespace: candidate,
                mount: Some(Mount::from_info(&mount_path, info)),
                rest,
                note,
            });
        }
    }
    Err(EngineError::Other(format!(
        "cannot tell which namespace holds the mount {answer}; give the path from the namespace that holds it"
    )))
}

/// `sys/internal/ui/mounts/PATH` in `ns`: the mount's path as the server names it and
/// its description; `None` when the token may not ask or the path is in no mount (the
/// server answers both with 403, so that mounts cannot be guessed).
async fn ui_mount(
    client: &Client,
    ns: &NsPath,
    path: &str,
) -> Result<Option<(String, Value)>, EngineError> {
    let probe = format!("sys/internal/ui/mounts/{}", path.trim_matches('/'));
    match client
        .request(Method::Get, &ns.header(), &probe, None)
        .await
    {
        Ok(body) => {
            let data = body::data(body);
            match data.get("path").and_then(Value::as_str) {
                Some(p) if !p.is_empty() => Ok(Some((p.to_string(), data.clone()))),
                _ => Ok(None),
            }
        }
        Err(VaultError::PermissionDenied { .. }) | Err(VaultError::NotFound { .. }) => Ok(None),
        // A missing, locked or sealed namespace, an unreachable server: the real cause.
        Err(e) => Err(e.into()),
    }
}

/// The mount table of `ns`, for a token that may read it but not the UI endpoint.
async fn sys_mounts_lookup(client: &Client, ns: &NsPath, path: &str) -> Option<(Mount, String)> {
    let table = client
        .request(Method::Get, &ns.header(), "sys/mounts", None)
        .await
        .ok()?;
    let (mount, info) = body::mount_for(&body::mounts(table.as_ref()), path)?;
    let rest = rest_after(path, segments(&mount).len());
    Some((Mount::from_info(&mount, info), rest))
}

/// Why `typed`, located at `at` without a mount, is in none, in words that name the word
/// that is wrong: the path is followed through the namespaces it names (one LIST each,
/// asked only on this error path) to the first word that is neither a namespace nor a
/// mount this token may see, and `ls` of where that word was looked for is the next step.
pub async fn why_no_mount(client: &Client, at: &Located, typed: &str) -> String {
    let words = segments(&at.rest);
    let mut ns = at.namespace.clone();
    for (i, word) in words.iter().enumerate() {
        let Ok(children) = crate::engine::tree::list_children(client, &ns).await else {
            break;
        };
        if !children.contains_key(&format!("{word}/")) {
            return format!(
                "there is no mount `{word}/` this token may see in namespace {ns}; {} shows what is there",
                ls_of(typed, words.len() - i)
            );
        }
        match NsPath::parse(word) {
            Ok(child) => ns = ns.join(&child),
            Err(_) => break,
        }
        if i + 1 == words.len() {
            return format!(
                "{ns} is a namespace, not a path in a mount; {} shows its mounts",
                ls_of(typed, 0)
            );
        }
    }
    format!(
        "{} in namespace {} is in no mount this token may see; `ls` and `secrets list` show what is there",
        if at.rest.is_empty() { "/" } else { &at.rest },
        at.namespace
    )
}

/// `ls` of `typed` without its last `drop` words, as the user would type it (`ls` alone
/// when nothing is left, or when dot segments make the cut unclear).
fn ls_of(typed: &str, drop: usize) -> String {
    let words: Vec<&str> = typed.split('/').filter(|s| !s.is_empty()).collect();
    if words.iter().any(|w| matches!(*w, "." | "..")) || drop > words.len() {
        return "`ls`".to_string();
    }
    let kept = words[..words.len() - drop].join("/");
    match (typed.starts_with('/'), kept.is_empty()) {
        (true, _) => format!("`ls /{kept}`"),
        (false, true) => "`ls`".to_string(),
        (false, false) => format!("`ls {kept}`"),
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `path` without its first `n` segments, keeping a trailing slash (a folder).
fn rest_after(path: &str, n: usize) -> String {
    let segs = segments(path);
    let mut rest = segs.get(n..).map(|s| s.join("/")).unwrap_or_default();
    if path.ends_with('/') && !rest.is_empty() {
        rest.push('/');
    }
    rest
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_ls_is_typed_as_the_user_typed_the_path() {
        use super::ls_of;
        assert_eq!(ls_of("acme/secret/copy/", 2), "`ls acme`");
        assert_eq!(ls_of("/acme/web", 0), "`ls /acme/web`");
        assert_eq!(ls_of("nope/x", 2), "`ls`");
        assert_eq!(ls_of("/nope", 1), "`ls /`");
        assert_eq!(ls_of("../x/y", 1), "`ls`");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn rest_keeps_a_folder_slash() {
        assert_eq!(rest_after("secret/app/db", 1), "app/db");
        assert_eq!(rest_after("secret/app/", 1), "app/");
        assert_eq!(rest_after("secret/", 1), "");
        assert_eq!(rest_after("a//b/c", 2), "c");
    }

    #[test]
    fn api_paths_follow_the_kv_version() {
        let kv2 = Mount::from_info("secret", json!({"type": "kv", "options": {"version": "2"}}));
        assert_eq!(kv2.path, "secret/");
        assert_eq!(kv2.kv_version, Some(2));
        let at = Located {
            namespace: NsPath::parse("t1").unwrap(),
            mount: Some(kv2),
            rest: "app/db".into(),
            note: None,
        };
        assert_eq!(at.api_path("data"), "secret/data/app/db");
        assert_eq!(at.api_path(""), "secret/app/db");
        assert_eq!(at.display(), "t1/secret/app/db");
        let kv1 = Mount::from_info("kv/", json!({"type": "kv", "options": null}));
        assert_eq!(kv1.kv_version, Some(1));
        let transit = Mount::from_info("transit/", json!({"type": "transit"}));
        assert_eq!(transit.kv_version, None);
    }
}
