//! Ranking completion candidates with nucleo: fzf syntax, smart case, path-aware; an
//! exact prefix before a fuzzy match, recently used before the rest, shallow before deep.

use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use nucleo::{Config, Matcher, Utf32Str};

/// A set of candidates ranked against a query that grows one keystroke at a time.
///
/// Scoring every candidate with nucleo costs a few hundred nanoseconds each: too much for
/// 100,000 of them in 5 ms on two cores. So a plain query (no fzf syntax) is matched in two
/// stages: every candidate is tested with a byte-level subsequence match (what nucleo's
/// fuzzy atom matches, for ASCII) that also gives a cheap estimate of the match's quality;
/// only the best few hundred by that estimate are scored by nucleo and ordered. Queries
/// with fzf syntax, and candidates that are not ASCII (nucleo normalises `é` to `e`), go
/// to nucleo whole. When the new query extends the previous one, only the previous
/// matches are tried again.
pub struct Ranker {
    /// One matcher per worker thread (a Matcher holds scratch space).
    matchers: Vec<Matcher>,
    texts: Vec<String>,
    /// Whether each candidate is all ASCII (the byte-level match applies).
    ascii: Vec<bool>,
    /// Every candidate in lower case, one after another (`folded_at` marks where each
    /// starts): what a query without capitals is matched against, byte by byte.
    folded: Vec<u8>,
    folded_at: Vec<u32>,
    depths: Vec<u16>,
    recent: Vec<u32>,
    last_query: Option<String>,
    survivors: Vec<u32>,
}

/// The rank of a candidate that was not recently used.
const NOT_RECENT: u32 = u32::MAX;

/// From this many candidates on, matching is spread over the cores.
const PARALLEL_FROM: usize = 20_000;

/// How many of the cheaply estimated best are scored by nucleo, per result asked.
const SCORED_PER_RESULT: usize = 4;

/// At least this many are scored by nucleo (a short list is scored whole).
const SCORED_AT_LEAST: usize = 512;

