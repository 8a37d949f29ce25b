//! The command language: what the user asked for, parsed from words.

use crate::engine::auth::{self, Auth};
use crate::engine::explore::{self, Explore};
use crate::engine::incident::{self, Incident};

/// An API operation on an arbitrary path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiOp {
    /// `read PATH`
    Read,
    /// `list PATH`
    List,
    /// `write PATH k=v…`
    Write,
    /// `patch PATH k=v…`
    Patch,
    /// `delete PATH`
    Delete,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
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
    /// Direct children.
    NsList {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// Every descendant.
    NsScan {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// One namespace.
    NsLookup(String),
    /// Create a namespace with custom metadata.
    NsCreate {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Merge-patch a namespace's custom metadata.
    NsPatch {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Delete a namespace.
    NsDelete(String),
    /// Lock the API of here or a descendant.
    Lock(Option<String>),
    /// Unlock here or a descendant.
    Unlock {
        /// The descendant, relative to here.
        subpath: Option<String>,
        /// The unlock key, when not the saved one.
        key: Option<String>,
    },
    /// Any API path.
    Api {
        /// Which operation.
        op: ApiOp,
        /// The path, relative to here unless it starts with `/`.
        path: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// The completions for a line.
    Complete(String),
    /// Reload what completion knows of the server.
    Refresh,
    /// Explore what a namespace holds.
    Explore(Explore),
    /// Locks, saved keys, the action log.
    Incident(Incident),
    /// Log in, who am I, another cluster.
    Auth(Auth),
    /// Help on all commands or one.
    Help(Option<String>),
    /// Leave the shell.
    Exit,
}

/// One entry of the command table: its name, usage and one-line help.
pub struct CommandInfo {
    /// The word that starts it.
    pub name: &'static str,
    /// Arguments, as in a man page synopsis.
    pub usage: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Every command, in the order help lists them.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo { name: "pwd", usage: "pwd", help: "print the current namespace" },
    CommandInfo { name: "cd", usage: "cd [PATH|..|-|~|/]", help: "change namespace (relative, absolute, .., -, ~)" },
    CommandInfo { name: "ls", usage: "ls [PATH]", help: "child namespaces (lock state) and mounts; inside a KV mount, its keys" },
    CommandInfo { name: "tree", usage: "tree [PATH] [-d N]", help: "the namespace tree below here, locked namespaces marked" },
    CommandInfo { name: "ns", usage: "ns list [-detailed] | scan [-detailed] | lookup NAME | create NAME [k=v…] | patch NAME k=v… | delete NAME", help: "manage namespaces below here" },
    CommandInfo { name: "lock", usage: "lock [SUBPATH]", help: "lock the API of here or a descendant (and all below it); the unlock key is saved first" },
    CommandInfo { name: "unlock", usage: "unlock [SUBPATH] [--key KEY]", help: "unlock with the saved key, a given key, or a sudo token" },
    CommandInfo { name: "read", usage: "read PATH", help: "read any API path, relative to here (/PATH: from the root)" },
    CommandInfo { name: "list", usage: "list PATH", help: "list the keys under an API path" },
    CommandInfo { name: "write", usage: "write PATH k=v… (k=@file, k=-, -)", help: "write to an API path" },
    CommandInfo { name: "patch", usage: "patch PATH k=v…", help: "JSON merge-patch an API path" },
    CommandInfo { name: "delete", usage: "delete PATH", help: "delete an API path (asks first)" },
    CommandInfo { name: "complete", usage: "complete LINE", help: "the completions the shell offers for LINE, best first" },
    CommandInfo { name: "refresh", usage: "refresh", help: "reload the namespaces, mounts and keys that completion offers" },
    CommandInfo { name: "help", usage: "help [CMD]", help: "this list, or one command's usage" },
    CommandInfo { name: "exit", usage: "exit", help: "leave the shell (also Ctrl-D)" },
];

/// A command line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nusage: {usage}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The command's usage line.
    pub usage: String,
}

/// Every command of every room, in the order help lists them.
pub fn all_commands() -> impl Iterator<Item = &'static CommandInfo> {
    COMMANDS
        .iter()
        .chain(explore::COMMANDS.iter())
        .chain(incident::COMMANDS.iter())
        .chain(auth::COMMANDS.iter())
}

fn usage_of(name: &str) -> &'static str {
    all_commands()
        .find(|c| c.name == name)
        .map_or("help", |c| c.usage)
}

fn bad(name: &str, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        usage: usage_of(name).to_string(),
    }
}

