//! The index file: what vnsh learnt of one server's namespace tree and of the mount and
//! auth names of each namespace, kept between sessions (`index/CLUSTER/TOP.json`, 0600).
//!
//! Names only — never a secret value, never a token. It is a cache: losing it costs one
//! walk of the tree, so it is written atomically but without the key store's care
//! (no OS lock: two sessions writing at once leave one whole file, the last). A file
//! that does not parse, has another format version, or names another server or another
//! top than the one it is opened for is ignored and overwritten, never trusted.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::files::{ensure_dir, parent_dir, read_err, side_prefix, write_atomic, StoreError, TEMP};

/// The format version this vnsh writes. Version 1 (every mount written out) is read too:
/// it is version 2 without the standard mounts' bits.
pub const INDEX_VERSION: u64 = 2;

/// The mounts every namespace has, each written as one bit of `std` rather than in full
/// (they are most of a large tree's index): bit `i` with the root's type, bit `i + 4`
/// with a child namespace's `ns_` type. Any other path or type is written in full.
const STANDARD: [(&str, &str, &str); 4] = [
    ("auth/token/", "token", "ns_token"),
    ("cubbyhole/", "cubbyhole", "ns_cubbyhole"),
    ("identity/", "identity", "ns_identity"),
    ("sys/", "system", "ns_system"),
];

/// The largest index file read (a tree of 20,000 namespaces is about 3 MB).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A temp file left by a writer that died is removed once it is this old.
const ORPHAN_AGE: Duration = Duration::from_secs(600);

/// One mount of a namespace, as the index keeps it: its path (`secret/`, `auth/userpass/`),
/// its type and whether it is KV version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedMount {
    /// `secret/`, `auth/userpass/` (the standard mounts' names are not copied: a large
    /// tree has four in each namespace).
    pub path: Cow<'static, str>,
    /// `kv`, `userpass`, …
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// KV version 2.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kv2: bool,
}

/// The mounts of one namespace and when they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedMounts {
    /// When they were read (seconds since the epoch).
    pub read_at: u64,
    /// The mounts, sorted by path.
    pub mounts: Vec<IndexedMount>,
}

/// What an index holds: the namespaces below the top and the mounts of those that were
/// read. Namespaces are in their `a/b/` form, absolute (the root is not listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indexed {
    /// When the tree was last listed (seconds since the epoch).
    pub tree_at: u64,
    /// Every namespace of the tree below the top (the top's ancestors included), sorted.
    pub namespaces: Vec<String>,
    /// The mounts of each namespace that was read (`""` is the root).
    pub mounts: BTreeMap<String, IndexedMounts>,
}

/// The file as read.
#[derive(Deserialize)]
struct Doc {
    vnsh_index: u64,
    cluster_id: String,
    top: String,
    tree_at: u64,
    namespaces: Vec<String>,
    mounts: BTreeMap<String, DocMounts>,
}

/// The file as written (borrowed from what is saved).
#[derive(Serialize)]
struct DocOut<'a> {
    vnsh_index: u64,
    cluster_id: &'a str,
    top: &'a str,
    tree_at: u64,
    namespaces: &'a [String],
    mounts: BTreeMap<&'a str, DocMountsOut<'a>>,
}

/// One namespace's mounts in the file: the standard ones as bits ([`STANDARD`]), the
/// others in full.
#[derive(Deserialize)]
struct DocMounts {
    read_at: u64,
    #[serde(default)]
    std: u8,
    #[serde(default)]
    mounts: Vec<IndexedMount>,
}

/// [`DocMounts`] as written.
#[derive(Serialize)]
struct DocMountsOut<'a> {
    read_at: u64,
    #[serde(skip_serializing_if = "is_zero")]
    std: u8,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mounts: Vec<&'a IndexedMount>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// The bit of a standard mount (see [`STANDARD`]), None for any other.
