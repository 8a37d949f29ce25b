//! Drawing: a pure function of the [`App`]'s state onto a ratatui frame. Panes give way on
//! narrow terminals: the tree sits left from 100 columns, above the responses from
//! [`super::layout::MIN_TREE_COLS`], and below that replaces them only while it has the focus. The summary
//! of the namespace under the tree cursor sits beside the tree from [`super::layout::SUMMARY_BESIDE_COLS`],
//! below it from 100 columns (with enough rows), and is hidden below that.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::app::{human, App, Dialog, Focus, Message, SummaryState, TokenInfo};
use super::keymap::{help_rows, Action, HelpRow};
use super::layout::{layout, Areas};
use super::responses::LineKind;
use super::text::{fit_left, skip_cols, width, wrap};
use super::tree_pane::{visible_offset, Row, TreeFilter};
use crate::engine::commands::explore::{is_builtin, mounts_by_type, Part};
use crate::engine::sanitize;

/// At most this many completions show at once.
const POPUP_ROWS: usize = 8;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let areas = layout(frame.area(), app.show_tree, app.focus == Focus::Tree);
    draw_status(frame, app, areas.status);
    if let Some(tree) = areas.tree {
        draw_tree(frame, app, tree);
    }
    if let Some(summary) = areas.summary {
        draw_summary(frame, app, summary);
    }
    if areas.responses.height > 0 {
        draw_responses(frame, app, areas.responses);
    }
    draw_message(frame, app, areas.message);
    let shown_from = draw_input(frame, app, areas.input);
    if areas.hints.height > 0 {
        draw_hints(frame, app, areas.hints);
    }
    if app.popup_open() {
        draw_popup(frame, app, &areas, shown_from);
    }
    match &app.dialog {
        Some(Dialog::Confirm { question, .. }) => draw_confirm(frame, app, question),
        Some(Dialog::Secret { label, value, .. }) => draw_secret(frame, app, label, value.chars()),
        Some(Dialog::UnlockKey {
            text,
            key,
            notes,
            copied,
        }) => draw_unlock_key(frame, app, text, key, notes, *copied),
        Some(Dialog::Help { scroll }) => draw_help(frame, app, *scroll),
        None => {}
    }
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let st = &app.status;
    let base = t.status();
    let ns_style = t.status_ns();
    // (priority to keep: lower is kept longer, spans)
    let mut fields: Vec<(u8, Vec<Span<'static>>)> = Vec::new();
    fields.push((5, vec![Span::styled("vnsh", ns_style)]));
    fields.push((2, vec![Span::styled(st.server.clone(), base)]));
    let mut crumbs = String::from("/");
    for seg in st.cwd.segments() {
        crumbs.push_str(t.crumb_sep());
        crumbs.push_str(seg);
    }
    let mut ns_spans = vec![Span::styled(crumbs, ns_style)];
    // A lock or a seal here, or above (named): the API is cut off either way.
    for (what, at) in [("LOCKED", &st.locked), ("SEALED", &st.marks.sealed)] {
        let Some(at) = at else {
            continue;
        };
        let text = if *at == st.cwd {
            format!(" {what} ")
        } else {
            format!(" {what} by {} ", at.display())
        };
        ns_spans.push(Span::styled(" ", base));
        ns_spans.push(Span::styled(text, t.locked()));
    }
    if st.marks.deleting {
        ns_spans.push(Span::styled(" ", base));
        ns_spans.push(Span::styled(" BEING DELETED ", t.locked()));
    }
    if st.read_only {
        ns_spans.push(Span::styled(" ", base));
        ns_spans.push(Span::styled(" READ-ONLY ", t.locked()));
    }
    fields.push((0, ns_spans));
    if st.insecure {
        // Skip-verify: kept until only the namespace is left.
        fields.push((1, vec![Span::styled(" TLS NOT VERIFIED ", t.locked())]));
    }
    let (token, urgent) = token_spans(app);
    fields.push((if urgent { 1 } else { 4 }, token));
    let health = match (&st.down, &st.health) {
        (Some(down), _) => vec![Span::styled(
            format!(" SERVER UNREACHABLE {} ", human(down.since.elapsed())),
            t.locked(),
        )],
        (None, None) => vec![Span::styled(t.ellipsis().to_string(), base)],
        (None, Some(Err(_))) => vec![Span::styled("health ?", base)],
        (None, Some(Ok(h))) => {
            let mut v = Vec::new();
            if h.sealed {
                v.push(Span::styled(" SEALED ", t.locked()));
                v.push(Span::styled(" ", base));
            }
            v.push(Span::styled(
                if h.standby { "standby" } else { "active" },
                base,
            ));
            if !h.version.is_empty() {
                v.push(Span::styled(format!(" v{}", h.version), base));
            }
            v
        }
    };
    // A sealed or unreachable server is news; an active one is not.
    let news = st.down.is_some() || matches!(&st.health, Some(Ok(h)) if h.sealed);
    fields.push((if news { 1 } else { 3 }, health));
    let sep = t.field_sep();
    let total = |fields: &[(u8, Vec<Span>)]| -> usize {
        fields
            .iter()
            .map(|(_, s)| s.iter().map(Span::width).sum::<usize>())
            .sum::<usize>()
            + width(sep) * fields.len().saturating_sub(1)
            + 2
    };
    let max = usize::from(area.width);
    while total(&fields) > max {
        let drop = fields
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| *p > 0)
            .max_by_key(|(_, (p, _))| *p)
            .map(|(i, _)| i);
        match drop {
            Some(i) => {
                fields.remove(i);
            }
            None => break,
        }
    }
    if total(&fields) > max {
        // Only the namespace is left and it is still too long: cut it from the left.
        if let Some((_, spans)) = fields.first_mut() {
            let rest: usize = spans.iter().skip(1).map(Span::width).sum();
            if let Some(first) = spans.first_mut() {
                let room = max.saturating_sub(2 + rest);
                *first = Span::styled(fit_left(&first.content, room, t.ellipsis()), ns_style);
            }
        }
    }
    let mut spans = vec![Span::styled(" ", base)];
    for (i, (_, f)) in fields.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sep, t.status()));
        }
        spans.extend(f);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}

