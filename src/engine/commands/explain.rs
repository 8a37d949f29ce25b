//! `explain CMD…`: the `bao` command line(s) and the `curl` request(s) that do what CMD
//! does, for runbooks and for learning. Nothing is changed on the server: a path into a
//! mount is located (a read), and nothing else is sent.
//!
//! The URL is the one vnsh's client would send, built by [`crate::vault::Client::url_for`]
//! (every segment escaped once, query parameters from a list); the namespace goes as
//! `-namespace=` and `X-Vault-Namespace`. The token is `$VAULT_TOKEN`, never its value; a
//! value whose name says it is secret (`password=`, an unlock key) is a shell variable
//! named after it (`$PASSWORD`), to be set first; other values are shown as typed.
//!
//! The dispatcher hands over the parsed command as a [`Subject`]: this family imports the
//! others, never the dispatcher.

use serde_json::{json, Value};

use crate::engine::commands::api::{self, ApiFlags, ApiOp};
use crate::engine::commands::auth::Auth;
use crate::engine::commands::cp::{self, Side};
use crate::engine::commands::diff::Diff;
use crate::engine::commands::explain_daily as daily;
use crate::engine::commands::explain_steps::{
    bao, detailed_flag, kv_args, local, quote, quote_arg, set_vars_note, shell_text, shell_value,
    step, Req, Step,
};
use crate::engine::commands::explore::{Explore, FindKind};
use crate::engine::commands::incident::Incident;
use crate::engine::commands::kv::Kv;
use crate::engine::commands::lock::Lock;
use crate::engine::commands::nav::Nav;
use crate::engine::commands::ns::Ns;
use crate::engine::commands::policy::Policy;
use crate::engine::commands::secrets::MountCommand;
use crate::engine::commands::shell::Shell;
use crate::engine::commands::token::Token;
use crate::engine::error::EngineError;
use crate::engine::nspath::{self, NsPath};
use crate::engine::output::{Output, View};
use crate::engine::resolve;
use crate::engine::session::Session;
use crate::engine::spec::CommandInfo;
use crate::vault::{ApiRequest, Method};

/// The commands of this family, for help and completion.
pub const COMMANDS: &[CommandInfo] = &[CommandInfo::new(
    "explain",
    "explain CMD…",
    "the bao and curl commands that do what CMD does, for runbooks (the token as $VAULT_TOKEN)",
)];

/// Whether `word` starts `explain`.
pub fn is_called(word: &str) -> bool {
    COMMANDS[0].is_called(word)
}

