//! The state files of vnsh: the state dir, the unlock-key store and the action log.
//!
//! Everything lives under `$XDG_STATE_HOME/vnsh` (default `~/.local/state/vnsh`), in a
//! directory only the user can enter (0700), in files only the user can read (0600).
//!
//! The unlock-key store is the one file whose loss would hurt: a lock returns an unlock
//! key, and losing it means only a sudo token can unlock the namespace again. So it is
//! written atomically (temp file, fsync, rename, fsync of the directory), under a lock
//! file so that two vnsh processes cannot lose each other's keys, nothing is ever removed
//! from it, and a file this vnsh cannot read is never overwritten.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version of the unlock-key store this vnsh reads and writes.
pub const KEYS_VERSION: u64 = 1;

/// Mode of every state file.
const FILE_MODE: u32 = 0o600;
/// Mode of the state directory.
const DIR_MODE: u32 = 0o700;
/// A lock file older than this is taken to be left behind by a crashed vnsh and broken.
const STALE_LOCK: Duration = Duration::from_secs(30);
/// How long `KeyStore` waits for the lock before giving up (longer than `STALE_LOCK`,
/// so a lock left by a crash is always broken rather than reported).
const LOCK_WAIT: Duration = Duration::from_secs(35);
/// Pause between two attempts at the lock.
const LOCK_RETRY: Duration = Duration::from_millis(5);

/// Errors of the state files.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither `XDG_STATE_HOME` nor `HOME` is set.
    #[error(
        "cannot tell where to keep the vnsh state (history, unlock keys, action log): \
         neither XDG_STATE_HOME nor HOME is set; set one of them"
    )]
    NoHome,
    /// A file system operation on a state file failed.
    #[error("vnsh state file {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The unlock-key store does not parse; it is left untouched.
    #[error(
        "the unlock-key store {} is corrupt ({reason}); it was left untouched — move it aside \
         to save new keys, and keep it: it may hold unlock keys",
        path.display()
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The unlock-key store was written by a vnsh with a newer format; it is left untouched.
    #[error(
        "the unlock-key store {} has format version {version}, this vnsh only knows version {}; \
         it was left untouched — use a newer vnsh, or move it aside (and keep it: it holds \
         unlock keys) to save new keys",
        path.display(),
        KEYS_VERSION
    )]
    UnsupportedVersion {
        /// The store file.
        path: PathBuf,
        /// The version found in it.
        version: String,
    },
    /// Another vnsh held the unlock-key store's lock for too long.
    #[error(
        "the unlock-key store is busy: the lock file {} is held by another vnsh (waited {}); \
         if no other vnsh is running, remove that file and try again",
        path.display(),
        humantime::format_duration(*waited)
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long this vnsh waited.
        waited: Duration,
    },
}

/// Shorthand: wrap an `io::Error` with the path it happened on.
fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where vnsh keeps its state.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// From the environment: $XDG_STATE_HOME/vnsh, else $HOME/.local/state/vnsh; error if neither is set.
    pub fn from_env() -> Result<StateDir, StoreError> {
        Self::from_vars(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
    }

    /// The rule of `from_env`, on given values (an empty or relative XDG_STATE_HOME is ignored, as XDG says).
    fn from_vars(xdg: Option<OsString>, home: Option<OsString>) -> Result<StateDir, StoreError> {
        if let Some(xdg) = xdg.filter(|v| !v.is_empty()) {
            let xdg = PathBuf::from(xdg);
            if xdg.is_absolute() {
                return Ok(StateDir::at(xdg.join("vnsh")));
            }
        }
        match home.filter(|v| !v.is_empty()) {
            Some(home) => Ok(StateDir::at(
                PathBuf::from(home)
                    .join(".local")
                    .join("state")
                    .join("vnsh"),
            )),
            None => Err(StoreError::NoHome),
        }
    }

    /// A state dir at an explicit place.
    pub fn at(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the dir (mode 0700) if missing, and take group and other access away if present.
    pub fn ensure(&self) -> Result<(), StoreError> {
        ensure_dir(&self.root)?;
        let meta = fs::metadata(&self.root).map_err(io_err(&self.root))?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(&self.root, fs::Permissions::from_mode(DIR_MODE))
                .map_err(io_err(&self.root))?;
        }
        Ok(())
    }

    /// The line-editor history: root/history (create it with `secure_file`).
    pub fn history_file(&self) -> PathBuf {
        self.root.join("history")
    }

    /// The unlock-key store: root/unlock-keys.json.
    pub fn keys_file(&self) -> PathBuf {
        self.root.join("unlock-keys.json")
    }

    /// The action log: root/actions.jsonl.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("actions.jsonl")
    }

    /// The unlock-key store of this state dir.
    pub fn key_store(&self) -> KeyStore {
        KeyStore::new(self.keys_file())
    }

    /// The action log of this state dir.
    pub fn action_log(&self) -> ActionLog {
        ActionLog::new(self.log_file())
    }
}