/// Who the token is and how long it has left, for the status bar; true when its end is
/// near (or past), which keeps the field on a narrow bar.
fn token_spans(app: &App) -> (Vec<Span<'static>>, bool) {
    let t = &app.theme;
    let base = t.status();
    let st = &app.status;
    let info = match &st.token {
        None => {
            return (
                vec![Span::styled(format!("token: {}", t.ellipsis()), base)],
                false,
            )
        }
        Some(Err(_)) => return (vec![Span::styled("token: ?", base)], false),
        Some(Ok(info)) => info,
    };
    let mut spans = vec![Span::styled(
        format!("token: {} @ {}", info.display_name, info.namespace),
        base,
    )];
    let Some(ttl) = info.ttl else {
        return (spans, false);
    };
    let left = ttl.saturating_sub(st.token_at.map_or(0, |at| at.elapsed().as_secs()));
    if left == 0 {
        spans.push(Span::styled(" ", base));
        spans.push(Span::styled(" TOKEN EXPIRED ", t.locked()));
        return (spans, true);
    }
    let text = human(std::time::Duration::from_secs(left));
    if left <= warn_before(info) {
        spans.push(Span::styled(" ", base));
        spans.push(Span::styled(format!(" expires in {text} "), t.warning()));
        (spans, true)
    } else {
        spans.push(Span::styled(format!(" ttl {text}"), base));
        (spans, false)
    }
}

/// How long before its end a token's TTL is a warning: a quarter of its lifetime, at most
/// 15 minutes.
pub fn warn_before(info: &TokenInfo) -> u64 {
    let cap = 15 * 60;
    info.creation_ttl.map_or(cap, |c| (c / 4).min(cap))
}

fn pane_block<'a>(app: &App, title: String, focused: bool) -> Block<'a> {
    let t = &app.theme;
    // The pane with the keys is unmistakable: a heavy border and its title reversed.
    let (set, title_style) = if focused {
        (t.focused_border_set(), t.selected().patch(t.border(true)))
    } else {
        (t.border_set(), t.border(false))
    };
    Block::bordered()
        .border_set(set)
        .border_style(t.border(focused))
        .title(Span::styled(title, title_style))
}

