//! The unlock-key store: a JSON file of saved unlock keys, written atomically under a lock.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    ensure_dir, lock, now_rfc3339, parent_dir, read_err, write_atomic, StoreError, KEYS_VERSION,
};

/// How long a write waits for another process holding the store's lock. A holder keeps it
/// for the few milliseconds of one write, so a wait this long means a stuck process.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

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
        lock::lock_path_of(&self.path)
    }

    /// The same store with another bound on the wait for its lock (default [`LOCK_WAIT`]).
    pub fn with_lock_wait(mut self, wait: Duration) -> KeyStore {
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
        let _lock = self.lock(None)?;
        let mut raw = match self.read_doc()? {
            Some(doc) => doc.raw,
            None => serde_json::json!({ "version": KEYS_VERSION, "keys": [] }),
        };
        match raw.get_mut("keys").and_then(Value::as_array_mut) {
            Some(keys) => keys.push(entry),
            // read_doc checked the shape; keep the promise never to overwrite a file it did not understand.
            None => return Err(self.corrupt("\"keys\" is not an array")),
        }
        self.write_doc(&raw)?;
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
        self.mark_used_cancellable(server, namespace, key, None)
    }

    /// `mark_used`, giving up (with no change) if `cancel` is set before it has the lock.
    pub(super) fn mark_used_cancellable(
        &self,
        server: &str,
        namespace: &str,
        key: &str,
        cancel: Option<&AtomicBool>,
    ) -> Result<(), StoreError> {
        if !self
            .load()?
            .iter()
            .any(|k| k.is_for(server, namespace) && k.key == key && !k.used)
        {
            return Ok(());
        }
        let _lock = self.lock(cancel)?;
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
            self.write_doc(&raw)?;
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
            Err(e) => return Err(read_err(&self.path)(e)),
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

    /// Replace the file atomically with this document.
    fn write_doc(&self, doc: &Value) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec_pretty(doc).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes)
    }

    /// Take the store's lock, waiting at most `lock_wait` for another holder.
    fn lock(&self, cancel: Option<&AtomicBool>) -> Result<lock::StoreLock, StoreError> {
        lock::acquire(&self.lock_path(), self.lock_wait, cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::mode;
    use super::super::StateDir;
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

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
        let mut names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["unlock-keys.json", "unlock-keys.json.lock"]);
        assert_eq!(mode(&s.lock_path()), 0o600);
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
        let s = store_in(tmp.path());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                // Each thread its own handle, as two processes would have.
                let s = store_in(tmp.path());
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
    }

    #[test]
    fn a_lock_file_left_by_a_crash_costs_nothing() {
        // What a vnsh killed while saving leaves behind: the lock file, recent, with its content.
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        fs::write(s.lock_path(), "4242-1700000000000000000-0").unwrap();
        let start = Instant::now();
        s.save("s", "a/", "K").unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "save waited {:?} for a lock nobody holds",
            start.elapsed()
        );
        assert_eq!(s.load().unwrap().len(), 1);
    }

    #[test]
    fn a_held_lock_makes_save_wait_then_fail() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path()).with_lock_wait(Duration::from_millis(100));
        let _held = lock::acquire(&s.lock_path(), Duration::from_secs(1), None).unwrap();
        let err = s.save("s", "a/", "K").unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("unlock-keys.json.lock"), "{msg}");
        assert!(msg.contains("busy"), "{msg}");
        // Nothing was written.
        assert!(!s.path().exists());
    }

    #[test]
    fn a_lock_released_while_waiting_is_taken() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let held = lock::acquire(&s.lock_path(), Duration::from_secs(1), None).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(held);
        });
        s.save("s", "a/", "K").unwrap();
        releaser.join().unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
    }
}
