//! Completion: the words the shell offers for the last word of a line, best first. One
//! completer for every front end: `complete LINE`, Tab in line mode, the TUI's popup.
//! Candidates come from the [`Cache`]; ranking from [`fuzzy`].

use std::sync::Arc;
use std::time::Duration;

use crate::engine::cache::{Cache, Mount};
use crate::engine::fuzzy;
use crate::engine::nspath::NsPath;
use crate::engine::spec::{Arg, CommandInfo};
use crate::engine::words;

/// What completion needs of a session: cheap to clone, so a front end can keep a copy.
#[derive(Debug, Clone)]
pub struct Context {
    /// What is known of the server.
    pub cache: Arc<Cache>,
    /// The current namespace.
    pub cwd: NsPath,
    /// The command table: names, flags and what each argument is.
    pub commands: Vec<&'static CommandInfo>,
}

/// At most this many completions are offered.
pub const LIMIT: usize = 200;

/// The usual API paths that are not mounts of their own.
const SYS_PATHS: &[&str] = &[
    "sys/mounts",
    "sys/auth",
    "sys/policies/acl/",
    "sys/policies/password/",
    "sys/namespaces/",
    "sys/health",
    "sys/leader",
    "sys/seal-status",
    "sys/capabilities-self",
    "sys/internal/ui/mounts",
    "auth/token/lookup-self",
    "identity/entity/name/",
    "identity/group/name/",
];

/// What kind of word is expected at a position.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    /// A command name.
    Command,
    /// A flag of this command.
    Flags(&'static [&'static str]),
    /// A subcommand of this command.
    Subcommand(&'static [CommandInfo]),
    /// An argument of this kind.
    Arg(Arg),
}

/// What the word being typed is, from the words before it and the command table.
fn slot(commands: &[&'static CommandInfo], words: &[String], partial: &str) -> Slot {
    let Some((first, rest)) = words.split_first() else {
        return Slot::Command;
    };
    let Some(mut info) = commands.iter().copied().find(|c| c.is_called(first)) else {
        return Slot::Arg(Arg::Free);
    };
    // Words already given, less flags, decide the position; a subcommand moves into its row.
    let mut positional = rest.iter().filter(|w| !w.starts_with('-')).peekable();
    while !info.subcommands.is_empty() {
        match positional.next() {
            None if partial.starts_with('-') => return Slot::Flags(info.flags),
            None => return Slot::Subcommand(info.subcommands),
            Some(word) => match info.subcommand(word) {
                Some(sub) => info = sub,
                None => return Slot::Arg(Arg::Free),
            },
        }
    }
    if partial.starts_with('-') {
        return Slot::Flags(info.flags);
    }
    Slot::Arg(info.arg(positional.count()))
}

/// The candidates for `line` from what is known now, and whether something was still
/// being fetched.
pub fn candidates(ctx: &Context, line: &str) -> (Vec<String>, bool) {
    candidates_up_to(ctx, line, LIMIT)
}

/// As [`candidates`], at most `limit` of them.
fn candidates_up_to(ctx: &Context, line: &str, limit: usize) -> (Vec<String>, bool) {
    let (mut words, new_word) = words::split_for_completion(line);
    let partial = if new_word {
        String::new()
    } else {
        words.pop().unwrap_or_default()
    };
    let mut pending = false;
    let mut recent = Vec::new();
    let found: Vec<String> = match slot(&ctx.commands, &words, &partial) {
        Slot::Command => ctx.commands.iter().map(|c| c.name.to_string()).collect(),
        Slot::Flags(f) => f.iter().map(|s| s.to_string()).collect(),
        Slot::Subcommand(subs) => subs.iter().map(|s| s.name.to_string()).collect(),
        Slot::Arg(Arg::Namespace) => {
            let (c, r) = namespaces(ctx, &partial, &mut pending);
            recent = r;
            c
        }
        Slot::Arg(Arg::ApiPath) => api_paths(ctx, &partial, false, &mut pending),
        Slot::Arg(Arg::KvPath) => api_paths(ctx, &partial, true, &mut pending),
        Slot::Arg(Arg::Policy) => match ctx.cache.list(&ctx.cwd, "sys/policies/acl") {
            Some(names) => names,
            None => {
                pending = true;
                Vec::new()
            }
        },
        Slot::Arg(Arg::SecretsMount) => own_mounts(ctx, false, &mut pending),
        Slot::Arg(Arg::AuthMount) => own_mounts(ctx, true, &mut pending),
        Slot::Arg(Arg::Accessor) => match ctx.cache.list(&ctx.cwd, "auth/token/accessors") {
            Some(accessors) => accessors,
            None => {
                pending = true;
                Vec::new()
            }
        },
        Slot::Arg(Arg::Words(w)) => w.iter().map(|s| s.to_string()).collect(),
        Slot::Arg(Arg::Free) => Vec::new(),
    };
    (fuzzy::rank(found, &recent, &partial, limit), pending)
}

/// The completions for `line` with the cursor at its end, best first. Waits at most
/// `wait` for what is being fetched (zero: offer what is known now).
pub async fn complete(ctx: &Context, line: &str, wait: Duration) -> Vec<String> {
    complete_up_to(ctx, line, wait, LIMIT).await
}

/// As [`complete`], at most `limit` of them.
pub async fn complete_up_to(
    ctx: &Context,
    line: &str,
    wait: Duration,
    limit: usize,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (found, pending) = candidates_up_to(ctx, line, limit);
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !pending || left.is_zero() {
            return found;
        }
        ctx.cache.settle(left).await;
    }
}

