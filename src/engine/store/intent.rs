//! Write-ahead intents for `lock`: "lock of NS sent at T" is durable before the request
//! goes, and is closed by its outcome.
//!
//! [`KeyStore::begin_lock`] is the check that the store can keep the key: it takes the lock,
//! reads the store (it parses, its version is known), reserves the disk space the key's
//! write will need, and writes the intent through the same atomic, synced write the key
//! will take (which fails on a read-only directory or a full disk). Only then may the
//! caller send. Then exactly one of [`LockIntent::complete`], [`LockIntent::refused`],
//! [`LockIntent::unanswered`]; an intent dropped without one (a crash) stays open, and
//! [`KeyStore::open_intents`] reports it.
//!
//! The reserve is a file of zeros, held under an OS lock by its `LockIntent`: released just
//! before the key is written, so that a disk that filled up while the request was out
//! still has room for the key; and, while it is locked, the sign that the intent's vnsh is
//! alive (in flight, not crashed).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::doc::{canonical_ns, Document, Intent, IntentState, SavedKey};
use super::files::{
    ensure_dir, now_rfc3339, parent_dir, side_path, sync_dir, unique_token, write_err, StoreError,
    FILE_MODE, TEMP,
};
use super::keys::new_key;
use super::keys::KeyStore;
use super::nonblocking::{cancellable, to_the_end};
use super::server::{canonical_server, ServerId};

/// The kind of side file that reserves space for an intent's key.
pub(super) const RESERVE: &str = "reserve";
/// The kind of side file a key is written to when the store cannot take it (renamed to a
/// temp file, which `recover` merges, once whole).
pub(super) const RESCUE: &str = "rescue";
/// Room reserved beyond the store's current size: a key entry and its closed intent take
/// well under 1 KiB; the rest covers other processes' keys saved meanwhile.
const RESERVE_SLACK: u64 = 16 * 1024;

/// An open lock intent, held by the vnsh that is sending the lock.
#[must_use = "an intent must be completed, refused or left unanswered; dropped, it stays open"]
#[derive(Debug)]
pub struct LockIntent {
    store: KeyStore,
    intent: Intent,
    reserve: Reserve,
}

/// How an open intent was closed later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The namespace was found not locked: the lock never took effect, or was undone.
    FoundUnlocked,
    /// The namespace was unlocked with a sudo token.
    UnlockedWithSudo,
    /// Another reason, in the operator's words.
    Other(String),
}

/// An intent that may have locked its namespace without its key being received.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIntent {
    /// The intent.
    pub intent: Intent,
    /// Whether a live process still holds it (its request is out now): not a crash, yet.
    pub in_flight: bool,
}

impl KeyStore {
    /// Check that the store can keep a key, then record durably that a lock of `namespace`
    /// on `server` is about to be sent. Send the lock only after this returned `Ok`; on
    /// `Err` (`LockRefused`, naming the cause and the fix) nothing may be sent.
    pub fn begin_lock(&self, server: &ServerId, namespace: &str) -> Result<LockIntent, StoreError> {
        self.begin_lock_cancellable(server, namespace, None)
    }

    /// `begin_lock`, giving up with `Cancelled` (nothing recorded) if `cancel` is set before it has the lock.
    pub(super) fn begin_lock_cancellable(
        &self,
        server: &ServerId,
        namespace: &str,
        cancel: Option<&AtomicBool>,
    ) -> Result<LockIntent, StoreError> {
        let namespace = canonical_ns(namespace);
        let refuse = |cause: StoreError| match cause {
            StoreError::Cancelled => cause,
            cause => StoreError::LockRefused {
                namespace: namespace.clone(),
                cause: Box::new(cause),
            },
        };
        ensure_dir(parent_dir(self.path())).map_err(refuse)?;
        let _lock = self.lock(cancel).map_err(refuse)?;
        let id = unique_token();
        let intent = Intent {
            id: id.clone(),
            server: canonical_server(&server.addr),
            cluster_id: server.cluster_id.clone(),
            namespace: namespace.clone(),
            sent_at: now_rfc3339(),
            pid: Some(std::process::id()),
            state: IntentState::Open,
            reason: None,
            closed_at: None,
        };
        // Read (and so check) the store before reserving: a corrupt one is refused as such.
        let size = match self.read_doc().map_err(refuse)? {
            Some(doc) => doc.to_bytes(self.path()).map_err(refuse)?.len() as u64,
            None => 0,
        };
        let reserve = Reserve::create(self.path(), &id, size + RESERVE_SLACK).map_err(refuse)?;
        self.update_locked(cancel, |doc| {
            doc.push_intent(intent.clone());
            Ok(((), true))
        })
        .map_err(refuse)?;
        Ok(LockIntent {
            store: self.clone(),
            intent,
            reserve,
        })
    }