fn draw_tree(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Tree && app.dialog.is_none();
    if let Some(f) = &app.filter {
        draw_filter(frame, app, area, f, focused);
        return;
    }
    let rows = app.tree.rows();
    // The block's inner height: the borders take a row each.
    let height = usize::from(area.height.saturating_sub(2));
    let selected = app.tree.selected_row();
    let offset = visible_offset(app.tree.offset, selected, height);
    // Rows shown from what was known (the index, this session's walks) whose listing has
    // not answered yet: the title says so.
    let provisional = rows.iter().skip(offset).take(height).any(|r| {
        matches!(r, Row::Node { path, .. } if app.tree.node(path).is_some_and(|n| n.provisional))
    });
    let title = if provisional {
        format!(" Namespaces (as last known; listing{}) ", t.ellipsis())
    } else {
        " Namespaces ".to_string()
    };
    let block = pane_block(app, title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (open, closed, leaf) = t.tree_marks();
    let mut lines = Vec::with_capacity(height);
    for (i, row) in rows.iter().enumerate().skip(offset).take(height) {
        let line = match row {
            Row::Node {
                path,
                depth,
                locked_by,
                sealed_by,
            } => {
                let node = app.tree.node(path);
                let mark = match node {
                    Some(n) if n.expanded => open,
                    Some(n) if n.children.as_ref().is_some_and(Vec::is_empty) => leaf,
                    _ => closed,
                };
                let name = if **path == app.tree.top {
                    path.display()
                } else {
                    format!("{}/", path.name().unwrap_or_default())
                };
                let name_style = if **path == app.status.cwd {
                    t.current()
                } else if node.is_some_and(|n| n.provisional) {
                    t.dim()
                } else {
                    Style::new()
                };
                let mut spans = vec![
                    Span::styled(format!("{}{mark}", "  ".repeat(*depth)), t.dim()),
                    Span::styled(name, name_style),
                ];
                if node.is_some_and(|n| n.locked) {
                    spans.push(Span::styled(" [locked]", t.locked_text()));
                } else if let Some(by) = locked_by {
                    spans.push(Span::styled(
                        format!(" [locked by {}]", by.header()),
                        t.locked_text(),
                    ));
                }
                if node.is_some_and(|n| n.sealed == Some(true)) {
                    spans.push(Span::styled(" [sealed]", t.locked_text()));
                } else if let Some(by) = sealed_by {
                    spans.push(Span::styled(
                        format!(" [sealed by {}]", by.header()),
                        t.locked_text(),
                    ));
                }
                if node.is_some_and(|n| n.tainted) {
                    spans.push(Span::styled(" [deleting]", t.note()));
                }
                let mut line = Line::from(spans);
                if i == selected {
                    line = line.style(if focused {
                        t.selected()
                    } else {
                        t.selected_unfocused()
                    });
                }
                line
            }
            Row::Loading { depth } => Line::from(Span::styled(
                format!("{}  loading{}", "  ".repeat(*depth), t.ellipsis()),
                t.dim(),
            )),
            Row::Error { depth, message } => Line::from(Span::styled(
                format!("{}  ! {message}", "  ".repeat(*depth)),
                t.error(),
            )),
        };
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
    if focused {
        // The terminal's cursor sits on the row with the keys, not in the command line.
        let y = inner.y + (selected.saturating_sub(offset)) as u16;
        if y < inner.bottom() {
            frame.set_cursor_position((inner.x, y));
        }
    }
}

/// The tree's filter: the query in the title, the matches ranked below it.
fn draw_filter(frame: &mut Frame, app: &App, area: Rect, f: &TreeFilter, focused: bool) {
    let t = &app.theme;
    let more = if f.walking { t.ellipsis() } else { "" };
    let count = if f.query.is_empty() {
        format!("{} known{more}", f.known)
    } else {
        format!("{}/{}{more}", f.matches.len(), f.known)
    };
    let block = pane_block(app, format!(" Namespaces /{} ", f.query), focused)
        .title_bottom(Line::from(Span::styled(format!(" {count} "), t.dim())).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height);
    let offset = visible_offset(0, f.selected, height);
    let mut lines: Vec<Line> = f
        .matches
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, path)| {
            let mut spans = vec![Span::raw(path.header())];
            if let Some(by) = app.tree.locked_cover(path) {
                let mark = if by == *path {
                    " [locked]".to_string()
                } else {
                    format!(" [locked by {}]", by.header())
                };
                spans.push(Span::styled(mark, t.locked_text()));
            }
            let line = Line::from(spans);
            if i == f.selected {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("no match", t.dim())));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    if focused {
        let x = area.x + 14 + width(&f.query) as u16;
        if x < area.right() {
            frame.set_cursor_position((x, area.y));
        }
    }
}

fn draw_summary(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane_block(app, " Summary ".into(), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = summary_lines(app, usize::from(inner.width));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The summary pane's lines for the namespace under the tree cursor, `width` columns wide.
/// A part the token may not read says so on its own line.
pub fn summary_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let ns = &app.tree.selected;
    let label = |k: &str| Span::styled(format!("{k:<9}"), t.dim());
    let unreadable = || Span::styled("(not readable)", t.dim());
    let none = || Span::styled("(none)", t.dim());
    let mut lines = vec![Line::from(vec![label("path"), Span::raw(ns.display())])];
    if let Some(down) = &app.status.down {
        // Nothing below would be true: the server did not answer at all.
        lines.push(Line::from(Span::styled(
            format!("server unreachable (for {})", human(down.since.elapsed())),
            t.error(),
        )));
        lines.extend(
            wrap(&down.reason, width.max(8))
                .into_iter()
                .map(|l| Line::from(Span::styled(l, t.dim()))),
        );
        return lines;
    }
    let s = match app.summaries.get(ns) {
        Some(SummaryState::Ready(s)) => s,
        Some(SummaryState::Failed(e)) => {
            lines.extend(
                wrap(&format!("! {e}"), width.max(8))
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, t.error()))),
            );
            return lines;
        }
        None | Some(SummaryState::Loading) => {
            lines.push(Line::from(Span::styled(
                format!("loading{}", t.ellipsis()),
                t.dim(),
            )));
            return lines;
        }
    };
    lines.push(Line::from(vec![
        label("locked"),
        match s.locked() {
            Ok(true) => Span::styled("yes", t.locked_text()),
            Ok(false) => Span::raw("no"),
            Err(_) => unreadable(),
        },
    ]));
    match s.metadata() {
        Ok(m) if m.is_empty() => lines.push(Line::from(vec![label("metadata"), none()])),
        Ok(m) => {
            lines.push(Line::from(label("metadata")));
            lines.extend(m.into_iter().map(|(k, v)| Line::from(format!("  {k}={v}"))));
        }
        Err(_) => lines.push(Line::from(vec![label("metadata"), unreadable()])),
    }
    lines.push(Line::from(vec![
        label("children"),
        match &s.children {
            Ok(c) => Span::raw(c.len().to_string()),
            Err(_) => unreadable(),
        },
    ]));
    // The mounts every namespace has (sys/, identity/, cubbyhole/, token/) are left out.
    for (name, part, prefix) in [("mounts", &s.mounts, ""), ("auth", &s.auth, "auth/")] {
        let groups: Part<Vec<(String, Vec<String>)>> = part
            .as_ref()
            .map(|m| {
                mounts_by_type(m)
                    .into_iter()
                    .filter_map(|(kind, paths)| {
                        let own: Vec<String> = paths
                            .into_iter()
                            .filter(|p| !is_builtin(&format!("{prefix}{p}")))
                            .collect();
                        (!own.is_empty()).then_some((kind, own))
                    })
                    .collect()
            })
            .map_err(Clone::clone);
        match groups {
            Ok(g) if g.is_empty() => lines.push(Line::from(vec![label(name), none()])),
            Ok(g) => {
                lines.push(Line::from(label(name)));
                lines.extend(g.into_iter().map(|(kind, paths)| {
                    Line::from(vec![
                        Span::styled(format!("  {kind}: "), t.dim()),
                        Span::raw(paths.join(" ")),
                    ])
                }));
            }
            Err(_) => lines.push(Line::from(vec![label(name), unreadable()])),
        }
    }
    lines.push(Line::from(vec![
        label("policies"),
        match &s.policies {
            Ok(l) if l.names.is_empty() => none(),
            Ok(l) => Span::raw(l.names.join(" ")),
            Err(_) => unreadable(),
        },
    ]));
    for (name, part) in [("entities", &s.entities), ("groups", &s.groups)] {
        lines.push(Line::from(vec![
            label(name),
            match part {
                Ok(l) => Span::raw(l.keys.len().to_string()),
                Err(_) => unreadable(),
            },
        ]));
    }
    lines
}