/// What Tab offers in line mode: the completions of [`complete`], narrowed to those that
/// extend the typed word when there are any. A fuzzy match that does not start with the
/// word would leave no common prefix, so Tab could never complete `cd ac` to `cd acme/`;
/// fuzzy matches are offered when nothing starts with the word (`cd pymnts`).
pub async fn complete_for_tab(ctx: &Context, line: &str, wait: Duration) -> Vec<String> {
    let found = complete(ctx, line, wait).await;
    let (mut typed, new_word) = words::split_for_completion(line);
    let partial = if new_word {
        String::new()
    } else {
        typed.pop().unwrap_or_default()
    };
    prefer_prefix(found, &partial)
}

/// Keep the words that start with `partial` (smart case), if any do; else all of them.
/// The order is kept.
pub fn prefer_prefix(found: Vec<String>, partial: &str) -> Vec<String> {
    let partial = partial.trim_start_matches('^');
    if partial.is_empty() {
        return found;
    }
    let extends = |w: &str| fuzzy::starts_with_smart(w, partial);
    if found.iter().any(|w| extends(w)) {
        found.into_iter().filter(|w| extends(w)).collect()
    } else {
        found
    }
}

/// The mounts of the current namespace that a user changes: secrets engines, or auth
/// methods (without `auth/`, as `auth tune` takes them); not the built-in ones.
fn own_mounts(ctx: &Context, auth: bool, pending: &mut bool) -> Vec<String> {
    let Some(mounts) = ctx.cache.mounts(&ctx.cwd) else {
        *pending = true;
        return Vec::new();
    };
    mounts
        .into_iter()
        .filter_map(|m| match m.path.strip_prefix("auth/") {
            Some(rest) if auth && rest != "token/" => Some(rest.to_string()),
            None if !auth && !matches!(&*m.path, "sys/" | "identity/" | "cubbyhole/") => {
                Some(m.path.into_owned())
            }
            _ => None,
        })
        .collect()
}