/// Run `f` over `items`, on every core (one matcher each) when there are many; the
/// results in order.
fn spread<T: Send>(
    items: &[u32],
    matchers: &mut [Matcher],
    f: impl Fn(&[u32], &mut Matcher) -> Vec<T> + Sync,
) -> Vec<T> {
    if items.len() < PARALLEL_FROM || matchers.len() < 2 {
        return match matchers.first_mut() {
            Some(m) => f(items, m),
            None => Vec::new(),
        };
    }
    let size = items.len().div_ceil(matchers.len());
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(size)
            .zip(matchers.iter_mut())
            .map(|(chunk, matcher)| scope.spawn(move || f(chunk, matcher)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// A plain fuzzy query: ASCII, no whitespace and none of fzf's operators.
fn is_plain(query: &str) -> bool {
    query.is_ascii()
        && !query
            .chars()
            .any(|c| c.is_ascii_whitespace() || matches!(c, '^' | '$' | '\'' | '!' | '\\'))
}

/// How good a byte-level match looks, lower better: (not contiguous, not at a word
/// boundary, the span it covers).
type Estimate = (bool, bool, u32);

/// What orders before the score: (not a prefix, how recently used, depth).
type Head = (bool, u32, u16);

/// The byte-level fuzzy match of `query` in `text` (both ASCII): `None` when the query's
/// bytes do not appear in order; else an estimate of the match's quality, lower better:
/// (not contiguous, not starting at a word boundary, the span it covers). The span is the
/// shortest that ends where the leftmost match ends, as fzf's first algorithm finds it.
///
/// With a query without capitals, `text` is the candidate folded to lower case already
/// (once, when the ranker is built), so each byte is one compare.
fn quick_match(text: &[u8], query: &[u8]) -> Option<Estimate> {
    if query.is_empty() {
        return Some((false, false, 0));
    }
    // Forward: the leftmost end of a match, each query byte found with a slice search.
    let mut at = 0;
    let mut end = 0;
    for &q in query {
        let found = text.get(at..)?.iter().position(|&c| c == q)?;
        end = at + found;
        at = end + 1;
    }
    // Walk back from the end for the latest start: the tightest span.
    let mut qj = query.len();
    let mut start = end;
    for i in (0..=end).rev() {
        if text[i] == query[qj - 1] {
            qj -= 1;
            if qj == 0 {
                start = i;
                break;
            }
        }
    }
    let span = (end - start + 1) as u32;
    let boundary = start == 0 || matches!(text[start - 1], b'/' | b'-' | b'_' | b'.' | b' ');
    Some((span as usize != query.len(), !boundary, span))
}

impl Ranker {
    /// Candidates, and the recently used ones (most recent first).
    pub fn new(candidates: Vec<String>, recent: &[String]) -> Ranker {
        let ascii = candidates.iter().map(|c| c.is_ascii()).collect();
        let mut folded = Vec::with_capacity(candidates.iter().map(String::len).sum());
        let mut folded_at = Vec::with_capacity(candidates.len() + 1);
        for c in &candidates {
            folded_at.push(folded.len() as u32);
            folded.extend(c.bytes().map(|b| b.to_ascii_lowercase()));
        }
        folded_at.push(folded.len() as u32);
        let depths = candidates
            .iter()
            .map(|c| c.trim_matches('/').matches('/').count() as u16)
            .collect();
        let recent = candidates
            .iter()
            .map(|c| {
                recent
                    .iter()
                    .position(|r| r == c)
                    .map_or(NOT_RECENT, |p| p as u32)
            })
            .collect();
        Ranker {
            matchers: (0..workers())
                .map(|_| Matcher::new(Config::DEFAULT.match_paths()))
                .collect(),
            survivors: (0..candidates.len() as u32).collect(),
            texts: candidates,
            ascii,
            folded,
            folded_at,
            depths,
            recent,
            last_query: None,
        }
    }

    /// How many candidates matched the last query.
    pub fn matched(&self) -> usize {
        self.survivors.len()
    }

    /// How many candidates there are.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The candidates matching `query`, best first, at most `limit`.
    pub fn rank(&mut self, query: &str, limit: usize) -> Vec<&str> {
        let extends = self.last_query.as_deref().is_some_and(|q| {
            query.starts_with(q)
                && !q.ends_with('\\')
                && !query[q.len()..].contains([' ', '|', '!', '^', '$', '\''])
        });
        if !extends {
            self.survivors = (0..self.texts.len() as u32).collect();
        }
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let prefix = query.trim_start_matches('^');
        let smart_lower = !query.chars().any(char::is_uppercase);
        let plain = is_plain(query);
        let texts = &self.texts;
        let ascii = &self.ascii;
        let (folded, folded_at) = (&self.folded, &self.folded_at);
        let bytes_of = |i: u32| -> &[u8] {
            if smart_lower {
                let (a, b) = (folded_at[i as usize], folded_at[i as usize + 1]);
                &folded[a as usize..b as usize]
            } else {
                texts[i as usize].as_bytes()
            }
        };
        let nucleo_score = |i: u32, matcher: &mut Matcher, buf: &mut Vec<char>| -> Option<u32> {
            let hay = Utf32Str::new(&texts[i as usize], buf);
            match pattern.score(hay, matcher) {
                Some(score) => Some(score),
                None if query.is_empty() => Some(0),
                None => None,
            }
        };
        // Stage one: who matches, and (for a plain query) a cheap estimate of how well.
        let qbytes = query.as_bytes();
        let found: Vec<(u32, Estimate, Option<u32>)> =
            spread(&self.survivors, &mut self.matchers, |chunk, m| {
                let mut buf = Vec::new();
                chunk
                    .iter()
                    .filter_map(|&i| {
                        if plain && ascii[i as usize] {
                            quick_match(bytes_of(i), qbytes).map(|q| (i, q, None))
                        } else {
                            // fzf syntax, or a candidate nucleo normalises: nucleo decides.
                            nucleo_score(i, m, &mut buf).map(|s| (i, (false, false, 0), Some(s)))
                        }
                    })
                    .collect()
            });
        self.survivors = found.iter().map(|(i, _, _)| *i).collect();
        self.last_query = Some(query.to_string());
        // What orders before the score, worked out once per match (not per comparison):
        // a prefix first, then the recently used, then the shallow.
        let pbytes = prefix.as_bytes();
        let is_prefix = |i: u32| {
            let text = &texts[i as usize];
            if smart_lower && ascii[i as usize] {
                bytes_of(i).starts_with(pbytes)
            } else if smart_lower {
                starts_with_smart(text, prefix)
            } else {
                text.starts_with(prefix)
            }
        };
        let (recent, depths) = (&self.recent, &self.depths);
        let head = |i: u32| (!is_prefix(i), recent[i as usize], depths[i as usize]);
        let mut found: Vec<(Head, Estimate, u32, Option<u32>)> = found
            .into_iter()
            .map(|(i, q, s)| (head(i), q, i, s))
            .collect();
        // Stage two: the best few hundred by the estimate are scored by nucleo.
        let keep = limit.saturating_mul(SCORED_PER_RESULT).max(SCORED_AT_LEAST);
        if found.len() > keep {
            found.select_nth_unstable_by_key(keep, |(h, q, i, _)| {
                (*h, *q, texts[*i as usize].len())
            });
            found.truncate(keep);
        }
        let matcher = &mut self.matchers[0];
        let mut buf = Vec::new();
        let mut scored: Vec<(Head, u32, u32)> = found
            .into_iter()
            .filter_map(|(h, _, i, s)| match s {
                Some(s) => Some((h, i, s)),
                None => nucleo_score(i, matcher, &mut buf).map(|s| (h, i, s)),
            })
            .collect();
        let key = |&(h, i, score): &(Head, u32, u32)| {
            (h, std::cmp::Reverse(score), texts[i as usize].len())
        };
        // Only the best `limit` need a full order.
        if scored.len() > limit {
            scored.select_nth_unstable_by_key(limit, key);
            scored.truncate(limit);
        }
        scored.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| texts[a.1 as usize].cmp(&texts[b.1 as usize]))
        });
        scored
            .into_iter()
            .map(|(_, i, _)| texts[i as usize].as_str())
            .collect()
    }
}

