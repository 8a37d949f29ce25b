//! The one place where a request's URL and namespace header are built (pure, no I/O).
//!
//! A path is split at `/` and each segment is pushed with `url`'s path-segment API, which
//! percent-encodes everything that would change the URL's meaning inside a segment
//! (`/ ? # %`, spaces, non-ASCII…): each segment is escaped exactly once, here, and the
//! server decodes it back to what was typed. Query parameters are added only through a
//! parameter list, never read from a `?` in the path. What cannot be sent as it is (a
//! `.`/`..` segment, a control character, a URL that leaves `/v1/`) is refused with
//! nothing sent.

use reqwest::header::HeaderValue;
use reqwest::Url;

use super::method::Method;

/// Why a request cannot be sent as asked; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    /// A `.` or `..` segment: a URL parser or the server would resolve it elsewhere.
    #[error("the path has a `{0}` segment, which would leave the namespace or /v1/ (vnsh resolves `.` and `..` before sending, and never sends one)")]
    DotSegment(String),
    /// A control character in the path: a URL drops tab, CR and LF, so the server would
    /// see another path.
    #[error("the path contains the control character {}, which a URL cannot carry as typed", char_code(*.0))]
    PathControl(char),
    /// The URL would not start with the server's `/v1/`.
    #[error("the URL {0} would leave the API (/v1/)")]
    LeavesApi(String),
    /// A control character in the namespace: HTTP refuses it in a header (OpenBao
    /// answers 400 Bad Request).
    #[error("the namespace contains the control character {}, which the X-Vault-Namespace header cannot carry", char_code(*.0))]
    HeaderControl(char),
    /// Whitespace at either end of the namespace: HTTP drops it from a header, so the
    /// server would see another namespace.
    #[error("the namespace starts or ends with whitespace, which HTTP drops from the X-Vault-Namespace header (the server would see another namespace)")]
    HeaderSpace,
    /// A `.` or `..` segment in the namespace: the server cleans the header's path, so
    /// it would name another namespace.
    #[error(
        "the namespace has a `{0}` segment, which the server would resolve to another namespace"
    )]
    HeaderDot(String),
    /// The base address cannot take a path (not `http(s)://host…`).
    #[error("the server address {0} cannot take an API path")]
    BadBase(String),
}

fn char_code(ch: char) -> String {
    format!("U+{:04X}", ch as u32)
}

/// The URL of one API request: `base` + `/v1/` + each segment of `path` escaped once,
/// then `query` (and `list=true` for LIST) as parameters.
///
/// `path` is relative to `/v1/`; a leading `/` and repeated slashes are dropped, a
/// trailing `/` is kept (LIST `foo/`). A `.`/`..` segment, a control character or a
/// result outside `base/v1/` is refused.
pub fn api_url(
    base: &Url,
    method: Method,
    path: &str,
    query: &[(String, String)],
) -> Result<Url, Unsendable> {
    if let Some(ch) = path.chars().find(|c| c.is_control()) {
        return Err(Unsendable::PathControl(ch));
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let prefix = format!("{}/v1/", url.path().trim_end_matches('/'));
    let trimmed = path.trim_start_matches('/');
    let mut segs: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(dot) = segs.iter().find(|s| matches!(**s, "." | "..")) {
        return Err(Unsendable::DotSegment((*dot).to_string()));
    }
    // `v1/` itself, and a trailing slash, are empty last segments.
    if segs.is_empty() || trimmed.ends_with('/') {
        segs.push("");
    }
    {
        let mut parts = url
            .path_segments_mut()
            .map_err(|()| Unsendable::BadBase(base.to_string()))?;
        parts.pop_if_empty().push("v1").extend(&segs);
    }
    let mut pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if method == Method::List && !pairs.iter().any(|(k, _)| *k == "list") {
        pairs.push(("list", "true"));
    }
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    if !url.path().starts_with(&prefix) || !same_origin(&url, base) {
        return Err(Unsendable::LeavesApi(url.to_string()));
    }
    Ok(url)
}

/// The `X-Vault-Namespace` value for `namespace` ("a/b/"), `None` for the root.
///
/// Sent as its UTF-8 bytes: OpenBao reads the header as raw bytes (a CJK name arrives as
/// typed; a percent-encoded one would name another namespace). A control character,
/// whitespace at either end or a `.`/`..` segment is refused: HTTP or the server would
/// change it into another namespace.
pub fn namespace_header(namespace: &str) -> Result<Option<HeaderValue>, Unsendable> {
    if namespace.is_empty() {
        return Ok(None);
    }
    if let Some(ch) = namespace.chars().find(|c| c.is_control()) {
        return Err(Unsendable::HeaderControl(ch));
    }
    if namespace.trim() != namespace {
        return Err(Unsendable::HeaderSpace);
    }
    if let Some(dot) = namespace.split('/').find(|s| matches!(*s, "." | "..")) {
        return Err(Unsendable::HeaderDot(dot.to_string()));
    }
    HeaderValue::from_bytes(namespace.as_bytes())
        .map(Some)
        // Every byte left is visible ASCII or part of a UTF-8 sequence, which a header
        // carries; keep a typed error all the same rather than assume it.
        .map_err(|_| Unsendable::HeaderControl('\u{0}'))
}

/// Whether `url` has the scheme, host and port of `base`.
pub(crate) fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
}