fn standard_bit(m: &IndexedMount) -> Option<u8> {
    if m.kv2 {
        return None;
    }
    STANDARD
        .iter()
        .zip(0u8..)
        .find_map(|((path, kind, ns_kind), i)| {
            if m.path != *path {
                None
            } else if m.kind == *kind {
                Some(1 << i)
            } else if m.kind == *ns_kind {
                Some(1 << (i + 4))
            } else {
                None
            }
        })
}

impl<'a> DocMountsOut<'a> {
    fn pack(m: &'a IndexedMounts) -> Self {
        let mut std = 0;
        let mut rest = Vec::new();
        for mount in &m.mounts {
            match standard_bit(mount) {
                Some(bit) if std & bit == 0 => std |= bit,
                _ => rest.push(mount),
            }
        }
        DocMountsOut {
            read_at: m.read_at,
            std,
            mounts: rest,
        }
    }
}

impl DocMounts {
    fn unpack(self) -> IndexedMounts {
        let mut mounts = self.mounts;
        for ((path, kind, ns_kind), i) in STANDARD.iter().zip(0u8..) {
            for (bit, kind) in [(1 << i, kind), (1 << (i + 4), ns_kind)] {
                if self.std & bit != 0 {
                    mounts.push(IndexedMount {
                        path: Cow::Borrowed(path),
                        kind: Cow::Borrowed(kind),
                        kv2: false,
                    });
                }
            }
        }
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        IndexedMounts {
            read_at: self.read_at,
            mounts,
        }
    }
}

/// What opening an index found.
#[derive(Debug)]
pub enum IndexLoad {
    /// No index yet.
    Missing,
    /// A whole index of this server and top.
    Loaded(Indexed),
    /// A file that is not to be trusted, and why; it is overwritten at the next save.
    Ignored(String),
}

/// The index of one server (by its cluster id) and token top, under a state dir.
#[derive(Debug, Clone)]
pub struct IndexFile {
    path: PathBuf,
    cluster_id: String,
    top: String,
}

impl IndexFile {
    /// The index of the server `cluster_id` for a token whose namespace is `top` (`a/b/`
    /// form, `""` for the root), under the state dir `root`.
    pub fn new(root: &Path, cluster_id: &str, top: &str) -> IndexFile {
        let path = root
            .join("index")
            .join(file_part(cluster_id))
            .join(format!("{}.json", top_part(top)));
        IndexFile {
            path,
            cluster_id: cluster_id.to_string(),
            top: top.to_string(),
        }
    }

    /// Where it is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read it: missing, whole and this server's, or ignored (and why).
    pub fn load(&self) -> IndexLoad {
        let bytes = match read_bounded(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return IndexLoad::Missing,
            Err(e) => return IndexLoad::Ignored(format!("it cannot be read ({e})")),
        };
        let doc: Doc = match serde_json::from_slice(&bytes) {
            Ok(d) => d,
            Err(e) => return IndexLoad::Ignored(format!("it does not parse ({e})")),
        };
        if !(1..=INDEX_VERSION).contains(&doc.vnsh_index) {
            return IndexLoad::Ignored(format!(
                "it has format version {}, this vnsh writes {INDEX_VERSION}",
                doc.vnsh_index
            ));
        }
        if doc.cluster_id != self.cluster_id {
            return IndexLoad::Ignored(format!(
                "it is the index of another server (cluster {})",
                doc.cluster_id
            ));
        }
        if doc.top != self.top {
            return IndexLoad::Ignored(format!(
                "it is the index of another namespace ({:?})",
                doc.top
            ));
        }
        if let Some(bad) = doc
            .namespaces
            .iter()
            .chain(doc.mounts.keys().filter(|k| !k.is_empty()))
            .find(|n| !is_ns_form(n))
        {
            return IndexLoad::Ignored(format!("it names a namespace as {bad:?}"));
        }
        IndexLoad::Loaded(Indexed {
            tree_at: doc.tree_at,
            namespaces: doc.namespaces,
            mounts: doc
                .mounts
                .into_iter()
                .map(|(ns, m)| (ns, m.unpack()))
                .collect(),
        })
    }