impl Command {
    /// Parse the words of one command.
    pub fn parse(words: &[String]) -> Result<Command, UsageError> {
        let Some((first, rest)) = words.split_first() else {
            return Err(bad("help", "empty command"));
        };
        let name = first.as_str();
        let at_most_one = |rest: &[String]| -> Result<Option<String>, UsageError> {
            match rest {
                [] => Ok(None),
                [one] => Ok(Some(one.clone())),
                _ => Err(bad(name, format!("`{name}` takes at most one argument"))),
            }
        };
        match name {
            "pwd" => at_most_one(rest).and_then(|a| match a {
                None => Ok(Command::Pwd),
                Some(_) => Err(bad(name, "`pwd` takes no argument")),
            }),
            "cd" => at_most_one(rest).map(Command::Cd),
            "ls" => at_most_one(rest).map(Command::Ls),
            "tree" => explore::parse_tree_mounts(rest)
                .map_or_else(|| parse_tree(rest), |r| r.map(Command::Explore)),
            "ns" | "namespace" => parse_ns(rest),
            "lock" => at_most_one(rest).map(Command::Lock),
            "unlock" => parse_unlock(rest),
            "read" | "list" | "write" | "patch" | "delete" => {
                let op = match name {
                    "read" => ApiOp::Read,
                    "list" => ApiOp::List,
                    "write" => ApiOp::Write,
                    "patch" => ApiOp::Patch,
                    _ => ApiOp::Delete,
                };
                // `-field=KEY` / `-format=json` may come anywhere; they stay in the args.
                let (flags, rest) = ApiFlags::split(rest).map_err(|m| bad(name, m))?;
                let Some((path, args)) = rest.split_first() else {
                    return Err(bad(name, format!("`{name}` needs a PATH")));
                };
                if matches!(op, ApiOp::List | ApiOp::Delete | ApiOp::Read) && !args.is_empty() {
                    return Err(bad(name, format!("`{name}` takes only a PATH")));
                }
                if matches!(op, ApiOp::Write | ApiOp::Patch) && args.is_empty() {
                    return Err(bad(name, format!("`{name}` needs k=v arguments")));
                }
                if flags.field.is_some() && op != ApiOp::Read {
                    return Err(bad(name, "`-field` goes with `read`"));
                }
                Ok(Command::Api {
                    op,
                    path: path.clone(),
                    args: flags.words().into_iter().chain(args.to_vec()).collect(),
                })
            }
            "complete" => Ok(Command::Complete(rest.join(" "))),
            "help" | "?" => at_most_one(rest).map(Command::Help),
            "exit" | "quit" => Ok(Command::Exit),
            "refresh" if rest.is_empty() => Ok(Command::Refresh),
            "refresh" => Err(bad(name, "`refresh` takes no argument")),
            other if incident::parse(other, rest).is_some() => incident::parse(other, rest)
                .unwrap_or_else(|| Err(bad(other, "unknown command")))
                .map(Command::Incident),
            other if explore::parse(other, rest).is_some() => explore::parse(other, rest)
                .unwrap_or_else(|| Err(bad(other, "unknown command")))
                .map(Command::Explore),
            other if auth::parse(other, rest).is_some() => auth::parse(other, rest)
                .unwrap_or_else(|| Err(bad(other, "unknown command")))
                .map(Command::Auth),
            // An alias of the configuration file: its words, then the ones typed after it
            // (the file's check makes this one step: an alias never starts with one).
            other if crate::config::alias(other).is_some() => {
                let expanded: Vec<String> = crate::config::alias(other)
                    .unwrap_or_default()
                    .iter()
                    .chain(rest)
                    .cloned()
                    .collect();
                Command::parse(&expanded)
            }
            other => Err(UsageError {
                message: format!("unknown command `{other}`"),
                usage: "help lists the commands".to_string(),
            }),
        }
    }

    /// Whether this command changes state on the server (refused with `--read-only`, logged).
    pub fn is_mutating(&self) -> bool {
        match self {
            Command::NsCreate { .. }
            | Command::NsPatch { .. }
            | Command::NsDelete(_)
            | Command::Lock(_)
            | Command::Unlock { .. } => true,
            Command::Api { op, .. } => matches!(op, ApiOp::Write | ApiOp::Patch | ApiOp::Delete),
            _ => false,
        }
    }

    /// Whether this command destroys or cuts off something, and so asks first in an
    /// interactive session.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Command::NsDelete(_)
                | Command::Lock(_)
                | Command::Api {
                    op: ApiOp::Delete,
                    ..
                }
        )
    }
}

/// `-field=KEY` and `-format=json|table` on an API command, as the vault CLI takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiFlags {
    /// Print only this field of the answer, raw (`read -field=password secret/data/db`).
    pub field: Option<String>,
    /// Print this answer as JSON whatever the session's format.
    pub json: bool,
}

