//! Recovery at start: whole stores a crash left in temp files beside the store.
//!
//! A write is a temp file, fsync, rename over the store. A vnsh killed between the fsync
//! and the rename leaves the new store whole in `.unlock-keys.json.tmp-*`, with the key it
//! was saving; `complete` may also have written a key there on purpose when the store could
//! not take it. [`KeyStore::recover`] merges what such files hold and the store lacks
//! (keys, intents, later states of intents) into the store in one atomic write, and only
//! then removes them. A file that does not parse is kept and reported by path.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::doc::{canonical_ns, Document, Intent, IntentState, SavedKey};
use super::files::{parent_dir, read_err, side_prefix, sync_dir, StoreError, TEMP};
use super::intent::{RESCUE, RESERVE};
use super::keys::KeyStore;
use super::nonblocking::cancellable;
use super::server::canonical_server;

/// What `recover` found and did, for a start-up message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovered {
    /// Keys merged into the store from left-behind files.
    pub keys: Vec<SavedKey>,
    /// Intents merged into the store (new to it, or in a later state there).
    pub intents: Vec<Intent>,
    /// Left-behind files whose content is now in the store; removed.
    pub merged: Vec<PathBuf>,
    /// Left-behind files with nothing in them; removed.
    pub empty: Vec<PathBuf>,
    /// Left-behind files that do not parse: kept, with why.
    pub kept: Vec<(PathBuf, String)>,
    /// Space reserves of intents whose vnsh died; removed.
    pub reserves: Vec<PathBuf>,
}

impl Recovered {
    /// Whether there is nothing to tell the user.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.intents.is_empty() && self.kept.is_empty()
    }

    /// The lines to show at start (nothing when there is nothing to tell).
    pub fn report(&self, store: &Path) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.keys.is_empty() {
            let mut names: Vec<&str> = self
                .keys
                .iter()
                .map(|k| match k.namespace.trim_end_matches('/') {
                    "" => "/",
                    ns => ns,
                })
                .collect();
            names.dedup();
            lines.push(format!(
                "recovered {} unlock key{} ({}) from a write that was cut short; {} holds {} now",
                self.keys.len(),
                if self.keys.len() == 1 { "" } else { "s" },
                names.join(", "),
                store.display(),
                if self.keys.len() == 1 { "it" } else { "them" },
            ));
        }
        if !self.intents.is_empty() {
            lines.push(format!(
                "recovered {} lock intent{} from a write that was cut short",
                self.intents.len(),
                if self.intents.len() == 1 { "" } else { "s" },
            ));
        }
        for (path, why) in &self.kept {
            lines.push(format!(
                "kept {}: it does not parse ({why}) and may hold an unlock key; look inside, \
                 then move it away",
                path.display()
            ));
        }
        lines
    }
}

impl KeyStore {
    /// Merge into the store the keys and intents that files left by an interrupted write
    /// hold and the store lacks; then remove those files (and the reserves of dead
    /// intents). Run at start. A store that does not parse is an error, and then nothing
    /// is touched.
    pub fn recover(&self) -> Result<Recovered, StoreError> {
        self.recover_cancellable(None)
    }

    /// `recover`, giving up (no change) if `cancel` is set before it has the lock.
    pub(super) fn recover_cancellable(
        &self,
        cancel: Option<&AtomicBool>,
    ) -> Result<Recovered, StoreError> {
        let dir = parent_dir(self.path()).to_path_buf();
        if !dir.exists() {
            return Ok(Recovered::default());
        }
        let _lock = self.lock(cancel)?;
        let mut found = Recovered::default();
        let mut sources = Vec::new();
        for path in left_behind(self.path())? {
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    found
                        .kept
                        .push((path.clone(), read_err(&path)(e).to_string()));
                    continue;
                }
            };
            match Document::parse(&path, &bytes) {
                Ok(Some(doc)) => sources.push((path, doc)),
                Ok(None) => found.empty.push(path),
                Err(StoreError::Corrupt { reason, .. }) => found.kept.push((path, reason)),
                Err(StoreError::UnsupportedVersion { version, .. }) => found.kept.push((
                    path,
                    format!("format version {version}, written by a newer vnsh"),
                )),
                Err(e) => found.kept.push((path, e.to_string())),
            }
        }
        if !sources.is_empty() {
            self.update_locked(cancel, |store| {
                for (_, from) in &sources {
                    merge(store, from, &mut found);
                }
                Ok(((), !found.keys.is_empty() || !found.intents.is_empty()))
            })?;
        }
        // Only now, with what they held durable in the store, do the files go.
        for (path, _) in sources {
            if fs::remove_file(&path).is_ok() {
                found.merged.push(path);
            }
        }
        found.empty.retain(|p| fs::remove_file(p).is_ok());
        for reserve in abandoned_reserves(self.path()) {
            if fs::remove_file(&reserve).is_ok() {
                found.reserves.push(reserve);
            }
        }
        if !(found.merged.is_empty() && found.empty.is_empty() && found.reserves.is_empty()) {
            sync_dir(&dir)?;
        }
        Ok(found)
    }

    /// [`KeyStore::recover`] off the runtime; cancelled (no change) if dropped before it takes the lock.
    pub async fn recover_async(&self) -> Result<Recovered, StoreError> {
        let s = self.clone();
        cancellable(move |cancel| s.recover_cancellable(Some(cancel))).await
    }
}

