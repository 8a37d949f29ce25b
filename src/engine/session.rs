//! The session: the state of one shell — where it is, where it was, who the token is, the
//! options, the stores, the client and what completion knows — and the small methods that
//! read or change that state. Commands live in [`crate::engine::commands`]; the session
//! never names one.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::engine::cache::Cache;
use crate::engine::error::EngineError;
use crate::engine::nspath::{self, NsPath, PathError};
use crate::engine::progress::{Interrupt, Meter, ProgressSink};
use crate::engine::store::{ActionLog, KeyStore, ServerId, StateDir};
use crate::engine::words;
use crate::vault::{Client, Config, Method, VaultError};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Readable tables.
    #[default]
    Table,
    /// One JSON document per command, as `bao … -format=json` prints it.
    Json,
}

/// Session-wide switches from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Output format.
    pub format: Format,
    /// Never ask before destructive commands.
    pub yes: bool,
    /// Refuse every mutating command.
    pub read_only: bool,
    /// Never send `SCAN`; list level by level (what Vault Enterprise needs).
    pub no_scan: bool,
    /// Standard input carries the script, so `k=-` cannot read a value from it.
    pub stdin_is_script: bool,
    /// A secret (`login`'s password) may be asked on the terminal, without echo.
    pub prompt: bool,
    /// The full-screen front end runs this session (`connect` is for line mode).
    pub fullscreen: bool,
}

/// A secret a front end is asked for (the full-screen shell's hidden-input dialog). The
/// answer goes to `reply`; dropping it means cancelled.
pub struct SecretAsk {
    /// What is asked, e.g. `Password`.
    pub label: String,
    /// Where the secret goes.
    pub reply: tokio::sync::oneshot::Sender<String>,
}

impl std::fmt::Debug for SecretAsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretAsk")
            .field("label", &self.label)
            .finish()
    }
}

/// How a front end without a terminal to prompt on asks for a secret.
pub type SecretAsker = Arc<dyn Fn(SecretAsk) + Send + Sync>;

/// How a command that waits (`ns delete --wait`) tells the front end how far it is, one
/// line at a time, while it runs.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// A cluster profile, as `connect` lists it (no token value, ever).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInfo {
    /// Its name.
    pub name: String,
    /// The server address.
    pub addr: String,
    /// The namespace it starts in.
    pub namespace: String,
    /// How the server is verified: "", "own CA" or "NOT VERIFIED".
    pub tls: String,
    /// Where its token comes from (`$VAR`, a file, or the usual places).
    pub token_from: String,
    /// The raw settings, for `--format json`.
    pub json: Value,
}

/// The cluster profiles the shell was given (`main` reads the configuration file; the
/// engine never does).
pub trait Profiles: Send + Sync {
    /// Where they come from, for messages.
    fn location(&self) -> String;
    /// Every profile, by name.
    fn list(&self) -> Result<Vec<ProfileInfo>, String>;
    /// The connection profile `name` describes (its token read now).
    fn connection(&self, name: &str) -> Result<Config, String>;
}

/// No profiles at all.
struct NoProfiles;

impl Profiles for NoProfiles {
    fn location(&self) -> String {
        "the configuration file".into()
    }
    fn list(&self) -> Result<Vec<ProfileInfo>, String> {
        Ok(Vec::new())
    }
    fn connection(&self, name: &str) -> Result<Config, String> {
        Err(format!("no profile {name:?}: there are none"))
    }
}

/// What the prompt marks of the current namespace besides a lock, as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// The sealed namespace that covers here (here or an ancestor).
    pub sealed: Option<NsPath>,
    /// Here is being deleted (OpenBao's `tainted`).
    pub deleting: bool,
}

/// Alias name → the words it stands for (one command; the words typed after it follow).
pub type Aliases = BTreeMap<String, Vec<String>>;

