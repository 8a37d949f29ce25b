//! `explain` for the daily-work families, whose words are bao's own (`kv`, `secrets`,
//! `auth`, `policy`, `token`): the bao line with `-namespace=` where the path lands, and
//! the request vnsh sends for it. A KV path is located first (a read of the mounts), as
//! the command itself does, so that a path into a child namespace and the mount's KV
//! version (`data/`, `metadata/`) come out as they are sent.

use serde_json::{json, Map, Value};

use crate::engine::commands::explain_steps::{
    bao, detailed_flag, kv_args, local, quote, quote_arg, set_vars_note, shell_text, shell_value,
    step, Req, Step,
};
use crate::engine::commands::kv::{Kv, KvOp};
use crate::engine::commands::policy::Policy;
use crate::engine::commands::secrets::{MountAction, MountCommand};
use crate::engine::commands::token::{Revoke, Token, Which};
use crate::engine::error::EngineError;
use crate::engine::nspath::NsPath;
use crate::engine::resolve;
use crate::engine::session::Session;
use crate::vault::Method;

/// `versions=1,2` as bao's flag and as the JSON list.
fn versions_flag(versions: &[u64]) -> (String, Value) {
    let text: Vec<String> = versions.iter().map(u64::to_string).collect();
    (format!("-versions={}", text.join(",")), json!(versions))
}

