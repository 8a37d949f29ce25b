//! Incident actions on a namespace's API: `lock` and `unlock`. The unlock key a lock
//! returns reaches the key store before it is shown.

use serde_json::{json, Value};

use crate::engine::commands::ns::target_display;
use crate::engine::error::EngineError;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::vault::{body, Method, VaultError};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// Lock the API of here or a descendant.
    Lock(Option<String>),
    /// Unlock here or a descendant.
    Unlock {
        /// The descendant, relative to here.
        subpath: Option<String>,
        /// The unlock key, when not the saved one.
        key: Option<String>,
    },
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "lock",
        "lock [SUBPATH]",
        "lock the API of here or a descendant (and all below it); the unlock key is saved first",
    )
    .args(&[Arg::Namespace]),
    CommandInfo::new(
        "unlock",
        "unlock [SUBPATH] [--key KEY]",
        "unlock with the saved key, a given key, or a sudo token",
    )
    .flags(&["--key"])
    .args(&[Arg::Namespace]),
];

fn bad(usage: &str, message: impl Into<String>) -> UsageError {
    UsageError::new(usage, message)
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Lock> {
    Some(match name {
        "lock" => match rest {
            [] => Ok(Lock::Lock(None)),
            [one] => Ok(Lock::Lock(Some(one.clone()))),
            _ => Err(bad(COMMANDS[0].usage, "`lock` takes at most one argument")),
        },
        "unlock" => parse_unlock(rest),
        _ => return None,
    })
}

fn parse_unlock(rest: &[String]) -> Result<Lock, UsageError> {
    let usage = COMMANDS[1].usage;
    let mut subpath = None;
    let mut key = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix("--key=").or_else(|| w.strip_prefix("-key=")) {
            key = Some(v.to_string());
        } else if w == "--key" || w == "-key" {
            key = Some(
                it.next()
                    .ok_or_else(|| bad(usage, "`--key` needs the unlock key"))?
                    .clone(),
            );
        } else if subpath.is_none() && !w.starts_with('-') {
            subpath = Some(w.clone());
        } else {
            return Err(bad(usage, format!("unexpected argument {w:?}")));
        }
    }
    Ok(Lock::Unlock { subpath, key })
}

impl Lock {
    /// The checks that need no server: a command that fails them sends nothing at all.
    pub fn precheck(&self) -> Result<(), EngineError> {
        match self {
            Lock::Lock(Some(sub))
            | Lock::Unlock {
                subpath: Some(sub), ..
            } if !sub.is_empty() => {
                nspath::validate_name(sub)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether it cuts something off, and so asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Lock::Lock(_))
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        match self {
            Lock::Lock(sub) => Some(format!(
                "Lock the API of {} and of every namespace below it?",
                target_display(session, sub.as_deref().unwrap_or(""))
            )),
            Lock::Unlock { .. } => None,
        }
    }
}

/// Whether a namespace is locked, as far as this token can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// It is locked itself.
    Locked,
    /// It is not, but this namespace above it is (so it is cut off too).
    LockedAbove(NsPath),
    /// Neither it nor any namespace above it is locked.
    Unlocked,
    /// The token may not look (it is below the token's top, or the token is narrow).
    Unknown,
}

/// The lock state of `target`, from its parent's `sys/namespaces/NAME` (which names its
/// `locked` flag, or is refused by a locked ancestor).
pub async fn lock_state(session: &Session, target: &NsPath) -> Result<LockState, EngineError> {
    let (Some(parent), Some(name)) = (target.parent(), target.name()) else {
        // The root namespace cannot be locked.
        return Ok(LockState::Unlocked);
    };
    if !parent.starts_with(session.top()) {
        return Ok(LockState::Unknown);
    }
    match session
        .client()
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
            Ok(if locked {
                LockState::Locked
            } else {
                LockState::Unlocked
            })
        }
        Err(VaultError::NamespaceLocked { locked, .. }) => Ok(match NsPath::parse(&locked) {
            Ok(l) if &l == target => LockState::Locked,
            Ok(l) => LockState::LockedAbove(l),
            Err(_) => LockState::Unknown,
        }),
        Err(VaultError::NotFound { .. }) | Err(VaultError::NamespaceNotFound { .. }) => Err(
            EngineError::Other(format!("namespace {target} does not exist")),
        ),
        Err(VaultError::PermissionDenied { .. }) => Ok(LockState::Unknown),
        Err(e) => Err(e.into()),
    }
}

