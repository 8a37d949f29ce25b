//! The configuration file, `$XDG_CONFIG_HOME/vnsh/config.toml` (default
//! `~/.config/vnsh/config.toml`): profiles for several clusters, aliases, theme and keys.
//!
//! A token value never goes in this file: a profile names where its token is
//! (`token_file`, `token_env`), and a file that holds a `token` key is refused.
//!
//! ```toml
//! default_profile = "prod"          # used when neither VAULT_ADDR nor BAO_ADDR is set
//!
//! [profiles.prod]
//! addr = "https://vault.example.com:8200"
//! namespace = "admin"               # start (and, for an HCP token, top) namespace
//! ca_cert = "~/certs/prod-ca.pem"   # or ca_path = DIR; relative paths: from this file
//! client_cert = "client.pem"        # with client_key
//! client_key = "client-key.pem"
//! tls_server_name = "vault.internal"
//! skip_verify = false
//! token_file = "~/.vault-token-prod"  # or token_env = "PROD_VAULT_TOKEN"
//! timeout = "30s"
//!
//! [aliases]
//! ll = "ns list -detailed"
//!
//! [theme]
//! ascii = false
//! colours = true                    # NO_COLOR wins
//!
//! [tui]
//! mask_secrets = true               # false: secret values shown in the responses
//!
//! [keys]
//! history_search = "ctrl-r"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use crate::vault::{self, TlsConfig, Token};

/// The file name inside `$XDG_CONFIG_HOME/vnsh/`.
pub const FILE_NAME: &str = "config.toml";

/// A configuration file that cannot be used, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when no `--profile` is given and no `VAULT_ADDR`/`BAO_ADDR` is set.
    pub default_profile: Option<String>,
    /// Clusters by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Alias name → the command line it stands for (one command; arguments are appended).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// How the full-screen shell looks.
    #[serde(default)]
    pub theme: Theme,
    /// How the full-screen shell behaves.
    #[serde(default)]
    pub tui: Tui,
    /// Key overrides for the full-screen shell: action name → keys.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// Where the file was read from (relative paths in profiles start there).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// One cluster: where it is, how to check it, where its token is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The server address, e.g. `https://vault.example.com:8200`.
    pub addr: Option<String>,
    /// The namespace to start in.
    pub namespace: Option<String>,
    /// A PEM file of CA certificates.
    pub ca_cert: Option<String>,
    /// A directory of PEM CA certificates.
    pub ca_path: Option<String>,
    /// Client certificate (PEM).
    pub client_cert: Option<String>,
    /// Client key (PEM).
    pub client_key: Option<String>,
    /// The name to expect on the server's certificate (and send as SNI).
    pub tls_server_name: Option<String>,
    /// Do not check the server's certificate (a warning stays on screen).
    #[serde(default)]
    pub skip_verify: bool,
    /// A file that holds the token (as `~/.vault-token` does).
    pub token_file: Option<String>,
    /// An environment variable that holds the token.
    pub token_env: Option<String>,
    /// How long one request may take (`30s`, `2m`).
    pub timeout: Option<String>,
}

/// The look of the full-screen shell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// ASCII borders and symbols only.
    pub ascii: Option<bool>,
    /// Colours (`NO_COLOR` turns them off whatever this says).
    #[serde(alias = "colors")]
    pub colours: Option<bool>,
}

/// How the full-screen shell behaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tui {
    /// Mask secret values in the responses until revealed (default: true).
    pub mask_secrets: Option<bool>,
}

/// Where the configuration file is: `$XDG_CONFIG_HOME/vnsh/config.toml`, else
/// `~/.config/vnsh/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let dir = non_empty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(dir.join("vnsh").join(FILE_NAME))
}

static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Remember which file this process reads (`--config`, else the default), for `connect`.
pub fn set_path(path: Option<PathBuf>) {
    let _ = PATH.set(path);
}

/// The file this process reads.
pub fn path() -> Option<PathBuf> {
    PATH.get_or_init(default_path).clone()
}

/// Read the file this process uses ([`path`]); a missing file is an empty configuration
/// unless it was named with `--config`.
pub fn load_current(required: bool) -> Result<ConfigFile, ConfigError> {
    match path() {
        Some(p) => load(&p, required),
        None => Ok(ConfigFile::default()),
    }
}