/// Create a directory and its missing parents with mode 0700.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io_err(dir))
}

/// The directory a file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Give an open file mode 0600 if it has another.
fn chmod_600(file: &File, path: &Path) -> Result<(), StoreError> {
    let meta = file.metadata().map_err(io_err(path))?;
    if meta.permissions().mode() & 0o777 != FILE_MODE {
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
            .map_err(io_err(path))?;
    }
    Ok(())
}

/// Create the file if missing with mode 0600, chmod it to 0600 if present (its content is kept).
pub fn secure_file(path: &Path) -> Result<(), StoreError> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_err(path))?;
    chmod_600(&file, path)
}

/// Now, as RFC 3339 UTC to the second.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A namespace path in the canonical form: `a/b/`, the root as `""`.
fn canonical_ns(ns: &str) -> String {
    let mut out = String::new();
    for part in ns.trim().split('/').filter(|p| !p.is_empty()) {
        out.push_str(part);
        out.push('/');
    }
    out
}

/// A server address as compared: without surrounding blanks or trailing slashes.
fn canonical_server(server: &str) -> String {
    server.trim().trim_end_matches('/').to_string()
}

/// One saved unlock key.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedKey {
    /// The server address the namespace lives on.
    pub server: String,
    /// The full namespace path, canonical `a/b/` form.
    pub namespace: String,
    /// The unlock key itself.
    pub key: String,
    /// When it was saved, RFC 3339 UTC.
    pub saved_at: String,
    /// True once an unlock with it succeeded; the entry is never deleted.
    #[serde(default)]
    pub used: bool,
}

impl std::fmt::Debug for SavedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedKey")
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("key", &"***")
            .field("saved_at", &self.saved_at)
            .field("used", &self.used)
            .finish()
    }
}

impl SavedKey {
    /// Whether this key belongs to that server and namespace (both compared in canonical form).
    fn is_for(&self, server: &str, namespace: &str) -> bool {
        canonical_server(&self.server) == canonical_server(server)
            && canonical_ns(&self.namespace) == canonical_ns(namespace)
    }
}

/// The unlock-key store: a JSON file `{"version":1,"keys":[…]}`, mode 0600, written atomically.
///
/// Keys are never dropped: `save` appends, `mark_used` flags. Fields this vnsh does not
/// know (written by a newer one) are kept as they are when the file is rewritten. A file
/// that does not parse is never overwritten.
#[derive(Debug, Clone)]
pub struct KeyStore {
    path: PathBuf,
    lock_wait: Duration,
}

/// The parsed store: the raw document (kept whole, so unknown fields survive) and its keys.
struct Document {
    raw: Value,
    keys: Vec<SavedKey>,
}

