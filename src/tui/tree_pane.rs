//! The namespace tree pane: loaded lazily (one LIST when a namespace is expanded, one
//! listing of the subtree for "expand all"), the state marks of the server's `key_info`
//! (locked, being deleted, sealed), and what a locked or sealed namespace covers below it.
//! The filter (`/`) ranks every namespace known, listed here or walked by the completion
//! cache, and jumps to the one chosen.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::engine::fuzzy::Ranker;
use crate::engine::nspath::NsPath;
use crate::engine::reader::Child;

/// What is known of one namespace in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Its API is locked (as its parent's listing says).
    pub locked: bool,
    /// It is being deleted (`tainted`).
    pub tainted: bool,
    /// It is sealed (None: the listing does not say).
    pub sealed: Option<bool>,
    /// Its children are shown.
    pub expanded: bool,
    /// Its children, once listed (absolute paths, sorted).
    pub children: Option<Vec<NsPath>>,
    /// A LIST is in flight.
    pub loading: bool,
    /// Why the last LIST failed.
    pub error: Option<String>,
    /// Known only from the index (its state is not yet the server's): shown dim until its
    /// parent's listing arrives.
    pub provisional: bool,
    /// Its children are the index's, not a listing's: opening it lists them.
    pub children_from_index: bool,
    /// Its path, shared with the rows (a row costs a count, not a copy of the path).
    path: Arc<NsPath>,
}

/// One row of the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A namespace, at a depth below the tree's top.
    Node {
        /// Its path.
        path: Arc<NsPath>,
        /// Indentation level (the top is 0).
        depth: usize,
        /// The nearest namespace above it that is locked (its API is cut off too).
        locked_by: Option<Arc<NsPath>>,
        /// The nearest namespace above it that is sealed.
        sealed_by: Option<Arc<NsPath>>,
    },
    /// Children being listed.
    Loading {
        /// Indentation level.
        depth: usize,
    },
    /// Children that could not be listed.
    Error {
        /// Indentation level.
        depth: usize,
        /// Why.
        message: String,
    },
}

/// The tree pane's state.
#[derive(Debug, Clone)]
pub struct TreePane {
    /// The namespace at the top (the root, or home when the root cannot be listed).
    pub top: NsPath,
    /// What is known, by absolute path.
    nodes: BTreeMap<NsPath, Node>,
    /// The selected namespace.
    pub selected: NsPath,
    /// The first row shown.
    pub offset: usize,
    /// The rows, built once per change: a frame and a key ask for them several times, and
    /// with 10,000 namespaces open building them is most of a frame.
    rows: RefCell<Option<Arc<Vec<Row>>>>,
}

