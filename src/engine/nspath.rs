//! The namespace path algebra: canonical paths, `cd` resolution, name rules and request routing.
//!
//! Pure code with no I/O, so every rule here is covered by table and property tests.

use std::fmt;

/// Names Vault reserves for its own mounts; a namespace with one of them would shadow the mount.
pub const RESERVED_NAMES: [&str; 5] = ["sys", "audit", "auth", "cubbyhole", "identity"];

/// API paths that only the root namespace serves (the reference's list plus `sys/license`).
pub const ROOT_ONLY_PATHS: [&str; 13] = [
    "sys/init",
    "sys/license",
    "sys/leader",
    "sys/health",
    "sys/metrics",
    "sys/config/group-policy-application",
    "sys/config/state",
    "sys/host-info",
    "sys/key-status",
    "sys/storage",
    "sys/storage/raft",
    "sys/quotas",
    "sys/plugins",
];

/// A canonical namespace path: its segments, root = no segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsPath(Vec<String>);

/// Why a namespace path could not be parsed or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `..` walked above the root namespace.
    #[error("`..` goes above the root namespace")]
    AboveRoot,
    /// `cd -` was used before any other `cd`.
    #[error("no previous namespace: `cd -` needs one")]
    NoPrevious,
    /// A path went above the top namespace of the token (its own namespace): nothing
    /// above it can be reached, so nothing is sent there.
    #[error("that goes above {0}, the top namespace of this token: nothing above it can be reached (`cd /` goes to {0})")]
    AboveTop(String),
    /// A segment broke a naming rule.
    #[error(transparent)]
    Invalid(#[from] NameError),
}

/// A naming rule a namespace name breaks; each message names the rule and the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a namespace name cannot be empty")]
    Empty,
    /// The name contains a control or invisible formatting character (CR, LF, tab, NUL,
    /// DEL, a zero-width or bidirectional mark): it cannot be sent as typed, or would not
    /// show as typed.
    #[error("namespace name {name:?} contains the control character {}: namespace names cannot hold control or invisible characters", char_name(*.ch))]
    ControlChar {
        /// The name as typed.
        name: String,
        /// The first such character.
        ch: char,
    },
    /// The name contains whitespace.
    #[error("namespace name {0:?} contains a space: namespace names cannot hold spaces")]
    ContainsSpace(String),
    /// The name contains `?`, `#` or `%`, which change what a URL means.
    #[error("namespace name {name:?} contains `{ch}`: vnsh refuses `?`, `#` and `%` in namespace names (in a URL they start a query, a fragment or an escape)")]
    ForbiddenChar {
        /// The name as typed.
        name: String,
        /// The character.
        ch: char,
    },
    /// The name ends with `/`.
    #[error("namespace name {0:?} ends with `/`")]
    TrailingSlash(String),
    /// The name starts with `/`, but names are relative to the namespace the request is sent in.
    #[error("namespace name {0:?} starts with `/`: names are relative to the current namespace")]
    LeadingSlash(String),
    /// The name has an empty segment, as in `a//b`.
    #[error("namespace name {0:?} has an empty segment")]
    EmptySegment(String),
    /// A segment is `.` or `..`.
    #[error("`{0}` cannot be a namespace name")]
    Dot(String),
    /// A segment is `root`.
    #[error("`root` is reserved for the root namespace")]
    Root,
    /// A segment is one of the names Vault reserves.
    #[error("`{0}` is reserved by Vault: sys, audit, auth, cubbyhole, identity cannot be namespace names")]
    Reserved(String),
}

/// `U+000A (line feed)`: a character named for an error message, never printed raw.
fn char_name(ch: char) -> String {
    let name = match ch {
        '\n' => " (line feed)",
        '\r' => " (carriage return)",
        '\t' => " (tab)",
        '\0' => " (NUL)",
        '\u{1b}' => " (escape)",
        '\u{7f}' => " (delete)",
        _ => "",
    };
    format!("U+{:04X}{name}", ch as u32)
}

