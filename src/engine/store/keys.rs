//! The unlock-key store: saved unlock keys (and lock intents), in one JSON file written
//! atomically under an OS lock. Keys are never dropped: `save` appends, `mark_used` flags,
//! and a file this vnsh cannot read is never overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::doc::{canonical_ns, stamp, Document, Intent, SavedKey};
use super::files::{ensure_dir, now_rfc3339, parent_dir, read_err, write_atomic, StoreError};
use super::lock::{self, cancelled};
use super::server::{canonical_server, ServerId, ServerMatch};

/// How long a write waits for another process holding the store's lock. A holder keeps it
/// for the few milliseconds of one write, so a wait this long means a stuck process.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A saved key with how its server relates to the one asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundKey {
    /// The saved key.
    pub key: SavedKey,
    /// Same server, address only, or another server at that address.
    pub matches: ServerMatch,
}

/// What the store holds for one namespace of one server, for `locks`.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyStatus {
    /// An unused key that `unlock` will try (the newest, of the best class).
    Saved(FoundKey),
    /// Only keys saved for another server at this address (re-initialised since).
    ForAnotherServer(SavedKey),
    /// No unused key.
    None,
}

impl KeyStatus {
    /// A short label for a table: `yes`, `yes (by address only)`, `saved, for another server`, `no`.
    pub fn label(&self) -> &'static str {
        match self {
            KeyStatus::Saved(FoundKey {
                matches: ServerMatch::SameServer,
                ..
            }) => "yes",
            KeyStatus::Saved(_) => "yes (by address only)",
            KeyStatus::ForAnotherServer(_) => "saved, for another server",
            KeyStatus::None => "no",
        }
    }
}

/// The unlock-key store: a JSON file (format in `doc.rs`), mode 0600, written atomically.
///
/// Reads take no lock (a rename is atomic, so a reader sees a whole file); every change is
/// read-modify-write under the OS lock on [`KeyStore::lock_path`]. Fields this vnsh does
/// not know (written by a newer one) are kept when the file is rewritten.
#[derive(Debug, Clone)]
pub struct KeyStore {
    path: PathBuf,
    lock_wait: Duration,
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

    /// The lock file guarding writes: the store path with `.lock` appended (never removed).
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

    /// Every lock intent, open or closed, in the order recorded.
    pub fn intents(&self) -> Result<Vec<Intent>, StoreError> {
        Ok(self.read_doc()?.map(|d| d.intents).unwrap_or_default())
    }

    /// Append a key saved by address only (no cluster id); returns once it is durable on disk.
    pub fn save(&self, server: &str, namespace: &str, key: &str) -> Result<SavedKey, StoreError> {
        self.save_for(&ServerId::addr_only(server), namespace, key)
    }

    /// Append a key for that server (address and cluster id); returns once it is durable on disk.
    pub fn save_for(
        &self,
        server: &ServerId,
        namespace: &str,
        key: &str,
    ) -> Result<SavedKey, StoreError> {
        let saved = new_key(server, namespace, key, None);
        self.update(None, |doc| {
            doc.push_key(saved.clone());
            Ok((saved, true))
        })
    }

    /// Keys for this address and namespace, whatever their cluster id, newest first, used ones included.
    pub fn find(&self, server: &str, namespace: &str) -> Result<Vec<SavedKey>, StoreError> {
        let keys = self.load()?;
        Ok(newest_first(
            keys.into_iter().filter(|k| k.is_for(server, namespace)),
        ))
    }

