//! The shell's own commands: `help`, `complete`, `refresh` and `exit`. What they need of
//! the whole command table (help lists it, completion offers it) they are handed by the
//! dispatcher, so this family never imports it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::engine::complete;
use crate::engine::error::EngineError;
use crate::engine::index;
use crate::engine::output::{Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{CommandInfo, Parsed, UsageError};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    /// The completions for a line.
    Complete(String),
    /// Reload what completion knows of the server.
    Refresh,
    /// Help on all commands or one.
    Help(Option<String>),
    /// Leave the shell.
    Exit,
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "complete",
        "complete LINE",
        "the completions the shell offers for LINE, best first",
    ),
    CommandInfo::new(
        "refresh",
        "refresh",
        "read the namespaces and every namespace's mounts again (what completion, `find` and the index know)",
    ),
    CommandInfo::new(
        "help",
        "help [CMD [SUBCOMMAND…]]",
        "this list, or one command's usage, flags and subcommands",
    )
    .aliases(&["?"]),
    CommandInfo::new("exit", "exit", "leave the shell (also Ctrl-D)").aliases(&["quit"]),
];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Shell> {
    Some(match name {
        "complete" => Ok(Shell::Complete(rest.join(" "))),
        "refresh" if rest.is_empty() => Ok(Shell::Refresh),
        "refresh" => Err(UsageError::new("refresh", "`refresh` takes no argument")),
        "help" | "?" => match rest {
            [] => Ok(Shell::Help(None)),
            words => Ok(Shell::Help(Some(words.join(" ")))),
        },
        "exit" | "quit" => Ok(Shell::Exit),
        _ => return None,
    })
}

/// Run a command of this family. `table` is every command, in the order help lists them;
/// `context` is what completion knows here.
pub async fn run(
    session: &mut Session,
    cmd: &Shell,
    table: &[&'static CommandInfo],
    context: complete::Context,
) -> Result<Output, EngineError> {
    match cmd {
        Shell::Complete(line) => {
            // A script wants the full answer: wait for what is being fetched. One more
            // than the limit is asked for, to say when some were left out.
            let limit = complete::LIMIT;
            let mut words =
                complete::complete_up_to(&context, line, Duration::from_secs(10), limit + 1).await;
            let mut notes = vec![];
            if words.len() > limit {
                words.truncate(limit);
                notes.push(format!(
                    "note: the {limit} best completions are shown; more match: type more of the word to narrow them"
                ));
            }
            Ok(Output {
                view: View::Text(words.join("\n")),
                json: Some(Value::from(words)),
                notes,
            })
        }
        Shell::Help(topic) => help(table, session, topic.as_deref()),
        Shell::Refresh => {
            session.cache().clear();
            // The whole tree and every namespace's mounts read again, into the index.
            let notes = index::rebuild(session).await?;
            session.cache().warm();
            Ok(Output::default().with_notes(notes))
        }
        Shell::Exit => Ok(Output::default()),
    }
}

fn help(
    table: &[&'static CommandInfo],
    session: &Session,
    topic: Option<&str>,
) -> Result<Output, EngineError> {
    match topic {
        None => {
            let mut rows: Vec<Vec<String>> = table
                .iter()
                .map(|c| vec![c.name.to_string(), c.help.to_string()])
                .collect();
            rows.extend(
                session
                    .aliases()
                    .iter()
                    .map(|(name, words)| vec![name.clone(), format!("alias: {}", words.join(" "))]),
            );
            let json = table
                .iter()
                .map(|c| json!({ "name": c.name, "usage": c.usage, "help": c.help }))
                .collect::<Vec<_>>();
            Ok(Output {
                json: Some(Value::from(json)),
                view: View::Table {
                    header: vec!["COMMAND".into(), "WHAT IT DOES".into()],
                    rows,
                },
                notes: vec![],
            })
        }
        Some(t) => {
            let mut words = t.split_whitespace();
            let first = words.next().unwrap_or_default();
            let mut found: &CommandInfo =
                table.iter().find(|c| c.is_called(first)).ok_or_else(|| {
                    EngineError::Other(format!("help: no command `{first}`; `help` lists them"))
                })?;
            // `help kv put`: the subcommand's own row.
            for w in words {
                found = found.subcommand(w).ok_or_else(|| {
                    EngineError::Other(format!(
                        "help: `{t}` is not a command; `help {first}` lists its subcommands"
                    ))
                })?;
            }
            let mut text = format!("usage: {}\n{}", found.usage, found.help);
            if !found.flags.is_empty() {
                text.push_str(&format!("\nflags: {}", found.flags.join(" ")));
            }
            subcommands_help(found.subcommands, 1, &mut text);
            Ok(Output::text(text))
        }
    }
}

/// Each subcommand's usage, what it does and its flags, nested ones indented below.
fn subcommands_help(subs: &[CommandInfo], depth: usize, text: &mut String) {
    let indent = "  ".repeat(depth);
    for sub in subs {
        text.push_str(&format!("\n{indent}{:<40} {}", sub.usage, sub.help));
        if !sub.flags.is_empty() {
            text.push_str(&format!("\n{indent}    flags: {}", sub.flags.join(" ")));
        }
        subcommands_help(sub.subcommands, depth + 1, text);
    }
}