/// Namespace candidates in the form the user is typing: relative, `../…` or `/…`; and the
/// recently used ones in the same form.
fn namespaces(ctx: &Context, partial: &str, pending: &mut bool) -> (Vec<String>, Vec<String>) {
    let Some(all) = ctx.cache.namespaces() else {
        *pending = true;
        return (Vec::new(), Vec::new());
    };
    let (base, prefix) = if partial.starts_with('/') {
        (NsPath::root(), "/".to_string())
    } else {
        let ups = partial.split('/').take_while(|s| *s == "..").count();
        let mut base = ctx.cwd.clone();
        for _ in 0..ups {
            match base.parent() {
                Some(p) => base = p,
                None => return (Vec::new(), Vec::new()),
            }
        }
        (base, "../".repeat(ups))
    };
    let form = |abs: &NsPath| {
        abs.strip_prefix(&base)
            .filter(|rel| !rel.is_root())
            .map(|rel| format!("{prefix}{}", rel.header()))
    };
    let mut out: Vec<String> = all.iter().filter_map(form).collect();
    if prefix.is_empty() && !ctx.cwd.is_root() {
        out.push("../".to_string());
    }
    if partial == "/" || partial.is_empty() && ctx.cwd.is_root() {
        out.push("/".to_string());
    }
    let recent = ctx
        .cache
        .recent()
        .iter()
        .filter_map(|h| NsPath::parse(h).ok())
        .filter_map(|p| form(&p))
        .collect();
    (out, recent)
}

