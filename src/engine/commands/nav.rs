//! Moving around: `pwd`, `cd`, `ls` and `tree`.

use serde_json::{json, Map, Value};

use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::{Output, View};
use crate::engine::resolve;
use crate::engine::session::{Marks, Session};
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
        /// Ask the seal state of every namespace that may be sealed, however many.
        seal: bool,
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
        "child namespaces (locked, sealed, being deleted) and mounts; inside a KV mount, its keys",
    )
    .args(&[Arg::KvPath]),
    CommandInfo::new(
        "tree",
        "tree [PATH] [-d N] [--seal] [--mounts]",
        "the namespace tree below here, locked, sealed and deleted ones marked (--seal: ask every seal state; --mounts: with each one's mounts)",
    )
    .flags(&["-d", "--seal", "--mounts"])
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
    let mut seal = false;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if matches!(w.as_str(), "--seal" | "-seal") {
            seal = true;
            continue;
        }
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
    Ok(Nav::Tree { path, depth, seal })
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
        Nav::Tree { path, depth, seal } => tree(session, path.as_deref(), *depth, *seal).await,
    }
}

/// What a look at a namespace saw: the locked and the sealed namespace that cover it (it
/// or an ancestor), and whether it is being deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// The locked namespace over it.
    pub locked: Option<NsPath>,
    /// The other marks (sealed, being deleted).
    pub marks: Marks,
}

/// Check that `target` exists and can be reached; say what covers it. Its seal state is
/// asked beside its lookup (one more request, at the same time).
pub async fn probe(session: &Session, target: &NsPath) -> Result<Seen, EngineError> {
    let sealable_here = target
        .parent()
        .is_some_and(|p| p.starts_with(session.top()));
    let seal = async {
        if sealable_here {
            tree::seal_of(session.client(), target).await.ok()
        } else {
            None
        }
    };
    let (seen, seal) = tokio::join!(probe_lock(session, target), seal);
    let mut seen = seen?;
    if seal.is_some_and(tree::Seal::is_sealed) {
        seen.marks.sealed = Some(target.clone());
    }
    Ok(seen)
}

/// The lookup half of [`probe`]: exists, locked, being deleted.
async fn probe_lock(session: &Session, target: &NsPath) -> Result<Seen, EngineError> {
    let client = session.client();
    let locked_ns = |l: &str| Seen {
        locked: NsPath::parse(l).ok(),
        ..Seen::default()
    };
    let missing = || EngineError::Cd(format!("namespace {} does not exist", target.display()));
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
                let state = tree::NsState::of_info(&body::data(body));
                return Ok(Seen {
                    locked: state.locked.then(|| target.clone()),
                    marks: Marks {
                        sealed: None,
                        deleting: state.tainted,
                    },
                });
            }
            Err(VaultError::NotFound { .. }) | Err(VaultError::NamespaceNotFound { .. }) => {
                return Err(missing())
            }
            Err(VaultError::NamespaceLocked { locked, .. }) => return Ok(locked_ns(&locked)),
            // An ancestor is sealed: nothing below it can be entered until it is unsealed.
            Err(e @ VaultError::NamespaceSealed { .. }) => {
                return Err(EngineError::Cd(format!(
                    "{e}; nothing below it can be reached"
                )))
            }
            Err(e @ VaultError::NamespacesUnsupported { .. }) => {
                return Err(EngineError::Cd(e.to_string()))
            }
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
        Ok(_) => Ok(Seen::default()),
        Err(VaultError::NamespaceNotFound { .. }) => Err(missing()),
        Err(VaultError::NamespaceLocked { locked, .. }) => Ok(locked_ns(&locked)),
        // Sealed itself: it exists, and the prompt says so.
        Err(VaultError::NamespaceSealed { sealed, .. }) => Ok(Seen {
            marks: Marks {
                sealed: NsPath::parse(&sealed).ok(),
                deleting: false,
            },
            ..Seen::default()
        }),
        // The server says "namespace not found" to every token for a namespace that does
        // not exist: a refusal means it exists and this token may do little there (a
        // token that may only read `secret/*` still works in it).
        Err(VaultError::PermissionDenied { .. }) => Ok(Seen::default()),
        Err(e) => Err(e.into()),
    }
}

/// Look at the current namespace again: its lock, seal and deletion, for the prompt.
pub async fn look(session: &mut Session) -> Result<(), EngineError> {
    let cwd = session.cwd().clone();
    let seen = probe(session, &cwd).await?;
    session.set_locked(seen.locked);
    session.set_marks(seen.marks);
    Ok(())
}

async fn cd(session: &mut Session, arg: Option<&str>) -> Result<Output, EngineError> {
    let target = session.resolve(arg)?;
    let seen = probe(session, &target).await?;
    session.enter(target, seen.locked);
    session.set_marks(seen.marks);
    let mut out = Output::default();
    if let Some(l) = session.locked() {
        out.notes.push(format!(
            "note: namespace {l} is locked; requests here are refused until it is unlocked"
        ));
    }
    if let Some(s) = &session.marks().sealed {
        let (parent, name) = (s.parent().unwrap_or_default(), s.name().unwrap_or_default());
        out.notes.push(format!(
            "note: namespace {s} is sealed; requests here are refused until it is unsealed (`cd /{}; ns unseal {name}`)",
            parent.header().trim_end_matches('/')
        ));
    }
    if session.marks().deleting {
        out.notes.push(format!(
            "note: namespace {} is being deleted",
            session.cwd()
        ));
    }
    Ok(out)
}