impl KeyStore {
    /// The store in that file.
    pub fn new(path: PathBuf) -> KeyStore {
        KeyStore {
            path,
            lock_wait: LOCK_WAIT,
        }
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file guarding writes: the store path with `.lock` appended.
    pub fn lock_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// How long to wait for the lock (tests shorten it).
    #[cfg(test)]
    fn with_lock_wait(mut self, wait: Duration) -> KeyStore {
        self.lock_wait = wait;
        self
    }

    /// Read all keys, in the order saved; a missing (or empty) file is an empty store, one that does not parse is `Corrupt`.
    pub fn load(&self) -> Result<Vec<SavedKey>, StoreError> {
        Ok(self.read_doc()?.map(|d| d.keys).unwrap_or_default())
    }

    /// Append a key (under the lock: load, push, atomic write); returns once it is durable on disk.
    pub fn save(&self, server: &str, namespace: &str, key: &str) -> Result<SavedKey, StoreError> {
        let saved = SavedKey {
            server: canonical_server(server),
            namespace: canonical_ns(namespace),
            key: key.to_string(),
            saved_at: now_rfc3339(),
            used: false,
        };
        let entry = serde_json::to_value(&saved).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        ensure_dir(parent_dir(&self.path))?;
        let _lock = self.lock()?;
        let mut raw = match self.read_doc()? {
            Some(doc) => doc.raw,
            None => serde_json::json!({ "version": KEYS_VERSION, "keys": [] }),
        };
        match raw.get_mut("keys").and_then(Value::as_array_mut) {
            Some(keys) => keys.push(entry),
            // read_doc checked the shape; keep the promise never to overwrite a file it did not understand.
            None => return Err(self.corrupt("\"keys\" is not an array")),
        }
        self.write_atomic(&raw)?;
        Ok(saved)
    }

    /// Keys for this server and namespace, newest (most recently saved) first, used ones included.
    pub fn find(&self, server: &str, namespace: &str) -> Result<Vec<SavedKey>, StoreError> {
        let mut keys: Vec<SavedKey> = self
            .load()?
            .into_iter()
            .filter(|k| k.is_for(server, namespace))
            .collect();
        keys.reverse();
        Ok(keys)
    }

    /// Mark the key (server, namespace, key) as used after a successful unlock; the entry stays, an unknown key is no change.
    pub fn mark_used(&self, server: &str, namespace: &str, key: &str) -> Result<(), StoreError> {
        if !self
            .load()?
            .iter()
            .any(|k| k.is_for(server, namespace) && k.key == key && !k.used)
        {
            return Ok(());
        }
        let _lock = self.lock()?;
        let Some(doc) = self.read_doc()? else {
            return Ok(());
        };
        let mut raw = doc.raw;
        let mut changed = false;
        if let Some(entries) = raw.get_mut("keys").and_then(Value::as_array_mut) {
            for (entry, parsed) in entries.iter_mut().zip(&doc.keys) {
                if parsed.is_for(server, namespace) && parsed.key == key && !parsed.used {
                    if let Some(obj) = entry.as_object_mut() {
                        obj.insert("used".to_string(), Value::Bool(true));
                        changed = true;
                    }
                }
            }
        }
        if changed {
            self.write_atomic(&raw)?;
        }
        Ok(())
    }

    /// A `Corrupt` error for this store.
    fn corrupt(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    /// Read and check the file; `None` when it is missing or empty.
    fn read_doc(&self) -> Result<Option<Document>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // Nothing in it, so nothing to lose by writing over it.
            return Ok(None);
        }
        let raw: Value = serde_json::from_slice(&bytes)
            .map_err(|e| self.corrupt(format!("not valid JSON: {e}")))?;
        let obj = raw
            .as_object()
            .ok_or_else(|| self.corrupt("the top level is not a JSON object"))?;
        match obj.get("version") {
            Some(v) if v.as_u64() == Some(KEYS_VERSION) => {}
            Some(Value::Number(n)) => {
                return Err(StoreError::UnsupportedVersion {
                    path: self.path.clone(),
                    version: n.to_string(),
                })
            }
            Some(other) => return Err(self.corrupt(format!("\"version\" is {other}"))),
            None => return Err(self.corrupt("no \"version\"")),
        }
        let entries = obj
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| self.corrupt("\"keys\" is missing or not an array"))?;
        let mut keys = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let key = SavedKey::deserialize(entry)
                .map_err(|e| self.corrupt(format!("entry {} of \"keys\": {e}", i + 1)))?;
            keys.push(key);
        }
        Ok(Some(Document { raw, keys }))
    }

    /// Replace the file atomically: temp file (0600) in the same dir, fsync, rename over, fsync the dir.
    fn write_atomic(&self, doc: &Value) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec_pretty(doc).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        let dir = parent_dir(&self.path);
        let tmp = temp_path(&self.path);
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&tmp)
                .map_err(io_err(&tmp))?;
            chmod_600(&file, &tmp)?;
            file.write_all(&bytes).map_err(io_err(&tmp))?;
            file.sync_all().map_err(io_err(&tmp))?;
            fs::rename(&tmp, &self.path).map_err(io_err(&self.path))
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_dir(dir)
    }

    /// Take the lock file, waiting for another holder and breaking a stale lock.
    fn lock(&self) -> Result<LockGuard, StoreError> {
        let path = self.lock_path();
        let token = unique_token();
        let start = Instant::now();
        loop {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&path)
            {
                Ok(mut file) => {
                    let guard = LockGuard {
                        path: path.clone(),
                        token: token.clone(),
                    };
                    file.write_all(token.as_bytes()).map_err(io_err(&path))?;
                    return Ok(guard);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if lock_is_stale(&path) {
                        match fs::remove_file(&path) {
                            Ok(()) => continue,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(io_err(&path)(e)),
                        }
                    }
                    let waited = start.elapsed();
                    if waited >= self.lock_wait {
                        return Err(StoreError::Locked { path, waited });
                    }
                    std::thread::sleep(LOCK_RETRY);
                }
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
    }
}