/// The state of one shell: where it is, where it was, and how it talks to the server.
pub struct Session {
    client: Client,
    cwd: NsPath,
    previous: Option<NsPath>,
    home: NsPath,
    /// The token's own namespace: nothing above it is reachable, so `/` means it and no
    /// request goes above it (root-only paths aside). The root for a root token.
    top: NsPath,
    /// The locked namespace (here or an ancestor) as last seen, for the prompt.
    locked: Option<NsPath>,
    /// The other states of here as last seen, for the prompt.
    marks: Marks,
    /// The session was told that the server has no namespaces (it is told once).
    told_no_namespaces: bool,
    options: Options,
    keys: KeyStore,
    log: ActionLog,
    state: StateDir,
    cache: Arc<Cache>,
    aliases: Arc<Aliases>,
    profiles: Arc<dyn Profiles>,
    /// The token has not been looked up yet (`-c` and scripts look it up lazily, so a
    /// command refused by its name sends nothing): `Some(start was given)`.
    adopt: Option<bool>,
    /// What the token's lookup had to say, for the next command's output.
    adopt_notes: Vec<String>,
    /// Asks the front end for a secret (the TUI), where no terminal prompt can.
    asker: Option<SecretAsker>,
    /// Where progress lines of a waiting command go, if a front end listens.
    progress: Option<Progress>,
    /// Counts [`Session::reconnect`]s: a front end that keeps its own view sees a change.
    generation: u64,
    /// Who the server is (its address and cluster id), once asked.
    server: Option<ServerId>,
    /// Where long walks draw their progress line, if a front end shows one.
    meter_sink: Option<ProgressSink>,
    /// Ctrl-C, for a command that stops itself at a safe point.
    interrupt: Interrupt,
}

impl Session {
    /// A session on `client`, starting (and at home) in `start`.
    pub fn new(client: Client, start: NsPath, options: Options, state: StateDir) -> Session {
        Session {
            cache: Cache::new(client.clone(), start.clone(), !options.no_scan),
            client,
            previous: None,
            home: start.clone(),
            top: NsPath::root(),
            cwd: start,
            locked: None,
            marks: Marks::default(),
            told_no_namespaces: false,
            options,
            keys: state.key_store(),
            log: state.action_log(),
            state,
            aliases: Arc::new(Aliases::new()),
            profiles: Arc::new(NoProfiles),
            adopt: None,
            adopt_notes: Vec::new(),
            asker: None,
            progress: None,
            generation: 0,
            server: None,
            meter_sink: None,
            interrupt: Interrupt::default(),
        }
    }

    /// Draw the progress of long walks on `sink`.
    pub fn set_progress_sink(&mut self, sink: ProgressSink) {
        self.meter_sink = Some(sink);
    }

    /// A progress line for a walk of `total` `unit`s (drawn only where a front end shows one).
    pub fn meter(&self, label: &str, unit: &'static str, total: usize) -> Meter {
        Meter::new(self.meter_sink.clone(), label, unit, total)
    }

    /// Ctrl-C as the command in flight sees it; a front end trips it.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Use these aliases (checked by [`crate::engine::commands::aliases`]).
    pub fn set_aliases(&mut self, aliases: Aliases) {
        self.aliases = Arc::new(aliases);
    }

    /// The aliases.
    pub fn aliases(&self) -> &Aliases {
        &self.aliases
    }

    /// Use these cluster profiles for `connect`.
    pub fn set_profiles(&mut self, profiles: Arc<dyn Profiles>) {
        self.profiles = profiles;
    }

    /// The cluster profiles.
    pub fn profiles(&self) -> &dyn Profiles {
        self.profiles.as_ref()
    }

    /// Let `asker` ask for secrets (`login`'s password) the terminal cannot be asked for.
    pub fn set_secret_asker(&mut self, asker: SecretAsker) {
        self.asker = Some(asker);
    }

    /// What asks the front end for a secret, if one was set.
    pub fn secret_asker(&self) -> Option<&SecretAsker> {
        self.asker.as_ref()
    }

