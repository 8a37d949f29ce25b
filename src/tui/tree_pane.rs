//! The namespace tree pane: loaded lazily (one LIST when a namespace is expanded),
//! expanded and collapsed by the user, lock marks from the server's `key_info`.

use std::collections::BTreeMap;

use crate::engine::nspath::NsPath;

/// What is known of one namespace in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Its API is locked (as its parent's listing says).
    pub locked: bool,
    /// Its children are shown.
    pub expanded: bool,
    /// Its children, once listed (absolute paths, sorted).
    pub children: Option<Vec<NsPath>>,
    /// A LIST is in flight.
    pub loading: bool,
    /// Why the last LIST failed.
    pub error: Option<String>,
}

/// One row of the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A namespace, at a depth below the tree's top.
    Node {
        /// Its path.
        path: NsPath,
        /// Indentation level (the top is 0).
        depth: usize,
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
    pub nodes: BTreeMap<NsPath, Node>,
    /// The selected namespace.
    pub selected: NsPath,
    /// The first row shown.
    pub offset: usize,
}

impl TreePane {
    /// A tree whose top is `top`, expanded, not listed yet.
    pub fn new(top: NsPath) -> TreePane {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            top.clone(),
            Node {
                expanded: true,
                ..Node::default()
            },
        );
        TreePane {
            selected: top.clone(),
            top,
            nodes,
            offset: 0,
        }
    }

    /// The rows, depth first.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        self.push_rows(&self.top, 0, &mut rows);
        rows
    }

    fn push_rows(&self, path: &NsPath, depth: usize, rows: &mut Vec<Row>) {
        rows.push(Row::Node {
            path: path.clone(),
            depth,
        });
        let Some(node) = self.nodes.get(path) else {
            return;
        };
        if !node.expanded {
            return;
        }
        if let Some(message) = &node.error {
            rows.push(Row::Error {
                depth: depth + 1,
                message: message.clone(),
            });
        }
        match &node.children {
            Some(children) => {
                for c in children {
                    self.push_rows(c, depth + 1, rows);
                }
            }
            None if node.loading => rows.push(Row::Loading { depth: depth + 1 }),
            None if node.locked && node.error.is_none() => rows.push(Row::Error {
                depth: depth + 1,
                message: "locked".into(),
            }),
            None => {}
        }
    }

    /// The node at `path`, if known.
    pub fn node(&self, path: &NsPath) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Mark `path` as being listed.
    pub fn mark_loading(&mut self, path: &NsPath) {
        let node = self.nodes.entry(path.clone()).or_default();
        node.loading = true;
    }

    /// The answer of a LIST of `path`: child names (`a/` or `a`) with their lock state.
    pub fn set_children(&mut self, path: &NsPath, result: Result<Vec<(String, bool)>, String>) {
        match result {
            Ok(list) => {
                let mut children: Vec<NsPath> = Vec::with_capacity(list.len());
                for (name, locked) in list {
                    let name = name.trim_end_matches('/');
                    if name.is_empty() || name.contains('/') {
                        continue;
                    }
                    let child = path.child(name);
                    self.nodes.entry(child.clone()).or_default().locked = locked;
                    children.push(child);
                }
                children.sort();
                let node = self.nodes.entry(path.clone()).or_default();
                node.children = Some(children);
                node.loading = false;
                node.error = None;
            }
            Err(e) => {
                let node = self.nodes.entry(path.clone()).or_default();
                node.loading = false;
                node.error = Some(e);
            }
        }
    }

    /// Expand `path`; returns it when it must be listed first.
    pub fn expand(&mut self, path: &NsPath) -> Option<NsPath> {
        let node = self.nodes.entry(path.clone()).or_default();
        node.expanded = true;
        if node.children.is_none() && !node.loading && !node.locked {
            node.loading = true;
            return Some(path.clone());
        }
        None
    }

    /// Collapse `path`.
    pub fn collapse(&mut self, path: &NsPath) {
        if let Some(node) = self.nodes.get_mut(path) {
            node.expanded = false;
        }
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

    fn node_rows(&self) -> Vec<NsPath> {
        self.rows()
            .into_iter()
            .filter_map(|r| match r {
                Row::Node { path, .. } => Some(path),
                _ => None,
            })
            .collect()
    }

    /// The row index of the selection.
    pub fn selected_row(&self) -> usize {
        self.rows()
            .iter()
            .position(|r| matches!(r, Row::Node { path, .. } if *path == self.selected))
            .unwrap_or(0)
    }

    /// Move the selection by `delta` namespaces.
    pub fn move_by(&mut self, delta: isize) {
        let rows = self.node_rows();
        if rows.is_empty() {
            return;
        }
        let at = rows.iter().position(|p| *p == self.selected).unwrap_or(0);
        let to = at
            .saturating_add_signed(delta)
            .min(rows.len().saturating_sub(1));
        self.selected = rows[to].clone();
    }

    /// Select the first or the last namespace.
    pub fn select_edge(&mut self, last: bool) {
        let rows = self.node_rows();
        let pick = if last { rows.last() } else { rows.first() };
        if let Some(p) = pick {
            self.selected = p.clone();
        }
    }

    /// Keep the selection within a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.offset = visible_offset(self.offset, self.selected_row(), height);
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
                path: p("a"),
                depth: 1
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

    #[test]
    fn offsets() {
        assert_eq!(visible_offset(0, 5, 3), 3);
        assert_eq!(visible_offset(4, 2, 3), 2);
        assert_eq!(visible_offset(2, 3, 3), 2);
    }
}
