//! The unlock-key store: a JSON file of saved unlock keys, written atomically under a lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    chmod_600, ensure_dir, io_err, now_rfc3339, parent_dir, sync_dir, temp_path, unique_token,
    StoreError, FILE_MODE, KEYS_VERSION,
};

/// A lock file older than this is taken to be left behind by a crashed vnsh and broken.
const STALE_LOCK: Duration = Duration::from_secs(30);
/// How long `KeyStore` waits for the lock before giving up (longer than `STALE_LOCK`,
/// so a lock left by a crash is always broken rather than reported).
const LOCK_WAIT: Duration = Duration::from_secs(35);
/// Pause between two attempts at the lock.
const LOCK_RETRY: Duration = Duration::from_millis(5);

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

#[cfg(test)]
mod tests {
    use super::super::testutil::mode;
    use super::super::StateDir;
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    fn store_in(dir: &Path) -> KeyStore {
        StateDir::at(dir).key_store()
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
}
