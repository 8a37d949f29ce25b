//! The index in a session: the namespace tree and the mount and auth names of each
//! namespace, kept between sessions (per server, by its cluster id, and per token top;
//! the file is [`crate::engine::store::IndexFile`]) so that `find` and completion answer
//! at once in a new session instead of reading every namespace again.
//!
//! What is trusted, and when:
//! - **The tree** answers `find` as the index has it when it was listed less than
//!   [`TREE_FRESH`] ago (no request: a warm `find` is a file read); older, one `SCAN`
//!   checks it first (a namespace another client created or deleted is seen then). Without
//!   `SCAN` (`--no-scan`, Vault Enterprise) listing costs a request per namespace, so a
//!   tree listed less than [`STALE_AFTER`] ago answers. What this shell creates or deletes
//!   itself is never answered from the index: its tree is listed again.
//! - **Mounts** answer from the index however old; the results say how old when that is
//!   more than [`STALE_AFTER`]. The mounts of a namespace the index does not know are
//!   read; what the shell changes itself (`secrets enable`, `auth disable`, a raw write to
//!   `sys/mounts`, …) is forgotten and read again; `refresh` reads everything again.
//! - **Interactive sessions** open and refresh an existing index in the background at
//!   start: the tree, and the mounts older than [`STALE_AFTER`] or not known,
//!   [`BACKGROUND`] at a time. `-c` and scripts do not (they end before a large refresh
//!   could).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::engine::cache::{mount_list, Cache, KnownPaths, Mount};
use crate::engine::error::EngineError;
use crate::engine::identity;
use crate::engine::nspath::NsPath;
use crate::engine::session::Session;
use crate::engine::store::now_secs;
use crate::engine::tree;
use crate::vault::Client;

/// Older than this, the index's mounts are said to be old, and a tree without `SCAN` is
/// listed again.
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// A tree listed less than this ago answers `find` without a `SCAN`.
pub const TREE_FRESH: Duration = Duration::from_secs(60);

/// How long the end of a session waits for the server to say who it is.
const FINISH_WAIT: Duration = Duration::from_secs(2);

/// How many namespaces a `find` reads at once.
const FOREGROUND: usize = 32;

/// How many namespaces a background refresh reads at once (gentle on the server).
pub const BACKGROUND: usize = 8;

/// Attach the index of this server and top to the session's cache, once. What an
/// untrusted index file was is returned as a note. A server that does not say its
/// cluster id has no index.
pub async fn attach(session: &mut Session) -> Vec<String> {
    if session.cache().has_index() {
        return Vec::new();
    }
    let server = identity::server_id(session).await;
    let Some(id) = server.cluster_id else {
        return Vec::new();
    };
    let file = session.state().index_file(&id, &session.top().header());
    session.cache().attach_index(file).into_iter().collect()
}

/// For an interactive session: attach the index and, when there was one, refresh it —
/// all in the background (a server that does not answer holds nothing up; what an
/// untrusted file was is not said here: it is rebuilt).
pub fn open_in_background(session: &Session) {
    let cache = session.cache().clone();
    if cache.has_index() {
        return;
    }
    let client = session.client().clone();
    let state = session.state().clone();
    let top = session.top().clone();
    let use_scan = !session.options().no_scan;
    tokio::spawn(async move {
        let Some(id) = identity::ask(&client).await.cluster_id else {
            return;
        };
        if cache.has_index() {
            return;
        }
        let _ = cache.attach_index(state.index_file(&id, &top.header()));
        if cache.known_tree().is_some() {
            refresh(&client, &cache, &top, use_scan, BACKGROUND, STALE_AFTER).await;
            let _ = cache.persist();
        }
    });
}

/// `refresh`: read the whole tree below the top and every namespace's mounts again, and
/// write the index.
pub async fn rebuild(session: &mut Session) -> Result<Vec<String>, EngineError> {
    let mut notes = attach(session).await;
    let top = session.top().clone();
    let known = gather(session, &top, Duration::ZERO, |_| false).await?;
    notes.extend(known.notes);
    notes.extend(save(session.cache()));
    Ok(notes)
}

