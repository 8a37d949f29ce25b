//! The action log: one JSON line per mutating command, appended and synced.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::files::{
    chmod_600, ensure_dir, io_err, now_rfc3339, parent_dir, read_err, write_err, StoreError,
    FILE_MODE,
};

/// One line of the action log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Action {
    /// When, RFC 3339 UTC to the second.
    pub time: String,
    /// The server address.
    pub server: String,
    /// The namespace the command ran in.
    pub namespace: String,
    /// The command line, already redacted by the caller.
    pub command: String,
    /// `ok` or `error: …`.
    pub outcome: String,
}

/// The action log: JSON lines appended (O_APPEND, 0600, fsync after each line).
#[derive(Debug, Clone)]
pub struct ActionLog {
    path: PathBuf,
}

impl ActionLog {
    /// The log in that file.
    pub fn new(path: PathBuf) -> ActionLog {
        ActionLog { path }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one action as one line and sync it; `command` must already be redacted.
    pub fn append(
        &self,
        server: &str,
        namespace: &str,
        command: &str,
        outcome: &str,
    ) -> Result<Action, StoreError> {
        let action = Action {
            time: now_rfc3339(),
            server: server.to_string(),
            namespace: namespace.to_string(),
            command: command.to_string(),
            outcome: outcome.to_string(),
        };
        let mut line = serde_json::to_vec(&action).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        ensure_dir(parent_dir(&self.path))?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .open(&self.path)
            .map_err(write_err(&self.path))?;
        chmod_600(&file, &self.path)?;
        // A line cut short by a crash must not swallow this one: start on a fresh line.
        let len = file.metadata().map_err(io_err(&self.path))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1)
                .map_err(read_err(&self.path))?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        // One write of the whole line: with O_APPEND, lines of two writers do not interleave.
        file.write_all(&line).map_err(write_err(&self.path))?;
        file.sync_data().map_err(write_err(&self.path))?;
        Ok(action)
    }

    /// Entries, oldest first, only those at or after `since` (to the second); lines that do not parse are skipped and counted.
    pub fn read(&self, since: Option<SystemTime>) -> Result<(Vec<Action>, usize), StoreError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(read_err(&self.path)(e)),
        };
        // The log keeps whole seconds: an entry in the same second as `since` counts as after it.
        let since = since.map(|t| {
            let secs = t
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            UNIX_EPOCH + Duration::from_secs(secs)
        });
        let mut reader = BufReader::new(file);
        let mut entries = Vec::new();
        let mut skipped = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(read_err(&self.path))?;
            if n == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = serde_json::from_slice::<Action>(&line)
                .ok()
                .and_then(|a| humantime::parse_rfc3339_weak(&a.time).ok().map(|t| (a, t)));
            match parsed {
                Some((action, time)) => {
                    if since.is_none_or(|s| time >= s) {
                        entries.push(action);
                    }
                }
                None => skipped += 1,
            }
        }
        Ok((entries, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::super::dir::StateDir;
    use super::super::files::testutil::mode;
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn action_log_append_and_read() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        assert_eq!(log.read(None).unwrap(), (vec![], 0));
        let a1 = log.append("http://a:8200", "t1/", "lock", "ok").unwrap();
        let a2 = log
            .append("http://a:8200", "t1/", "ns delete x\ny", "error: denied")
            .unwrap();
        assert_eq!(mode(log.path()), 0o600);
        let text = fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        let (entries, skipped) = log.read(None).unwrap();
        assert_eq!(entries, vec![a1, a2]);
        assert_eq!(skipped, 0);
    }

    #[test]
    fn action_log_tightens_loose_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        fs::write(log.path(), "").unwrap();
        fs::set_permissions(log.path(), fs::Permissions::from_mode(0o644)).unwrap();
        log.append("s", "", "lock", "ok").unwrap();
        assert_eq!(mode(log.path()), 0o600);
    }

    #[test]
    fn action_log_since_and_garbage() {
        let tmp = tempfile::tempdir().unwrap();
        let log = StateDir::at(tmp.path()).action_log();
        let line = |time: &str, cmd: &str| {
            serde_json::to_string(&Action {
                time: time.into(),
                server: "s".into(),
                namespace: "a/".into(),
                command: cmd.into(),
                outcome: "ok".into(),
            })
            .unwrap()
        };
        let content = [
            line("2024-01-01T00:00:00Z", "old"),
            "this is not json".to_string(),
            String::new(),
            line("2024-06-01T12:00:00Z", "mid"),
            line("not a time", "badtime"),
            "{\"time\":\"2024-06-01T12:00:00Z\"}".to_string(),
            line("2024-12-31T23:59:59Z", "new"),
            "{\"trunc".to_string(),
        ]
        .join("\n");
        fs::write(log.path(), content).unwrap();
        let cmds = |v: Vec<Action>| v.into_iter().map(|a| a.command).collect::<Vec<_>>();

        let (all, skipped) = log.read(None).unwrap();
        assert_eq!(cmds(all), vec!["old", "mid", "new"]);
        assert_eq!(skipped, 4);

        let since = humantime::parse_rfc3339("2024-06-01T12:00:00Z").unwrap();
        let (some, skipped) = log.read(Some(since)).unwrap();
        assert_eq!(cmds(some), vec!["mid", "new"]);
        assert_eq!(skipped, 4);

        // Within the same second counts as at-or-after.
        let (some, _) = log.read(Some(since + Duration::from_millis(500))).unwrap();
        assert_eq!(cmds(some), vec!["mid", "new"]);

        let (none, _) = log
            .read(Some(
                humantime::parse_rfc3339("2025-01-01T00:00:00Z").unwrap(),
            ))
            .unwrap();
        assert!(none.is_empty());

        // Appending after a truncated last line still yields a readable entry.
        let a = log.append("s", "a/", "after", "ok").unwrap();
        let (entries, skipped) = log.read(None).unwrap();
        assert_eq!(entries.last(), Some(&a));
        assert_eq!(skipped, 4);
    }

    #[test]
    fn action_log_since_now() {
        let tmp = tempfile::tempdir().unwrap();
        let log = ActionLog::new(tmp.path().join("x/actions.jsonl"));
        let before = SystemTime::now();
        log.append("s", "", "lock", "ok").unwrap();
        assert_eq!(log.read(Some(before)).unwrap().0.len(), 1);
        let later = SystemTime::now() + Duration::from_secs(3600);
        assert!(log.read(Some(later)).unwrap().0.is_empty());
    }
}
