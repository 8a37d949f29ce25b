//! The state files of vnsh: the state dir, the unlock-key store and the action log.
//!
//! Everything lives under `$XDG_STATE_HOME/vnsh` (default `~/.local/state/vnsh`), in a
//! directory only the user can enter (0700), in files only the user can read (0600).
//!
//! The unlock-key store is the one file whose loss would hurt: a lock returns an unlock
//! key, and losing it means only a sudo token can unlock the namespace again. So it is
//! written atomically (temp file, fsync, rename, fsync of the directory) under an OS lock,
//! nothing is ever removed from it, a file this vnsh cannot read is never overwritten, a
//! lock is recorded (an intent) before it is sent, and what a crash leaves is recovered.
//! `docs/reliability.md` describes the format and the guarantees.
//!
//! The rooms: `dir` finds the state dir; `keys` is the unlock-key store, `doc` its file
//! format, `server` the identity keys are saved for, `intent` the write-ahead lock
//! intents, `recover` the start-up recovery, `lock` the OS lock, `nonblocking` the async
//! faces; `log` is the action log; `index` is the index of a server's tree and mounts.
//! This file holds their errors and shared file helpers.

mod dir;
mod doc;
mod files;
mod index;
mod intent;
mod keys;
mod lock;
mod log;
mod nonblocking;
mod recover;
mod server;

pub use dir::StateDir;
pub use doc::{Intent, IntentState, SavedKey};
pub use files::{secure_file, StoreError, KEYS_VERSION};
pub use index::{
    now_secs, IndexFile, IndexLoad, Indexed, IndexedMount, IndexedMounts, INDEX_VERSION,
};
pub use intent::{LockIntent, OpenIntent, Resolution};
pub use keys::{FoundKey, KeyStatus, KeyStore, LOCK_WAIT};
pub use log::{Action, ActionLog};
pub use recover::Recovered;
pub use server::{ServerId, ServerMatch};
