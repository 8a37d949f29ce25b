//! Auth methods as `bao auth` manages them: `auth list`, `enable`, `disable`, `tune`
//! (logging in is `login`, in `auth.rs`). Paths are placed as the secrets engines' are
//! ([`secrets::place`]): `auth enable -path=payments/people userpass` enables it in the
//! child namespace `payments`; a leading `auth/` is taken off (no namespace is called
//! `auth`).

use crate::engine::commands::explore::{self, Explore};
use crate::engine::commands::flags::{Flags, OutputFlags};
use crate::engine::commands::secrets::{self, done, place, shown, MountOptions};
use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::output::Output;
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed, UsageError};
use crate::vault::Method;

/// A command of this family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethods {
    /// The auth methods here.
    List {
        /// More columns.
        detailed: bool,
        /// `-format`.
        out: OutputFlags,
    },
    /// Enable an auth method.
    Enable {
        /// Its type (`userpass`, `approle`, …).
        kind: String,
        /// Where (`-path`); the type's name when not given.
        path: Option<String>,
        /// What to set.
        opts: MountOptions,
    },
    /// Disable one (every token it issued is revoked).
    Disable(String),
    /// Change its settings.
    Tune {
        /// The auth method's path, relative to here.
        path: String,
        /// What to change.
        opts: MountOptions,
    },
}

/// The auth methods OpenBao has built in, for completion.
pub const METHOD_TYPES: &[&str] = &[
    "userpass",
    "approle",
    "jwt",
    "oidc",
    "kubernetes",
    "ldap",
    "cert",
    "radius",
];

const SUBCOMMANDS: &[CommandInfo] = &[
    CommandInfo::new(
        "list",
        "auth list [-detailed] [-format=json]",
        "the auth methods here (as `auths`; -detailed: accessor, TTLs, options)",
    )
    .flags(&["-detailed", "-format="]),
    CommandInfo::new(
        "enable",
        "auth enable [-path=P] [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-token-type=T] [-options=k=v…] [-local] … TYPE",
        "enable an auth method here (log in with `login TYPE`); the path defaults to TYPE",
    )
    .flags(&[
        "-path=",
        "-description=",
        "-default-lease-ttl=",
        "-max-lease-ttl=",
        "-token-type=",
        "-options=",
        "-version=",
        "-local",
        "-seal-wrap",
        "-external-entropy-access",
        "-audit-non-hmac-request-keys=",
        "-audit-non-hmac-response-keys=",
        "-listing-visibility=",
        "-passthrough-request-headers=",
        "-allowed-response-headers=",
        "-plugin-version=",
    ])
    .args(&[Arg::Words(METHOD_TYPES)]),
    CommandInfo::new(
        "disable",
        "auth disable PATH",
        "disable an auth method and revoke every token it issued (asks first)",
    )
    .args(&[Arg::AuthMount]),
    CommandInfo::new(
        "tune",
        "auth tune [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-token-type=T] [-listing-visibility=V] … PATH",
        "change an auth method's settings",
    )
    .flags(&[
        "-description=",
        "-default-lease-ttl=",
        "-max-lease-ttl=",
        "-token-type=",
        "-options=",
        "-version=",
        "-audit-non-hmac-request-keys=",
        "-audit-non-hmac-response-keys=",
        "-listing-visibility=",
        "-passthrough-request-headers=",
        "-allowed-response-headers=",
        "-plugin-version=",
    ])
    .args(&[Arg::AuthMount]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "auth",
    "auth list | enable [flags] TYPE | disable PATH | tune [flags] PATH",
    "auth methods here: list, enable, disable, tune (as `bao auth`; log in with `login`)",
)
.subcommands(SUBCOMMANDS)];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<AuthMethods> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(parse_auth(rest))
}

fn parse_auth(rest: &[String]) -> Result<AuthMethods, UsageError> {
    let Some((word, rest)) = rest.split_first() else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            "`auth` needs a subcommand (to log in: `login`)",
        ));
    };
    let Some(info) = SUBCOMMANDS.iter().find(|c| c.is_called(word)) else {
        return Err(UsageError::new(
            COMMANDS[0].usage,
            format!("unknown subcommand `auth {word}` (to log in: `login`)"),
        ));
    };
    let f = Flags::parse(info, rest)?;
    let bad = |m: &str| UsageError::new(info.usage, m);
    let pos = f.positional.as_slice();
    match info.name {
        "list" if pos.is_empty() => Ok(AuthMethods::List {
            detailed: f.switch("detailed").unwrap_or(false),
            out: f.output(info)?,
        }),
        "list" => Err(bad("`auth list` takes no argument")),
        "enable" => match pos {
            [kind] => Ok(AuthMethods::Enable {
                kind: kind.clone(),
                path: f.last("path").filter(|p| !p.is_empty()).map(str::to_string),
                opts: MountOptions::from_flags(info, &f)?,
            }),
            [] => Err(bad(
                "`auth enable` needs the method's TYPE (userpass, approle, …)",
            )),
            _ => Err(bad(
                "`auth enable` takes one TYPE; the path goes in -path=P",
            )),
        },
        "disable" => match pos {
            [p] => Ok(AuthMethods::Disable(p.clone())),
            _ => Err(bad("`auth disable` takes one PATH")),
        },
        "tune" => match pos {
            [p] => {
                let opts = MountOptions::from_flags(info, &f)?;
                if opts.tune_body().is_none() {
                    return Err(bad("`auth tune` needs something to change (a flag)"));
                }
                Ok(AuthMethods::Tune {
                    path: p.clone(),
                    opts,
                })
            }
            _ => Err(bad("`auth tune` takes one PATH")),
        },
        _ => Err(bad("unknown subcommand")),
    }
}

