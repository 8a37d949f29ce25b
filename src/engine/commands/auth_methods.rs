//! Auth methods as `bao auth` manages them: `auth list`, `enable`, `disable`, `tune`,
//! `move` (logging in is `login`, in `auth.rs`). The commands are the secrets engines'
//! ([`secrets`]) with the auth methods' [`Family`]: paths are placed the same way
//! (`auth enable -path=payments/people userpass` enables it in the child namespace
//! `payments`), and a leading `auth/` is taken off (no namespace is called `auth`).

use crate::engine::commands::explore::Explore;
use crate::engine::commands::secrets::{self, Family, MountCommand};
use crate::engine::error::EngineError;
use crate::engine::output::Output;
use crate::engine::session::Session;
use crate::engine::spec::{Arg, CommandInfo, Parsed};

/// A command of the auth methods.
pub type AuthMethods = MountCommand;

/// The auth methods.
pub const AUTH: Family = Family {
    word: "auth",
    noun: "auth method",
    api: "sys/auth",
    prefix: "auth/",
    usage: COMMANDS[0].usage,
    subcommands: SUBCOMMANDS,
    type_hint: "the method's TYPE (userpass, approle, …)",
    aside: " (to log in: `login`)",
    listing: Explore::Auths,
    disable_question:
        "Disable the auth method {} and revoke every token it issued? Its users and roles are deleted.",
    move_cost: "every token it issued is revoked",
    login_hint: true,
};

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
        "auth enable [-path=P] [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-token-type=T] [-options=k=v…] [-local] [-plugin-name=N] … TYPE",
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
        "-plugin-name=",
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
        "auth tune [-description=D] [-default-lease-ttl=T] [-max-lease-ttl=T] [-token-type=T] [-listing-visibility=V] [-user-lockout-threshold=N] [-user-lockout-duration=T] [-user-lockout-counter-reset-duration=T] [-user-lockout-disable] … PATH",
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
        "-user-lockout-threshold=",
        "-user-lockout-duration=",
        "-user-lockout-counter-reset-duration=",
        "-user-lockout-disable",
    ])
    .args(&[Arg::AuthMount]),
    CommandInfo::new(
        "move",
        "auth move FROM TO",
        "move an auth method, within this namespace or to one below (its tokens are revoked)",
    )
    .args(&[Arg::AuthMount, Arg::Free]),
];

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "auth",
    "auth list | enable [flags] TYPE | disable PATH | tune [flags] PATH | move FROM TO",
    "auth methods here: list, enable, disable, tune, move (as `bao auth`; log in with `login`)",
)
.subcommands(SUBCOMMANDS)];

/// Parse a command of this family; `None` when `name` is not one.
pub fn parse(name: &str, rest: &[String]) -> Parsed<AuthMethods> {
    if !COMMANDS[0].is_called(name) {
        return None;
    }
    Some(secrets::parse_family(&AUTH, rest))
}

/// Run a command of this family.
pub async fn run(session: &mut Session, cmd: &AuthMethods) -> Result<Output, EngineError> {
    secrets::run(session, cmd).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::commands::secrets::MountAction;
    use crate::engine::spec::UsageError;
    use serde_json::json;

    fn p(line: &str) -> Result<AuthMethods, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (first, rest) = words.split_first().unwrap();
        parse(first, rest).unwrap()
    }

    #[test]
    fn parses_and_builds_bodies() {
        let Ok(MountAction::Enable { kind, path, opts }) =
            p("auth enable -path=people -token-type=batch -description=staff userpass")
                .map(|c| c.action)
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
        assert_eq!(AUTH.typed("auth/userpass"), "userpass");
        assert_eq!(AUTH.typed("/auth/userpass"), "/userpass");
        assert_eq!(AUTH.typed("payments/userpass"), "payments/userpass");
        assert_eq!(secrets::SECRETS.typed("auth/x"), "auth/x");
    }
}