    /// The intents whose lock may have happened with the key never received (open or
    /// unanswered), oldest first, each saying whether its vnsh is still at it.
    pub fn open_intents(&self) -> Result<Vec<OpenIntent>, StoreError> {
        Ok(self
            .intents()?
            .into_iter()
            .filter(|i| i.state.is_open())
            .map(|intent| OpenIntent {
                in_flight: Reserve::is_held(self.path(), &intent.id),
                intent,
            })
            .collect())
    }

    /// Close an open intent later: the namespace was found unlocked, or unlocked with sudo,
    /// or another reason. Returns the intent as now recorded (unchanged if it was closed).
    pub fn resolve_intent(&self, id: &str, how: Resolution) -> Result<Intent, StoreError> {
        self.resolve_intent_cancellable(id, how, None)
    }

    /// `resolve_intent`, giving up (no change) if `cancel` is set before it has the lock.
    pub(super) fn resolve_intent_cancellable(
        &self,
        id: &str,
        how: Resolution,
        cancel: Option<&AtomicBool>,
    ) -> Result<Intent, StoreError> {
        let (state, reason) = match how {
            Resolution::FoundUnlocked => (IntentState::FoundUnlocked, None),
            Resolution::UnlockedWithSudo => (IntentState::UnlockedWithSudo, None),
            Resolution::Other(why) => (IntentState::Resolved, Some(why)),
        };
        let path = self.path().to_path_buf();
        self.update(cancel, |doc| {
            let i = doc
                .intent_index(id)
                .ok_or_else(|| StoreError::NoSuchIntent {
                    id: id.to_string(),
                    path,
                })?;
            if !doc.intents[i].state.is_open() {
                return Ok((doc.intents[i].clone(), false));
            }
            doc.set_state(i, state, reason, now_rfc3339());
            Ok((doc.intents[i].clone(), true))
        })
    }

    /// [`KeyStore::begin_lock`] off the runtime; cancelled (nothing recorded) if dropped before it takes the lock.
    pub async fn begin_lock_async(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<LockIntent, StoreError> {
        let (s, server, namespace) = (self.clone(), server.clone(), namespace.to_string());
        cancellable(move |cancel| s.begin_lock_cancellable(&server, &namespace, Some(cancel))).await
    }

    /// [`KeyStore::open_intents`] off the runtime.
    pub async fn open_intents_async(&self) -> Result<Vec<OpenIntent>, StoreError> {
        let s = self.clone();
        cancellable(move |_| s.open_intents()).await
    }

    /// [`KeyStore::resolve_intent`] off the runtime; cancelled (no change) if dropped before it takes the lock.
    pub async fn resolve_intent_async(
        &self,
        id: &str,
        how: Resolution,
    ) -> Result<Intent, StoreError> {
        let (s, id) = (self.clone(), id.to_string());
        cancellable(move |cancel| s.resolve_intent_cancellable(&id, how, Some(cancel))).await
    }
}

impl LockIntent {
    /// The intent as recorded.
    pub fn intent(&self) -> &Intent {
        &self.intent
    }

    /// Its id (for `resolve_intent` later).
    pub fn id(&self) -> &str {
        &self.intent.id
    }

    /// The answer came with its key: save the key and close the intent, in one atomic write.
    ///
    /// On `Err` the key is not in the store: show it to the user. `KeyKeptAside` says it was
    /// written to a file of its own that the next start merges (see `recover`); any other
    /// error leaves the intent open, so the lock is still reported.
    pub fn complete(mut self, key: &str) -> Result<SavedKey, StoreError> {
        let saved = new_key(
            &self.intent.server_id(),
            &self.intent.namespace,
            key,
            Some(self.intent.id.clone()),
        );
        let closed = self.closed(IntentState::Completed, None);
        let written = self.record(|doc| {
            doc.push_key(saved.clone());
            close_in(doc, &closed);
        });
        let Err(cause) = written else {
            return Ok(saved);
        };
        // The reserved space is for this write.
        self.reserve.release();
        match rescue(self.store.path(), &saved, &closed) {
            Ok(path) => Err(StoreError::KeyKeptAside {
                namespace: self.intent.namespace.clone(),
                path,
                cause: Box::new(cause),
            }),
            Err(_) => Err(cause),
        }
    }