/// The commands that unlock `ns`: from its parent, by name.
fn unlock_hint(ns: &NsPath) -> String {
    match (ns.parent(), ns.name()) {
        (Some(parent), Some(name)) => format!(
            "`cd /{}; unlock {name}`",
            parent.display().trim_start_matches('/')
        ),
        _ => "`unlock`".to_string(),
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Lock) -> Result<Output, EngineError> {
    match cmd {
        Lock::Lock(sub) => lock(session, sub.as_deref()).await,
        Lock::Unlock { subpath, key } => unlock(session, subpath.as_deref(), key.as_deref()).await,
    }
}

async fn lock(session: &mut Session, sub: Option<&str>) -> Result<Output, EngineError> {
    let sub = match sub {
        Some(s) if !s.is_empty() => nspath::validate_name(s)?,
        _ => NsPath::root(),
    };
    let target = session.cwd().join(&sub);
    let path = if sub.is_root() {
        "sys/namespaces/api-lock/lock".to_string()
    } else {
        format!("sys/namespaces/api-lock/lock/{}", sub.display())
    };
    // The request and the saving of its key run as one task that a Ctrl-C cannot
    // stop half way: once the server has answered, the key reaches the store.
    let client = session.client().clone();
    let keys = session.key_store().clone();
    let ns = session.cwd().header();
    let target_header = target.header();
    let task = tokio::spawn(async move {
        let body = client.request(Method::Post, &ns, &path, None).await?;
        let key = body::data(body.clone())
            .get("unlock_key")
            .and_then(Value::as_str)
            .map(str::to_string);
        let saved = key
            .as_ref()
            .map(|k| keys.save(client.addr(), &target_header, k));
        Ok::<_, VaultError>((body, key, saved))
    });
    let (body, key, saved) = task
        .await
        .map_err(|e| EngineError::Other(format!("the lock task failed: {e}")))??;
    let Some(key) = key else {
        return Err(EngineError::Other(format!(
            "the server locked {target} but sent no unlock key: {}",
            body.map(|b| b.to_string()).unwrap_or_default()
        )));
    };
    if session.cwd().starts_with(&target) {
        session.set_locked(Some(target.clone()));
    }
    let mut text = format!("Locked {target} and every namespace below it.\nUnlock key: {key}");
    let mut notes = Vec::new();
    match saved {
        Some(Ok(_)) => text.push_str(&format!(
            "\nThe key is saved in {}; `unlock` uses it.",
            session.key_store().path().display()
        )),
        Some(Err(e)) => notes.push(format!(
            "WARNING: the unlock key could NOT be saved ({e}). Copy it now: {key}"
        )),
        None => {}
    }
    Ok(Output {
        json: Some(json!({ "unlock_key": key })),
        view: View::Text(text),
        notes,
    })
}

async fn unlock(
    session: &mut Session,
    sub: Option<&str>,
    key: Option<&str>,
) -> Result<Output, EngineError> {
    let sub = match sub {
        Some(s) if !s.is_empty() => nspath::validate_name(s)?,
        _ => NsPath::root(),
    };
    let target = session.cwd().join(&sub);
    // What the server would refuse anyway is said before anything is sent.
    match lock_state(session, &target).await? {
        LockState::Unlocked => {
            return Err(EngineError::Other(format!(
                "unlock: {target} is not locked (nor is any namespace above it): nothing to do"
            )))
        }
        LockState::LockedAbove(above) => {
            return Err(EngineError::Other(format!(
                "unlock: {target} is not locked itself; {above} is, and every namespace below it is cut off with it: unlock {above} ({})",
                unlock_hint(&above)
            )))
        }
        LockState::Locked | LockState::Unknown => {}
    }
    let path = if sub.is_root() {
        "sys/namespaces/api-lock/unlock".to_string()
    } else {
        format!("sys/namespaces/api-lock/unlock/{}", sub.display())
    };
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut failures = Vec::new();
    match key {
        Some(k) => candidates.push((k.to_string(), "the given key".into())),
        None => match session
            .key_store()
            .find(session.client().addr(), &target.header())
        {
            Ok(saved) => {
                for saved in saved {
                    candidates.push((saved.key, format!("the key saved at {}", saved.saved_at)));
                }
            }
            // A store that cannot be read must not stop a sudo token during an incident.
            Err(e) => failures.push(format!("the key store could not be read ({e})")),
        },
    }
    for (k, how) in &candidates {
        let body = json!({ "unlock_key": k });
        match session.send(Method::Post, &path, Some(&body)).await {
            Ok(resp) => {
                if key.is_none() {
                    let _ =
                        session
                            .key_store()
                            .mark_used(session.client().addr(), &target.header(), k);
                }
                return Ok(unlocked(session, &target, resp.as_ref(), how));
            }
            Err(VaultError::Status {
                status: 400,
                messages,
                ..
            }) if messages.iter().any(|m| m.contains("incorrect unlock key")) => {
                failures.push(format!("{how} was not accepted"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if key.is_some() {
        return Err(EngineError::Other(format!(
            "unlock {target}: the given key was not accepted (incorrect unlock key)"
        )));
    }
    // No saved key worked: a token with sudo may unlock without one.
    match session.send(Method::Post, &path, None).await {
        Ok(resp) => {
            let how = if failures.is_empty() {
                "sudo (no key was saved for it)".to_string()
            } else {
                format!("sudo ({})", failures.join("; "))
            };
            Ok(unlocked(session, &target, resp.as_ref(), &how))
        }
        Err(e) => {
            let tried = if failures.is_empty() {
                "no key is saved for it".to_string()
            } else {
                failures.join("; ")
            };
            Err(EngineError::Other(format!(
                "unlock {target}: {tried}, and without a key the server said: {e}. Give the key with --key KEY"
            )))
        }
    }
}

fn unlocked(session: &mut Session, target: &NsPath, resp: Option<&Value>, how: &str) -> Output {
    if session.locked() == Some(target) {
        session.set_locked(None);
    }
    let mut out = warnings_output(resp, "");
    out.view = View::Text(format!("Unlocked {target} with {how}."));
    out
}