    /// Keys for this namespace of this server, each classified, newest first (all classes, used ones included).
    pub fn find_for(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<Vec<FoundKey>, StoreError> {
        let ns = canonical_ns(namespace);
        let keys = newest_first(
            self.load()?
                .into_iter()
                .filter(|k| canonical_ns(&k.namespace) == ns),
        );
        Ok(classified(keys, server))
    }

    /// The keys `unlock` should try, in order: this server's, then those saved by address
    /// only; newest first within each; never one saved for another server.
    pub fn unlock_candidates(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<Vec<FoundKey>, StoreError> {
        let mut found: Vec<FoundKey> = self
            .find_for(server, namespace)?
            .into_iter()
            .filter(|f| f.matches.may_unlock())
            .collect();
        // Stable: newest first stays within each class.
        found.sort_by_key(|f| f.matches);
        Ok(found)
    }

    /// Every key of this server (any namespace, any class), in the order saved.
    pub fn keys_for_server(&self, server: &ServerId) -> Result<Vec<FoundKey>, StoreError> {
        Ok(classified(self.load()?, server))
    }

    /// What the store holds for this namespace of this server: the key `unlock` would try
    /// first, or only keys for another server, or nothing (used keys do not count).
    pub fn key_status(&self, server: &ServerId, namespace: &str) -> Result<KeyStatus, StoreError> {
        let found = self.find_for(server, namespace)?;
        let unused = || found.iter().filter(|f| !f.key.used);
        if let Some(best) = unused()
            .filter(|f| f.matches.may_unlock())
            .min_by_key(|f| f.matches)
        {
            return Ok(KeyStatus::Saved(best.clone()));
        }
        Ok(match unused().next() {
            Some(other) => KeyStatus::ForAnotherServer(other.key.clone()),
            None => KeyStatus::None,
        })
    }

    /// Mark the key (address, namespace, key) as used after a successful unlock; the entry stays, an unknown key is no change.
    pub fn mark_used(&self, server: &str, namespace: &str, key: &str) -> Result<(), StoreError> {
        self.mark_used_cancellable(&ServerId::addr_only(server), namespace, key, None)
    }

    /// Mark the key as used for this server (any entry `unlock` could have tried); the entry stays.
    pub fn mark_used_for(
        &self,
        server: &ServerId,
        namespace: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        self.mark_used_cancellable(server, namespace, key, None)
    }

    /// `mark_used_for`, giving up (with no change) if `cancel` is set before it has the lock.
    pub(super) fn mark_used_cancellable(
        &self,
        server: &ServerId,
        namespace: &str,
        key: &str,
        cancel: Option<&AtomicBool>,
    ) -> Result<(), StoreError> {
        let ns = canonical_ns(namespace);
        let wanted = |k: &SavedKey| {
            k.key == key
                && !k.used
                && canonical_ns(&k.namespace) == ns
                && k.matches(server).is_some_and(ServerMatch::may_unlock)
        };
        // Most calls have nothing to change: do not take the lock for them.
        if !self.load()?.iter().any(wanted) {
            return Ok(());
        }
        self.update(cancel, |doc| {
            let hits: Vec<usize> = (0..doc.keys.len())
                .filter(|&i| wanted(&doc.keys[i]))
                .collect();
            for &i in &hits {
                doc.set_used(i);
            }
            Ok(((), !hits.is_empty()))
        })
    }

    /// Read and check the file; `None` when it is missing or empty.
    pub(super) fn read_doc(&self) -> Result<Option<Document>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read_err(&self.path)(e)),
        };
        Document::parse(&self.path, &bytes)
    }

    /// Read-modify-write under the lock: `change` gets the document (an empty one when the
    /// file is missing) and says whether it changed it; only then is the file rewritten.
    /// A file that does not parse is an error before `change` runs, and stays untouched.
    pub(super) fn update<T>(
        &self,
        cancel: Option<&AtomicBool>,
        change: impl FnOnce(&mut Document) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        ensure_dir(parent_dir(&self.path))?;
        let _lock = self.lock(cancel)?;
        self.update_locked(cancel, change)
    }

    /// [`KeyStore::update`] for a caller that already holds the lock.
    pub(super) fn update_locked<T>(
        &self,
        cancel: Option<&AtomicBool>,
        change: impl FnOnce(&mut Document) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        let mut doc = self.read_doc()?.unwrap_or_else(Document::new);
        if cancelled(cancel) {
            return Err(StoreError::Cancelled);
        }
        let (out, changed) = change(&mut doc)?;
        if changed {
            write_atomic(&self.path, &doc.to_bytes(&self.path)?)?;
        }
        Ok(out)
    }

    /// Take the store's lock, waiting at most `lock_wait` for another holder.
    pub(super) fn lock(&self, cancel: Option<&AtomicBool>) -> Result<lock::StoreLock, StoreError> {
        lock::acquire(&self.lock_path(), self.lock_wait, cancel)
    }
}