    /// Write it whole (atomically, 0600), and remove what writers that died left.
    pub fn save(&self, index: &Indexed) -> Result<(), StoreError> {
        let dir = parent_dir(&self.path);
        ensure_dir(parent_dir(dir))?;
        ensure_dir(dir)?;
        let doc = DocOut {
            vnsh_index: INDEX_VERSION,
            cluster_id: &self.cluster_id,
            top: &self.top,
            tree_at: index.tree_at,
            namespaces: &index.namespaces,
            mounts: index
                .mounts
                .iter()
                .map(|(ns, m)| (ns.as_str(), DocMountsOut::pack(m)))
                .collect(),
        };
        let bytes = serde_json::to_vec(&doc).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        write_atomic(&self.path, &bytes)?;
        remove_orphans(&self.path);
        Ok(())
    }

    /// Remove it (nothing there is fine).
    pub fn remove(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(read_err(&self.path)(e)),
            _ => Ok(()),
        }
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::other("not a file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(io::Error::other(format!("{} bytes", meta.len())));
    }
    fs::read(path)
}

/// `a/b/`: segments without `/`, each ending in `/`, no dot segments, no control characters.
fn is_ns_form(n: &str) -> bool {
    n.ends_with('/')
        && n[..n.len() - 1]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.chars().any(char::is_control))
}

/// A cluster id as a directory name: kept when it is plain (a UUID), else hex.
fn file_part(cluster_id: &str) -> String {
    let plain = !cluster_id.is_empty()
        && cluster_id.len() <= 64
        && cluster_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if plain {
        cluster_id.to_string()
    } else {
        format!("x{}", hex(cluster_id))
    }
}

