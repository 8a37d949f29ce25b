//! The dispatcher: every command family in its own room, one table of them, and the one
//! way a command runs — [`parse`], [`prepare`] (read-only refusal, name rules, the token's
//! lookup, the family's checks against the server, the question it owes), the answer the
//! front end gets, then [`execute`] (the family's run, the action log).
//!
//! The dispatcher imports the families; no family imports the dispatcher. Adding a
//! command touches its family's file; adding a family touches [`FAMILIES`] and
//! [`Command`] here (and its arm of [`Command::is_destructive`] and of the `check` hook).

pub mod api;
pub mod auth;
pub mod auth_methods;
pub mod cp;
pub mod diff;
pub mod explain;
pub mod explain_daily;
pub mod explain_steps;
pub mod explore;
pub mod flags;
pub mod incident;
pub mod kv;
pub mod lock;
pub mod nav;
pub mod ns;
pub mod policy;
pub mod seal;
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
use crate::engine::spec::{Checked, CommandInfo, Parsed, UsageError};
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
    /// `cp`, `mv`: KV secrets between any two namespaces.
    Cp(cp::Cp),
    /// `diff`: two namespaces compared.
    Diff(diff::Diff),
    /// `explain CMD…`: the bao and curl commands that do what CMD does.
    Explain(Box<Command>),
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
        commands: cp::COMMANDS,
        parse: |n, r| cp::parse(n, r).map(|r| r.map(Command::Cp)),
    },
    Family {
        commands: diff::COMMANDS,
        parse: |n, r| diff::parse(n, r).map(|r| r.map(Command::Diff)),
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
        commands: explain::COMMANDS,
        parse: |n, r| explain::is_called(n).then(|| parse_explain(r)),
    },
    Family {
        commands: shell::COMMANDS,
        parse: |n, r| shell::parse(n, r).map(|r| r.map(Command::Shell)),
    },
];

/// `explain CMD…`: the command to explain is parsed as any other (not an alias).
fn parse_explain(rest: &[String]) -> Result<Command, UsageError> {
    if rest.is_empty() {
        return Err(UsageError::new(
            explain::COMMANDS[0].usage,
            "`explain` needs a command: explain ls, explain cp -r a/ b/",
        ));
    }
    parse(rest, &Aliases::new()).map(|c| Command::Explain(Box::new(c)))
}

