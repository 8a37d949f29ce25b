//! The command line language: POSIX-style word splitting, `k=v` arguments, and history redaction.
//!
//! One tolerant lexer serves execution (strict: errors are reported), completion (an open quote
//! is the word being typed) and redaction (byte spans keep the untouched text as typed).

use std::io::Read;

use serde_json::{Map, Value};

/// Why a line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordsError {
    /// A quote was opened and never closed.
    #[error("unclosed {0} quote")]
    UnclosedQuote(char),
    /// The line ends with a backslash that escapes nothing.
    #[error("the line ends with a backslash that escapes nothing")]
    TrailingBackslash,
}

/// One word as typed: its byte span in the line and its value after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    start: usize,
    end: usize,
    text: String,
}

/// The result of lexing a whole line, errors included, so each caller picks its tolerance.
#[derive(Debug, Default)]
struct Lexed {
    /// Every command, empty ones included (completion needs the last one even when empty).
    commands: Vec<Vec<Token>>,
    error: Option<WordsError>,
    /// The line ends inside a word (or an open quote) rather than at a boundary.
    ends_in_word: bool,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

fn lex(line: &str) -> Lexed {
    let mut out = Lexed::default();
    let mut cmd: Vec<Token> = Vec::new();
    let mut word: Option<Token> = None;
    let mut chars = line.char_indices().peekable();

    // Close the word in progress, if any, at byte offset `end`.
    fn finish(word: &mut Option<Token>, cmd: &mut Vec<Token>, end: usize) {
        if let Some(mut w) = word.take() {
            w.end = end;
            cmd.push(w);
        }
    }
    fn start(word: &mut Option<Token>, at: usize) -> &mut Token {
        word.get_or_insert_with(|| Token {
            start: at,
            end: at,
            text: String::new(),
        })
    }

    while let Some((i, c)) = chars.next() {
        match c {
            c if is_blank(c) => finish(&mut word, &mut cmd, i),
            ';' | '\n' => {
                finish(&mut word, &mut cmd, i);
                out.commands.push(std::mem::take(&mut cmd));
            }
            // A comment only starts a word, so `a#b` stays one word, as in sh.
            '#' if word.is_none() => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '\\' => match chars.next() {
                // Line continuation: joins, and does not by itself start a word.
                Some((_, '\n')) => {}
                Some((_, next)) => start(&mut word, i).text.push(next),
                None => {
                    out.error = Some(WordsError::TrailingBackslash);
                    start(&mut word, i);
                }
            },
            '\'' => {
                let w = start(&mut word, i);
                let mut closed = false;
                for (_, q) in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    w.text.push(q);
                }
                if !closed {
                    out.error = Some(WordsError::UnclosedQuote('\''));
                }
            }
            '"' => {
                let w = start(&mut word, i);
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, e @ ('"' | '\\' | '$' | '`'))) => w.text.push(e),
                            Some((_, '\n')) => {}
                            Some((_, e)) => {
                                w.text.push('\\');
                                w.text.push(e);
                            }
                            None => w.text.push('\\'),
                        },
                        _ => w.text.push(q),
                    }
                }
                if !closed {
                    out.error = Some(WordsError::UnclosedQuote('"'));
                }
            }
            _ => start(&mut word, i).text.push(c),
        }
    }
    out.ends_in_word = word.is_some();
    finish(&mut word, &mut cmd, line.len());
    out.commands.push(cmd);
    out
}

/// Split one input line into commands separated by unquoted `;` (or newline), each a list of words, as sh does.
pub fn split_line(line: &str) -> Result<Vec<Vec<String>>, WordsError> {
    let lexed = lex(line);
    if let Some(err) = lexed.error {
        return Err(err);
    }
    Ok(lexed
        .commands
        .into_iter()
        .filter(|cmd| !cmd.is_empty())
        .map(|cmd| cmd.into_iter().map(|t| t.text).collect())
        .collect())
}

/// The words of the last command on the line, and whether the cursor starts a new, empty word.
pub fn split_for_completion(line: &str) -> (Vec<String>, bool) {
    let lexed = lex(line);
    let words = lexed
        .commands
        .into_iter()
        .next_back()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.text)
        .collect();
    (words, !lexed.ends_in_word)
}

