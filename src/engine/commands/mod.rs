//! The dispatcher: every command family in its own room, one table of them, and the one
//! way a command runs — parse, the question to ask, execute (read-only refusal, the
//! token's lookup, the family's run, the action log).
//!
//! The dispatcher imports the families; no family imports the dispatcher. Adding a
//! command touches its family's file; adding a family touches [`FAMILIES`] and
//! [`Command`] here.

pub mod api;
pub mod auth;
pub mod auth_methods;
pub mod explore;
pub mod flags;
pub mod incident;
pub mod kv;
pub mod lock;
pub mod nav;
pub mod ns;
pub mod policy;
pub mod secrets;
pub mod shell;
pub mod token;

use crate::engine::complete;
use crate::engine::diagnose;
use crate::engine::error::EngineError;
use crate::engine::identity;
use crate::engine::nspath::NsPath;
use crate::engine::output::Output;
use crate::engine::session::{Aliases, Session};
use crate::engine::spec::{CommandInfo, Parsed, UsageError};
use crate::engine::store::{ActionLog, StoreError};
use crate::engine::words;
use crate::vault::VaultError;

/// What the user asked for: one command of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `pwd`, `cd`, `ls`, `tree`.
    Nav(nav::Nav),
    /// `ns …`.
    Ns(ns::Ns),
    /// `lock`, `unlock`.
    Lock(lock::Lock),
    /// `read`, `list`, `write`, `patch`, `delete`.
    Api(api::Api),
    /// `kv get/put/patch/…` as `bao kv`.
    Kv(kv::Kv),
    /// `secrets list/enable/disable/tune/move`.
    Secrets(secrets::Secrets),
    /// `auth list/enable/disable/tune`.
    AuthMethods(auth_methods::AuthMethods),
    /// `policy list/read/write/delete`.
    Policy(policy::Policy),
    /// `token lookup/create/revoke`.
    Token(token::Token),
    /// What a namespace holds: mounts, policies, describe, find, cat, …
    Explore(explore::Explore),
    /// Locks, saved keys, the action log.
    Incident(incident::Incident),
    /// Log in, who am I, another cluster.
    Auth(auth::Auth),
    /// Help, completion, refresh, exit.
    Shell(shell::Shell),
}

/// One family: its rows of the table and its parser.
struct Family {
    commands: &'static [CommandInfo],
    parse: fn(&str, &[String]) -> Parsed<Command>,
}

/// Every family, in the order help lists them. `tree --mounts` is explore's, so explore
/// is asked before nav (its parser answers `tree` only with `--mounts`).
const FAMILIES: &[Family] = &[
    Family {
        commands: nav::COMMANDS,
        parse: |n, r| {
            explore::parse_tree_mounts(n, r)
                .map(|r| r.map(Command::Explore))
                .or_else(|| nav::parse(n, r).map(|r| r.map(Command::Nav)))
        },
    },
    Family {
        commands: ns::COMMANDS,
        parse: |n, r| ns::parse(n, r).map(|r| r.map(Command::Ns)),
    },
    Family {
        commands: lock::COMMANDS,
        parse: |n, r| lock::parse(n, r).map(|r| r.map(Command::Lock)),
    },
    Family {
        commands: api::COMMANDS,
        parse: |n, r| api::parse(n, r).map(|r| r.map(Command::Api)),
    },
    Family {
        commands: kv::COMMANDS,
        parse: |n, r| kv::parse(n, r).map(|r| r.map(Command::Kv)),
    },
    Family {
        commands: secrets::COMMANDS,
        parse: |n, r| secrets::parse(n, r).map(|r| r.map(Command::Secrets)),
    },
    Family {
        commands: auth_methods::COMMANDS,
        parse: |n, r| auth_methods::parse(n, r).map(|r| r.map(Command::AuthMethods)),
    },
    Family {
        commands: policy::COMMANDS,
        parse: |n, r| policy::parse(n, r).map(|r| r.map(Command::Policy)),
    },
    Family {
        commands: token::COMMANDS,
        parse: |n, r| token::parse(n, r).map(|r| r.map(Command::Token)),
    },
    Family {
        commands: explore::COMMANDS,
        parse: |n, r| explore::parse(n, r).map(|r| r.map(Command::Explore)),
    },
    Family {
        commands: incident::COMMANDS,
        parse: |n, r| incident::parse(n, r).map(|r| r.map(Command::Incident)),
    },
    Family {
        commands: auth::COMMANDS,
        parse: |n, r| auth::parse(n, r).map(|r| r.map(Command::Auth)),
    },
    Family {
        commands: shell::COMMANDS,
        parse: |n, r| shell::parse(n, r).map(|r| r.map(Command::Shell)),
    },
];

