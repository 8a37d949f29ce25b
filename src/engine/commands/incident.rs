//! Incident mode: `locks` (what is locked, sealed or being deleted below here; for a lock,
//! since when and whether its key is saved), `keys` (the saved unlock keys of this server,
//! and their export) and `log` (the action log as a timeline).

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::engine::error::EngineError;
use crate::engine::identity;
use crate::engine::nspath::NsPath;
use crate::engine::output::{Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{CommandInfo, UsageError};
use crate::engine::store::{secure_file, KeyStatus, OpenIntent, Resolution, SavedKey};
use crate::engine::tree;
use crate::vault::VaultError;

/// An incident command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incident {
    /// Every namespace below here that is locked, sealed or being deleted.
    Locks,
    /// The saved unlock keys of this server (masked).
    Keys,
    /// Export the saved keys of this server, with their values, to stdout or a file.
    KeysExport(Option<String>),
    /// The action log.
    Log {
        /// Only entries this recent.
        since: Option<Duration>,
        /// Every server, not only this one.
        all: bool,
    },
}

/// The incident commands, for help.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "locks",
        "locks",
        "every namespace below here that is locked, sealed or being deleted; for a lock, since when and whether its key is saved",
    ),
    CommandInfo::new(
        "keys",
        "keys [export [FILE]]",
        "the saved unlock keys of this server; export writes them (0600) or prints them",
    ),
    CommandInfo::new(
        "log",
        "log [--since 1h] [--all]",
        "the action log: every mutating command, with its outcome",
    ),
];

fn bad(usage: &str, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        usage: usage.to_string(),
    }
}

/// Parse an incident command; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Option<Result<Incident, UsageError>> {
    Some(match name {
        "locks" if rest.is_empty() => Ok(Incident::Locks),
        "locks" => Err(bad("locks", "`locks` takes no argument")),
        "keys" => match rest {
            [] => Ok(Incident::Keys),
            [e] if e == "export" => Ok(Incident::KeysExport(None)),
            [e, f] if e == "export" => Ok(Incident::KeysExport(Some(f.clone()))),
            _ => Err(bad(
                "keys [export [FILE]]",
                "unexpected arguments to `keys`",
            )),
        },
        "log" => parse_log(rest),
        _ => return None,
    })
}

fn parse_log(rest: &[String]) -> Result<Incident, UsageError> {
    let usage = "log [--since 1h] [--all]";
    let mut since = None;
    let mut all = false;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        let value = if let Some(v) = w.strip_prefix("--since=") {
            Some(v.to_string())
        } else if w == "--since" || w == "-since" {
            Some(
                it.next()
                    .ok_or_else(|| bad(usage, "`--since` needs a duration like 1h or 30m"))?
                    .clone(),
            )
        } else if w == "--all" {
            all = true;
            None
        } else {
            return Err(bad(usage, format!("unexpected argument {w:?}")));
        };
        if let Some(v) = value {
            since = Some(
                humantime::parse_duration(&v)
                    .map_err(|e| bad(usage, format!("`--since {v}`: {e} (try 1h, 30m, 2d)")))?,
            );
        }
    }
    Ok(Incident::Log { since, all })
}

/// Run an incident command.
pub async fn run(session: &mut Session, cmd: &Incident) -> Result<Output, EngineError> {
    match cmd {
        Incident::Locks => locks(session).await,
        Incident::Keys => keys(session),
        Incident::KeysExport(file) => export(session, file.as_deref()),
        Incident::Log { since, all } => log(session, *since, *all),
    }
}

fn server_keys(session: &Session) -> Result<Vec<SavedKey>, EngineError> {
    let server = session.client().addr().trim_end_matches('/');
    Ok(session
        .key_store()
        .load()?
        .into_iter()
        .filter(|k| k.server.trim_end_matches('/') == server)
        .collect())
}