/// Spans of `text` with the matches of `query` (case-insensitive) marked.
fn highlighted(text: &str, query: &str, base: Style, mark: Style) -> Vec<Span<'static>> {
    let lower = text.to_lowercase();
    let q = query.to_lowercase();
    // Byte offsets only line up when lower-casing kept the lengths.
    if q.is_empty() || lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&q) {
        let start = at + found;
        let end = start + q.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), base));
        }
        spans.push(Span::styled(text[start..end].to_string(), mark));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

fn draw_responses(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let r = &app.responses;
    let focused = app.focus == Focus::Responses && app.dialog.is_none();
    let dot = if t.ascii { "-" } else { "·" };
    let mut block = pane_block(app, format!(" Responses {dot} {} ", r.mode.name()), focused);
    let inner = block.inner(area);
    let height = usize::from(inner.height);
    let total = r.total();
    if let Some(s) = &r.search {
        let counts = match r.match_counts() {
            Some((n, 0)) => format!(" {n} matches"),
            Some((n, k)) => format!(" {k}/{n}"),
            None => String::new(),
        };
        block = block.title(
            Line::from(Span::styled(format!(" /{}{counts} ", s.query), t.note())).right_aligned(),
        );
    }
    if total > height {
        let last = (r.scroll + height).min(total);
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" {}-{last}/{total} ", r.scroll + 1),
                t.dim(),
            ))
            .right_aligned(),
        );
    }
    frame.render_widget(block, area);
    if r.entries.is_empty() {
        let help = app.keymap.first_key(Action::Help, t.ascii);
        let quit = app.keymap.first_key(Action::Quit, t.ascii);
        let lines = vec![
            Line::from(Span::styled(
                "Type a command below and press Enter; `help` lists the commands.",
                t.dim(),
            )),
            Line::from(Span::styled(
                format!("Tab completes {dot} {help} shows the keys {dot} {quit} quits"),
                t.dim(),
            )),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let query = r
        .search
        .as_ref()
        .map(|s| s.query.clone())
        .unwrap_or_default();
    let lines: Vec<Line> = r
        .window(r.scroll, height)
        .into_iter()
        .map(|(entry, kind, text)| {
            let style = match kind {
                LineKind::Header => t.header(),
                LineKind::Body | LineKind::Text | LineKind::Gap => Style::new(),
                LineKind::Note => t.note(),
                LineKind::Error => t.error(),
            };
            let shown = skip_cols(&text, r.hscroll);
            let line = Line::from(highlighted(shown, &query, style, t.matched()));
            // The selected response (what F3 copies, F5 reveals) is marked, focused or not.
            match (
                kind == LineKind::Header && r.selected == Some(entry),
                focused,
            ) {
                (true, true) => line.style(t.selected()),
                (true, false) => line.style(t.selected_unfocused()),
                _ => line,
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn elapsed(app: &App) -> String {
    match &app.running {
        Some(r) => {
            let secs = r.started.elapsed().as_secs();
            if secs >= 1 {
                format!(" {secs}s")
            } else {
                String::new()
            }
        }
        None => String::new(),
    }
}

fn draw_message(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    if let Some(s) = app.responses.search.as_ref().filter(|s| s.editing) {
        let text = format!("/{}", s.query);
        let x = area.x + (width(&text) as u16).min(area.width.saturating_sub(1));
        frame.render_widget(Paragraph::new(Span::styled(text, t.note())), area);
        if app.dialog.is_none() {
            frame.set_cursor_position((x, area.y));
        }
        return;
    }
    let line = if let Some(r) = app.running.as_ref().filter(|r| r.asking) {
        // A question waits: nothing runs yet, so no spinner.
        Line::from(vec![
            Span::styled("? ", t.key()),
            Span::raw(format!("waiting for your answer: {}", r.label)),
        ])
    } else if let Some(r) = &app.running {
        let cancel = app.keymap.first_key(Action::Cancel, t.ascii);
        Line::from(vec![
            Span::styled(format!("{} ", t.spinner(app.tick)), t.key()),
            Span::raw(format!("running: {}{}", r.label, elapsed(app))),
            Span::styled(
                r.progress
                    .as_ref()
                    .map(|p| format!("  {p}"))
                    .unwrap_or_default(),
                t.note(),
            ),
            Span::styled(format!("  ({cancel} cancels)"), t.dim()),
        ])
    } else {
        match &app.message {
            Some(Message::Error(m)) => Line::from(Span::styled(m.clone(), t.error())),
            Some(Message::Info(m)) => Line::from(Span::styled(m.clone(), t.note())),
            None => Line::default(),
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Draw the input line; returns where its shown text starts: the x on screen and the byte
/// offset in the line (for the popup).
fn draw_input(frame: &mut Frame, app: &App, area: Rect) -> (u16, usize) {
    let t = &app.theme;
    let focused = app.focus == Focus::Input;
    let max = usize::from(area.width);
    let prefix = match &app.rsearch {
        Some(rs) => {
            let failed = if rs.failed { "failed " } else { "" };
            format!("({failed}reverse-i-search)`{}': ", rs.query)
        }
        None => fit_left(
            &format!("{}> ", app.status.cwd.display()),
            (max / 2).max(4),
            t.ellipsis(),
        ),
    };
    let prefix_w = width(&prefix);
    let prompt_style = if focused { t.prompt() } else { t.dim() };
    let text = app.input.text();
    let before = app.input.before_cursor();
    // Scroll the text so that the cursor shows: one pass back from the cursor (a pasted
    // line can be a megabyte long).
    let room = max.saturating_sub(prefix_w + 1);
    let start = start_to_fit(before, room);
    // Only what fits is drawn.
    let shown = take_cols(&text[start..], max.saturating_sub(prefix_w));
    let line = Line::from(vec![
        Span::styled(prefix, prompt_style),
        Span::raw(sanitize::line(shown).into_owned()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let text_x = area.x + prefix_w as u16;
    let edit_here = focused
        && app.dialog.is_none()
        && !app.responses.search.as_ref().is_some_and(|s| s.editing);
    if edit_here {
        let x = match &app.rsearch {
            Some(rs) => {
                area.x
                    + width(&format!("(reverse-i-search)`{}", rs.query)) as u16
                    + if rs.failed { 7 } else { 0 }
            }
            None => text_x + width(&before[start..]) as u16,
        };
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
    }
    (text_x, start)
}

/// The byte offset in `before` from which its end fits in `room` columns.
fn start_to_fit(before: &str, room: usize) -> usize {
    let mut w = 0;
    let mut start = before.len();
    for (i, c) in before.char_indices().rev() {
        let cw = width(c.encode_utf8(&mut [0; 4]));
        if w + cw > room {
            break;
        }
        w += cw;
        start = i;
    }
    start
}

/// The start of `s` that fits in `cols` columns.
fn take_cols(s: &str, cols: usize) -> &str {
    let mut w = 0;
    for (i, c) in s.char_indices() {
        w += width(c.encode_utf8(&mut [0; 4]));
        if w > cols {
            return &s[..i];
        }
    }
    s
}

fn hints_for(app: &App) -> Vec<(Action, &'static str)> {
    let masked = app
        .responses
        .selected_entry()
        .is_some_and(|e| e.has_secrets());
    let reveal = if masked {
        vec![(Action::Reveal, "secrets")]
    } else {
        vec![]
    };
    match app.focus {
        _ if app.rsearch.is_some() => vec![
            (Action::HistorySearch, "older"),
            (Action::Submit, "run"),
            (Action::Close, "cancel"),
        ],
        Focus::Tree if app.filter.is_some() => vec![
            (Action::Down, "choose"),
            (Action::CdSelected, "jump"),
            (Action::Close, "close"),
        ],
        Focus::Input => [
            (Action::Submit, "run"),
            (Action::FocusNext, "complete/pane"),
            (Action::HistoryPrev, "history"),
            (Action::HistorySearch, "search"),
        ]
        .into_iter()
        .chain(reveal)
        .chain([
            (Action::Help, "keys"),
            (Action::Quit, "quit"),
            (Action::PageUp, "scroll"),
        ])
        .collect(),
        Focus::Tree => vec![
            (Action::CdSelected, "cd"),
            (Action::TreeLs, "ls"),
            (Action::TreeDescribe, "describe"),
            (Action::TreeLock, "lock"),
            (Action::TreeUnlock, "unlock"),
            (Action::Copy, "copy path"),
            (Action::Filter, "filter"),
            (Action::ExpandAll, "expand all"),
            (Action::Help, "keys"),
        ],
        Focus::Responses => [
            (Action::PrevResponse, "prev"),
            (Action::NextResponse, "next"),
            (Action::Search, "search"),
            (Action::ToggleView, "table/json"),
            (Action::Copy, "copy"),
        ]
        .into_iter()
        .chain(reveal)
        .chain([(Action::Help, "keys")])
        .collect(),
    }
}

fn draw_hints(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let mut hints: Vec<(Action, String, &str)> = hints_for(app)
        .into_iter()
        .map(|(action, label)| (action, app.keymap.first_key(action, t.ascii), label))
        .filter(|(_, key, _)| !key.is_empty())
        .collect();
    // Whole hints only, the least useful (last) going first; the way to all keys stays.
    let cost = |h: &[(Action, String, &str)]| -> usize {
        h.iter()
            .map(|(_, k, l)| width(k) + 1 + width(l))
            .sum::<usize>()
            + 2 * h.len().saturating_sub(1)
    };
    while cost(&hints) > usize::from(area.width) {
        match hints.iter().rposition(|(a, _, _)| *a != Action::Help) {
            Some(i) => {
                hints.remove(i);
            }
            None => break,
        }
    }
    let mut spans = Vec::new();
    for (_, key, label) in hints {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::styled(format!(" {label}"), t.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_popup(frame: &mut Frame, app: &App, areas: &Areas, (text_x, shown_from): (u16, usize)) {
    let Some(p) = &app.popup else {
        return;
    };
    let t = &app.theme;
    let screen = frame.area();
    let rows = p.items.len().clamp(1, POPUP_ROWS);
    let widest = p.items.iter().map(|i| width(i)).max().unwrap_or(0).max(12);
    let w = (widest as u16 + 2).min(screen.width);
    let h = (rows as u16 + 2).min(areas.input.y.saturating_sub(screen.y));
    if h < 3 {
        return;
    }
    let text = app.input.text();
    let word_start = p.start.clamp(shown_from, text.len());
    let word_x = text_x.saturating_add(
        width(text.get(shown_from..word_start).unwrap_or_default()).min(usize::from(u16::MAX))
            as u16,
    );
    let x = word_x.min(screen.right().saturating_sub(w));
    let area = Rect::new(x, areas.input.y - h, w, h);
    let title = if p.items.is_empty() {
        format!(" loading{} ", t.ellipsis())
    } else if p.pending {
        format!(" {}/{}{} ", p.selected + 1, p.items.len(), t.ellipsis())
    } else {
        format!(" {}/{} ", p.selected + 1, p.items.len())
    };
    let block = Block::bordered()
        .border_set(t.border_set())
        .border_style(t.border(true))
        .title(Span::styled(title, t.dim()));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height);
    let offset = visible_offset(0, p.selected, height);
    let lines: Vec<Line> = p
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, item)| {
            let line = Line::from(item.clone());
            if i == p.selected {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// All keys of an action, `n/Enter`.
fn keys_label(app: &App, action: Action) -> String {
    app.keymap
        .keys(action)
        .iter()
        .map(|k| k.label(app.theme.ascii))
        .collect::<Vec<_>>()
        .join("/")
}

/// A rectangle of `w`×`h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn dialog_frame(frame: &mut Frame, app: &App, title: &str, lines: Vec<Line<'static>>, w: u16) {
    let t = &app.theme;
    let area = centered(frame.area(), w, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_set(t.dialog_border_set())
        .border_style(t.border(true))
        .title(Span::styled(format!(" {title} "), t.border(true)));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn dialog_width(app: &App, want: u16) -> u16 {
    want.min(app.size.0.saturating_sub(2)).max(20)
}

fn draw_confirm(frame: &mut Frame, app: &App, question: &str) {
    let t = &app.theme;
    let w = dialog_width(app, 62);
    let inner = usize::from(w.saturating_sub(4));
    let mut lines: Vec<Line> = wrap(question, inner)
        .into_iter()
        .map(|l| {
            Line::from(Span::styled(
                format!(" {l}"),
                Style::new().add_modifier(Modifier::BOLD),
            ))
        })
        .collect();
    lines.push(Line::default());
    let yes = app.keymap.first_key(Action::Yes, t.ascii);
    let no = keys_label(app, Action::No);
    if app.guard_pending() {
        // The answers show once the dialog takes keys (what was typed before it could be
        // read is no answer).
        lines.push(Line::from(Span::styled(" …", t.dim())));
    } else {
        lines.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("[{yes}]"), t.key()),
            Span::raw(" yes    "),
            Span::styled(format!("[{no}]"), t.key()),
            Span::raw(" no (the default)"),
        ]));
    }
    dialog_frame(frame, app, "Confirm", lines, w);
}

/// The hidden-input dialog: only a mark per character typed is shown.
fn draw_secret(frame: &mut Frame, app: &App, label: &str, typed: usize) {
    let t = &app.theme;
    let w = dialog_width(app, 62);
    let inner = usize::from(w.saturating_sub(4));
    let title = label
        .split(" (")
        .next()
        .unwrap_or(label)
        .trim_end_matches([':', ' ']);
    let mark = if t.ascii { "*" } else { "\u{2022}" };
    let shown = mark.repeat(typed.min(inner.saturating_sub(2)));
    let lines = vec![
        Line::from(Span::styled(
            format!(" {label}"),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::from(vec![
            Span::raw(" "),
            Span::styled(shown, t.key()),
            Span::styled("_", Style::new().add_modifier(Modifier::SLOW_BLINK)),
        ]),
        Line::default(),
        Line::from(vec![
            Span::raw(" "),
            Span::styled("[Enter]", t.key()),
            Span::raw(" send    "),
            Span::styled("[Esc]", t.key()),
            Span::raw(" cancel"),
        ]),
    ];
    dialog_frame(frame, app, title, lines, w);
}

fn draw_unlock_key(
    frame: &mut Frame,
    app: &App,
    text: &str,
    key: &str,
    notes: &[String],
    copied: bool,
) {
    let t = &app.theme;
    let w = dialog_width(app, (key.len() as u16 + 8).max(62));
    let inner = usize::from(w.saturating_sub(4));
    let mut lines: Vec<Line> = Vec::new();
    // The response's text with the key taken out of it and shown on its own, big.
    let (before, after): (Vec<&str>, Vec<&str>) = {
        let all: Vec<&str> = text.lines().collect();
        let at = all
            .iter()
            .position(|l| l.starts_with("Unlock key:"))
            .unwrap_or(all.len());
        (
            all[..at].to_vec(),
            all.get(at + 1..).unwrap_or_default().to_vec(),
        )
    };
    for l in before {
        lines.extend(
            wrap(l, inner)
                .into_iter()
                .map(|l| Line::from(format!(" {l}"))),
        );
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(" Unlock key:", t.dim())));
    for part in wrap(key, inner.saturating_sub(2)) {
        lines.push(Line::from(Span::styled(
            format!("   {part}"),
            t.note().add_modifier(Modifier::BOLD),
        )));
    }
    if !after.is_empty() {
        lines.push(Line::default());
    }
    for l in after {
        lines.extend(
            wrap(l, inner)
                .into_iter()
                .map(|l| Line::from(format!(" {l}"))),
        );
    }
    for n in notes {
        lines.push(Line::default());
        lines.extend(
            wrap(n, inner)
                .into_iter()
                .map(|l| Line::from(Span::styled(format!(" {l}"), t.error()))),
        );
    }
    lines.push(Line::default());
    let copy = app.keymap.first_key(Action::Copy, t.ascii);
    let close = format!("Enter/{}", app.keymap.first_key(Action::Close, t.ascii));
    let mut last = vec![Span::raw(" ")];
    if app.guard_pending() {
        last.push(Span::styled("…", t.dim()));
    } else {
        last.extend([
            Span::styled(format!("[{copy}]"), t.key()),
            Span::raw(" copy with OSC 52    "),
            Span::styled(format!("[{close}]"), t.key()),
            Span::raw(" close"),
        ]);
    }
    if copied {
        last.push(Span::styled("    copied", t.note()));
    }
    lines.push(Line::from(last));
    dialog_frame(frame, app, "Locked: keep this unlock key", lines, w);
}

/// The column where the help's descriptions start.
const HELP_KEYS: usize = 26;

/// The lines of the help overlay, from the keymap, wrapped to `width` columns (a
/// description that does not fit goes on under itself, never cut at the edge).
pub fn help_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let width = width.max(HELP_KEYS + 12);
    let mut out = Vec::new();
    for row in help_rows(&app.keymap, t.ascii) {
        match row {
            HelpRow::Intro(text) => out.extend(
                wrap(text, width - 1)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(format!(" {l}"), t.dim()))),
            ),
            HelpRow::Blank => out.push(Line::default()),
            HelpRow::Title(title) => {
                out.push(Line::from(Span::styled(format!(" {title}"), t.header())))
            }
            HelpRow::Key { keys, help } => {
                let keys = format!("   {keys}");
                let room = width - HELP_KEYS;
                let mut pieces = wrap(help, room).into_iter();
                let first = pieces.next().unwrap_or_default();
                if super::text::width(&keys) < HELP_KEYS {
                    out.push(Line::from(vec![
                        Span::styled(format!("{keys:<HELP_KEYS$}"), t.key()),
                        Span::raw(first),
                    ]));
                } else {
                    // Keys too long for their column: on a line of their own.
                    out.push(Line::from(Span::styled(keys, t.key())));
                    out.push(Line::from(format!("{:HELP_KEYS$}{first}", "")));
                }
                out.extend(pieces.map(|p| Line::from(format!("{:HELP_KEYS$}{p}", ""))));
            }
        }
    }
    out
}

fn draw_help(frame: &mut Frame, app: &App, scroll: usize) {
    let t = &app.theme;
    let screen = frame.area();
    let w = dialog_width(app, 100);
    let h = screen.height.saturating_sub(2).max(3);
    let area = centered(screen, w, h);
    let close = app.keymap.first_key(Action::Close, t.ascii);
    let block = Block::bordered()
        .border_set(t.dialog_border_set())
        .border_style(t.border(true))
        .title(Span::styled(" Keys ", t.border(true)))
        .title_bottom(
            Line::from(Span::styled(
                format!(" {close} closes, ↑/↓ PgUp/PgDn scroll "),
                t.dim(),
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let all = help_lines(app, usize::from(inner.width));
    let scroll = scroll.min(all.len().saturating_sub(usize::from(inner.height)));
    let lines: Vec<Line> = all
        .into_iter()
        .skip(scroll)
        .take(usize::from(inner.height))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