    /// The server refused the lock (nothing was locked): close the intent with its reason.
    pub fn refused(mut self, reason: &str) -> Result<(), StoreError> {
        let closed = self.closed(IntentState::Refused, Some(reason));
        self.record(|doc| close_in(doc, &closed))
    }

    /// The request went and no answer came (timeout, reset, Ctrl-C): the intent stays open,
    /// with the reason, and is reported until resolved.
    pub fn unanswered(mut self, reason: &str) -> Result<(), StoreError> {
        let closed = self.closed(IntentState::Unanswered, Some(reason));
        self.record(|doc| close_in(doc, &closed))
    }

    /// [`LockIntent::complete`] off the runtime; runs to the end even if the future is dropped.
    pub async fn complete_async(self, key: &str) -> Result<SavedKey, StoreError> {
        let key = key.to_string();
        to_the_end(move || self.complete(&key)).await
    }

    /// [`LockIntent::refused`] off the runtime; runs to the end even if the future is dropped.
    pub async fn refused_async(self, reason: &str) -> Result<(), StoreError> {
        let reason = reason.to_string();
        to_the_end(move || self.refused(&reason)).await
    }

    /// [`LockIntent::unanswered`] off the runtime; runs to the end even if the future is dropped.
    pub async fn unanswered_async(self, reason: &str) -> Result<(), StoreError> {
        let reason = reason.to_string();
        to_the_end(move || self.unanswered(&reason)).await
    }

    /// The intent in its new state, stamped now.
    fn closed(&self, state: IntentState, reason: Option<&str>) -> Intent {
        Intent {
            state,
            reason: reason.map(str::to_string),
            closed_at: Some(now_rfc3339()),
            ..self.intent.clone()
        }
    }

    /// One change under the lock, with the reserved space given back just before the write.
    fn record(&mut self, change: impl FnOnce(&mut Document)) -> Result<(), StoreError> {
        ensure_dir(parent_dir(self.store.path()))?;
        let _lock = self.store.lock(None)?;
        self.reserve.release();
        self.store.update_locked(None, |doc| {
            change(doc);
            Ok(((), true))
        })
    }
}

/// Record `closed` over its open entry; if the store no longer has it (moved aside
/// meanwhile), record it anew, so the outcome is not lost.
fn close_in(doc: &mut Document, closed: &Intent) {
    match doc.intent_index(&closed.id) {
        Some(i) => doc.set_state(
            i,
            closed.state,
            closed.reason.clone(),
            closed.closed_at.clone().unwrap_or_else(now_rfc3339),
        ),
        None => doc.push_intent(closed.clone()),
    }
}

/// Write the key, and its closed intent, as a store of its own under a temp-file name
/// beside the store, where `recover` finds and merges it. Written under a locked staging
/// name and renamed once whole and synced, so that `recover` never reads half of it.
fn rescue(store: &Path, key: &SavedKey, closed: &Intent) -> Result<PathBuf, StoreError> {
    let mut doc = Document::new();
    doc.push_key(key.clone());
    doc.push_intent(closed.clone());
    let token = unique_token();
    let staging = side_path(store, RESCUE, &token);
    let target = side_path(store, TEMP, &token);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&staging)
            .map_err(write_err(&staging))?;
        // Held while it is being written: `recover` leaves a locked rescue file alone.
        let _ = file.try_lock();
        file.write_all(&doc.to_bytes(&staging)?)
            .map_err(write_err(&staging))?;
        file.sync_all().map_err(write_err(&staging))?;
        fs::rename(&staging, &target).map_err(write_err(&target))
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&staging);
        return Err(e);
    }
    sync_dir(parent_dir(store))?;
    Ok(target)
}

/// Space set aside for an intent's key, and the sign that its vnsh is alive.
#[derive(Debug)]
struct Reserve {
    path: PathBuf,
    file: Option<File>,
}