/// Whether `ch` is a control character or an invisible formatting one (zero-width,
/// bidirectional override, soft hyphen, BOM): such a name would not read as it is.
pub fn is_control_or_invisible(ch: char) -> bool {
    ch.is_control()
        || matches!(ch,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// The characters of a name, checked in the order the rules are listed.
fn check_chars(name: &str) -> Result<(), NameError> {
    if let Some(ch) = name.chars().find(|c| is_control_or_invisible(*c)) {
        return Err(NameError::ControlChar {
            name: name.to_string(),
            ch,
        });
    }
    if name.chars().any(char::is_whitespace) {
        return Err(NameError::ContainsSpace(name.to_string()));
    }
    if let Some(ch) = name.chars().find(|c| matches!(c, '?' | '#' | '%')) {
        return Err(NameError::ForbiddenChar {
            name: name.to_string(),
            ch,
        });
    }
    Ok(())
}

/// The rules one segment naming a namespace must follow (not `.`/`..`: callers decide).
fn check_segment(seg: &str) -> Result<(), NameError> {
    match seg {
        // Refused at any depth: OpenBao once read `root` as the parent and locked it.
        "root" => Err(NameError::Root),
        _ if RESERVED_NAMES.contains(&seg) => Err(NameError::Reserved(seg.to_string())),
        _ => Ok(()),
    }
}

/// Check a namespace path as typed for `cd`, `ls`, `tree`, `ns *`, `lock` and `unlock`
/// (relative or absolute; `.`, `..`, `~`, `-` and extra slashes allowed): every name in
/// it must follow the name rules, so nothing vnsh refuses to create is ever sent.
pub fn check_typed_path(typed: &str) -> Result<(), NameError> {
    check_chars(typed)?;
    let rest = typed.strip_prefix("~/").unwrap_or(typed);
    for seg in rest.split('/') {
        if !matches!(seg, "" | "." | "..") {
            check_segment(seg)?;
        }
    }
    Ok(())
}

impl NsPath {
    /// The root namespace.
    pub fn root() -> Self {
        NsPath(Vec::new())
    }

    /// Whether this is the root namespace.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Build a path from trusted segments (empty ones are dropped to keep the path canonical).
    pub fn from_segments<I: IntoIterator<Item = S>, S: Into<String>>(segs: I) -> Self {
        NsPath(
            segs.into_iter()
                .map(Into::into)
                .filter(|s: &String| !s.is_empty())
                .collect(),
        )
    }

    /// Parse a canonical path as a server returns it: empty segments are dropped, `.`/`..` refused.
    pub fn parse(s: &str) -> Result<NsPath, PathError> {
        let mut segs = Vec::new();
        for seg in s.split('/') {
            match seg {
                "" => {}
                "." | ".." => return Err(NameError::Dot(seg.to_string()).into()),
                _ => segs.push(seg.to_string()),
            }
        }
        Ok(NsPath(segs))
    }

    /// The X-Vault-Namespace header value: "ns1/ns2/" or "" for root.
    pub fn header(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            out.push_str(seg);
            out.push('/');
        }
        out
    }

    /// For people: "/" for root, else "ns1/ns2".
    pub fn display(&self) -> String {
        if self.is_root() {
            "/".to_string()
        } else {
            self.0.join("/")
        }
    }

    /// The enclosing namespace, or None for root.
    pub fn parent(&self) -> Option<NsPath> {
        let (_, init) = self.0.split_last()?;
        Some(NsPath(init.to_vec()))
    }

    /// The last segment, or None for root.
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// This path followed by `child`'s segments.
    pub fn join(&self, child: &NsPath) -> NsPath {
        let mut segs = self.0.clone();
        segs.extend(child.0.iter().cloned());
        NsPath(segs)
    }

    /// This path with one more segment (an empty name leaves it unchanged).
    pub fn child(&self, name: &str) -> NsPath {
        let mut segs = self.0.clone();
        if !name.is_empty() {
            segs.push(name.to_string());
        }
        NsPath(segs)
    }

    /// Whether `ancestor` is this path or one of its ancestors (segment-wise, so `ab` is not under `a`).
    pub fn starts_with(&self, ancestor: &NsPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// This path relative to `ancestor`, or None when it is not below it.
    pub fn strip_prefix(&self, ancestor: &NsPath) -> Option<NsPath> {
        self.0
            .strip_prefix(ancestor.0.as_slice())
            .map(|rest| NsPath(rest.to_vec()))
    }

    /// The number of segments (root is 0).
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// Ancestors from root down to and including self (root first).
    pub fn ancestors(&self) -> Vec<NsPath> {
        (0..=self.0.len())
            .map(|n| NsPath(self.0[..n].to_vec()))
            .collect()
    }
}

impl fmt::Display for NsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl std::str::FromStr for NsPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NsPath::parse(s)
    }
}

/// Resolve a `cd` argument (relative, absolute, `..`, `.`, `-`, `~`, `~/x` or nothing) against the context.
pub fn resolve(
    current: &NsPath,
    previous: Option<&NsPath>,
    home: &NsPath,
    arg: Option<&str>,
) -> Result<NsPath, PathError> {
    let arg = match arg {
        None | Some("~") => return Ok(home.clone()),
        Some("-") => return previous.cloned().ok_or(PathError::NoPrevious),
        Some(a) => a,
    };
    check_typed_path(arg)?;
    let (base, rest) = if let Some(rest) = arg.strip_prefix("~/") {
        (home.clone(), rest)
    } else if arg.starts_with('/') {
        (NsPath::root(), arg)
    } else {
        (current.clone(), arg)
    };
    walk(base, rest)
}

/// Apply the segments of `rest` to `base`, interpreting `.` and `..`.
fn walk(mut base: NsPath, rest: &str) -> Result<NsPath, PathError> {
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if base.0.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
            }
            _ => base.0.push(seg.to_string()),
        }
    }
    Ok(base)
}

/// Validate a (possibly multi-segment) relative name for create/delete/lock/unlock; returns it canonical.
///
/// The server's rules (no `/` inside a name, no space, not `.`/`..`, not `root` or a
/// reserved mount name) plus vnsh's: no `?`, `#`, `%`, no control or invisible
/// characters, no whitespace of any kind, no leading, trailing or doubled `/`.
pub fn validate_name(name: &str) -> Result<NsPath, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    check_chars(name)?;
    if name.ends_with('/') {
        return Err(NameError::TrailingSlash(name.to_string()));
    }
    if name.starts_with('/') {
        return Err(NameError::LeadingSlash(name.to_string()));
    }
    let mut segs = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" => return Err(NameError::EmptySegment(name.to_string())),
            "." | ".." => return Err(NameError::Dot(seg.to_string())),
            _ => check_segment(seg)?,
        }
        segs.push(seg.to_string());
    }
    Ok(NsPath(segs))
}