/// Whether `text` starts with `prefix`, ignoring ASCII case when `prefix` has no capital
/// (smart case). Never panics on a multi-byte character at the cut.
pub fn starts_with_smart(text: &str, prefix: &str) -> bool {
    if prefix.chars().any(char::is_uppercase) {
        return text.starts_with(prefix);
    }
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Rank `candidates` against `query` once (short lists).
pub fn rank(candidates: Vec<String>, recent: &[String], query: &str, limit: usize) -> Vec<String> {
    let mut r = Ranker::new(candidates, recent);
    r.rank(query, limit)
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn prefix_before_fuzzy() {
        let got = rank(s(&["xpayments/", "payments/", "pay/"]), &[], "pay", 10);
        assert_eq!(got, s(&["pay/", "payments/", "xpayments/"]));
    }

    #[test]
    fn shallow_before_deep() {
        let got = rank(
            s(&["acme/web/prod/", "acme/prod/", "prod/"]),
            &[],
            "prod",
            10,
        );
        assert_eq!(got[0], "prod/");
        let got = rank(s(&["a/b/prod/", "a/prod/"]), &[], "prod", 10);
        assert_eq!(got, s(&["a/prod/", "a/b/prod/"]));
    }

    #[test]
    fn recently_used_first_among_equals() {
        let got = rank(
            s(&["acme/prod/", "globex/prod/"]),
            &s(&["globex/prod/"]),
            "prod",
            10,
        );
        assert_eq!(got, s(&["globex/prod/", "acme/prod/"]));
    }

    #[test]
    fn fuzzy_jump_finds_deep_namespaces() {
        let got = rank(
            s(&["acme/", "acme/payments/", "acme/web/"]),
            &[],
            "pymnts",
            10,
        );
        assert_eq!(got, s(&["acme/payments/"]));
    }

    #[test]
    fn smart_case_and_fzf_syntax() {
        let c = s(&["Prod/", "prod/", "staging/"]);
        assert_eq!(rank(c.clone(), &[], "P", 10), s(&["Prod/"]));
        assert_eq!(rank(c.clone(), &[], "!prod", 10), s(&["staging/"]));
        assert_eq!(rank(c, &[], "^st", 10), s(&["staging/"]));
    }

    #[test]
    fn incremental_ranking_matches_a_fresh_one() {
        let c: Vec<String> = (0..2000)
            .map(|i| format!("tenant{i}/team{}/", i % 7))
            .collect();
        let mut r = Ranker::new(c.clone(), &[]);
        let _ = r.rank("t", 50);
        let _ = r.rank("te", 50);
        let inc: Vec<String> = r.rank("te1", 50).into_iter().map(str::to_string).collect();
        assert_eq!(inc, rank(c, &[], "te1", 50));
    }

    #[test]
    fn a_multi_byte_character_at_the_prefix_cut_does_not_panic() {
        // "ae" matches "aéx" once normalised; the prefix check must not cut inside "é".
        let got = rank(s(&["aéx/", "ae/"]), &[], "ae", 10);
        assert_eq!(got.first().map(String::as_str), Some("ae/"));
        assert!(!starts_with_smart("aéx", "ae"));
        assert!(starts_with_smart("ACME/", "ac"));
        assert!(!starts_with_smart("acme/", "AC"));
    }

    proptest::proptest! {
        /// The byte-level match decides exactly as nucleo's fuzzy atom does, for a plain
        /// ASCII query over ASCII candidates: no candidate is lost or gained by it.
        #[test]
        fn the_quick_match_is_nucleos_match(
            text in "[a-zA-Z0-9/_.-]{0,24}",
            query in "[a-zA-Z0-9/_.-]{1,5}",
        ) {
            let pattern = Pattern::parse(&query, CaseMatching::Smart, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
            let mut buf = Vec::new();
            let nucleo = pattern.score(Utf32Str::new(&text, &mut buf), &mut matcher).is_some();
            let fold = !query.chars().any(char::is_uppercase);
            let quick = if fold {
                quick_match(text.to_ascii_lowercase().as_bytes(), query.as_bytes()).is_some()
            } else {
                quick_match(text.as_bytes(), query.as_bytes()).is_some()
            };
            proptest::prop_assert_eq!(quick, nucleo, "{:?} in {:?}", query, text);
        }
    }

    #[test]
    fn the_two_stages_keep_the_best_of_a_large_list() {
        // 20,000 candidates, most of which match: the best ones by nucleo's score are
        // still the ones returned, in nucleo's order.
        let c: Vec<String> = (0..20_000)
            .map(|i| {
                format!(
                    "tenant-{:04}/team-{:02}-{}/",
                    i / 20,
                    i % 20,
                    ["web", "data"][i % 2]
                )
            })
            .collect();
        let got = rank(c.clone(), &[], "team-07-d", 20);
        assert_eq!(got.len(), 20);
        assert!(got.iter().all(|g| g.contains("team-07-data")), "{got:?}");
    }

    #[test]
    fn empty_query_offers_everything_in_order() {
        let got = rank(s(&["b/c/", "b/", "a/"]), &[], "", 10);
        assert_eq!(got, s(&["a/", "b/", "b/c/"]));
    }
}
