//! The session: the current namespace and everything a command needs to run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::engine::cache::Cache;
use crate::engine::command::{all_commands, ApiFlags, ApiOp, Command, UsageError};
use crate::engine::complete;
use crate::engine::nspath::{self, NameError, NsPath, PathError};
use crate::engine::output::{cell, Output, View};
use crate::engine::store::{ActionLog, KeyStore, StateDir, StoreError};
use crate::engine::tree;
use crate::engine::words::{self, KvError, WordsError};
use crate::vault::{body, Client, Method, VaultError};

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

/// Why a command failed. The session is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The command line does not parse.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The line could not be split into words.
    #[error("{0}")]
    Words(#[from] WordsError),
    /// A namespace path that cannot be resolved.
    #[error("{0}")]
    Path(#[from] PathError),
    /// A namespace name that breaks a rule; nothing was sent.
    #[error("{0} (nothing was sent)")]
    Name(#[from] NameError),
    /// Bad `k=v` arguments.
    #[error("{0}")]
    Kv(#[from] KvError),
    /// The server said no, or could not be reached.
    #[error("{0}")]
    Vault(#[from] VaultError),
    /// The key store or the action log failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A mutating command in a read-only session.
    #[error("`{0}` changes the server and this session is read-only (--read-only)")]
    ReadOnly(String),
    /// `cd` to a namespace that does not exist or cannot be reached.
    #[error("cd: {0}")]
    Cd(String),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
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
    options: Options,
    keys: KeyStore,
    log: ActionLog,
    state: StateDir,
    cache: Arc<Cache>,
    /// The token has not been looked up yet (`-c` and scripts look it up lazily, so a
    /// command refused by its name sends nothing): `Some(start was given)`.
    adopt: Option<bool>,
    /// What the token's lookup had to say, for the next command's output.
    adopt_notes: Vec<String>,
    /// Asks the front end for a secret (the TUI), where no terminal prompt can.
    asker: Option<SecretAsker>,
    /// Counts [`Session::reconnect`]s: a front end that keeps its own client sees a change.
    generation: u64,
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
            options,
            keys: state.key_store(),
            log: state.action_log(),
            state,
            adopt: None,
            adopt_notes: Vec::new(),
            asker: None,
            generation: 0,
        }
    }

    /// Let `asker` ask for secrets (`login`'s password) the terminal cannot be asked for.
    pub fn set_secret_asker(&mut self, asker: SecretAsker) {
        self.asker = Some(asker);
    }

    /// What asks the front end for a secret, if one was set.
    pub fn secret_asker(&self) -> Option<&SecretAsker> {
        self.asker.as_ref()
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
    /// it, rather than now: see [`crate::engine::auth::adopt_token`].
    pub fn adopt_later(&mut self, start_given: bool) {
        self.adopt = Some(start_given);
    }

    /// The current namespace.
    pub fn cwd(&self) -> &NsPath {
        &self.cwd
    }

    /// Home: where `cd` with no argument goes.
    pub fn home(&self) -> &NsPath {
        &self.home
    }

    /// The highest namespace this token reaches (its own): `/` means it.
    pub fn top(&self) -> &NsPath {
        &self.top
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
        self.adopt = None;
        self.generation += 1;
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

    /// Where an API path typed here goes (`/` is the top; root-only paths go to the root).
    pub fn route(&self, typed: &str) -> nspath::Route {
        nspath::route_within(&self.top, &self.cwd, typed)
    }

    /// The locked namespace that covers the current one, if the last look saw one.
    pub fn locked(&self) -> Option<&NsPath> {
        self.locked.as_ref()
    }

    /// The session's switches.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A copy of what the completer needs.
    pub fn completion_context(&self) -> complete::Context {
        complete::Context {
            cache: self.cache.clone(),
            cwd: self.cwd.clone(),
        }
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

    /// The prompt for line mode: the namespace, and a mark when it is locked.
    pub fn prompt(&self) -> String {
        match &self.locked {
            Some(l) if l == &self.cwd => format!("vnsh {} [locked]> ", self.cwd),
            Some(l) => format!("vnsh {} [locked: {}]> ", self.cwd, l),
            None => format!("vnsh {}> ", self.cwd),
        }
    }

    /// Look at the current namespace once (lock state for the prompt). Errors are returned
    /// for the front end to show; the context stays.
    pub async fn refresh_lock_state(&mut self) -> Result<(), EngineError> {
        // A prompt shows where the token lives: look it up first (a front end races this
        // against Ctrl-C; when cancelled, the first command looks it up).
        if let Some(start_given) = self.adopt {
            let notes = crate::engine::auth::adopt_token(self, start_given).await;
            self.adopt_notes.extend(notes);
            self.adopt = None;
        }
        let cwd = self.cwd.clone();
        self.locked = self.probe(&cwd).await?;
        Ok(())
    }

    /// The question to ask before running `cmd` in an interactive session, if it needs one.
    pub fn confirmation(&self, cmd: &Command) -> Option<String> {
        if self.options.yes || !cmd.is_destructive() {
            return None;
        }
        match cmd {
            Command::NsDelete(name) => Some(format!(
                "Delete namespace {} and everything in it?",
                self.target_display(name)
            )),
            Command::Lock(sub) => Some(format!(
                "Lock the API of {} and of every namespace below it?",
                self.target_display(sub.as_deref().unwrap_or(""))
            )),
            Command::Api { path, .. } => {
                let route = self.route(path);
                Some(format!(
                    "Delete {} in namespace {}?",
                    route.path, route.namespace
                ))
            }
            _ => None,
        }
    }

    fn target_display(&self, sub: &str) -> String {
        match NsPath::parse(sub) {
            Ok(p) => self.cwd.join(&p).display(),
            Err(_) => format!("{}/{}", self.cwd.display().trim_end_matches('/'), sub),
        }
    }

    /// Run one command. `text` is the command as typed, for the action log (it is
    /// redacted before it is written). On error the session is as it was.
    pub async fn execute(&mut self, cmd: &Command, text: &str) -> Result<Output, EngineError> {
        if cmd.is_mutating() && self.options.read_only {
            return Err(EngineError::ReadOnly(words::redact_line(text.trim())));
        }
        let mut adopted = std::mem::take(&mut self.adopt_notes);
        if let Some(start_given) = self.adopt {
            // A command refused by its name sends nothing, the token's lookup included:
            // dispatch refuses it (and the action log records it) as before.
            if precheck(cmd).is_ok() && (!start_given || may_leave_start(cmd)) {
                adopted.extend(crate::engine::auth::adopt_token(self, start_given).await);
                self.adopt = None;
            }
        }
        let result = self.dispatch(cmd).await.map(|mut o| {
            o.notes.splice(0..0, adopted);
            o
        });
        if result.is_ok() {
            self.invalidate_after(cmd);
        }
        if cmd.is_mutating() {
            let outcome = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            };
            let logged = self.log.append(
                self.client.addr(),
                &self.cwd.header(),
                &words::redact_line(text.trim()),
                &outcome,
            );
            if let Err(e) = logged {
                let note = format!("warning: the action log could not be written: {e}");
                return result.map(|o| o.with_note(note));
            }
        }
        if let Err(EngineError::Vault(VaultError::NamespaceLocked { locked, .. })) = &result {
            if let Ok(l) = NsPath::parse(locked) {
                if self.cwd.starts_with(&l) {
                    self.locked = Some(l);
                }
            }
        }
        result
    }

    /// Forget what completion knew that `cmd` has just changed.
    fn invalidate_after(&self, cmd: &Command) {
        match cmd {
            Command::NsCreate { .. } | Command::NsDelete(_) => self.cache.invalidate_tree(),
            Command::Api { .. } if cmd.is_mutating() => self.cache.invalidate_paths(),
            Command::Cd(_) => self.cache.touch(&self.cwd),
            _ => {}
        }
    }

    async fn dispatch(&mut self, cmd: &Command) -> Result<Output, EngineError> {
        match cmd {
            Command::Pwd => Ok(Output {
                json: Some(json!({ "namespace": self.cwd.header() })),
                view: View::Text(self.cwd.display()),
                notes: vec![],
            }),
            Command::Cd(arg) => self.cd(arg.as_deref()).await,
            Command::Ls(arg) => self.ls(arg.as_deref()).await,
            Command::Tree { path, depth } => self.tree(path.as_deref(), *depth).await,
            Command::NsList { detailed } => self.ns_list(*detailed).await,
            Command::NsScan { detailed } => self.ns_scan(*detailed).await,
            Command::NsLookup(name) => {
                let name = NsPath::parse(name)?;
                let body = self
                    .send(
                        Method::Get,
                        &format!("sys/namespaces/{}", name.display()),
                        None,
                    )
                    .await?;
                Ok(namespace_output(body::data(body)))
            }
            Command::NsCreate { name, args } => {
                let name = nspath::validate_name(name)?;
                let meta = self.kv(args)?;
                let body = json!({ "custom_metadata": meta });
                let resp = self
                    .send(
                        Method::Post,
                        &format!("sys/namespaces/{}", name.display()),
                        Some(&body),
                    )
                    .await?;
                Ok(namespace_output(body::data(resp)))
            }
            Command::NsPatch { name, args } => {
                let name = NsPath::parse(name)?;
                let meta = self.kv(args)?;
                let body = json!({ "custom_metadata": meta });
                let resp = self
                    .send(
                        Method::Patch,
                        &format!("sys/namespaces/{}", name.display()),
                        Some(&body),
                    )
                    .await?;
                Ok(namespace_output(body::data(resp)))
            }
            Command::NsDelete(name) => {
                let name = nspath::validate_name(name)?;
                let resp = self
                    .send(
                        Method::Delete,
                        &format!("sys/namespaces/{}", name.display()),
                        None,
                    )
                    .await?;
                Ok(warnings_output(resp.as_ref(), "deleted"))
            }
            Command::Lock(sub) => self.lock(sub.as_deref()).await,
            Command::Unlock { subpath, key } => {
                self.unlock(subpath.as_deref(), key.as_deref()).await
            }
            Command::Api { op, path, args } => self.api(*op, path, args).await,
            Command::Complete(line) => {
                // A script wants the full answer: wait for what is being fetched.
                let ctx = self.completion_context();
                let words = complete::complete(&ctx, line, Duration::from_secs(10)).await;
                Ok(Output {
                    view: View::Text(words.join("\n")),
                    json: Some(Value::from(words)),
                    notes: vec![],
                })
            }
            Command::Help(topic) => help(topic.as_deref()),
            Command::Explore(e) => crate::engine::explore::run(self, e).await,
            Command::Incident(i) => crate::engine::incident::run(self, i).await,
            Command::Auth(a) => crate::engine::auth::run(self, a).await,
            Command::Refresh => {
                self.cache.clear();
                self.cache.warm();
                Ok(Output::default())
            }
            Command::Exit => Ok(Output::default()),
        }
    }

    async fn send(
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
    pub(crate) fn kv(&self, args: &[String]) -> Result<Map<String, Value>, EngineError> {
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

    /// Check that `target` exists and can be reached; return the locked namespace that
    /// covers it, if any.
    async fn probe(&self, target: &NsPath) -> Result<Option<NsPath>, EngineError> {
        let locked_ns = |l: &str| NsPath::parse(l).ok();
        // The parent is asked only when it is within reach: never above the top.
        let parent = target.parent().filter(|p| p.starts_with(&self.top));
        if let (Some(parent), Some(name)) = (parent, target.name()) {
            match self
                .client
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
                    return Ok(locked.then(|| target.clone()));
                }
                Err(VaultError::NotFound { .. }) | Err(VaultError::NamespaceNotFound { .. }) => {
                    return Err(EngineError::Cd(format!(
                        "namespace {} does not exist",
                        target.display()
                    )))
                }
                Err(VaultError::NamespaceLocked { locked, .. }) => return Ok(locked_ns(&locked)),
                // Not allowed to look from the parent (a delegated admin): ask the namespace itself.
                Err(VaultError::PermissionDenied { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        match self
            .client
            .request(
                Method::Get,
                &target.header(),
                "auth/token/lookup-self",
                None,
            )
            .await
        {
            Ok(_) => Ok(None),
            Err(VaultError::NamespaceNotFound { .. }) => Err(EngineError::Cd(format!(
                "namespace {} does not exist",
                target.display()
            ))),
            Err(VaultError::NamespaceLocked { locked, .. }) => Ok(locked_ns(&locked)),
            Err(VaultError::PermissionDenied { .. }) => Err(EngineError::Cd(format!(
                "namespace {} cannot be reached with this token (permission denied)",
                target.display()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn cd(&mut self, arg: Option<&str>) -> Result<Output, EngineError> {
        let target = self.resolve(arg)?;
        let locked = self.probe(&target).await?;
        self.previous = Some(std::mem::replace(&mut self.cwd, target));
        self.locked = locked;
        let mut out = Output::default();
        if let Some(l) = &self.locked {
            out.notes.push(format!(
                "note: namespace {l} is locked; requests here are refused until it is unlocked"
            ));
        }
        Ok(out)
    }

    async fn ls(&self, arg: Option<&str>) -> Result<Output, EngineError> {
        if let Some(arg) =
            arg.filter(|a| !a.starts_with('/') && !a.starts_with('.') && !a.starts_with('~'))
        {
            let mounts = self.mounts(&self.cwd).await.ok();
            if let Some(found) = mounts.as_ref().and_then(|m| body::mount_for(m, arg)) {
                return self.ls_mount(&self.cwd, found, arg).await;
            }
            // `ls acme/payments/secret/` from above: the deepest namespace prefix that has
            // a mount for the rest (what completion offers).
            let segs: Vec<&str> = arg.split('/').filter(|s| !s.is_empty()).collect();
            for i in (1..segs.len()).rev() {
                let ns = self
                    .cwd
                    .join(&NsPath::from_segments(segs[..i].iter().copied()));
                let rest = arg
                    .trim_start_matches('/')
                    .splitn(i + 1, '/')
                    .last()
                    .unwrap_or_default()
                    .to_string();
                if let Ok(m) = self.mounts(&ns).await {
                    if let Some(found) = body::mount_for(&m, &rest) {
                        return self.ls_mount(&ns, found, &rest).await;
                    }
                }
            }
        }
        let ns = match arg {
            None => self.cwd.clone(),
            Some(a) => self.resolve(Some(a))?,
        };
        let (children, mounts, auths) = tokio::join!(
            tree::list_children(&self.client, &ns),
            self.mounts(&ns),
            self.auth_mounts(&ns)
        );
        let children = children?;
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        let mut names: Vec<(&String, &Value)> = children.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, info) in names {
            let locked = info.get("locked").and_then(Value::as_bool).unwrap_or(false);
            rows.push(vec![
                name.clone(),
                "namespace".into(),
                if locked {
                    "locked".into()
                } else {
                    String::new()
                },
            ]);
        }
        let mut json_mounts = Map::new();
        for (prefix, result) in [("", &mounts), ("auth/", &auths)] {
            match result {
                Ok(m) => {
                    for (path, info) in m {
                        let kind = body::mount_kind(info);
                        let desc = info
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        rows.push(vec![format!("{prefix}{path}"), kind, desc.to_string()]);
                        json_mounts.insert(format!("{prefix}{path}"), info.clone());
                    }
                }
                Err(e) => notes.push(format!("note: {prefix}mounts not shown: {e}")),
            }
        }
        Ok(Output {
            json: Some(json!({ "namespaces": children, "mounts": json_mounts })),
            view: View::Table {
                header: vec!["NAME".into(), "TYPE".into(), "INFO".into()],
                rows,
            },
            notes,
        })
    }

    async fn ls_mount(
        &self,
        ns: &NsPath,
        (mount, info): (String, Value),
        arg: &str,
    ) -> Result<Output, EngineError> {
        // `ls secret` names the mount `secret/` itself: nothing after it.
        let rest = arg
            .trim_start_matches('/')
            .get(mount.len()..)
            .unwrap_or_default()
            .trim_start_matches('/');
        let v2 = info
            .get("options")
            .and_then(|o| o.get("version"))
            .and_then(Value::as_str)
            == Some("2");
        let path = if v2 {
            format!("{mount}metadata/{rest}")
        } else {
            format!("{mount}{rest}")
        };
        let body = match self
            .client
            .request(Method::List, &ns.header(), &path, None)
            .await
        {
            Ok(body) => body,
            // An empty mount or folder lists as nothing, like an empty directory.
            Err(VaultError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let keys = body::data(body).get("keys").cloned().unwrap_or(json!([]));
        let text = keys
            .as_array()
            .map(|a| a.iter().map(cell).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        Ok(Output {
            json: Some(keys),
            view: View::Text(text),
            notes: vec![],
        })
    }

    async fn mounts(&self, ns: &NsPath) -> Result<Map<String, Value>, VaultError> {
        let body = self
            .client
            .request(Method::Get, &ns.header(), "sys/mounts", None)
            .await?;
        Ok(body::mounts(body.as_ref()))
    }

    async fn auth_mounts(&self, ns: &NsPath) -> Result<Map<String, Value>, VaultError> {
        let body = self
            .client
            .request(Method::Get, &ns.header(), "sys/auth", None)
            .await?;
        Ok(body::mounts(body.as_ref()))
    }

    async fn tree(&self, path: Option<&str>, depth: Option<usize>) -> Result<Output, EngineError> {
        let root = match path {
            None => self.cwd.clone(),
            Some(p) => self.resolve(Some(p))?,
        };
        let walk = tree::walk(&self.client, &root, depth, !self.options.no_scan).await?;
        let text = tree::render(&root.display(), &walk);
        let locked_skipped = !walk.scanned && walk.entries.iter().any(|e| e.locked);
        // Move, not copy, the entries into the JSON document (thousands of namespaces).
        let mut info = Map::new();
        for e in walk.entries {
            info.insert(e.path.header(), e.info);
        }
        let mut out = Output {
            json: Some(Value::Object(info)),
            view: View::Text(text),
            notes: vec![],
        };
        if locked_skipped {
            out.notes.push(
                "note: listed level by level; namespaces below a locked one cannot be listed"
                    .into(),
            );
        }
        Ok(out)
    }

    async fn ns_list(&self, detailed: bool) -> Result<Output, EngineError> {
        let children = tree::list_children(&self.client, &self.cwd).await?;
        Ok(ns_keys_output(children, detailed))
    }

    async fn ns_scan(&self, detailed: bool) -> Result<Output, EngineError> {
        let walk = tree::walk(&self.client, &self.cwd, None, !self.options.no_scan).await?;
        let mut info = Map::new();
        for e in walk.entries {
            info.insert(e.path.header(), e.info);
        }
        let mut out = ns_keys_output(info, detailed);
        if !walk.unlisted.is_empty() {
            out.notes.extend(
                walk.unlisted
                    .iter()
                    .map(|(ns, why)| format!("note: children of {ns} not listed: {why}")),
            );
        }
        Ok(out)
    }

    async fn lock(&mut self, sub: Option<&str>) -> Result<Output, EngineError> {
        let sub = match sub {
            Some(s) if !s.is_empty() => nspath::validate_name(s)?,
            _ => NsPath::root(),
        };
        let target = self.cwd.join(&sub);
        let path = if sub.is_root() {
            "sys/namespaces/api-lock/lock".to_string()
        } else {
            format!("sys/namespaces/api-lock/lock/{}", sub.display())
        };
        // The request and the saving of its key run as one task that a Ctrl-C cannot
        // stop half way: once the server has answered, the key reaches the store.
        let client = self.client.clone();
        let keys = self.keys.clone();
        let ns = self.cwd.header();
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
        if self.cwd.starts_with(&target) {
            self.locked = Some(target.clone());
        }
        let mut text = format!("Locked {target} and every namespace below it.\nUnlock key: {key}");
        let mut notes = Vec::new();
        match saved {
            Some(Ok(_)) => text.push_str(&format!(
                "\nThe key is saved in {}; `unlock` uses it.",
                self.keys.path().display()
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
        &mut self,
        sub: Option<&str>,
        key: Option<&str>,
    ) -> Result<Output, EngineError> {
        let sub = match sub {
            Some(s) if !s.is_empty() => nspath::validate_name(s)?,
            _ => NsPath::root(),
        };
        let target = self.cwd.join(&sub);
        let path = if sub.is_root() {
            "sys/namespaces/api-lock/unlock".to_string()
        } else {
            format!("sys/namespaces/api-lock/unlock/{}", sub.display())
        };
        let mut candidates: Vec<(String, String)> = Vec::new();
        let mut failures = Vec::new();
        match key {
            Some(k) => candidates.push((k.to_string(), "the given key".into())),
            None => match self.keys.find(self.client.addr(), &target.header()) {
                Ok(saved) => {
                    for saved in saved {
                        candidates
                            .push((saved.key, format!("the key saved at {}", saved.saved_at)));
                    }
                }
                // A store that cannot be read must not stop a sudo token during an incident.
                Err(e) => failures.push(format!("the key store could not be read ({e})")),
            },
        }
        for (k, how) in &candidates {
            let body = json!({ "unlock_key": k });
            match self.send(Method::Post, &path, Some(&body)).await {
                Ok(resp) => {
                    if key.is_none() {
                        let _ = self.keys.mark_used(self.client.addr(), &target.header(), k);
                    }
                    return Ok(self.unlocked(&target, resp.as_ref(), how));
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
        match self.send(Method::Post, &path, None).await {
            Ok(resp) => {
                let how = if failures.is_empty() {
                    "sudo (no key was saved for it)".to_string()
                } else {
                    format!("sudo ({})", failures.join("; "))
                };
                Ok(self.unlocked(&target, resp.as_ref(), &how))
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

    fn unlocked(&mut self, target: &NsPath, resp: Option<&Value>, how: &str) -> Output {
        if self.locked.as_ref() == Some(target) {
            self.locked = None;
        }
        let mut out = warnings_output(resp, "");
        out.view = View::Text(format!("Unlocked {target} with {how}."));
        out
    }

    async fn api(&mut self, op: ApiOp, path: &str, args: &[String]) -> Result<Output, EngineError> {
        // `-field=KEY` / `-format=json` (vault CLI style) travel in the arguments.
        let (flags, args) = ApiFlags::split(args).map_err(EngineError::Other)?;
        let args = args.as_slice();
        let route = self.route(path);
        let (method, body) = match op {
            ApiOp::Read => (Method::Get, None),
            ApiOp::List => (Method::List, None),
            ApiOp::Delete => (Method::Delete, None),
            ApiOp::Write => (Method::Put, Some(Value::Object(self.kv(args)?))),
            ApiOp::Patch => (Method::Patch, Some(Value::Object(self.kv(args)?))),
        };
        let resp = self
            .client
            .request(
                method,
                &route.namespace.header(),
                &route.path,
                body.as_ref(),
            )
            .await
            .map_err(|e| self.refused_above_top(&route, e))?;
        let mut out = match op {
            ApiOp::List => {
                let keys = body::data(resp).get("keys").cloned().unwrap_or(json!([]));
                let text = keys
                    .as_array()
                    .map(|a| a.iter().map(cell).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default();
                Output {
                    json: Some(keys),
                    view: View::Text(text),
                    notes: vec![],
                }
            }
            _ => match resp.map(raw_as_secret) {
                Some(body) if has_content(&body) => secret_output(&body),
                other => warnings_output(
                    other.as_ref(),
                    match op {
                        ApiOp::Delete => "deleted",
                        ApiOp::Read => "",
                        _ => "written",
                    },
                ),
            },
        };
        if let Some(note) = route.note {
            out.notes.insert(0, note);
        }
        flags.apply(out).map_err(EngineError::Other)
    }

    /// A root-only path sent to the root by a token whose top is below it: say why it
    /// was refused, instead of a bare "permission denied".
    fn refused_above_top(&self, route: &nspath::Route, e: VaultError) -> EngineError {
        let refused = matches!(e, VaultError::PermissionDenied { .. });
        match nspath::root_only_prefix(&route.path) {
            Some(prefix) if refused && route.namespace.is_root() && !self.top.is_root() => {
                EngineError::Other(format!(
                    "{e}\nnote: {prefix} is root-only, so it was sent to the root namespace; this token belongs to {} and cannot reach the root: ask an operator with a root-namespace token",
                    self.top
                ))
            }
            _ => e.into(),
        }
    }
}

/// The checks that need no server: a command that fails them sends nothing at all.
fn precheck(cmd: &Command) -> Result<(), EngineError> {
    match cmd {
        Command::NsCreate { name, .. } | Command::NsDelete(name) => {
            nspath::validate_name(name)?;
        }
        Command::Lock(Some(sub))
        | Command::Unlock {
            subpath: Some(sub), ..
        } if !sub.is_empty() => {
            nspath::validate_name(sub)?;
        }
        Command::NsLookup(name) | Command::NsPatch { name, .. } => {
            NsPath::parse(name)?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether `cmd` may reach outside the namespace the shell was started in (an absolute
/// path, `..`, a root-only path), or says where or who the session is (`pwd`, `whoami`):
/// the token's top must be known then.
fn may_leave_start(cmd: &Command) -> bool {
    let leaves = |arg: &Option<String>| {
        arg.as_deref()
            .is_some_and(|a| a.starts_with('/') || a.split('/').any(|s| s == ".."))
    };
    match cmd {
        Command::Cd(arg) | Command::Ls(arg) | Command::Tree { path: arg, .. } => leaves(arg),
        Command::Api { path, .. } => {
            // `..` climbs namespaces (nspath::try_route): the top must be known first.
            path.starts_with('/')
                || path.split('/').any(|s| s == "..")
                || nspath::root_only_prefix(path).is_some()
        }
        Command::Pwd | Command::Auth(crate::engine::auth::Auth::Whoami) | Command::Explore(_) => {
            true
        }
        _ => false,
    }
}

fn help(topic: Option<&str>) -> Result<Output, EngineError> {
    match topic {
        None => {
            let rows = all_commands()
                .map(|c| vec![c.name.to_string(), c.help.to_string()])
                .collect();
            let json = all_commands()
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
        Some(t) => all_commands()
            .find(|c| c.name == t)
            .map(|c| Output::text(format!("usage: {}\n{}", c.usage, c.help)))
            .ok_or_else(|| {
                EngineError::Other(format!("help: no command `{t}`; `help` lists them"))
            }),
    }
}

/// As the Go client's `ParseSecret`: a body with none of a Secret's fields (`sys/health`,
/// `sys/leader`) is taken as the `data` of an otherwise empty Secret.
fn raw_as_secret(body: Value) -> Value {
    const SECRET_FIELDS: [&str; 9] = [
        "request_id",
        "lease_id",
        "lease_duration",
        "renewable",
        "data",
        "warnings",
        "auth",
        "wrap_info",
        "mount_type",
    ];
    let zero = |v: &Value| match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    };
    match body {
        Value::Object(m)
            if !m.is_empty() && SECRET_FIELDS.iter().all(|f| m.get(*f).is_none_or(zero)) =>
        {
            json!({ "data": m })
        }
        other => other,
    }
}

fn has_content(body: &Value) -> bool {
    ["data", "auth", "wrap_info"]
        .iter()
        .any(|k| body.get(*k).is_some_and(|v| !v.is_null()))
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
    let rows: Vec<Vec<String>> = info
        .iter()
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

/// What `bao read -format=json` prints: the Go client's Secret, fields in its order.
fn secret_output(body: &Value) -> Output {
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let mut secret = Map::new();
    secret.insert(
        "request_id".into(),
        body.get("request_id").cloned().unwrap_or(json!("")),
    );
    secret.insert(
        "lease_id".into(),
        body.get("lease_id").cloned().unwrap_or(json!("")),
    );
    secret.insert(
        "lease_duration".into(),
        body.get("lease_duration").cloned().unwrap_or(json!(0)),
    );
    secret.insert(
        "renewable".into(),
        body.get("renewable").cloned().unwrap_or(json!(false)),
    );
    secret.insert("data".into(), get("data"));
    secret.insert("warnings".into(), get("warnings"));
    for optional in ["auth", "wrap_info"] {
        if body.get(optional).is_some_and(|v| !v.is_null()) {
            secret.insert(optional.into(), get(optional));
        }
    }
    if let Some(m) = body
        .get("mount_type")
        .filter(|m| m.as_str().is_some_and(|s| !s.is_empty()))
    {
        secret.insert("mount_type".into(), m.clone());
    }
    let mut rows = Vec::new();
    if let Some(d) = body.get("data").and_then(Value::as_object) {
        rows.extend(d.iter().map(|(k, v)| vec![k.clone(), cell(v)]));
    }
    if let Some(a) = body.get("auth").and_then(Value::as_object) {
        for (k, v) in a {
            // Never print a client token in a table; JSON mode is explicit.
            let shown = if k == "client_token" {
                "(hidden; use --format json)".to_string()
            } else {
                cell(v)
            };
            rows.push(vec![format!("auth.{k}"), shown]);
        }
    }
    let notes = warnings(body);
    Output {
        json: Some(Value::Object(secret)),
        view: View::Table {
            header: vec!["KEY".into(), "VALUE".into()],
            rows,
        },
        notes,
    }
}

fn warnings(body: &Value) -> Vec<String> {
    body.get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().map(|m| format!("warning: {}", cell(m))).collect())
        .unwrap_or_default()
}

/// No data: print the server's warnings (as a JSON list in JSON mode), else nothing.
fn warnings_output(body: Option<&Value>, verb: &str) -> Output {
    let list = body
        .and_then(|b| b.get("warnings"))
        .filter(|w| w.as_array().is_some_and(|a| !a.is_empty()))
        .cloned();
    let notes = body.map(warnings).unwrap_or_default();
    Output {
        json: list.map(|w| json!({ "warnings": w })),
        view: if verb.is_empty() {
            View::Empty
        } else {
            View::Text(format!("Success! Data {verb}."))
        },
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_output_keeps_go_field_order_and_drops_nulls() {
        let body = json!({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,
            "data":{"a":"1"},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"});
        let out = secret_output(&body);
        assert_eq!(
            serde_json::to_string(&out.json.unwrap()).unwrap(),
            r#"{"request_id":"r","lease_id":"","lease_duration":0,"renewable":false,"data":{"a":"1"},"warnings":null,"mount_type":"kv"}"#
        );
    }

    #[test]
    fn help_knows_each_command() {
        for c in all_commands() {
            assert!(help(Some(c.name)).is_ok());
        }
        assert!(help(Some("nope")).is_err());
    }
}