/// What `explain` is told of a command: the family's own command.
fn subject(cmd: &Command) -> explain::Subject<'_> {
    use explain::Subject as S;
    match cmd {
        Command::Nav(c) => S::Nav(c),
        Command::Ns(c) => S::Ns(c),
        Command::Lock(c) => S::Lock(c),
        Command::Api(c) => S::Api(c),
        Command::Explore(c) => S::Explore(c),
        Command::Incident(c) => S::Incident(c),
        Command::Auth(c) => S::Auth(c),
        Command::Shell(c) => S::Shell(c),
        Command::Cp(c) => S::Cp(c),
        Command::Diff(c) => S::Diff(c),
        Command::Explain(_) => S::Explain,
        Command::Kv(c) => S::Kv(c),
        Command::Secrets(c) | Command::AuthMethods(c) => S::Mounts(c),
        Command::Policy(c) => S::Policy(c),
        Command::Token(c) => S::Token(c),
    }
}

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
            Command::Cp(c) => c.is_mutating(),
            Command::Kv(c) => c.is_mutating(),
            Command::Secrets(c) => c.is_mutating(),
            Command::AuthMethods(c) => c.is_mutating(),
            Command::Policy(c) => c.is_mutating(),
            Command::Token(c) => c.is_mutating(),
            _ => false,
        }
    }

    /// Whether this command destroys or cuts off something that cannot simply be undone,
    /// and so always owes a question (or `--yes`). Each family declares its own; a family's
    /// checks may ask in other cases too (an `unlock` of a lock this key store did not make).
    pub fn is_destructive(&self) -> bool {
        match self {
            Command::Ns(c) => c.is_destructive(),
            Command::Lock(c) => c.is_destructive(),
            Command::Api(c) => c.is_destructive(),
            Command::Cp(c) => c.is_destructive(),
            Command::Kv(c) => c.is_destructive(),
            Command::Secrets(c) => c.is_destructive(),
            Command::AuthMethods(c) => c.is_destructive(),
            Command::Policy(c) => c.is_destructive(),
            Command::Token(c) => c.is_destructive(),
            _ => false,
        }
    }

    /// Whether the family writes the action log itself, one entry per namespace it acted
    /// on (bulk locks, `unlock --mine`), so the dispatcher writes none for the command.
    fn logs_itself(&self) -> bool {
        match self {
            Command::Lock(c) => c.logs_itself(),
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
            Command::Ns(ns::Ns::Seal(s)) => s.args(),
            Command::Api(api::Api { args, .. }) => args,
            Command::Kv(c) => c.args(),
            Command::Policy(c) => return c.reads_stdin(),
            _ => return false,
        };
        args.iter().any(|a| a == "-" || a.ends_with("=-"))
    }

    /// Whether this is a lock (its answer holds an unlock key).
    pub fn is_lock(&self) -> bool {
        matches!(self, Command::Lock(c) if c.is_lock())
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

/// A command checked and ready to run: what will run, and the question it still owes.
/// Only [`execute`] runs it, and it refuses one whose question was never answered.
#[derive(Debug)]
pub struct Prepared {
    cmd: Command,
    text: String,
    question: Option<String>,
}

impl Prepared {
    /// The question to ask before it runs, if one is still owed (never with `--yes`).
    pub fn question(&self) -> Option<&str> {
        self.question.as_deref()
    }

    /// The answer was yes: it may run.
    pub fn confirm(&mut self) {
        self.question = None;
    }

    /// What will run (after the checks: a pattern is the list it matched).
    pub fn command(&self) -> &Command {
        &self.cmd
    }
}

/// Everything that comes before the question, in this order, each refusing with nothing
/// sent: `--read-only` refuses a mutating command; a name that breaks the rules is
/// refused; where no one can be asked (`can_ask` false: standard input is not a terminal)
/// a destructive command without `--yes` is refused; the token is looked up and the start
/// namespace checked (when still due); the family checks what the server would refuse
/// anyway (a lock of a locked namespace, a delete of one with children, …) and words the
/// question, naming the full paths and what they affect. `text` is the command as typed,
/// for the action log.
pub async fn prepare(
    session: &mut Session,
    cmd: &Command,
    text: &str,
    can_ask: bool,
) -> Result<Prepared, EngineError> {
    let shown = || words::redact_line(text.trim());
    if cmd.is_mutating() && session.options().read_only {
        return Err(EngineError::ReadOnly(shown()));
    }
    let yes = session.options().yes;
    // A name that breaks the rules: nothing is sent, the token's lookup included. A
    // destructive command is refused here, before any question; another is left to its
    // family, which refuses it or sends the name escaped (`ns lookup 'a#b'`).
    let checked = match cmd.precheck() {
        Err(e) if cmd.is_destructive() => Err(e),
        Err(_) => Ok(Checked::run(cmd.clone())),
        Ok(()) if cmd.is_destructive() && !can_ask && !yes => {
            return Err(EngineError::Unconfirmed(shown()))
        }
        Ok(()) => match enter_start(session).await {
            Ok(()) => check(session, cmd).await,
            Err(e) => return Err(e),
        },
    };
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            // A mutating command refused by its checks is in the timeline too: it was
            // tried, and nothing was sent.
            if cmd.is_mutating() {
                let mut entry = LogEntry::new(session, text);
                if let Err(le) = entry.write(&format!("error: {e}")) {
                    return Err(EngineError::Other(format!(
                        "{e} (and the action log could not be written: {le})"
                    )));
                }
            }
            return Err(e);
        }
    };
    // A destructive command always owes a question, also from a family that gave none.
    let question = match checked.question {
        Some(q) => Some(q),
        None if checked.cmd.is_destructive() => {
            Some(format!("Run `{}`? It cannot be undone.", shown()))
        }
        None => None,
    }
    .filter(|_| !yes);
    if question.is_some() && !can_ask {
        return Err(EngineError::Unconfirmed(shown()));
    }
    Ok(Prepared {
        cmd: checked.cmd,
        text: text.to_string(),
        question,
    })
}