/// Whether `url` is inside `base`'s API (`…/v1/`).
pub(crate) fn inside_api(url: &Url, base: &Url) -> bool {
    let prefix = format!("{}/v1/", base.path().trim_end_matches('/'));
    same_origin(url, base) && url.path().starts_with(&prefix)
}

/// The segments of `url`'s path below `/v1/`, percent-decoded: what the server sees.
pub fn decoded_api_segments(base: &Url, url: &Url) -> Option<Vec<String>> {
    let prefix = format!("{}/v1/", base.path().trim_end_matches('/'));
    let rest = url.path().strip_prefix(&prefix)?;
    rest.split('/')
        .map(|s| {
            percent_decode(s)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        })
        .collect()
}

/// Decode `%XX` escapes (as an HTTP server does with a path); an invalid escape is an error.
fn percent_decode(s: &str) -> Result<Vec<u8>, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(())?;
            let hex = std::str::from_utf8(hex).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::nspath::{root_only_prefix, try_route_within, NsPath};
    use proptest::prelude::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8200").unwrap()
    }

    fn url(path: &str) -> String {
        api_url(&base(), Method::Get, path, &[])
            .unwrap()
            .to_string()
    }

    #[test]
    fn each_segment_is_escaped_once() {
        let b = "http://127.0.0.1:8200/v1/";
        let cases: &[(&str, &str)] = &[
            ("sys/mounts", "sys/mounts"),
            ("/sys//mounts", "sys/mounts"),
            ("secret/metadata/", "secret/metadata/"),
            ("", ""),
            ("/", ""),
            (
                "sys/namespaces/victim4#test",
                "sys/namespaces/victim4%23test",
            ),
            ("secret/data/keep#scratch", "secret/data/keep%23scratch"),
            (
                "sys/namespaces/api-lock/lock/t1%2Fa",
                "sys/namespaces/api-lock/lock/t1%252Fa",
            ),
            ("secret/data/x?version=1", "secret/data/x%3Fversion=1"),
            ("%2e%2e/sys/mounts", "%252e%252e/sys/mounts"),
            (".%2E/x", ".%252E/x"),
            ("a b/c", "a%20b/c"),
            ("中文/sys/mounts", "%E4%B8%AD%E6%96%87/sys/mounts"),
            ("a\\b", "a%5Cb"),
            ("...", "..."),
            ("a;b=c@d+e", "a;b=c@d+e"),
        ];
        for (path, want) in cases {
            assert_eq!(url(path), format!("{b}{want}"), "{path:?}");
        }
    }

    #[test]
    fn dots_control_characters_and_escapes_are_refused() {
        for (path, want) in [
            ("../sys/mounts", Unsendable::DotSegment("..".into())),
            ("a/./b", Unsendable::DotSegment(".".into())),
            ("secret/..", Unsendable::DotSegment("..".into())),
            ("/../sys/mounts", Unsendable::DotSegment("..".into())),
            ("a\nb", Unsendable::PathControl('\n')),
            ("a\tb", Unsendable::PathControl('\t')),
            ("a\rb", Unsendable::PathControl('\r')),
            ("a\u{0}b", Unsendable::PathControl('\u{0}')),
        ] {
            assert_eq!(
                api_url(&base(), Method::Get, path, &[]),
                Err(want),
                "{path:?}"
            );
        }
    }

    #[test]
    fn query_parameters_come_only_from_the_list() {
        let list = api_url(&base(), Method::List, "secret/metadata/", &[]).unwrap();
        assert_eq!(
            list.as_str(),
            "http://127.0.0.1:8200/v1/secret/metadata/?list=true"
        );
        let q = vec![("version".to_string(), "3&x=#".to_string())];
        let got = api_url(&base(), Method::Get, "secret/data/a?b", &q).unwrap();
        assert_eq!(
            got.as_str(),
            "http://127.0.0.1:8200/v1/secret/data/a%3Fb?version=3%26x%3D%23"
        );
        assert_eq!(
            got.query_pairs().collect::<Vec<_>>(),
            vec![("version".into(), "3&x=#".into())]
        );
    }

    #[test]
    fn a_base_with_a_path_keeps_it() {
        let b = Url::parse("https://vault.example.com/prefix/").unwrap();
        let got = api_url(&b, Method::Get, "sys/health", &[]).unwrap();
        assert_eq!(
            got.as_str(),
            "https://vault.example.com/prefix/v1/sys/health"
        );
        assert!(inside_api(&got, &b));
        assert!(!inside_api(
            &Url::parse("https://vault.example.com/v1/sys/health").unwrap(),
            &b
        ));
    }

    #[test]
    fn the_namespace_header_carries_utf8_and_refuses_what_http_changes() {
        assert_eq!(namespace_header("").unwrap(), None);
        assert_eq!(
            namespace_header("中文/kid/").unwrap().unwrap().as_bytes(),
            "中文/kid/".as_bytes()
        );
        assert_eq!(
            namespace_header("a#b?c%d/").unwrap().unwrap().as_bytes(),
            b"a#b?c%d/"
        );
        for (ns, want) in [
            ("a\nb/", Unsendable::HeaderControl('\n')),
            ("a\rb/", Unsendable::HeaderControl('\r')),
            ("a\u{1}b/", Unsendable::HeaderControl('\u{1}')),
            ("a\u{7f}/", Unsendable::HeaderControl('\u{7f}')),
            ("a\tb/", Unsendable::HeaderControl('\t')),
            (" a/", Unsendable::HeaderSpace),
            ("a/ ", Unsendable::HeaderSpace),
            ("a/../", Unsendable::HeaderDot("..".into())),
            ("./a/", Unsendable::HeaderDot(".".into())),
        ] {
            assert_eq!(namespace_header(ns), Err(want), "{ns:?}");
        }
    }

    /// The segments of a typed path or namespace name, printable and hostile.
    fn typed_segment() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[a-z0-9]{1,5}",
            1 => Just("..".to_string()),
            1 => Just(".".to_string()),
            1 => Just(String::new()),
            1 => Just("%2e%2e".to_string()),
            1 => Just("%2F".to_string()),
            1 => Just(".%2e".to_string()),
            1 => "[a-z#?%;=&+@\\\\ 中~-]{1,6}",
            1 => Just("sys".to_string()),
            1 => Just("health".to_string()),
        ]
    }

    fn typed_path() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("/"), Just("//")],
            prop::collection::vec(typed_segment(), 0..7),
            any::<bool>(),
        )
            .prop_map(|(lead, segs, trail)| {
                format!("{lead}{}{}", segs.join("/"), if trail { "/" } else { "" })
            })
    }

    /// A context: (top, current) — root, a tenant, a grandchild, a token whose top is a child.
    fn context() -> impl Strategy<Value = (NsPath, NsPath)> {
        let p = |s: &str| NsPath::parse(s).unwrap();
        prop_oneof![
            Just((NsPath::root(), NsPath::root())),
            Just((NsPath::root(), p("tenant"))),
            Just((NsPath::root(), p("tenant/team/env"))),
            Just((p("admin"), p("admin"))),
            Just((p("admin"), p("admin/team/env"))),
        ]
    }

    /// Where a typed path lands, all segments from the root (an independent model of
    /// the routing rules): a stack over the base namespace and the path, whose `..`
    /// may never pop into the top; `None` when it would.
    fn model(top: &NsPath, cur: &NsPath, typed: &str) -> Option<Vec<String>> {
        let absolute = typed.starts_with('/');
        let (mut stack, floor) = if absolute {
            (Vec::new(), 0)
        } else {
            (cur.segments().to_vec(), top.depth())
        };
        for seg in typed.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if stack.len() <= floor {
                        return None;
                    }
                    stack.pop();
                }
                s => stack.push(s.to_string()),
            }
        }
        if absolute {
            // From the top; a path that already names the top is taken as it is.
            if top.is_root() || !stack.starts_with(top.segments()) || stack.len() == top.depth() {
                let mut full = top.segments().to_vec();
                full.extend(stack);
                return Some(full);
            }
        }
        Some(stack)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// For any typed path in any context, the request the client builds goes exactly
        /// where the route says: under BASE/v1/, no dot segment, its decoded segments
        /// the route's, its header the route's namespace, never above the top.
        #[test]
        fn the_request_goes_where_the_route_says(
            (top, cur) in context(),
            typed in typed_path(),
            list in any::<bool>(),
        ) {
            let base = Url::parse("https://vault.example.com:8200/").unwrap();
            let method = if list { Method::List } else { Method::Get };
            let want_full = model(&top, &cur, &typed);
            let route = match try_route_within(&top, &cur, &typed) {
                Ok(route) => route,
                Err(e) => {
                    prop_assert_eq!(want_full, None, "{:?} refused: {}", typed, e);
                    return Ok(());
                }
            };
            let Some(want_full) = want_full else {
                return Err(TestCaseError::fail(format!("{typed:?} climbs above {top} but routes to {route:?}")));
            };
            if root_only_prefix(&route.path).is_some() {
                prop_assert!(route.namespace.is_root(), "{:?}", route);
            } else {
                let mut got: Vec<String> = route.namespace.segments().to_vec();
                got.extend(route.path.split('/').filter(|s| !s.is_empty()).map(str::to_string));
                prop_assert_eq!(got, want_full, "{:?} in {} (top {})", typed, cur, top);
                prop_assert!(route.namespace.starts_with(&top), "{:?} above the top {}", route, top);
            }
            let url = api_url(&base, method, &route.path, &[])
                .map_err(|e| TestCaseError::fail(format!("{typed:?} -> {route:?} refused: {e}")))?;
            prop_assert!(url.as_str().starts_with("https://vault.example.com:8200/v1/"), "{}", url);
            prop_assert_eq!(url.fragment(), None);
            let want_query = if list { Some("list=true") } else { None };
            prop_assert_eq!(url.query(), want_query);
            let raw: Vec<&str> = url.path()["/v1/".len()..].split('/').collect();
            for s in &raw {
                prop_assert!(!matches!(*s, "." | ".."), "dot segment in {}", url);
            }
            let decoded = decoded_api_segments(&base, &url).unwrap();
            for s in &decoded {
                prop_assert!(!matches!(s.as_str(), "." | ".."), "the server would see a dot in {}", url);
            }
            let want: Vec<String> = if route.path.is_empty() {
                vec![String::new()]
            } else {
                route.path.split('/').map(str::to_string).collect()
            };
            prop_assert_eq!(decoded, want, "{} for {:?}", url, route);
            // Re-parsing the URL (as the HTTP stack does) changes nothing.
            prop_assert_eq!(Url::parse(url.as_str()).unwrap(), url.clone());
            let header = namespace_header(&route.namespace.header()).unwrap();
            prop_assert_eq!(
                header.map(|h| h.as_bytes().to_vec()).unwrap_or_default(),
                route.namespace.header().into_bytes()
            );
        }
    }
}