async fn locks(session: &mut Session) -> Result<Output, EngineError> {
    let asked = session.cwd().clone();
    // Here, what is below, and what is above (a lock above cuts here off).
    let on_the_way = |ns: &NsPath| ns.starts_with(&asked) || asked.starts_with(ns);
    let here = asked.clone();
    // Lock state is in a listing, not in Vault's one-request list of names.
    let opts = tree::WalkOptions {
        use_ui_list: false,
        ..tree::WalkOptions::new(None, !session.options().no_scan)
    };
    let mut notes = Vec::new();
    // Inside a locked namespace nothing answers: the list is made from the parent of the
    // locked one (within the token's reach), and keeps here, what is below, and the lock
    // that cuts here off.
    let (here, mut walk) = match tree::walk_with(session.client(), &here, opts).await {
        Err(VaultError::NamespaceLocked { locked, req }) => {
            let lock = NsPath::parse(&locked).unwrap_or_default();
            let base = lock.parent().filter(|b| b.starts_with(session.top()));
            let Some(base) = base else {
                return Err(VaultError::NamespaceLocked { locked, req }.into());
            };
            let mut walk = tree::walk_with(session.client(), &base, opts).await?;
            walk.entries.retain(|x| on_the_way(&base.join(&x.path)));
            notes.push(format!(
                "note: {} is locked, so the locks were listed from {}",
                lock.display(),
                base.display()
            ));
            (base, walk)
        }
        other => (here, other?),
    };
    // Every namespace that may be sealed is asked: this is the view for an incident.
    let seals = tree::fill_seals(session.client(), &here, &mut walk, None).await;
    let server = identity::server_id(session).await;
    let store = session.key_store().clone();
    // Locks whose key never arrived, of this server, below here.
    let open: Vec<OpenIntent> = store
        .open_intents_async()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.intent.matches(&server).is_some())
        .filter(|o| NsPath::parse(&o.intent.namespace).is_ok_and(|ns| on_the_way(&ns)))
        .collect();
    let locked: Vec<NsPath> = walk
        .entries
        .iter()
        .filter(|e| e.state.locked)
        .map(|e| here.join(&e.path))
        .collect();
    let mut rows = Vec::new();
    let mut found = Vec::new();
    for e in walk.entries.iter().filter(|e| !e.state.marks().is_empty()) {
        let full = here.join(&e.path);
        let (since, label, saved) = if e.state.locked {
            let status = store
                .key_status_async(&server, &full.header())
                .await
                .unwrap_or(KeyStatus::None);
            let never = open.iter().find(|o| o.intent.namespace == full.header());
            let (since, label) = match (&status, never) {
                (KeyStatus::Saved(f), _) => {
                    (Some(f.key.saved_at.clone()), status.label().to_string())
                }
                (_, Some(o)) => (
                    Some(o.intent.sent_at.clone()),
                    "never received: a sudo token can unlock it".to_string(),
                ),
                (KeyStatus::ForAnotherServer(k), None) => {
                    (Some(k.saved_at.clone()), status.label().to_string())
                }
                (KeyStatus::None, None) => (None, status.label().to_string()),
            };
            (since, Some(label), matches!(status, KeyStatus::Saved(_)))
        } else {
            (None, None, false)
        };
        let rel = e.path.header();
        rows.push(vec![
            rel.clone(),
            e.state.label(),
            match (&since, e.state.locked) {
                (Some(s), _) => s.clone(),
                (None, true) => "(not locked by vnsh here)".into(),
                (None, false) => "-".into(),
            },
            label.clone().unwrap_or_else(|| "-".into()),
        ]);
        found.push(json!({
            "path": rel,
            "namespace": full.header(),
            "locked": e.state.locked,
            "sealed": e.state.seal.is_sealed(),
            "being_deleted": e.state.tainted,
            "locked_at": since,
            "key_saved": saved,
            "key": label,
        }));
    }
    for o in &open {
        let ns = NsPath::parse(&o.intent.namespace).unwrap_or_default();
        if locked.contains(&ns) {
            continue;
        }
        if o.in_flight {
            notes.push(format!(
                "note: a lock of {ns} is being sent by another vnsh now"
            ));
        } else if walk
            .entries
            .iter()
            .any(|e| !e.state.locked && here.join(&e.path) == ns)
        {
            // Seen not locked: the lock never took effect (or was undone since).
            let _ = store
                .resolve_intent_async(&o.intent.id, Resolution::FoundUnlocked)
                .await;
        } else {
            notes.push(format!("warning: {}", o.intent.report()));
        }
    }
    notes.extend(tree::seal_note(&seals, "", true));
    if !walk.scanned {
        notes.push(
            "note: listed level by level; namespaces below a locked or sealed one cannot be seen"
                .into(),
        );
    }
    Ok(Output {
        json: Some(Value::from(found)),
        view: View::Table {
            header: vec![
                "NAMESPACE".into(),
                "STATE".into(),
                "LOCKED AT".into(),
                "KEY SAVED".into(),
            ],
            rows,
        },
        notes,
    })
}

