//! The state files of vnsh: the state dir, the unlock-key store and the action log.
//!
//! Everything lives under `$XDG_STATE_HOME/vnsh` (default `~/.local/state/vnsh`), in a
//! directory only the user can enter (0700), in files only the user can read (0600).
//!
//! The unlock-key store is the one file whose loss would hurt: a lock returns an unlock
//! key, and losing it means only a sudo token can unlock the namespace again. So it is
//! written atomically (temp file, fsync, rename, fsync of the directory), under a lock
//! file so that two vnsh processes cannot lose each other's keys, nothing is ever removed
//! from it, and a file this vnsh cannot read is never overwritten.
//!
//! The rooms: [`dir`] finds the state dir, [`keys`] is the unlock-key store, [`log`] the
//! action log; this file holds their errors and the file helpers they share.

mod dir;
mod keys;
mod log;

pub use dir::StateDir;
pub use keys::{KeyStore, SavedKey};
pub use log::{Action, ActionLog};

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The format version of the unlock-key store this vnsh reads and writes.
pub const KEYS_VERSION: u64 = 1;

/// Mode of every state file.
const FILE_MODE: u32 = 0o600;
/// Mode of the state directory.
const DIR_MODE: u32 = 0o700;

/// Errors of the state files.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither `XDG_STATE_HOME` nor `HOME` is set.
    #[error(
        "cannot tell where to keep the vnsh state (history, unlock keys, action log): \
         neither XDG_STATE_HOME nor HOME is set; set one of them"
    )]
    NoHome,
    /// A file system operation on a state file failed.
    #[error("vnsh state file {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The unlock-key store does not parse; it is left untouched.
    #[error(
        "the unlock-key store {} is corrupt ({reason}); it was left untouched — move it aside \
         to save new keys, and keep it: it may hold unlock keys",
        path.display()
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The unlock-key store was written by a vnsh with a newer format; it is left untouched.
    #[error(
        "the unlock-key store {} has format version {version}, this vnsh only knows version {}; \
         it was left untouched — use a newer vnsh, or move it aside (and keep it: it holds \
         unlock keys) to save new keys",
        path.display(),
        KEYS_VERSION
    )]
    UnsupportedVersion {
        /// The store file.
        path: PathBuf,
        /// The version found in it.
        version: String,
    },
    /// Another vnsh held the unlock-key store's lock for too long.
    #[error(
        "the unlock-key store is busy: the lock file {} is held by another vnsh (waited {}); \
         if no other vnsh is running, remove that file and try again",
        path.display(),
        humantime::format_duration(*waited)
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long this vnsh waited.
        waited: Duration,
    },
}

/// Shorthand: wrap an `io::Error` with the path it happened on.
fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Create a directory and its missing parents with mode 0700.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io_err(dir))
}

/// The directory a file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Give an open file mode 0600 if it has another.
fn chmod_600(file: &File, path: &Path) -> Result<(), StoreError> {
    let meta = file.metadata().map_err(io_err(path))?;
    if meta.permissions().mode() & 0o777 != FILE_MODE {
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
            .map_err(io_err(path))?;
    }
    Ok(())
}

/// Create the file if missing with mode 0600, chmod it to 0600 if present (its content is kept).
pub fn secure_file(path: &Path) -> Result<(), StoreError> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_err(path))?;
    chmod_600(&file, path)
}

/// Now, as RFC 3339 UTC to the second.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A string no other lock holder or temp file has: pid, time and a counter.
fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh temp file name next to `path`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(path).join(format!(".{name}.tmp-{}", unique_token()))
}

/// fsync a directory, so that a rename or a creation in it is durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let file = File::open(dir).map_err(io_err(dir))?;
    match file.sync_all() {
        Ok(()) => Ok(()),
        // Some file systems cannot sync a directory; the data itself is synced.
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                || e.kind() == io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        Err(e) => Err(io_err(dir)(e)),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// The permission bits of a file.
    pub fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::mode;
    use super::*;

    #[test]
    fn secure_file_creates_and_chmods_keeping_content() {
        let tmp = tempfile::tempdir().unwrap();
        let h = StateDir::at(tmp.path()).history_file();
        secure_file(&h).unwrap();
        assert_eq!(mode(&h), 0o600);
        fs::write(&h, "ls\n").unwrap();
        fs::set_permissions(&h, fs::Permissions::from_mode(0o644)).unwrap();
        secure_file(&h).unwrap();
        assert_eq!(mode(&h), 0o600);
        assert_eq!(fs::read_to_string(&h).unwrap(), "ls\n");
    }

    #[test]
    fn error_messages_are_specific() {
        let e = StoreError::NoHome.to_string();
        assert!(e.contains("XDG_STATE_HOME") && e.contains("HOME"), "{e}");
        let e = StoreError::Io {
            path: "/s/actions.jsonl".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        }
        .to_string();
        assert!(e.contains("/s/actions.jsonl"), "{e}");
    }
}