/// `kv …`: where the path lands, then its request on the mount's version.
pub async fn kv(
    session: &Session,
    c: &Kv,
    notes: &mut Vec<String>,
) -> Result<Vec<Step>, EngineError> {
    let at = resolve::locate(session, &c.path).await?;
    let Some(m) = at.mount.clone().filter(|m| m.kind == "kv") else {
        return Err(EngineError::Other(format!(
            "explain: {} is in no KV mount this token may see",
            c.path
        )));
    };
    let v2 = m.is_kv2();
    let ns = &at.namespace;
    let mut flags = vec![quote(&format!("-mount={}", m.path.trim_end_matches('/')))];
    let key = std::slice::from_ref(&at.rest);
    let req = |method: Method, sub: &str| Req::new(method, ns, at.api_path(sub));
    let shown = at.display();
    let need_v2 = |what: &str| {
        if v2 {
            Ok(())
        } else {
            Err(EngineError::Other(format!(
                "explain: {what} needs KV version 2, and {} is version 1",
                m.path
            )))
        }
    };
    let one = |words: &[&str], flags: &[String], what: String, r: Req| {
        vec![step(what, Some(bao(words, ns, flags, key)), Some(r))]
    };
    Ok(match &c.op {
        KvOp::Get { version } => {
            let mut r = req(Method::Get, "data");
            if let Some(v) = version {
                flags.push(format!("-version={v}"));
                r.query.push(("version".into(), v.to_string()));
            }
            one(&["kv", "get"], &flags, format!("the secret {shown}"), r)
        }
        KvOp::Put { cas, args } => {
            let (pairs, data, vars) = kv_args(args)?;
            set_vars_note(&vars, notes);
            let body = if v2 {
                let mut options = Map::new();
                if let Some(n) = cas {
                    flags.push(format!("-cas={n}"));
                    options.insert("cas".into(), json!(n));
                }
                json!({ "data": data, "options": options })
            } else {
                Value::Object(data)
            };
            vec![step(
                format!("write the secret {shown}"),
                Some(bao(&["kv", "put"], ns, &flags, &[key, &pairs[..]].concat())),
                Some(req(Method::Post, "data").body(body)),
            )]
        }
        KvOp::Patch {
            cas, remove, args, ..
        } => {
            need_v2("kv patch")?;
            let (pairs, mut data, vars) = kv_args(args)?;
            set_vars_note(&vars, notes);
            for k in remove {
                flags.push(quote(&format!("-remove-data={k}")));
                data.insert(k.clone(), Value::Null);
            }
            let mut body = json!({ "data": data });
            if let Some(n) = cas {
                flags.push(format!("-cas={n}"));
                body["options"] = json!({ "cas": n });
            }
            vec![step(
                format!("merge the keys into the latest version of {shown}"),
                Some(bao(
                    &["kv", "patch"],
                    ns,
                    &flags,
                    &[key, &pairs[..]].concat(),
                )),
                Some(req(Method::Patch, "data").body(body)),
            )]
        }
        KvOp::Delete { versions } if !v2 || versions.is_empty() => one(
            &["kv", "delete"],
            &flags,
            if v2 {
                format!("delete the latest version of {shown} (kv undelete brings it back)")
            } else {
                format!("delete {shown} for good (KV version 1 keeps no versions)")
            },
            req(Method::Delete, "data"),
        ),
        KvOp::Delete { versions } | KvOp::Undelete { versions } | KvOp::Destroy { versions } => {
            let (word, sub) = match &c.op {
                KvOp::Delete { .. } => ("delete", "delete"),
                KvOp::Undelete { .. } => ("undelete", "undelete"),
                _ => ("destroy", "destroy"),
            };
            need_v2(&format!("kv {word}"))?;
            let (flag, list) = versions_flag(versions);
            flags.push(flag);
            one(
                &["kv", word],
                &flags,
                format!("{word} versions of {shown}"),
                req(Method::Post, sub).body(json!({ "versions": list })),
            )
        }
        KvOp::Rollback { version } => {
            need_v2("kv rollback")?;
            flags.push(format!("-version={version}"));
            let mut read = req(Method::Get, "data");
            read.query.push(("version".into(), version.to_string()));
            vec![
                step(
                    format!("read version {version} of {shown}"),
                    Some(bao(&["kv", "rollback"], ns, &flags, key)),
                    Some(read),
                ),
                local(format!(
                    "then write its data back as a new version (POST {}, with options.cas the current version)",
                    at.api_path("data")
                )),
            ]
        }
        KvOp::List => one(
            &["kv", "list"],
            &flags,
            format!("the keys under {shown}"),
            req(Method::List, "metadata"),
        ),
        KvOp::MetadataGet => {
            need_v2("kv metadata get")?;
            one(
                &["kv", "metadata", "get"],
                &flags,
                format!("the metadata and versions of {shown}"),
                req(Method::Get, "metadata"),
            )
        }
        KvOp::MetadataPut(p) => {
            need_v2("kv metadata put")?;
            let mut body = Map::new();
            if let Some(n) = p.max_versions {
                flags.push(format!("-max-versions={n}"));
                body.insert("max_versions".into(), json!(n));
            }
            if let Some(c) = p.cas_required {
                flags.push(format!("-cas-required={c}"));
                body.insert("cas_required".into(), json!(c));
            }
            if let Some(d) = &p.delete_version_after {
                flags.push(quote(&format!("-delete-version-after={d}")));
                body.insert("delete_version_after".into(), json!(d));
            }
            if !p.custom.is_empty() {
                let mut custom = Map::new();
                for (k, v) in &p.custom {
                    flags.push(quote(&format!("-custom-metadata={k}={v}")));
                    custom.insert(k.clone(), json!(v));
                }
                body.insert("custom_metadata".into(), Value::Object(custom));
            }
            one(
                &["kv", "metadata", "put"],
                &flags,
                format!("write the metadata of {shown}"),
                req(Method::Post, "metadata").body(Value::Object(body)),
            )
        }
        KvOp::MetadataDelete => {
            need_v2("kv metadata delete")?;
            one(
                &["kv", "metadata", "delete"],
                &flags,
                format!("delete {shown} with every version and its metadata, for good"),
                req(Method::Delete, "metadata"),
            )
        }
    })
}

