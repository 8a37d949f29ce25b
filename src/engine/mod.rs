//! The command engine: session state, the command language, its execution and output.
//! It knows nothing of rustyline, ratatui or crossterm.

pub mod auth;
pub mod cache;
pub mod command;
pub mod complete;
pub mod explore;
pub mod fuzzy;
pub mod incident;
pub mod nspath;
pub mod output;
pub mod sanitize;
pub mod session;
pub mod store;
pub mod tree;
pub mod words;

pub use command::Command;
pub use output::{Output, View};
pub use session::{EngineError, Format, Options, SecretAsk, SecretAsker, Session};