/// `auth/userpass` and `userpass` name the same method; the rest is placed as a mount.
fn without_auth_prefix(typed: &str) -> String {
    let lead = if typed.starts_with('/') { "/" } else { "" };
    let t = typed.trim_start_matches('/');
    match t.strip_prefix("auth/") {
        Some(rest) => format!("{lead}{rest}"),
        None => typed.to_string(),
    }
}

impl AuthMethods {
    /// Whether it changes the server.
    pub fn is_mutating(&self) -> bool {
        !matches!(self, AuthMethods::List { .. })
    }

    /// Whether it destroys something, and so asks first.
    pub fn is_destructive(&self) -> bool {
        matches!(self, AuthMethods::Disable(_))
    }

    /// The question to ask before running it, if it is destructive.
    pub fn confirmation(&self, session: &Session) -> Option<String> {
        match self {
            AuthMethods::Disable(p) => {
                let full = secrets::full_path(session, &without_auth_prefix(p));
                Some(format!(
                    "Disable the auth method {full} and revoke every token it issued? Its users and roles are deleted."
                ))
            }
            _ => None,
        }
    }
}

/// Where an auth method typed here lives, and its path (without `auth/`).
async fn place_method(session: &Session, typed: &str) -> Result<(NsPath, String), EngineError> {
    place(session, &without_auth_prefix(typed)).await
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &AuthMethods) -> Result<Output, EngineError> {
    // The namespace whose auth methods this changes (completion and the index read it again).
    let changed: NsPath;
    let out = match cmd {
        AuthMethods::List { detailed, out } => {
            let mut listed = explore::run(session, &Explore::Auths).await?;
            if *detailed {
                listed.view = secrets::detailed_view(listed.json.as_ref());
            }
            return Ok(out.apply(listed));
        }
        AuthMethods::Enable { kind, path, opts } => {
            let (ns, mount) = place_method(session, path.as_deref().unwrap_or(kind)).await?;
            changed = ns.clone();
            let body = opts.enable_body(kind);
            let resp = session
                .client()
                .request(
                    Method::Post,
                    &ns.header(),
                    &format!("sys/auth/{}", mount.trim_end_matches('/')),
                    Some(&body),
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Enabled the {kind} auth method at {} (log in with `login {kind}{}`).",
                    shown(&ns, &format!("auth/{mount}")),
                    if mount.trim_end_matches('/') == kind {
                        String::new()
                    } else {
                        format!(" -path={}", mount.trim_end_matches('/'))
                    }
                ),
            )
        }
        AuthMethods::Disable(path) => {
            let (ns, mount) = place_method(session, path).await?;
            changed = ns.clone();
            let resp = session
                .client()
                .request(
                    Method::Delete,
                    &ns.header(),
                    &format!("sys/auth/{}", mount.trim_end_matches('/')),
                    None,
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Disabled the auth method at {} (if it existed).",
                    shown(&ns, &format!("auth/{mount}"))
                ),
            )
        }
        AuthMethods::Tune { path, opts } => {
            let (ns, mount) = place_method(session, path).await?;
            changed = ns.clone();
            let body = opts.tune_body();
            let resp = session
                .client()
                .request(
                    Method::Post,
                    &ns.header(),
                    &format!("sys/auth/{mount}tune"),
                    body.as_ref(),
                )
                .await?;
            done(
                resp.as_ref(),
                format!(
                    "Success! Tuned the auth method at {}.",
                    shown(&ns, &format!("auth/{mount}"))
                ),
            )
        }
    };
    session.cache().invalidate_paths();
    session.cache().invalidate_mounts(&changed);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(line: &str) -> Result<AuthMethods, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_and_builds_bodies() {
        let Ok(AuthMethods::Enable { kind, path, opts }) =
            p("auth enable -path=people -token-type=batch -description=staff userpass")
        else {
            panic!("parse")
        };
        assert_eq!(
            (kind.as_str(), path.as_deref()),
            ("userpass", Some("people"))
        );
        assert_eq!(
            opts.enable_body("userpass"),
            json!({"type": "userpass", "description": "staff", "config": {"token_type": "batch"},
                   "options": null, "local": false, "seal_wrap": false, "external_entropy_access": false})
        );
        assert!(p("auth disable people").unwrap().is_destructive());
        assert!(!p("auth list").unwrap().is_mutating());
        for (line, says) in [
            ("auth", "to log in: `login`"),
            ("auth frob", "unknown subcommand"),
            ("auth enable", "TYPE"),
            ("auth tune people", "something to change"),
            ("auth enable -force-no-cache userpass", "unknown flag"),
        ] {
            let e = p(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn an_auth_prefix_is_the_same_method() {
        assert_eq!(without_auth_prefix("auth/userpass"), "userpass");
        assert_eq!(without_auth_prefix("/auth/userpass"), "/userpass");
        assert_eq!(
            without_auth_prefix("payments/userpass"),
            "payments/userpass"
        );
    }
}
