//! Ranking completion candidates with nucleo: fzf syntax, smart case, path-aware; an
//! exact prefix before a fuzzy match, recently used before the rest, shallow before deep.

use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use nucleo::{Config, Matcher, Utf32String};

/// A set of candidates ranked against a query that grows one keystroke at a time.
/// When the new query extends the previous one, only the previous matches are scored
/// again, which keeps a keystroke over 100,000 candidates within a few milliseconds.
pub struct Ranker {
    /// One matcher per worker thread (a Matcher holds scratch space).
    matchers: Vec<Matcher>,
    texts: Vec<String>,
    haystacks: Vec<Utf32String>,
    depths: Vec<u16>,
    recent: Vec<u32>,
    last_query: Option<String>,
    survivors: Vec<u32>,
}

/// The rank of a candidate that was not recently used.
const NOT_RECENT: u32 = u32::MAX;

/// From this many candidates on, scoring is spread over the cores.
const PARALLEL_FROM: usize = 20_000;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

impl Ranker {
    /// Candidates, and the recently used ones (most recent first).
    pub fn new(candidates: Vec<String>, recent: &[String]) -> Ranker {
        let haystacks = candidates
            .iter()
            .map(|c| Utf32String::from(c.as_str()))
            .collect();
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
            haystacks,
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
        let haystacks = &self.haystacks;
        let score_chunk = |chunk: &[u32], matcher: &mut Matcher| -> Vec<(u32, u32)> {
            chunk
                .iter()
                .filter_map(
                    |&i| match pattern.score(haystacks[i as usize].slice(..), matcher) {
                        Some(score) => Some((i, score)),
                        None if query.is_empty() => Some((i, 0)),
                        None => None,
                    },
                )
                .collect()
        };
        // Long lists are scored on every core; short ones are not worth a thread.
        let mut scored: Vec<(u32, u32)> =
            if self.survivors.len() < PARALLEL_FROM || self.matchers.len() < 2 {
                score_chunk(&self.survivors, &mut self.matchers[0])
            } else {
                let size = self.survivors.len().div_ceil(self.matchers.len());
                std::thread::scope(|scope| {
                    let handles: Vec<_> = self
                        .survivors
                        .chunks(size)
                        .zip(self.matchers.iter_mut())
                        .map(|(chunk, matcher)| scope.spawn(move || score_chunk(chunk, matcher)))
                        .collect();
                    handles
                        .into_iter()
                        .flat_map(|h| h.join().unwrap_or_default())
                        .collect()
                })
            };
        self.survivors = scored.iter().map(|(i, _)| *i).collect();
        self.last_query = Some(query.to_string());
        let is_prefix = |text: &str| {
            if smart_lower {
                starts_with_smart(text, prefix)
            } else {
                text.starts_with(prefix)
            }
        };
        let key = |&(i, score): &(u32, u32)| {
            let text = &self.texts[i as usize];
            (
                !is_prefix(text),
                self.recent[i as usize],
                self.depths[i as usize],
                std::cmp::Reverse(score),
                text.len(),
            )
        };
        // Only the best `limit` need a full order.
        if scored.len() > limit {
            scored.select_nth_unstable_by_key(limit, key);
            scored.truncate(limit);
        }
        scored.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| self.texts[a.0 as usize].cmp(&self.texts[b.0 as usize]))
        });
        scored
            .into_iter()
            .map(|(i, _)| self.texts[i as usize].as_str())
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

    #[test]
    fn empty_query_offers_everything_in_order() {
        let got = rank(s(&["b/c/", "b/", "a/"]), &[], "", 10);
        assert_eq!(got, s(&["a/", "b/", "b/c/"]));
    }
}
