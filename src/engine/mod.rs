//! The command engine: session state, the command language, its execution and output.
//! It knows nothing of rustyline, ratatui or crossterm, and reads no file of the front
//! ends' (the configuration is handed to it).

pub mod cache;
pub mod commands;
pub mod complete;
pub mod diagnose;
pub mod error;
pub mod fuzzy;
pub mod identity;
pub mod index;
pub mod mounts;
pub mod nspath;
pub mod output;
pub mod progress;
pub mod reader;
pub mod resolve;
pub mod sanitize;
pub mod session;
pub mod spec;
pub mod store;
pub mod tree;
pub mod words;

pub use commands::Command;
pub use error::EngineError;
pub use output::{Output, View};
pub use session::{Format, Options, SecretAsk, SecretAsker, Session};