impl ApiFlags {
    /// Take the flags out of `args` (`-field=K`, `-field K`, `-format=F`, one or two
    /// dashes); the rest keep their order.
    pub fn split(args: &[String]) -> Result<(ApiFlags, Vec<String>), String> {
        let mut flags = ApiFlags::default();
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(w) = it.next() {
            let bare = w.strip_prefix("--").or_else(|| w.strip_prefix('-'));
            let Some((name, value)) = bare.and_then(|b| match b.split_once('=') {
                Some((n, v)) if n == "field" || n == "format" => Some((n, Some(v.to_string()))),
                None if b == "field" || b == "format" => Some((b, None)),
                _ => None,
            }) else {
                rest.push(w.clone());
                continue;
            };
            let value = match value {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`-{name}` needs a value"))?,
            };
            match name {
                "field" if value.is_empty() => return Err("`-field` needs a KEY".into()),
                "field" => flags.field = Some(value),
                _ => match value.as_str() {
                    "json" => flags.json = true,
                    "table" => flags.json = false,
                    other => {
                        return Err(format!("`-format={other}`: the formats are json and table"))
                    }
                },
            }
        }
        Ok((flags, rest))
    }

    /// The flags as words, for a command's arguments.
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = &self.field {
            out.push(format!("-field={f}"));
        }
        if self.json {
            out.push("-format=json".into());
        }
        out
    }

    /// Apply the flags to a command's output: one raw field, or the JSON as the view.
    pub fn apply(&self, mut out: Output) -> Result<Output, String> {
        if let Some(field) = &self.field {
            let value = out
                .json
                .as_ref()
                .and_then(|j| field_of(j, field))
                .ok_or_else(|| format!("field {field:?} is not in the answer"))?;
            let raw = match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.view = View::Text(raw);
            out.json = Some(value);
        } else if self.json {
            if let Some(j) = &out.json {
                out.view = View::Text(crate::engine::output::pretty(j));
            }
        }
        Ok(out)
    }
}

/// A field of a secret as the vault CLI's `-field` finds it: in `data`, in a KV v2
/// `data.data`, then among the secret's own fields. Never a client token.
fn field_of(secret: &Value, field: &str) -> Option<Value> {
    if field == "client_token" || (field == "token" && secret.get("auth").is_some()) {
        return None;
    }
    let data = secret.get("data");
    data.and_then(|d| d.get(field))
        .or_else(|| data.and_then(|d| d.get("data")).and_then(|d| d.get(field)))
        .or_else(|| secret.get(field).filter(|_| field != "auth"))
        .cloned()
}

fn parse_tree(rest: &[String]) -> Result<Command, UsageError> {
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
    Ok(Command::Tree { path, depth })
}

fn is_detailed_flag(w: &str) -> bool {
    matches!(w, "-detailed" | "--detailed" | "-l")
}

fn parse_ns(rest: &[String]) -> Result<Command, UsageError> {
    let Some((sub, args)) = rest.split_first() else {
        return Err(bad("ns", "`ns` needs a subcommand"));
    };
    let name_and_args = |args: &[String]| -> Result<(String, Vec<String>), UsageError> {
        let Some((n, kv)) = args.split_first() else {
            return Err(bad("ns", format!("`ns {sub}` needs a NAME")));
        };
        Ok((n.clone(), kv.to_vec()))
    };
    let only_name = |args: &[String]| -> Result<String, UsageError> {
        match args {
            [n] => Ok(n.clone()),
            [] => Err(bad("ns", format!("`ns {sub}` needs a NAME"))),
            _ => Err(bad("ns", format!("`ns {sub}` takes only a NAME"))),
        }
    };
    let flags = |args: &[String]| -> Result<bool, UsageError> {
        let mut detailed = false;
        for a in args {
            if is_detailed_flag(a) {
                detailed = true;
            } else {
                return Err(bad("ns", format!("unexpected argument {a:?}")));
            }
        }
        Ok(detailed)
    };
    match sub.as_str() {
        "list" | "ls" => Ok(Command::NsList {
            detailed: flags(args)?,
        }),
        "scan" => Ok(Command::NsScan {
            detailed: flags(args)?,
        }),
        "lookup" => only_name(args).map(Command::NsLookup),
        "create" => name_and_args(args).map(|(name, args)| Command::NsCreate { name, args }),
        "patch" => {
            let (name, args) = name_and_args(args)?;
            if args.is_empty() {
                return Err(bad("ns", "`ns patch` needs k=v arguments"));
            }
            Ok(Command::NsPatch { name, args })
        }
        "delete" | "rm" => only_name(args).map(Command::NsDelete),
        other => Err(bad("ns", format!("unknown subcommand `ns {other}`"))),
    }
}

