//! The async faces of the store operations the engine calls from async code.
//!
//! Each runs on tokio's blocking pool, so that a wait for the lock or a slow disk never
//! stalls the runtime and Ctrl-C stays live. Two kinds:
//! - a read, or a change that may be given up (`mark_used`, `begin_lock`, `resolve_intent`,
//!   `recover`), is *cancellable*: when its future is dropped (Ctrl-C) before it has taken
//!   the lock, it stops and changes nothing;
//! - a change that records what must not be lost (`save`, and an intent's outcome) runs *to
//!   the end* even when its future is dropped; only the process ending can stop it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::doc::{Intent, SavedKey};
use super::files::StoreError;
use super::keys::{FoundKey, KeyStatus, KeyStore};
use super::log::{Action, ActionLog};
use super::server::ServerId;

/// Sets the flag when the future holding it is dropped (cancelled or done).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Run `f` on the blocking pool; dropping the returned future sets the flag `f` is given.
pub(super) async fn cancellable<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> Result<T, StoreError> + Send + 'static,
{
    let flag = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(Arc::clone(&flag));
    tokio::task::spawn_blocking(move || f(&flag))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// Run `f` on the blocking pool to its end, whether or not the returned future is kept.
pub(super) async fn to_the_end<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

impl KeyStore {
    /// [`KeyStore::load`] off the runtime.
    pub async fn load_async(&self) -> Result<Vec<SavedKey>, StoreError> {
        let s = self.clone();
        cancellable(move |_| s.load()).await
    }

    /// [`KeyStore::intents`] off the runtime.
    pub async fn intents_async(&self) -> Result<Vec<Intent>, StoreError> {
        let s = self.clone();
        cancellable(move |_| s.intents()).await
    }

    /// [`KeyStore::save`] off the runtime; runs to the end even if the future is dropped.
    pub async fn save_async(
        &self,
        server: &str,
        namespace: &str,
        key: &str,
    ) -> Result<SavedKey, StoreError> {
        let (s, server, namespace, key) = (
            self.clone(),
            server.to_string(),
            namespace.to_string(),
            key.to_string(),
        );
        to_the_end(move || s.save(&server, &namespace, &key)).await
    }

    /// [`KeyStore::find`] off the runtime.
    pub async fn find_async(
        &self,
        server: &str,
        namespace: &str,
    ) -> Result<Vec<SavedKey>, StoreError> {
        let (s, server, namespace) = (self.clone(), server.to_string(), namespace.to_string());
        cancellable(move |_| s.find(&server, &namespace)).await
    }

    /// [`KeyStore::mark_used`] off the runtime; cancelled (no change) if dropped before it takes the lock.
    pub async fn mark_used_async(
        &self,
        server: &str,
        namespace: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let (s, server, namespace, key) = (
            self.clone(),
            server.to_string(),
            namespace.to_string(),
            key.to_string(),
        );
        cancellable(move |cancel| {
            s.mark_used_cancellable(
                &ServerId::addr_only(&server),
                &namespace,
                &key,
                Some(cancel),
            )
        })
        .await
    }

    /// [`KeyStore::save_for`] off the runtime; runs to the end even if the future is dropped.
    pub async fn save_for_async(
        &self,
        server: &ServerId,
        namespace: &str,
        key: &str,
    ) -> Result<SavedKey, StoreError> {
        let (s, server, namespace, key) = (
            self.clone(),
            server.clone(),
            namespace.to_string(),
            key.to_string(),
        );
        to_the_end(move || s.save_for(&server, &namespace, &key)).await
    }

    /// [`KeyStore::find_for`] off the runtime.
    pub async fn find_for_async(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<Vec<FoundKey>, StoreError> {
        let (s, server, namespace) = (self.clone(), server.clone(), namespace.to_string());
        cancellable(move |_| s.find_for(&server, &namespace)).await
    }

    /// [`KeyStore::unlock_candidates`] off the runtime.
    pub async fn unlock_candidates_async(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<Vec<FoundKey>, StoreError> {
        let (s, server, namespace) = (self.clone(), server.clone(), namespace.to_string());
        cancellable(move |_| s.unlock_candidates(&server, &namespace)).await
    }

    /// [`KeyStore::keys_for_server`] off the runtime.
    pub async fn keys_for_server_async(
        &self,
        server: &ServerId,
    ) -> Result<Vec<FoundKey>, StoreError> {
        let (s, server) = (self.clone(), server.clone());
        cancellable(move |_| s.keys_for_server(&server)).await
    }

    /// [`KeyStore::key_status`] off the runtime.
    pub async fn key_status_async(
        &self,
        server: &ServerId,
        namespace: &str,
    ) -> Result<KeyStatus, StoreError> {
        let (s, server, namespace) = (self.clone(), server.clone(), namespace.to_string());
        cancellable(move |_| s.key_status(&server, &namespace)).await
    }

    /// [`KeyStore::mark_used_for`] off the runtime; cancelled (no change) if dropped before it takes the lock.
    pub async fn mark_used_for_async(
        &self,
        server: &ServerId,
        namespace: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let (s, server, namespace, key) = (
            self.clone(),
            server.clone(),
            namespace.to_string(),
            key.to_string(),
        );
        cancellable(move |cancel| s.mark_used_cancellable(&server, &namespace, &key, Some(cancel)))
            .await
    }
}

impl ActionLog {
    /// [`ActionLog::append`] off the runtime; runs to the end even if the future is dropped.
    pub async fn append_async(
        &self,
        server: &str,
        namespace: &str,
        command: &str,
        outcome: &str,
    ) -> Result<Action, StoreError> {
        let (log, server, namespace, command, outcome) = (
            self.clone(),
            server.to_string(),
            namespace.to_string(),
            command.to_string(),
            outcome.to_string(),
        );
        to_the_end(move || log.append(&server, &namespace, &command, &outcome)).await
    }

    /// [`ActionLog::read`] off the runtime.
    pub async fn read_async(
        &self,
        since: Option<SystemTime>,
    ) -> Result<(Vec<Action>, usize), StoreError> {
        let log = self.clone();
        cancellable(move |_| log.read(since)).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
    use super::super::lock;
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    /// Hold the store's lock from another thread (its own handle) for `hold`.
    fn hold_lock(store: &KeyStore, hold: Duration) -> std::thread::JoinHandle<()> {
        let held = lock::acquire(&store.lock_path(), Duration::from_secs(1), None).unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(hold);
            drop(held);
        })
    }

    #[test]
    fn waiting_for_the_lock_does_not_stall_the_runtime() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateDir::at(tmp.path()).key_store();
        let releaser = hold_lock(&store, Duration::from_millis(300));
        let ticks = Arc::new(AtomicUsize::new(0));
        runtime().block_on(async {
            // One thread runs this runtime: a blocking wait would stop the ticker dead.
            let t = Arc::clone(&ticks);
            let ticker = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    t.fetch_add(1, Ordering::Relaxed);
                }
            });
            let start = Instant::now();
            store.save_async("s", "a/", "K").await.unwrap();
            assert!(start.elapsed() >= Duration::from_millis(250));
            ticker.abort();
        });
        releaser.join().unwrap();
        let n = ticks.load(Ordering::Relaxed);
        assert!(
            n >= 10,
            "the runtime ran only {n} ticks while the save waited"
        );
        assert_eq!(store.load().unwrap().len(), 1);
    }

    #[test]
    fn a_cancelled_change_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateDir::at(tmp.path()).key_store();
        store.save("s", "a/", "K").unwrap();
        let before = std::fs::read(store.path()).unwrap();
        let releaser = hold_lock(&store, Duration::from_millis(200));
        runtime().block_on(async {
            // What a Ctrl-C raced against the command does: drop the future.
            let r = tokio::time::timeout(
                Duration::from_millis(50),
                store.mark_used_async("s", "a/", "K"),
            )
            .await;
            assert!(r.is_err(), "mark_used finished while the lock was held");
        });
        releaser.join().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(std::fs::read(store.path()).unwrap(), before);
        assert!(!store.load().unwrap()[0].used);
    }

    #[test]
    fn a_dropped_save_still_saves() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateDir::at(tmp.path()).key_store();
        let releaser = hold_lock(&store, Duration::from_millis(200));
        let rt = runtime();
        rt.block_on(async {
            let r = tokio::time::timeout(
                Duration::from_millis(50),
                store.save_async("s", "a/", "PRECIOUS"),
            )
            .await;
            assert!(r.is_err(), "the save finished while the lock was held");
        });
        releaser.join().unwrap();
        let start = Instant::now();
        while store.load().unwrap().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the key never arrived"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(store.load().unwrap()[0].key, "PRECIOUS");
        drop(rt);
    }

    #[test]
    fn the_action_log_is_written_off_the_runtime() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        runtime().block_on(async {
            log.append_async("s", "a/", "lock", "ok").await.unwrap();
            let (entries, skipped) = log.read_async(None).await.unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(skipped, 0);
        });
    }
}