/// Every command of every family, in the order help lists them.
pub fn table() -> Vec<&'static CommandInfo> {
    FAMILIES.iter().flat_map(|f| f.commands.iter()).collect()
}

/// Whether `word` starts a command of the table.
pub fn is_command(word: &str) -> bool {
    FAMILIES
        .iter()
        .flat_map(|f| f.commands.iter())
        .any(|c| c.is_called(word))
}

/// Check the aliases of a configuration file and turn them into words: an alias is one
/// command (no `;`), does not shadow a command, and does not start with another alias
/// (so expansion is one step and never loops).
pub fn aliases<'a>(
    raw: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Aliases, String> {
    let raw: Vec<(&String, &String)> = raw.into_iter().collect();
    let mut out = Aliases::new();
    for (name, line) in &raw {
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(format!("alias {name:?}: a name is one word"));
        }
        if is_command(name) {
            return Err(format!(
                "alias {name:?} would hide the command of that name: choose another name"
            ));
        }
        let commands = words::split_line(line).map_err(|e| format!("alias {name:?}: {e}"))?;
        let one = match commands.as_slice() {
            [one] if !one.is_empty() => one.clone(),
            [_] | [] => return Err(format!("alias {name:?} is empty")),
            _ => {
                return Err(format!(
                    "alias {name:?} holds more than one command (`;`): an alias is one command"
                ))
            }
        };
        if let Some(first) = one
            .first()
            .filter(|f| raw.iter().any(|(n, _)| n.as_str() == f.as_str()))
        {
            return Err(format!(
                "alias {name:?} starts with the alias {first:?}: an alias expands to a command"
            ));
        }
        out.insert((*name).clone(), one);
    }
    Ok(out)
}

/// Parse the words of one command (an alias expands to its words, then the ones typed
/// after it).
pub fn parse(words: &[String], aliases: &Aliases) -> Result<Command, UsageError> {
    let Some((first, rest)) = words.split_first() else {
        return Err(UsageError::new("help", "empty command"));
    };
    for family in FAMILIES {
        if let Some(parsed) = (family.parse)(first, rest) {
            return parsed;
        }
    }
    if let Some(expanded) = aliases.get(first.as_str()) {
        let words: Vec<String> = expanded.iter().chain(rest).cloned().collect();
        // The aliases were checked: an alias never starts with one, so this is one step.
        return parse(&words, &Aliases::new());
    }
    let message = match did_you_mean(first, aliases) {
        Some(close) => format!("unknown command `{first}`: did you mean `{close}`?"),
        None => format!("unknown command `{first}`"),
    };
    Err(UsageError::new("help lists the commands", message))
}