/// At the end of a session: write the index if it changed. A session that changed what
/// the index holds (a mount enabled, a namespace created) without ever opening it opens
/// it now, so the next session does not answer from what was true before.
pub async fn finish(session: &mut Session) -> Vec<String> {
    let mut notes = Vec::new();
    // No index at all under the state dir: there is none to correct (and nothing is asked).
    let any = session.state().root().join("index").is_dir();
    if any && !session.cache().has_index() && session.cache().changed_since_read() {
        // Bounded: a server that stopped answering does not hold the exit.
        if let Ok(n) = tokio::time::timeout(FINISH_WAIT, attach(session)).await {
            notes.extend(n);
        }
    }
    notes.extend(save(session.cache()));
    notes
}

/// Write the index if it changed; a failure is a note (the index is only a cache).
pub fn save(cache: &Cache) -> Option<String> {
    cache
        .persist()
        .err()
        .map(|e| format!("note: the index was not saved: {e}"))
}

/// What is known below a namespace: the namespaces (relative to it) and the mount paths
/// (those kept) of each one that could be read (absolute namespace, mount paths).
#[derive(Debug, Default)]
pub struct Known {
    /// Every namespace below (relative), in tree order.
    pub namespaces: Vec<NsPath>,
    /// The mount paths of `here` and of each namespace below that answered.
    pub mounts: Vec<(NsPath, Vec<String>)>,
    /// What the results should say (the index's age, namespaces not searched).
    pub notes: Vec<String>,
}

/// The tree below `here` and the mount paths `keep` keeps of every namespace in it: the
/// tree checked (see the module), mounts from the index unless older than `max_age`
/// (ZERO: read them all), the rest read [`FOREGROUND`] at a time and kept.
pub async fn gather(
    session: &Session,
    here: &NsPath,
    max_age: Duration,
    keep: impl Fn(&str) -> bool,
) -> Result<Known, EngineError> {
    gather_with(session, here, max_age, keep, false).await
}

/// `find`: attach the index, then [`gather`] with the index's tree when it is recent
/// (see the module).
pub async fn attach_and_gather(
    session: &mut Session,
    here: &NsPath,
    keep: impl Fn(&str) -> bool,
) -> Result<Known, EngineError> {
    let notes = attach(session).await;
    let mut known = gather_with(session, here, Duration::MAX, keep, true).await?;
    known.notes.splice(0..0, notes);
    Ok(known)
}