/// A top namespace as a file name: `root`, else `ns-` and its path in hex (any name the
/// server allows becomes a safe file name, and no two collide).
fn top_part(top: &str) -> String {
    if top.is_empty() {
        "root".to_string()
    } else {
        format!("ns-{}", hex(top))
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Temp files of `path` older than [`ORPHAN_AGE`]: a writer died before its rename.
fn remove_orphans(path: &Path) {
    let prefix = side_prefix(path, TEMP);
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > ORPHAN_AGE);
        if old && entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::files::testutil::mode;
    use super::*;

    fn sample() -> Indexed {
        let mut mounts = BTreeMap::new();
        mounts.insert(
            "acme/".to_string(),
            IndexedMounts {
                read_at: 5,
                mounts: vec![IndexedMount {
                    path: "secret/".into(),
                    kind: "kv".into(),
                    kv2: true,
                }],
            },
        );
        Indexed {
            tree_at: 7,
            namespaces: vec!["acme/".into(), "acme/web/".into()],
            mounts,
        }
    }

    #[test]
    fn saved_then_loaded_whole_and_0600() {
        let dir = tempfile::tempdir().unwrap();
        let f = IndexFile::new(dir.path(), "c0ffee-1", "");
        assert!(matches!(f.load(), IndexLoad::Missing));
        f.save(&sample()).unwrap();
        assert_eq!(mode(f.path()), 0o600);
        match f.load() {
            IndexLoad::Loaded(i) => assert_eq!(i, sample()),
            other => panic!("{other:?}"),
        }
        f.remove().unwrap();
        assert!(matches!(f.load(), IndexLoad::Missing));
    }

    #[test]
    fn another_servers_or_tops_or_a_broken_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mine = IndexFile::new(dir.path(), "c1", "acme/");
        mine.save(&sample()).unwrap();
        // Copied where another server's or another top's index belongs: not trusted.
        for (cluster, top, why) in [
            ("c2", "acme/", "another server"),
            ("c1", "", "another namespace"),
        ] {
            let other = IndexFile::new(dir.path(), cluster, top);
            ensure_dir(parent_dir(parent_dir(other.path()))).unwrap();
            ensure_dir(parent_dir(other.path())).unwrap();
            fs::copy(mine.path(), other.path()).unwrap();
            match other.load() {
                IndexLoad::Ignored(reason) => assert!(reason.contains(why), "{reason}"),
                o => panic!("{o:?}"),
            }
        }
        let text = fs::read_to_string(mine.path()).unwrap();
        for (broken, why) in [
            (text[..text.len() / 2].to_string(), "does not parse"),
            (
                text.replace(
                    &format!("\"vnsh_index\":{INDEX_VERSION}"),
                    "\"vnsh_index\":9",
                ),
                "format version 9",
            ),
            (text.replace("acme/web/", "acme/../x/"), "names a namespace"),
            ("".to_string(), "does not parse"),
        ] {
            fs::write(mine.path(), broken).unwrap();
            match mine.load() {
                IndexLoad::Ignored(reason) => assert!(reason.contains(why), "{reason}"),
                o => panic!("{o:?}"),
            }
        }
        // Overwritten whole by the next save.
        mine.save(&sample()).unwrap();
        assert!(matches!(mine.load(), IndexLoad::Loaded(_)));
    }

    fn mount(path: &'static str, kind: &'static str, kv2: bool) -> IndexedMount {
        IndexedMount {
            path: path.into(),
            kind: kind.into(),
            kv2,
        }
    }

    #[test]
    fn standard_mounts_are_bits_in_the_file_and_whole_again_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = IndexFile::new(dir.path(), "c1", "");
        let mut index = sample();
        let root = vec![
            mount("auth/token/", "token", false),
            mount("cubbyhole/", "cubbyhole", false),
            mount("identity/", "identity", false),
            mount("secret/", "kv", true),
            mount("sys/", "system", false),
        ];
        // A child's standard mounts have `ns_` types; a standard path with another type
        // (or one a plugin could shadow) is kept in full.
        let child = vec![
            mount("auth/token/", "ns_token", false),
            mount("cubbyhole/", "ns_cubbyhole", false),
            mount("identity/", "custom-identity", false),
            mount("sys/", "ns_system", false),
        ];
        for (ns, mounts) in [("", root), ("acme/web/", child)] {
            index
                .mounts
                .insert(ns.into(), IndexedMounts { read_at: 9, mounts });
        }
        f.save(&index).unwrap();
        let text = fs::read_to_string(f.path()).unwrap();
        assert!(
            !text.contains("cubbyhole") && !text.contains("\"system\""),
            "{text}"
        );
        assert!(
            text.contains("custom-identity") && text.contains("secret/"),
            "{text}"
        );
        match f.load() {
            IndexLoad::Loaded(i) => assert_eq!(i, index),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_version_1_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = IndexFile::new(dir.path(), "c1", "");
        ensure_dir(parent_dir(parent_dir(f.path()))).unwrap();
        ensure_dir(parent_dir(f.path())).unwrap();
        let v1 = r#"{"vnsh_index":1,"cluster_id":"c1","top":"","tree_at":7,
            "namespaces":["acme/"],"mounts":{"acme/":{"read_at":5,"mounts":[
            {"path":"auth/token/","type":"ns_token"},{"path":"kv/","type":"kv","kv2":true}]}}}"#;
        fs::write(f.path(), v1).unwrap();
        match f.load() {
            IndexLoad::Loaded(i) => assert_eq!(
                i.mounts["acme/"].mounts,
                [
                    mount("auth/token/", "ns_token", false),
                    mount("kv/", "kv", true)
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_names_are_safe_for_any_name() {
        let root = Path::new("/s");
        let f = IndexFile::new(root, "../../etc", "a b/ü/");
        let rel = f.path().strip_prefix(root).unwrap();
        assert_eq!(rel.components().count(), 3, "{rel:?}");
        assert!(f.path().to_string_lossy().ends_with(".json"));
        assert!(!f.path().to_string_lossy().contains(".."));
        assert_ne!(
            IndexFile::new(root, "c", "a/").path(),
            IndexFile::new(root, "c", "a/b/").path()
        );
    }
}
