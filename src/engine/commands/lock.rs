//! Incident actions on a namespace's API: `lock` (one namespace, several, or those a pattern
//! matches: all or none), `unlock`, `unlock --mine`. An unlock key reaches the key store
//! before it is shown.
//!
//! What OpenBao refuses (its namespace store): a lock of the root, of a namespace that is
//! locked, or of one below a locked namespace ("ancestor namespace … is already locked");
//! an unlock of the root, of a namespace that is not locked, or of one below a locked
//! namespace ("cannot unlock … with namespace … being locked"); and every request sent in
//! a namespace at or below a locked one (503, naming the locked one). A lock of a namespace
//! with locked namespaces below it is allowed: they stay locked when it is unlocked. Each
//! of these is found out in [`prepare`], before the question, with nothing sent.

use serde_json::{json, Value};

use crate::engine::error::EngineError;
use crate::engine::identity;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{warnings_output, Output, View};
use crate::engine::session::Session;
use crate::engine::spec::{Arg, Checked, CommandInfo, Parsed, UsageError};
use crate::engine::store::{
    ActionLog, KeyStatus, KeyStore, Resolution, ServerId, ServerMatch, StoreError,
};
use crate::engine::tree;
use crate::engine::words;
use crate::vault::{body, Client, Method, VaultError};

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// Lock the API of here (no argument), of the namespaces named, or of those a
    /// pattern matches (`tenant*/prod`), relative to here: all or none.
    Lock(Vec<String>),
    /// What [`prepare`] resolved a [`Lock::Lock`] to: these namespaces, relative to here
    /// (the root path is here itself), checked and named in the question. Never parsed.
    Targets(Vec<NsPath>),
    /// Unlock here or a descendant.
    Unlock {
        /// The descendant, relative to here.
        subpath: Option<String>,
        /// The unlock key, when not the saved one.
        key: Option<String>,
    },
    /// Unlock every namespace here or below for which this key store holds a live key of
    /// this server.
    UnlockMine,
}

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "lock",
        "lock [SUBPATH|PATTERN…]",
        "lock the API of here, of descendants, or of those a pattern (`tenant*/prod`) matches — all or none; each unlock key is saved first",
    )
    .args(&[Arg::Namespace])
    .variadic(),
    CommandInfo::new(
        "unlock",
        "unlock [SUBPATH] [--key KEY] | unlock --mine",
        "unlock with the saved key, a given key, or a sudo token; --mine: every namespace below here this key store locked",
    )
    .flags(&["--key", "--mine"])
    .args(&[Arg::Namespace]),
];

fn bad(usage: &str, message: impl Into<String>) -> UsageError {
    UsageError::new(usage, message)
}

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<Lock> {
    Some(match name {
        "lock" => match rest.iter().find(|w| w.starts_with('-')) {
            Some(flag) => Err(bad(
                COMMANDS[0].usage,
                format!("`lock` takes no flag {flag:?}"),
            )),
            None => Ok(Lock::Lock(rest.to_vec())),
        },
        "unlock" => parse_unlock(rest),
        _ => return None,
    })
}

fn parse_unlock(rest: &[String]) -> Result<Lock, UsageError> {
    let usage = COMMANDS[1].usage;
    let mut subpath = None;
    let mut key = None;
    let mut mine = false;
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
        } else if w == "--mine" || w == "-mine" {
            mine = true;
        } else if subpath.is_none() && !w.starts_with('-') {
            subpath = Some(w.clone());
        } else {
            return Err(bad(usage, format!("unexpected argument {w:?}")));
        }
    }
    if mine {
        if subpath.is_some() || key.is_some() {
            return Err(bad(
                usage,
                "`unlock --mine` takes no namespace and no key: it unlocks every namespace below here with a key saved here",
            ));
        }
        return Ok(Lock::UnlockMine);
    }
    Ok(Lock::Unlock { subpath, key })
}

/// Whether a `lock` argument is a pattern over the tree rather than a name.
fn is_pattern(arg: &str) -> bool {
    arg.contains('*')
}

/// Whether `name` (one segment) matches `pattern`, where `*` stands for any characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and where in the name it began to match.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the path `rel` (relative to here) matches a pattern of as many segments.
fn path_matches(pattern: &[&str], rel: &NsPath) -> bool {
    rel.depth() == pattern.len()
        && pattern
            .iter()
            .zip(rel.segments())
            .all(|(p, s)| glob_match(p, s))
}

