//! Fuzzing the parsers through their public API (proptest): the word splitter, the whole
//! line → words → `Command` path, the namespace path algebra and `k=v` parsing. Every
//! property says "no panic", and states the invariant where there is one.
//!
//! Inputs are drawn mostly from the characters that matter to a shell line or a path
//! (quotes, backslash, `;`, `#`, `/`, `.`, `=`, `@`, `%`, `?`, blanks, control characters),
//! mixed with arbitrary Unicode. The number of cases per property is bounded for CI
//! (`DEFAULT_CASES`); run longer with `PROPTEST_CASES=100000 cargo test --test fuzz`.

use std::io::Cursor;

use proptest::prelude::*;
use proptest::test_runner::Config;
use vnsh::engine::commands;
use vnsh::engine::nspath::{self, NsPath};
use vnsh::engine::words;

/// Cases per property in a plain `cargo test` (CI); `PROPTEST_CASES` overrides it.
const DEFAULT_CASES: u32 = 2_000;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        // A failure prints its minimal input; nothing is written into the worktree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The characters a shell line or a path cares about.
const SPECIAL: &[char] = &[
    ' ', '\t', '\n', '\r', ';', '\'', '"', '\\', '#', '/', '.', '=', '@', '-', '%', '?', '~', '$',
    '`', '\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', 'é',
];

/// One character: mostly special ones and plain letters, sometimes any Unicode scalar.
fn ch() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(SPECIAL),
        4 => prop::char::range('a', 'z'),
        1 => prop::char::range('0', '9'),
        1 => any::<char>(),
    ]
}

/// A string of up to `max` such characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(ch(), 0..max).prop_map(|cs| cs.into_iter().collect())
}

/// The names of every command, so that parsing goes past the first word.
fn command_names() -> Vec<&'static str> {
    vnsh::engine::commands::table()
        .into_iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
        .collect()
}

/// Words that start with a real command name.
fn command_words() -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(command_names()),
        prop::collection::vec(
            prop_oneof![
                2 => text(12),
                1 => prop::sample::select(vec![
                    "list", "scan", "lookup", "create", "patch", "delete", "-detailed",
                    "--key", "-d", "3", "-1", "--yes", "-field=x", "-format=json", "--since",
                    "1h", "--all", "-r", "-n", "-f", "-t", "namespace", "export",
                ])
                .prop_map(str::to_string),
            ],
            0..6,
        ),
    )
        .prop_map(|(first, rest)| std::iter::once(first.to_string()).chain(rest).collect())
}

/// A namespace path of plain segments.
fn ns_path() -> impl Strategy<Value = NsPath> {
    prop::collection::vec("[a-z][a-z0-9_-]{0,5}", 0..5).prop_map(NsPath::from_segments)
}

/// A `cd`-style argument made of plain names, `.`, `..`, empty segments and hostile ones.
fn messy_path() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(
            prop_oneof![
                3 => "[a-z]{1,4}",
                2 => Just("..".to_string()),
                1 => Just(".".to_string()),
                1 => Just(String::new()),
                1 => text(6),
            ],
            0..8,
        ),
    )
        .prop_map(|(abs, segs)| format!("{}{}", if abs { "/" } else { "" }, segs.join("/")))
}

/// Whether PRODUCT.md lets a namespace name have this character anywhere in it.
fn forbidden_in_name(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%')
}

/// The keys whose values must never reach history: any key containing one of these.
const SECRET_PARTS: &[&str] = &["pass", "secret", "token", "key", "credential", "private"];

