//! Where each part of the screen goes, from its size and what shows: a function the app
//! (page sizes, what a click would hit) and the drawing both use.

use ratatui::layout::{Constraint, Layout, Rect};

/// From this width the tree pane sits left of the responses.
pub const WIDE_COLS: u16 = 100;
/// From this width the summary pane sits beside the tree (narrower: below it).
pub const SUMMARY_BESIDE_COLS: u16 = 140;
/// From this many body rows a 100-column screen has the summary below the tree.
const SUMMARY_BELOW_ROWS: u16 = 20;
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
        if body.height >= SUMMARY_BELOW_ROWS {
            let [t, s] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(body.height / 2)])
                    .areas(t);
            (Some(t), Some(s), r)
        } else {
            (Some(t), None, r)
        }
    } else if area.width >= MIN_TREE_COLS && body.height >= 14 {
        let h = (body.height / 3).max(5);
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
