//! What the state files share: their error type, and the file operations every one of them
//! uses (atomic writes, fsync, 0600 modes, temp and side files).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The format version of the unlock-key store this vnsh reads and writes.
pub const KEYS_VERSION: u64 = 2;

/// Mode of every state file.
pub(super) const FILE_MODE: u32 = 0o600;
/// Mode of the state directory.
pub(super) const DIR_MODE: u32 = 0o700;

/// Errors of the state files: each names the file, the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither `XDG_STATE_HOME` nor `HOME` is set.
    #[error(
        "cannot tell where to keep the vnsh state (history, unlock keys, action log): \
         neither XDG_STATE_HOME nor HOME is set; set one of them"
    )]
    NoHome,
    /// A file system operation on a state file failed for a reason not named below.
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
        "the unlock-key store {} has format version {version}, this vnsh only knows versions \
         up to {}; it was left untouched — use a newer vnsh, or move it aside (and keep it: it \
         holds unlock keys) to save new keys",
        path.display(),
        KEYS_VERSION
    )]
    UnsupportedVersion {
        /// The store file.
        path: PathBuf,
        /// The version found in it.
        version: String,
    },
    /// Another process held the unlock-key store's lock for longer than the bounded wait.
    #[error(
        "the unlock-key store is busy: {} holds the lock {} (waited {}); let it finish, or stop \
         it, and try again",
        holder.map(|pid| format!("process {pid}{}", process_name(pid))).unwrap_or_else(|| "another process".into()),
        path.display(),
        humantime::format_duration(*waited)
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this vnsh waited.
        waited: Duration,
        /// The holder's process id, as it wrote it in the lock file.
        holder: Option<u32>,
    },
    /// A directory (or another non-file) sits where a state file should be.
    #[error(
        "{} is a directory, not a file; move it aside (look inside first: it may hold unlock \
         keys) so that vnsh can create the file",
        path.display()
    )]
    NotAFile {
        /// Where the file should be.
        path: PathBuf,
    },
    /// A state file cannot be read (permission denied).
    #[error(
        "cannot read {}: {source}; make it readable and writable by your user (chown it to \
         yourself, chmod 600)",
        path.display()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A state file or its directory is on a read-only file system.
    #[error(
        "cannot write {}: the file system is read-only; remount it read-write, or point \
         XDG_STATE_HOME at a writable directory (and keep the old state dir: it holds unlock keys)",
        path.display()
    )]
    ReadOnly {
        /// The file that could not be written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A state file or its directory may not be written (permission, immutable flag).
    #[error(
        "cannot write {}: {source}; give your user write access to it and to its directory \
         (and check `lsattr` for an immutable flag)",
        path.display()
    )]
    NotWritable {
        /// The file that could not be written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The file system of a state file is full (or the quota is used up).
    #[error(
        "cannot write {}: no space left on the device ({source}); free some space on that \
         file system and try again",
        path.display()
    )]
    DiskFull {
        /// The file that could not be written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// `begin_lock` found that the store could not keep the key: the lock must not be sent.
    #[error(
        "refusing to lock {}: nothing was sent, because its unlock key could not be kept: {cause}",
        ns_display(namespace)
    )]
    LockRefused {
        /// The namespace that was to be locked.
        namespace: String,
        /// Why the store cannot keep its key.
        #[source]
        cause: Box<StoreError>,
    },
    /// `complete` could not add the key to the store, and wrote it to a file of its own.
    #[error(
        "the unlock key of {} could not be added to the store ({cause}); it was written to {} \
         instead, and the next vnsh start adds it to the store once the store can be written",
        ns_display(namespace),
        path.display()
    )]
    KeyKeptAside {
        /// The namespace the key unlocks.
        namespace: String,
        /// The file holding the key.
        path: PathBuf,
        /// Why the store could not take it.
        #[source]
        cause: Box<StoreError>,
    },
    /// No lock intent has that id.
    #[error("there is no lock intent {id} in {}", path.display())]
    NoSuchIntent {
        /// The id asked for.
        id: String,
        /// The store file.
        path: PathBuf,
    },
    /// The operation was cancelled (Ctrl-C) before it changed anything.
    #[error("cancelled before the unlock-key store was changed")]
    Cancelled,
    /// The background task running a store operation failed.
    #[error("the state-file task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// The underlying cause of a `LockRefused` or `KeyKeptAside`; the error itself otherwise.
    pub fn cause(&self) -> &StoreError {
        match self {
            StoreError::LockRefused { cause, .. } | StoreError::KeyKeptAside { cause, .. } => {
                cause.cause()
            }
            other => other,
        }
    }
}

