//! Where each part of the screen goes, from its size and what shows: a function the app
//! (page sizes, what a click would hit) and the drawing both use.

use ratatui::layout::{Constraint, Layout, Rect};

/// From this width the tree pane sits left of the responses (a standard 80×24 terminal
/// gets a tree as tall as the screen, not a strip).
pub const WIDE_COLS: u16 = 80;
/// From this width the summary pane may sit below the tree.
pub const SUMMARY_BELOW_COLS: u16 = 100;
/// From this width the summary pane sits beside the tree (narrower: below it).
pub const SUMMARY_BESIDE_COLS: u16 = 140;
/// The tree keeps at least this many rows of namespaces when the summary is below it.
pub const MIN_TREE_ROWS: u16 = 10;
/// From this width (and enough rows) the tree pane sits above the responses.
pub const MIN_TREE_COLS: u16 = 64;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The status bar (top line).
    pub status: Rect,
    /// The namespace tree, when it shows.
    pub tree: Option<Rect>,
    /// The summary of the namespace under the tree cursor, when there is room for it.
    pub summary: Option<Rect>,
    /// The responses (zero height when the tree replaces them).
    pub responses: Rect,
    /// The message line above the input.
    pub message: Rect,
    /// The input line.
    pub input: Rect,
    /// The key hints (bottom line; zero height on very short terminals).
    pub hints: Rect,
}

/// Lay the screen out in `area`: with the tree pane when `show_tree`; a narrow screen
/// gives the whole body to the tree when it has the focus (`tree_focused`).
pub fn layout(area: Rect, show_tree: bool, tree_focused: bool) -> Areas {
    let hints_h = u16::from(area.height >= 12);
    let [status, body, message, input, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(hints_h),
    ])
    .areas(area);
    let (tree, summary, responses) = if !show_tree {
        (None, None, body)
    } else if area.width >= SUMMARY_BESIDE_COLS {
        let w = (area.width / 4).clamp(24, 40);
        let sw = (area.width / 4).clamp(30, 44);
        let [t, s, r] = Layout::horizontal([
            Constraint::Length(w),
            Constraint::Length(sw),
            Constraint::Fill(1),
        ])
        .areas(body);
        (Some(t), Some(s), r)
    } else if area.width >= WIDE_COLS {
        let w = (area.width / 4).clamp(24, 40);
        let [t, r] = Layout::horizontal([Constraint::Length(w), Constraint::Fill(1)]).areas(body);
        let summary_h = body.height / 2;
        // The summary below only where the tree keeps its rows (borders are 2 rows).
        if area.width >= SUMMARY_BELOW_COLS && body.height - summary_h >= MIN_TREE_ROWS + 2 {
            let [t, s] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(summary_h)]).areas(t);
            (Some(t), Some(s), r)
        } else {
            (Some(t), None, r)
        }
    } else if area.width >= MIN_TREE_COLS && body.height >= 14 {
        // Stacked: the tree keeps MIN_TREE_ROWS where the responses keep 4 lines.
        let h = (body.height / 3)
            .max(MIN_TREE_ROWS + 2)
            .min(body.height.saturating_sub(6));
        let [t, r] = Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(body);
        (Some(t), None, r)
    } else if tree_focused {
        (Some(body), None, Rect::new(body.x, body.y, body.width, 0))
    } else {
        (None, None, body)
    };
    Areas {
        status,
        tree,
        summary,
        responses,
        message,
        input,
        hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(r: Option<Rect>) -> u16 {
        r.map_or(0, |r| r.height.saturating_sub(2))
    }

    /// A standard terminal has a tree to work in: at least ten rows of namespaces.
    #[test]
    fn the_tree_keeps_ten_rows_on_small_screens() {
        for (cols, lines) in [
            (80, 24),
            (100, 24),
            (100, 30),
            (120, 24),
            (140, 24),
            (200, 50),
            (64, 24),
        ] {
            let a = layout(Rect::new(0, 0, cols, lines), true, false);
            assert!(
                rows(a.tree) >= MIN_TREE_ROWS,
                "{cols}x{lines}: the tree has {} rows",
                rows(a.tree)
            );
            assert!(a.responses.height >= 6, "{cols}x{lines}: {a:?}");
        }
    }
}