fn keys(session: &Session) -> Result<Output, EngineError> {
    let saved = server_keys(session)?;
    let rows = saved
        .iter()
        .rev()
        .map(|k| {
            vec![
                NsPath::parse(&k.namespace)
                    .map(|p| p.display())
                    .unwrap_or_else(|_| k.namespace.clone()),
                k.saved_at.clone(),
                if k.used {
                    "used".into()
                } else {
                    "unused".into()
                },
                mask(&k.key),
            ]
        })
        .collect();
    let json_rows: Vec<Value> = saved
        .iter()
        .rev()
        .map(|k| json!({ "namespace": k.namespace, "saved_at": k.saved_at, "used": k.used }))
        .collect();
    Ok(Output {
        json: Some(Value::from(json_rows)),
        view: View::Table {
            header: vec![
                "NAMESPACE".into(),
                "SAVED AT".into(),
                "STATE".into(),
                "KEY".into(),
            ],
            rows,
        },
        notes: vec![format!(
            "the store: {}",
            session.key_store().path().display()
        )],
    })
}

/// Show only the ends of a key, enough to tell two apart.
fn mask(key: &str) -> String {
    let n = key.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    let head: String = key.chars().take(3).collect();
    let tail: String = key.chars().skip(n - 3).collect();
    format!("{head}…{tail}")
}

fn export(session: &Session, file: Option<&str>) -> Result<Output, EngineError> {
    let saved = server_keys(session)?;
    let doc = json!({
        "server": session.client().addr(),
        "keys": saved.iter().map(|k| json!({
            "namespace": k.namespace, "key": k.key, "saved_at": k.saved_at, "used": k.used,
        })).collect::<Vec<_>>(),
    });
    match file {
        None => Ok(Output::json(doc)),
        Some(path) => {
            let path = std::path::Path::new(path);
            if path.exists() {
                return Err(EngineError::Other(format!(
                    "keys export: {} exists; vnsh does not overwrite it",
                    path.display()
                )));
            }
            secure_file(path)?;
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| EngineError::Other(e.to_string()))?;
            std::fs::write(path, text + "\n")
                .and_then(|_| std::fs::File::open(path).and_then(|f| f.sync_all()))
                .map_err(|e| {
                    EngineError::Other(format!("keys export: cannot write {}: {e}", path.display()))
                })?;
            Ok(Output::text(format!(
                "{} keys written to {} (mode 0600)",
                saved.len(),
                path.display()
            )))
        }
    }
}

fn log(session: &Session, since: Option<Duration>, all: bool) -> Result<Output, EngineError> {
    let from = since.and_then(|d| SystemTime::now().checked_sub(d));
    let (entries, skipped) = session.action_log().read(from)?;
    let server = session.client().addr().trim_end_matches('/');
    let entries: Vec<_> = entries
        .into_iter()
        .filter(|a| all || a.server.trim_end_matches('/') == server)
        .collect();
    let rows = entries
        .iter()
        .map(|a| {
            let ns = NsPath::parse(&a.namespace)
                .map(|p| p.display())
                .unwrap_or_else(|_| a.namespace.clone());
            let mut row = vec![a.time.clone(), ns, a.command.clone(), a.outcome.clone()];
            if all {
                row.insert(1, a.server.clone());
            }
            row
        })
        .collect();
    let mut header = vec![
        "TIME".to_string(),
        "NAMESPACE".into(),
        "COMMAND".into(),
        "OUTCOME".into(),
    ];
    if all {
        header.insert(1, "SERVER".into());
    }
    let mut out = Output {
        json: Some(serde_json::to_value(&entries).unwrap_or(Value::Null)),
        view: View::Table { header, rows },
        notes: vec![],
    };
    if skipped > 0 {
        out.notes.push(format!(
            "note: {skipped} lines of {} could not be read",
            session.action_log().path().display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_incident_commands() {
        assert_eq!(parse("locks", &[]), Some(Ok(Incident::Locks)));
        assert_eq!(
            parse("keys", &w("export /tmp/x")),
            Some(Ok(Incident::KeysExport(Some("/tmp/x".into()))))
        );
        assert_eq!(
            parse("log", &w("--since 1h")),
            Some(Ok(Incident::Log {
                since: Some(Duration::from_secs(3600)),
                all: false
            }))
        );
        assert!(matches!(parse("log", &w("--since soon")), Some(Err(_))));
        assert_eq!(parse("nope", &[]), None);
    }

    #[test]
    fn masks_keys() {
        assert_eq!(mask("CkiAHbSMKj9W8qzfvkIEdwew"), "Cki…wew");
        assert_eq!(mask("short"), "*****");
    }
}