/// `secrets …` and `auth …`: the mount placed as the command places it (the namespaces
/// on its path first).
pub async fn mounts(session: &Session, c: &MountCommand) -> Result<Vec<Step>, EngineError> {
    let family = c.family;
    let (word, api) = (family.word, family.api);
    let here = session.cwd();
    Ok(match &c.action {
        MountAction::List { detailed, .. } => vec![step(
            format!("the {}s of {here}", family.noun),
            Some(bao(&[word, "list"], here, &detailed_flag(*detailed), &[])),
            Some(Req::new(Method::Get, here, api)),
        )],
        MountAction::Enable { kind, path, opts } => {
            let (ns, mount) = family
                .place(session, path.as_deref().unwrap_or(kind))
                .await?;
            let name = mount.trim_end_matches('/');
            let mut flags = vec![quote(&format!("-path={name}"))];
            if let Some(d) = &opts.description {
                flags.push(quote(&format!("-description={d}")));
            }
            for (k, v) in &opts.options {
                flags.push(quote(&format!("-options={k}={v}")));
            }
            vec![step(
                format!(
                    "enable the {kind} {} at {}",
                    family.noun,
                    family.shown(&ns, &mount)
                ),
                Some(bao(
                    &[word, "enable"],
                    &ns,
                    &flags,
                    std::slice::from_ref(kind),
                )),
                Some(
                    Req::new(Method::Post, &ns, format!("{api}/{name}"))
                        .body(opts.enable_body(kind)),
                ),
            )]
        }
        MountAction::Disable(path) => {
            let (ns, mount) = family.place(session, path).await?;
            let name = mount.trim_end_matches('/').to_string();
            vec![step(
                format!(
                    "disable the {} at {}",
                    family.noun,
                    family.shown(&ns, &mount)
                ),
                Some(bao(
                    &[word, "disable"],
                    &ns,
                    &[],
                    std::slice::from_ref(&name),
                )),
                Some(Req::new(Method::Delete, &ns, format!("{api}/{name}"))),
            )]
        }
        MountAction::Tune { path, opts } => {
            let (ns, mount) = family.place(session, path).await?;
            let name = mount.trim_end_matches('/').to_string();
            let mut flags = Vec::new();
            if let Some(d) = &opts.description {
                flags.push(quote(&format!("-description={d}")));
            }
            if let Some(t) = &opts.default_lease_ttl {
                flags.push(quote(&format!("-default-lease-ttl={t}")));
            }
            if let Some(t) = &opts.max_lease_ttl {
                flags.push(quote(&format!("-max-lease-ttl={t}")));
            }
            for (k, v) in &opts.options {
                flags.push(quote(&format!("-options={k}={v}")));
            }
            let mut req = Req::new(Method::Post, &ns, format!("{api}/{mount}tune"));
            if let Some(b) = opts.tune_body() {
                req = req.body(b);
            }
            vec![step(
                format!("tune the {} at {}", family.noun, family.shown(&ns, &mount)),
                Some(bao(
                    &[word, "tune"],
                    &ns,
                    &flags,
                    std::slice::from_ref(&name),
                )),
                Some(req),
            )]
        }
        MountAction::Move { from, to } => {
            let (from_ns, from_path) = family.place(session, from).await?;
            let (to_ns, to_path) = family.place(session, to).await?;
            vec![local(format!(
                "move the {} {} to {}: one POST sys/remount with both full paths, in the namespace both are in (`bao {word} move`); its leases are revoked",
                family.noun,
                family.shown(&from_ns, &from_path),
                family.shown(&to_ns, &to_path)
            ))]
        }
    })
}

/// `policy …`: in the current namespace.
pub fn policy(here: &NsPath, c: &Policy) -> Result<Vec<Step>, EngineError> {
    let acl = |name: &str| format!("sys/policies/acl/{name}");
    Ok(match c {
        Policy::List(_) => vec![step(
            format!("the ACL policies of {here}"),
            Some(bao(&["policy", "list"], here, &[], &[])),
            Some(Req::new(Method::List, here, "sys/policies/acl")),
        )],
        Policy::Read { name, .. } => vec![step(
            format!("the policy {name}"),
            Some(bao(
                &["policy", "read"],
                here,
                &[],
                std::slice::from_ref(name),
            )),
            Some(Req::new(Method::Get, here, acl(name))),
        )],
        Policy::Write { name, source } => {
            if source == "-" {
                return Err(EngineError::Other(
                    "explain: a policy read from standard input cannot be shown; give its file"
                        .into(),
                ));
            }
            // The text goes in the JSON body as it is now (escaped): a policy is no secret,
            // and `$(cat FILE)` inside a JSON string breaks on its quotes.
            let text = std::fs::read_to_string(source).map_err(|e| {
                EngineError::Other(format!(
                    "explain: cannot read the policy file {source}: {e}"
                ))
            })?;
            vec![step(
                format!("write the policy {name} from {source} (its text as it is now)"),
                Some(bao(
                    &["policy", "write"],
                    here,
                    &[],
                    &[name.clone(), source.clone()],
                )),
                Some(Req::new(Method::Put, here, acl(name)).body(json!({ "policy": text }))),
            )]
        }
        Policy::Delete(name) => vec![step(
            format!("delete the policy {name}"),
            Some(bao(
                &["policy", "delete"],
                here,
                &[],
                std::slice::from_ref(name),
            )),
            Some(Req::new(Method::Delete, here, acl(name))),
        )],
    })
}