impl TreePane {
    /// A tree whose top is `top`, expanded, not listed yet.
    pub fn new(top: NsPath) -> TreePane {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            top.clone(),
            Node {
                expanded: true,
                path: Arc::new(top.clone()),
                ..Node::default()
            },
        );
        TreePane {
            selected: top.clone(),
            top,
            nodes,
            offset: 0,
            rows: RefCell::new(None),
        }
    }

    /// The rows, depth first.
    pub fn rows(&self) -> Arc<Vec<Row>> {
        if let Some(rows) = self.rows.borrow().as_ref() {
            return rows.clone();
        }
        let mut rows = Vec::new();
        self.push_rows(&self.top, 0, None, None, &mut rows);
        let rows = Arc::new(rows);
        *self.rows.borrow_mut() = Some(rows.clone());
        rows
    }

    fn changed(&mut self) {
        *self.rows.get_mut() = None;
    }

    /// `path`'s own rows changed (it was expanded, collapsed or listed): only they are
    /// built again and spliced in — a key on a tree of 10,000 namespaces costs the rows
    /// below one namespace, not all of them.
    fn respliced(&mut self, path: &NsPath) {
        let Some(mut rows) = self.rows.get_mut().take() else {
            return;
        };
        let at = rows
            .iter()
            .position(|r| matches!(r, Row::Node { path: p, .. } if **p == *path));
        let Some(at) = at else {
            // Not on show: the next look builds everything.
            return;
        };
        let (depth, locked_by, sealed_by) = match &rows[at] {
            Row::Node {
                depth,
                locked_by,
                sealed_by,
                ..
            } => (*depth, locked_by.clone(), sealed_by.clone()),
            _ => return,
        };
        let end = rows[at + 1..]
            .iter()
            .position(|r| row_depth(r) <= depth)
            .map_or(rows.len(), |k| at + 1 + k);
        let mut fresh = Vec::new();
        self.push_rows(
            path,
            depth,
            locked_by.as_ref(),
            sealed_by.as_ref(),
            &mut fresh,
        );
        Arc::make_mut(&mut rows).splice(at..end, fresh);
        *self.rows.get_mut() = Some(rows);
    }

    /// The node at `path`, made (knowing its path) if it is not known yet.
    fn entry(&mut self, path: &NsPath) -> &mut Node {
        self.nodes.entry(path.clone()).or_insert_with(|| Node {
            path: Arc::new(path.clone()),
            ..Node::default()
        })
    }

    fn push_rows(
        &self,
        path: &NsPath,
        depth: usize,
        locked_by: Option<&Arc<NsPath>>,
        sealed_by: Option<&Arc<NsPath>>,
        rows: &mut Vec<Row>,
    ) {
        let Some(node) = self.nodes.get(path) else {
            rows.push(Row::Node {
                path: Arc::new(path.clone()),
                depth,
                locked_by: locked_by.cloned(),
                sealed_by: sealed_by.cloned(),
            });
            return;
        };
        rows.push(Row::Node {
            path: node.path.clone(),
            depth,
            locked_by: locked_by.cloned(),
            sealed_by: sealed_by.cloned(),
        });
        if !node.expanded {
            return;
        }
        if let Some(message) = &node.error {
            rows.push(Row::Error {
                depth: depth + 1,
                message: message.clone(),
            });
        }
        // What covers the children: the nearest locked (sealed) namespace, this one first.
        let locked_below = if node.locked {
            Some(&node.path)
        } else {
            locked_by
        };
        let sealed_below = if node.sealed == Some(true) {
            Some(&node.path)
        } else {
            sealed_by
        };
        match &node.children {
            Some(children) => {
                for c in children {
                    self.push_rows(c, depth + 1, locked_below, sealed_below, rows);
                }
            }
            None if node.loading => rows.push(Row::Loading { depth: depth + 1 }),
            None if node.locked && node.error.is_none() => rows.push(Row::Error {
                depth: depth + 1,
                message: "locked".into(),
            }),
            None if node.sealed == Some(true) && node.error.is_none() => rows.push(Row::Error {
                depth: depth + 1,
                message: "sealed".into(),
            }),
            None => {}
        }
    }

    /// The node at `path`, if known.
    pub fn node(&self, path: &NsPath) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every namespace the tree knows, sorted.
    pub fn known(&self) -> impl Iterator<Item = &NsPath> {
        self.nodes.keys()
    }

    /// The namespaces being listed whose children are not known yet.
    pub fn waiting(&self) -> Vec<NsPath> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.loading && n.children.is_none())
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Mark `path` as being listed.
    pub fn mark_loading(&mut self, path: &NsPath) {
        let node = self.entry(path);
        node.loading = true;
        self.respliced(path);
    }

    /// The answer of a LIST of `path`: child names (`a/` or `a`) with their lock state.
    pub fn set_children(&mut self, path: &NsPath, result: Result<Vec<(String, bool)>, String>) {
        self.set_listing(
            path,
            result.map(|l| l.into_iter().map(Child::from).collect()),
        );
    }

    /// The answer of a LIST of `path`: its children and their state, or why it failed
    /// (what was listed before stays, under the error).
    pub fn set_listing(&mut self, path: &NsPath, result: Result<Vec<Child>, String>) {
        match result {
            Ok(list) => {
                let mut children: Vec<NsPath> = Vec::with_capacity(list.len());
                for c in list {
                    let name = c.name.trim_end_matches('/');
                    if name.is_empty() || name.contains('/') {
                        continue;
                    }
                    let child = path.child(name);
                    let node = self.entry(&child);
                    node.locked = c.locked;
                    node.tainted = c.tainted;
                    node.sealed = c.sealed;
                    node.provisional = false;
                    children.push(child);
                }
                children.sort();
                let node = self.entry(path);
                node.children = Some(children);
                node.children_from_index = false;
                node.loading = false;
                node.error = None;
            }
            Err(e) => {
                let node = self.entry(path);
                node.loading = false;
                node.error = Some(e);
            }
        }
        self.respliced(path);
    }

    /// What the index knows below `root` (absolute paths), shown at once while the
    /// server is asked: each namespace of it not listed yet gets its children from it,
    /// marked provisional (their state is not known) until its own listing replaces them.
    /// `open`: expand them too (for "expand all"). A namespace already listed keeps what
    /// the server said.
    pub fn set_known(&mut self, root: &NsPath, below: &[NsPath], open: bool) {
        let mut by_parent: BTreeMap<NsPath, Vec<NsPath>> = BTreeMap::new();
        for path in below {
            let Some(parent) = path.parent() else {
                continue;
            };
            if path == root || !path.starts_with(root) {
                continue;
            }
            if open {
                by_parent.entry(path.clone()).or_default();
            }
            by_parent.entry(parent).or_default().push(path.clone());
        }
        let mut any = false;
        for (parent, mut children) in by_parent {
            // Only namespaces the index shows a way to: the parent of each is below root.
            if !parent.starts_with(root) {
                continue;
            }
            let listed = self
                .nodes
                .get(&parent)
                .is_some_and(|n| n.children.is_some() && !n.children_from_index);
            if !listed {
                for c in &children {
                    if !self.nodes.contains_key(c) {
                        self.entry(c).provisional = true;
                    }
                }
                children.sort();
                let node = self.entry(&parent);
                node.children = Some(children);
                node.children_from_index = true;
                any = true;
            }
            if open {
                self.entry(&parent).expanded = true;
                any = true;
            }
        }
        if any {
            self.changed();
        }
    }

    /// The answer of a walk of the subtree of `root`: every namespace below it (absolute)
    /// with its state, and those whose children could not be listed. Each namespace of the
    /// subtree gets its children from it and is expanded; one the walk could not look into
    /// (locked, refused) keeps what was known and says why.
    pub fn set_subtree(
        &mut self,
        root: &NsPath,
        entries: Vec<(NsPath, Child)>,
        unlisted: Vec<(NsPath, String)>,
    ) {
        let mut by_parent: BTreeMap<NsPath, Vec<Child>> = BTreeMap::new();
        by_parent.insert(root.clone(), Vec::new());
        let mut locked = BTreeSet::new();
        for (path, child) in entries {
            let Some(parent) = path.parent() else {
                continue;
            };
            if !path.starts_with(root) || path == *root {
                continue;
            }
            if child.locked {
                locked.insert(path.clone());
            }
            by_parent.entry(path.clone()).or_default();
            by_parent.entry(parent).or_default().push(child);
        }
        let unlisted: BTreeMap<NsPath, String> = unlisted.into_iter().collect();
        for (parent, children) in by_parent {
            if let Some(why) = unlisted.get(&parent) {
                self.set_listing(&parent, Err(why.clone()));
            } else if children.is_empty() && locked.contains(&parent) {
                // Nothing was seen below a locked namespace: not "no children".
            } else {
                self.set_listing(&parent, Ok(children));
            }
            self.entry(&parent).expanded = true;
        }
        self.changed();
    }

    /// Expand `root` and every namespace below it whose children are known; returns how
    /// many were opened.
    pub fn expand_known(&mut self, root: &NsPath) -> usize {
        let mut opened = 0;
        for (path, node) in self.nodes.range_mut(root.clone()..) {
            if !path.starts_with(root) {
                break;
            }
            if node.children.as_ref().is_some_and(|c| !c.is_empty()) && !node.expanded {
                node.expanded = true;
                opened += 1;
            }
        }
        self.entry(root).expanded = true;
        self.changed();
        opened
    }

    /// Expand `path`; returns it when it must be listed first.
    pub fn expand(&mut self, path: &NsPath) -> Option<NsPath> {
        let node = self.entry(path);
        node.expanded = true;
        // A locked or sealed namespace refuses every request: nothing to ask.
        let closed = node.locked || node.sealed == Some(true);
        let load =
            (node.children.is_none() || node.children_from_index) && !node.loading && !closed;
        if load {
            node.loading = true;
        }
        self.respliced(path);
        load.then(|| path.clone())
    }

    /// Collapse `path`.
    pub fn collapse(&mut self, path: &NsPath) {
        if let Some(node) = self.nodes.get_mut(path) {
            node.expanded = false;
        }
        self.respliced(path);
    }

    /// Expand every namespace from the top down to `path` so that it and its children
    /// show, and select it. Returns the namespaces to list.
    pub fn reveal(&mut self, path: &NsPath) -> Vec<NsPath> {
        if !path.starts_with(&self.top) {
            return Vec::new();
        }
        let mut load = Vec::new();
        for a in path.ancestors() {
            if a.starts_with(&self.top) {
                load.extend(self.expand(&a));
            }
        }
        self.selected = path.clone();
        load
    }

    /// The namespaces shown expanded whose children are known (to list again after a change).
    pub fn expanded(&self) -> Vec<NsPath> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.expanded && (n.children.is_some() || n.error.is_some()))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The row index of the selection.
    pub fn selected_row(&self) -> usize {
        self.row_of(&self.selected).unwrap_or(0)
    }

    fn row_of(&self, path: &NsPath) -> Option<usize> {
        self.rows()
            .iter()
            .position(|r| matches!(r, Row::Node { path: p, .. } if **p == *path))
    }

    /// The nearest locked namespace at or above `path` that the tree knows.
    pub fn locked_cover(&self, path: &NsPath) -> Option<NsPath> {
        let mut all = path.ancestors();
        all.push(path.clone());
        all.into_iter()
            .rev()
            .find(|a| self.nodes.get(a).is_some_and(|n| n.locked))
    }

    /// Move the selection by `delta` namespaces.
    pub fn move_by(&mut self, delta: isize) {
        let rows = self.rows();
        let nodes: Vec<&Arc<NsPath>> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Node { path, .. } => Some(path),
                _ => None,
            })
            .collect();
        if nodes.is_empty() {
            return;
        }
        let at = nodes
            .iter()
            .position(|p| ***p == self.selected)
            .unwrap_or(0);
        let to = at
            .saturating_add_signed(delta)
            .min(nodes.len().saturating_sub(1));
        self.selected = NsPath::clone(nodes[to]);
    }

    /// Select the first or the last namespace.
    pub fn select_edge(&mut self, last: bool) {
        let rows = self.rows();
        let mut it = rows.iter().filter_map(|r| match r {
            Row::Node { path, .. } => Some(path),
            _ => None,
        });
        let pick = if last { it.next_back() } else { it.next() };
        if let Some(p) = pick {
            self.selected = NsPath::clone(p);
        }
    }

    /// Keep the selection within a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.offset = visible_offset(self.offset, self.selected_row(), height);
    }
}