async fn ls(session: &mut Session, arg: Option<&str>) -> Result<Output, EngineError> {
    let out = ls_here(session, arg).await;
    match out {
        Ok(mut out) if out.notes.iter().any(|n| n == NO_NAMESPACES) => {
            // Said once a session: after that, `ls` shows the mounts alone.
            out.notes.retain(|n| n != NO_NAMESPACES);
            if session.tell_no_namespaces() {
                out.notes.push(NO_NAMESPACES_NOTE.to_string());
            }
            Ok(out)
        }
        other => other,
    }
}

/// The marker a listing leaves when the server has no namespaces.
const NO_NAMESPACES: &str = "\0no namespaces";

/// What a session is told once when the server has no namespaces.
const NO_NAMESPACES_NOTE: &str = "note: this server has no namespaces (Vault Community Edition): only / exists, and everything else works here";

async fn ls_here(session: &Session, arg: Option<&str>) -> Result<Output, EngineError> {
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

/// A namespace's children (and their state), secrets engines and auth methods. The seal
/// state of the children is asked after the listing (one request each, at once, at most
/// [`tree::SEAL_ASK_LIMIT`]).
async fn list_namespace(session: &Session, ns: &NsPath) -> Result<Output, EngineError> {
    let (children, mounts, auths) = tokio::join!(
        tree::list_children(session.client(), ns),
        mounts(session, ns, "sys/mounts"),
        mounts(session, ns, "sys/auth")
    );
    let mut notes = Vec::new();
    // A token that may not list the children still sees what it may use here.
    let mut children_refused = None;
    let children = match children {
        Ok(c) => c,
        Err(VaultError::NamespacesUnsupported { .. }) if ns.is_root() => {
            notes.push(NO_NAMESPACES.to_string());
            Map::new()
        }
        Err(e @ VaultError::PermissionDenied { .. }) => {
            notes.push(format!("note: child namespaces not shown: {e}"));
            children_refused = Some(e);
            Map::new()
        }
        Err(e) => return Err(e.into()),
    };
    // sys/mounts and sys/auth need an admin's read; where they are refused, the mounts
    // this token may use (sys/internal/ui/mounts, which any token may ask).
    let refused = |r: &Result<_, VaultError>| matches!(r, Err(VaultError::PermissionDenied { .. }));
    let (mounts, auths) = match refused(&mounts) || refused(&auths) {
        true => match crate::engine::mounts::of(session.client(), ns).await {
            Ok(t) => {
                notes.push(
                    "note: the secrets engines and auth methods this token may use (it may not read sys/mounts)"
                        .to_string(),
                );
                (Ok(t.secret), Ok(t.auth))
            }
            Err(_) => (mounts, auths),
        },
        false => (mounts, auths),
    };
    let no_mounts = [&mounts, &auths]
        .iter()
        .all(|m| m.as_ref().map_or(true, Map::is_empty));
    if let (Some(e), true) = (children_refused, no_mounts) {
        // Nothing at all to show: the refusal itself, with its cause.
        return Err(e.into());
    }
    let mut names: Vec<(&String, &Value)> = children.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    let full = |name: &str| NsPath::parse(name).ok().map(|n| ns.join(&n));
    let seals = tree::ask_seals(
        session.client(),
        names.iter().filter_map(|(n, _)| full(n)).collect(),
        Some(tree::SEAL_ASK_LIMIT),
    )
    .await;
    notes.extend(tree::seal_note(
        &seals,
        "`tree --seal` asks them all",
        false,
    ));
    let mut rows = Vec::new();
    for (name, info) in names {
        let mut state = tree::NsState::of_info(info);
        if let Some(seal) = full(name).and_then(|f| seals.states.get(&f)) {
            state.seal = *seal;
        }
        rows.push(vec![name.clone(), "namespace".into(), state.label()]);
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
    session: &mut Session,
    path: Option<&str>,
    depth: Option<usize>,
    seal: bool,
) -> Result<Output, EngineError> {
    let root = match path {
        None => session.cwd().clone(),
        Some(p) => session.resolve(Some(p))?,
    };
    let mut walk = tree::walk(session.client(), &root, depth, !session.options().no_scan).await?;
    // Only a namespace the walk did not see inside may be sealed: ask those (all of them
    // with --seal, else at most SEAL_ASK_LIMIT).
    let limit = (!seal).then_some(tree::SEAL_ASK_LIMIT);
    let seals = tree::fill_seals(session.client(), &root, &mut walk, limit).await;
    let text = tree::render(&root.display(), &walk);
    let closed_skipped = !walk.scanned && walk.entries.iter().any(|e| e.state.is_closed());
    let mut notes = Vec::new();
    if walk.no_namespaces && session.tell_no_namespaces() {
        notes.push(NO_NAMESPACES_NOTE.to_string());
    }
    if !walk.no_namespaces {
        notes.extend(tree::seal_note(
            &seals,
            "`tree --seal` asks them all",
            false,
        ));
    }
    if walk.source == tree::Source::UiList {
        notes.push(
            "note: the tree is Vault's list of the namespaces this token sees (one request); it carries no lock state: `locks` lists level by level".into(),
        );
    }
    let info = tree::info_document(walk.entries);
    if closed_skipped {
        notes.push(
            "note: listed level by level; namespaces below a locked or sealed one cannot be listed"
                .into(),
        );
    }
    Ok(Output {
        json: Some(Value::Object(info)),
        view: View::Text(text),
        notes,
    })
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
                depth: Some(2),
                seal: false
            })
        );
        assert_eq!(
            p("tree --seal"),
            Ok(Nav::Tree {
                path: None,
                depth: None,
                seal: true
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
