//! vnsh: an interactive shell for the namespaces of Vault Enterprise, HCP Vault and OpenBao.
//!
//! The crate is a house with clear rooms: [`vault`] is the thin HTTP client, [`engine`]
//! holds the session, the command language and its execution, and the front ends
//! ([`repl`], [`tui`]) only read input and draw [`engine::Output`].
pub mod config;
pub mod demo;
pub mod devserver;
pub mod engine;
pub mod repl;
pub mod tui;
pub mod vault;
