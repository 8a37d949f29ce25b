//! What completion knows of the server: the namespace tree, the mounts of each namespace
//! and the keys under listed paths, for one server and token. Filled in the background so
//! a keystroke never waits for the network; emptied by what the shell itself changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use crate::engine::nspath::NsPath;
use crate::engine::tree;
use crate::vault::{body, Client, Method};

/// A value being fetched (by a fill started in that generation), or fetched.
#[derive(Debug, Clone)]
enum Slot<T> {
    Loading(u64),
    Ready(T),
}

/// One mount: its path (with the trailing slash, `auth/` prefixed for auth methods), type
/// and whether it is KV version 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `secret/`, `auth/userpass/`.
    pub path: String,
    /// `kv`, `userpass`, …
    pub kind: String,
    /// KV version 2 (data under `data/`, keys under `metadata/`).
    pub kv2: bool,
}

#[derive(Default)]
struct State {
    /// Every known namespace (absolute), from a walk of `top`.
    tree: Option<Slot<Vec<NsPath>>>,
    mounts: HashMap<NsPath, Slot<Vec<Mount>>>,
    lists: HashMap<(NsPath, String), Slot<Vec<String>>>,
    /// Namespaces recently `cd`'d into, most recent first (absolute, `a/b/` form).
    recent: Vec<String>,
    /// Bumped by each invalidation, so a fill started before it is dropped.
    generation: u64,
}

/// The completion cache of one session.
pub struct Cache {
    client: Client,
    top: NsPath,
    use_scan: bool,
    /// `top` is the token's own namespace: never walk from the root above it.
    bounded: bool,
    state: Mutex<State>,
    filled: Notify,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("top", &self.top).finish()
    }
}

impl Cache {
    /// A cache for `client`, whose tree walk starts at `top` (the session's home).
    pub fn new(client: Client, top: NsPath, use_scan: bool) -> Arc<Cache> {
        Arc::new(Cache {
            client,
            top,
            use_scan,
            bounded: false,
            state: Mutex::new(State::default()),
            filled: Notify::new(),
        })
    }