/// Where an API request goes: `namespace` for X-Vault-Namespace, `path` without leading slash, and a note when redirected to root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The namespace the request is sent in.
    pub namespace: NsPath,
    /// The API path below `/v1/`, without a leading slash.
    pub path: String,
    /// A one-line note for the user when the request was redirected to the root namespace.
    pub note: Option<String>,
}

/// Route a user-typed API path from the current namespace (leading `/` = from root;
/// root-only paths go to root). Dot segments are resolved as in [`try_route`]; a path
/// whose `..` would climb above the root keeps its dots, so the client refuses it with
/// nothing sent: prefer [`try_route`], which says why.
pub fn route(current: &NsPath, typed: &str) -> Route {
    route_within(&NsPath::root(), current, typed)
}

/// [`route`], or an error when a `..` climbs above the root namespace.
///
/// `.` and `..` are resolved before anything is sent: `a/../b` is `b`, and a `..` with
/// nothing left of the path to remove climbs from the namespace to its parent (`read
/// ../sys/mounts` in `ns1/ns2` reads ns1's `sys/mounts`). Only literal `.` and `..`
/// segments are dots: `%2e%2e` is a name, sent escaped.
pub fn try_route(current: &NsPath, typed: &str) -> Result<Route, PathError> {
    try_route_within(&NsPath::root(), current, typed)
}

/// Resolve a `cd` argument for a token whose top (its own namespace) may be below the
/// root: `/` is the top, and a path from the root that already names the top (as the
/// prompt shows it: `/admin/x` for top `admin`) is taken as it is. Nothing resolves above
/// the top. With the root as top this is [`resolve`].
pub fn resolve_within(
    top: &NsPath,
    current: &NsPath,
    previous: Option<&NsPath>,
    home: &NsPath,
    arg: Option<&str>,
) -> Result<NsPath, PathError> {
    if top.is_root() {
        return resolve(current, previous, home, arg);
    }
    if let Some(a) = arg {
        check_typed_path(a)?;
    }
    let above = || PathError::AboveTop(top.display());
    let (base, rest) = match arg {
        Some(a) if a.starts_with('/') => match walk(NsPath::root(), a) {
            Ok(full) if full.starts_with(top) => return Ok(full),
            // `/acme` for top `acme/payments` names an ancestor, as the prompt shows it.
            Ok(full) if !full.is_root() && top.starts_with(&full) => return Err(above()),
            _ => (top.clone(), a),
        },
        Some(a) if a.starts_with("~/") => (home.clone(), &a[2..]),
        Some(a) if a != "~" && a != "-" => (current.clone(), a),
        _ => {
            let got = resolve(current, previous, home, arg)?;
            return if got.starts_with(top) {
                Ok(got)
            } else {
                Err(above())
            };
        }
    };
    let got = walk(base, rest).map_err(|_| above())?;
    if got.starts_with(top) {
        Ok(got)
    } else {
        Err(above())
    }
}

/// The namespace `typed` names from `current`, as `cd` reads it (relative; `/` from the
/// top; `..` and `.` resolved; never above the top), split into its parent — where the
/// requests about it go, as bao sends them with `-namespace=PARENT` — its name there, and
/// its full path. The root has no parent: naming it is an error.
pub fn parent_and_name(
    top: &NsPath,
    current: &NsPath,
    typed: &str,
) -> Result<(NsPath, String, NsPath), PathError> {
    if typed.is_empty() {
        return Err(NameError::Empty.into());
    }
    let full = resolve_within(top, current, None, top, Some(typed))?;
    match (full.parent(), full.name()) {
        (Some(parent), Some(name)) => {
            let name = name.to_string();
            Ok((parent, name, full))
        }
        _ => Err(NameError::Empty.into()),
    }
}

/// [`route`] for a token whose top may be below the root: a leading `/` means the top
/// (a path that already starts with the top's names is taken from the root as typed, so
/// it lands in the same place); root-only paths still go to the root, with their note.
/// A path whose `..` would climb above the top keeps its dots, for the client to refuse
/// with nothing sent: prefer [`try_route_within`], which names the top.
pub fn route_within(top: &NsPath, current: &NsPath, typed: &str) -> Route {
    try_route_within(top, current, typed).unwrap_or_else(|_| Route {
        namespace: if typed.starts_with('/') {
            top.clone()
        } else {
            current.clone()
        },
        path: normalise_api_path(typed),
        note: None,
    })
}

/// [`route_within`] with dot segments resolved (see [`try_route`]), or an error naming
/// the top when a `..` would climb above it: nothing above the top is ever addressed.
pub fn try_route_within(top: &NsPath, current: &NsPath, typed: &str) -> Result<Route, PathError> {
    let absolute = typed.starts_with('/');
    let above = || {
        if top.is_root() {
            PathError::AboveRoot
        } else {
            PathError::AboveTop(top.display())
        }
    };
    let mut base = if absolute {
        top.clone()
    } else {
        current.clone()
    };
    let mut segs: Vec<&str> = Vec::new();
    for seg in typed.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if segs.pop().is_none() {
                    base = base
                        .parent()
                        .filter(|p| p.starts_with(top))
                        .ok_or_else(above)?;
                }
            }
            _ => segs.push(seg),
        }
    }
    // `/admin/secret/x` with top `admin`: the namespace part is the top, the rest the path.
    let d = top.depth();
    if absolute
        && d > 0
        && segs.len() > d
        && segs[..d].iter().zip(top.segments()).all(|(a, b)| *a == b)
    {
        segs.drain(..d);
    }
    let mut path = segs.join("/");
    if !path.is_empty() && typed.ends_with('/') {
        path.push('/');
    }
    if let Some(prefix) = root_only_prefix(&path) {
        let note = (!absolute && !base.is_root())
            .then(|| format!("note: {prefix} is root-only; sent to the root namespace"));
        return Ok(Route {
            namespace: NsPath::root(),
            path,
            note,
        });
    }
    Ok(Route {
        namespace: base,
        path,
        note: None,
    })
}

