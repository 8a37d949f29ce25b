//! The operations of the Vault HTTP API (a leaf of the client: errors and URLs name them).

/// The operations of the Vault HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// List the keys under a path (`GET ?list=true`).
    List,
    /// Recursive list (OpenBao only).
    Scan,
    /// Create or update.
    Post,
    /// Create or update.
    Put,
    /// JSON merge patch.
    Patch,
    /// Delete.
    Delete,
}

impl Method {
    /// The name Vault uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
            Method::Scan => "SCAN",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the request changes state on the server.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Method::Post | Method::Put | Method::Patch | Method::Delete
        )
    }
}
