//! ACL policies of the current namespace as `bao policy` manages them: `policy list`,
//! `read`, `write NAME FILE|-`, `delete`. The server checks a policy when it is written:
//! one that does not parse is refused with its message (line and column), and nothing is
//! stored.

use serde_json::{json, Value};

use crate::engine::commands::flags::{Flags, OutputFlags};
use crate::engine::commands::secrets::done;
use crate::engine::error::EngineError;
use crate::engine::output::{cell, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::vault::{body, Method, VaultError};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// The policy names here.
    List(OutputFlags),
    /// One policy's text.
    Read {
        /// Its name.
        name: String,
        /// `-format`.
        out: OutputFlags,
    },
    /// Write (create or replace) a policy from a file or standard input.
    Write {
        /// Its name.
        name: String,
        /// A file, or `-` for standard input.
        source: String,
    },
    /// Delete a policy.
    Delete(String),
}

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "list",
        "policy list [-format=json]",
        "the ACL policies here (as `policies`)",
    )
    .flags(&["-format="]),
    CommandInfo::new(
        "read",
        "policy read [-format=json] NAME",
        "one ACL policy's text",
    )
    .flags(&["-format="])
    .args(&[Arg::Policy]),
    CommandInfo::new(
        "write",
        "policy write NAME FILE|-",
        "create or replace an ACL policy from a file (or - for standard input); the server says why one does not parse",
    )
    .args(&[Arg::Policy, Arg::Free]),
    CommandInfo::new(
        "delete",
        "policy delete NAME",
        "delete an ACL policy (asks first): tokens that have it lose what it grants",
    )
    .args(&[Arg::Policy]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "policy",
    "policy list | read NAME | write NAME FILE|- | delete NAME",
    "ACL policies here: list, read, write, delete (as `bao policy`)",
)
.subcommands(SUBCOMMANDS)];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Policy> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_policy(rest))
}

fn parse_policy(rest: &[String]) -> Result<Policy, UsageError> {
    let Some((word, rest)) = rest.split_first() else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            "`policy` needs a subcommand",
        ));
    };
    let Some(info) = SUBCOMMANDS.iter().find(|c| c.is_called(word)) else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            format!("unknown subcommand `policy {word}`"),
        ));
    };
    let f = Flags::parse(info, rest)?;
    let bad = |m: String| UsageError::new(info.usage, m);
    let name_ok = |n: &String| -> Result<String, UsageError> {
        if n.contains('/') {
            return Err(bad(format!(
                "{n:?}: a policy name has no `/`; policies belong to a namespace: `cd` there first"
            )));
        }
        Ok(n.clone())
    };
    match (info.name, f.positional.as_slice()) {
        ("list", []) => Ok(Policy::List(f.output(info)?)),
        ("list", _) => Err(bad("`policy list` takes no argument".into())),
        ("read", [n]) => Ok(Policy::Read {
            name: name_ok(n)?,
            out: f.output(info)?,
        }),
        ("write", [n, source]) => Ok(Policy::Write {
            name: name_ok(n)?,
            source: source.clone(),
        }),
        ("write", _) => Err(bad(
            "`policy write` takes NAME and FILE (or - for standard input)".into(),
        )),
        ("delete", [n]) => Ok(Policy::Delete(name_ok(n)?)),
        (sub, _) => Err(bad(format!("`policy {sub}` takes one NAME"))),
    }
}

impl Policy {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        matches!(self, Policy::Write { .. } | Policy::Delete(_))
    }

    /// Whether it destroys something, and so asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Policy::Delete(_))
    }

    /// Whether it reads standard input.
    pub fn reads_stdin(&self) -> bool {
        matches!(self, Policy::Write { source, .. } if source == "-")
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        match self {
            Policy::Delete(name) => Some(format!(
                "Delete the policy {name} in namespace {}? Tokens that have it lose what it grants.",
                session.cwd()
            )),
            _ => None,
        }
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Policy) -> Result<Output, EngineError> {
    let here = session.cwd().header();
    let client = session.client().clone();
    let out = match cmd {
        Policy::List(out) => {
            let names = match client
                .request(Method::List, &here, "sys/policies/acl", None)
                .await
            {
                Ok(b) => body::keys(b.as_ref()),
                Err(VaultError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            return Ok(out.apply(Output::names(names)));
        }
        Policy::Read { name, out } => {
            let body = client
                .request(
                    Method::Get,
                    &here,
                    &format!("sys/policies/acl/{name}"),
                    None,
                )
                .await?;
            let policy = body::data(body)
                .get("policy")
                .cloned()
                .unwrap_or(Value::Null);
            return Ok(out.apply(Output {
                view: View::Text(cell(&policy)),
                json: Some(json!({ "policy": policy })),
                notes: vec![],
            }));
        }
        Policy::Write { name, source } => {
            // `policy=@FILE` / `policy=-`: the file or standard input whole, as `k=v`
            // arguments read them everywhere (a script's own stdin is refused).
            let arg = if source == "-" {
                "policy=-".to_string()
            } else {
                format!("policy=@{}", source.strip_prefix('@').unwrap_or(source))
            };
            let text = session.kv(&[arg])?.remove("policy").unwrap_or(Value::Null);
            if text.as_str().is_none_or(|t| t.trim().is_empty()) {
                return Err(EngineError::Other(format!(
                    "policy write: {} is empty: nothing was sent",
                    if source == "-" {
                        "standard input"
                    } else {
                        source
                    }
                )));
            }
            let body = json!({ "policy": text });
            let resp = client
                .request(
                    Method::Put,
                    &here,
                    &format!("sys/policies/acl/{name}"),
                    Some(&body),
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Uploaded the policy {name} in namespace {}.",
                    session.cwd()
                ),
            )
        }
        Policy::Delete(name) => {
            let resp = client
                .request(
                    Method::Delete,
                    &here,
                    &format!("sys/policies/acl/{name}"),
                    None,
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Deleted the policy {name} in namespace {}.",
                    session.cwd()
                ),
            )
        }
    };
    session.cache().invalidate_paths();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Policy, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_its_commands() {
        assert_eq!(
            p("policy read -format=json app"),
            Ok(Policy::Read {
                name: "app".into(),
                out: OutputFlags {
                    field: None,
                    json: true
                }
            })
        );
        assert_eq!(
            p("policy write app -"),
            Ok(Policy::Write {
                name: "app".into(),
                source: "-".into()
            })
        );
        assert!(p("policy write app -").unwrap().reads_stdin());
        assert!(p("policy delete app").unwrap().is_destructive());
        assert!(p("policy write app f.hcl").unwrap().is_mutating());
        assert!(!p("policy list").unwrap().is_mutating());
        for (line, says) in [
            ("policy", "needs a subcommand"),
            ("policy fmt x", "unknown subcommand"),
            ("policy write app", "NAME and FILE"),
            ("policy read", "one NAME"),
            ("policy read a/b", "has no `/`"),
            ("policy list x", "no argument"),
        ] {
            let e = p(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
    }
}