/// The command (or alias) closest to a mistyped word, when one is close enough.
fn did_you_mean(word: &str, aliases: &Aliases) -> Option<String> {
    let names = FAMILIES
        .iter()
        .flat_map(|f| f.commands.iter())
        .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
        .map(str::to_string)
        .chain(aliases.keys().cloned());
    names
        .map(|n| (strsim::damerau_levenshtein(word, &n), n))
        .filter(|(d, n)| *d <= 2.min(n.chars().count().saturating_sub(1)).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

impl Command {
    /// Whether this command changes state on the server (refused with `--read-only`, logged).
    pub fn is_mutating(&self) -> bool {
        match self {
            Command::Ns(c) => c.is_mutating(),
            Command::Lock(_) => true,
            Command::Api(c) => c.is_mutating(),
            Command::Kv(c) => c.is_mutating(),
            Command::Secrets(c) => c.is_mutating(),
            Command::AuthMethods(c) => c.is_mutating(),
            Command::Policy(c) => c.is_mutating(),
            Command::Token(c) => c.is_mutating(),
            _ => false,
        }
    }

    /// Whether this command destroys or cuts off something, and so asks first in an
    /// interactive session.
    pub fn is_destructive(&self) -> bool {
        match self {
            Command::Ns(c) => matches!(c, ns::Ns::Delete(_)),
            Command::Lock(c) => c.is_destructive(),
            Command::Api(c) => c.is_destructive(),
            Command::Kv(c) => c.is_destructive(),
            Command::Secrets(c) => c.is_destructive(),
            Command::AuthMethods(c) => c.is_destructive(),
            Command::Policy(c) => c.is_destructive(),
            Command::Token(c) => c.is_destructive(),
            _ => false,
        }
    }

    /// Whether this is `exit`.
    pub fn is_exit(&self) -> bool {
        matches!(self, Command::Shell(shell::Shell::Exit))
    }

    /// Whether a `k=-` argument reads a value from standard input.
    pub fn reads_stdin(&self) -> bool {
        let args = match self {
            Command::Ns(ns::Ns::Create { args, .. } | ns::Ns::Patch { args, .. }) => args,
            Command::Api(api::Api { args, .. }) => args,
            Command::Kv(c) => c.args(),
            Command::Policy(c) => return c.reads_stdin(),
            _ => return false,
        };
        args.iter().any(|a| a == "-" || a.ends_with("=-"))
    }

    /// Whether this is a lock (its answer holds an unlock key).
    pub fn is_lock(&self) -> bool {
        matches!(self, Command::Lock(lock::Lock::Lock(_)))
    }

    /// The checks that need no server: a command that fails them sends nothing at all.
    fn precheck(&self) -> Result<(), EngineError> {
        match self {
            Command::Ns(c) => c.precheck(),
            Command::Lock(c) => c.precheck(),
            _ => Ok(()),
        }
    }
}

/// The question to ask before running `cmd` in an interactive session, if it needs one.
pub fn confirmation(session: &Session, cmd: &Command) -> Option<String> {
    if session.options().yes || !cmd.is_destructive() {
        return None;
    }
    match cmd {
        Command::Ns(c) => c.confirmation(session),
        Command::Lock(c) => c.confirmation(session),
        Command::Api(c) => c.confirmation(session),
        Command::Kv(c) => c.confirmation(session),
        Command::Secrets(c) => c.confirmation(session),
        Command::AuthMethods(c) => c.confirmation(session),
        Command::Policy(c) => c.confirmation(session),
        Command::Token(c) => c.confirmation(session),
        _ => None,
    }
}

/// What completion needs of `session`: cheap to clone, so a front end can keep a copy.
pub fn completion_context(session: &Session) -> complete::Context {
    complete::Context {
        cache: session.cache().clone(),
        cwd: session.cwd().clone(),
        commands: table(),
    }
}

/// Look at the current namespace once: the token's lookup and the start namespace's
/// check if they are still due ([`enter_start`]), then the lock state for the prompt.
/// Errors are returned for the front end to show; the context stays.
pub async fn look_here(session: &mut Session) -> Result<(), EngineError> {
    // A prompt shows where the token lives: look it up first (a front end races this
    // against Ctrl-C; when cancelled, the first command looks it up).
    if session.adopt_pending().is_some() {
        return enter_start(session).await;
    }
    nav::look(session).await
}

/// The token's lookup (its namespace is the top) and, when the shell was told where to
/// start (`-n`, `VAULT_NAMESPACE`), the check that the start can be entered: a start that
/// cannot is an error naming why, and stays due, so no command runs in a namespace the
/// session is not in.
pub async fn enter_start(session: &mut Session) -> Result<(), EngineError> {
    let Some(start_given) = session.adopt_pending() else {
        return Ok(());
    };
    let start = session.cwd().clone();
    let cannot = |e: EngineError| {
        let why = e.to_string();
        let why = why.strip_prefix("cd: ").unwrap_or(&why).to_string();
        EngineError::Other(format!("cannot start in namespace {start}: {why}"))
    };
    let (seen, notes) = auth::adopt_token(session, start_given)
        .await
        .map_err(cannot)?;
    // A token looked up in the start itself proved it exists and is not locked.
    if start_given && !seen {
        if let Err(e) = nav::look(session).await {
            session.adopt_later(true);
            return Err(cannot(e));
        }
    }
    session.adopted(notes);
    Ok(())
}

/// What the state files have to say at start: keys recovered from a write cut short,
/// and locks of this server whose key was never received ("NS may be locked"). Warnings
/// for the front end to show; a store that cannot be read is one of them.
pub async fn state_report(session: &mut Session) -> Vec<String> {
    let store = session.key_store().clone();
    let mut out = Vec::new();
    match store.recover_async().await {
        Ok(r) => out.extend(
            r.report(store.path())
                .into_iter()
                .map(|l| format!("note: {l}")),
        ),
        Err(e) => out.push(format!("warning: {e}")),
    }
    let open = match store.open_intents_async().await {
        Ok(open) => open,
        Err(e) => {
            out.push(format!("warning: {e}"));
            return out;
        }
    };
    let open: Vec<_> = open.into_iter().filter(|o| !o.in_flight).collect();
    if !open.is_empty() {
        let server = identity::server_id(session).await;
        out.extend(
            open.iter()
                .filter(|o| o.intent.matches(&server).is_some())
                .map(|o| format!("warning: {}", o.intent.report())),
        );
    }
    out
}

/// Run one command. `text` is the command as typed, for the action log (it is redacted
/// before it is written). On error the session is as it was.
pub async fn execute(
    session: &mut Session,
    cmd: &Command,
    text: &str,
) -> Result<Output, EngineError> {
    if cmd.is_mutating() && session.options().read_only {
        return Err(EngineError::ReadOnly(words::redact_line(text.trim())));
    }
    // A command refused by its name sends nothing, the token's lookup included: the
    // family refuses it (and the action log records it). Otherwise the token is looked up
    // and the start namespace checked before the first command sends anything.
    if session.adopt_pending().is_some() && cmd.precheck().is_ok() {
        enter_start(session).await?;
    }
    let adopted = session.take_adopt_notes();
    // A mutating command is logged whatever happens to it, an interrupt included.
    let entry = cmd.is_mutating().then(|| LogEntry {
        log: session.action_log().clone(),
        server: session.client().addr().to_string(),
        namespace: session.cwd().header(),
        command: words::redact_line(text.trim()),
        written: false,
    });
    let result = match dispatch(session, cmd).await {
        Err(e) => Err(diagnose::explain(session, e).await),
        Ok(mut out) => {
            out.notes.splice(0..0, adopted);
            Ok(out)
        }
    };
    if let Some(mut entry) = entry {
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("error: {e}"),
        };
        if let Err(e) = entry.write(&outcome) {
            let note = format!("warning: the action log could not be written: {e}");
            return result.map(|o| o.with_note(note));
        }
    }
    if let Err(EngineError::Vault(VaultError::NamespaceLocked { locked, .. })) = &result {
        if let Ok(l) = NsPath::parse(locked) {
            if session.cwd().starts_with(&l) {
                session.set_locked(Some(l));
            }
        }
    }
    result
}

/// The action-log entry of a mutating command: written with its outcome, or — when the
/// command is dropped half way (Ctrl-C) — with the fact that its answer never came.
struct LogEntry {
    log: ActionLog,
    server: String,
    namespace: String,
    command: String,
    written: bool,
}

impl LogEntry {
    fn write(&mut self, outcome: &str) -> Result<(), StoreError> {
        self.written = true;
        self.log
            .append(&self.server, &self.namespace, &self.command, outcome)
            .map(|_| ())
    }
}

impl Drop for LogEntry {
    fn drop(&mut self) {
        if !self.written {
            let _ = self.write(
                "interrupted before the answer (Ctrl-C): the request may have reached the server",
            );
        }
    }
}

async fn dispatch(session: &mut Session, cmd: &Command) -> Result<Output, EngineError> {
    match cmd {
        Command::Nav(c) => nav::run(session, c).await,
        Command::Ns(c) => ns::run(session, c).await,
        Command::Lock(c) => lock::run(session, c).await,
        Command::Api(c) => api::run(session, c).await,
        Command::Kv(c) => kv::run(session, c).await,
        Command::Secrets(c) => secrets::run(session, c).await,
        Command::AuthMethods(c) => auth_methods::run(session, c).await,
        Command::Policy(c) => policy::run(session, c).await,
        Command::Token(c) => token::run(session, c).await,
        Command::Explore(c) => explore::run(session, c).await,
        Command::Incident(c) => incident::run(session, c).await,
        Command::Auth(c) => auth::run(session, c).await,
        Command::Shell(c) => {
            let context = completion_context(session);
            shell::run(session, c, &table(), context).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Command, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&words, &Aliases::new())
    }

    #[test]
    fn every_family_parses_through_the_table() {
        assert!(matches!(p("pwd"), Ok(Command::Nav(nav::Nav::Pwd))));
        assert!(matches!(p("tree --mounts"), Ok(Command::Explore(_))));
        assert!(matches!(p("tree -d 2"), Ok(Command::Nav(_))));
        assert!(matches!(p("namespace list"), Ok(Command::Ns(_))));
        assert!(matches!(p("unlock a --key K"), Ok(Command::Lock(_))));
        assert!(matches!(p("read x"), Ok(Command::Api(_))));
        assert!(matches!(p("locks"), Ok(Command::Incident(_))));
        assert!(matches!(p("whoami"), Ok(Command::Auth(_))));
        assert!(p("quit").unwrap().is_exit());
        assert!(p("frobnicate")
            .unwrap_err()
            .message
            .contains("unknown command"));
        assert!(!p("frobnicate")
            .unwrap_err()
            .message
            .contains("did you mean"));
        let e = p("lss").unwrap_err();
        assert!(e.to_string().contains("did you mean `ls`?"), "{e}");
        assert!(p("tre").unwrap_err().to_string().contains("`tree`"));
        assert!(p("unlokc").unwrap_err().to_string().contains("`unlock`"));
    }

    #[test]
    fn classifies_mutating_and_destructive() {
        assert!(p("lock").unwrap().is_destructive());
        assert!(p("ns delete a").unwrap().is_destructive());
        assert!(p("delete x").unwrap().is_destructive());
        assert!(p("unlock").unwrap().is_mutating());
        assert!(!p("unlock").unwrap().is_destructive());
        assert!(!p("cd x").unwrap().is_mutating());
    }

    #[test]
    fn aliases_expand_once_and_are_checked() {
        let raw = [("ll".to_string(), "ns list -detailed".to_string())];
        let table = aliases(raw.iter().map(|(a, b)| (a, b))).unwrap();
        let words: Vec<String> = vec!["ll".into()];
        assert_eq!(
            parse(&words, &table),
            Ok(Command::Ns(ns::Ns::List { detailed: true }))
        );
        for (name, line) in [
            ("cd", "pwd"),
            ("two", "pwd; pwd"),
            ("empty", ""),
            ("a b", "pwd"),
        ] {
            let raw = [(name.to_string(), line.to_string())];
            assert!(aliases(raw.iter().map(|(a, b)| (a, b))).is_err(), "{name}");
        }
        let chained = [
            ("a".to_string(), "pwd".to_string()),
            ("b".to_string(), "a".to_string()),
        ];
        assert!(aliases(chained.iter().map(|(a, b)| (a, b))).is_err());
    }

    #[test]
    fn every_command_has_help() {
        for c in table() {
            assert!(!c.usage.is_empty() && !c.help.is_empty(), "{}", c.name);
        }
    }
}
