//! Completion: the words the shell offers for the last word of a line, best first.

use crate::engine::command::COMMANDS;
use crate::engine::nspath;
use crate::engine::nspath::NsPath;
use crate::engine::tree;
use crate::engine::words;
use crate::vault::{Client, Method};

/// What completion needs to know of a session: cheap to clone, so a front end can keep
/// a copy for its completer.
#[derive(Debug, Clone)]
pub struct Context {
    /// The client (shares the session's connection pool).
    pub client: Client,
    /// The current namespace.
    pub cwd: NsPath,
}

const NS_SUBCOMMANDS: &[&str] = &["list", "scan", "lookup", "create", "patch", "delete"];

/// What kind of word is expected at a position.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    Command,
    NsSubcommand,
    Namespace,
    ApiPath,
    Nothing,
}

fn slot(words: &[String]) -> Slot {
    match words {
        [] => Slot::Command,
        [cmd] => match cmd.as_str() {
            "ns" | "namespace" => Slot::NsSubcommand,
            "cd" | "tree" | "lock" | "unlock" => Slot::Namespace,
            "ls" | "read" | "list" | "write" | "patch" | "delete" => Slot::ApiPath,
            _ => Slot::Nothing,
        },
        [ns, sub] if ns == "ns" || ns == "namespace" => match sub.as_str() {
            "lookup" | "patch" | "delete" => Slot::Namespace,
            _ => Slot::Nothing,
        },
        _ => Slot::Nothing,
    }
}

/// The completions for `line` with the cursor at its end: each a word that would
/// replace the last word, best first. Never fails: what cannot be listed is not offered.
pub async fn complete(ctx: &Context, line: &str) -> Vec<String> {
    let (mut words, new_word) = words::split_for_completion(line);
    let partial = if new_word {
        String::new()
    } else {
        words.pop().unwrap_or_default()
    };
    let mut out: Vec<String> = match slot(&words) {
        Slot::Command => COMMANDS.iter().map(|c| c.name.to_string()).collect(),
        Slot::NsSubcommand => NS_SUBCOMMANDS.iter().map(|s| s.to_string()).collect(),
        Slot::Namespace => namespaces(ctx, &partial).await,
        Slot::ApiPath => api_paths(ctx, &partial).await,
        Slot::Nothing => Vec::new(),
    };
    out.retain(|c| c.starts_with(&partial));
    out.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// Split a partial path at its last `/`: the directory typed so far and the rest.
fn split_dir(partial: &str) -> (&str, &str) {
    match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    }
}

async fn namespaces(ctx: &Context, partial: &str) -> Vec<String> {
    let (dir, _) = split_dir(partial);
    let base = if dir.is_empty() {
        Some(ctx.cwd.clone())
    } else {
        nspath::resolve(&ctx.cwd, None, &ctx.cwd, Some(dir)).ok()
    };
    let Some(base) = base else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if dir.is_empty() && !&ctx.cwd.is_root() {
        out.push("../".to_string());
    }
    if let Ok(children) = tree::list_children(&ctx.client, &base).await {
        out.extend(children.keys().map(|k| format!("{dir}{k}")));
    }
    out
}

async fn api_paths(ctx: &Context, partial: &str) -> Vec<String> {
    let (dir, _) = split_dir(partial);
    let route = nspath::route(&ctx.cwd, dir);
    let client = &ctx.client;
    let ns = route.namespace.header();
    if dir.is_empty() || dir == "/" {
        let mut out = Vec::new();
        if let Ok(Some(body)) = client.request(Method::Get, &ns, "sys/mounts", None).await {
            let data = body.get("data").unwrap_or(&body);
            if let Some(m) = data.as_object() {
                out.extend(
                    m.keys()
                        .filter(|k| k.ends_with('/'))
                        .map(|k| format!("{dir}{k}")),
                );
            }
        }
        out.extend(
            ["sys/", "auth/", "identity/"]
                .iter()
                .map(|s| format!("{dir}{s}")),
        );
        return out;
    }
    match client.request(Method::List, &ns, &route.path, None).await {
        Ok(Some(body)) => body
            .pointer("/data/keys")
            .and_then(|k| k.as_array())
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str())
                    .map(|k| format!("{dir}{k}"))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn slots_by_position() {
        assert_eq!(slot(&w("")), Slot::Command);
        assert_eq!(slot(&w("cd")), Slot::Namespace);
        assert_eq!(slot(&w("ns")), Slot::NsSubcommand);
        assert_eq!(slot(&w("ns lookup")), Slot::Namespace);
        assert_eq!(slot(&w("read")), Slot::ApiPath);
        assert_eq!(slot(&w("pwd")), Slot::Nothing);
    }

    #[test]
    fn split_dir_keeps_the_slash() {
        assert_eq!(split_dir("acme/pa"), ("acme/", "pa"));
        assert_eq!(split_dir("pa"), ("", "pa"));
        assert_eq!(split_dir("/"), ("/", ""));
    }
}
