//! What completion knows of the server: the namespace tree, the mounts of each namespace
//! and the keys under listed paths, for one server and token. Filled in the background so
//! a keystroke never waits for the network; emptied by what the shell itself changes.
//!
//! The tree and the mounts are also kept between sessions in an index file
//! ([`IndexFile`]): once one is attached, what it holds answers at once, and what is
//! listed or read again (and what the shell changes) goes back to it on [`Cache::persist`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use crate::engine::nspath::NsPath;
use crate::engine::store::{now_secs, IndexFile, IndexLoad, Indexed, IndexedMounts, StoreError};
use crate::engine::tree;
use crate::vault::{body, Client, Method};

pub use crate::engine::store::IndexedMount as Mount;

/// A tree listed again and found the same is written to the index only when what the
/// index says of its age is older than this (seconds).
const SAME_TREE_REWRITE: u64 = 60;

/// A value being fetched (by a fill started in that generation), or fetched.
#[derive(Debug, Clone)]
enum Slot<T> {
    Loading(u64),
    Ready(T),
}

#[derive(Default)]
struct State {
    /// Every known namespace (absolute), from a walk of `top`.
    tree: Option<Slot<Vec<NsPath>>>,
    /// When the tree in `tree` was listed (seconds since the epoch); 0: not by a walk that
    /// succeeded, or taken from an index that said it must be listed again.
    tree_at: u64,
    /// The tree as it was before an invalidation, kept for the index (as "list it again")
    /// until it is listed anew.
    stale_tree: Option<Vec<NsPath>>,
    mounts: HashMap<NsPath, Slot<Vec<Mount>>>,
    /// When the mounts of a namespace were read, for those read whole (not for a refusal).
    mounts_at: HashMap<NsPath, u64>,
    lists: HashMap<(NsPath, String), Slot<Vec<String>>>,
    /// Namespaces recently `cd`'d into, most recent first (absolute, `a/b/` form).
    recent: Vec<String>,
    /// Bumped by each invalidation, so a fill started before it is dropped.
    generation: u64,
    /// Where the tree and mounts are kept between sessions, once the server is known.
    index: Option<IndexFile>,
    /// What the shell changed itself, for an index attached later: the namespaces whose
    /// mounts it must not take, and whether its tree must be listed again.
    forgotten: std::collections::HashSet<NsPath>,
    tree_changed: bool,
    /// Something the index holds has changed since it was read or written.
    dirty: bool,
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
                st.tree_listed(found);
            } else if matches!(st.tree, Some(Slot::Loading(g)) if g == generation) {
                // Overtaken by an invalidation: fetch again when next asked.
                st.tree = None;
            }
            drop(st);
            me.filled.notify_waiters();
        });
        None
    }

    /// The tree below the top, and whether it was listed whole (a walk that succeeded).
    async fn fetch_tree(&self) -> (Vec<NsPath>, bool) {
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
                return (all, walk.unlisted.is_empty());
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
            Ok(body) => (
                body::keys(body.as_ref())
                    .iter()
                    .filter_map(|k| NsPath::parse(k).ok())
                    .map(|p| self.top.join(&p))
                    .collect(),
                false,
            ),
            Err(_) => (Vec::new(), false),
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
                match found {
                    Some(m) => st.mounts_read(ns, m),
                    None => {
                        st.mounts.insert(ns, Slot::Ready(Vec::new()));
                    }
                }
            } else if matches!(st.mounts.get(&ns), Some(Slot::Loading(g)) if *g == generation) {
                st.mounts.remove(&ns);
            }
            drop(st);
            me.filled.notify_waiters();
        });
        None
    }

    /// The mounts of `ns`, or None when they could not be read.
    async fn fetch_mounts(&self, ns: &NsPath) -> Option<Vec<Mount>> {
        crate::engine::mounts::of(&self.client, ns)
            .await
            .ok()
            .map(|t| mount_list(&t))
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

    /// Forget the tree (a namespace was created or deleted here); the index keeps it as
    /// "to be listed again" until it is.
    pub fn invalidate_tree(&self) {
        let mut st = self.lock();
        st.generation += 1;
        if let Some(Slot::Ready(t)) = st.tree.take() {
            st.stale_tree = Some(t);
        }
        st.tree_at = 0;
        st.tree_changed = true;
        st.dirty = true;
    }

    /// Forget listed keys (something was written or deleted).
    pub fn invalidate_paths(&self) {
        let mut st = self.lock();
        st.generation += 1;
        st.lists.clear();
    }

    /// Forget the mounts of `ns` and the keys listed there (a secrets engine or an auth
    /// method was enabled, disabled, moved or tuned there).
    pub fn invalidate_mounts(&self, ns: &NsPath) {
        let mut st = self.lock();
        st.generation += 1;
        st.lists.retain(|(n, _), _| n != ns);
        st.mounts.remove(ns);
        st.mounts_at.remove(ns);
        st.forgotten.insert(ns.clone());
        st.dirty = true;
    }

    /// The shell changed what an index would hold (so it must be written, even by a
    /// session that did not need it).
    pub fn changed_since_read(&self) -> bool {
        let st = self.lock();
        st.tree_changed || !st.forgotten.is_empty()
    }

    /// Forget everything (`refresh`), keeping what was recently used and where the index
    /// is (which is rewritten from what is read next).
    pub fn clear(&self) {
        let mut st = self.lock();
        let recent = std::mem::take(&mut st.recent);
        let index = st.index.take();
        *st = State {
            recent,
            index,
            generation: st.generation + 1,
            ..State::default()
        };
    }

    /// Forget everything, the index included: the server at the address is another one.
    pub fn forget_server(&self) {
        self.clear();
        self.lock().index = None;
    }

    /// Keep the tree and the mounts in `file` between sessions, and take what it holds
    /// now where nothing newer is known. What an untrusted file was is said (it is
    /// rewritten at the next [`Cache::persist`]).
    pub fn attach_index(&self, file: IndexFile) -> Option<String> {
        let loaded = file.load();
        let mut st = self.lock();
        let note = match loaded {
            IndexLoad::Missing => None,
            IndexLoad::Ignored(why) => {
                st.dirty = true;
                Some(format!(
                    "note: the index {} was not used: {why}; it is built again",
                    file.path().display()
                ))
            }
            IndexLoad::Loaded(index) => {
                st.seed(self.bounded.then_some(&self.top), index);
                None
            }
        };
        st.index = Some(file);
        drop(st);
        // Whoever waits for a fill (a script's `complete`) may be answered now.
        self.filled.notify_waiters();
        note
    }

    /// An index is attached (the server is known).
    pub fn has_index(&self) -> bool {
        self.lock().index.is_some()
    }

    /// Wait until an index is attached, at most `limit`; whether one is.
    pub async fn indexed(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.filled.notified();
            if self.has_index() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.has_index();
            }
        }
    }

    /// Write what is known to the index, if it changed and a tree is known. Ok(false):
    /// nothing to write.
    pub fn persist(&self) -> Result<bool, StoreError> {
        let (file, index) = {
            let mut st = self.lock();
            let Some(file) = st.index.clone().filter(|_| st.dirty) else {
                return Ok(false);
            };
            let Some(index) = st.indexed() else {
                return Ok(false);
            };
            st.dirty = false;
            (file, index)
        };
        file.save(&index)
            .inspect_err(|_| self.lock().dirty = true)?;
        Ok(true)
    }

    /// The tree as known now, without asking: the namespaces (absolute) and when they
    /// were listed (0: they must be listed again).
    pub fn known_tree(&self) -> Option<(Vec<NsPath>, u64)> {
        let st = self.lock();
        match (&st.tree, &st.stale_tree) {
            (Some(Slot::Ready(t)), _) => Some((t.clone(), st.tree_at)),
            (_, Some(t)) => Some((t.clone(), 0)),
            _ => None,
        }
    }

    /// The namespaces below `root` as known now (absolute, sorted; `depth` 1: its
    /// children only), without asking: from a listing of this session or the index, fresh
    /// or not. None when no tree is known.
    pub fn known_below(&self, root: &NsPath, depth: Option<usize>) -> Option<Vec<NsPath>> {
        let st = self.lock();
        let tree = match (&st.tree, &st.stale_tree) {
            (Some(Slot::Ready(t)), _) => t,
            (_, Some(t)) => t,
            _ => return None,
        };
        let most = depth.map_or(usize::MAX, |d| root.depth() + d);
        let mut below: Vec<NsPath> = tree
            .iter()
            .filter(|n| n.depth() > root.depth() && n.depth() <= most && n.starts_with(root))
            .cloned()
            .collect();
        below.sort();
        Some(below)
    }

    /// The namespaces below `root` (absolute) were just listed whole: they replace what
    /// was known there.
    pub fn subtree_listed(&self, root: &NsPath, below: &[NsPath]) {
        let mut st = self.lock();
        // Listed from the root, or from the top of a token that reaches no higher: the whole
        // tree.
        if root.is_root() || (self.bounded && *root == self.top) {
            let mut all: Vec<NsPath> = below.to_vec();
            if !root.is_root() {
                all.extend(root.ancestors().into_iter().filter(|a| !a.is_root()));
            }
            all.sort();
            all.dedup();
            // The same tree listed again soon after: nothing for the index to write.
            let same = matches!(&st.tree, Some(Slot::Ready(t)) if *t == all)
                && now_secs().saturating_sub(st.tree_at) < SAME_TREE_REWRITE;
            if same {
                return;
            }
            st.generation += 1;
            st.tree_listed((all, true));
            return;
        }
        let known = match (st.tree.take(), st.stale_tree.take()) {
            (Some(Slot::Ready(t)), _) => Some((t, false)),
            (_, Some(t)) => Some((t, true)),
            _ => None,
        };
        let Some((mut t, stale)) = known else {
            return;
        };
        let mut old_below: Vec<&NsPath> = t
            .iter()
            .filter(|n| *n != root && n.starts_with(root))
            .collect();
        let mut new_below: Vec<&NsPath> = below.iter().collect();
        old_below.sort();
        new_below.sort();
        new_below.dedup();
        // The namespace listed exists (a client created it since the tree was known).
        let had_root = t.contains(root);
        let changed = stale || !had_root || old_below != new_below;
        t.retain(|n| n == root || !n.starts_with(root));
        t.extend(below.iter().cloned());
        if !had_root {
            t.extend(root.ancestors().into_iter().filter(|a| !a.is_root()));
        }
        t.sort();
        t.dedup();
        if stale {
            st.stale_tree = Some(t);
        } else {
            st.tree = Some(Slot::Ready(t));
        }
        st.dirty |= changed;
    }

    /// The mounts of `ns` as known now, without asking, and when they were read.
    pub fn known_mounts(&self, ns: &NsPath) -> Option<(Vec<Mount>, u64)> {
        let st = self.lock();
        match (st.mounts.get(ns), st.mounts_at.get(ns)) {
            (Some(Slot::Ready(m)), Some(at)) => Some((m.clone(), *at)),
            _ => None,
        }
    }

    /// For each of `namespaces`, its mount paths that `keep` keeps, when its mounts were
    /// read less than `max_age` seconds ago; the others are returned apart, with the time of
    /// the oldest read used. One look, and no copy of what is not kept.
    pub fn known_paths(
        &self,
        namespaces: Vec<NsPath>,
        max_age: u64,
        keep: impl Fn(&str) -> bool,
    ) -> KnownPaths {
        let now = now_secs();
        let st = self.lock();
        let mut out = KnownPaths::default();
        for ns in namespaces {
            let fresh = st
                .mounts_at
                .get(&ns)
                .filter(|at| now.saturating_sub(**at) < max_age);
            match (fresh, st.mounts.get(&ns)) {
                (Some(at), Some(Slot::Ready(m))) => {
                    out.oldest = Some(out.oldest.map_or(*at, |o| o.min(*at)));
                    let paths = m
                        .iter()
                        .filter(|m| keep(&m.path))
                        .map(|m| m.path.to_string())
                        .collect();
                    out.known.push((ns, paths));
                }
                _ => out.missing.push(ns),
            }
        }
        out
    }

    /// The mounts of `ns` were just read.
    pub fn mounts_listed(&self, ns: &NsPath, mounts: Vec<Mount>) {
        self.lock().mounts_read(ns.clone(), mounts);
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

/// What [`Cache::known_paths`] found.
#[derive(Debug, Default)]
pub struct KnownPaths {
    /// The namespaces whose mounts are known, and the paths kept.
    pub known: Vec<(NsPath, Vec<String>)>,
    /// The namespaces whose mounts are not known (or too old).
    pub missing: Vec<NsPath>,
    /// When the oldest of the known ones was read.
    pub oldest: Option<u64>,
}

impl State {
    /// A listing of the tree landed. One that is not whole (a walk cut short) serves
    /// completion but never replaces, in the index, the whole tree known before it.
    fn tree_listed(&mut self, (found, whole): (Vec<NsPath>, bool)) {
        let before = self.tree.replace(Slot::Ready(found));
        if whole {
            self.tree_at = now_secs();
            self.stale_tree = None;
            self.dirty = true;
            return;
        }
        if self.tree_at > 0 && self.stale_tree.is_none() {
            if let Some(Slot::Ready(old)) = before {
                self.stale_tree = Some(old);
            }
        }
        self.tree_at = 0;
    }

    fn mounts_read(&mut self, ns: NsPath, mounts: Vec<Mount>) {
        self.mounts.insert(ns.clone(), Slot::Ready(mounts));
        self.mounts_at.insert(ns, now_secs());
        self.dirty = true;
    }

    /// Take what an index holds where nothing is known yet.
    fn seed(&mut self, reach: Option<&NsPath>, index: Indexed) {
        let parse = |n: &str| NsPath::parse(n).ok();
        // While a listing is in flight the index's tree answers; the listing replaces it.
        let mut t: Vec<NsPath> = index.namespaces.iter().filter_map(|n| parse(n)).collect();
        if let Some(top) = reach {
            t.retain(|n| n.starts_with(top) || top.starts_with(n));
        }
        if self.tree_changed {
            // Changed by this shell since: kept only as "to be listed again".
            if self.stale_tree.is_none() && !matches!(self.tree, Some(Slot::Ready(_))) {
                self.stale_tree = Some(t);
            }
        } else if matches!(self.tree, None | Some(Slot::Loading(_))) && self.stale_tree.is_none() {
            self.tree = Some(Slot::Ready(t));
            self.tree_at = index.tree_at;
        }
        for (n, m) in index.mounts {
            let Some(ns) = parse(&n) else { continue };
            if !self.mounts.contains_key(&ns) && !self.forgotten.contains(&ns) {
                self.mounts.insert(ns.clone(), Slot::Ready(m.mounts));
                self.mounts_at.insert(ns, m.read_at);
            }
        }
    }

    /// What the index is to hold: the tree known (listed, or to be listed again) and the
    /// mounts read whole of the namespaces in it.
    fn indexed(&self) -> Option<Indexed> {
        let (tree, tree_at) = match (&self.tree, &self.stale_tree) {
            (Some(Slot::Ready(t)), _) if self.tree_at > 0 => (t, self.tree_at),
            (_, Some(t)) => (t, 0),
            (Some(Slot::Ready(t)), _) => (t, 0),
            _ => return None,
        };
        let known: std::collections::HashSet<&NsPath> = tree.iter().collect();
        let mounts = self
            .mounts_at
            .iter()
            .filter(|(ns, _)| ns.is_root() || known.contains(ns))
            .filter_map(|(ns, at)| match self.mounts.get(ns) {
                Some(Slot::Ready(m)) => Some((
                    ns.header(),
                    IndexedMounts {
                        read_at: *at,
                        mounts: m.clone(),
                    },
                )),
                _ => None,
            })
            .collect();
        Some(Indexed {
            tree_at,
            namespaces: tree.iter().map(NsPath::header).collect(),
            mounts,
        })
    }
}

/// The mounts of a table, auth methods prefixed `auth/`, sorted by path.
pub fn mount_list(t: &crate::engine::mounts::Table) -> Vec<Mount> {
    let mut m = mounts_of(&t.secret, "");
    m.extend(mounts_of(&t.auth, "auth/"));
    m.sort_by(|a, b| a.path.cmp(&b.path));
    m
}

fn mounts_of(table: &serde_json::Map<String, Value>, prefix: &str) -> Vec<Mount> {
    table
        .iter()
        .map(|(k, v)| Mount {
            path: format!("{prefix}{k}").into(),
            kind: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
                .into(),
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