/// A canonical namespace as shown: `a/b`, the root as `/`.
pub(super) fn ns_display(ns: &str) -> &str {
    match ns.trim_end_matches('/') {
        "" => "/",
        s => s,
    }
}

/// The name of a running process, for a message: ` (vnsh)`, or nothing when unknown.
pub(super) fn process_name(pid: u32) -> String {
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(name) if !name.trim().is_empty() => format!(" ({})", name.trim()),
        _ => String::new(),
    }
}

/// Shorthand: wrap an `io::Error` with the path it happened on.
pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An error reading `path`, named by its cause.
pub(super) fn read_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::IsADirectory => StoreError::NotAFile { path },
            io::ErrorKind::PermissionDenied => StoreError::Unreadable { path, source },
            _ => StoreError::Io { path, source },
        }
    }
}

/// An error writing (or creating, syncing, renaming) `path`, named by its cause.
pub(super) fn write_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly { path, source },
            io::ErrorKind::PermissionDenied => StoreError::NotWritable { path, source },
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                StoreError::DiskFull { path, source }
            }
            io::ErrorKind::IsADirectory => StoreError::NotAFile { path },
            _ => StoreError::Io { path, source },
        }
    }
}

/// Create a directory and its missing parents with mode 0700.
pub(super) fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(write_err(dir))
}

/// The directory a file lives in (`.` for a bare file name).
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Give an open file mode 0600 if it has another.
pub(super) fn chmod_600(file: &File, path: &Path) -> Result<(), StoreError> {
    let meta = file.metadata().map_err(io_err(path))?;
    if meta.permissions().mode() & 0o777 != FILE_MODE {
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
            .map_err(write_err(path))?;
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
        .map_err(write_err(path))?;
    chmod_600(&file, path)
}

/// Now, as RFC 3339 UTC to the second.
pub(super) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A string no other lock holder or temp file has: pid, time and a counter.
pub(super) fn unique_token() -> String {
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
pub(super) fn temp_path(path: &Path) -> PathBuf {
    side_path(path, TEMP, &unique_token())
}

/// The kind of side file a crash can leave with a whole store in it (a temp file not yet
/// renamed over the store).
pub(super) const TEMP: &str = "tmp";

/// The name prefix of the side files of `path` of one kind: `.NAME.KIND-`.
pub(super) fn side_prefix(path: &Path, kind: &str) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.{kind}-")
}

/// A side file of `path` beside it: `.NAME.KIND-TOKEN`.
pub(super) fn side_path(path: &Path, kind: &str, token: &str) -> PathBuf {
    parent_dir(path).join(format!("{}{token}", side_prefix(path, kind)))
}

/// Replace `path` atomically with `bytes`: a temp file (0600) beside it, fsync, rename
/// over, fsync of the directory. Errors name `path` (the temp file is an implementation detail).
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)
            .map_err(write_err(path))?;
        chmod_600(&file, path)?;
        file.write_all(bytes).map_err(write_err(path))?;
        file.sync_all().map_err(write_err(path))?;
        fs::rename(&tmp, path).map_err(write_err(path))
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(parent_dir(path))
}