/// A new key record for that server, namespace and key, saved now.
pub(super) fn new_key(
    server: &ServerId,
    namespace: &str,
    key: &str,
    intent: Option<String>,
) -> SavedKey {
    SavedKey {
        server: canonical_server(&server.addr),
        cluster_id: server.cluster_id.clone(),
        namespace: canonical_ns(namespace),
        key: key.to_string(),
        saved_at: now_rfc3339(),
        used: false,
        intent,
    }
}

/// The keys, newest `saved_at` first; of two saved in the same second, the later in the file first.
fn newest_first(keys: impl Iterator<Item = SavedKey>) -> Vec<SavedKey> {
    let mut keys: Vec<SavedKey> = keys.collect();
    keys.reverse();
    keys.sort_by_key(|k| std::cmp::Reverse(stamp(&k.saved_at)));
    keys
}

/// The keys related to `server`, each with its class; unrelated ones dropped.
fn classified(keys: Vec<SavedKey>, server: &ServerId) -> Vec<FoundKey> {
    keys.into_iter()
        .filter_map(|key| key.matches(server).map(|matches| FoundKey { key, matches }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
    use super::super::files::testutil::mode;
    use super::*;
    use serde_json::Value;
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
        assert_eq!(raw["version"], 2);
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
        let doc = "{\"version\":3,\"keys\":[]}";
        fs::write(s.path(), doc).unwrap();
        let err = s.save("s", "a/", "K").unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedVersion { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("version 3"), "{err}");
        assert!(matches!(
            s.load(),
            Err(StoreError::UnsupportedVersion { .. })
        ));
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
            cluster_id: Some("c".into()),
            namespace: "a/".into(),
            key: "SUPERSECRET".into(),
            saved_at: "2024-01-01T00:00:00Z".into(),
            used: false,
            intent: None,
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

    const A: &str = "http://127.0.0.1:8200";

    #[test]
    fn a_key_of_a_reinitialised_server_is_for_another_server() {
        // The same address, re-initialised: a new cluster id. Its old key fails there.
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let old = ServerId::new(A, Some("cluster-old"));
        let new = ServerId::new(A, Some("cluster-new"));
        s.save_for(&old, "t1/", "OLD").unwrap();
        let found = s.find_for(&new, "t1/").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].matches, ServerMatch::OtherServer);
        assert!(s.unlock_candidates(&new, "t1/").unwrap().is_empty());
        let status = s.key_status(&new, "t1/").unwrap();
        assert!(
            matches!(status, KeyStatus::ForAnotherServer(_)),
            "{status:?}"
        );
        assert_eq!(status.label(), "saved, for another server");
        // The old server itself still finds it.
        assert_eq!(s.key_status(&old, "t1/").unwrap().label(), "yes");
        // A key used with the new server's id is never marked on the old one's entry.
        s.mark_used_for(&new, "t1/", "OLD").unwrap();
        assert!(!s.load().unwrap()[0].used);
    }

    #[test]
    fn unlock_tries_this_server_then_address_only_never_another() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let here = ServerId::new(A, Some("C1"));
        fs::write(
            s.path(),
            r#"{"version":1,"keys":[
              {"server":"http://127.0.0.1:8200","namespace":"t1/","key":"V1-OLD","saved_at":"2024-01-01T00:00:00Z"},
              {"server":"http://127.0.0.1:8200","namespace":"t1/","key":"V1-NEW","saved_at":"2024-06-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        s.save_for(&ServerId::new(A, Some("C0")), "t1/", "OTHER")
            .unwrap();
        s.save_for(&here, "t1/", "HERE").unwrap();
        s.save_for(
            &ServerId::new("http://node2:8200", Some("C1")),
            "/t1",
            "NODE2",
        )
        .unwrap();
        s.save_for(&here, "t2/", "OTHER-NS").unwrap();
        let order: Vec<(String, ServerMatch)> = s
            .unlock_candidates(&here, "t1")
            .unwrap()
            .into_iter()
            .map(|f| (f.key.key, f.matches))
            .collect();
        use ServerMatch::*;
        // HERE and NODE2 were saved in the same second: the later one first.
        assert_eq!(
            order,
            vec![
                ("NODE2".into(), SameServer),
                ("HERE".into(), SameServer),
                ("V1-NEW".into(), AddressOnly),
                ("V1-OLD".into(), AddressOnly),
            ]
        );
        // Without a cluster id for the current server, every key at the address is a maybe,
        // the one of the other cluster included (nothing tells them apart), NODE2 is unrelated.
        let blind: Vec<String> = s
            .unlock_candidates(&ServerId::addr_only(A), "t1/")
            .unwrap()
            .into_iter()
            .map(|f| f.key.key)
            .collect();
        assert_eq!(blind, vec!["HERE", "OTHER", "V1-NEW", "V1-OLD"]);
        // The old address-only API is unchanged.
        assert_eq!(s.find(A, "t1/").unwrap().len(), 4);
    }

    #[test]
    fn key_status_prefers_this_servers_unused_key() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let here = ServerId::new(A, Some("C1"));
        assert_eq!(s.key_status(&here, "t1/").unwrap(), KeyStatus::None);
        s.save(A, "t1/", "V1").unwrap();
        assert_eq!(
            s.key_status(&here, "t1/").unwrap().label(),
            "yes (by address only)"
        );
        s.save_for(&here, "t1/", "K").unwrap();
        assert_eq!(s.key_status(&here, "t1/").unwrap().label(), "yes");
        s.mark_used_for(&here, "t1/", "K").unwrap();
        s.mark_used_for(&here, "t1/", "V1").unwrap();
        assert_eq!(s.key_status(&here, "t1/").unwrap(), KeyStatus::None);
        assert_eq!(s.keys_for_server(&here).unwrap().len(), 2);
    }

    #[test]
    fn a_version_1_store_is_migrated_on_its_first_write_and_keeps_every_key() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store_in(tmp.path());
        let v1 = r#"{"version":1,"keys":[
          {"server":"http://127.0.0.1:8200","namespace":"t1/","key":"K0","saved_at":"2024-01-01T00:00:00Z","used":true},
          {"server":"http://127.0.0.1:8200","namespace":"t2/","key":"K1","saved_at":"2024-01-02T00:00:00Z","label":"x"}]}"#;
        fs::write(s.path(), v1).unwrap();
        // Reading changes nothing on disk.
        assert_eq!(s.load().unwrap().len(), 2);
        s.mark_used(A, "t2/", "NOT-THERE").unwrap();
        assert_eq!(fs::read_to_string(s.path()).unwrap(), v1);
        s.save_for(&ServerId::new(A, Some("C1")), "t3/", "K2")
            .unwrap();
        let raw: Value = serde_json::from_slice(&fs::read(s.path()).unwrap()).unwrap();
        assert_eq!(raw["version"], 2);
        let before: Value = serde_json::from_str(v1).unwrap();
        assert_eq!(raw["keys"][0], before["keys"][0]);
        assert_eq!(raw["keys"][1], before["keys"][1]);
        assert_eq!(raw["keys"][2]["cluster_id"], "C1");
        assert_eq!(raw["intents"], serde_json::json!([]));
        let keys: Vec<String> = s.load().unwrap().into_iter().map(|k| k.key).collect();
        assert_eq!(keys, vec!["K0", "K1", "K2"]);
    }

    #[test]
    fn a_full_disk_fails_at_once_and_leaves_nothing_to_stall_the_next_save() {
        let fs_ = super::super::files::testutil::Tmpfs::new("256k");
        let s = StateDir::at(fs_.path().join("vnsh")).key_store();
        s.save(A, "t0/", "K0").unwrap();
        let filler = fs_.fill();
        let start = Instant::now();
        let err = s.save(A, "t1/", "K1").unwrap_err();
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        fs::remove_file(filler).unwrap();
        let start = Instant::now();
        s.save(A, "t1/", "K1").unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(s.load().unwrap().len(), 2);
    }
}