impl Lock {
    /// The checks that need no server: a command that fails them sends nothing at all.
    pub fn precheck(&self) -> Result<(), EngineError> {
        match self {
            Lock::Lock(args) => {
                for a in args.iter().filter(|a| !a.is_empty()) {
                    if is_pattern(a) {
                        // A pattern follows the name rules, its `*` aside.
                        nspath::validate_name(&a.replace('*', "x"))?;
                    } else {
                        nspath::validate_name(a)?;
                    }
                }
            }
            Lock::Unlock {
                subpath: Some(sub), ..
            } if !sub.is_empty() => {
                nspath::validate_name(sub)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether it cuts something off, and so always asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Lock::Lock(_) | Lock::Targets(_))
    }

    /// Whether it locks (its answer holds unlock keys).
    pub fn is_lock(&self) -> bool {
        matches!(self, Lock::Lock(_) | Lock::Targets(_))
    }

    /// Whether it writes the action log itself, one entry per namespace.
    pub fn logs_itself(&self) -> bool {
        matches!(self, Lock::Lock(_) | Lock::Targets(_) | Lock::UnlockMine)
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

/// Whether `target`, below the locked `above`, is locked itself: one `SCAN` from the
/// parent of `above` (not locked: the server names the highest locked namespace) sees
/// inside the lock. `None` when that cannot be seen (no SCAN, no permission).
async fn locked_itself(session: &Session, above: &NsPath, target: &NsPath) -> Option<bool> {
    let from = above.parent()?;
    if !from.starts_with(session.top()) || session.options().no_scan {
        return None;
    }
    let walk = tree::walk(session.client(), &from, None, true).await.ok()?;
    let rel = target.strip_prefix(&from)?;
    walk.entries
        .iter()
        .find(|e| e.path == rel)
        .map(|e| e.state.locked)
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

/// What is below a namespace about to be locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Below {
    /// How many namespaces are below it, when the token could see them all.
    count: Option<usize>,
    /// How many of those are locked already (they stay locked after an unlock of it).
    locked: usize,
}

/// Before a lock of `target`: refused when it does not exist, is locked, or is below a
/// locked namespace (OpenBao refuses all three); otherwise what is below it. One walk
/// of its tree: a request in a locked namespace is refused naming the locked one.
async fn survey(session: &mut Session, target: &NsPath) -> Result<Below, EngineError> {
    if target.is_root() {
        return Err(EngineError::Other(
            "lock: the root namespace cannot be locked (OpenBao refuses it): lock a namespace below it".into(),
        ));
    }
    let use_scan = !session.options().no_scan;
    match tree::walk(session.client(), target, None, use_scan).await {
        Ok(walk) => {
            let locked = walk.entries.iter().filter(|e| e.state.locked).count();
            // A level-by-level walk does not look inside a locked namespace.
            let complete = walk.unlisted.is_empty() && (walk.scanned || locked == 0);
            Ok(Below {
                count: complete.then_some(walk.entries.len()),
                locked,
            })
        }
        Err(VaultError::NamespaceLocked { locked, .. }) => {
            let l = NsPath::parse(&locked).unwrap_or_else(|_| target.clone());
            if &l == target {
                let whose = match key_is_ours(session, target).await {
                    true => "its key is saved in this key store: `unlock` uses it",
                    false => "this key store holds no key of it: it was locked elsewhere",
                };
                Err(EngineError::Other(format!(
                    "lock: {target} is already locked ({whose}); nothing was sent"
                )))
            } else {
                Err(EngineError::Other(format!(
                    "lock: namespace {l} is locked, and {target} is below it: it is cut off already, and OpenBao refuses a lock below a locked namespace; nothing was sent (to unlock {l}: {})",
                    unlock_hint(&l)
                )))
            }
        }
        Err(VaultError::NamespaceNotFound { .. }) => Err(EngineError::Other(format!(
            "lock: namespace {target} does not exist; nothing was sent"
        ))),
        // A narrow token (lock and unlock only) cannot look: the server decides.
        Err(VaultError::PermissionDenied { .. }) => Ok(Below {
            count: None,
            locked: 0,
        }),
        Err(e) => Err(e.into()),
    }
}

/// Whether this key store holds a live key of this server for `target`: then this key
/// store locked it (with vnsh, from this state directory), and its unlock is no surprise.
async fn key_is_ours(session: &mut Session, target: &NsPath) -> bool {
    let server = identity::server_id(session).await;
    matches!(
        session
            .key_store()
            .key_status_async(&server, &target.header())
            .await,
        Ok(KeyStatus::Saved(found)) if found.matches == ServerMatch::SameServer
    )
}

/// "and its 14 namespaces below", or how much of that can be told.
fn affects(below: &Below) -> String {
    let mut out = match below.count {
        Some(0) => " (it has no namespace below it)".to_string(),
        Some(1) => " and the 1 namespace below it".to_string(),
        Some(n) => format!(" and its {n} namespaces below"),
        None => " and every namespace below it".to_string(),
    };
    if below.locked > 0 {
        out.push_str(&format!(
            " ({} below locked already: they stay locked after it is unlocked)",
            below.locked
        ));
    }
    out
}

/// The namespaces a `lock` names, relative to here: here itself when none, each name,
/// and what each pattern matches in the tree below here. Duplicates are dropped; one
/// below another is refused (its lock would come after the other's, below a locked one).
async fn resolve_targets(session: &Session, args: &[String]) -> Result<Vec<NsPath>, EngineError> {
    fn push(p: NsPath, out: &mut Vec<NsPath>) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    let mut out: Vec<NsPath> = Vec::new();
    if args.is_empty() {
        push(NsPath::root(), &mut out);
    }
    for arg in args {
        if arg.is_empty() {
            push(NsPath::root(), &mut out);
        } else if is_pattern(arg) {
            for p in match_pattern(session, arg).await? {
                push(p, &mut out);
            }
        } else {
            push(nspath::validate_name(arg)?, &mut out);
        }
    }
    let cwd = session.cwd();
    for a in &out {
        if let Some(b) = out.iter().find(|b| *b != a && b.starts_with(a)) {
            return Err(EngineError::Other(format!(
                "lock: {} is below {}, which this lock locks too: locking {} cuts it off already, and OpenBao refuses a lock below a locked namespace; leave {} out. Nothing was sent",
                cwd.join(b),
                cwd.join(a),
                cwd.join(a),
                cwd.join(b)
            )));
        }
    }
    Ok(out)
}

/// The namespaces below here that `pattern` matches, segment by segment (`*` within a
/// segment), sorted.
async fn match_pattern(session: &Session, pattern: &str) -> Result<Vec<NsPath>, EngineError> {
    let segs: Vec<&str> = pattern.split('/').collect();
    let walk = tree::walk(
        session.client(),
        session.cwd(),
        Some(segs.len()),
        !session.options().no_scan,
    )
    .await?;
    let found: Vec<NsPath> = walk
        .entries
        .into_iter()
        .map(|e| e.path)
        .filter(|p| path_matches(&segs, p))
        .collect();
    if found.is_empty() {
        let mut why = format!(
            "lock: no namespace below {} matches {pattern:?}; nothing was sent",
            session.cwd()
        );
        if !walk.unlisted.is_empty() {
            why.push_str(&format!(
                " ({} namespaces could not be listed)",
                walk.unlisted.len()
            ));
        }
        return Err(EngineError::Other(why));
    }
    Ok(found)
}

/// The checks before the question, and the question: see the module's rules.
pub async fn prepare(session: &mut Session, cmd: &Lock) -> Result<Checked<Lock>, EngineError> {
    match cmd {
        Lock::Lock(args) => {
            let targets = resolve_targets(session, args).await?;
            prepare_lock(session, targets).await
        }
        Lock::Targets(targets) => prepare_lock(session, targets.clone()).await,
        Lock::Unlock { subpath, .. } => {
            let target = match subpath.as_deref() {
                Some(s) if !s.is_empty() => session.cwd().join(&nspath::validate_name(s)?),
                _ => session.cwd().clone(),
            };
            prepare_unlock(session, &target).await?;
            if key_is_ours(session, &target).await {
                return Ok(Checked::run(cmd.clone()));
            }
            Ok(Checked::ask(
                cmd.clone(),
                format!(
                    "Unlock the API of {target}? This key store holds no key of it, so the lock was made elsewhere (perhaps another operator's)."
                ),
            ))
        }
        Lock::UnlockMine => Ok(Checked::run(cmd.clone())),
    }
}

async fn prepare_lock(
    session: &mut Session,
    targets: Vec<NsPath>,
) -> Result<Checked<Lock>, EngineError> {
    let cwd = session.cwd().clone();
    let mut surveyed = Vec::new();
    for sub in &targets {
        let full = cwd.join(sub);
        let below = survey(session, &full).await?;
        surveyed.push((full, below));
    }
    let question = match surveyed.as_slice() {
        [(full, below)] => format!("Lock the API of {full}{}?", affects(below)),
        many => {
            let total: Option<usize> = many.iter().map(|(_, b)| b.count).sum();
            let mut q = format!("Lock the API of these {} namespaces", many.len());
            match total {
                Some(0) => {}
                Some(n) => q.push_str(&format!(" and the {n} below them")),
                None => q.push_str(" and every namespace below them"),
            }
            q.push_str(" (all or none)?");
            for (full, below) in many {
                q.push_str(&format!("\n  {full}{}", affects(below)));
            }
            q
        }
    };
    Ok(Checked::ask(Lock::Targets(targets), question))
}

/// What the server would refuse of an unlock of `target`, said before anything is sent.
async fn prepare_unlock(session: &Session, target: &NsPath) -> Result<(), EngineError> {
    if target.is_root() {
        return Err(EngineError::Other(
            "unlock: the root namespace is never locked (OpenBao cannot lock it): nothing to do"
                .into(),
        ));
    }
    match lock_state(session, target).await? {
        LockState::Unlocked => Err(EngineError::Other(format!(
            "unlock: {target} is not locked (nor is any namespace above it): nothing to do"
        ))),
        LockState::LockedAbove(above) => Err(EngineError::Other(
            match locked_itself(session, &above, target).await {
                Some(true) => format!(
                    "unlock: {target} is locked, and so is {above} above it: OpenBao refuses to unlock {target} while {above} is locked; unlock {above} first ({}), then {target}",
                    unlock_hint(&above)
                ),
                Some(false) => format!(
                    "unlock: {target} is not locked itself; {above} is, and every namespace below it is cut off with it: unlock {above} ({})",
                    unlock_hint(&above)
                ),
                None => format!(
                    "unlock: {above} above {target} is locked, and OpenBao unlocks nothing below a locked namespace: unlock {above} first ({})",
                    unlock_hint(&above)
                ),
            },
        )),
        LockState::Locked | LockState::Unknown => Ok(()),
    }
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &Lock) -> Result<Output, EngineError> {
    match cmd {
        Lock::Lock(args) => {
            let targets = resolve_targets(session, args).await?;
            lock_all(session, &targets).await
        }
        Lock::Targets(targets) => lock_all(session, targets).await,
        Lock::Unlock { subpath, key } => unlock(session, subpath.as_deref(), key.as_deref()).await,
        Lock::UnlockMine => unlock_mine(session).await,
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

/// The API path that locks (or unlocks) `sub`, relative to the namespace it is sent in.
fn api_lock_path(verb: &str, sub: &NsPath) -> String {
    if sub.is_root() {
        format!("sys/namespaces/api-lock/{verb}")
    } else {
        format!("sys/namespaces/api-lock/{verb}/{}", sub.display())
    }
}

/// The command as the action log names it for one namespace: `lock SUB` (`lock` for here).
fn log_command(verb: &str, sub: &NsPath) -> String {
    if sub.is_root() {
        verb.to_string()
    } else {
        format!("{verb} {}", words::quote_word(&sub.display()))
    }
}

/// What one namespace of a (bulk) lock came to.
#[derive(Debug)]
enum Fate {
    /// Locked, its key and whether the store took it; it stays locked.
    Locked(String, Result<(), StoreError>),
    /// Locked, then unlocked again with its saved key because another lock failed.
    RolledBack,
    /// Locked, and the unlock that should have undone it failed: it is still locked.
    StillLocked(String),
    /// The server refused its lock: nothing happened to it.
    Refused(String),
    /// Its lock was sent and no answer came: it may be locked, its key never received.
    Unknown(String),
    /// Its lock was never sent (the store could not take its key, or another failed first).
    NotSent(String),
}

/// One namespace of a lock: relative to here, in full, and what became of it.
struct Target {
    sub: NsPath,
    full: NsPath,
    fate: Fate,
}

/// What the task of a lock hands back.
struct Done {
    targets: Vec<Target>,
    /// The first failure, if any (the namespace and why).
    failed: Option<(NsPath, String)>,
}

/// Everything a lock task needs, cut loose from the session so that a Ctrl-C (which drops
/// the command) cannot stop it half way.
struct LockJob {
    client: Client,
    here: NsPath,
    server: ServerId,
    store: KeyStore,
    log: ActionLog,
}

impl LockJob {
    fn log(&self, sub: &NsPath, verb: &str, outcome: &str) {
        // The outcome is in the report too; a log that cannot be written loses no key.
        let _ = self.log.append(
            self.client.addr(),
            &self.here.header(),
            &log_command(verb, sub),
            outcome,
        );
    }

    /// Lock every target, all or none: every intent is recorded before the first lock
    /// goes; the keys reach the store as they come; if one lock fails, the namespaces
    /// already locked are unlocked again with their keys.
    async fn run(self, subs: Vec<NsPath>) -> Done {
        let mut targets: Vec<Target> = subs
            .into_iter()
            .map(|sub| Target {
                full: self.here.join(&sub),
                sub,
                fate: Fate::NotSent(String::new()),
            })
            .collect();
        // Write-ahead, every one first: a store that cannot take one key refuses them all.
        let mut intents = Vec::new();
        let fulls: Vec<NsPath> = targets.iter().map(|t| t.full.clone()).collect();
        for full in fulls {
            match self
                .store
                .begin_lock_async(&self.server, &full.header())
                .await
            {
                Ok(i) => intents.push(i),
                Err(e) => {
                    let why = format!("the key store cannot take the key of {full}: {e}");
                    for i in intents {
                        let _ = i.refused_async(&format!("not sent: {why}")).await;
                    }
                    for t in &mut targets {
                        t.fate = Fate::NotSent(why.clone());
                        self.log(&t.sub, "lock", &format!("not sent: {why}"));
                    }
                    return Done {
                        targets,
                        failed: Some((full, e.to_string())),
                    };
                }
            }
        }
        let mut failed: Option<(NsPath, String)> = None;
        for (t, intent) in targets.iter_mut().zip(intents) {
            if let Some((f, _)) = &failed {
                let why = format!("the lock of {f} failed first, and this lock is all or none");
                let _ = intent.refused_async(&format!("not sent: {why}")).await;
                t.fate = Fate::NotSent(why);
                continue;
            }
            let path = api_lock_path("lock", &t.sub);
            t.fate = match self
                .client
                .request(Method::Post, &self.here.header(), &path, None)
                .await
            {
                Ok(body) => match body::data(body).get("unlock_key").and_then(Value::as_str) {
                    Some(key) => {
                        let saved = intent.complete_async(key).await.map(|_| ());
                        Fate::Locked(key.to_string(), saved)
                    }
                    None => {
                        let why = "the server answered without an unlock key".to_string();
                        let _ = intent.unanswered_async(&why).await;
                        Fate::Unknown(why)
                    }
                },
                Err(e) if certainly_not_locked(&e) => {
                    let _ = intent.refused_async(&e.to_string()).await;
                    Fate::Refused(e.to_string())
                }
                Err(e) => {
                    let why = e.to_string();
                    let _ = intent.unanswered_async(&why).await;
                    Fate::Unknown(why)
                }
            };
            match &t.fate {
                Fate::Refused(why) | Fate::Unknown(why) => {
                    failed = Some((t.full.clone(), why.clone()));
                }
                _ => {}
            }
        }
        if let Some((f, _)) = &failed {
            // All or none: undo the ones locked, newest first, with their saved keys.
            for t in targets.iter_mut().rev() {
                let Fate::Locked(key, _) = &t.fate else {
                    continue;
                };
                let key = key.clone();
                let path = api_lock_path("unlock", &t.sub);
                let body = json!({ "unlock_key": key });
                t.fate = match self
                    .client
                    .request(Method::Post, &self.here.header(), &path, Some(&body))
                    .await
                {
                    Ok(_) => {
                        let _ = self
                            .store
                            .mark_used_for_async(&self.server, &t.full.header(), &key)
                            .await;
                        Fate::RolledBack
                    }
                    Err(e) => Fate::StillLocked(e.to_string()),
                };
                let outcome = match &t.fate {
                    Fate::RolledBack => format!(
                        "rolled back: locked, then unlocked again with its saved key because the lock of {f} failed"
                    ),
                    Fate::StillLocked(why) => format!(
                        "locked, and the unlock that should have undone it failed ({why}): still locked, its key saved"
                    ),
                    _ => continue,
                };
                self.log(&t.sub, "lock", &outcome);
            }
        }
        for t in &targets {
            let outcome = match &t.fate {
                Fate::Locked(..) => "ok".to_string(),
                Fate::Refused(why) => format!("error: {why}"),
                Fate::Unknown(why) => format!(
                    "error: may be locked: the lock was sent and its answer never arrived ({why})"
                ),
                Fate::NotSent(why) => format!("not sent: {why}"),
                // Written as they were undone.
                Fate::RolledBack | Fate::StillLocked(_) => continue,
            };
            self.log(&t.sub, "lock", &outcome);
        }
        Done { targets, failed }
    }
}

async fn lock_all(session: &mut Session, subs: &[NsPath]) -> Result<Output, EngineError> {
    let server = identity::server_id(session).await;
    let job = LockJob {
        client: session.client().clone(),
        here: session.cwd().clone(),
        server,
        store: session.key_store().clone(),
        log: session.action_log().clone(),
    };
    // One task that a Ctrl-C cannot stop half way: every key that comes reaches the store,
    // and an all-or-none lock that fails is undone to the end.
    let done = tokio::spawn(job.run(subs.to_vec()))
        .await
        .map_err(|e| EngineError::Other(format!("the lock task failed: {e}")))?;
    match done.failed {
        Some(failed) => Err(lock_failure(&done.targets, &failed)),
        None => Ok(locked_output(session, &done.targets)),
    }
}

/// The report of a lock that failed: what failed, and what became of every other one.
fn lock_failure(targets: &[Target], failed: &(NsPath, String)) -> EngineError {
    let (f, why) = failed;
    if let [t] = targets {
        return EngineError::Other(match &t.fate {
            Fate::Unknown(why) => format!(
                "{f} may be locked: the lock was sent but its answer never arrived ({why}), so its key was never received: a sudo token can unlock it; `locks` lists it until then"
            ),
            Fate::NotSent(why) => format!("lock {f}: not sent: {why}"),
            _ => format!("lock {f}: {why}"),
        });
    }
    let mut lines = vec![format!(
        "lock: the lock of {f} failed ({why}); this lock is all or none:"
    )];
    let mut left_locked = false;
    for t in targets {
        let line = match &t.fate {
            Fate::RolledBack => {
                format!("{}: locked, then unlocked again with its saved key", t.full)
            }
            Fate::StillLocked(e) => {
                left_locked = true;
                format!(
                    "{}: STILL LOCKED: the unlock that should have undone it failed ({e}); its key is saved: unlock it with {}",
                    t.full,
                    unlock_hint(&t.full)
                )
            }
            Fate::Refused(e) => format!("{}: refused by the server ({e}): not locked", t.full),
            Fate::Unknown(e) => {
                left_locked = true;
                format!(
                    "{}: MAY BE LOCKED: its answer never arrived ({e}), so its key was never received: a sudo token can unlock it; `locks` lists it",
                    t.full
                )
            }
            Fate::NotSent(_) => format!("{}: not sent", t.full),
            Fate::Locked(..) => format!("{}: locked", t.full),
        };
        lines.push(format!("  {line}"));
    }
    lines.push(if left_locked {
        "Not everything could be undone: see above.".to_string()
    } else {
        "Nothing is left locked.".to_string()
    });
    EngineError::Other(lines.join("\n"))
}

/// Every key of a lock that succeeded, shown once all are saved.
fn locked_output(session: &mut Session, targets: &[Target]) -> Output {
    let mut text = Vec::new();
    let mut notes = Vec::new();
    let mut keys = Vec::new();
    let mut all_saved = true;
    for t in targets {
        let Fate::Locked(key, saved) = &t.fate else {
            continue;
        };
        if session.cwd().starts_with(&t.full) {
            session.set_locked(Some(t.full.clone()));
        }
        text.push(format!(
            "Locked {} and every namespace below it.\nUnlock key: {key}",
            t.full
        ));
        if let Err(e) = saved {
            all_saved = false;
            notes.push(format!(
                "WARNING: the unlock key of {} could NOT be saved ({e}). Copy it now: {key}",
                t.full
            ));
        }
        keys.push((t.full.header(), key.clone()));
    }
    if all_saved {
        let path = session.key_store().path().display().to_string();
        text.push(match keys.len() {
            1 => format!("The key is saved in {path}; `unlock` uses it."),
            _ => format!("The keys are saved in {path}; `unlock` and `unlock --mine` use them."),
        });
    }
    // One lock prints what `bao namespace lock -format=json` prints.
    let json = match keys.as_slice() {
        [(_, key)] => json!({ "unlock_key": key }),
        many => Value::Array(
            many.iter()
                .map(|(ns, key)| json!({ "namespace": ns, "unlock_key": key }))
                .collect(),
        ),
    };
    Output {
        json: Some(json),
        view: View::Text(text.join("\n")),
        notes,
    }
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
    // What the server would refuse anyway (checked before the question too, and again
    // here: the state may have changed while the question waited).
    prepare_unlock(session, &target).await?;
    let path = api_lock_path("unlock", &sub);
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
            Err(e) if is_wrong_key(&e) => {
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

/// The server's answer to an unlock with a key that is not the namespace's.
fn is_wrong_key(e: &VaultError) -> bool {
    matches!(e, VaultError::Status { status: 400, messages, .. }
        if messages.iter().any(|m| m.contains("incorrect unlock key")))
}

/// The server's answer to an unlock of a namespace that is not locked.
fn is_not_locked(e: &VaultError) -> bool {
    matches!(e, VaultError::Status { status: 400, messages, .. }
        if messages.iter().any(|m| m.contains("is not locked")))
}

/// What `unlock --mine` did with one namespace.
enum Mine {
    Unlocked(String),
    NotLocked,
    Failed(String),
}

/// Unlock every namespace here or below for which this key store holds a live key of this
/// server (a key never used, saved with this server's cluster id): the highest first, so
/// that one locked inside another of ours comes after it. Each is reported and logged.
async fn unlock_mine(session: &mut Session) -> Result<Output, EngineError> {
    let server = identity::server_id(session).await;
    let here = session.cwd().clone();
    let keys = session.key_store().keys_for_server_async(&server).await?;
    // Newest first per namespace, this server's only.
    let mut mine: Vec<(NsPath, Vec<(String, String)>)> = Vec::new();
    let mut by_address_only = 0;
    for found in keys.into_iter().rev() {
        let Ok(ns) = NsPath::parse(&found.key.namespace) else {
            continue;
        };
        if found.key.used || !ns.starts_with(&here) {
            continue;
        }
        match found.matches {
            ServerMatch::SameServer => {}
            ServerMatch::AddressOnly => {
                by_address_only += 1;
                continue;
            }
            ServerMatch::OtherServer => continue,
        }
        let entry = (found.key.key, found.key.saved_at);
        match mine.iter_mut().find(|(n, _)| *n == ns) {
            Some((_, ks)) => ks.push(entry),
            None => mine.push((ns, vec![entry])),
        }
    }
    mine.sort_by(|a, b| a.0.depth().cmp(&b.0.depth()).then(a.0.cmp(&b.0)));
    let log = session.action_log().clone();
    let addr = session.client().addr().to_string();
    let mut report = Vec::new();
    for (ns, keys) in &mine {
        let sub = ns.strip_prefix(&here).unwrap_or_else(NsPath::root);
        let path = api_lock_path("unlock", &sub);
        let mut outcome = Mine::Failed("no saved key was accepted (incorrect unlock key)".into());
        for (key, saved_at) in keys {
            let body = json!({ "unlock_key": key });
            match session.send(Method::Post, &path, Some(&body)).await {
                Ok(_) => {
                    let _ = session
                        .key_store()
                        .mark_used_for_async(&server, &ns.header(), key)
                        .await;
                    if session.locked() == Some(ns) {
                        session.set_locked(None);
                    }
                    outcome = Mine::Unlocked(saved_at.clone());
                    break;
                }
                Err(e) if is_wrong_key(&e) => continue,
                Err(e) if is_not_locked(&e) => {
                    outcome = Mine::NotLocked;
                    break;
                }
                Err(e) => {
                    outcome = Mine::Failed(e.to_string());
                    break;
                }
            }
        }
        let logged = match &outcome {
            Mine::Unlocked(_) => "ok".to_string(),
            Mine::NotLocked => "not locked: nothing to do".to_string(),
            Mine::Failed(why) => format!("error: {why}"),
        };
        let _ = log.append(&addr, &here.header(), &log_command("unlock", &sub), &logged);
        report.push((ns.clone(), outcome));
    }
    let mut lines = Vec::new();
    let mut failed = false;
    let mut json_unlocked = Vec::new();
    let mut json_not_locked = Vec::new();
    let mut json_failed = serde_json::Map::new();
    for (ns, outcome) in &report {
        lines.push(match outcome {
            Mine::Unlocked(at) => {
                json_unlocked.push(Value::String(ns.header()));
                format!("Unlocked {ns} with the key saved at {at}.")
            }
            Mine::NotLocked => {
                json_not_locked.push(Value::String(ns.header()));
                format!("{ns} is not locked any more: nothing to do (its key stays in the store).")
            }
            Mine::Failed(why) => {
                failed = true;
                json_failed.insert(ns.header(), Value::String(why.clone()));
                format!("{ns} could NOT be unlocked: {why}")
            }
        });
    }
    if report.is_empty() {
        lines.push(format!(
            "Nothing to unlock: this key store holds no live key of this server for {here} or below."
        ));
    }
    let mut notes = Vec::new();
    if by_address_only > 0 {
        notes.push(format!(
            "note: {by_address_only} saved keys below here name this server's address but not its cluster id: not used by --mine; unlock those by name"
        ));
    }
    if failed {
        return Err(EngineError::Other(format!(
            "unlock --mine:\n  {}",
            lines.join("\n  ")
        )));
    }
    Ok(Output {
        json: Some(json!({
            "unlocked": json_unlocked,
            "not_locked": json_not_locked,
            "failed": json_failed,
        })),
        view: View::Text(lines.join("\n")),
        notes,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Lock, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_lists_patterns_and_mine() {
        assert_eq!(p("lock"), Ok(Lock::Lock(vec![])));
        assert_eq!(
            p("lock a b/c tenant*/prod"),
            Ok(Lock::Lock(vec![
                "a".into(),
                "b/c".into(),
                "tenant*/prod".into()
            ]))
        );
        assert!(p("lock -x a").is_err());
        assert_eq!(p("unlock --mine"), Ok(Lock::UnlockMine));
        assert!(p("unlock --mine a").is_err());
        assert!(p("unlock --mine --key K").is_err());
        assert_eq!(
            p("unlock a --key K"),
            Ok(Lock::Unlock {
                subpath: Some("a".into()),
                key: Some("K".into())
            })
        );
        assert!(p("lock a").unwrap().is_destructive());
        assert!(!p("unlock a").unwrap().is_destructive());
        assert!(p("unlock --mine").unwrap().logs_itself());
        assert!(!p("unlock a").unwrap().logs_itself());
    }

    #[test]
    fn patterns_follow_the_name_rules_but_for_the_star() {
        assert!(p("lock tenant*/prod").unwrap().precheck().is_ok());
        assert!(p("lock *").unwrap().precheck().is_ok());
        for bad in [
            "lock x?y",
            "lock a*/../b",
            "lock t*/",
            "lock sys",
            "lock a//b*",
        ] {
            assert!(p(bad).unwrap().precheck().is_err(), "{bad}");
        }
    }

    #[test]
    fn glob_matches_within_a_segment() {
        for (pat, name, want) in [
            ("tenant*", "tenant1", true),
            ("tenant*", "tenant", true),
            ("tenant*", "xtenant1", false),
            ("*", "anything", true),
            ("*a*b", "xxaxxb", true),
            ("*a*b", "xxaxxbc", false),
            ("a*c", "abbbc", true),
            ("a*c", "ab", false),
            ("prod", "prod", true),
            ("prod", "prod2", false),
            ("**", "", true),
            ("中*", "中文", true),
        ] {
            assert_eq!(glob_match(pat, name), want, "{pat} ~ {name}");
        }
        let rel = NsPath::parse("tenant3/prod").unwrap();
        assert!(path_matches(&["tenant*", "prod"], &rel));
        assert!(!path_matches(&["tenant*"], &rel));
        assert!(!path_matches(&["tenant*", "prod", "*"], &rel));
    }

    #[test]
    fn the_question_says_what_is_below() {
        let b = |count, locked| Below { count, locked };
        assert_eq!(affects(&b(Some(14), 0)), " and its 14 namespaces below");
        assert_eq!(affects(&b(Some(1), 0)), " and the 1 namespace below it");
        assert_eq!(affects(&b(Some(0), 0)), " (it has no namespace below it)");
        assert_eq!(affects(&b(None, 0)), " and every namespace below it");
        assert!(affects(&b(Some(3), 2)).contains("2 below locked already"));
    }

    #[test]
    fn history_keeps_bulk_and_mine_as_typed() {
        for line in ["unlock --mine", "lock a b c", "lock 'tenant*/prod'"] {
            assert_eq!(words::redact_line(line), line);
        }
        assert_eq!(words::redact_line("unlock a --key K"), "unlock a --key ***");
    }

    #[test]
    fn log_commands_name_each_namespace() {
        assert_eq!(log_command("lock", &NsPath::root()), "lock");
        assert_eq!(
            log_command("lock", &NsPath::parse("t1/prod").unwrap()),
            "lock t1/prod"
        );
        assert_eq!(
            api_lock_path("unlock", &NsPath::parse("a/b").unwrap()),
            "sys/namespaces/api-lock/unlock/a/b"
        );
    }
}