/// The families' hook: what each checks before the question (it may ask the server), and
/// the question it words. A family with no destructive command needs no arm.
async fn check(session: &mut Session, cmd: &Command) -> Result<Checked<Command>, EngineError> {
    Ok(match cmd {
        Command::Ns(c) => ns::prepare(session, c).await?.map(Command::Ns),
        Command::Lock(c) => lock::prepare(session, c).await?.map(Command::Lock),
        Command::Api(c) => api::prepare(session, c)?.map(Command::Api),
        Command::Cp(c) => Checked {
            cmd: cmd.clone(),
            question: c.confirmation(session),
        },
        Command::Kv(c) => kv::prepare(session, c).await?.map(Command::Kv),
        Command::Secrets(c) => Checked {
            cmd: cmd.clone(),
            question: c.confirmation(session),
        },
        Command::AuthMethods(c) => Checked {
            cmd: cmd.clone(),
            question: c.confirmation(session),
        },
        Command::Policy(c) => Checked {
            cmd: cmd.clone(),
            question: c.confirmation(session),
        },
        Command::Token(c) => Checked {
            cmd: cmd.clone(),
            question: c.confirmation(session),
        },
        _ => Checked::run(cmd.clone()),
    })
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

/// Run a prepared command. One that still owes its question (no one could be asked, and
/// `--yes` was not given) is refused with nothing sent. On error the session is as it was.
pub async fn execute(session: &mut Session, prepared: Prepared) -> Result<Output, EngineError> {
    let Prepared {
        cmd,
        text,
        question,
    } = prepared;
    // A Ctrl-C of an earlier command is no reason to stop this one.
    session.interrupt().reset();
    if question.is_some() {
        return Err(EngineError::Unconfirmed(words::redact_line(text.trim())));
    }
    let adopted = session.take_adopt_notes();
    // A mutating command is logged whatever happens to it, an interrupt included.
    let entry = (cmd.is_mutating() && !cmd.logs_itself()).then(|| LogEntry::new(session, &text));
    let result = match dispatch(session, &cmd).await {
        Err(e) => Err(diagnose::explain(session, e).await),
        Ok(mut out) => {
            out.notes.splice(0..0, adopted);
            Ok(out)
        }
    };
    if let Some(mut entry) = entry {
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            // The report of a failed command (cp's list of keys) stays out of the log.
            Err(EngineError::Failed { summary, .. }) => format!("error: {summary}"),
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
    // A refusal that says here is sealed is marked in the prompt, as a lock is.
    if let Err(EngineError::Vault(VaultError::NamespaceSealed { sealed, .. })) = &result {
        if let Ok(s) = NsPath::parse(sealed) {
            if session.cwd().starts_with(&s) {
                let mut marks = session.marks().clone();
                marks.sealed = Some(s);
                session.set_marks(marks);
            }
        }
    }
    result
}

/// Prepare and run a command that no one is asked about: one that owes a question is
/// refused (naming `--yes`) unless the session has `--yes`.
pub async fn run_unasked(
    session: &mut Session,
    cmd: &Command,
    text: &str,
) -> Result<Output, EngineError> {
    let prepared = prepare(session, cmd, text, false).await?;
    execute(session, prepared).await
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
    /// The entry of `text` typed in the current namespace of `session`.
    fn new(session: &Session, text: &str) -> LogEntry {
        LogEntry {
            log: session.action_log().clone(),
            server: session.client().addr().to_string(),
            namespace: session.cwd().header(),
            command: words::redact_line(text.trim()),
            written: false,
        }
    }

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
        Command::Cp(c) => cp::run(session, c).await,
        Command::Diff(c) => diff::run(session, c).await,
        Command::Explain(c) => explain::run(session, subject(c)).await,
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
        assert!(matches!(p("cp -r a b"), Ok(Command::Cp(_))));
        assert!(matches!(p("mv a b"), Ok(Command::Cp(_))));
        assert!(matches!(p("diff a b"), Ok(Command::Diff(_))));
        assert!(matches!(
            p("explain cp -r a b"),
            Ok(Command::Explain(inner)) if matches!(*inner, Command::Cp(_))
        ));
        assert!(p("explain").is_err());
        assert!(p("explain frob").is_err());
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
        assert!(p("cp a b").unwrap().is_mutating());
        assert!(!p("cp a b").unwrap().is_destructive());
        assert!(p("cp -f a b").unwrap().is_destructive());
        assert!(p("mv a b").unwrap().is_destructive());
        assert!(!p("cp -n a b").unwrap().is_mutating());
        assert!(!p("explain delete x").unwrap().is_mutating());
        assert!(!p("explain delete x").unwrap().is_destructive());
        assert!(!p("diff a b").unwrap().is_mutating());
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