/// The longest root-only path that `path` is, or is below, matched segment by segment.
pub fn root_only_prefix(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    ROOT_ONLY_PATHS
        .iter()
        .filter(|p| {
            let want: Vec<&str> = p.split('/').collect();
            segs.starts_with(&want)
        })
        .max_by_key(|p| p.len())
        .copied()
}

/// Collapse repeated slashes and drop the leading one; keep a trailing one (LIST uses `foo/`).
fn normalise_api_path(typed: &str) -> String {
    let mut out = typed
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    if !out.is_empty() && typed.ends_with('/') {
        out.push('/');
    }
    out
}

/// The fully qualified path Vault builds from a namespace header and a request path.
pub fn fully_qualified(namespace: &NsPath, path: &str) -> String {
    format!("{}{}", namespace.header(), normalise_api_path(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> NsPath {
        NsPath::parse(s).unwrap()
    }

    #[test]
    fn parse_header_display() {
        let cases: &[(&str, &[&str], &str, &str)] = &[
            ("", &[], "", "/"),
            ("/", &[], "", "/"),
            ("//", &[], "", "/"),
            ("ns1", &["ns1"], "ns1/", "ns1"),
            ("ns1/", &["ns1"], "ns1/", "ns1"),
            ("ns1/ns2/", &["ns1", "ns2"], "ns1/ns2/", "ns1/ns2"),
            ("/ns1//ns2/", &["ns1", "ns2"], "ns1/ns2/", "ns1/ns2"),
            ("a b/c", &["a b", "c"], "a b/c/", "a b/c"),
        ];
        for (input, segs, header, display) in cases {
            let path = NsPath::parse(input).unwrap();
            assert_eq!(path.segments(), *segs, "segments of {input:?}");
            assert_eq!(path.header(), *header, "header of {input:?}");
            assert_eq!(path.display(), *display, "display of {input:?}");
            assert_eq!(path.to_string(), *display, "Display of {input:?}");
        }
    }

    #[test]
    fn parse_refuses_dots() {
        for input in [".", "..", "a/./b", "a/..", "/../"] {
            assert!(
                matches!(
                    NsPath::parse(input),
                    Err(PathError::Invalid(NameError::Dot(_)))
                ),
                "{input:?}"
            );
        }
        assert_eq!("ns1/ns2".parse::<NsPath>(), Ok(p("ns1/ns2")));
    }

    #[test]
    fn tree_helpers() {
        let path = p("a/b/c");
        assert_eq!(path.parent(), Some(p("a/b")));
        assert_eq!(NsPath::root().parent(), None);
        assert_eq!(path.name(), Some("c"));
        assert_eq!(NsPath::root().name(), None);
        assert_eq!(p("a").join(&p("b/c")), path);
        assert_eq!(p("a/b").child("c"), path);
        assert_eq!(p("a/b").child(""), p("a/b"));
        assert!(path.starts_with(&p("a/b")));
        assert!(path.starts_with(&NsPath::root()));
        assert!(path.starts_with(&path));
        assert!(!p("ab/c").starts_with(&p("a")));
        assert_eq!(path.strip_prefix(&p("a")), Some(p("b/c")));
        assert_eq!(path.strip_prefix(&p("x")), None);
        assert_eq!(path.depth(), 3);
        assert_eq!(NsPath::root().depth(), 0);
        assert_eq!(
            path.ancestors(),
            vec![NsPath::root(), p("a"), p("a/b"), p("a/b/c")]
        );
        assert_eq!(NsPath::root().ancestors(), vec![NsPath::root()]);
        assert!(NsPath::root().is_root());
        assert_eq!(NsPath::default(), NsPath::root());
        assert_eq!(NsPath::from_segments(["a", "", "b"]), p("a/b"));
    }

    #[test]
    fn resolve_table() {
        let cur = p("ns1/ns2");
        let prev = p("other");
        let home = p("tenant");
        let cases: &[(Option<&str>, Result<&str, PathError>)] = &[
            (None, Ok("tenant")),
            (Some("~"), Ok("tenant")),
            (Some("~/"), Ok("tenant")),
            (Some("~/x/y"), Ok("tenant/x/y")),
            (Some("~/.."), Ok("")),
            (Some("-"), Ok("other")),
            (Some("ns3"), Ok("ns1/ns2/ns3")),
            (Some("ns3/ns4"), Ok("ns1/ns2/ns3/ns4")),
            (Some("ns3/"), Ok("ns1/ns2/ns3")),
            (Some("ns3//ns4//"), Ok("ns1/ns2/ns3/ns4")),
            (Some("/"), Ok("")),
            (Some("//"), Ok("")),
            (Some("/a/b"), Ok("a/b")),
            (Some("/a/b/"), Ok("a/b")),
            (Some(".."), Ok("ns1")),
            (Some("../"), Ok("ns1")),
            (Some("../.."), Ok("")),
            (Some("../sib"), Ok("ns1/sib")),
            (Some("."), Ok("ns1/ns2")),
            (Some("./"), Ok("ns1/ns2")),
            (Some(""), Ok("ns1/ns2")),
            (Some("a/./b/../c"), Ok("ns1/ns2/a/c")),
            (Some("/a/../b"), Ok("b")),
            (Some("~x"), Ok("ns1/ns2/~x")),
            (Some("./-"), Ok("ns1/ns2/-")),
            (Some("../../.."), Err(PathError::AboveRoot)),
            (Some("/.."), Err(PathError::AboveRoot)),
        ];
        for (arg, want) in cases {
            let got = resolve(&cur, Some(&prev), &home, *arg);
            let want = want.clone().map(p);
            assert_eq!(got, want, "cd {arg:?}");
        }
        assert_eq!(
            resolve(&cur, None, &home, Some("-")),
            Err(PathError::NoPrevious)
        );
        assert_eq!(
            resolve(&NsPath::root(), None, &home, Some("..")),
            Err(PathError::AboveRoot)
        );
    }

    fn ctl(name: &str, ch: char) -> NameError {
        NameError::ControlChar {
            name: name.into(),
            ch,
        }
    }

    fn bad_char(name: &str, ch: char) -> NameError {
        NameError::ForbiddenChar {
            name: name.into(),
            ch,
        }
    }

    #[test]
    fn validate_name_table() {
        let ok: &[(&str, &[&str])] = &[
            ("a", &["a"]),
            ("a/b", &["a", "b"]),
            ("tenant-1", &["tenant-1"]),
            ("a.b", &["a.b"]),
            ("rooted", &["rooted"]),
            ("system", &["system"]),
            ("...", &["..."]),
            ("中文", &["中文"]),
            ("~x", &["~x"]),
            ("a-b_c.d@e+f", &["a-b_c.d@e+f"]),
        ];
        for (name, segs) in ok {
            assert_eq!(validate_name(name).unwrap().segments(), *segs, "{name:?}");
        }
        let bad: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("a b", NameError::ContainsSpace("a b".into())),
            (" a", NameError::ContainsSpace(" a".into())),
            ("a\u{a0}b", NameError::ContainsSpace("a\u{a0}b".into())),
            ("a\u{3000}b", NameError::ContainsSpace("a\u{3000}b".into())),
            // Control characters are their own rule, not "a space" (CR and LF were).
            ("a\tb", ctl("a\tb", '\t')),
            ("a\nb", ctl("a\nb", '\n')),
            ("a\rb", ctl("a\rb", '\r')),
            ("a\r\nb", ctl("a\r\nb", '\r')),
            ("a\0", ctl("a\0", '\0')),
            ("\u{1b}]2;x\u{7}", ctl("\u{1b}]2;x\u{7}", '\u{1b}')),
            ("a\u{7f}", ctl("a\u{7f}", '\u{7f}')),
            ("a\u{85}", ctl("a\u{85}", '\u{85}')),
            ("a\u{200b}b", ctl("a\u{200b}b", '\u{200b}')),
            ("ab\u{202e}", ctl("ab\u{202e}", '\u{202e}')),
            ("\u{feff}a", ctl("\u{feff}a", '\u{feff}')),
            ("victim4#test", bad_char("victim4#test", '#')),
            ("a?b", bad_char("a?b", '?')),
            ("t1%2Fa", bad_char("t1%2Fa", '%')),
            ("%2e%2e", bad_char("%2e%2e", '%')),
            ("a/b#", bad_char("a/b#", '#')),
            ("a/", NameError::TrailingSlash("a/".into())),
            ("/", NameError::TrailingSlash("/".into())),
            ("/a", NameError::LeadingSlash("/a".into())),
            ("a//b", NameError::EmptySegment("a//b".into())),
            (".", NameError::Dot(".".into())),
            ("..", NameError::Dot("..".into())),
            ("a/../b", NameError::Dot("..".into())),
            ("a/.", NameError::Dot(".".into())),
            ("root", NameError::Root),
            ("a/root", NameError::Root),
            ("root/a", NameError::Root),
            ("sys", NameError::Reserved("sys".into())),
            ("audit", NameError::Reserved("audit".into())),
            ("auth", NameError::Reserved("auth".into())),
            ("cubbyhole", NameError::Reserved("cubbyhole".into())),
            ("identity", NameError::Reserved("identity".into())),
            ("a/identity", NameError::Reserved("identity".into())),
        ];
        for (name, want) in bad {
            assert_eq!(validate_name(name), Err(want.clone()), "{name:?}");
        }
    }

    #[test]
    fn name_errors_say_the_rule() {
        assert_eq!(
            NameError::ContainsSpace("a b".into()).to_string(),
            "namespace name \"a b\" contains a space: namespace names cannot hold spaces"
        );
        assert_eq!(
            ctl("a\r\nb", '\r').to_string(),
            "namespace name \"a\\r\\nb\" contains the control character U+000D (carriage return): namespace names cannot hold control or invisible characters"
        );
        assert_eq!(
            bad_char("victim4#test", '#').to_string(),
            "namespace name \"victim4#test\" contains `#`: vnsh refuses `?`, `#` and `%` in namespace names (in a URL they start a query, a fragment or an escape)"
        );
        assert_eq!(
            NameError::Root.to_string(),
            "`root` is reserved for the root namespace"
        );
        assert_eq!(
            NameError::Reserved("sys".into()).to_string(),
            "`sys` is reserved by Vault: sys, audit, auth, cubbyhole, identity cannot be namespace names"
        );
        assert_eq!(
            NameError::Dot("..".into()).to_string(),
            "`..` cannot be a namespace name"
        );
        assert_eq!(
            PathError::from(NameError::Root).to_string(),
            NameError::Root.to_string()
        );
        assert_eq!(
            PathError::AboveRoot.to_string(),
            "`..` goes above the root namespace"
        );
    }

    fn r(ns: &str, path: &str, note: Option<&str>) -> Route {
        Route {
            namespace: p(ns),
            path: path.to_string(),
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn route_table() {
        let ns = p("ns1/ns2");
        let cases: &[(&NsPath, &str, Route)] = &[
            (
                &ns,
                "secret/data/foo",
                r("ns1/ns2", "secret/data/foo", None),
            ),
            (
                &ns,
                "secret//data///foo",
                r("ns1/ns2", "secret/data/foo", None),
            ),
            (
                &ns,
                "secret/metadata/",
                r("ns1/ns2", "secret/metadata/", None),
            ),
            (&ns, "secret//", r("ns1/ns2", "secret/", None)),
            (&ns, "", r("ns1/ns2", "", None)),
            (&ns, "/", r("", "", None)),
            (&ns, "/secret/data/foo", r("", "secret/data/foo", None)),
            (&ns, "//ns1/secret/", r("", "ns1/secret/", None)),
            (&ns, "/sys/health", r("", "sys/health", None)),
            (&ns, "sys/healthy", r("ns1/ns2", "sys/healthy", None)),
            (&ns, "sys/mounts", r("ns1/ns2", "sys/mounts", None)),
            (&ns, "sys/storagex", r("ns1/ns2", "sys/storagex", None)),
            (&ns, "ns3/sys/health", r("ns1/ns2", "ns3/sys/health", None)),
            (
                &ns,
                "sys/storage/raft/snapshot",
                r(
                    "",
                    "sys/storage/raft/snapshot",
                    Some("note: sys/storage/raft is root-only; sent to the root namespace"),
                ),
            ),
            (
                &ns,
                "sys//health/",
                r(
                    "",
                    "sys/health/",
                    Some("note: sys/health is root-only; sent to the root namespace"),
                ),
            ),
        ];
        for (cur, typed, want) in cases {
            assert_eq!(route(cur, typed), *want, "route {typed:?} from {cur}");
        }
    }

    #[test]
    fn dot_segments_are_resolved_before_routing() {
        let ns = p("ns1/ns2");
        let ok = |cur: &NsPath, typed: &str| try_route(cur, typed).unwrap();
        assert_eq!(ok(&ns, "a/../b"), r("ns1/ns2", "b", None));
        assert_eq!(ok(&ns, "./secret/./x"), r("ns1/ns2", "secret/x", None));
        assert_eq!(
            ok(&ns, "secret/data/a/.."),
            r("ns1/ns2", "secret/data", None)
        );
        assert_eq!(ok(&ns, "secret/x/../"), r("ns1/ns2", "secret/", None));
        // A `..` with nothing left to remove climbs to the parent namespace.
        assert_eq!(ok(&ns, "../sys/mounts"), r("ns1", "sys/mounts", None));
        assert_eq!(ok(&ns, "../../sys/mounts"), r("", "sys/mounts", None));
        assert_eq!(ok(&ns, "a/../../sys/mounts"), r("ns1", "sys/mounts", None));
        assert_eq!(ok(&ns, "../ns2/secret/"), r("ns1", "ns2/secret/", None));
        assert_eq!(ok(&ns, ".."), r("ns1", "", None));
        // A root-only path reached by dots still goes to the root, with its note.
        assert_eq!(
            ok(&ns, "secret/../sys/health"),
            r(
                "",
                "sys/health",
                Some("note: sys/health is root-only; sent to the root namespace")
            )
        );
        // From the root (or above it) nothing climbs.
        assert_eq!(
            try_route(&ns, "../../../sys/mounts"),
            Err(PathError::AboveRoot)
        );
        assert_eq!(
            try_route(&NsPath::root(), "../sys/mounts"),
            Err(PathError::AboveRoot)
        );
        assert_eq!(try_route(&ns, "/../sys/mounts"), Err(PathError::AboveRoot));
        assert_eq!(ok(&ns, "/a/../sys/mounts"), r("", "sys/mounts", None));
        // Escaped dots are names, not dots.
        assert_eq!(
            ok(&ns, "%2e%2e/sys/mounts"),
            r("ns1/ns2", "%2e%2e/sys/mounts", None)
        );
        assert_eq!(ok(&ns, ".%2E/x"), r("ns1/ns2", ".%2E/x", None));
        assert_eq!(ok(&ns, ".../x"), r("ns1/ns2", ".../x", None));
        // `route` keeps what it cannot resolve, for the client to refuse.
        assert_eq!(
            route(&NsPath::root(), "../sys/mounts").path,
            "../sys/mounts"
        );
        assert_eq!(route(&ns, "/../sys/mounts"), r("", "../sys/mounts", None));
    }

    #[test]
    fn dots_never_climb_above_the_top() {
        let top = p("admin");
        let above = Err(PathError::AboveTop("admin".into()));
        let cur = p("admin/team");
        assert_eq!(
            try_route_within(&top, &cur, "../sys/mounts"),
            Ok(r("admin", "sys/mounts", None))
        );
        assert_eq!(try_route_within(&top, &cur, "../../sys/mounts"), above);
        assert_eq!(try_route_within(&top, &cur, "/../sys/mounts"), above);
        assert_eq!(try_route_within(&top, &top, "../sys/mounts"), above);
        assert_eq!(
            try_route_within(&top, &cur, "/x/../admin/sys/mounts"),
            Ok(r("admin", "sys/mounts", None))
        );
        assert_eq!(
            try_route_within(&top, &cur, "/admin/../sys/mounts"),
            Ok(r("admin", "sys/mounts", None))
        );
        assert_eq!(
            route_within(&top, &cur, "/../sys/mounts"),
            r("admin", "../sys/mounts", None)
        );
        assert_eq!(
            try_route_within(&top, &cur, "/../sys/mounts")
                .unwrap_err()
                .to_string(),
            "that goes above admin, the top namespace of this token: nothing above it can be reached (`cd /` goes to admin)"
        );
    }

    #[test]
    fn typed_namespace_paths_follow_the_name_rules() {
        for ok in [
            "a", "/a/b", "a/", "../sib", "..", ".", "~", "-", "~/x", "//a//", "中文", "./x/",
        ] {
            assert_eq!(check_typed_path(ok), Ok(()), "{ok:?}");
        }
        let bad: &[(&str, NameError)] = &[
            ("urlh#x", bad_char("urlh#x", '#')),
            ("/a/b?c", bad_char("/a/b?c", '?')),
            ("t1%2Fa", bad_char("t1%2Fa", '%')),
            ("../a b", NameError::ContainsSpace("../a b".into())),
            ("a\nb", ctl("a\nb", '\n')),
            ("/root", NameError::Root),
            ("x/sys/", NameError::Reserved("sys".into())),
            ("~/identity", NameError::Reserved("identity".into())),
        ];
        for (typed, want) in bad {
            assert_eq!(check_typed_path(typed), Err(want.clone()), "{typed:?}");
        }
        let home = p("t");
        assert_eq!(
            resolve(&p("a"), None, &home, Some("urlh#x")),
            Err(PathError::Invalid(bad_char("urlh#x", '#')))
        );
        assert_eq!(
            resolve_within(&p("t"), &p("t"), None, &home, Some("x%2Fy")),
            Err(PathError::Invalid(bad_char("x%2Fy", '%')))
        );
    }

    #[test]
    fn a_namespace_named_here_is_split_at_its_parent() {
        let root = NsPath::root();
        let split = |top: &NsPath, here: &str, typed: &str| {
            parent_and_name(top, &p(here), typed)
                .map(|(parent, name, full)| (parent.display(), name, full.display()))
        };
        let ok = |a: &str, b: &str, c: &str| Ok((a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(split(&root, "t", "ml"), ok("t", "ml", "t/ml"));
        assert_eq!(split(&root, "t", "a/ml"), ok("t/a", "ml", "t/a/ml"));
        // A leading `/` is from the top, not from here (it was dropped, and joined here).
        assert_eq!(split(&root, "t", "/t/ml"), ok("t", "ml", "t/ml"));
        assert_eq!(split(&root, "t", "/x"), ok("/", "x", "x"));
        assert_eq!(split(&root, "t/ml", ".."), ok("/", "t", "t"));
        // A top below the root: `/` is the top; nothing above it.
        let top = p("acme");
        assert_eq!(
            split(&top, "acme/web", "/api"),
            ok("acme", "api", "acme/api")
        );
        assert!(split(&top, "acme", "..").is_err());
        // The root has no parent.
        assert!(split(&root, "t", "/").is_err());
        assert!(split(&root, "t", "").is_err());
    }

    #[test]
    fn resolve_within_a_top_below_the_root() {
        let top = p("acme/payments");
        let cur = p("acme/payments/team");
        let home = p("acme/payments");
        let above = Err(PathError::AboveTop("acme/payments".into()));
        let cases: &[(Option<&str>, Result<NsPath, PathError>)] = &[
            (None, Ok(p("acme/payments"))),
            (Some("~"), Ok(p("acme/payments"))),
            (Some("/"), Ok(p("acme/payments"))),
            (Some("/x/y"), Ok(p("acme/payments/x/y"))),
            (Some("/acme/payments/x"), Ok(p("acme/payments/x"))),
            (Some("/acme"), above.clone()),
            (Some("/other"), Ok(p("acme/payments/other"))),
            (Some(".."), Ok(p("acme/payments"))),
            (Some("../.."), above.clone()),
            (Some("/.."), above.clone()),
            (Some("~/.."), above.clone()),
            (Some("sub"), Ok(p("acme/payments/team/sub"))),
            (Some("-"), Ok(p("acme/payments/old"))),
        ];
        for (arg, want) in cases {
            let got = resolve_within(&top, &cur, Some(&p("acme/payments/old")), &home, *arg);
            assert_eq!(&got, want, "cd {arg:?}");
        }
        // A previous namespace above the top (from before a login) is refused too.
        assert_eq!(
            resolve_within(&top, &cur, Some(&p("acme")), &home, Some("-")),
            above
        );
        // With the root as top nothing changes.
        assert_eq!(
            resolve_within(&NsPath::root(), &cur, None, &home, Some("/")),
            Ok(NsPath::root())
        );
    }

    #[test]
    fn route_within_a_top_below_the_root() {
        let top = p("admin");
        let cur = p("admin/team");
        assert_eq!(
            route_within(&top, &cur, "secret/data/x"),
            r("admin/team", "secret/data/x", None)
        );
        assert_eq!(
            route_within(&top, &cur, "/sys/mounts"),
            r("admin", "sys/mounts", None)
        );
        assert_eq!(
            route_within(&top, &cur, "/admin/sys/mounts"),
            r("admin", "sys/mounts", None)
        );
        assert_eq!(
            route_within(&top, &cur, "/sys/license"),
            r("", "sys/license", None)
        );
        assert_eq!(
            route_within(&top, &cur, "sys/license").namespace,
            NsPath::root()
        );
        assert_eq!(
            route_within(&NsPath::root(), &cur, "/sys/mounts"),
            r("", "sys/mounts", None)
        );
    }

    #[test]
    fn every_root_only_path_goes_to_root() {
        for path in ROOT_ONLY_PATHS {
            let note = format!("note: {path} is root-only; sent to the root namespace");
            assert_eq!(route(&p("ns1"), path), r("", path, Some(&note)), "{path}");
            // Already in root: nothing to say.
            assert_eq!(route(&NsPath::root(), path), r("", path, None), "{path}");
            let below = format!("{path}/x");
            assert_eq!(
                route(&p("ns1"), &below).namespace,
                NsPath::root(),
                "{below}"
            );
            let abs = format!("/{path}");
            assert_eq!(route(&p("ns1"), &abs), r("", path, None), "{abs}");
        }
    }

    #[test]
    fn three_equivalent_forms() {
        let want = "ns1/ns2/secret/foo";
        assert_eq!(fully_qualified(&NsPath::root(), "ns1/ns2/secret/foo"), want);
        assert_eq!(fully_qualified(&p("ns1/ns2/"), "secret/foo"), want);
        assert_eq!(fully_qualified(&p("ns1/"), "ns2/secret/foo"), want);
        assert_eq!(fully_qualified(&p("ns1"), "/ns2//secret/foo"), want);
    }

    fn seg() -> impl Strategy<Value = String> {
        // First char excludes `.`, `~` and `-` so a segment is never `.`, `..`, `~` or `-`.
        "[a-zA-Z0-9_][a-zA-Z0-9_.~-]{0,6}"
            .prop_filter("a name the rules allow", |s| check_segment(s).is_ok())
    }

    fn path() -> impl Strategy<Value = NsPath> {
        prop::collection::vec(seg(), 0..5).prop_map(NsPath::from_segments)
    }

    /// A `cd` argument naming `rel` relative to where it is typed.
    fn relative_arg(rel: &NsPath) -> String {
        if rel.is_root() {
            ".".to_string()
        } else {
            rel.display()
        }
    }

    fn messy_arg() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            seg(),
            Just(".".to_string()),
            Just("..".to_string()),
            Just(String::new()),
            Just("~".to_string()),
        ];
        (any::<bool>(), prop::collection::vec(part, 0..8))
            .prop_map(|(abs, parts)| format!("{}{}", if abs { "/" } else { "" }, parts.join("/")))
    }

    proptest! {
        #[test]
        fn absolute_display_round_trips(cur in path(), target in path()) {
            let arg = if target.is_root() { "/".to_string() } else { format!("/{}", target.display()) };
            prop_assert_eq!(resolve(&cur, None, &NsPath::root(), Some(&arg)), Ok(target));
        }

        #[test]
        fn dotdot_is_parent(cur in path()) {
            let got = resolve(&cur, None, &NsPath::root(), Some(".."));
            match cur.parent() {
                Some(parent) => prop_assert_eq!(got, Ok(parent)),
                None => prop_assert_eq!(got, Err(PathError::AboveRoot)),
            }
        }

        #[test]
        fn header_parse_round_trips(path in path()) {
            prop_assert_eq!(NsPath::parse(&path.header()), Ok(path.clone()));
            prop_assert_eq!(NsPath::parse(&path.display()), Ok(path));
        }

        #[test]
        fn resolve_is_canonical(cur in path(), home in path(), arg in messy_arg()) {
            if let Ok(got) = resolve(&cur, None, &home, Some(&arg)) {
                for s in got.segments() {
                    prop_assert!(!s.is_empty() && s != "." && s != "..", "{:?} from {:?}", got, arg);
                }
            }
        }

        #[test]
        fn relative_round_trips(cur in path(), rel in path()) {
            let got = resolve(&cur, None, &NsPath::root(), Some(&relative_arg(&rel)));
            prop_assert_eq!(got.clone(), Ok(cur.join(&rel)));
            let got = got.unwrap_or_default();
            prop_assert_eq!(got.strip_prefix(&cur), Some(rel.clone()));
            // And back again with one `..` per segment.
            let up = vec![".."; rel.depth()].join("/");
            let arg = if up.is_empty() { ".".to_string() } else { up };
            prop_assert_eq!(resolve(&got, None, &NsPath::root(), Some(&arg)), Ok(cur));
        }

        #[test]
        fn three_forms_agree(segs in prop::collection::vec("[a-z0-9]{1,6}", 1..6), rest in "[a-z0-9/]{0,12}") {
            let full = NsPath::from_segments(segs.clone());
            let want = fully_qualified(&NsPath::root(), &format!("{}{}", full.header(), rest));
            for split in 0..=segs.len() {
                let ns = NsPath::from_segments(segs[..split].to_vec());
                let below = NsPath::from_segments(segs[split..].to_vec());
                let path = format!("{}{}", below.header(), rest);
                prop_assert_eq!(fully_qualified(&ns, &path), want.clone());
            }
        }
    }
}