/// API path candidates: mounts, usual sys paths and child namespaces at the first level;
/// then keys inside a mount, level by level (KV v2 through `metadata/`). With `logical`
/// (`ls`, `cat`), the keys of a KV v2 mount follow the mount directly, as those commands
/// take them (`secret/app`, not `secret/data/app`).
fn api_paths(ctx: &Context, partial: &str, logical: bool, pending: &mut bool) -> Vec<String> {
    let (mut ns, mut consumed, rest) = match partial.strip_prefix('/') {
        Some(r) => (NsPath::root(), "/".to_string(), r),
        None => (ctx.cwd.clone(), String::new(), partial),
    };
    // Leading segments that name child namespaces move the request into them.
    let known = ctx.cache.namespaces();
    if known.is_none() {
        *pending = true;
    }
    let known = known.unwrap_or_default();
    let mut rest = rest;
    while let Some((seg, tail)) = rest.split_once('/') {
        let child = ns.child(seg);
        if seg.is_empty() || !known.contains(&child) {
            break;
        }
        ns = child;
        consumed.push_str(seg);
        consumed.push('/');
        rest = tail;
    }
    let mounts = ctx.cache.mounts(&ns);
    if mounts.is_none() {
        *pending = true;
    }
    let mounts = mounts.unwrap_or_default();
    let with = |words: Vec<String>| -> Vec<String> {
        words
            .into_iter()
            .map(|w| format!("{consumed}{w}"))
            .collect()
    };
    let Some(slash) = rest.rfind('/') else {
        let mut out: Vec<String> = mounts.iter().map(|m| m.path.to_string()).collect();
        out.extend(SYS_PATHS.iter().map(|s| s.to_string()));
        out.extend(
            known
                .iter()
                .filter(|k| k.parent().as_ref() == Some(&ns))
                .filter_map(|k| k.name().map(|n| format!("{n}/"))),
        );
        return with(out);
    };
    let dir = &rest[..=slash];
    if dir == "auth/" || dir == "sys/" || dir == "identity/" {
        let mut out: Vec<String> = mounts
            .iter()
            .map(|m| m.path.to_string())
            .filter(|p| p.starts_with(dir) && *p != dir)
            .collect();
        out.extend(
            SYS_PATHS
                .iter()
                .filter(|s| s.starts_with(dir))
                .map(|s| s.to_string()),
        );
        if !out.is_empty() {
            return with(out);
        }
    }
    let mount: Option<&Mount> = mounts
        .iter()
        .filter(|m| dir.starts_with(&*m.path))
        .max_by_key(|m| m.path.len());
    let (list_path, shown_dir) = match mount {
        Some(m) if m.kv2 && logical => {
            let inner = &dir[m.path.len()..];
            (format!("{}metadata/{inner}", m.path), dir.to_string())
        }
        Some(m) if m.kv2 => {
            let inner = &dir[m.path.len()..];
            if inner.is_empty() {
                let subs = [
                    "data/",
                    "metadata/",
                    "delete/",
                    "undelete/",
                    "destroy/",
                    "config",
                ];
                return with(subs.iter().map(|s| format!("{}{s}", m.path)).collect());
            }
            let (_, sub) = inner.split_once('/').unwrap_or((inner, ""));
            (format!("{}metadata/{sub}", m.path), dir.to_string())
        }
        _ => (dir.to_string(), dir.to_string()),
    };
    match ctx.cache.list(&ns, &list_path) {
        Some(keys) => with(
            keys.into_iter()
                .map(|k| format!("{shown_dir}{k}"))
                .collect(),
        ),
        None => {
            *pending = true;
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// A small table in the shape of the real one (the engine's own is tested through
    /// the `complete` command against the server).
    const TABLE: &[CommandInfo] = &[
        CommandInfo::new("cd", "cd", "").args(&[Arg::Namespace]),
        CommandInfo::new("pwd", "pwd", ""),
        CommandInfo::new("read", "read", "").args(&[Arg::ApiPath]),
        CommandInfo::new("ls", "ls", "").args(&[Arg::KvPath]),
        CommandInfo::new("tree", "tree", "")
            .flags(&["-d", "--mounts"])
            .args(&[Arg::Namespace]),
        CommandInfo::new("unlock", "unlock", "")
            .flags(&["--key"])
            .args(&[Arg::Namespace]),
        CommandInfo::new("ns", "ns", "")
            .aliases(&["namespace"])
            .subcommands(&[
                CommandInfo::new("list", "", "").flags(&["-detailed"]),
                CommandInfo::new("lookup", "", "").args(&[Arg::Namespace]),
            ]),
        CommandInfo::new("policy", "policy", "")
            .subcommands(&[CommandInfo::new("read", "", "").args(&[Arg::Policy])]),
    ];

    #[test]
    fn slots_by_position() {
        let t: Vec<&'static CommandInfo> = TABLE.iter().collect();
        let slot = |words: &str, partial: &str| slot(&t, &w(words), partial);
        assert_eq!(slot("", ""), Slot::Command);
        assert_eq!(slot("cd", ""), Slot::Arg(Arg::Namespace));
        assert!(matches!(slot("ns", ""), Slot::Subcommand(_)));
        assert!(matches!(slot("namespace", ""), Slot::Subcommand(_)));
        assert_eq!(slot("ns lookup", "a"), Slot::Arg(Arg::Namespace));
        assert_eq!(slot("ns lookup a", ""), Slot::Arg(Arg::Free));
        assert_eq!(slot("read", ""), Slot::Arg(Arg::ApiPath));
        assert_eq!(slot("pwd", ""), Slot::Arg(Arg::Free));
        assert_eq!(slot("tree", "-"), Slot::Flags(&["-d", "--mounts"]));
        assert_eq!(slot("policy read", ""), Slot::Arg(Arg::Policy));
        assert_eq!(slot("ns list", "-"), Slot::Flags(&["-detailed"]));
        assert_eq!(slot("unlock a", "--"), Slot::Flags(&["--key"]));
        assert_eq!(slot("ls", "se"), Slot::Arg(Arg::KvPath));
        assert_eq!(slot("frob", ""), Slot::Arg(Arg::Free));
    }

    #[test]
    fn tab_prefers_words_that_extend_the_typed_one() {
        let found = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            prefer_prefix(found(&["acme/", "stark/search/", "acme/web/"]), "ac"),
            found(&["acme/", "acme/web/"])
        );
        assert_eq!(
            prefer_prefix(found(&["acme/payments/", "hooli/payments/"]), "pymnts"),
            found(&["acme/payments/", "hooli/payments/"])
        );
        assert_eq!(
            prefer_prefix(found(&["Prod/", "prod/"]), "p"),
            found(&["Prod/", "prod/"])
        );
        assert_eq!(
            prefer_prefix(found(&["Prod/", "prod/"]), "P"),
            found(&["Prod/"])
        );
        assert_eq!(prefer_prefix(found(&["é/", "e/"]), "e"), found(&["e/"]));
    }
}