impl Reserve {
    /// A file of `size` zeros, locked by us. Written, not sparse: file systems count the
    /// blocks of a write against the free space when it is made (tmpfs allocates them,
    /// ext4 and XFS reserve them for delayed allocation), so no fsync is needed for the
    /// space to be ours, and the file itself need not survive a crash.
    fn create(store: &Path, id: &str, size: u64) -> Result<Reserve, StoreError> {
        let path = side_path(store, RESERVE, id);
        let mut reserve = Reserve {
            path: path.clone(),
            file: None,
        };
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(write_err(store))?;
        // A fresh file nobody else knows of: the lock cannot be busy.
        let _ = file.try_lock();
        reserve.file = Some(file);
        if let Some(file) = reserve.file.as_mut() {
            let zeros = [0u8; 8192];
            let mut left = size;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n]).map_err(write_err(store))?;
                left -= n as u64;
            }
        }
        Ok(reserve)
    }

    /// Give the space back (close, then remove: space is freed only once closed).
    fn release(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }

    /// Whether a live process holds the reserve of intent `id` of this store.
    fn is_held(store: &Path, id: &str) -> bool {
        match File::open(side_path(store, RESERVE, id)) {
            Ok(f) => matches!(f.try_lock(), Err(TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
    use super::super::files::testutil::{as_nobody, Tmpfs};
    use super::*;
    use serde_json::Value;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    const A: &str = "http://127.0.0.1:8200";

    fn here() -> ServerId {
        ServerId::new(A, Some("C1"))
    }

    fn raw(store: &KeyStore) -> Value {
        serde_json::from_slice(&fs::read(store.path()).unwrap()).unwrap()
    }

    /// The names of the files in a directory, sorted.
    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_intent_is_on_disk_before_begin_lock_returns_then_complete_replaces_it() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let intent = s.begin_lock(&here(), "/acme/web").unwrap();
        // What a kill -9 now would leave: the intent, open, on disk.
        let on_disk = raw(&s);
        assert_eq!(on_disk["version"], 2);
        let i = &on_disk["intents"][0];
        assert_eq!(i["namespace"], "acme/web/");
        assert_eq!(i["state"], "open");
        assert_eq!(i["cluster_id"], "C1");
        assert_eq!(i["pid"], std::process::id());
        assert!(humantime::parse_rfc3339(i["sent_at"].as_str().unwrap()).is_ok());
        let open = s.open_intents().unwrap();
        assert_eq!(open.len(), 1);
        assert!(open[0].in_flight, "a live intent shows as in flight");
        let id = intent.id().to_string();

        let saved = intent.complete("KEY").unwrap();
        assert_eq!(saved.intent.as_deref(), Some(id.as_str()));
        assert_eq!(saved.cluster_id.as_deref(), Some("C1"));
        assert!(s.open_intents().unwrap().is_empty());
        let on_disk = raw(&s);
        assert_eq!(on_disk["intents"][0]["state"], "completed");
        assert!(on_disk["intents"][0]["closed_at"].is_string());
        assert_eq!(on_disk["keys"][0]["key"], "KEY");
        let found = s.unlock_candidates(&here(), "acme/web/").unwrap();
        assert_eq!(found[0].key.key, "KEY");
        // The reserve is gone; the lock file stays.
        assert_eq!(
            files(tmp.path()),
            vec!["unlock-keys.json", "unlock-keys.json.lock"]
        );
    }

    #[test]
    fn refused_closes_the_intent_with_no_key() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.begin_lock(&here(), "t1")
            .unwrap()
            .refused("namespace is already locked")
            .unwrap();
        assert!(s.open_intents().unwrap().is_empty());
        let i = &s.intents().unwrap()[0];
        assert_eq!(i.state, IntentState::Refused);
        assert_eq!(i.reason.as_deref(), Some("namespace is already locked"));
        assert!(s.load().unwrap().is_empty());
    }

    #[test]
    fn unanswered_and_dropped_intents_stay_open_and_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.begin_lock(&here(), "t1")
            .unwrap()
            .unanswered("timed out after 30s")
            .unwrap();
        // Dropped without an outcome: what a crash (or a bug) leaves.
        drop(s.begin_lock(&here(), "t2").unwrap());
        let open = s.open_intents().unwrap();
        assert_eq!(open.len(), 2);
        assert!(open.iter().all(|o| !o.in_flight));
        assert_eq!(open[0].intent.state, IntentState::Unanswered);
        assert_eq!(open[1].intent.state, IntentState::Open);
        let r = open[0].intent.report();
        assert!(
            r.contains("t1 may be locked; its key was never received"),
            "{r}"
        );
        assert!(r.contains("timed out after 30s"), "{r}");
        assert!(open[1].intent.report().starts_with("t2 may be locked"));
        // No reserve is left behind by either.
        assert_eq!(
            files(tmp.path()),
            vec!["unlock-keys.json", "unlock-keys.json.lock"]
        );
    }

    #[test]
    fn resolve_intent_closes_an_open_one() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let i1 = s.begin_lock(&here(), "t1").unwrap();
        let id1 = i1.id().to_string();
        i1.unanswered("connection reset").unwrap();
        let id2 = {
            let i2 = s.begin_lock(&here(), "t2").unwrap();
            i2.id().to_string()
        };
        let r = s.resolve_intent(&id1, Resolution::FoundUnlocked).unwrap();
        assert_eq!(r.state, IntentState::FoundUnlocked);
        assert_eq!(r.reason, None);
        let r = s
            .resolve_intent(&id2, Resolution::Other("key found in the ticket".into()))
            .unwrap();
        assert_eq!(r.state, IntentState::Resolved);
        assert!(s.open_intents().unwrap().is_empty());
        // Closed stays closed.
        let again = s
            .resolve_intent(&id1, Resolution::UnlockedWithSudo)
            .unwrap();
        assert_eq!(again.state, IntentState::FoundUnlocked);
        let err = s
            .resolve_intent("nope", Resolution::FoundUnlocked)
            .unwrap_err();
        assert!(matches!(err, StoreError::NoSuchIntent { .. }), "{err:?}");
    }

    /// `begin_lock` on a store that cannot keep a key: refused, naming the cause, with the
    /// store file as it was and no intent recorded.
    fn assert_refused(s: &KeyStore, want: fn(&StoreError) -> bool, words: &[&str]) {
        let before = fs::read(s.path()).ok();
        let err = s.begin_lock(&here(), "acme").unwrap_err();
        assert!(
            matches!(err, StoreError::LockRefused { .. }),
            "not a refusal: {err:?}"
        );
        assert!(want(err.cause()), "wrong cause: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("refusing to lock acme: nothing was sent"),
            "{msg}"
        );
        for w in words {
            assert!(msg.contains(w), "{msg:?} lacks {w:?}");
        }
        assert_eq!(fs::read(s.path()).ok(), before, "the store was changed");
    }

    #[test]
    fn begin_lock_refuses_a_corrupt_store() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        fs::write(s.path(), r#"{"version":2,"keys":[{"key":"PRECIOUS""#).unwrap();
        assert_refused(
            &s,
            |e| matches!(e, StoreError::Corrupt { .. }),
            &["unlock-keys.json", "corrupt", "move it aside"],
        );
    }

    #[test]
    fn begin_lock_refuses_a_store_of_an_unknown_version() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        fs::write(s.path(), r#"{"version":3,"keys":[],"vaults":{}}"#).unwrap();
        assert_refused(
            &s,
            |e| matches!(e, StoreError::UnsupportedVersion { .. }),
            &["unlock-keys.json", "version 3", "newer vnsh"],
        );
    }

    #[test]
    fn begin_lock_refuses_a_directory_in_place_of_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        fs::create_dir(s.path()).unwrap();
        assert_refused(
            &s,
            |e| matches!(e, StoreError::NotAFile { .. }),
            &["unlock-keys.json is a directory", "move it aside"],
        );
        assert!(s.path().is_dir());
    }

    #[test]
    fn begin_lock_refuses_an_unreadable_store() {
        let tmp = tempfile::tempdir().unwrap();
        // The directory and the lock file open to all; the store root's own, 0600.
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.save(A, "t1/", "K").unwrap();
        fs::set_permissions(s.lock_path(), fs::Permissions::from_mode(0o666)).unwrap();
        let s2 = s.clone();
        as_nobody(move || {
            assert!(matches!(s2.load(), Err(StoreError::Unreadable { .. })));
            assert_refused(
                &s2,
                |e| matches!(e, StoreError::Unreadable { .. }),
                &["cannot read", "unlock-keys.json", "chmod 600"],
            );
        });
    }

    #[test]
    fn begin_lock_refuses_a_busy_store() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path())
            .key_store()
            .with_lock_wait(Duration::from_millis(100));
        s.save(A, "t1/", "K").unwrap();
        let _held = super::super::lock::acquire(&s.lock_path(), Duration::ZERO, None).unwrap();
        assert_refused(
            &s,
            |e| matches!(e, StoreError::Busy { .. }),
            &["busy", "unlock-keys.json.lock", "try again"],
        );
    }

    #[test]
    fn begin_lock_refuses_a_read_only_directory_and_keys_stay_readable() {
        let fs_ = Tmpfs::new("1m");
        let s = StateDir::at(fs_.path().join("vnsh")).key_store();
        s.save_for(&here(), "t1/", "K").unwrap();
        fs_.set_read_only(true);
        assert_refused(
            &s,
            |e| matches!(e, StoreError::ReadOnly { .. }),
            &["read-only", "XDG_STATE_HOME"],
        );
        // An unlock during the incident still finds its key.
        assert_eq!(s.unlock_candidates(&here(), "t1").unwrap()[0].key.key, "K");
        fs_.set_read_only(false);
        s.begin_lock(&here(), "acme")
            .unwrap()
            .complete("K2")
            .unwrap();
    }

    #[test]
    fn begin_lock_refuses_a_full_disk() {
        let fs_ = Tmpfs::new("256k");
        let s = StateDir::at(fs_.path().join("vnsh")).key_store();
        s.save_for(&here(), "t1/", "K").unwrap();
        let filler = fs_.fill();
        assert_refused(
            &s,
            |e| matches!(e, StoreError::DiskFull { .. }),
            &["no space left", "free some space"],
        );
        // Nothing left behind to fill it further, and space freed makes it work.
        assert_eq!(
            files(s.path().parent().unwrap()),
            vec!["unlock-keys.json", "unlock-keys.json.lock"]
        );
        fs::remove_file(filler).unwrap();
        s.begin_lock(&here(), "acme")
            .unwrap()
            .complete("K2")
            .unwrap();
    }

    #[test]
    fn a_disk_that_fills_while_the_lock_is_out_still_takes_the_key() {
        let fs_ = Tmpfs::new("256k");
        let s = StateDir::at(fs_.path().join("vnsh")).key_store();
        for i in 0..20 {
            s.save_for(&here(), &format!("t{i}/"), "OLDKEY-0123456789")
                .unwrap();
        }
        let intent = s.begin_lock(&here(), "acme").unwrap();
        // Something else fills the disk while the request is out.
        fs_.fill();
        let saved = intent.complete("THE-KEY").unwrap();
        assert_eq!(saved.key, "THE-KEY");
        assert_eq!(s.load().unwrap().len(), 21);
        assert!(s.open_intents().unwrap().is_empty());
    }

    #[test]
    fn a_key_the_store_cannot_take_is_kept_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let intent = s.begin_lock(&here(), "acme").unwrap();
        // The store turns bad while the request is out (say, another program wrote it).
        fs::write(s.path(), "garbage").unwrap();
        let err = intent.complete("THE-KEY").unwrap_err();
        let StoreError::KeyKeptAside { path, cause, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(matches!(**cause, StoreError::Corrupt { .. }), "{cause:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("the unlock key of acme could not be added"),
            "{msg}"
        );
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        // The side file is a whole store holding the key, named as `recover` looks for.
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".unlock-keys.json.tmp-"), "{name}");
        let side = Document::parse(path, &fs::read(path).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(side.keys[0].key, "THE-KEY");
        assert_eq!(side.intents[0].state, IntentState::Completed);
        assert_eq!(super::super::files::testutil::mode(path), 0o600);
        assert_eq!(fs::read_to_string(s.path()).unwrap(), "garbage");
    }

    #[test]
    fn intents_from_many_handles_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = StateDir::at(tmp.path()).key_store();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let intent = s.begin_lock(&here(), &format!("t{t}-{i}")).unwrap();
                        match i % 3 {
                            0 => drop(intent.complete(&format!("K{t}-{i}")).unwrap()),
                            1 => intent.unanswered("reset").unwrap(),
                            _ => intent.refused("no").unwrap(),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = StateDir::at(tmp.path()).key_store();
        assert_eq!(s.load().unwrap().len(), 16);
        assert_eq!(s.intents().unwrap().len(), 40);
        assert_eq!(s.open_intents().unwrap().len(), 12);
    }

    #[test]
    fn begin_lock_async_cancelled_while_waiting_records_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.save(A, "t1/", "K").unwrap();
        let held = super::super::lock::acquire(&s.lock_path(), Duration::ZERO, None).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let r = tokio::time::timeout(
                Duration::from_millis(50),
                s.begin_lock_async(&here(), "acme"),
            )
            .await;
            assert!(r.is_err());
        });
        drop(held);
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            s.intents().unwrap().is_empty(),
            "a cancelled begin_lock recorded an intent"
        );
        rt.block_on(async {
            let intent = s.begin_lock_async(&here(), "acme").await.unwrap();
            intent.complete_async("K2").await.unwrap();
            assert!(s.open_intents_async().await.unwrap().is_empty());
        });
    }
}