fn parse_unlock(rest: &[String]) -> Result<Command, UsageError> {
    let mut subpath = None;
    let mut key = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix("--key=").or_else(|| w.strip_prefix("-key=")) {
            key = Some(v.to_string());
        } else if w == "--key" || w == "-key" {
            key = Some(
                it.next()
                    .ok_or_else(|| bad("unlock", "`--key` needs the unlock key"))?
                    .clone(),
            );
        } else if subpath.is_none() && !w.starts_with('-') {
            subpath = Some(w.clone());
        } else {
            return Err(bad("unlock", format!("unexpected argument {w:?}")));
        }
    }
    Ok(Command::Unlock { subpath, key })
}

use serde_json::Value;

use crate::engine::output::{Output, View};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_flags_anywhere_and_kept_in_the_args() {
        let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            Command::parse(&words("read -field=password secret/data/db")),
            Ok(Command::Api {
                op: ApiOp::Read,
                path: "secret/data/db".into(),
                args: vec!["-field=password".into()]
            })
        );
        assert_eq!(
            Command::parse(&words("read secret/x -format json")),
            Ok(Command::Api {
                op: ApiOp::Read,
                path: "secret/x".into(),
                args: vec!["-format=json".into()]
            })
        );
        assert!(Command::parse(&words("read -format=yaml x")).is_err());
        assert!(Command::parse(&words("list -field=a x")).is_err());
        assert!(Command::parse(&words("read -field")).is_err());
        let (flags, rest) = ApiFlags::split(&words("--field=a b=1 -")).unwrap();
        assert_eq!(flags.field.as_deref(), Some("a"));
        assert_eq!(rest, words("b=1 -"));
    }

    #[test]
    fn field_looks_in_data_then_kv2_data() {
        let flags = ApiFlags {
            field: Some("password".into()),
            json: false,
        };
        for secret in [
            json!({"data": {"password": "p w"}}),
            json!({"data": {"data": {"password": "p w"}, "metadata": {}}}),
        ] {
            let out = flags
                .apply(Output {
                    json: Some(secret),
                    view: View::Empty,
                    notes: vec![],
                })
                .unwrap();
            assert_eq!(out.view.render_text(), "p w");
            assert_eq!(out.json, Some(json!("p w")));
        }
        let token = ApiFlags {
            field: Some("client_token".into()),
            json: false,
        };
        let out = Output {
            json: Some(json!({"auth": {"client_token": "s.x"}})),
            view: View::Empty,
            notes: vec![],
        };
        assert!(token.apply(out).is_err());
    }

    fn p(line: &str) -> Result<Command, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        Command::parse(&words)
    }

    #[test]
    fn parses_the_table() {
        assert_eq!(p("pwd"), Ok(Command::Pwd));
        assert_eq!(p("cd"), Ok(Command::Cd(None)));
        assert_eq!(p("cd ../x"), Ok(Command::Cd(Some("../x".into()))));
        assert_eq!(
            p("tree acme -d 2"),
            Ok(Command::Tree {
                path: Some("acme".into()),
                depth: Some(2)
            })
        );
        assert_eq!(
            p("ns list -detailed"),
            Ok(Command::NsList { detailed: true })
        );
        assert_eq!(p("ns scan"), Ok(Command::NsScan { detailed: false }));
        assert_eq!(
            p("ns create a x=1"),
            Ok(Command::NsCreate {
                name: "a".into(),
                args: vec!["x=1".into()]
            })
        );
        assert_eq!(
            p("unlock a/b --key K"),
            Ok(Command::Unlock {
                subpath: Some("a/b".into()),
                key: Some("K".into())
            })
        );
        assert_eq!(
            p("read secret/data/x"),
            Ok(Command::Api {
                op: ApiOp::Read,
                path: "secret/data/x".into(),
                args: vec![]
            })
        );
    }

    #[test]
    fn refuses_bad_usage_with_the_usage_line() {
        let e = p("tree -d x").unwrap_err();
        assert!(e.message.contains("number"));
        assert!(e.to_string().contains("usage: tree"));
        assert!(p("ns patch a").is_err());
        assert!(p("write x").is_err());
        assert!(p("read").is_err());
        assert!(p("frobnicate")
            .unwrap_err()
            .message
            .contains("unknown command"));
        assert!(p("pwd x").is_err());
        assert!(p("cd a b").is_err());
    }

    #[test]
    fn classifies_mutating_and_destructive() {
        assert!(p("lock").unwrap().is_destructive());
        assert!(p("ns delete a").unwrap().is_destructive());
        assert!(p("delete x").unwrap().is_destructive());
        assert!(!p("write x a=1").unwrap().is_destructive());
        assert!(p("write x a=1").unwrap().is_mutating());
        assert!(p("unlock").unwrap().is_mutating());
        assert!(!p("read x").unwrap().is_mutating());
        assert!(!p("cd x").unwrap().is_mutating());
    }
}
