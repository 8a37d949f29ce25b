//! Where to connect and as whom: from the environment of the vault and bao CLIs.

use std::path::PathBuf;
use std::time::Duration;

use super::VaultError;

/// A Vault token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wrap a token; surrounding whitespace (a token file's newline) is dropped.
    pub fn new(value: impl AsRef<str>) -> Token {
        Token(value.as_ref().trim().to_string())
    }

    /// The secret itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// TLS settings (`*_CACERT`, `*_CAPATH`, `*_CLIENT_CERT`, `*_CLIENT_KEY`, `*_SKIP_VERIFY`,
/// `*_TLS_SERVER_NAME`).
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// A PEM file of CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// A directory of PEM CA certificates.
    pub ca_path: Option<PathBuf>,
    /// Client certificate (PEM).
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM).
    pub client_key: Option<PathBuf>,
    /// Do not verify the server's certificate.
    pub skip_verify: bool,
    /// Server name to verify instead of the address's host.
    pub server_name: Option<String>,
}

impl TlsConfig {
    pub(crate) fn apply(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, VaultError> {
        let read = |p: &PathBuf| {
            std::fs::read(p)
                .map_err(|e| VaultError::Config(format!("cannot read {}: {e}", p.display())))
        };
        let mut ca_files = Vec::new();
        if let Some(file) = &self.ca_cert {
            ca_files.push(file.clone());
        }
        if let Some(dir) = &self.ca_path {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                VaultError::Config(format!("cannot read CA directory {}: {e}", dir.display()))
            })?;
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    ca_files.push(entry.path());
                }
            }
        }
        for file in &ca_files {
            let pem = read(file)?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                VaultError::Config(format!(
                    "{} is not a PEM CA certificate: {e}",
                    file.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = read(cert)?;
                pem.push(b'\n');
                pem.extend(read(key)?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    VaultError::Config(format!("bad client certificate or key: {e}"))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(VaultError::Config(
                    "a client certificate needs both VAULT_CLIENT_CERT and VAULT_CLIENT_KEY".into(),
                ))
            }
        }
        if self.server_name.is_some() {
            // reqwest has no SNI override; verification uses the address's host.
            return Err(VaultError::Config(
                "VAULT_TLS_SERVER_NAME is not supported yet: use an address whose host matches the certificate".into(),
            ));
        }
        if self.skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        Ok(builder)
    }
}

/// Everything needed to connect.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server address, e.g. `https://vault.example.com:8200`.
    pub addr: String,
    /// The token, if one was found.
    pub token: Option<Token>,
    /// The namespace to start in ("" for root).
    pub namespace: String,
    /// TLS settings.
    pub tls: TlsConfig,
    /// How long one request may take.
    pub timeout: Duration,
}

impl Config {
    /// Read the environment: `BAO_*` first, then `VAULT_*`, then `~/.vault-token`.
    pub fn from_env() -> Config {
        Config::from_lookup(|k| std::env::var(k).ok(), token_file_contents)
    }

    /// Read the configuration from a variable lookup and a token-file reader (testable).
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        token_file: impl Fn() -> Option<String>,
    ) -> Config {
        let get = |name: &str| {
            ["BAO_", "VAULT_"]
                .iter()
                .find_map(|p| var(&format!("{p}{name}")).filter(|v| !v.is_empty()))
        };
        let truthy = |v: Option<String>| {
            v.is_some_and(|v| matches!(v.to_lowercase().as_str(), "1" | "true" | "yes" | "t"))
        };
        let token = get("TOKEN")
            .or_else(token_file)
            .map(Token::new)
            .filter(|t| !t.expose().is_empty());
        let timeout = get("CLIENT_TIMEOUT")
            .and_then(|t| {
                humantime::parse_duration(&t)
                    .ok()
                    .or_else(|| t.parse().ok().map(Duration::from_secs))
            })
            .unwrap_or(Duration::from_secs(60));
        Config {
            addr: get("ADDR").unwrap_or_else(|| "https://127.0.0.1:8200".to_string()),
            token,
            namespace: get("NAMESPACE").unwrap_or_default(),
            tls: TlsConfig {
                ca_cert: get("CACERT").map(PathBuf::from),
                ca_path: get("CAPATH").map(PathBuf::from),
                client_cert: get("CLIENT_CERT").map(PathBuf::from),
                client_key: get("CLIENT_KEY").map(PathBuf::from),
                skip_verify: truthy(get("SKIP_VERIFY")),
                server_name: get("TLS_SERVER_NAME"),
            },
            timeout,
        }
    }
}

fn token_file_contents() -> Option<String> {
    let home = std::env::var_os("HOME")?;
    std::fs::read_to_string(PathBuf::from(home).join(".vault-token")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)], file: Option<&str>) -> Config {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let file = file.map(str::to_string);
        Config::from_lookup(|k| map.get(k).cloned(), move || file.clone())
    }

    #[test]
    fn bao_variables_win_over_vault_ones() {
        let c = cfg(
            &[
                ("VAULT_ADDR", "http://v:1"),
                ("BAO_ADDR", "http://b:2"),
                ("VAULT_NAMESPACE", "a/b"),
                ("VAULT_SKIP_VERIFY", "true"),
            ],
            None,
        );
        assert_eq!(c.addr, "http://b:2");
        assert_eq!(c.namespace, "a/b");
        assert!(c.tls.skip_verify);
        assert!(c.token.is_none());
    }

    #[test]
    fn token_from_env_then_file() {
        let c = cfg(&[("VAULT_TOKEN", "s.env")], Some("s.file\n"));
        assert_eq!(c.token.as_ref().map(Token::expose), Some("s.env"));
        let c = cfg(&[], Some("s.file\n"));
        assert_eq!(c.token.as_ref().map(Token::expose), Some("s.file"));
    }

    #[test]
    fn token_never_shows() {
        let t = Token::new("hvs.secret");
        assert_eq!(format!("{t:?} {t}"), "Token(***) ***");
    }
}