/// Merge into `store` what `from` has and it lacks: keys (same key, namespace and
/// address), intents (same id), and later states of the intents both have.
fn merge(store: &mut Document, from: &Document, found: &mut Recovered) {
    for (i, key) in from.keys.iter().enumerate() {
        let same = |k: &SavedKey| {
            k.key == key.key
                && canonical_ns(&k.namespace) == canonical_ns(&key.namespace)
                && canonical_server(&k.server) == canonical_server(&key.server)
        };
        match store.keys.iter().position(same) {
            Some(j) => {
                if key.used && !store.keys[j].used {
                    store.set_used(j);
                }
            }
            None => {
                let entry = from.raw_entry("keys", i).unwrap_or(serde_json::Value::Null);
                store.push_key_entry(key.clone(), entry);
                found.keys.push(key.clone());
            }
        }
    }
    for (i, intent) in from.intents.iter().enumerate() {
        match store.intent_index(&intent.id) {
            Some(j) => {
                if rank(intent.state) > rank(store.intents[j].state) {
                    store.set_state(
                        j,
                        intent.state,
                        intent.reason.clone(),
                        intent.closed_at.clone().unwrap_or_default(),
                    );
                    found.intents.push(intent.clone());
                }
            }
            None => {
                let entry = from
                    .raw_entry("intents", i)
                    .unwrap_or(serde_json::Value::Null);
                store.push_intent_entry(intent.clone(), entry);
                found.intents.push(intent.clone());
            }
        }
    }
}

/// The order of intent states in time: an intent only moves up, so a merge keeps the later.
fn rank(state: IntentState) -> u8 {
    match state {
        IntentState::Open => 0,
        IntentState::Unanswered | IntentState::Unknown => 1,
        _ => 2,
    }
}