/// The command to explain, as the dispatcher parsed it.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// `pwd`, `cd`, `ls`, `tree`.
    Nav(&'a Nav),
    /// `ns …`.
    Ns(&'a Ns),
    /// `lock`, `unlock`.
    Lock(&'a Lock),
    /// `read`, `list`, `write`, `patch`, `delete`.
    Api(&'a api::Api),
    /// `mounts`, `describe`, `find`, `cat`, …
    Explore(&'a Explore),
    /// `locks`, `keys`, `log`.
    Incident(&'a Incident),
    /// `login`, `whoami`, `connect`.
    Auth(&'a Auth),
    /// `help`, `complete`, `refresh`, `exit`.
    Shell(&'a Shell),
    /// `cp`, `mv`.
    Cp(&'a cp::Cp),
    /// `diff`.
    Diff(&'a Diff),
    /// `explain` itself.
    Explain,
    /// `kv …`.
    Kv(&'a Kv),
    /// `secrets …`, `auth …` (the mounts).
    Mounts(&'a MountCommand),
    /// `policy …`.
    Policy(&'a Policy),
    /// `token …`.
    Token(&'a Token),
}

/// The `curl` line of `req`, as vnsh's client sends it.
fn curl(session: &Session, req: &Req) -> Result<(String, String), EngineError> {
    let ns = req.namespace.header();
    let mut api = ApiRequest::new(req.method, &ns, &req.path);
    for (k, v) in &req.query {
        api = api.query(k, v);
    }
    let url = session.client().url_for(&api)?.to_string();
    let mut out = vec!["curl".to_string(), "-sS".into()];
    match req.method {
        Method::Get | Method::List => {}
        other => {
            out.push("-X".into());
            out.push(other.as_str().into());
        }
    }
    if let Some(var) = req.token {
        out.push("-H".into());
        out.push(format!("\"X-Vault-Token: ${var}\""));
    }
    if !ns.is_empty() {
        out.push("-H".into());
        out.push(quote(&format!("X-Vault-Namespace: {ns}")));
    }
    if let Some(body) = &req.body {
        let ctype = if req.method == Method::Patch {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        out.push("-H".into());
        out.push(quote(&format!("Content-Type: {ctype}")));
        out.push("--data".into());
        out.push(match body {
            // A body read from a file: curl reads it.
            Value::String(s) if s.starts_with('@') => quote(s),
            other => quote_arg(&other.to_string()),
        });
    }
    out.push(quote(&url));
    Ok((out.join(" "), url))
}

/// Run `explain`.
pub async fn run(session: &Session, subject: Subject<'_>) -> Result<Output, EngineError> {
    let here = session.cwd().clone();
    let mut notes = Vec::new();
    let steps = match subject {
        Subject::Nav(c) => nav(session, &here, c).await?,
        Subject::Ns(c) => ns(session, &here, c, &mut notes)?,
        Subject::Lock(c) => lock(&here, c, &mut notes)?,
        Subject::Api(c) => api_steps(session, c, &mut notes)?,
        Subject::Explore(c) => explore(session, &here, c).await?,
        Subject::Incident(c) => incident(&here, c),
        Subject::Auth(c) => auth(&here, c, &mut notes)?,
        Subject::Shell(c) => shell(&here, c),
        Subject::Cp(c) => copy(session, c).await?,
        Subject::Diff(c) => diff(session, c)?,
        Subject::Explain => vec![local(
            "explain sends nothing: it prints what a command sends",
        )],
        Subject::Kv(c) => daily::kv(session, c, &mut notes).await?,
        Subject::Mounts(c) => daily::mounts(session, c).await?,
        Subject::Policy(c) => daily::policy(&here, c)?,
        Subject::Token(c) => daily::token(&here, c, &mut notes)?,
    };
    render(session, steps, notes)
}

fn render(
    session: &Session,
    steps: Vec<Step>,
    mut notes: Vec<String>,
) -> Result<Output, EngineError> {
    let mut text = Vec::new();
    let mut docs = Vec::new();
    for s in &steps {
        text.push(format!("# {}", s.what));
        let mut doc = json!({ "what": s.what });
        if let Some(b) = &s.bao {
            text.push(b.clone());
            doc["bao"] = json!(b);
        }
        if let Some(r) = &s.req {
            let (line, url) = curl(session, r)?;
            text.push(line.clone());
            doc["curl"] = json!(line);
            doc["method"] = json!(r.method.as_str());
            doc["namespace"] = json!(r.namespace.header());
            doc["url"] = json!(url);
        }
        if s.bao.is_none() && s.req.is_none() {
            text.push("(nothing is sent)".into());
        }
        text.push(String::new());
        docs.push(doc);
    }
    notes.dedup();
    Ok(Output {
        json: Some(json!({ "steps": docs })),
        view: View::Text(text.join("\n").trim_end().to_string()),
        notes: notes.into_iter().map(|n| format!("note: {n}")).collect(),
    })
}

async fn nav(session: &Session, here: &NsPath, c: &Nav) -> Result<Vec<Step>, EngineError> {
    Ok(match c {
        Nav::Pwd => vec![local(format!(
            "the current namespace ({here}) is kept by vnsh; bao and curl take it as -namespace= or X-Vault-Namespace (or VAULT_NAMESPACE)"
        ))],
        Nav::Cd(arg) => {
            let target = session.resolve(arg.as_deref())?;
            let mut steps = Vec::new();
            if let (Some(parent), Some(name)) = (target.parent(), target.name()) {
                steps.push(step(
                    format!("check that {target} exists (asked from its parent)"),
                    Some(bao(&["namespace", "lookup"], &parent, &[], &[name.to_string()])),
                    Some(Req::new(Method::Get, &parent, format!("sys/namespaces/{name}"))),
                ));
            }
            steps.push(local(format!(
                "then every command goes to {target}: export VAULT_NAMESPACE={}",
                quote(&target.header())
            )));
            steps
        }
        Nav::Ls(arg) => {
            if let Some(a) = arg {
                let at = resolve::locate(session, a).await?;
                if let Some(m) = at.mount.clone() {
                    let path = at.api_path("metadata");
                    let b = if m.is_kv2() {
                        bao(&["kv", "list"], &at.namespace, &[quote(&format!("-mount={}", m.path.trim_end_matches('/')))], std::slice::from_ref(&at.rest))
                    } else {
                        bao(&["list"], &at.namespace, &[], std::slice::from_ref(&path))
                    };
                    return Ok(vec![step(
                        format!("the keys of {}", at.display()),
                        Some(b),
                        Some(Req::new(Method::List, &at.namespace, path)),
                    )]);
                }
            }
            let ns = session.resolve(arg.as_deref())?;
            namespace_listing(&ns)
        }
        Nav::Tree { path, .. } => {
            let ns = session.resolve(path.as_deref())?;
            vec![scan_step(&ns)]
        }
    })
}

fn scan_step(ns: &NsPath) -> Step {
    step(
        format!("every namespace below {ns}, in one SCAN (Vault Enterprise: LIST sys/namespaces level by level)"),
        Some(bao(&["namespace", "scan"], ns, &[], &[])),
        Some(Req::new(Method::Scan, ns, "sys/namespaces")),
    )
}

fn namespace_listing(ns: &NsPath) -> Vec<Step> {
    vec![
        step(
            format!("the child namespaces of {ns}"),
            Some(bao(&["namespace", "list"], ns, &["-detailed".into()], &[])),
            Some(Req::new(Method::List, ns, "sys/namespaces")),
        ),
        step(
            format!("the secrets engines of {ns}"),
            Some(bao(&["secrets", "list"], ns, &[], &[])),
            Some(Req::new(Method::Get, ns, "sys/mounts")),
        ),
        step(
            format!("the auth methods of {ns}"),
            Some(bao(&["auth", "list"], ns, &[], &[])),
            Some(Req::new(Method::Get, ns, "sys/auth")),
        ),
    ]
}

/// `a/b/c` typed in `here` names `c` inside `here/a/b` (`/a/b/c` from the top), as `ns`
/// sends it.
fn parent_and_name(
    session: &Session,
    here: &NsPath,
    typed: &str,
) -> Result<(NsPath, String), EngineError> {
    let (parent, name, _) = nspath::parent_and_name(session.top(), here, typed)?;
    Ok((parent, name))
}

fn ns(
    session: &Session,
    here: &NsPath,
    c: &Ns,
    notes: &mut Vec<String>,
) -> Result<Vec<Step>, EngineError> {
    let meta_flags =
        |args: &[String], notes: &mut Vec<String>| -> Result<(Vec<String>, Value), EngineError> {
            let (shown, body, vars) = kv_args(args)?;
            set_vars_note(&vars, notes);
            let flags = shown
                .iter()
                .map(|kv| quote_arg(&format!("-custom-metadata={kv}")))
                .collect();
            Ok((flags, json!({ "custom_metadata": body })))
        };
    Ok(match c {
        Ns::List { detailed } => vec![step(
            format!("the child namespaces of {here}"),
            Some(bao(
                &["namespace", "list"],
                here,
                &detailed_flag(*detailed),
                &[],
            )),
            Some(Req::new(Method::List, here, "sys/namespaces")),
        )],
        Ns::Scan { .. } => vec![scan_step(here)],
        Ns::Lookup(name) => {
            let (parent, last) = parent_and_name(session, here, name)?;
            vec![step(
                format!("namespace {}", parent.child(&last)),
                Some(bao(
                    &["namespace", "lookup"],
                    &parent,
                    &[],
                    std::slice::from_ref(&last),
                )),
                Some(Req::new(
                    Method::Get,
                    &parent,
                    format!("sys/namespaces/{last}"),
                )),
            )]
        }
        Ns::Create { name, args } => {
            nspath::validate_name(name)?;
            let (parent, last) = parent_and_name(session, here, name)?;
            let (flags, body) = meta_flags(args, notes)?;
            vec![step(
                format!("create namespace {}", parent.child(&last)),
                Some(bao(
                    &["namespace", "create"],
                    &parent,
                    &flags,
                    std::slice::from_ref(&last),
                )),
                Some(Req::new(Method::Post, &parent, format!("sys/namespaces/{last}")).body(body)),
            )]
        }
        Ns::Patch { name, args } => {
            let (parent, last) = parent_and_name(session, here, name)?;
            let (flags, body) = meta_flags(args, notes)?;
            vec![step(
                format!("merge-patch the custom metadata of {}", parent.child(&last)),
                Some(bao(
                    &["namespace", "patch"],
                    &parent,
                    &flags,
                    std::slice::from_ref(&last),
                )),
                Some(Req::new(Method::Patch, &parent, format!("sys/namespaces/{last}")).body(body)),
            )]
        }
        Ns::Delete { name, .. } => {
            nspath::validate_name(name)?;
            let (parent, last) = parent_and_name(session, here, name)?;
            vec![step(
                format!(
                    "delete namespace {} and everything in it",
                    parent.child(&last)
                ),
                Some(bao(
                    &["namespace", "delete"],
                    &parent,
                    &[],
                    std::slice::from_ref(&last),
                )),
                Some(Req::new(
                    Method::Delete,
                    &parent,
                    format!("sys/namespaces/{last}"),
                )),
            )]
        }
        Ns::Seal(s) => {
            use crate::engine::commands::seal::Seal;
            let (verb, name, method, what, body) = match s {
                Seal::Seal(n) => ("seal", n, Method::Put, "seal", None),
                Seal::Unseal { name, .. } => (
                    "unseal",
                    name,
                    Method::Put,
                    "unseal",
                    Some(json!({ "key": shell_value("$KEY_SHARE") })),
                ),
                Seal::Status(n) => ("seal-status", n, Method::Get, "seal-status", None),
                Seal::DeleteSealed { name, .. } => {
                    ("delete-sealed", name, Method::Delete, "delete-sealed", None)
                }
                Seal::Create { .. } => {
                    return Err(EngineError::Other(
                        "explain: a sealable namespace's creation carries its seal configuration; see `bao namespace create -help`".into(),
                    ))
                }
            };
            let (parent, last) = parent_and_name(session, here, name)?;
            if body.is_some() {
                notes.push("set $KEY_SHARE first (one key share of the namespace)".into());
            }
            let mut req = Req::new(method, &parent, format!("sys/namespaces/{last}/{what}"));
            if let Some(b) = body {
                req = req.body(b);
            }
            vec![step(
                format!("{verb} namespace {}", parent.child(&last)),
                Some(bao(
                    &["namespace", verb],
                    &parent,
                    &[],
                    std::slice::from_ref(&last),
                )),
                Some(req),
            )]
        }
    })
}

fn lock(here: &NsPath, c: &Lock, notes: &mut Vec<String>) -> Result<Vec<Step>, EngineError> {
    let sub_of = |s: &Option<String>| -> Result<NsPath, EngineError> {
        match s.as_deref() {
            Some(s) if !s.is_empty() => Ok(nspath::validate_name(s)?),
            _ => Ok(NsPath::root()),
        }
    };
    let path = |verb: &str, sub: &NsPath| {
        if sub.is_root() {
            format!("sys/namespaces/api-lock/{verb}")
        } else {
            format!("sys/namespaces/api-lock/{verb}/{}", sub.display())
        }
    };
    let args = |sub: &NsPath| {
        if sub.is_root() {
            vec![]
        } else {
            vec![sub.display()]
        }
    };
    Ok(match c {
        Lock::Lock(names) => {
            notes.push("the answer holds the unlock key: keep it (vnsh saves it in its key store before it shows it)".into());
            let subs: Vec<Option<String>> = if names.is_empty() {
                vec![None]
            } else {
                names.iter().cloned().map(Some).collect()
            };
            let mut steps = Vec::new();
            for s in &subs {
                if s.as_deref().is_some_and(|n| n.contains('*')) {
                    return Err(EngineError::Other(
                        "explain: a lock pattern is matched against the tree when it runs; explain each namespace it names".into(),
                    ));
                }
                let sub = sub_of(s)?;
                steps.push(step(
                    format!("lock the API of {}", here.join(&sub)),
                    Some(bao(&["namespace", "lock"], here, &[], &args(&sub))),
                    Some(Req::new(Method::Post, here, path("lock", &sub))),
                ));
            }
            steps
        }
        Lock::Targets(_) | Lock::UnlockMine => {
            return Err(EngineError::Other(
                "explain: `unlock --mine` depends on the key store; explain `unlock NAME` for each"
                    .into(),
            ))
        }
        Lock::Unlock { subpath, .. } => {
            let sub = sub_of(subpath)?;
            notes.push("set $UNLOCK_KEY first (the key the lock returned; `keys export` shows the keys vnsh saved)".into());
            vec![step(
                format!("unlock the API of {}", here.join(&sub)),
                Some(bao(
                    &["namespace", "unlock"],
                    here,
                    &["-unlock-key=\"$UNLOCK_KEY\"".into()],
                    &args(&sub),
                )),
                Some(
                    Req::new(Method::Post, here, path("unlock", &sub))
                        .body(json!({ "unlock_key": shell_value("$UNLOCK_KEY") })),
                ),
            )]
        }
    })
}

fn api_steps(
    session: &Session,
    c: &api::Api,
    notes: &mut Vec<String>,
) -> Result<Vec<Step>, EngineError> {
    let (flags, args) = ApiFlags::split(&c.args).map_err(EngineError::Other)?;
    let route = session.route(&c.path)?;
    if let Some(n) = &route.note {
        notes.push(n.trim_start_matches("note: ").to_string());
    }
    let (verb, method, what) = match c.op {
        ApiOp::Read => ("read", Method::Get, "read"),
        ApiOp::List => ("list", Method::List, "list the keys under"),
        ApiOp::Write => ("write", Method::Put, "write"),
        ApiOp::Patch => ("patch", Method::Patch, "merge-patch"),
        ApiOp::Delete => ("delete", Method::Delete, "delete"),
    };
    let mut req = Req::new(method, &route.namespace, route.path.clone());
    let mut shown = Vec::new();
    if matches!(c.op, ApiOp::Write | ApiOp::Patch) {
        let (s, body, vars) = kv_args(&args)?;
        set_vars_note(&vars, notes);
        shown = s;
        req = req.body(Value::Object(body));
    }
    let mut bao_flags = Vec::new();
    if let Some(f) = &flags.field {
        bao_flags.push(quote(&format!("-field={f}")));
    }
    if flags.json {
        bao_flags.push("-format=json".into());
    }
    let mut bao_args = vec![route.path.clone()];
    bao_args.extend(shown);
    Ok(vec![step(
        format!("{what} {} in {}", route.path, route.namespace),
        Some(bao(&[verb], &route.namespace, &bao_flags, &bao_args)),
        Some(req),
    )])
}

/// A read `find` sends in every namespace: what, bao's words and arguments, method, path.
type PerNamespace = (
    &'static str,
    Vec<&'static str>,
    Vec<String>,
    Method,
    &'static str,
);

async fn explore(session: &Session, here: &NsPath, c: &Explore) -> Result<Vec<Step>, EngineError> {
    let one =
        |what: String, bao_words: &[&str], bao_args: &[String], method: Method, path: &str| {
            step(
                what,
                Some(bao(bao_words, here, &[], bao_args)),
                Some(Req::new(method, here, path)),
            )
        };
    Ok(match c {
        Explore::Mounts => vec![one(
            format!("the secrets engines of {here}"),
            &["secrets", "list"],
            &[],
            Method::Get,
            "sys/mounts",
        )],
        Explore::Auths => vec![one(
            format!("the auth methods of {here}"),
            &["auth", "list"],
            &[],
            Method::Get,
            "sys/auth",
        )],
        Explore::Policies => vec![one(
            format!("the ACL policies of {here}"),
            &["policy", "list"],
            &[],
            Method::List,
            "sys/policies/acl",
        )],
        Explore::PasswordPolicies => vec![one(
            format!("the password policies of {here}"),
            &["list"],
            &["sys/policies/password".into()],
            Method::List,
            "sys/policies/password",
        )],
        Explore::Entities => vec![one(
            format!("the identity entities of {here}"),
            &["list"],
            &["identity/entity/id".into()],
            Method::List,
            "identity/entity/id",
        )],
        Explore::Groups => vec![one(
            format!("the identity groups of {here}"),
            &["list"],
            &["identity/group/id".into()],
            Method::List,
            "identity/group/id",
        )],
        Explore::Tokens { .. } => vec![one(
            format!("the token accessors of {here}"),
            &["list"],
            &["auth/token/accessors".into()],
            Method::List,
            "auth/token/accessors",
        )],
        Explore::Describe(arg) => {
            let ns = match arg {
                None => here.clone(),
                Some(a) => session.resolve(Some(a))?,
            };
            let mut steps = Vec::new();
            if let (Some(parent), Some(name)) = (ns.parent(), ns.name()) {
                steps.push(step(
                    format!("namespace {ns}: its lock and custom metadata"),
                    Some(bao(
                        &["namespace", "lookup"],
                        &parent,
                        &[],
                        &[name.to_string()],
                    )),
                    Some(Req::new(
                        Method::Get,
                        &parent,
                        format!("sys/namespaces/{name}"),
                    )),
                ));
            }
            steps.extend(namespace_listing(&ns));
            for (what, path) in [
                ("ACL policies", "sys/policies/acl"),
                ("identity entities", "identity/entity/id"),
                ("identity groups", "identity/group/id"),
            ] {
                steps.push(step(
                    format!("the {what} of {ns}"),
                    Some(bao(&["list"], &ns, &[], &[path.to_string()])),
                    Some(Req::new(Method::List, &ns, path)),
                ));
            }
            steps
        }
        Explore::TreeMounts { path, .. } => {
            let ns = match path {
                None => here.clone(),
                Some(p) => session.resolve(Some(p))?,
            };
            let mut steps = vec![scan_step(&ns)];
            steps.extend(namespace_listing(&ns).into_iter().skip(1).map(|mut s| {
                s.what = format!("{} (and the same in each namespace below)", s.what);
                s
            }));
            steps
        }
        Explore::Find { kind, .. } => {
            let mut steps = vec![scan_step(here)];
            let per: Vec<PerNamespace> = match kind {
                None => vec![
                    (
                        "secrets engines",
                        vec!["secrets", "list"],
                        vec![],
                        Method::Get,
                        "sys/mounts",
                    ),
                    (
                        "auth methods",
                        vec!["auth", "list"],
                        vec![],
                        Method::Get,
                        "sys/auth",
                    ),
                ],
                Some(FindKind::Namespace) => vec![],
                Some(FindKind::Mount | FindKind::Secret) => {
                    vec![(
                        "secrets engines",
                        vec!["secrets", "list"],
                        vec![],
                        Method::Get,
                        "sys/mounts",
                    )]
                }
                Some(FindKind::Auth) => vec![(
                    "auth methods",
                    vec!["auth", "list"],
                    vec![],
                    Method::Get,
                    "sys/auth",
                )],
                Some(FindKind::Policy) => vec![(
                    "ACL policies",
                    vec!["policy", "list"],
                    vec![],
                    Method::List,
                    "sys/policies/acl",
                )],
                Some(FindKind::Entity) => vec![(
                    "identity entities",
                    vec!["list"],
                    vec!["identity/entity/name".into()],
                    Method::List,
                    "identity/entity/name",
                )],
                Some(FindKind::Group) => vec![(
                    "identity groups",
                    vec!["list"],
                    vec!["identity/group/name".into()],
                    Method::List,
                    "identity/group/name",
                )],
            };
            for (what, words, args, method, path) in per {
                steps.push(step(
                    format!("the {what} of {here} (and the same in each namespace below)"),
                    Some(bao(&words, here, &[], &args)),
                    Some(Req::new(method, here, path)),
                ));
            }
            if *kind == Some(FindKind::Secret) {
                steps.push(local("then in each KV mount: LIST its keys, folder by folder (KV v2 under metadata/)"));
            }
            steps.push(local(
                "vnsh ranks what was found against the pattern (fzf syntax)",
            ));
            steps
        }
        Explore::Cat(path) => {
            let at = resolve::locate(session, path).await?;
            let Some(m) = at.mount.clone().filter(|m| m.kind == "kv") else {
                return Err(EngineError::Other(format!(
                    "explain: {path} is in no KV mount this token may see"
                )));
            };
            vec![step(
                format!("the secret {}", at.display()),
                Some(bao(
                    &["kv", "get"],
                    &at.namespace,
                    &[quote(&format!("-mount={}", m.path.trim_end_matches('/')))],
                    std::slice::from_ref(&at.rest),
                )),
                Some(Req::new(Method::Get, &at.namespace, at.api_path("data"))),
            )]
        }
    })
}

fn incident(here: &NsPath, c: &Incident) -> Vec<Step> {
    match c {
        Incident::Locks => vec![
            scan_step(here),
            local("vnsh marks the locked ones, and says whether its key store holds each one's unlock key"),
        ],
        Incident::Keys | Incident::KeysExport(_) => vec![local(
            "the unlock keys are in vnsh's key store ($XDG_STATE_HOME/vnsh/unlock-keys.json): nothing is sent",
        )],
        Incident::Log { .. } => vec![local(
            "the action log is vnsh's own file ($XDG_STATE_HOME/vnsh/actions.jsonl): nothing is sent",
        )],
    }
}

fn auth(here: &NsPath, c: &Auth, notes: &mut Vec<String>) -> Result<Vec<Step>, EngineError> {
    Ok(match c {
        Auth::Whoami => vec![step(
            "who the token is",
            Some(bao(&["token", "lookup"], here, &[], &[])),
            Some(Req::new(Method::Get, here, "auth/token/lookup-self")),
        )],
        Auth::Connect(_) => vec![local(
            "profiles are vnsh's configuration file: set VAULT_ADDR (and the TLS variables) to the profile's",
        )],
        Auth::Login(l) => {
            let mount = l.mount.clone().unwrap_or_else(|| l.method.clone());
            let (shown, mut body, mut vars) = kv_args(&l.args)?;
            let mut flags = vec![quote(&format!("-method={}", l.method))];
            if l.mount.is_some() {
                flags.push(quote(&format!("-path={mount}")));
            }
            if l.method == "token" {
                notes.push("set $NEW_TOKEN first: the token to log in with".into());
                return Ok(vec![step(
                    "check the token: its lookup (with the new token in X-Vault-Token)",
                    Some(bao(&["login"], here, &flags, &[shell_text("$NEW_TOKEN")])),
                    Some(Req::new(Method::Get, here, "auth/token/lookup-self").token(Some("NEW_TOKEN"))),
                )]);
            }
            let user = match body.remove("username") {
                Some(Value::String(u)) => Some(u),
                _ => None,
            };
            let path = match (&user, l.method.as_str()) {
                (Some(u), "userpass" | "ldap" | "okta" | "radius") => format!("auth/{mount}/login/{u}"),
                _ => format!("auth/{mount}/login"),
            };
            if matches!(l.method.as_str(), "userpass" | "ldap" | "okta" | "radius") && !body.contains_key("password") {
                vars.push("PASSWORD".into());
                body.insert("password".into(), shell_value("$PASSWORD"));
            }
            if let Some(u) = &user {
                if !path.ends_with(&format!("/{u}")) {
                    body.insert("username".into(), json!(u));
                }
            }
            set_vars_note(&vars, notes);
            notes.push("a login sends no token; the answer's auth.client_token is the new one".into());
            let mut args = shown;
            if matches!(l.method.as_str(), "userpass" | "ldap" | "okta" | "radius") && !args.iter().any(|a| a.starts_with("password=")) {
                args.push(format!("password={}", shell_text("$PASSWORD")));
            }
            // A login carries no token.
            let req = Req::new(Method::Post, here, path).body(Value::Object(body)).token(None);
            vec![step(
                format!("log in with {} at auth/{mount}/", l.method),
                Some(bao(&["login"], here, &flags, &args)),
                Some(req),
            )]
        }
    })
}

fn shell(here: &NsPath, c: &Shell) -> Vec<Step> {
    match c {
        Shell::Refresh => vec![
            scan_step(here),
            local(
                "then each namespace's secrets engines and auth methods (sys/internal/ui/mounts); \
                 vnsh keeps their names for completion and `find`, and in its index",
            ),
        ],
        Shell::Help(_) | Shell::Complete(_) | Shell::Exit => {
            vec![local("vnsh answers this itself: nothing is sent")]
        }
    }
}

async fn copy(session: &Session, c: &cp::Cp) -> Result<Vec<Step>, EngineError> {
    let name = if c.op == cp::Op::Move { "mv" } else { "cp" };
    let (src, dst) = tokio::join!(
        resolve::locate(session, &c.src),
        resolve::locate(session, &c.dst)
    );
    let src = Side::of(session.client(), src?, &c.src, "source", name).await?;
    let dst = Side::of(session.client(), dst?, &c.dst, "destination", name).await?;
    let mut steps = Vec::new();
    let (from, to) = if c.recursive {
        let folder = src.folder();
        steps.push(step(
            format!("the keys below {} (then the same, folder by folder, and the steps below for each key)", src.display(&folder)),
            Some(kv_bao(&["kv", "list"], &src, &folder)),
            Some(Req::new(Method::List, &src.namespace, src.list_path(&folder))),
        ));
        (format!("{folder}KEY"), format!("{}KEY", dst.folder()))
    } else {
        let to = if dst.is_folder() {
            let base = src
                .rest
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            format!("{}{base}", dst.folder())
        } else {
            dst.rest.clone()
        };
        (src.rest.clone(), to)
    };
    steps.push(step(
        format!(
            "read {} (its data{})",
            src.display(&from),
            if src.v2 { " and custom metadata" } else { "" }
        ),
        Some(kv_bao(&["kv", "get"], &src, &from) + " > secret.json"),
        Some(Req::new(Method::Get, &src.namespace, src.data_path(&from))),
    ));
    steps.push(step(
        format!(
            "whether {} exists (vnsh writes nothing over it without -f)",
            dst.display(&to)
        ),
        Some(kv_bao(&["kv", "get"], &dst, &to)),
        Some(Req::new(Method::Get, &dst.namespace, dst.data_path(&to))),
    ));
    let body = "@data.json";
    steps.push(step(
        format!(
            "write {} from data.json: {} {}",
            dst.display(&to),
            if dst.v2 {
                "{\"data\": THE DATA, \"options\": {\"cas\": 0}}"
            } else {
                "the data itself"
            },
            if dst.v2 && !c.force {
                "(cas=0: only if it does not exist)"
            } else {
                ""
            }
        )
        .trim_end()
        .to_string(),
        Some(kv_put(&dst, &to, c.force)),
        Some(
            Req::new(
                if dst.v2 { Method::Post } else { Method::Put },
                &dst.namespace,
                dst.data_path(&to),
            )
            .body(json!(body)),
        ),
    ));
    if src.v2 && dst.v2 {
        steps.push(step(
            format!(
                "its custom metadata, between two KV v2 mounts (custom_metadata of {})",
                src.display(&from)
            ),
            Some(bao(
                &["kv", "metadata", "put"],
                &dst.namespace,
                &[
                    quote(&format!("-mount={}", dst.mount.trim_end_matches('/'))),
                    "-custom-metadata=K=V".into(),
                ],
                std::slice::from_ref(&to),
            )),
            Some(
                Req::new(Method::Post, &dst.namespace, dst.metadata_path(&to))
                    .body(json!("@metadata.json")),
            ),
        ));
    }
    if c.op == cp::Op::Move {
        steps.push(step(
            format!(
                "read {} back: it must be the same before the source goes",
                dst.display(&to)
            ),
            Some(kv_bao(&["kv", "get"], &dst, &to)),
            Some(Req::new(Method::Get, &dst.namespace, dst.data_path(&to))),
        ));
        let path = if src.v2 {
            src.metadata_path(&from)
        } else {
            src.data_path(&from)
        };
        steps.push(step(
            format!(
                "delete {}{}",
                src.display(&from),
                if src.v2 { " with all its versions" } else { "" }
            ),
            Some(if src.v2 {
                bao(
                    &["kv", "metadata", "delete"],
                    &src.namespace,
                    &[quote(&format!(
                        "-mount={}",
                        src.mount.trim_end_matches('/')
                    ))],
                    std::slice::from_ref(&from),
                )
            } else {
                bao(
                    &["delete"],
                    &src.namespace,
                    &[],
                    std::slice::from_ref(&path),
                )
            }),
            Some(Req::new(Method::Delete, &src.namespace, path)),
        ));
    }
    Ok(steps)
}

/// `bao kv VERB -mount=M KEY` (bao kv takes KV v1 and v2 alike).
fn kv_bao(kv_words: &[&str], side: &Side, key: &str) -> String {
    bao(
        kv_words,
        &side.namespace,
        &[
            quote(&format!("-mount={}", side.mount.trim_end_matches('/'))),
            "-format=json".into(),
        ],
        &[key.to_string()],
    )
}

fn kv_put(side: &Side, key: &str, force: bool) -> String {
    let mut flags = vec![quote(&format!(
        "-mount={}",
        side.mount.trim_end_matches('/')
    ))];
    if side.v2 && !force {
        flags.push("-cas=0".into());
    }
    bao(
        &["kv", "put"],
        &side.namespace,
        &flags,
        &[key.to_string(), "@data.json".into()],
    )
}

fn diff(session: &Session, c: &Diff) -> Result<Vec<Step>, EngineError> {
    let a = session.resolve(c.a.as_deref().or(Some(".")))?;
    let b = session.resolve(Some(&c.b))?;
    let mut steps = Vec::new();
    for ns in [&a, &b] {
        if c.recursive {
            steps.push(scan_step(ns));
        }
        if let (Some(parent), Some(name)) = (ns.parent(), ns.name()) {
            steps.push(step(
                format!("the custom metadata of {ns}"),
                Some(bao(
                    &["namespace", "lookup"],
                    &parent,
                    &[],
                    &[name.to_string()],
                )),
                Some(Req::new(
                    Method::Get,
                    &parent,
                    format!("sys/namespaces/{name}"),
                )),
            ));
        }
        steps.extend(namespace_listing(ns));
        steps.push(step(
            format!("the ACL policies of {ns} (then each one's text: GET sys/policies/acl/NAME)"),
            Some(bao(&["policy", "list"], ns, &[], &[])),
            Some(Req::new(Method::List, ns, "sys/policies/acl")),
        ));
        steps.push(step(
            format!(
                "the password policies of {ns} (then each one: GET sys/policies/password/NAME)"
            ),
            Some(bao(&["list"], ns, &[], &["sys/policies/password".into()])),
            Some(Req::new(Method::List, ns, "sys/policies/password")),
        ));
    }
    steps.push(local(if c.recursive {
        "vnsh compares the two, part by part, and each pair of namespaces at the same path below"
    } else {
        "vnsh compares the two, part by part"
    }));
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::commands::explain_steps::{shell_json, var_for};

    #[test]
    fn shell_expressions_leave_the_quotes() {
        let v = json!({ "user": "bob", "password": shell_value("$PASSWORD") });
        assert_eq!(
            quote_arg(&v.to_string()),
            r#"'{"user":"bob","password":"'"$PASSWORD"'"}'"#
        );
        assert_eq!(
            quote_arg(&format!("k={}", shell_text("$(cat 'a b')"))),
            r#"'k='"$(cat 'a b')""#
        );
        assert_eq!(quote_arg(&shell_text("$X")), r#""$X""#);
        // A whole JSON value takes the place of the string, its quotes too.
        let v = json!({ "n": shell_json("$(jq -Rs . < f.txt)"), "u": "bob" });
        assert_eq!(
            quote_arg(&v.to_string()),
            r#"'{"n":'"$(jq -Rs . < f.txt)"',"u":"bob"}'"#
        );
        assert_eq!(quote_arg("it's"), r"'it'\''s'");
        assert_eq!(quote_arg("plain"), "plain");
        assert_eq!(var_for("db-pass"), "DB_PASS");
        assert_eq!(var_for("1x"), "_1X");
    }

    #[test]
    fn kv_arguments_hide_secret_values_and_refuse_stdin() {
        let args: Vec<String> = ["user=bob", "password=hunter2", "n=@f.txt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (shown, body, vars) = kv_args(&args).unwrap();
        assert_eq!(vars, ["PASSWORD"]);
        assert_eq!(body["user"], json!("bob"));
        assert!(!Value::Object(body.clone()).to_string().contains("hunter2"));
        assert!(!shown.join(" ").contains("hunter2"));
        // bao reads the file itself; the curl body reads it in the shell.
        assert_eq!(shown[2], "n=@f.txt");
        assert_eq!(body["n"], shell_json("$(jq -Rs . < f.txt)"));
        assert!(kv_args(&["k=-".to_string()]).is_err());
        assert!(kv_args(&["nokv".to_string()]).is_err());
    }
}