/// The held lock of a `KeyStore`; dropping it removes the lock file if it is still ours.
struct LockGuard {
    path: PathBuf,
    token: String,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let mut content = String::new();
        let ours = File::open(&self.path)
            .and_then(|mut f| f.read_to_string(&mut content))
            .map(|_| content == self.token)
            .unwrap_or(false);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether a lock file was left long enough ago to be taken as abandoned.
fn lock_is_stale(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() > STALE_LOCK)
        .unwrap_or(false)
}

/// A string no other lock holder or temp file has: pid, time and a counter.
fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh temp file name next to `path`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(path).join(format!(".{name}.tmp-{}", unique_token()))
}

/// fsync a directory, so that a rename or a creation in it is durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let file = File::open(dir).map_err(io_err(dir))?;
    match file.sync_all() {
        Ok(()) => Ok(()),
        // Some file systems cannot sync a directory; the data itself is synced.
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                || e.kind() == io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// One line of the action log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Action {
    /// When, RFC 3339 UTC to the second.
    pub time: String,
    /// The server address.
    pub server: String,
    /// The namespace the command ran in.
    pub namespace: String,
    /// The command line, already redacted by the caller.
    pub command: String,
    /// `ok` or `error: …`.
    pub outcome: String,
}

/// The action log: JSON lines appended (O_APPEND, 0600, fsync after each line).
#[derive(Debug, Clone)]
pub struct ActionLog {
    path: PathBuf,
}

impl ActionLog {
    /// The log in that file.
    pub fn new(path: PathBuf) -> ActionLog {
        ActionLog { path }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one action as one line and sync it; `command` must already be redacted.
    pub fn append(
        &self,
        server: &str,
        namespace: &str,
        command: &str,
        outcome: &str,
    ) -> Result<Action, StoreError> {
        let action = Action {
            time: now_rfc3339(),
            server: server.to_string(),
            namespace: namespace.to_string(),
            command: command.to_string(),
            outcome: outcome.to_string(),
        };
        let mut line = serde_json::to_vec(&action).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        ensure_dir(parent_dir(&self.path))?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        chmod_600(&file, &self.path)?;
        // A line cut short by a crash must not swallow this one: start on a fresh line.
        let len = file.metadata().map_err(io_err(&self.path))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1)
                .map_err(io_err(&self.path))?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        // One write of the whole line: with O_APPEND, lines of two writers do not interleave.
        file.write_all(&line).map_err(io_err(&self.path))?;
        file.sync_data().map_err(io_err(&self.path))?;
        Ok(action)
    }