fn row_depth(r: &Row) -> usize {
    match r {
        Row::Node { depth, .. } | Row::Loading { depth } | Row::Error { depth, .. } => *depth,
    }
}

/// At most this many matches are shown by the filter.
pub const FILTER_LIMIT: usize = 200;

/// `/` in the tree: a fuzzy filter over every namespace known, and the match chosen.
pub struct TreeFilter {
    /// What is typed.
    pub query: String,
    /// The matches, best first.
    pub matches: Vec<NsPath>,
    /// The chosen match.
    pub selected: usize,
    /// How many namespaces it ranks.
    pub known: usize,
    /// The walk of the whole tree is still on its way (it joins when it arrives).
    pub walking: bool,
    ranker: Ranker,
}

impl std::fmt::Debug for TreeFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeFilter")
            .field("query", &self.query)
            .field("matches", &self.matches.len())
            .field("selected", &self.selected)
            .finish()
    }
}

impl TreeFilter {
    /// A filter over `known` (absolute paths; the top itself is left out), recently used
    /// ones first (`a/b/` form).
    pub fn new(top: &NsPath, known: impl IntoIterator<Item = NsPath>, recent: &[String]) -> Self {
        let set: BTreeSet<NsPath> = known
            .into_iter()
            .filter(|p| p.starts_with(top) && p != top)
            .collect();
        let texts: Vec<String> = set.iter().map(NsPath::header).collect();
        let mut f = TreeFilter {
            query: String::new(),
            matches: Vec::new(),
            selected: 0,
            known: texts.len(),
            walking: false,
            ranker: Ranker::new(texts, recent),
        };
        f.rank();
        f
    }