/// `token …`: the session's own token, or one named by its accessor.
pub fn token(here: &NsPath, c: &Token, notes: &mut Vec<String>) -> Result<Vec<Step>, EngineError> {
    let mut by_accessor = |which: &Which,
                           own: &str,
                           other: &str|
     -> Result<(String, Option<Value>, Vec<String>), EngineError> {
        match which {
            Which::Own => Ok((own.to_string(), None, vec![])),
            Which::Accessor(a) => Ok((
                other.to_string(),
                Some(json!({ "accessor": a })),
                vec!["-accessor".into(), quote(a)],
            )),
            Which::Ask | Which::File(_) => {
                notes.push("set $OTHER_TOKEN first: the token to act on (never on a command line you keep)".into());
                Ok((
                    other.trim_end_matches("-accessor").to_string(),
                    Some(json!({ "token": shell_value("$OTHER_TOKEN") })),
                    vec![quote_arg(&shell_text("$OTHER_TOKEN"))],
                ))
            }
        }
    };
    Ok(match c {
        Token::Lookup { which, .. } => {
            let (path, body, flags) = by_accessor(which, "auth/token/lookup-self", "auth/token/lookup-accessor")?;
            let method = if body.is_some() { Method::Post } else { Method::Get };
            let mut req = Req::new(method, here, path);
            if let Some(b) = body {
                req = req.body(b);
            }
            vec![step("look the token up", Some(bao(&["token", "lookup"], here, &flags, &[])), Some(req))]
        }
        Token::Renew { which, increment, .. } => {
            let (path, body, mut flags) = by_accessor(which, "auth/token/renew-self", "auth/token/renew-accessor")?;
            let mut body = body.unwrap_or_else(|| json!({}));
            if let Some(i) = increment {
                flags.push(quote(&format!("-increment={i}")));
                body["increment"] = json!(i);
            }
            vec![step(
                "renew the token",
                Some(bao(&["token", "renew"], here, &flags, &[])),
                Some(Req::new(Method::Post, here, path).body(body)),
            )]
        }
        Token::Revoke(Revoke::Prefix(prefix)) => vec![step(
            "revoke every token and lease created under the prefix",
            Some(bao(&["token", "revoke"], here, &["-mode=path".into()], &[format!("{prefix}/")])),
            Some(Req::new(Method::Put, here, format!("sys/leases/revoke-prefix/{prefix}"))),
        )],
        Token::Revoke(revoke @ (Revoke::Orphan(which) | Revoke::Tree(which))) => {
            let orphan = matches!(revoke, Revoke::Orphan(_));
            let (path, body, mut flags) = if orphan {
                let (path, body, mut flags) = by_accessor(which, "", "auth/token/revoke-orphan")?;
                flags.insert(0, "-mode=orphan".into());
                (path, body, flags)
            } else {
                by_accessor(which, "auth/token/revoke-self", "auth/token/revoke-accessor")?
            };
            if matches!(which, Which::Own) {
                flags.push("-self".into());
            }
            let mut req = Req::new(Method::Post, here, path);
            if let Some(b) = body {
                req = req.body(b);
            }
            let what = if orphan {
                "revoke the token only: the tokens it created stay, as orphans"
            } else {
                "revoke the token and every token it created"
            };
            vec![step(what, Some(bao(&["token", "revoke"], here, &flags, &[])), Some(req))]
        }
        Token::Create(_) => vec![local(format!(
            "create a token: POST auth/token/create (auth/token/create-orphan with -orphan, auth/token/create/ROLE with -role) in {here}, with the flags as fields (`bao token create -namespace={} …`); the new token is in auth.client_token",
            here.header()
        ))],
    })
}