    /// Send progress lines of waiting commands to `progress`.
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
    }

    /// Tell the front end how far a waiting command is (nothing when none listens).
    pub fn progress(&self, line: &str) {
        if let Some(p) = &self.progress {
            p(line);
        }
    }

    /// A secret not given can be asked (on the terminal, or by the front end).
    pub fn can_ask_secret(&self) -> bool {
        self.options.prompt || self.asker.is_some()
    }

    /// How many times the client, top or home changed ([`Session::reconnect`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Look the token up (its namespace is the top) before the first command that needs
    /// it, rather than now.
    pub fn adopt_later(&mut self, start_given: bool) {
        self.adopt = Some(start_given);
    }

    /// Whether the token still has to be looked up: `Some(start was given)`.
    pub fn adopt_pending(&self) -> Option<bool> {
        self.adopt
    }

    /// The token was looked up and the start checked (or need not be); its notes are
    /// shown with the next command's output.
    pub fn adopted(&mut self, notes: Vec<String>) {
        self.adopt = None;
        self.adopt_notes.extend(notes);
    }

    /// The notes of the token's lookup not shown yet.
    pub fn take_adopt_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.adopt_notes)
    }

    /// The current namespace.
    pub fn cwd(&self) -> &NsPath {
        &self.cwd
    }

    /// Where `cd -` goes.
    pub fn previous(&self) -> Option<&NsPath> {
        self.previous.as_ref()
    }

    /// Home: where `cd` with no argument goes.
    pub fn home(&self) -> &NsPath {
        &self.home
    }

    /// The highest namespace this token reaches (its own): `/` means it.
    pub fn top(&self) -> &NsPath {
        &self.top
    }

    /// Move to `target` (checked by the caller); `locked` is its lock as just seen.
    pub fn enter(&mut self, target: NsPath, locked: Option<NsPath>) {
        self.previous = Some(std::mem::replace(&mut self.cwd, target));
        self.locked = locked;
        self.marks = Marks::default();
        self.cache.touch(&self.cwd);
    }

    /// Use `client` from now on (a new token after `login`, another server after
    /// `connect`), with `top` the token's namespace, `home` for `cd`, and `cwd` where to
    /// be now. What completion knew is dropped; the previous namespace is kept only when
    /// it is still within reach.
    pub fn reconnect(&mut self, client: Client, top: NsPath, home: NsPath, cwd: NsPath) {
        // A token below the root: completion walks its namespace, never above it.
        self.cache = if top.is_root() {
            Cache::new(client.clone(), home.clone(), !self.options.no_scan)
        } else {
            Cache::within(client.clone(), top.clone(), !self.options.no_scan)
        };
        self.client = client;
        if self.previous.as_ref().is_some_and(|p| !p.starts_with(&top)) {
            self.previous = None;
        }
        if self.cwd != cwd {
            let old = std::mem::replace(&mut self.cwd, cwd);
            if old.starts_with(&top) {
                self.previous = Some(old);
            }
        }
        self.top = top;
        self.home = home;
        self.locked = None;
        self.marks = Marks::default();
        self.told_no_namespaces = false;
        self.adopt = None;
        self.server = None;
        self.generation += 1;
    }

    /// Who the server is, if it was asked ([`crate::engine::identity::server_id`]).
    pub fn server(&self) -> Option<&ServerId> {
        self.server.as_ref()
    }

    /// What the server said it is.
    pub fn set_server(&mut self, server: ServerId) {
        self.server = Some(server);
    }

    /// Resolve a `cd`-style namespace argument from here, never above the top.
    pub fn resolve(&self, arg: Option<&str>) -> Result<NsPath, PathError> {
        nspath::resolve_within(
            &self.top,
            &self.cwd,
            self.previous.as_ref(),
            &self.home,
            arg,
        )
    }

    /// Where an API path typed here goes (`/` is the top; root-only paths go to the root;
    /// `..` climbs namespaces, never above the top).
    pub fn route(&self, typed: &str) -> Result<nspath::Route, PathError> {
        nspath::try_route_within(&self.top, &self.cwd, typed)
    }

    /// The locked namespace that covers the current one, if the last look saw one.
    pub fn locked(&self) -> Option<&NsPath> {
        self.locked.as_ref()
    }

    /// What the last look saw of the lock over the current namespace.
    pub fn set_locked(&mut self, locked: Option<NsPath>) {
        self.locked = locked;
    }

    /// What the last look saw of the current namespace's other states.
    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    /// What the last look saw of the seal over the current namespace and its deletion.
    pub fn set_marks(&mut self, marks: Marks) {
        self.marks = marks;
    }

    /// Whether to tell that the server has no namespaces: true the first time only.
    pub fn tell_no_namespaces(&mut self) -> bool {
        !std::mem::replace(&mut self.told_no_namespaces, true)
    }

    /// The session's switches.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// What completion knows of the server.
    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// Start filling the completion cache in the background.
    pub fn warm_cache(&self) {
        self.cache.warm();
    }

    /// The unlock-key store.
    pub fn key_store(&self) -> &KeyStore {
        &self.keys
    }

    /// The action log.
    pub fn action_log(&self) -> &ActionLog {
        &self.log
    }

    /// The state directory (history, keys, log).
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// The prompt for line mode: the namespace, and a mark when it is locked, sealed or
    /// being deleted (`[locked]` here, `[locked: a]` for an ancestor).
    pub fn prompt(&self) -> String {
        let mark = |what: &str, at: &NsPath| {
            if at == &self.cwd {
                what.to_string()
            } else {
                format!("{what}: {at}")
            }
        };
        let mut marks = Vec::new();
        if let Some(l) = &self.locked {
            marks.push(mark("locked", l));
        }
        if let Some(s) = &self.marks.sealed {
            marks.push(mark("sealed", s));
        }
        if self.marks.deleting {
            marks.push("being deleted".to_string());
        }
        if marks.is_empty() {
            format!("vnsh {}> ", self.cwd)
        } else {
            format!("vnsh {} [{}]> ", self.cwd, marks.join(", "))
        }
    }

    /// Send one request in the current namespace.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, VaultError> {
        self.client
            .request(method, &self.cwd.header(), path, body)
            .await
    }

    /// Parse `k=v` arguments (`@file`, `-` for stdin when stdin is not the script).
    pub fn kv(&self, args: &[String]) -> Result<Map<String, Value>, EngineError> {
        let wants_stdin = args.iter().any(|a| a == "-" || a.ends_with("=-"));
        if !wants_stdin {
            // Never lock stdin needlessly: a script being read from it holds that lock.
            return Ok(words::parse_kv(args, &mut std::io::empty())?);
        }
        if self.options.stdin_is_script {
            return Err(EngineError::Other(
                "standard input carries the script, so `-` cannot read a value from it; use k=@FILE".into(),
            ));
        }
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        Ok(words::parse_kv(args, &mut lock)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{TlsConfig, DEFAULT_MAX_RESPONSE_BYTES};

    fn session_at(cwd: &str) -> Session {
        let client = Client::new(&Config {
            addr: "http://127.0.0.1:1".into(),
            token: None,
            namespace: String::new(),
            tls: TlsConfig::default(),
            timeout: std::time::Duration::from_secs(1),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
        .expect("client");
        let cwd = NsPath::parse(cwd).expect("path");
        Session::new(
            client,
            cwd,
            Options::default(),
            StateDir::at(std::env::temp_dir().join("vnsh-session-unit")),
        )
    }

    #[test]
    fn the_prompt_marks_locked_sealed_and_being_deleted() {
        let p = |s: &str| NsPath::parse(s).unwrap();
        let mut s = session_at("a/b");
        assert_eq!(s.prompt(), "vnsh a/b> ");
        s.set_marks(Marks {
            sealed: Some(p("a/b")),
            deleting: false,
        });
        assert_eq!(s.prompt(), "vnsh a/b [sealed]> ");
        s.set_locked(Some(p("a")));
        assert_eq!(s.prompt(), "vnsh a/b [locked: a, sealed]> ");
        s.set_marks(Marks {
            sealed: Some(p("a")),
            deleting: true,
        });
        s.set_locked(None);
        assert_eq!(s.prompt(), "vnsh a/b [sealed: a, being deleted]> ");
        // Moving on clears what was seen of the old place.
        s.enter(p("c"), None);
        assert_eq!(s.prompt(), "vnsh c> ");
        assert!(s.tell_no_namespaces());
        assert!(!s.tell_no_namespaces());
    }
}