/// The byte offset where the word under the cursor (at the end of `line`) starts, opening quote included.
pub fn last_word_start(line: &str) -> usize {
    let lexed = lex(line);
    if !lexed.ends_in_word {
        return line.len();
    }
    lexed
        .commands
        .last()
        .and_then(|cmd| cmd.last())
        .map_or(line.len(), |t| t.start)
}

/// Quote a word so that [`split_line`] reads it back unchanged; plain words stay as they are.
pub fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && !word.starts_with('#')
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "_-+=.,:/@%~#".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Why `k=v` arguments could not be turned into a request body.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// An argument is neither `k=v`, `-` nor `@file`.
    #[error("argument {0:?} is not k=v, `-` or @file")]
    NotKeyValue(String),
    /// An argument has nothing before its `=`.
    #[error("argument {0:?} has an empty key")]
    EmptyKey(String),
    /// A file named by `@file` could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file as named on the command line.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    /// `-` was used twice; stdin can only be read once.
    #[error("stdin can only be read once, but `-` is used twice")]
    StdinTwice,
    /// A JSON document was malformed; the message says where.
    #[error("bad JSON in {source_name}: {error}")]
    Json {
        /// `stdin` or the file name.
        source_name: String,
        /// The parser's error, with line and column.
        error: serde_json::Error,
    },
    /// A JSON document was valid but not an object.
    #[error("JSON in {0} is not an object")]
    NotObject(String),
}

/// Parse `k=v` arguments into a JSON object, vault-CLI style (`k=@file`, `k=-`, bare `-` and `@file.json`, repeated keys become arrays).
pub fn parse_kv(args: &[String], stdin: &mut dyn Read) -> Result<Map<String, Value>, KvError> {
    let mut out = Map::new();
    let mut stdin_used = false;
    let mut read_stdin = |stdin: &mut dyn Read| -> Result<String, KvError> {
        if std::mem::replace(&mut stdin_used, true) {
            return Err(KvError::StdinTwice);
        }
        let mut s = String::new();
        stdin.read_to_string(&mut s).map_err(KvError::Stdin)?;
        Ok(s)
    };
    for arg in args {
        if arg == "-" {
            let text = read_stdin(stdin)?;
            merge(&mut out, json_object(&text, "stdin")?);
            continue;
        }
        // As in vault, a leading `@` means a JSON file even when the name holds a `=`.
        if let Some(file) = arg.strip_prefix('@') {
            let text = read_file(file)?;
            merge(&mut out, json_object(&text, file)?);
            continue;
        }
        let Some((key, raw)) = arg.split_once('=') else {
            return Err(KvError::NotKeyValue(arg.clone()));
        };
        if key.is_empty() {
            return Err(KvError::EmptyKey(arg.clone()));
        }
        let value = if raw == "-" {
            let mut text = read_stdin(stdin)?;
            // `echo secret | …` adds a newline nobody means to store.
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        } else if let Some(file) = raw.strip_prefix('@') {
            read_file(file)?
        } else if let Some(literal) = raw.strip_prefix('\\') {
            // `k=\@x` is the escape for a value that really starts with `@` or is `-`.
            literal.to_string()
        } else {
            raw.to_string()
        };
        add(&mut out, key, Value::String(value));
    }
    Ok(out)
}

fn read_file(path: &str) -> Result<String, KvError> {
    std::fs::read_to_string(path).map_err(|source| KvError::File {
        path: path.to_string(),
        source,
    })
}

fn json_object(text: &str, source_name: &str) -> Result<Map<String, Value>, KvError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(KvError::NotObject(source_name.to_string())),
        Err(error) => Err(KvError::Json {
            source_name: source_name.to_string(),
            error,
        }),
    }
}

/// A merged JSON object replaces keys, as vault does.
fn merge(out: &mut Map<String, Value>, other: Map<String, Value>) {
    for (k, v) in other {
        out.insert(k, v);
    }
}

/// A repeated key collects its values into an array, as vault does.
fn add(out: &mut Map<String, Value>, key: &str, value: Value) {
    match out.get_mut(key) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            out.insert(key.to_string(), value);
        }
    }
}