    /// Entries, oldest first, only those at or after `since` (to the second); lines that do not parse are skipped and counted.
    pub fn read(&self, since: Option<SystemTime>) -> Result<(Vec<Action>, usize), StoreError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        // The log keeps whole seconds: an entry in the same second as `since` counts as after it.
        let since = since.map(|t| {
            let secs = t
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            UNIX_EPOCH + Duration::from_secs(secs)
        });
        let mut reader = BufReader::new(file);
        let mut entries = Vec::new();
        let mut skipped = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(io_err(&self.path))?;
            if n == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = serde_json::from_slice::<Action>(&line)
                .ok()
                .and_then(|a| humantime::parse_rfc3339_weak(&a.time).ok().map(|t| (a, t)));
            match parsed {
                Some((action, time)) => {
                    if since.is_none_or(|s| time >= s) {
                        entries.push(action);
                    }
                }
                None => skipped += 1,
            }
        }
        Ok((entries, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn store_in(dir: &Path) -> KeyStore {
        StateDir::at(dir).key_store()
    }

    #[test]
    fn from_vars_prefers_xdg_then_home() {
        let d = StateDir::from_vars(Some("/x/state".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/x/state/vnsh"));
        let d = StateDir::from_vars(None, Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        let d = StateDir::from_vars(Some("".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        let d = StateDir::from_vars(Some("rel".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        assert!(matches!(
            StateDir::from_vars(None, None),
            Err(StoreError::NoHome)
        ));
        assert!(matches!(
            StateDir::from_vars(Some("".into()), Some("".into())),
            Err(StoreError::NoHome)
        ));
    }

    #[test]
    fn file_names() {
        let d = StateDir::at("/s");
        assert_eq!(d.history_file(), Path::new("/s/history"));
        assert_eq!(d.keys_file(), Path::new("/s/unlock-keys.json"));
        assert_eq!(d.log_file(), Path::new("/s/actions.jsonl"));
        assert_eq!(
            d.key_store().lock_path(),
            Path::new("/s/unlock-keys.json.lock")
        );
    }

    #[test]
    fn ensure_creates_dir_0700_and_tightens() {
        let tmp = tempfile::tempdir().unwrap();
        let d = StateDir::at(tmp.path().join("a/b/vnsh"));
        d.ensure().unwrap();
        assert!(d.root().is_dir());
        assert_eq!(mode(d.root()), 0o700);
        fs::set_permissions(d.root(), fs::Permissions::from_mode(0o755)).unwrap();
        d.ensure().unwrap();
        assert_eq!(mode(d.root()), 0o700);
        // A second call on an existing dir is fine.
        d.ensure().unwrap();
    }

    #[test]
    fn ensure_on_a_file_is_an_io_error() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("vnsh");
        fs::write(&f, "x").unwrap();
        let err = StateDir::at(&f).ensure().unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("vnsh"));
    }

    #[test]
    fn secure_file_creates_and_chmods_keeping_content() {
        let tmp = tempfile::tempdir().unwrap();
        let h = StateDir::at(tmp.path()).history_file();
        secure_file(&h).unwrap();
        assert_eq!(mode(&h), 0o600);
        fs::write(&h, "ls\n").unwrap();
        fs::set_permissions(&h, fs::Permissions::from_mode(0o644)).unwrap();
        secure_file(&h).unwrap();
        assert_eq!(mode(&h), 0o600);
        assert_eq!(fs::read_to_string(&h).unwrap(), "ls\n");
    }

    #[test]
    fn save_then_load() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        assert!(s.load().unwrap().is_empty());
        let k = s.save("http://127.0.0.1:8200", "ns1/ns2/", "KEY1").unwrap();
        assert_eq!(k.key, "KEY1");
        assert_eq!(k.namespace, "ns1/ns2/");
        assert!(!k.used);
        assert!(
            humantime::parse_rfc3339(&k.saved_at).is_ok(),
            "{}",
            k.saved_at
        );
        assert_eq!(s.load().unwrap(), vec![k.clone()]);
        let raw: Value = serde_json::from_slice(&fs::read(s.path()).unwrap()).unwrap();
        assert_eq!(raw["version"], 1);
        assert_eq!(raw["keys"][0]["key"], "KEY1");
    }

    #[test]
    fn save_creates_missing_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let d = StateDir::at(tmp.path().join("deep/vnsh"));
        d.key_store().save("s", "a", "K").unwrap();
        assert_eq!(mode(d.root()), 0o700);
        assert_eq!(d.key_store().load().unwrap().len(), 1);
    }

    #[test]
    fn keys_file_is_0600_and_no_temp_left() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        s.save("s", "a/", "K1").unwrap();
        s.save("s", "a/", "K2").unwrap();
        s.mark_used("s", "a/", "K1").unwrap();
        assert_eq!(mode(s.path()), 0o600);
        let names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["unlock-keys.json".to_string()]);
    }

    #[test]
    fn rewrite_tightens_loose_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        s.save("s", "a/", "K1").unwrap();
        fs::set_permissions(s.path(), fs::Permissions::from_mode(0o644)).unwrap();
        s.save("s", "a/", "K2").unwrap();
        assert_eq!(mode(s.path()), 0o600);
    }

    #[test]
    fn find_is_newest_first_and_filters() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        s.save("http://a:8200", "t1/", "K1").unwrap();
        s.save("http://b:8200", "t1/", "OTHER-SERVER").unwrap();
        s.save("http://a:8200", "t2/", "OTHER-NS").unwrap();
        s.save("http://a:8200", "t1/", "K2").unwrap();
        s.save("http://a:8200", "t1/", "K3").unwrap();
        let keys: Vec<String> = s
            .find("http://a:8200", "t1/")
            .unwrap()
            .into_iter()
            .map(|k| k.key)
            .collect();
        assert_eq!(keys, vec!["K3", "K2", "K1"]);
        // Canonical forms match: trailing slashes, leading slash.
        assert_eq!(s.find("http://a:8200/", "/t1").unwrap().len(), 3);
        assert!(s.find("http://a:8200", "t3/").unwrap().is_empty());
    }

    #[test]
    fn namespace_is_stored_canonical() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        assert_eq!(s.save("s", "/a//b", "K").unwrap().namespace, "a/b/");
        assert_eq!(s.save("s", "/", "R").unwrap().namespace, "");
        assert_eq!(s.find("s", "").unwrap()[0].key, "R");
    }

    #[test]
    fn mark_used_keeps_the_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        s.save("s", "a/", "K1").unwrap();
        s.save("s", "a/", "K2").unwrap();
        s.mark_used("s", "a/", "K1").unwrap();
        let all = s.load().unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].used && all[0].key == "K1");
        assert!(!all[1].used);
        // Again, and for an unknown key: no change, no error.
        let before = fs::read(s.path()).unwrap();
        s.mark_used("s", "a/", "K1").unwrap();
        s.mark_used("s", "a/", "NOPE").unwrap();
        assert_eq!(fs::read(s.path()).unwrap(), before);
        // On a missing store: nothing to do.
        let empty = store_in(&tmp.path().join("none"));
        empty.mark_used("s", "a/", "K").unwrap();
        assert!(!empty.path().exists());
    }

    #[test]
    fn corrupt_store_is_reported_and_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let bad =
            b"{\"version\":1,\"keys\":[{\"server\":\"s\",\"namespace\":\"a/\",\"key\":\"PRECIOUS\"";
        fs::write(s.path(), bad).unwrap();
        let err = s.load().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("unlock-keys.json"), "{msg}");
        assert!(msg.contains("left untouched"), "{msg}");
        assert!(msg.contains("move it aside"), "{msg}");
        assert!(matches!(
            s.save("s", "a/", "NEW"),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            s.mark_used("s", "a/", "PRECIOUS"),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(s.find("s", "a/"), Err(StoreError::Corrupt { .. })));
        assert_eq!(fs::read(s.path()).unwrap(), bad);
        assert!(!s.lock_path().exists());
        // Moved aside, saving works again.
        fs::rename(s.path(), tmp.path().join("aside.json")).unwrap();
        s.save("s", "a/", "NEW").unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
    }

    #[test]
    fn wrong_shapes_are_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        for bad in [
            "[]",
            "{\"keys\":[]}",
            "{\"version\":\"1\",\"keys\":[]}",
            "{\"version\":1}",
            "{\"version\":1,\"keys\":{}}",
            "{\"version\":1,\"keys\":[{\"server\":\"s\"}]}",
            "\u{feff}garbage",
        ] {
            fs::write(s.path(), bad).unwrap();
            assert!(matches!(s.load(), Err(StoreError::Corrupt { .. })), "{bad}");
            assert!(s.save("s", "a/", "K").is_err(), "{bad}");
            assert_eq!(fs::read_to_string(s.path()).unwrap(), bad);
        }
        fs::write(s.path(), [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(s.load(), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn newer_version_is_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let doc = "{\"version\":2,\"keys\":[]}";
        fs::write(s.path(), doc).unwrap();
        let err = s.save("s", "a/", "K").unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedVersion { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("version 2"), "{err}");
        assert_eq!(fs::read_to_string(s.path()).unwrap(), doc);
    }

    #[test]
    fn empty_file_is_an_empty_store() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        fs::write(s.path(), "\n").unwrap();
        assert!(s.load().unwrap().is_empty());
        s.save("s", "a/", "K").unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
    }

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        fs::write(
            s.path(),
            r#"{"version":1,"note":"hi","keys":[{"server":"s","namespace":"a/","key":"K0","saved_at":"2024-01-01T00:00:00Z","label":"x"}]}"#,
        )
        .unwrap();
        s.save("s", "a/", "K1").unwrap();
        s.mark_used("s", "a/", "K0").unwrap();
        let raw: Value = serde_json::from_slice(&fs::read(s.path()).unwrap()).unwrap();
        assert_eq!(raw["note"], "hi");
        assert_eq!(raw["keys"][0]["label"], "x");
        assert_eq!(raw["keys"][0]["used"], true);
        assert_eq!(raw["keys"][1]["key"], "K1");
    }

    #[test]
    fn debug_hides_the_key() {
        let k = SavedKey {
            server: "s".into(),
            namespace: "a/".into(),
            key: "SUPERSECRET".into(),
            saved_at: "2024-01-01T00:00:00Z".into(),
            used: false,
        };
        let dbg = format!("{k:?} {k:#?}");
        assert!(!dbg.contains("SUPERSECRET"), "{dbg}");
        assert!(dbg.contains("***"), "{dbg}");
        assert!(dbg.contains("a/"), "{dbg}");
    }

    #[test]
    fn concurrent_saves_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Arc::new(store_in(tmp.path()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for i in 0..15 {
                        s.save("s", "a/", &format!("K{t}-{i}")).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut keys: Vec<String> = s.load().unwrap().into_iter().map(|k| k.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 60);
        assert!(!s.lock_path().exists());
    }

    #[test]
    fn a_held_lock_makes_save_wait_then_fail() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path()).with_lock_wait(Duration::from_millis(100));
        fs::write(s.lock_path(), "someone else").unwrap();
        let err = s.save("s", "a/", "K").unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        assert!(err.to_string().contains("remove that file"), "{err}");
        // The other holder's lock is left alone, and nothing was written.
        assert_eq!(fs::read_to_string(s.lock_path()).unwrap(), "someone else");
        assert!(!s.path().exists());
    }

    #[test]
    fn a_lock_released_while_waiting_is_taken() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        fs::write(s.lock_path(), "someone else").unwrap();
        let lock = s.lock_path();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            fs::remove_file(lock).unwrap();
        });
        s.save("s", "a/", "K").unwrap();
        releaser.join().unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
    }

    #[test]
    fn a_stale_lock_is_broken() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path()).with_lock_wait(Duration::from_millis(100));
        let f = File::create(s.lock_path()).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
        drop(f);
        s.save("s", "a/", "K").unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
        assert!(!s.lock_path().exists());
    }

    #[test]
    fn action_log_append_and_read() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        assert_eq!(log.read(None).unwrap(), (vec![], 0));
        let a1 = log.append("http://a:8200", "t1/", "lock", "ok").unwrap();
        let a2 = log
            .append("http://a:8200", "t1/", "ns delete x\ny", "error: denied")
            .unwrap();
        assert_eq!(mode(log.path()), 0o600);
        let text = fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        let (entries, skipped) = log.read(None).unwrap();
        assert_eq!(entries, vec![a1, a2]);
        assert_eq!(skipped, 0);
    }

    #[test]
    fn action_log_tightens_loose_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        fs::write(log.path(), "").unwrap();
        fs::set_permissions(log.path(), fs::Permissions::from_mode(0o644)).unwrap();
        log.append("s", "", "lock", "ok").unwrap();
        assert_eq!(mode(log.path()), 0o600);
    }

    #[test]
    fn action_log_since_and_garbage() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        let line = |time: &str, cmd: &str| {
            serde_json::to_string(&Action {
                time: time.into(),
                server: "s".into(),
                namespace: "a/".into(),
                command: cmd.into(),
                outcome: "ok".into(),
            })
            .unwrap()
        };
        let content = [
            line("2024-01-01T00:00:00Z", "old"),
            "this is not json".to_string(),
            String::new(),
            line("2024-06-01T12:00:00Z", "mid"),
            line("not a time", "badtime"),
            "{\"time\":\"2024-06-01T12:00:00Z\"}".to_string(),
            line("2024-12-31T23:59:59Z", "new"),
            "{\"trunc".to_string(),
        ]
        .join("\n");
        fs::write(log.path(), content).unwrap();
        let cmds = |v: Vec<Action>| v.into_iter().map(|a| a.command).collect::<Vec<_>>();

        let (all, skipped) = log.read(None).unwrap();
        assert_eq!(cmds(all), vec!["old", "mid", "new"]);
        assert_eq!(skipped, 4);

        let since = humantime::parse_rfc3339("2024-06-01T12:00:00Z").unwrap();
        let (some, skipped) = log.read(Some(since)).unwrap();
        assert_eq!(cmds(some), vec!["mid", "new"]);
        assert_eq!(skipped, 4);

        // Within the same second counts as at-or-after.
        let (some, _) = log.read(Some(since + Duration::from_millis(500))).unwrap();
        assert_eq!(cmds(some), vec!["mid", "new"]);

        let (none, _) = log
            .read(Some(
                humantime::parse_rfc3339("2025-01-01T00:00:00Z").unwrap(),
            ))
            .unwrap();
        assert!(none.is_empty());

        // Appending after a truncated last line still yields a readable entry.
        let a = log.append("s", "a/", "after", "ok").unwrap();
        let (entries, skipped) = log.read(None).unwrap();
        assert_eq!(entries.last(), Some(&a));
        assert_eq!(skipped, 4);
    }

    #[test]
    fn action_log_since_now() {
        let tmp = tempfile::tempdir().unwrap();
        let log = ActionLog::new(tmp.path().join("x/actions.jsonl"));
        let before = SystemTime::now();
        log.append("s", "", "lock", "ok").unwrap();
        assert_eq!(log.read(Some(before)).unwrap().0.len(), 1);
        let later = SystemTime::now() + Duration::from_secs(3600);
        assert!(log.read(Some(later)).unwrap().0.is_empty());
    }

    #[test]
    fn error_messages_are_specific() {
        let e = StoreError::NoHome.to_string();
        assert!(e.contains("XDG_STATE_HOME") && e.contains("HOME"), "{e}");
        let e = StoreError::Io {
            path: "/s/actions.jsonl".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        }
        .to_string();
        assert!(e.contains("/s/actions.jsonl"), "{e}");
    }
}
