//! Managing namespaces: `ns list`, `ns scan`, `ns lookup`, `ns create`, `ns patch`,
//! `ns delete` (`bao namespace …`). Sealable namespaces' commands are in [`seal`].

use serde_json::{json, Map, Value};

use super::seal;
use crate::engine::error::EngineError;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{cell, warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::engine::tree;
use crate::vault::{body, Method};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ns {
    /// Direct children.
    List {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// Every descendant.
    Scan {
        /// Show each namespace's details.
        detailed: bool,
    },
    /// One namespace.
    Lookup(String),
    /// Create a namespace with custom metadata.
    Create {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Merge-patch a namespace's custom metadata.
    Patch {
        /// Its name, relative to here.
        name: String,
        /// `k=v` arguments.
        args: Vec<String>,
    },
    /// Delete a namespace.
    Delete(String),
    /// Sealable namespaces: create one, seal, unseal, seal-status, delete-sealed.
    Seal(seal::Seal),
}

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new("list", "ns list [-detailed]", "direct children").flags(&["-detailed"]),
    CommandInfo::new("scan", "ns scan [-detailed]", "every descendant").flags(&["-detailed"]),
    CommandInfo::new("lookup", "ns lookup NAME", "one namespace").args(&[Arg::Namespace]),
    CommandInfo::new(
        "create",
        "ns create NAME [k=v…]",
        "create a namespace with custom metadata",
    ),
    CommandInfo::new(
        "patch",
        "ns patch NAME k=v…",
        "merge-patch a namespace's custom metadata",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "delete",
        "ns delete NAME",
        "delete a namespace and everything in it (asks first)",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "seal",
        "ns seal NAME",
        "seal a sealable namespace (asks first)",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "unseal",
        "ns unseal [-reset] NAME [KEY]",
        "enter a key share of a sealed namespace (asked unseen when not given)",
    )
    .flags(&["-reset"])
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "seal-status",
        "ns seal-status NAME",
        "whether a namespace is sealed, and how far an unseal has come",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "delete-sealed",
        "ns delete-sealed [-force] NAME",
        "delete a sealed namespace by wiping its storage (asks first)",
    )
    .flags(&["-force"])
    .args(&[Arg::Namespace]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "ns",
    "ns list [-detailed] | scan [-detailed] | lookup NAME | create NAME [-key-shares=N -key-threshold=T | -seal=FILE] [k=v…] | patch NAME k=v… | delete NAME | seal NAME | unseal NAME [KEY] | seal-status NAME | delete-sealed NAME",
    "manage namespaces below here",
)
.subcommands(SUBCOMMANDS)
.aliases(&["namespace"])];

fn bad(message: impl Into<String>) -> UsageError {
    UsageError::new(COMMANDS[0].usage, message)
}

fn is_detailed_flag(w: &str) -> bool {
    matches!(w, "-detailed" | "--detailed" | "-l")
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Ns> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_ns(rest))
}

fn parse_ns(rest: &[String]) -> Result<Ns, UsageError> {
    let Some((sub, args)) = rest.split_first() else {
        return Err(bad("`ns` needs a subcommand"));
    };
    if let Some(sealed) = seal::parse(sub, args) {
        return sealed.map(Ns::Seal);
    }
    let name_and_args = |args: &[String]| -> Result<(String, Vec<String>), UsageError> {
        let Some((n, kv)) = args.split_first() else {
            return Err(bad(format!("`ns {sub}` needs a NAME")));
        };
        Ok((n.clone(), kv.to_vec()))
    };
    let only_name = |args: &[String]| -> Result<String, UsageError> {
        match args {
            [n] => Ok(n.clone()),
            [] => Err(bad(format!("`ns {sub}` needs a NAME"))),
            _ => Err(bad(format!("`ns {sub}` takes only a NAME"))),
        }
    };
    let flags = |args: &[String]| -> Result<bool, UsageError> {
        let mut detailed = false;
        for a in args {
            if is_detailed_flag(a) {
                detailed = true;
            } else {
                return Err(bad(format!("unexpected argument {a:?}")));
            }
        }
        Ok(detailed)
    };
    match sub.as_str() {
        "list" | "ls" => Ok(Ns::List {
            detailed: flags(args)?,
        }),
        "scan" => Ok(Ns::Scan {
            detailed: flags(args)?,
        }),
        "lookup" => only_name(args).map(Ns::Lookup),
        "create" => name_and_args(args).map(|(name, args)| Ns::Create { name, args }),
        "patch" => {
            let (name, args) = name_and_args(args)?;
            if args.is_empty() {
                return Err(bad("`ns patch` needs k=v arguments"));
            }
            Ok(Ns::Patch { name, args })
        }
        "delete" | "rm" => only_name(args).map(Ns::Delete),
        other => Err(bad(format!("unknown subcommand `ns {other}`"))),
    }
}

impl Ns {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        match self {
            Ns::Seal(s) => s.is_mutating(),
            _ => matches!(self, Ns::Create { .. } | Ns::Patch { .. } | Ns::Delete(_)),
        }
    }

    /// The checks that need no server: a command that fails them sends nothing at all.
    pub fn precheck(&self) -> Result<(), EngineError> {
        match self {
            Ns::Create { name, .. } | Ns::Delete(name) => {
                nspath::validate_name(name)?;
            }
            Ns::Lookup(name) | Ns::Patch { name, .. } => {
                nspath::check_typed_path(name)?;
                NsPath::parse(name)?;
            }
            Ns::Seal(s) => s.precheck()?,
            _ => {}
        }
        Ok(())
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        match self {
            Ns::Delete(name) => Some(format!(
                "Delete namespace {} and everything in it?",
                target_display(session, name)
            )),
            Ns::Seal(s) => s.confirmation(session),
            _ => None,
        }
    }
}