    /// A cache for a token whose namespace is `top`: nothing above it is asked.
    pub fn within(client: Client, top: NsPath, use_scan: bool) -> Arc<Cache> {
        Arc::new(Cache {
            client,
            top,
            use_scan,
            bounded: true,
            state: Mutex::new(State::default()),
            filled: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the cache inconsistent in a way
        // that matters (it is only a cache): take the state as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start filling the tree in the background if nothing is known yet.
    pub fn warm(self: &Arc<Self>) {
        let _ = self.namespaces();
    }

    /// The known namespaces (absolute); starts a fill and returns None when not known yet.
    pub fn namespaces(self: &Arc<Self>) -> Option<Vec<NsPath>> {
        let mut st = self.lock();
        match &st.tree {
            Some(Slot::Ready(t)) => return Some(t.clone()),
            Some(Slot::Loading(_)) => return None,
            None => st.tree = Some(Slot::Loading(st.generation)),
        }
        let generation = st.generation;
        drop(st);
        let me = self.clone();
        tokio::spawn(async move {
            let found = me.fetch_tree().await;
            let mut st = me.lock();
            if st.generation == generation {
                st.tree = Some(Slot::Ready(found));
            } else if matches!(st.tree, Some(Slot::Loading(g)) if g == generation) {
                // Overtaken by an invalidation: fetch again when next asked.
                st.tree = None;
            }
            drop(st);
            me.filled.notify_waiters();
        });
        None
    }

    async fn fetch_tree(&self) -> Vec<NsPath> {
        // From the root when the token may list there, else from home; a token that may
        // not LIST at all still sees what the UI endpoint offers; else nothing, quietly.
        let mut tops = vec![NsPath::root()];
        if self.bounded {
            tops.clear();
        }
        if !self.top.is_root() {
            tops.push(self.top.clone());
        }
        for top in tops {
            if let Ok(walk) = tree::walk(&self.client, &top, None, self.use_scan).await {
                let mut all: Vec<NsPath> = walk.entries.iter().map(|e| top.join(&e.path)).collect();
                if !top.is_root() {
                    all.extend(top.ancestors().into_iter().filter(|a| !a.is_root()));
                }
                all.sort();
                all.dedup();
                return all;
            }
        }
        match self
            .client
            .request(
                Method::Get,
                &self.top.header(),
                "sys/internal/ui/namespaces",
                None,
            )
            .await
        {
            Ok(body) => body::keys(body.as_ref())
                .iter()
                .filter_map(|k| NsPath::parse(k).ok())
                .map(|p| self.top.join(&p))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The mounts of `ns`; starts a fill and returns None when not known yet.
    pub fn mounts(self: &Arc<Self>, ns: &NsPath) -> Option<Vec<Mount>> {
        if self.above_top(ns) {
            return Some(Vec::new());
        }
        let mut st = self.lock();
        match st.mounts.get(ns) {
            Some(Slot::Ready(m)) => return Some(m.clone()),
            Some(Slot::Loading(_)) => return None,
            None => {
                let g = st.generation;
                st.mounts.insert(ns.clone(), Slot::Loading(g));
            }
        }
        let generation = st.generation;
        drop(st);
        let (me, ns) = (self.clone(), ns.clone());
        tokio::spawn(async move {
            let found = me.fetch_mounts(&ns).await;
            let mut st = me.lock();
            if st.generation == generation {
                st.mounts.insert(ns, Slot::Ready(found));
            } else if matches!(st.mounts.get(&ns), Some(Slot::Loading(g)) if *g == generation) {
                st.mounts.remove(&ns);
            }
            drop(st);
            me.filled.notify_waiters();
        });
        None
    }

    async fn fetch_mounts(&self, ns: &NsPath) -> Vec<Mount> {
        let mut out = match crate::engine::mounts::of(&self.client, ns).await {
            Ok(t) => {
                let mut m = mounts_of(&t.secret, "");
                m.extend(mounts_of(&t.auth, "auth/"));
                m
            }
            Err(_) => Vec::new(),
        };
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The keys under `path` in `ns` (a LIST); starts a fill and returns None when not
    /// known yet.
    pub fn list(self: &Arc<Self>, ns: &NsPath, path: &str) -> Option<Vec<String>> {
        if self.above_top(ns) {
            return Some(Vec::new());
        }
        let key = (ns.clone(), path.to_string());
        let mut st = self.lock();
        match st.lists.get(&key) {
            Some(Slot::Ready(k)) => return Some(k.clone()),
            Some(Slot::Loading(_)) => return None,
            None => {
                let g = st.generation;
                st.lists.insert(key.clone(), Slot::Loading(g));
            }
        }
        let generation = st.generation;
        drop(st);
        let me = self.clone();
        tokio::spawn(async move {
            let found = me
                .client
                .request(Method::List, &key.0.header(), &key.1, None)
                .await
                .map(|b| body::keys(b.as_ref()))
                .unwrap_or_default();
            let mut st = me.lock();
            if st.generation == generation {
                st.lists.insert(key, Slot::Ready(found));
            } else if matches!(st.lists.get(&key), Some(Slot::Loading(g)) if *g == generation) {
                st.lists.remove(&key);
            }
            drop(st);
            me.filled.notify_waiters();
        });
        None
    }

    /// Outside the token's reach (a bounded cache): nothing is asked there.
    fn above_top(&self, ns: &NsPath) -> bool {
        self.bounded && !ns.starts_with(&self.top)
    }

    /// Wait until no fill is in flight, at most `limit`.
    pub async fn settle(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.filled.notified();
            if !self.loading() {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    fn loading(&self) -> bool {
        let st = self.lock();
        matches!(st.tree, Some(Slot::Loading(_)))
            || st.mounts.values().any(|s| matches!(s, Slot::Loading(_)))
            || st.lists.values().any(|s| matches!(s, Slot::Loading(_)))
    }

    /// Forget the tree (a namespace was created or deleted here).
    pub fn invalidate_tree(&self) {
        let mut st = self.lock();
        st.generation += 1;
        st.tree = None;
    }

    /// Forget listed keys and mounts (something was written or deleted).
    pub fn invalidate_paths(&self) {
        let mut st = self.lock();
        st.generation += 1;
        st.lists.clear();
        st.mounts.clear();
    }

    /// Forget everything (`refresh`), keeping what was recently used.
    pub fn clear(&self) {
        let mut st = self.lock();
        let recent = std::mem::take(&mut st.recent);
        *st = State {
            recent,
            generation: st.generation + 1,
            ..State::default()
        };
    }

    /// Remember that `ns` was just used.
    pub fn touch(&self, ns: &NsPath) {
        let mut st = self.lock();
        let h = ns.header();
        st.recent.retain(|r| r != &h);
        st.recent.insert(0, h);
        st.recent.truncate(50);
    }

    /// Recently used namespaces, most recent first (absolute, `a/b/` form).
    pub fn recent(&self) -> Vec<String> {
        self.lock().recent.clone()
    }
}

fn mounts_of(table: &serde_json::Map<String, Value>, prefix: &str) -> Vec<Mount> {
    table
        .iter()
        .map(|(k, v)| Mount {
            path: format!("{prefix}{k}"),
            kind: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            kv2: v.pointer("/options/version").and_then(Value::as_str) == Some("2"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Config;

    /// A cache on a server that refuses every connection: each fill lands at once, empty.
    fn cache() -> Arc<Cache> {
        let config = Config::from_lookup(
            |k| match k {
                "VAULT_ADDR" => Some("http://127.0.0.1:1".to_string()),
                "VAULT_TOKEN" => Some("t".to_string()),
                _ => None,
            },
            || None,
        );
        let client = Client::new(&config).expect("client");
        Cache::new(client, NsPath::root(), true)
    }

    /// Ask until answered, at most a few seconds.
    async fn answered<T>(mut ask: impl FnMut() -> Option<T>, cache: &Cache) -> Option<T> {
        for _ in 0..20 {
            if let Some(v) = ask() {
                return Some(v);
            }
            cache.settle(Duration::from_millis(250)).await;
        }
        None
    }

    #[tokio::test]
    async fn a_fill_overtaken_by_an_invalidation_is_asked_again() {
        // The tree is being fetched when something is written: that fill is dropped, and
        // the tree must be fetched again rather than stay "loading" for good.
        let c = cache();
        assert!(c.namespaces().is_none());
        c.invalidate_paths();
        assert!(answered(|| c.namespaces(), &c).await.is_some());

        // Mounts and keys being fetched when a namespace is created, likewise.
        let ns = NsPath::root();
        assert!(c.mounts(&ns).is_none());
        assert!(c.list(&ns, "secret/metadata/").is_none());
        c.invalidate_tree();
        assert!(answered(|| c.mounts(&ns), &c).await.is_some());
        assert!(answered(|| c.list(&ns, "secret/metadata/"), &c)
            .await
            .is_some());
        assert!(!c.loading());
    }
}
