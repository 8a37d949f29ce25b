//! Why a command failed: one error type for the whole engine, so the front ends can tell
//! a usage mistake from a server's refusal. The session is left as it was.

use crate::engine::nspath::{NameError, PathError};
use crate::engine::output::Output;
use crate::engine::spec::UsageError;
use crate::engine::store::StoreError;
use crate::engine::words::{KvError, WordsError};
use crate::vault::VaultError;

/// Why a command failed. The session is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The command line does not parse.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The line could not be split into words.
    #[error("{0}")]
    Words(#[from] WordsError),
    /// A namespace path that cannot be resolved.
    #[error("{0}")]
    Path(#[from] PathError),
    /// A namespace name that breaks a rule; nothing was sent.
    #[error("{0} (nothing was sent)")]
    Name(#[from] NameError),
    /// Bad `k=v` arguments.
    #[error("{0}")]
    Kv(#[from] KvError),
    /// The server said no, or could not be reached.
    #[error("{0}")]
    Vault(#[from] VaultError),
    /// The key store or the action log failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A mutating command in a read-only session.
    #[error("`{0}` changes the server and this session is read-only (--read-only)")]
    ReadOnly(String),
    /// A destructive command where no one can be asked (standard input is not a terminal)
    /// and `--yes` was not given: refused, nothing sent.
    #[error("`{0}` asks first, and no one can be asked here (standard input is not a terminal): nothing was sent; give --yes to run it without a question")]
    Unconfirmed(String),
    /// `cd` to a namespace that does not exist or cannot be reached.
    #[error("cd: {0}")]
    Cd(String),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
    /// The command ran and its result is a failure, as `diff` fails when the two differ:
    /// the report is its output (printed as any output is), `summary` says why it failed,
    /// and the status is 1. Its text is the summary and the report, for a front end that
    /// shows an error as text.
    #[error("{}", failed_text(summary, output))]
    Failed {
        /// Why it failed, in one line (what the action log records).
        summary: String,
        /// The report.
        output: Box<Output>,
    },
}

impl EngineError {
    /// A command whose `output` is a failure for the reason `summary`.
    pub fn failed(summary: impl Into<String>, output: Output) -> EngineError {
        EngineError::Failed {
            summary: summary.into(),
            output: Box::new(output),
        }
    }
}

fn failed_text(summary: &str, output: &Output) -> String {
    let report = output.view.render_text();
    if report.is_empty() {
        summary.to_string()
    } else {
        format!("{summary}\n{report}")
    }
}
