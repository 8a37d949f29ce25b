//! Where the state files live: `$XDG_STATE_HOME/vnsh`, else `~/.local/state/vnsh`.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::files::{ensure_dir, io_err, write_err, StoreError, DIR_MODE};
use super::index::IndexFile;
use super::keys::KeyStore;
use super::log::ActionLog;

/// Where vnsh keeps its state.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// From the environment: $XDG_STATE_HOME/vnsh, else $HOME/.local/state/vnsh; error if neither is set.
    pub fn from_env() -> Result<StateDir, StoreError> {
        Self::from_vars(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
    }

    /// The rule of `from_env`, on given values (an empty or relative XDG_STATE_HOME is ignored, as XDG says).
    fn from_vars(xdg: Option<OsString>, home: Option<OsString>) -> Result<StateDir, StoreError> {
        if let Some(xdg) = xdg.filter(|v| !v.is_empty()) {
            let xdg = PathBuf::from(xdg);
            if xdg.is_absolute() {
                return Ok(StateDir::at(xdg.join("vnsh")));
            }
        }
        match home.filter(|v| !v.is_empty()) {
            Some(home) => Ok(StateDir::at(
                PathBuf::from(home)
                    .join(".local")
                    .join("state")
                    .join("vnsh"),
            )),
            None => Err(StoreError::NoHome),
        }
    }

    /// A state dir at an explicit place.
    pub fn at(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the dir (mode 0700) if missing, and take group and other access away if present.
    pub fn ensure(&self) -> Result<(), StoreError> {
        ensure_dir(&self.root)?;
        let meta = fs::metadata(&self.root).map_err(io_err(&self.root))?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(&self.root, fs::Permissions::from_mode(DIR_MODE))
                .map_err(write_err(&self.root))?;
        }
        Ok(())
    }

    /// The line-editor history: root/history (create it with `secure_file`).
    pub fn history_file(&self) -> PathBuf {
        self.root.join("history")
    }

    /// The unlock-key store: root/unlock-keys.json.
    pub fn keys_file(&self) -> PathBuf {
        self.root.join("unlock-keys.json")
    }

    /// The action log: root/actions.jsonl.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("actions.jsonl")
    }

    /// The index of the server `cluster_id` for a token whose namespace is `top` (`a/b/`
    /// form, `""` for the root): root/index/CLUSTER/TOP.json.
    pub fn index_file(&self, cluster_id: &str, top: &str) -> IndexFile {
        IndexFile::new(&self.root, cluster_id, top)
    }

    /// The unlock-key store of this state dir.
    pub fn key_store(&self) -> KeyStore {
        KeyStore::new(self.keys_file())
    }

    /// The action log of this state dir.
    pub fn action_log(&self) -> ActionLog {
        ActionLog::new(self.log_file())
    }
}

#[cfg(test)]
mod tests {
    use super::super::files::testutil::mode;
    use super::*;

    #[test]
    fn from_vars_prefers_xdg_then_home() {
        let d = StateDir::from_vars(Some("/x/state".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/x/state/vnsh"));
        let d = StateDir::from_vars(None, Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        let d = StateDir::from_vars(Some("".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        let d = StateDir::from_vars(Some("rel".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/vnsh"));
        assert!(matches!(
            StateDir::from_vars(None, None),
            Err(StoreError::NoHome)
        ));
        assert!(matches!(
            StateDir::from_vars(Some("".into()), Some("".into())),
            Err(StoreError::NoHome)
        ));
    }

    #[test]
    fn file_names() {
        let d = StateDir::at("/s");
        assert_eq!(d.history_file(), Path::new("/s/history"));
        assert_eq!(d.keys_file(), Path::new("/s/unlock-keys.json"));
        assert_eq!(d.log_file(), Path::new("/s/actions.jsonl"));
        assert_eq!(
            d.key_store().lock_path(),
            Path::new("/s/unlock-keys.json.lock")
        );
    }

    #[test]
    fn ensure_creates_dir_0700_and_tightens() {
        let tmp = tempfile::tempdir().unwrap();
        let d = StateDir::at(tmp.path().join("a/b/vnsh"));
        d.ensure().unwrap();
        assert!(d.root().is_dir());
        assert_eq!(mode(d.root()), 0o700);
        fs::set_permissions(d.root(), fs::Permissions::from_mode(0o755)).unwrap();
        d.ensure().unwrap();
        assert_eq!(mode(d.root()), 0o700);
        // A second call on an existing dir is fine.
        d.ensure().unwrap();
    }

    #[test]
    fn ensure_on_a_file_is_an_io_error() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("vnsh");
        fs::write(&f, "x").unwrap();
        let err = StateDir::at(&f).ensure().unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("vnsh"));
    }
}