/// The files beside the store that a cut-short write left: temp files, and rescue files
/// nobody is writing (a rescue being written is locked by its writer), oldest first.
fn left_behind(store: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let dir = parent_dir(store);
    let temp = side_prefix(store, TEMP);
    let rescue = side_prefix(store, RESCUE);
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err(dir))? {
        let entry = entry.map_err(read_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(&temp) || (name.starts_with(&rescue) && !is_locked(&path)) {
            let modified = entry.metadata().and_then(|m| m.modified()).ok();
            files.push((modified, path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Whether another open file holds an OS lock on `path`.
fn is_locked(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
}

/// The reserve files beside `store` that no live vnsh holds (left by a crash).
fn abandoned_reserves(store: &Path) -> Vec<PathBuf> {
    let prefix = side_prefix(store, RESERVE);
    let Ok(entries) = fs::read_dir(parent_dir(store)) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|p| !is_locked(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
    use super::super::server::ServerId;
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    const A: &str = "http://127.0.0.1:8200";

    fn key(ns: &str, k: &str) -> Value {
        json!({"server": A, "namespace": ns, "key": k, "saved_at": "2024-01-01T00:00:00Z"})
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_key_left_whole_in_an_orphaned_temp_file_is_recovered() {
        // What the kill -9 runs left: the old store, and beside it the temp file of the
        // write that was to add K1, fsync'd but never renamed (version 1, as vnsh wrote then).
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let old = json!({"version": 1, "keys": [key("t0/", "K0")]});
        fs::write(s.path(), serde_json::to_vec_pretty(&old).unwrap()).unwrap();
        let orphan = tmp
            .path()
            .join(".unlock-keys.json.tmp-4242-1700000000000000000-0");
        let new = json!({"version": 1, "keys": [key("t0/", "K0"), key("t1/", "K1")]});
        fs::write(&orphan, serde_json::to_vec_pretty(&new).unwrap()).unwrap();

        let got = s.recover().unwrap();
        assert_eq!(got.keys.len(), 1);
        assert_eq!(got.keys[0].key, "K1");
        assert_eq!(got.merged, vec![orphan.clone()]);
        let report = got.report(s.path());
        assert_eq!(report.len(), 1, "{report:?}");
        assert!(
            report[0].starts_with("recovered 1 unlock key (t1)"),
            "{report:?}"
        );
        let keys: Vec<String> = s.load().unwrap().into_iter().map(|k| k.key).collect();
        assert_eq!(keys, vec!["K0", "K1"]);
        assert!(!orphan.exists());
        // Again: nothing more to do.
        let again = s.recover().unwrap();
        assert!(again.is_empty() && again.merged.is_empty(), "{again:?}");
    }

    #[test]
    fn a_temp_file_with_nothing_new_is_just_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.save(A, "t0/", "K0").unwrap();
        let same = tmp.path().join(".unlock-keys.json.tmp-1-2-3");
        fs::copy(s.path(), &same).unwrap();
        let empty = tmp.path().join(".unlock-keys.json.tmp-1-2-4");
        fs::write(&empty, "").unwrap();
        let before = fs::read(s.path()).unwrap();
        let got = s.recover().unwrap();
        assert!(got.is_empty(), "{got:?}");
        assert!(got.report(s.path()).is_empty());
        assert_eq!(got.merged, vec![same]);
        assert_eq!(got.empty, vec![empty]);
        assert_eq!(
            fs::read(s.path()).unwrap(),
            before,
            "nothing new, no rewrite"
        );
        assert_eq!(
            files(tmp.path()),
            vec!["unlock-keys.json", "unlock-keys.json.lock"]
        );
    }

    #[test]
    fn a_temp_file_that_does_not_parse_is_kept_and_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        s.save(A, "t0/", "K0").unwrap();
        let cut = tmp.path().join(".unlock-keys.json.tmp-1-2-3");
        fs::write(
            &cut,
            r#"{"version":2,"keys":[{"server":"a","namespace":"t1/","key":"HALF"#,
        )
        .unwrap();
        let newer = tmp.path().join(".unlock-keys.json.tmp-1-2-4");
        fs::write(&newer, r#"{"version":9,"keys":[]}"#).unwrap();
        let before = fs::read(s.path()).unwrap();
        let got = s.recover().unwrap();
        assert_eq!(got.kept.len(), 2, "{got:?}");
        assert!(!got.is_empty());
        let report = got.report(s.path()).join("\n");
        assert!(report.contains(&cut.display().to_string()), "{report}");
        assert!(report.contains("may hold an unlock key"), "{report}");
        assert!(report.contains("newer vnsh"), "{report}");
        assert!(cut.exists() && newer.exists());
        assert_eq!(fs::read(s.path()).unwrap(), before);
    }

    #[test]
    fn with_the_store_corrupt_nothing_is_touched() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        fs::write(s.path(), "garbage").unwrap();
        let orphan = tmp.path().join(".unlock-keys.json.tmp-1-2-3");
        let doc = json!({"version": 2, "keys": [key("t1/", "K1")]});
        fs::write(&orphan, doc.to_string()).unwrap();
        let err = s.recover().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(orphan.exists());
        assert_eq!(fs::read_to_string(s.path()).unwrap(), "garbage");
    }

    #[test]
    fn a_key_kept_aside_by_complete_reaches_the_store_once_it_is_fixed() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let here = ServerId::new(A, Some("C1"));
        s.save_for(&here, "t0/", "K0").unwrap();
        let intent = s.begin_lock(&here, "acme").unwrap();
        let good = fs::read(s.path()).unwrap();
        fs::write(s.path(), "garbage").unwrap();
        let err = intent.complete("THE-KEY").unwrap_err();
        assert!(matches!(err, StoreError::KeyKeptAside { .. }), "{err:?}");
        assert!(s.recover().is_err());
        // The user puts the good store back.
        fs::write(s.path(), good).unwrap();
        assert_eq!(s.open_intents().unwrap().len(), 1);
        let got = s.recover().unwrap();
        assert_eq!(got.keys.len(), 1);
        assert_eq!(
            s.unlock_candidates(&here, "acme").unwrap()[0].key.key,
            "THE-KEY"
        );
        // The intent's later state came along: it is closed.
        assert!(s.open_intents().unwrap().is_empty());
        assert_eq!(s.intents().unwrap()[0].state, IntentState::Completed);
    }

    #[test]
    fn intents_in_a_temp_file_are_merged_by_id_keeping_the_later_state() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let intent = |id: &str, state: &str| json!({"id": id, "server": A, "namespace": "t1/", "sent_at": "2024-01-01T00:00:00Z", "state": state});
        let store = json!({"version": 2, "keys": [], "intents": [intent("i1", "open"), intent("i2", "completed")]});
        fs::write(s.path(), store.to_string()).unwrap();
        let temp = json!({"version": 2, "keys": [], "intents": [
            intent("i1", "unanswered"), intent("i2", "open"), intent("i3", "open")]});
        fs::write(tmp.path().join(".unlock-keys.json.tmp-x"), temp.to_string()).unwrap();
        let got = s.recover().unwrap();
        assert_eq!(got.intents.len(), 2);
        let states: Vec<(String, IntentState)> = s
            .intents()
            .unwrap()
            .into_iter()
            .map(|i| (i.id, i.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("i1".into(), IntentState::Unanswered),
                ("i2".into(), IntentState::Completed),
                ("i3".into(), IntentState::Open),
            ]
        );
    }

    #[test]
    fn unknown_fields_of_a_recovered_key_come_along() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let mut k = key("t1/", "K1");
        k["label"] = json!("from a newer vnsh");
        let temp = json!({"version": 2, "keys": [k]});
        fs::write(tmp.path().join(".unlock-keys.json.tmp-x"), temp.to_string()).unwrap();
        s.recover().unwrap();
        let raw: Value = serde_json::from_slice(&fs::read(s.path()).unwrap()).unwrap();
        assert_eq!(raw["keys"][0]["label"], "from a newer vnsh");
    }

    #[test]
    fn reserves_of_dead_intents_go_live_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::at(tmp.path()).key_store();
        let here = ServerId::new(A, None);
        let live = s.begin_lock(&here, "t1").unwrap();
        // A reserve nobody holds: its vnsh died.
        let dead = tmp.path().join(".unlock-keys.json.reserve-999-1-0");
        fs::write(&dead, vec![0u8; 4096]).unwrap();
        // A rescue being written right now (locked by its writer) is not read.
        let writing = tmp.path().join(".unlock-keys.json.rescue-999-1-1");
        fs::write(&writing, "{\"version\":2,").unwrap();
        let held = File::open(&writing).unwrap();
        held.try_lock().unwrap();
        let got = s.recover().unwrap();
        assert_eq!(got.reserves, vec![dead.clone()]);
        assert!(got.kept.is_empty(), "{got:?}");
        assert!(!dead.exists() && writing.exists());
        let open = s.open_intents().unwrap();
        assert!(open[0].in_flight, "recover took a live intent's reserve");
        live.complete("K").unwrap();
        drop(held);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever subsets of keys the store and the left-behind files hold, after
        /// `recover` the store holds every one of them, once, and the files are gone.
        #[test]
        fn recover_loses_no_key(
            store in proptest::collection::btree_set(0u8..24, 0..12),
            temps in proptest::collection::vec(proptest::collection::btree_set(0u8..24, 0..12), 0..4),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let s = StateDir::at(tmp.path()).key_store();
            let doc = |set: &BTreeSet<u8>| {
                let keys: Vec<Value> = set.iter().map(|n| key(&format!("t{}/", n % 5), &format!("K{n}"))).collect();
                json!({"version": 2, "keys": keys, "intents": []}).to_string()
            };
            fs::write(s.path(), doc(&store)).unwrap();
            let mut all = store.clone();
            for (i, t) in temps.iter().enumerate() {
                fs::write(tmp.path().join(format!(".unlock-keys.json.tmp-p-{i}")), doc(t)).unwrap();
                all.extend(t.iter().copied());
            }
            let got = s.recover().unwrap();
            let mut have: Vec<String> = s.load().unwrap().into_iter().map(|k| k.key).collect();
            let n = have.len();
            have.sort();
            have.dedup();
            prop_assert_eq!(n, have.len(), "a key is in the store twice");
            let mut want: Vec<String> = all.iter().map(|n| format!("K{n}")).collect();
            want.sort();
            prop_assert_eq!(have, want);
            prop_assert_eq!(got.keys.len(), all.len() - store.len());
            prop_assert_eq!(files(tmp.path()), vec!["unlock-keys.json", "unlock-keys.json.lock"]);
        }
    }
}