/// The full path of a namespace named relative to here, for a question.
pub fn target_display(session: &Session, sub: &str) -> String {
    let cwd = session.cwd();
    match NsPath::parse(sub) {
        Ok(p) => cwd.join(&p).display(),
        Err(_) => format!("{}/{}", cwd.display().trim_end_matches('/'), sub),
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Ns) -> Result<Output, EngineError> {
    match cmd {
        Ns::List { detailed } => {
            let children = tree::list_children(session.client(), session.cwd()).await?;
            Ok(ns_keys_output(children, *detailed))
        }
        Ns::Scan { detailed } => scan(session, *detailed).await,
        Ns::Seal(s) => seal::run(session, s).await,
        Ns::Lookup(name) => {
            let (parent, name) = parent_and_name(session, &NsPath::parse(name)?)?;
            let body = send(session, Method::Get, &parent, &name, None).await?;
            Ok(namespace_output(body::data(body)))
        }
        Ns::Create { name, args } => {
            let (parent, name) = parent_and_name(session, &nspath::validate_name(name)?)?;
            let meta = session.kv(args)?;
            let body = json!({ "custom_metadata": meta });
            let resp = send(session, Method::Post, &parent, &name, Some(&body)).await?;
            session.cache().invalidate_tree();
            Ok(namespace_output(body::data(resp)))
        }
        Ns::Patch { name, args } => {
            let (parent, name) = parent_and_name(session, &NsPath::parse(name)?)?;
            let meta = session.kv(args)?;
            let body = json!({ "custom_metadata": meta });
            let resp = send(session, Method::Patch, &parent, &name, Some(&body)).await?;
            Ok(namespace_output(body::data(resp)))
        }
        Ns::Delete(name) => {
            let (parent, name) = parent_and_name(session, &nspath::validate_name(name)?)?;
            let resp = send(session, Method::Delete, &parent, &name, None).await?;
            session.cache().invalidate_tree();
            Ok(warnings_output(resp.as_ref(), "deleted"))
        }
    }
}

/// `a/b/c` typed here names `c` inside `here/a/b`: the request goes to that parent, as
/// `bao namespace … -namespace=a/b c` sends it (the server takes one name per request).
fn parent_and_name(session: &Session, name: &NsPath) -> Result<(NsPath, String), EngineError> {
    let full = session.cwd().join(name);
    match (full.parent(), full.name()) {
        (Some(parent), Some(last)) if !name.is_root() => Ok((parent, last.to_string())),
        _ => Err(EngineError::Name(nspath::NameError::Empty)),
    }
}

/// One request on `sys/namespaces/NAME` in `parent`.
async fn send(
    session: &Session,
    method: Method,
    parent: &NsPath,
    name: &str,
    body: Option<&Value>,
) -> Result<Option<Value>, EngineError> {
    Ok(session
        .client()
        .request(
            method,
            &parent.header(),
            &format!("sys/namespaces/{name}"),
            body,
        )
        .await?)
}

async fn scan(session: &Session, detailed: bool) -> Result<Output, EngineError> {
    let walk = tree::walk(
        session.client(),
        session.cwd(),
        None,
        !session.options().no_scan,
    )
    .await?;
    let mut info = Map::new();
    for e in walk.entries {
        info.insert(e.path.header(), e.info);
    }
    let mut out = ns_keys_output(info, detailed);
    out.notes.extend(
        walk.unlisted
            .iter()
            .map(|(ns, why)| format!("note: children of {ns} not listed: {why}")),
    );
    Ok(out)
}

/// `bao namespace …` prints the `data` of the answer.
fn namespace_output(data: Value) -> Output {
    let rows = match &data {
        Value::Object(m) => m.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect(),
        _ => vec![],
    };
    Output {
        json: Some(data),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes: vec![],
    }
}

/// `bao namespace list` prints the keys, or with `-detailed` the key_info.
fn ns_keys_output(info: Map<String, Value>, detailed: bool) -> Output {
    // People get the names sorted; the JSON keeps the server's order, as bao prints it.
    let mut sorted: Vec<(&String, &Value)> = info.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let rows: Vec<Vec<String>> = sorted
        .into_iter()
        .map(|(k, v)| {
            let locked = v.get("locked").and_then(Value::as_bool).unwrap_or(false);
            let mut row = vec![
                k.clone(),
                if locked {
                    "locked".into()
                } else {
                    String::new()
                },
            ];
            if detailed {
                row.push(v.get("id").map(cell).unwrap_or_default());
                row.push(
                    v.get("custom_metadata")
                        .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()))
                        .map(cell)
                        .unwrap_or_default(),
                );
            }
            row
        })
        .collect();
    let mut header = vec!["NAMESPACE".to_string(), "LOCKED".to_string()];
    if detailed {
        header.extend(["ID".to_string(), "CUSTOM METADATA".to_string()]);
    }
    let json = if detailed {
        Value::Object(info)
    } else {
        Value::from(info.keys().cloned().collect::<Vec<_>>())
    };
    Output {
        json: Some(json),
        view: View::Table { header, rows },
        notes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Ns, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_its_commands() {
        assert_eq!(p("ns list -detailed"), Ok(Ns::List { detailed: true }));
        assert_eq!(p("namespace scan"), Ok(Ns::Scan { detailed: false }));
        assert_eq!(
            p("ns create a x=1"),
            Ok(Ns::Create {
                name: "a".into(),
                args: vec!["x=1".into()]
            })
        );
        assert!(p("ns patch a").is_err());
        assert!(p("ns frob").is_err());
        assert!(p("ns").is_err());
        assert!(p("ns delete a").unwrap().is_mutating());
        assert!(!p("ns list").unwrap().is_mutating());
    }
}
