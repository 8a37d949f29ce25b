//! The store's lock: an OS lock (`flock`) on a file that is never removed.
//!
//! The kernel releases the lock when its holder exits, however it exits (kill -9 included),
//! so a crash leaves nothing to break and there is no staleness to guess. The wait is
//! bounded and polls `try_lock`, so that it can stop when its caller is cancelled.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::files::{read_err, write_err, StoreError, FILE_MODE};

/// The longest pause between two attempts at a busy lock.
const MAX_PAUSE: Duration = Duration::from_millis(20);

/// A held store lock; dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub(super) struct StoreLock {
    _file: File,
}

/// Whether the caller gave up (Ctrl-C on the async side).
pub(super) fn cancelled(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// Take the lock on `path` (created 0600 if missing), waiting at most `wait` for another holder.
pub(super) fn acquire(
    path: &Path,
    wait: Duration,
    cancel: Option<&AtomicBool>,
) -> Result<StoreLock, StoreError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    let mut file = open(path)?;
    loop {
        if cancelled(cancel) {
            return Err(StoreError::Cancelled);
        }
        match file.try_lock() {
            Ok(()) => {
                // A lock on a file someone removed or replaced while we waited excludes no
                // one (a user following an old message, an older vnsh): lock the new one.
                if is_current(&file, path) {
                    write_holder(&mut file);
                    return Ok(StoreLock { _file: file });
                }
                file = open(path)?;
                continue;
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(write_err(path)(e)),
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(StoreError::Busy {
                path: path.to_path_buf(),
                waited,
                holder: holder(path),
            });
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Open (or create) the lock file.
fn open(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map_err(write_err(path))
}

/// Whether `path` still names the file we hold open.
fn is_current(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

/// Write our pid into the held lock file, so that a waiting vnsh can name us; best effort
/// (a full disk must not stop a save that has the space it needs).
fn write_holder(file: &mut File) {
    let _ = file
        .set_len(0)
        .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()));
}

/// The pid a lock holder wrote, when there is one.
fn holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .map_err(read_err(path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The lock file of a store file: its path with `.lock` appended.
pub(super) fn lock_path_of(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_os_string();
    p.push(".lock");
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    #[test]
    fn a_second_handle_waits_then_reports_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let held = acquire(&path, Duration::from_secs(1), None).unwrap();
        let start = Instant::now();
        let err = acquire(&path, Duration::from_millis(100), None).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(start.elapsed() < Duration::from_secs(2));
        match &err {
            StoreError::Busy {
                path: p, holder, ..
            } => {
                assert_eq!(p, &path);
                assert_eq!(*holder, Some(std::process::id()));
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("x.lock"), "{msg}");
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        drop(held);
        acquire(&path, Duration::from_millis(100), None).unwrap();
        // The lock file stays: the next holder reuses it.
        assert!(path.exists());
    }

    #[test]
    fn a_holder_killed_with_sigkill_releases_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        // util-linux flock(1): a real other process holding a real flock (it and its
        // `sleep` both hold the descriptor, so the whole group is killed).
        let mut child = Command::new("flock")
            .arg(&path)
            .args(["sleep", "60"])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("flock(1) from util-linux must be installed for this test");
        let start = Instant::now();
        while acquire(&path, Duration::ZERO, None).is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "flock never took the lock"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(matches!(
            acquire(&path, Duration::from_millis(50), None),
            Err(StoreError::Busy { .. })
        ));
        let pgid = i32::try_from(child.id()).unwrap();
        // SAFETY: kill(2) on the process group this test created; no memory is involved.
        assert_eq!(unsafe { libc::kill(-pgid, libc::SIGKILL) }, 0);
        child.wait().unwrap();
        let start = Instant::now();
        acquire(&path, Duration::from_secs(5), None).unwrap();
        assert!(start.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn cancel_stops_the_wait() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let _held = acquire(&path, Duration::from_secs(1), None).unwrap();
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let c = cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c.store(true, Ordering::Relaxed);
        });
        let start = Instant::now();
        let err = acquire(&path, Duration::from_secs(30), Some(&cancel)).unwrap_err();
        assert!(matches!(err, StoreError::Cancelled), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(2));
        canceller.join().unwrap();
    }

    #[test]
    fn a_replaced_lock_file_is_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let first = acquire(&path, Duration::from_secs(1), None).unwrap();
        // A waiter opens the file and waits on it...
        let p = path.clone();
        let waiter =
            std::thread::spawn(move || acquire(&p, Duration::from_millis(600), None).map(drop));
        std::thread::sleep(Duration::from_millis(100));
        // ...someone removes it, a new holder locks a new file, and the first lets go: the
        // waiter now holds a lock on a file nobody else will look at, and must not trust it.
        std::fs::remove_file(&path).unwrap();
        let second = acquire(&path, Duration::from_secs(1), None).unwrap();
        drop(first);
        let got = waiter.join().unwrap();
        assert!(matches!(got, Err(StoreError::Busy { .. })), "{got:?}");
        drop(second);
        acquire(&path, Duration::from_millis(30), None).unwrap();
    }
}