async fn gather_with(
    session: &Session,
    here: &NsPath,
    max_age: Duration,
    keep: impl Fn(&str) -> bool,
    recent_tree: bool,
) -> Result<Known, EngineError> {
    let cache = session.cache().clone();
    let client = session.client().clone();
    let use_scan = !session.options().no_scan;
    let now = now_secs();
    let mut notes = Vec::new();
    // The tree: one SCAN says what is there now; level by level it costs a request per
    // namespace. A tree from the index listed recently enough answers without either.
    let fresh_for = if use_scan { TREE_FRESH } else { STALE_AFTER };
    // A namespace the tree does not hold (created by another client since, and `cd`'d
    // into) makes it not recent: what is below it is not known.
    let recent = cache.known_tree().filter(|(known, at)| {
        *at > 0
            && now.saturating_sub(*at) < fresh_for.as_secs()
            && (here.is_root() || *here == *session.top() || known.contains(here))
    });
    // What is below, and the namespaces to read the mounts of (None: all of them; the
    // index does not say which are locked or sealed).
    let (below, open): (Vec<NsPath>, Option<Vec<NsPath>>) = match recent {
        Some((known, _)) if recent_tree => {
            let below: Vec<NsPath> = known
                .into_iter()
                .filter(|n| n != here && n.starts_with(here))
                .collect();
            (below, None)
        }
        _ => {
            let walk = tree::walk(&client, here, None, use_scan).await?;
            let below: Vec<NsPath> = walk.entries.iter().map(|e| here.join(&e.path)).collect();
            if walk.unlisted.is_empty() {
                cache.subtree_listed(here, &below);
            }
            let open = walk
                .entries
                .iter()
                .filter(|e| !e.state.is_closed())
                .map(|e| here.join(&e.path))
                .collect();
            (below, Some(open))
        }
    };
    let namespaces = below
        .iter()
        .map(|n| n.strip_prefix(here).unwrap_or_default())
        .collect();
    let mut all = vec![here.clone()];
    all.extend(open.unwrap_or(below));
    let KnownPaths {
        known: mut known_mounts,
        missing: to_read,
        oldest,
    } = cache.known_paths(all, max_age.as_secs(), &keep);
    let mut meter = session.meter("reading", "namespaces", to_read.len());
    let mut done = 0;
    let mut reads = read_mounts(&client, to_read, FOREGROUND);
    while let Some((ns, r)) = reads.next().await {
        done += 1;
        meter.tick(done);
        if let Some(m) = r {
            let kept = m
                .iter()
                .filter(|m| keep(&m.path))
                .map(|m| m.path.to_string());
            known_mounts.push((ns.clone(), kept.collect()));
            cache.mounts_listed(&ns, m);
        }
    }
    drop(meter);
    if let Some(age) = oldest.map(|o| now.saturating_sub(o)) {
        if age > STALE_AFTER.as_secs() {
            notes.push(format!(
                "note: mount names from the index of {} ago; `refresh` reads them again",
                ago(age)
            ));
        }
    }
    Ok(Known {
        namespaces,
        mounts: known_mounts,
        notes,
    })
}

/// The mounts of each namespace, `n` at a time, as they come (None: not readable).
fn read_mounts(
    client: &Client,
    namespaces: Vec<NsPath>,
    n: usize,
) -> impl futures::Stream<Item = (NsPath, Option<Vec<Mount>>)> + '_ {
    futures::stream::iter(namespaces.into_iter().map(move |ns| async move {
        let r = crate::engine::mounts::of(client, &ns)
            .await
            .ok()
            .map(|t| mount_list(&t));
        (ns, r)
    }))
    .buffer_unordered(n.max(1))
}

/// List the tree below `top` again and read the mounts of every namespace in it not
/// read within `max_age`, `n` at a time, into `cache` (a background refresh).
async fn refresh(
    client: &Client,
    cache: &Arc<Cache>,
    top: &NsPath,
    use_scan: bool,
    n: usize,
    max_age: Duration,
) {
    let Ok(walk) = tree::walk(client, top, None, use_scan).await else {
        return;
    };
    let below: Vec<NsPath> = walk.entries.iter().map(|e| top.join(&e.path)).collect();
    if walk.unlisted.is_empty() {
        cache.subtree_listed(top, &below);
    }
    let now = now_secs();
    let due: Vec<NsPath> = std::iter::once(top.clone())
        .chain(
            walk.entries
                .iter()
                .filter(|e| !e.state.is_closed())
                .map(|e| top.join(&e.path)),
        )
        .filter(|ns| {
            cache
                .known_mounts(ns)
                .is_none_or(|(_, at)| now.saturating_sub(at) >= max_age.as_secs())
        })
        .collect();
    let mut reads = read_mounts(client, due, n);
    while let Some((ns, r)) = reads.next().await {
        if let Some(m) = r {
            cache.mounts_listed(&ns, m);
        }
    }
}

/// An age said short: `12 min`, `3 h`, `2 days`.
pub fn ago(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_short() {
        assert_eq!(ago(59), "59 s");
        assert_eq!(ago(600), "10 min");
        assert_eq!(ago(3 * 3600), "3 h");
        assert_eq!(ago(5 * 86400), "5 days");
    }
}
