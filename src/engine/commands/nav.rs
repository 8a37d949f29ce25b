//! Moving around: `pwd`, `cd`, `ls` and `tree`.

use serde_json::{json, Map, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{Output, View};
use crate::engine::resolve;
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::engine::tree;
use crate::vault::{body, Method, VaultError};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nav {
    /// Print the current namespace.
    Pwd,
    /// Change namespace.
    Cd(Option<String>),
    /// Child namespaces and mounts, or keys inside a mount.
    Ls(Option<String>),
    /// The namespace tree.
    Tree {
        /// Where to start (a `cd`-style path).
        path: Option<String>,
        /// How many levels to show.
        depth: Option<usize>,
    },
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new("pwd", "pwd", "print the current namespace"),
    CommandInfo::new(
        "cd",
        "cd [PATH|..|-|~|/]",
        "change namespace (relative, absolute, .., -, ~)",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "ls",
        "ls [PATH]",
        "child namespaces (lock state) and mounts; inside a KV mount, its keys",
    )
    .args(&[Arg::KvPath]),
    CommandInfo::new(
        "tree",
        "tree [PATH] [-d N] [--mounts]",
        "the namespace tree below here, locked namespaces marked (--mounts: with each one's mounts)",
    )
    .flags(&["-d", "--mounts"])
    .args(&[Arg::Namespace]),
];

fn bad(name: &str, message: impl Into<String>) -> UsageError {
    let usage = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .map_or("help", |c| c.usage);
    UsageError::new(usage, message)
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Nav> {
    let at_most_one = || match rest {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => Err(bad(name, format!("`{name}` takes at most one argument"))),
    };
    Some(match name {
        "pwd" if rest.is_empty() => Ok(Nav::Pwd),
        "pwd" => Err(bad(name, "`pwd` takes no argument")),
        "cd" => at_most_one().map(Nav::Cd),
        "ls" => at_most_one().map(Nav::Ls),
        "tree" => parse_tree(rest),
        _ => return None,
    })
}

fn parse_tree(rest: &[String]) -> Result<Nav, UsageError> {
    let mut path = None;
    let mut depth = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        let value = if let Some(v) = w.strip_prefix("-d=").or_else(|| w.strip_prefix("--depth=")) {
            Some(v.to_string())
        } else if w == "-d" || w == "--depth" {
            Some(
                it.next()
                    .ok_or_else(|| bad("tree", "`-d` needs a number"))?
                    .clone(),
            )
        } else {
            None
        };
        match value {
            Some(v) => {
                depth = Some(v.parse::<usize>().map_err(|_| {
                    bad("tree", format!("`-d` needs a number of levels, not {v:?}"))
                })?)
            }
            None if path.is_none() && !w.starts_with('-') => path = Some(w.clone()),
            None => return Err(bad("tree", format!("unexpected argument {w:?}"))),
        }
    }
    Ok(Nav::Tree { path, depth })
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Nav) -> Result<Output, EngineError> {
    match cmd {
        Nav::Pwd => Ok(Output {
            json: Some(json!({ "namespace": session.cwd().header() })),
            view: View::Text(session.cwd().display()),
            notes: vec![],
        }),
        Nav::Cd(arg) => cd(session, arg.as_deref()).await,
        Nav::Ls(arg) => ls(session, arg.as_deref()).await,
        Nav::Tree { path, depth } => tree(session, path.as_deref(), *depth).await,
    }
}

/// Check that `target` exists and can be reached; return the locked namespace that
/// covers it, if any.
pub async fn probe(session: &Session, target: &NsPath) -> Result<Option<NsPath>, EngineError> {
    let client = session.client();
    let locked_ns = |l: &str| NsPath::parse(l).ok();
    // The parent is asked only when it is within reach: never above the top.
    let parent = target.parent().filter(|p| p.starts_with(session.top()));
    if let (Some(parent), Some(name)) = (parent, target.name()) {
        match client
            .request(
                Method::Get,
                &parent.header(),
                &format!("sys/namespaces/{name}"),
                None,
            )
            .await
        {
            Ok(body) => {
                let locked = body::data(body)
                    .get("locked")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                return Ok(locked.then(|| target.clone()));
            }
            Err(VaultError::NotFound { .. }) | Err(VaultError::NamespaceNotFound { .. }) => {
                return Err(EngineError::Cd(format!(
                    "namespace {} does not exist",
                    target.display()
                )))
            }
            Err(VaultError::NamespaceLocked { locked, .. }) => return Ok(locked_ns(&locked)),
            // Not allowed to look from the parent (a delegated admin): ask the namespace itself.
            Err(VaultError::PermissionDenied { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match client
        .request(
            Method::Get,
            &target.header(),
            "auth/token/lookup-self",
            None,
        )
        .await
    {
        Ok(_) => Ok(None),
        Err(VaultError::NamespaceNotFound { .. }) => Err(EngineError::Cd(format!(
            "namespace {} does not exist",
            target.display()
        ))),
        Err(VaultError::NamespaceLocked { locked, .. }) => Ok(locked_ns(&locked)),
        // The server says "namespace not found" to every token for a namespace that does
        // not exist: a refusal means it exists and this token may do little there (a
        // token that may only read `secret/*` still works in it).
        Err(VaultError::PermissionDenied { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Look at the current namespace again: its lock state, for the prompt.
pub async fn look(session: &mut Session) -> Result<(), EngineError> {
    let cwd = session.cwd().clone();
    let locked = probe(session, &cwd).await?;
    session.set_locked(locked);
    Ok(())
}

async fn cd(session: &mut Session, arg: Option<&str>) -> Result<Output, EngineError> {
    let target = session.resolve(arg)?;
    let locked = probe(session, &target).await?;
    session.enter(target, locked);
    let mut out = Output::default();
    if let Some(l) = session.locked() {
        out.notes.push(format!(
            "note: namespace {l} is locked; requests here are refused until it is unlocked"
        ));
    }
    Ok(out)
}

async fn ls(session: &Session, arg: Option<&str>) -> Result<Output, EngineError> {
    // A path into a mount lists its keys; anything else is a namespace. Both are asked at
    // once, so a namespace costs no extra round trip.
    let in_mount = arg.filter(|a| !matches!(*a, "-" | "~") && !a.starts_with("~/"));
    let ns = match arg {
        None => Ok(session.cwd().clone()),
        Some(a) => session.resolve(Some(a)),
    };
    let locating = async {
        match in_mount {
            Some(a) => Some(resolve::locate(session, a).await),
            None => None,
        }
    };
    let listing = async {
        match &ns {
            Ok(ns) => Some(list_namespace(session, ns).await),
            Err(_) => None,
        }
    };
    let (located, listed) = tokio::join!(locating, listing);
    match (located, listed) {
        (Some(Ok(at)), _) if at.mount.is_some() => ls_mount(session, at).await,
        (_, Some(Ok(out))) => Ok(out),
        (_, Some(Err(EngineError::Vault(VaultError::NamespaceNotFound { .. })))) if arg.is_some() => {
            Err(EngineError::Other(format!(
                "ls: {} is not a namespace, nor a path in a mount this token may read; `ls` shows what is here",
                arg.unwrap_or_default()
            )))
        }
        (_, Some(Err(e))) => Err(e),
        (Some(Err(e)), None) => Err(e),
        (_, None) => Err(ns.err().map_or_else(
            || EngineError::Other("ls: nothing to list".into()),
            EngineError::from,
        )),
    }
}

/// A namespace's children (and their lock state), secrets engines and auth methods.
async fn list_namespace(session: &Session, ns: &NsPath) -> Result<Output, EngineError> {
    let (children, mounts, auths) = tokio::join!(
        tree::list_children(session.client(), ns),
        mounts(session, ns, "sys/mounts"),
        mounts(session, ns, "sys/auth")
    );
    let children = children?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut names: Vec<(&String, &Value)> = children.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, info) in names {
        let locked = info.get("locked").and_then(Value::as_bool).unwrap_or(false);
        rows.push(vec![
            name.clone(),
            "namespace".into(),
            if locked {
                "locked".into()
            } else {
                String::new()
            },
        ]);
    }
    let mut json_mounts = Map::new();
    for (prefix, result) in [("", &mounts), ("auth/", &auths)] {
        match result {
            Ok(m) => {
                for (path, info) in m {
                    let kind = body::mount_kind(info);
                    let desc = info
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    rows.push(vec![format!("{prefix}{path}"), kind, desc.to_string()]);
                    json_mounts.insert(format!("{prefix}{path}"), info.clone());
                }
            }
            Err(e) => notes.push(format!("note: {prefix}mounts not shown: {e}")),
        }
    }
    Ok(Output {
        json: Some(json!({ "namespaces": children, "mounts": json_mounts })),
        view: View::Table {
            header: vec!["NAME".into(), "TYPE".into(), "INFO".into()],
            rows,
        },
        notes,
    })
}

async fn ls_mount(session: &Session, at: resolve::Located) -> Result<Output, EngineError> {
    // An empty mount or folder lists as nothing, like an empty directory; an answer of
    // another shape is an error naming the path.
    let keys = session
        .client()
        .list_keys(&at.namespace.header(), &at.api_path("metadata"))
        .await?;
    Ok(Output::names(keys).with_notes(at.note))
}

/// The mounts at `sys/mounts` or `sys/auth` of `ns`.
async fn mounts(
    session: &Session,
    ns: &NsPath,
    path: &str,
) -> Result<Map<String, Value>, VaultError> {
    let body = session
        .client()
        .request(Method::Get, &ns.header(), path, None)
        .await?;
    Ok(body::mounts(body.as_ref()))
}

async fn tree(
    session: &Session,
    path: Option<&str>,
    depth: Option<usize>,
) -> Result<Output, EngineError> {
    let root = match path {
        None => session.cwd().clone(),
        Some(p) => session.resolve(Some(p))?,
    };
    let walk = tree::walk(session.client(), &root, depth, !session.options().no_scan).await?;
    let text = tree::render(&root.display(), &walk);
    let locked_skipped = !walk.scanned && walk.entries.iter().any(|e| e.state.is_closed());
    // Move, not copy, the entries into the JSON document (thousands of namespaces).
    let mut info = Map::new();
    for e in walk.entries {
        info.insert(e.path.header(), e.info);
    }
    let mut out = Output {
        json: Some(Value::Object(info)),
        view: View::Text(text),
        notes: vec![],
    };
    if locked_skipped {
        out.notes.push(
            "note: listed level by level; namespaces below a locked one cannot be listed".into(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Nav, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_its_commands() {
        assert_eq!(p("pwd"), Ok(Nav::Pwd));
        assert_eq!(p("cd"), Ok(Nav::Cd(None)));
        assert_eq!(p("cd ../x"), Ok(Nav::Cd(Some("../x".into()))));
        assert_eq!(
            p("tree acme -d 2"),
            Ok(Nav::Tree {
                path: Some("acme".into()),
                depth: Some(2)
            })
        );
        let e = p("tree -d x").unwrap_err();
        assert!(e.message.contains("number"));
        assert!(e.to_string().contains("usage: tree"));
        assert!(p("pwd x").is_err());
        assert!(p("cd a b").is_err());
        assert!(parse("frob", &[]).is_none());
    }
}
