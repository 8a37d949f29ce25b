//! The command language: what the user asked for, parsed from words.

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
                let Some((path, args)) = rest.split_first() else {
                    return Err(bad(name, format!("`{name}` needs a PATH")));
                };
                if matches!(op, ApiOp::List | ApiOp::Delete | ApiOp::Read) && !args.is_empty() {
                    return Err(bad(name, format!("`{name}` takes only a PATH")));
                }
                if matches!(op, ApiOp::Write | ApiOp::Patch) && args.is_empty() {
                    return Err(bad(name, format!("`{name}` needs k=v arguments")));
                }
                Ok(Command::Api {
                    op,
                    path: path.clone(),
                    args: args.to_vec(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