/// Read and check a configuration file.
pub fn load(path: &Path, required: bool) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(ConfigFile::default())
        }
        Err(e) => {
            return Err(ConfigError(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )))
        }
    };
    let mut file = parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
    file.path = Some(path.to_path_buf());
    Ok(file)
}

/// Parse and check the text of a configuration file.
pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    refuse_token_values(&table)?;
    let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    for (name, profile) in &file.profiles {
        if profile.addr.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError(format!(
                "profile {name:?} has no addr (e.g. addr = \"https://vault.example.com:8200\")"
            )));
        }
        if profile.token_file.is_some() && profile.token_env.is_some() {
            return Err(ConfigError(format!(
                "profile {name:?} names both token_file and token_env: keep one"
            )));
        }
    }
    if let Some(d) = &file.default_profile {
        if !file.profiles.contains_key(d) {
            return Err(ConfigError(format!(
                "default_profile {d:?} is not among the profiles ({})",
                names(&file.profiles)
            )));
        }
    }
    Ok(file)
}

/// A token in the file would be read by whoever can read the file, and copied with it.
fn refuse_token_values(table: &toml::Table) -> Result<(), ConfigError> {
    const TOKEN_KEYS: [&str; 4] = ["token", "vault_token", "bao_token", "client_token"];
    let refuse = |place: String| {
        Err(ConfigError(format!(
            "{place} holds a token value: a token never goes in the configuration file; use token_file = \"PATH\" or token_env = \"VARIABLE\""
        )))
    };
    for key in TOKEN_KEYS {
        if table.contains_key(key) {
            return refuse(key.to_string());
        }
    }
    if let Some(profiles) = table.get("profiles").and_then(toml::Value::as_table) {
        for (name, p) in profiles {
            if let Some(p) = p.as_table() {
                for key in TOKEN_KEYS {
                    if p.contains_key(key) {
                        return refuse(format!("profiles.{name}.{key}"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn names(profiles: &BTreeMap<String, Profile>) -> String {
    if profiles.is_empty() {
        "there are none".to_string()
    } else {
        profiles.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

impl ConfigFile {
    /// The named profile, or an error listing the ones there are.
    pub fn profile(&self, name: &str) -> Result<&Profile, ConfigError> {
        self.profiles.get(name).ok_or_else(|| {
            let where_ = self
                .path
                .as_ref()
                .or(path().as_ref())
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the configuration file".into());
            ConfigError(format!(
                "no profile {name:?} in {where_} (profiles: {})",
                names(&self.profiles)
            ))
        })
    }

    /// The connection a profile describes. `var` reads the environment (the token
    /// variable, and `VAULT_TOKEN`/`~/.vault-token` for a profile that names no token).
    pub fn vault_config(
        &self,
        name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<vault::Config, ConfigError> {
        let p = self.profile(name)?;
        let base = self.path.as_deref().and_then(Path::parent);
        let file = |v: &Option<String>| v.as_deref().map(|s| expand_path(s, base, &var));
        let token = if let Some(env) = &p.token_env {
            Some(var(env).filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                ConfigError(format!(
                    "profile {name:?}: the variable {env} (token_env) is not set"
                ))
            })?)
        } else if let Some(f) = file(&p.token_file) {
            Some(std::fs::read_to_string(&f).map_err(|e| {
                ConfigError(format!(
                    "profile {name:?}: cannot read the token file {} (token_file): {e}",
                    f.display()
                ))
            })?)
        } else {
            None
        };
        // A profile with no token source uses the usual ones (VAULT_TOKEN, ~/.vault-token).
        let env = vault::Config::from_lookup(&var, || {
            vault::token_file_path().and_then(|p| std::fs::read_to_string(p).ok())
        });
        let token = match token {
            Some(t) => Some(Token::new(t)).filter(|t| !t.expose().is_empty()),
            None => env.token,
        };
        let timeout = match &p.timeout {
            Some(t) => humantime::parse_duration(t)
                .ok()
                .or_else(|| t.parse().ok().map(Duration::from_secs))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "profile {name:?}: timeout {t:?} is not a duration (30s, 2m)"
                    ))
                })?,
            None => env.timeout,
        };
        Ok(vault::Config {
            addr: p.addr.clone().unwrap_or_default(),
            token,
            namespace: p.namespace.clone().unwrap_or_default(),
            tls: TlsConfig {
                ca_cert: file(&p.ca_cert),
                ca_path: file(&p.ca_path),
                client_cert: file(&p.client_cert),
                client_key: file(&p.client_key),
                skip_verify: p.skip_verify,
                server_name: p.tls_server_name.clone().filter(|s| !s.is_empty()),
            },
            timeout,
            max_response_bytes: env.max_response_bytes,
        })
    }
}

/// `~/x` from HOME, a relative path from the configuration file's directory.
fn expand_path(s: &str, base: Option<&Path>, var: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(rest) = s.strip_prefix("~/") {
        if let Some(home) = var("HOME").filter(|h| !h.is_empty()) {
            return PathBuf::from(home).join(rest);
        }
    }
    let p = PathBuf::from(s);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SAMPLE: &str = r#"
default_profile = "tls"

[profiles.tls]
addr = "https://127.0.0.1:8200"
namespace = "t1"
ca_cert = "ca.pem"
ca_path = "~/cas"
tls_server_name = "localhost"
token_env = "TLS_TOKEN"
timeout = "5s"

[profiles.plain]
addr = "http://127.0.0.1:8200"

[aliases]
ll = "ns list -detailed"
who = "whoami"

[theme]
ascii = true
colors = false

[tui]
mask_secrets = false

[keys]
history_search = "ctrl-r"
"#;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn parses_profiles_aliases_theme_keys() {
        let mut file = parse(SAMPLE).unwrap();
        file.path = Some(PathBuf::from("/etc/vnsh/config.toml"));
        assert_eq!(file.default_profile.as_deref(), Some("tls"));
        assert_eq!(file.theme.ascii, Some(true));
        assert_eq!(file.theme.colours, Some(false));
        assert_eq!(file.tui.mask_secrets, Some(false));
        assert_eq!(file.keys["history_search"], "ctrl-r");
        assert_eq!(file.aliases["ll"], "ns list -detailed");
        let c = file
            .vault_config(
                "tls",
                vars(&[("TLS_TOKEN", "s.abc\n"), ("HOME", "/home/u")]),
            )
            .unwrap();
        assert_eq!(c.addr, "https://127.0.0.1:8200");
        assert_eq!(c.namespace, "t1");
        assert_eq!(c.token.as_ref().map(Token::expose), Some("s.abc"));
        assert_eq!(c.tls.ca_cert, Some(PathBuf::from("/etc/vnsh/ca.pem")));
        assert_eq!(c.tls.ca_path, Some(PathBuf::from("/home/u/cas")));
        assert_eq!(c.tls.server_name.as_deref(), Some("localhost"));
        assert_eq!(c.timeout, Duration::from_secs(5));
        let err = file.vault_config("tls", vars(&[])).unwrap_err();
        assert!(err.0.contains("TLS_TOKEN"), "{err}");
        // No token source: the usual variables.
        let c = file
            .vault_config("plain", vars(&[("VAULT_TOKEN", "s.env")]))
            .unwrap();
        assert_eq!(c.token.as_ref().map(Token::expose), Some("s.env"));
        let err = file.vault_config("nope", vars(&[])).unwrap_err();
        assert!(err.0.contains("plain, tls"), "{err}");
    }

    #[test]
    fn refuses_a_token_value() {
        for text in [
            "token = \"s.abc\"",
            "[profiles.a]\naddr = \"http://x\"\ntoken = \"s.abc\"",
            "[profiles.a]\naddr = \"http://x\"\nvault_token = \"s.abc\"",
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.0.contains("never goes in the configuration file"),
                "{err}"
            );
            assert!(
                !err.0.contains("s.abc"),
                "the error repeats the token: {err}"
            );
        }
    }

    #[test]
    fn refuses_bad_files_with_a_reason() {
        let cases = [
            ("[profiles.a]\nnamespace = \"x\"", "has no addr"),
            ("default_profile = \"x\"", "not among the profiles"),
            ("[theme]\nshiny = true", "unknown field"),
            (
                "[profiles.a]\naddr = \"http://x\"\ntoken_file = \"f\"\ntoken_env = \"E\"",
                "keep one",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.0.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_missing_file_is_empty_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.toml");
        assert!(load(&p, false).unwrap().profiles.is_empty());
        assert!(load(&p, true).is_err());
    }
}