proptest! {
    #![proptest_config(config())]

    /// Splitting never panics, and never yields an empty command.
    #[test]
    fn split_line_never_panics(line in text(80)) {
        if let Ok(cmds) = words::split_line(&line) {
            prop_assert!(cmds.iter().all(|c| !c.is_empty()), "{:?} -> {:?}", line, cmds);
        }
        let _ = words::split_for_completion(&line);
        prop_assert!(words::last_word_start(&line) <= line.len());
        prop_assert!(line.is_char_boundary(words::last_word_start(&line)));
        let _ = words::redact_line(&line);
    }

    /// Any words, each quoted by `quote_word`, joined by blanks and `;`, split back into
    /// exactly those commands and words.
    #[test]
    fn quoting_round_trips(cmds in prop::collection::vec(prop::collection::vec(text(10), 1..5), 1..4)) {
        let line = cmds
            .iter()
            .map(|c| c.iter().map(|w| words::quote_word(w)).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" ; ");
        prop_assert_eq!(words::split_line(&line), Ok(cmds), "line {:?}", line);
    }

    /// A whole line, as a front end runs it, never panics in the parser.
    #[test]
    fn a_line_to_commands_never_panics(line in text(80)) {
        if let Ok(cmds) = words::split_line(&line) {
            for w in cmds {
                if let Ok(cmd) = commands::parse(&w, &Default::default()) {
                    // A destructive command is a mutating one.
                    prop_assert!(!cmd.is_destructive() || cmd.is_mutating(), "{:?}", cmd);
                }
            }
        }
    }

    /// Words that start with a real command never panic the parser either.
    #[test]
    fn command_parse_never_panics(w in command_words()) {
        if let Ok(cmd) = commands::parse(&w, &Default::default()) {
            prop_assert!(!cmd.is_destructive() || cmd.is_mutating(), "{:?}", cmd);
        }
    }

    /// A name `validate_name` accepts is canonical and keeps the rules of PRODUCT.md: no
    /// space, `?`, `#`, `%` or control character, no `.`, `..`, `root` or reserved segment.
    #[test]
    fn accepted_names_keep_the_rules(name in text(16)) {
        if let Ok(path) = nspath::validate_name(&name) {
            prop_assert_eq!(path.header(), format!("{name}/"));
            prop_assert!(
                !name.chars().any(forbidden_in_name),
                "validate_name accepted {:?}, which has a character PRODUCT.md forbids", name
            );
            for seg in path.segments() {
                prop_assert!(!seg.is_empty() && seg != "." && seg != ".." && seg != "root");
                prop_assert!(!nspath::RESERVED_NAMES.contains(&seg.as_str()));
            }
        }
    }

    /// Parsing a server's path never panics; what parses comes back from its header and
    /// its display.
    #[test]
    fn ns_path_parse_round_trips(s in text(24)) {
        if let Ok(p) = NsPath::parse(&s) {
            prop_assert_eq!(NsPath::parse(&p.header()), Ok(p.clone()));
            prop_assert_eq!(NsPath::parse(&p.display()), Ok(p.clone()));
            prop_assert!(p.segments().iter().all(|s| !s.is_empty() && !s.contains('/')));
        }
    }

    /// `cd` never lands on a path with an empty, `.` or `..` segment, and never above the
    /// token's top namespace.
    #[test]
    fn cd_stays_canonical_and_below_the_top(
        top in ns_path(),
        below in ns_path(),
        prev in ns_path(),
        arg in prop_oneof![4 => messy_path(), 1 => text(12)],
    ) {
        let current = top.join(&below);
        let previous = top.join(&prev);
        if let Ok(got) = nspath::resolve_within(&top, &current, Some(&previous), &top, Some(&arg)) {
            prop_assert!(got.starts_with(&top), "{:?} from {:?} climbed above {:?}", got, arg, top);
            for s in got.segments() {
                prop_assert!(!s.is_empty() && s != "." && s != "..", "{:?} from {:?}", got, arg);
            }
        }
    }

    /// A routed request goes to the current namespace or the root, on a path with no
    /// leading slash, no empty segment and no dot segment (they are resolved first).
    #[test]
    fn routes_are_canonical(
        top in ns_path(),
        below in ns_path(),
        typed in prop_oneof![3 => messy_path(), 1 => text(20)],
    ) {
        let current = top.join(&below);
        // `..` climbs namespaces, never above the top: an error then, nothing to route.
        let Ok(route) = nspath::try_route_within(&top, &current, &typed) else {
            return Ok(());
        };
        prop_assert!(
            (route.namespace.starts_with(&top) && current.starts_with(&route.namespace))
                || route.namespace.is_root(),
            "{:?} routed to {:?}", typed, route.namespace
        );
        prop_assert!(!route.path.starts_with('/'), "{:?} -> {:?}", typed, route.path);
        let path = route.path.strip_suffix('/').unwrap_or(&route.path);
        if !path.is_empty() {
            for seg in path.split('/') {
                prop_assert!(!seg.is_empty(), "{:?} -> {:?}: an empty segment", typed, route.path);
                prop_assert!(
                    seg != "." && seg != "..",
                    "{:?} -> {:?}: a dot segment is sent as it is", typed, route.path
                );
            }
        }
    }

    /// `k=v` arguments never panic (stdin empty, no file named), and plain ones come back
    /// as typed: one value per key, repeated keys in order as an array.
    #[test]
    fn kv_arguments_parse_as_typed(
        pairs in prop::collection::vec(("[a-z_][a-z0-9_]{0,4}", text(12)), 0..6),
        noise in prop::collection::vec(text(12), 0..4),
    ) {
        let plain: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(_, v)| v != "-" && !v.starts_with('@') && !v.starts_with('\\'))
            .collect();
        let args: Vec<String> = plain.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let map = words::parse_kv(&args, &mut Cursor::new(Vec::new()));
        prop_assert!(map.is_ok(), "{:?}: {:?}", args, map.err());
        let map = map.unwrap_or_default();
        for (k, _) in &plain {
            let want: Vec<&str> = plain.iter().filter(|(k2, _)| k2 == k).map(|(_, v)| v.as_str()).collect();
            let got: Vec<&str> = match &map[k] {
                serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect(),
                v => v.as_str().into_iter().collect(),
            };
            prop_assert_eq!(got, want, "key {:?} of {:?}", k, args);
        }
        // Anything else, as long as it names no file: an answer or an error, never a panic.
        let hostile: Vec<String> = noise.into_iter().filter(|a| !a.contains('@')).collect();
        let _ = words::parse_kv(&hostile, &mut Cursor::new(b"{\"a\":1}".to_vec()));
    }

    /// A value given to a key that names a secret never reaches history.
    #[test]
    fn secret_values_are_redacted_by_pattern(
        pre in "[a-z_]{0,5}",
        part in prop::sample::select(SECRET_PARTS),
        post in "[a-z0-9_-]{0,5}",
        upper in any::<bool>(),
        value in "[A-Za-z0-9]{12,20}",
    ) {
        let key = format!("{pre}{part}{post}");
        let key = if upper { key.to_uppercase() } else { key };
        for line in [
            format!("write secret/data/app {key}={value}"),
            format!("kv put secret/app {key}={value} other=1"),
        ] {
            let redacted = words::redact_line(&line);
            prop_assert!(
                !redacted.contains(&value),
                "history would keep the value of {:?}: {:?}", key, redacted
            );
        }
    }
}
