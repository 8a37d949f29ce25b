//! Where to connect and as whom: from the environment of the vault and bao CLIs.

use std::path::PathBuf;
use std::time::Duration;

use super::error::VaultError;

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
    /// Whether the server's certificate goes unchecked (`*_SKIP_VERIFY`): the session must
    /// say so, visibly, for as long as it runs.
    pub fn skips_verify(&self) -> bool {
        self.skip_verify
    }

    /// CA certificates, client identity and skip-verify on a reqwest builder. The server
    /// name is not set here: [`crate::vault::Client::new`] puts it in the URL (reqwest has
    /// no SNI override) and pins the real address with `resolve`.
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
            ca_files.push((file.clone(), true));
        }
        if let Some(dir) = &self.ca_path {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                VaultError::Config(format!("cannot read CA directory {}: {e}", dir.display()))
            })?;
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            // A CA directory (as made by c_rehash) also holds files that are not PEM
            // certificates: those are skipped, a named CA file is not.
            ca_files.extend(files.into_iter().map(|f| (f, false)));
        }
        let mut added = 0usize;
        for (file, named) in &ca_files {
            let pem = read(file)?;
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => {
                    for cert in certs {
                        builder = builder.add_root_certificate(cert);
                        added += 1;
                    }
                }
                Ok(_) | Err(_) if !named => {}
                Ok(_) => {
                    return Err(VaultError::Config(format!(
                        "{} holds no PEM certificate (VAULT_CACERT / ca_cert)",
                        file.display()
                    )))
                }
                Err(e) => {
                    return Err(VaultError::Config(format!(
                        "{} is not a PEM CA certificate: {e}",
                        file.display()
                    )))
                }
            }
        }
        if let (Some(dir), 0) = (&self.ca_path, added) {
            return Err(VaultError::Config(format!(
                "the CA directory {} holds no PEM certificate (VAULT_CAPATH / ca_path)",
                dir.display()
            )));
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = read(cert)?;
                pem.push(b'\n');
                pem.extend(read(key)?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    VaultError::Config(format!(
                        "bad client certificate {} or key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(VaultError::Config(
                    "a client certificate needs both VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (client_cert and client_key in a profile)".into(),
                ))
            }
        }
        if self.skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        Ok(builder)
    }
}

/// The warning a session shows for as long as it runs without checking certificates.
pub const SKIP_VERIFY_WARNING: &str = "WARNING: TLS certificate verification is OFF (VAULT_SKIP_VERIFY or skip_verify in the profile): anyone on the network path can read and change this session, token included";

/// Explain a failed TLS handshake in words: which certificate problem, and what to set.
/// `reason` is the error chain of the failed connection; `None` when it is not about TLS.
pub(crate) fn explain_tls(reason: &str) -> Option<String> {
    let r = reason.to_lowercase();
    let hint = if r.contains("unknownissuer") || r.contains("unknown issuer") {
        "the server's certificate is signed by an unknown certificate authority (UnknownIssuer): give its CA with VAULT_CACERT=FILE or VAULT_CAPATH=DIR (ca_cert / ca_path in a profile)"
    } else if r.contains("not valid for name") || r.contains("notvalidforname") {
        "the server's certificate is not valid for this host name: connect with a name on the certificate, or set VAULT_TLS_SERVER_NAME (tls_server_name in a profile)"
    } else if r.contains("certificate expired")
        || (r.contains("expired") && r.contains("certificate"))
    {
        "the server's certificate has expired"
    } else if r.contains("not valid yet") || r.contains("notvalidyet") {
        "the server's certificate is not valid yet (check this machine's clock)"
    } else if r.contains("invalid peer certificate")
        || (r.contains("certificate") && r.contains("invalid"))
    {
        "the server's certificate was refused"
    } else if r.contains("invalidcontenttype") || r.contains("corrupt message") {
        "the server does not speak TLS here: if it serves plain HTTP, use an http:// address"
    } else if r.contains("certificaterequired") || r.contains("certificate required") {
        "the server asks for a client certificate: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (client_cert / client_key in a profile)"
    } else if r.contains("handshake") || (r.contains("tls") && r.contains("alert")) {
        "the TLS handshake failed"
    } else {
        return None;
    };
    Some(format!("TLS: {hint} ({reason})"))
}

/// The token file of the vault and bao CLIs: `~/.vault-token`.
pub fn token_file_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".vault-token"))
}

/// The default cap on one answer's size: 64 MiB, far above any namespace or mount
/// listing, far below what would hurt a bastion host.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The environment variable that sets [`Config::max_response_bytes`].
pub const MAX_RESPONSE_BYTES_VAR: &str = "VNSH_MAX_RESPONSE_BYTES";

/// Read a size: bytes, or a number with `K`, `M`, `G` (powers of 1024; `KB`/`KiB`
/// spellings and any case accepted). Zero is refused: it would refuse every answer.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a size (bytes, or with K, M, G: 64M)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "{text:?} is not a size (bytes, or with K, M, G: 64M)"
            ))
        }
    };
    let size = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if size == 0 {
        return Err(format!("{text:?}: the cap must be at least 1 byte"));
    }
    Ok(size)
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
    /// The largest answer read, in bytes; a larger one is refused
    /// (`VNSH_MAX_RESPONSE_BYTES`, default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: u64,
}

impl Config {
    /// Read the environment: `BAO_*` first, then `VAULT_*`, then `~/.vault-token`. A
    /// value that cannot be read (timeout, size cap) falls back to its default: prefer
    /// [`Config::try_from_env`], which says so.
    pub fn from_env() -> Config {
        Config::from_lookup(|k| std::env::var(k).ok(), token_file_contents)
    }