    fn rank(&mut self) {
        self.matches = self
            .ranker
            .rank(&self.query, FILTER_LIMIT)
            .into_iter()
            .filter_map(|t| NsPath::parse(t).ok())
            .collect();
        self.selected = 0;
    }

    /// Type a character of the query.
    pub fn push(&mut self, c: char) {
        self.query.push(c);
        self.rank();
    }

    /// Delete the last character of the query.
    pub fn pop(&mut self) {
        self.query.pop();
        self.rank();
    }

    /// Move the choice by `delta`.
    pub fn move_by(&mut self, delta: isize) {
        let n = self.matches.len();
        if n > 0 {
            self.selected = self.selected.saturating_add_signed(delta).min(n - 1);
        }
    }

    /// The chosen match.
    pub fn chosen(&self) -> Option<&NsPath> {
        self.matches.get(self.selected)
    }
}

/// The first row to show so that `selected` is within `height` rows, moving as little as
/// possible from `offset`.
pub fn visible_offset(offset: usize, selected: usize, height: usize) -> usize {
    if height == 0 {
        return offset;
    }
    if selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NsPath {
        NsPath::parse(s).unwrap()
    }

    fn child(name: &str, locked: bool) -> Child {
        Child {
            name: name.into(),
            locked,
            ..Child::default()
        }
    }

    #[test]
    fn lazy_rows() {
        let mut t = TreePane::new(NsPath::root());
        t.mark_loading(&NsPath::root());
        assert_eq!(t.rows().len(), 2, "top and loading");
        t.set_children(
            &NsPath::root(),
            Ok(vec![("b/".into(), false), ("a/".into(), true)]),
        );
        let rows = t.rows();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            Row::Node {
                path: Arc::new(p("a")),
                depth: 1,
                locked_by: None,
                sealed_by: None,
            }
        );
        assert!(t.node(&p("a")).unwrap().locked);
        // A locked namespace cannot be listed: expanding it asks nothing.
        assert_eq!(t.expand(&p("a")), None);
        assert_eq!(t.rows().len(), 4, "a says it is locked");
        assert_eq!(t.expand(&p("b")), Some(p("b")));
        assert_eq!(t.rows().len(), 5);
        t.set_children(&p("b"), Err("permission denied".into()));
        assert!(matches!(t.rows()[4], Row::Error { .. }));
        t.move_by(1);
        assert_eq!(t.selected, p("a"));
        t.move_by(10);
        assert_eq!(t.selected, p("b"));
    }

    #[test]
    fn reveal_expands_ancestors() {
        let mut t = TreePane::new(NsPath::root());
        t.set_children(&NsPath::root(), Ok(vec![("acme/".into(), false)]));
        let load = t.reveal(&p("acme/team/x"));
        assert_eq!(load, vec![p("acme"), p("acme/team"), p("acme/team/x")]);
        assert_eq!(t.selected, p("acme/team/x"));
    }

    /// What a locked namespace covers says so, down to the deepest known descendant.
    #[test]
    fn descendants_of_a_locked_namespace_are_covered() {
        let mut t = TreePane::new(NsPath::root());
        t.set_children(&NsPath::root(), Ok(vec![("acme/".into(), false)]));
        t.expand(&p("acme"));
        t.set_children(&p("acme"), Ok(vec![("web/".into(), false)]));
        t.expand(&p("acme/web"));
        t.set_children(&p("acme/web"), Ok(vec![("prod/".into(), false)]));
        // acme is locked afterwards: its listing in the root says so; what was listed
        // below it stays, covered.
        t.set_children(&NsPath::root(), Ok(vec![("acme/".into(), true)]));
        let covered: Vec<(String, Option<String>)> = t
            .rows()
            .iter()
            .filter_map(|r| match r {
                Row::Node {
                    path, locked_by, ..
                } => Some((path.display(), locked_by.as_ref().map(|p| p.display()))),
                _ => None,
            })
            .collect();
        assert_eq!(
            covered,
            vec![
                ("/".into(), None),
                ("acme".into(), None),
                ("acme/web".into(), Some("acme".into())),
                ("acme/web/prod".into(), Some("acme".into())),
            ]
        );
        assert_eq!(t.locked_cover(&p("acme/web/prod")), Some(p("acme")));
    }

    #[test]
    fn a_subtree_walk_fills_and_opens_everything_below() {
        let mut t = TreePane::new(NsPath::root());
        t.set_children(&NsPath::root(), Ok(vec![("acme/".into(), false)]));
        let entries = vec![
            (p("acme/a"), child("a/", false)),
            (p("acme/a/x"), child("x/", false)),
            (p("acme/b"), child("b/", true)),
            (p("acme/c"), child("c/", false)),
        ];
        t.set_subtree(
            &p("acme"),
            entries,
            vec![(p("acme/c"), "permission denied".into())],
        );
        let names: Vec<String> = t
            .rows()
            .iter()
            .map(|r| match r {
                Row::Node { path, .. } => path.display(),
                Row::Loading { .. } => "loading".into(),
                Row::Error { message, .. } => format!("! {message}"),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "/",
                "acme",
                "acme/a",
                "acme/a/x",
                "acme/b",
                "! locked",
                "acme/c",
                "! permission denied"
            ]
        );
        assert_eq!(t.node(&p("acme/a/x")).unwrap().children, Some(vec![]));
        assert_eq!(t.node(&p("acme/b")).unwrap().children, None);
    }

    fn shown(t: &TreePane) -> Vec<String> {
        t.rows()
            .iter()
            .map(|r| match r {
                Row::Node { path, .. } => {
                    let n = t.node(path);
                    let mark = if n.is_some_and(|n| n.provisional) {
                        "?"
                    } else {
                        ""
                    };
                    format!("{}{mark}", path.display())
                }
                Row::Loading { .. } => "loading".into(),
                Row::Error { message, .. } => format!("! {message}"),
            })
            .collect()
    }

    #[test]
    fn what_is_known_shows_until_the_listing_replaces_it() {
        let mut t = TreePane::new(NsPath::root());
        t.mark_loading(&NsPath::root());
        assert_eq!(t.waiting(), vec![NsPath::root()]);
        let known = [p("acme"), p("acme/web"), p("gone")];
        // Children only: the root's, provisional; acme's stay unknown.
        t.set_known(&NsPath::root(), &[p("acme"), p("gone")], false);
        assert_eq!(shown(&t), vec!["/", "acme?", "gone?"]);
        // The listing replaces them: gone is gone, new is new, neither provisional.
        t.set_children(
            &NsPath::root(),
            Ok(vec![("acme/".into(), false), ("new/".into(), true)]),
        );
        assert_eq!(shown(&t), vec!["/", "acme", "new"]);
        assert!(t.node(&p("new")).unwrap().locked);
        assert!(t.waiting().is_empty());
        // A namespace listed already keeps the server's answer.
        t.set_known(&NsPath::root(), &known, false);
        assert_eq!(shown(&t), vec!["/", "acme", "new"]);
        // Expand all from what is known: acme opens with web, provisional; opening a
        // namespace whose children are the index's still lists it.
        t.set_known(&NsPath::root(), &known, true);
        assert_eq!(shown(&t), vec!["/", "acme", "acme/web?", "new"]);
        t.collapse(&p("acme"));
        assert_eq!(t.expand(&p("acme")), Some(p("acme")));
        t.set_children(&p("acme"), Ok(vec![("api/".into(), false)]));
        assert_eq!(shown(&t), vec!["/", "acme", "acme/api", "new"]);
        assert_eq!(t.expand(&p("acme")), None);
    }

    #[test]
    fn the_filter_ranks_what_is_known_and_chooses() {
        let known = ["acme", "acme/web", "globex", "initech/legacy", "initech"].map(p);
        let mut f = TreeFilter::new(&NsPath::root(), known, &[]);
        assert_eq!(f.known, 5);
        for c in "leg".chars() {
            f.push(c);
        }
        assert_eq!(f.chosen(), Some(&p("initech/legacy")));
        f.pop();
        f.pop();
        f.pop();
        f.push('w');
        assert_eq!(f.chosen(), Some(&p("acme/web")));
        f.move_by(5);
        assert_eq!(f.selected, f.matches.len() - 1);
    }

    /// The rows spliced after each change are the rows built from scratch.
    #[test]
    fn spliced_rows_are_built_rows() {
        let mut t = TreePane::new(NsPath::root());
        t.set_children(
            &NsPath::root(),
            Ok(vec![
                ("a/".into(), true),
                ("b/".into(), false),
                ("c/".into(), false),
            ]),
        );
        type Step = Box<dyn Fn(&mut TreePane)>;
        let steps: Vec<Step> = vec![
            Box::new(|t| drop(t.expand(&p("a")))),
            Box::new(|t| t.set_children(&p("a"), Ok(vec![("x/".into(), false)]))),
            Box::new(|t| drop(t.expand(&p("a/x")))),
            Box::new(|t| t.set_children(&p("a/x"), Ok(vec![("y/".into(), false)]))),
            Box::new(|t| drop(t.expand(&p("b")))),
            Box::new(|t| t.set_children(&p("b"), Err("permission denied".into()))),
            Box::new(|t| t.collapse(&p("a"))),
            Box::new(|t| drop(t.expand(&p("a")))),
            Box::new(|t| t.mark_loading(&p("c"))),
            Box::new(|t| drop(t.expand(&p("c")))),
            Box::new(|t| t.set_children(&p("c"), Ok(vec![]))),
            Box::new(|t| t.collapse(&NsPath::root())),
            Box::new(|t| drop(t.expand(&NsPath::root()))),
        ];
        for (i, step) in steps.iter().enumerate() {
            let _ = t.rows();
            step(&mut t);
            let spliced = t.rows();
            let mut fresh = t.clone();
            fresh.changed();
            assert_eq!(*spliced, *fresh.rows(), "after step {i}");
        }
    }

    #[test]
    fn offsets() {
        assert_eq!(visible_offset(0, 5, 3), 3);
        assert_eq!(visible_offset(4, 2, 3), 2);
        assert_eq!(visible_offset(2, 3, 3), 2);
    }
}