/// Keys whose values never reach history (the brief's list plus a few common credential names).
const SECRET_KEYS: [&str; 14] = [
    "jwt",
    "password",
    "secret_id",
    "token",
    "unlock_key",
    "key",
    "secret",
    "client_secret",
    "private_key",
    "secret_key",
    "access_key",
    "api_key",
    "passphrase",
    "unseal_key",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.trim_start_matches('-').to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
}

/// Redact secret-looking values (`password=…`, `--key X`, `--token=…`, …) in a line before it goes to history.
pub fn redact_line(line: &str) -> String {
    let lexed = lex(line);
    // (start, end, replacement) in line order.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for cmd in &lexed.commands {
        let mut redact_next = false;
        for tok in cmd {
            if std::mem::take(&mut redact_next) {
                edits.push((tok.start, tok.end, "***".to_string()));
                continue;
            }
            if let Some((key, _)) = tok.text.split_once('=') {
                if is_secret_key(key) {
                    edits.push((tok.start, tok.end, format!("{}=***", quote_word(key))));
                }
            } else if tok.text.starts_with('-') && is_secret_key(&tok.text) {
                redact_next = true;
            }
        }
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (start, end, replacement) in edits {
        out.push_str(line.get(at..start).unwrap_or_default());
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(line.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::io::Write;

    fn words(cmds: &[&[&str]]) -> Vec<Vec<String>> {
        cmds.iter()
            .map(|c| c.iter().map(|w| w.to_string()).collect())
            .collect()
    }

    #[test]
    fn split_table() {
        let cases: &[(&str, &[&[&str]])] = &[
            ("", &[]),
            ("   ", &[]),
            ("pwd", &[&["pwd"]]),
            ("  cd   ns1/ns2  ", &[&["cd", "ns1/ns2"]]),
            ("a\tb", &[&["a", "b"]]),
            ("write k='a b'", &[&["write", "k=a b"]]),
            ("'a \"b\" \\c'", &[&["a \"b\" \\c"]]),
            ("\"a 'b' c\"", &[&["a 'b' c"]]),
            (r#""a \" \\ \$ \` \n""#, &[&["a \" \\ $ ` \\n"]]),
            ("\"a\\\nb\"", &[&["ab"]]),
            (r"a\ b", &[&["a b"]]),
            (r"a\;b", &[&["a;b"]]),
            (r"\'", &[&["'"]]),
            (r"\#a", &[&["#a"]]),
            ("a \\\n b", &[&["a", "b"]]),
            ("''", &[&[""]]),
            ("a '' b", &[&["a", "", "b"]]),
            ("a \"\"", &[&["a", ""]]),
            ("pre'mid'\"post\"", &[&["premidpost"]]),
            ("a;b", &[&["a"], &["b"]]),
            ("a ; b c ;", &[&["a"], &["b", "c"]]),
            ("a;;b", &[&["a"], &["b"]]),
            (";", &[]),
            ("a\nb", &[&["a"], &["b"]]),
            ("'a;b' \"c;d\"", &[&["a;b", "c;d"]]),
            ("# a comment", &[]),
            ("ls # list here", &[&["ls"]]),
            ("ls a#b", &[&["ls", "a#b"]]),
            ("ls '#x'", &[&["ls", "#x"]]),
            ("ls #x; pwd", &[&["ls"]]),
            ("ls #x\npwd", &[&["ls"], &["pwd"]]),
            ("read $HOME `x`", &[&["read", "$HOME", "`x`"]]),
            ("écrire clé=valeur", &[&["écrire", "clé=valeur"]]),
        ];
        for (line, want) in cases {
            assert_eq!(split_line(line), Ok(words(want)), "{line:?}");
        }
    }

    #[test]
    fn split_errors() {
        assert_eq!(split_line("a 'b"), Err(WordsError::UnclosedQuote('\'')));
        assert_eq!(split_line("a \"b"), Err(WordsError::UnclosedQuote('"')));
        assert_eq!(split_line("a \"b\\\""), Err(WordsError::UnclosedQuote('"')));
        assert_eq!(split_line("a b\\"), Err(WordsError::TrailingBackslash));
        assert_eq!(split_line("a; b 'c"), Err(WordsError::UnclosedQuote('\'')));
        assert_eq!(
            WordsError::UnclosedQuote('\'').to_string(),
            "unclosed ' quote"
        );
    }

    #[test]
    fn completion_split() {
        let s = |v: &[&str]| v.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let cases: &[(&str, &[&str], bool)] = &[
            ("", &[], true),
            ("cd", &["cd"], false),
            ("cd ", &["cd"], true),
            ("cd ns1/n", &["cd", "ns1/n"], false),
            ("pwd; cd ns", &["cd", "ns"], false),
            ("pwd;", &[], true),
            ("pwd; ", &[], true),
            ("cd 'my ns", &["cd", "my ns"], false),
            ("cd \"my ns", &["cd", "my ns"], false),
            ("cd '", &["cd", ""], false),
            ("cd ''", &["cd", ""], false),
            ("cd a\\", &["cd", "a"], false),
            ("cd a\\ b", &["cd", "a b"], false),
            ("ls # x", &["ls"], true),
        ];
        for (line, want, fresh) in cases {
            assert_eq!(split_for_completion(line), (s(want), *fresh), "{line:?}");
        }
        assert_eq!(last_word_start("cd ns1/n"), 3);
        assert_eq!(last_word_start("cd "), 3);
        assert_eq!(last_word_start("cd 'my n"), 3);
        assert_eq!(last_word_start("a; b"), 3);
        assert_eq!(last_word_start(""), 0);
    }

    #[test]
    fn quote_word_table() {
        let cases = [
            ("abc", "abc"),
            ("ns1/ns2/", "ns1/ns2/"),
            ("k=v", "k=v"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("#x", "'#x'"),
            ("a;b", "'a;b'"),
            ("$x", "'$x'"),
        ];
        for (word, want) in cases {
            assert_eq!(quote_word(word), want, "{word:?}");
            assert_eq!(split_line(want), Ok(vec![vec![word.to_string()]]));
        }
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kv_plain_and_repeated() {
        let got = parse_kv(
            &args(&[
                "a=1", "b=x=y", "c=", "p=a", "p=b", "p=c", "e=\\@lit", "m=\\-",
            ]),
            &mut &b""[..],
        )
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"a": "1", "b": "x=y", "c": "", "p": ["a", "b", "c"], "e": "@lit", "m": "-"})
        );
        assert!(parse_kv(&[], &mut &b""[..]).unwrap().is_empty());
    }

    #[test]
    fn kv_stdin() {
        let got = parse_kv(&args(&["pw=-", "x=1"]), &mut &b"hunter2\n"[..]).unwrap();
        assert_eq!(Value::Object(got), json!({"pw": "hunter2", "x": "1"}));
        let got = parse_kv(&args(&["pw=-"]), &mut &b"two\nlines\r\n"[..]).unwrap();
        assert_eq!(Value::Object(got), json!({"pw": "two\nlines"}));
        let got = parse_kv(
            &args(&["a=0", "-", "b=2"]),
            &mut &br#"{"a": 1, "n": {"x": true}}"#[..],
        )
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"a": 1, "n": {"x": true}, "b": "2"})
        );
        assert!(matches!(
            parse_kv(&args(&["a=-", "b=-"]), &mut &b"x"[..]),
            Err(KvError::StdinTwice)
        ));
        let err = parse_kv(&args(&["-"]), &mut &b"{\"a\": }"[..]).unwrap_err();
        assert!(matches!(err, KvError::Json { .. }), "{err:?}");
        assert!(err.to_string().contains("stdin"), "{err}");
        assert!(err.to_string().contains("line 1 column"), "{err}");
        assert!(matches!(
            parse_kv(&args(&["-"]), &mut &b"[1]"[..]),
            Err(KvError::NotObject(_))
        ));
    }

    #[test]
    fn kv_files() {
        let dir = tempfile::tempdir().unwrap();
        let value_file = dir.path().join("cert.pem");
        std::fs::write(&value_file, "line1\nline2\n").unwrap();
        let json_file = dir.path().join("body.json");
        let mut f = std::fs::File::create(&json_file).unwrap();
        writeln!(f, r#"{{"ttl": "1h", "policies": ["a"]}}"#).unwrap();
        let bad_file = dir.path().join("bad.json");
        std::fs::write(&bad_file, "{\n  \"a\": 1,\n}").unwrap();

        let v = value_file.display().to_string();
        let j = json_file.display().to_string();
        let got = parse_kv(
            &args(&[&format!("cert=@{v}"), &format!("@{j}"), "policies=b"]),
            &mut &b""[..],
        )
        .unwrap();
        // File values keep their newline; a repeated key after JSON appends to its array.
        assert_eq!(
            Value::Object(got),
            json!({"cert": "line1\nline2\n", "ttl": "1h", "policies": ["a", "b"]})
        );

        let missing = dir.path().join("missing.txt").display().to_string();
        let err = parse_kv(&args(&[&format!("k=@{missing}")]), &mut &b""[..]).unwrap_err();
        assert!(matches!(err, KvError::File { .. }), "{err:?}");
        assert!(err.to_string().contains(&missing), "{err}");
        let err = parse_kv(&args(&[&format!("@{missing}")]), &mut &b""[..]).unwrap_err();
        assert!(err.to_string().contains(&missing), "{err}");

        let b = bad_file.display().to_string();
        let err = parse_kv(&args(&[&format!("@{b}")]), &mut &b""[..]).unwrap_err();
        assert!(err.to_string().contains(&b), "{err}");
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn kv_bad_args() {
        let err = parse_kv(&args(&["a=1", "oops"]), &mut &b""[..]).unwrap_err();
        assert!(
            matches!(&err, KvError::NotKeyValue(a) if a == "oops"),
            "{err:?}"
        );
        assert!(err.to_string().contains("\"oops\""), "{err}");
        assert!(matches!(
            parse_kv(&args(&["=v"]), &mut &b""[..]),
            Err(KvError::EmptyKey(_))
        ));
    }

    #[test]
    fn redact_table() {
        let cases = [
            ("unlock --key ABC", "unlock --key ***"),
            ("unlock ns1 -key ABC; pwd", "unlock ns1 -key ***; pwd"),
            ("unlock --key=ABC", "unlock --key=***"),
            ("login --token s.abc", "login --token ***"),
            ("login -token=s.abc", "login -token=***"),
            (
                "write auth/userpass/users/bob password=hunter2 policies=x",
                "write auth/userpass/users/bob password=*** policies=x",
            ),
            (
                "login userpass username=bob password='p w'",
                "login userpass username=bob password=***",
            ),
            ("write x PassWord=\"a b\"  ttl=1h", "write x PassWord=***  ttl=1h"),
            ("write x 'secret_id=a b' y=1", "write x secret_id=*** y=1"),
            (
                "write x token=t client_secret=c private_key=k secret=s unlock_key=u key=k",
                "write x token=*** client_secret=*** private_key=*** secret=*** unlock_key=*** key=***",
            ),
            ("write x password='unclosed", "write x password=***"),
            ("unlock --key", "unlock --key"),
            ("unlock --key; ABC", "unlock --key; ABC"),
            ("read  secret/data/key   # keep  spacing", "read  secret/data/key   # keep  spacing"),
            ("write x keys=1 monkey=2", "write x keys=1 monkey=2"),
            ("ns create 'a b' x=\"y\"", "ns create 'a b' x=\"y\""),
            ("", ""),
        ];
        for (line, want) in cases {
            assert_eq!(redact_line(line), want, "{line:?}");
        }
    }

    fn single_quote(w: &str) -> String {
        format!("'{}'", w.replace('\'', r"'\''"))
    }

    proptest! {
        #[test]
        fn quoted_words_round_trip(ws in prop::collection::vec(any::<String>(), 0..6)) {
            let want = if ws.is_empty() { vec![] } else { vec![ws.clone()] };
            let line = ws.iter().map(|w| single_quote(w)).collect::<Vec<_>>().join(" ");
            prop_assert_eq!(split_line(&line), Ok(want.clone()));
            let line = ws.iter().map(|w| quote_word(w)).collect::<Vec<_>>().join(" ");
            prop_assert_eq!(split_line(&line), Ok(want));
        }

        #[test]
        fn lexing_never_panics(line in any::<String>()) {
            let _ = split_line(&line);
            let _ = split_for_completion(&line);
            prop_assert!(last_word_start(&line) <= line.len());
            let _ = redact_line(&line);
        }
    }
}
