//! Incident actions on a namespace's API: `lock` and `unlock`. The unlock key a lock
//! returns reaches the key store before it is shown.

use serde_json::{json, Value};

use crate::engine::commands::ns::target_display;
use crate::engine::error::EngineError;
use crate::engine::identity;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::engine::store::{KeyStatus, Resolution, ServerId, StoreError};
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

/// Whether a failed lock request certainly did not lock: the server answered with an
/// error, or nothing was sent. Anything else (a reset, a timeout, an answer cut short or
/// of the wrong shape) may have locked without its key reaching us.
fn certainly_not_locked(e: &VaultError) -> bool {
    match e {
        VaultError::PermissionDenied { .. }
        | VaultError::NotFound { .. }
        | VaultError::NamespaceNotFound { .. }
        | VaultError::NamespaceLocked { .. }
        | VaultError::Sealed { .. }
        | VaultError::NamespaceSealed { .. }
        | VaultError::NamespacesUnsupported { .. }
        | VaultError::Status { .. }
        | VaultError::Redirect { .. }
        | VaultError::RedirectLoop { .. }
        | VaultError::Unsendable { .. }
        | VaultError::Config(_) => true,
        VaultError::NotJson { status, .. } => *status >= 400,
        _ => false,
    }
}

/// What a lock came to, decided in the task that cannot be cut short.
enum Outcome {
    /// Locked; the key and whether the store took it.
    Locked(String, Result<(), StoreError>),
    /// The server refused: nothing was locked.
    Refused(VaultError),
    /// The answer never arrived (or arrived without a key): it may be locked.
    Unknown(String),
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
    // Write-ahead: the store must be able to take the key, and the intent is durable,
    // before the request goes. A store that cannot take it refuses the lock, nothing sent.
    let server = identity::server_id(session).await;
    let intent = session
        .key_store()
        .begin_lock_async(&server, &target.header())
        .await?;
    // The request and the recording of its outcome run as one task that a Ctrl-C cannot
    // stop half way: once the server has answered, the key reaches the store; if the
    // answer never comes, the intent says so.
    let client = session.client().clone();
    let ns = session.cwd().header();
    let task = tokio::spawn(async move {
        match client.request(Method::Post, &ns, &path, None).await {
            Ok(body) => {
                let key = body::data(body)
                    .get("unlock_key")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match key {
                    Some(key) => {
                        let saved = intent.complete_async(&key).await.map(|_| ());
                        Outcome::Locked(key, saved)
                    }
                    None => {
                        let why = "the server answered without an unlock key";
                        let _ = intent.unanswered_async(why).await;
                        Outcome::Unknown(why.into())
                    }
                }
            }
            Err(e) if certainly_not_locked(&e) => {
                let _ = intent.refused_async(&e.to_string()).await;
                Outcome::Refused(e)
            }
            Err(e) => {
                let why = e.to_string();
                let _ = intent.unanswered_async(&why).await;
                Outcome::Unknown(why)
            }
        }
    });
    let outcome = task
        .await
        .map_err(|e| EngineError::Other(format!("the lock task failed: {e}")))?;
    let (key, saved) = match outcome {
        Outcome::Locked(key, saved) => (key, saved),
        Outcome::Refused(e) => return Err(e.into()),
        Outcome::Unknown(why) => {
            return Err(EngineError::Other(format!(
                "{target} may be locked: the lock was sent but its answer never arrived ({why}), so its key was never received: a sudo token can unlock it; `locks` lists it until then"
            )))
        }
    };
    if session.cwd().starts_with(&target) {
        session.set_locked(Some(target.clone()));
    }
    let mut text = format!("Locked {target} and every namespace below it.\nUnlock key: {key}");
    let mut notes = Vec::new();
    match saved {
        Ok(()) => text.push_str(&format!(
            "\nThe key is saved in {}; `unlock` uses it.",
            session.key_store().path().display()
        )),
        Err(e) => notes.push(format!(
            "WARNING: the unlock key could NOT be saved ({e}). Copy it now: {key}"
        )),
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
    let server = identity::server_id(session).await;
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut failures = Vec::new();
    match key {
        Some(k) => candidates.push((k.to_string(), "the given key".into())),
        None => match session
            .key_store()
            .unlock_candidates_async(&server, &target.header())
            .await
        {
            Ok(found) => {
                for f in found {
                    let how = format!("the key saved at {}", f.key.saved_at);
                    candidates.push((f.key.key, how));
                }
            }
            // A store that cannot be read must not stop a sudo token during an incident.
            Err(e) => failures.push(format!("the key store could not be read ({e})")),
        },
    }
    if key.is_none() {
        // Keys of another server at this address (re-initialised since) are never tried.
        if let Ok(KeyStatus::ForAnotherServer(old)) = session
            .key_store()
            .key_status_async(&server, &target.header())
            .await
        {
            failures.push(format!(
                "the key saved at {} is for another server that was at this address",
                old.saved_at
            ));
        }
    }
    for (k, how) in &candidates {
        let body = json!({ "unlock_key": k });
        match session.send(Method::Post, &path, Some(&body)).await {
            Ok(resp) => {
                if key.is_none() {
                    let _ = session
                        .key_store()
                        .mark_used_for_async(&server, &target.header(), k)
                        .await;
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
            // A lock whose key never arrived is over now.
            close_intents(session, &server, &target, Resolution::UnlockedWithSudo).await;
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

/// Close the open lock intents of `target` on this server (the lock is over).
pub async fn close_intents(session: &Session, server: &ServerId, target: &NsPath, how: Resolution) {
    let store = session.key_store();
    let Ok(open) = store.open_intents_async().await else {
        return;
    };
    for o in open {
        if o.intent.namespace == target.header() && o.intent.matches(server).is_some() {
            let _ = store.resolve_intent_async(&o.intent.id, how.clone()).await;
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