/// fsync a directory, so that a rename or a creation in it is durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
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
        Err(e) => Err(write_err(dir)(e)),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Real file-system conditions for the tests. They run as root (here and in CI), so
    //! `chmod` stops nothing: a full disk is a small tmpfs filled up, a read-only directory
    //! a tmpfs remounted read-only, an unreadable file one read with another fsuid. A test
    //! whose condition cannot be set up fails, saying why; it never skips.
    use super::*;
    use std::process::Command;

    /// The permission bits of a file.
    pub fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A tmpfs of its own, unmounted on drop.
    pub struct Tmpfs {
        dir: tempfile::TempDir,
    }

    impl Tmpfs {
        /// Mount a tmpfs of `size` (as `mount -o size=` takes it) on a fresh directory.
        pub fn new(size: &str) -> Tmpfs {
            let dir = tempfile::tempdir().unwrap();
            mount(
                &[
                    "-t",
                    "tmpfs",
                    "-o",
                    &format!("size={size},mode=0700"),
                    "tmpfs",
                ],
                dir.path(),
            );
            Tmpfs { dir }
        }

        /// Where it is mounted.
        pub fn path(&self) -> &Path {
            self.dir.path()
        }

        /// Remount it read-only (or back read-write).
        pub fn set_read_only(&self, ro: bool) {
            let opt = if ro { "remount,ro" } else { "remount,rw" };
            mount(&["-o", opt], self.path());
        }

        /// Fill it up: write until not one more byte fits. Returns the filler file.
        pub fn fill(&self) -> PathBuf {
            let filler = self.path().join("filler");
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&filler)
                .unwrap();
            for chunk in [1 << 16, 1 << 12, 1 << 9, 1] {
                let buf = vec![0u8; chunk];
                loop {
                    match f.write_all(&buf) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::StorageFull => break,
                        Err(e) => panic!("filling {}: {e}", filler.display()),
                    }
                }
            }
            let probe = f.write_all(b"x").unwrap_err();
            assert_eq!(
                probe.kind(),
                io::ErrorKind::StorageFull,
                "the tmpfs is not full"
            );
            filler
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }

    /// `mount ARGS TARGET`, or a panic saying what this test needs.
    fn mount(args: &[&str], target: &Path) {
        let out = Command::new("mount")
            .args(args)
            .arg(target)
            .output()
            .expect("this test needs mount(8)");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (root, CAP_SYS_ADMIN): mount {args:?} {} failed: {}",
            target.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Run `f` on a thread whose file-system user is `nobody` (65534): for it, root's 0600
    /// files are unreadable, as for any other user. fsuid is per thread on Linux, so the
    /// rest of the test process keeps root.
    pub fn as_nobody<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(move || {
            // SAFETY: setfsuid(2) only changes this thread's file-system uid.
            unsafe { libc::setfsuid(65534) };
            // setfsuid answers the previous id; asking with an invalid id changes nothing.
            // SAFETY: as above.
            let now = unsafe { libc::setfsuid(u32::MAX) };
            assert_eq!(now, 65534, "could not take the fsuid of nobody");
            f()
        })
        .join()
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
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

    #[test]
    fn each_failure_names_the_file_the_cause_and_the_fix() {
        let p = || PathBuf::from("/st/unlock-keys.json");
        let os = |code: i32| io::Error::from_raw_os_error(code);
        // The system's own errors map to these variants.
        let cases: Vec<(StoreError, &[&str])> = vec![
            (
                StoreError::Corrupt {
                    path: p(),
                    reason: "not valid JSON".into(),
                },
                &["corrupt", "not valid JSON", "move it aside", "keep it"],
            ),
            (
                StoreError::UnsupportedVersion {
                    path: p(),
                    version: "3".into(),
                },
                &["version 3", "up to 2", "newer vnsh", "move it aside"],
            ),
            (
                read_err(&p())(os(libc::EACCES)),
                &["cannot read", "chmod 600"],
            ),
            (
                read_err(&p())(os(libc::EISDIR)),
                &["is a directory", "move it aside"],
            ),
            (
                write_err(&p())(os(libc::EROFS)),
                &["read-only", "remount", "XDG_STATE_HOME"],
            ),
            (
                write_err(&p())(os(libc::EPERM)),
                &["cannot write", "write access", "lsattr"],
            ),
            (
                write_err(&p())(os(libc::ENOSPC)),
                &["no space left", "free some space"],
            ),
            (
                write_err(&p())(os(libc::EDQUOT)),
                &["no space left", "free some space"],
            ),
            (
                StoreError::Busy {
                    path: "/st/unlock-keys.json.lock".into(),
                    waited: Duration::from_secs(10),
                    holder: Some(1),
                },
                &[
                    "busy",
                    "process 1",
                    "unlock-keys.json.lock",
                    "10s",
                    "try again",
                ],
            ),
        ];
        for (err, words) in cases {
            let msg = err.to_string();
            assert!(msg.contains("/st/unlock-keys.json"), "no file named: {msg}");
            for w in words {
                assert!(msg.contains(w), "{msg:?} lacks {w:?}");
            }
        }
        assert!(matches!(
            read_err(&p())(os(libc::EACCES)),
            StoreError::Unreadable { .. }
        ));
        assert!(matches!(
            write_err(&p())(os(libc::ENOSPC)),
            StoreError::DiskFull { .. }
        ));
        let refused = StoreError::LockRefused {
            namespace: "".into(),
            cause: Box::new(write_err(&p())(os(libc::EROFS))),
        };
        assert!(refused
            .to_string()
            .starts_with("refusing to lock /: nothing was sent"));
        assert!(matches!(refused.cause(), StoreError::ReadOnly { .. }));
    }
}