    /// [`Config::from_env`], or an error naming the variable whose value cannot be read.
    pub fn try_from_env() -> Result<Config, VaultError> {
        Config::try_from_lookup(|k| std::env::var(k).ok(), token_file_contents)
    }

    /// [`Config::from_lookup`], or an error naming the variable whose value cannot be
    /// read (`VAULT_CLIENT_TIMEOUT`, `VNSH_MAX_RESPONSE_BYTES`).
    pub fn try_from_lookup(
        var: impl Fn(&str) -> Option<String>,
        token_file: impl Fn() -> Option<String>,
    ) -> Result<Config, VaultError> {
        if let Some(v) = var(MAX_RESPONSE_BYTES_VAR).filter(|v| !v.is_empty()) {
            parse_size(&v)
                .map_err(|e| VaultError::Config(format!("{MAX_RESPONSE_BYTES_VAR}: {e}")))?;
        }
        for name in ["BAO_CLIENT_TIMEOUT", "VAULT_CLIENT_TIMEOUT"] {
            if let Some(t) = var(name).filter(|v| !v.is_empty()) {
                if parse_timeout(&t).is_none() {
                    return Err(VaultError::Config(format!(
                        "{name}: {t:?} is not a duration (500ms, 30s, 2m)"
                    )));
                }
                break;
            }
        }
        Ok(Config::from_lookup(var, token_file))
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
            .and_then(|t| parse_timeout(&t))
            .unwrap_or(Duration::from_secs(60));
        let max_response_bytes = var(MAX_RESPONSE_BYTES_VAR)
            .and_then(|v| parse_size(&v).ok())
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
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
            max_response_bytes,
        }
    }
}

/// `500ms`, `30s`, `2m`, or plain seconds as the vault CLI takes them; never zero (a
/// zero timeout would fail every request at once).
fn parse_timeout(t: &str) -> Option<Duration> {
    humantime::parse_duration(t)
        .ok()
        .or_else(|| t.trim().parse().ok().map(Duration::from_secs))
        .filter(|d| !d.is_zero())
}

fn token_file_contents() -> Option<String> {
    std::fs::read_to_string(token_file_path()?).ok()
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
    fn tls_problems_are_named() {
        let unknown = explain_tls("error sending request: client error (Connect): invalid peer certificate: UnknownIssuer").unwrap();
        assert!(
            unknown.contains("unknown certificate authority"),
            "{unknown}"
        );
        assert!(unknown.contains("VAULT_CACERT"), "{unknown}");
        let name = explain_tls("invalid peer certificate: certificate not valid for name \"x\"; certificate is only valid for DnsName(\"localhost\")").unwrap();
        assert!(name.contains("VAULT_TLS_SERVER_NAME"), "{name}");
        assert!(
            explain_tls("received corrupt message of type InvalidContentType")
                .unwrap()
                .contains("http://")
        );
        assert!(explain_tls("tcp connect error: Connection refused").is_none());
    }

    #[test]
    fn a_ca_directory_skips_files_that_are_not_certificates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README"), "not a certificate").unwrap();
        let tls = TlsConfig {
            ca_path: Some(dir.path().to_path_buf()),
            ..TlsConfig::default()
        };
        let err = tls.apply(reqwest::Client::builder()).unwrap_err();
        assert!(
            err.to_string().contains("holds no PEM certificate"),
            "{err}"
        );
        let tls = TlsConfig {
            client_cert: Some(dir.path().join("README")),
            ..TlsConfig::default()
        };
        let err = tls.apply(reqwest::Client::builder()).unwrap_err();
        assert!(err.to_string().contains("VAULT_CLIENT_KEY"), "{err}");
    }

    #[test]
    fn the_answer_cap_and_the_timeout_come_from_the_environment() {
        assert_eq!(
            cfg(&[], None).max_response_bytes,
            DEFAULT_MAX_RESPONSE_BYTES
        );
        assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 67_108_864);
        let c = cfg(
            &[
                ("VNSH_MAX_RESPONSE_BYTES", "256M"),
                ("VAULT_CLIENT_TIMEOUT", "500ms"),
            ],
            None,
        );
        assert_eq!(c.max_response_bytes, 256 << 20);
        assert_eq!(c.timeout, Duration::from_millis(500));
        for (text, want) in [
            ("1", 1),
            ("1024", 1024),
            ("64k", 64 << 10),
            ("64 KiB", 64 << 10),
            ("2MB", 2 << 20),
            ("1g", 1 << 30),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text:?}");
        }
        for text in ["", "0", "-1", "1.5M", "12X", "99999999999999999999G", "M"] {
            assert!(parse_size(text).is_err(), "{text:?}");
        }
        // The lenient reader falls back; the strict one names the variable.
        let lookup = |k: &str| (k == "VNSH_MAX_RESPONSE_BYTES").then(|| "lots".to_string());
        assert_eq!(
            Config::from_lookup(lookup, || None).max_response_bytes,
            DEFAULT_MAX_RESPONSE_BYTES
        );
        let err = Config::try_from_lookup(lookup, || None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("VNSH_MAX_RESPONSE_BYTES: \"lots\""),
            "{err}"
        );
        let lookup = |k: &str| (k == "VAULT_CLIENT_TIMEOUT").then(|| "0s".to_string());
        let err = Config::try_from_lookup(lookup, || None).unwrap_err();
        assert!(err.to_string().contains("VAULT_CLIENT_TIMEOUT"), "{err}");
        assert!(Config::try_from_lookup(|_| None, || None).is_ok());
    }

    #[test]
    fn token_never_shows() {
        let t = Token::new("hvs.secret");
        assert_eq!(format!("{t:?} {t}"), "Token(***) ***");
    }
}
