//! Styles and symbols: 16 colours at most (never RGB, so any terminal over SSH shows
//! them), none at all with `NO_COLOR`, and ASCII-only symbols when asked.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

/// Plain ASCII borders, for terminals and fonts without box drawing.
const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// The focused pane's ASCII border: heavier than the others.
const ASCII_FOCUSED_BORDER: border::Set<'static> = border::Set {
    top_left: "#",
    top_right: "#",
    bottom_left: "#",
    bottom_right: "#",
    vertical_left: "#",
    vertical_right: "#",
    horizontal_top: "=",
    horizontal_bottom: "=",
};

const SPINNER_UNICODE: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const SPINNER_ASCII: &[&str] = &["|", "/", "-", "\\"];

/// How the TUI looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use colours (false with `NO_COLOR`).
    pub colour: bool,
    /// ASCII borders and symbols only.
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            colour: true,
            ascii: false,
        }
    }
}

impl Theme {
    /// A theme.
    pub fn new(colour: bool, ascii: bool) -> Theme {
        Theme { colour, ascii }
    }

    fn fg(&self, c: Color) -> Style {
        if self.colour {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The status bar.
    pub fn status(&self) -> Style {
        if self.colour {
            Style::new().fg(Color::White).bg(Color::Blue)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// The namespace in the status bar.
    pub fn status_ns(&self) -> Style {
        self.status().add_modifier(Modifier::BOLD)
    }

    /// A locked mark.
    pub fn locked(&self) -> Style {
        if self.colour {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// A locked mark inside a pane (no background).
    pub fn locked_text(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Errors.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Notes and warnings.
    pub fn note(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.colour {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// The line that heads each response.
    pub fn header(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The prompt of the input line.
    pub fn prompt(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// The current namespace in the tree.
    pub fn current(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// The selected row of a focused list.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The selected row of a list without focus.
    pub fn selected_unfocused(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }

    /// A search match.
    pub fn matched(&self) -> Style {
        if self.colour {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// A pane's border.
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.colour) {
            (true, true) => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => Style::new().add_modifier(Modifier::BOLD),
            (false, _) => self.dim(),
        }
    }

    /// A key name in the hints line and the help.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The border set.
    pub fn border_set(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::PLAIN
        }
    }

    /// The border set of the pane that has the keys.
    pub fn focused_border_set(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_FOCUSED_BORDER
        } else {
            border::THICK
        }
    }

    /// A warning that must be seen (a token about to expire).
    pub fn warning(&self) -> Style {
        if self.colour {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// The border set of dialogs.
    pub fn dialog_border_set(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::DOUBLE
        }
    }

    /// The spinner frame for a tick count.
    pub fn spinner(&self, tick: usize) -> &'static str {
        let frames = if self.ascii {
            SPINNER_ASCII
        } else {
            SPINNER_UNICODE
        };
        frames[tick % frames.len()]
    }

    /// Between breadcrumbs.
    pub fn crumb_sep(&self) -> &'static str {
        if self.ascii {
            " > "
        } else {
            " › "
        }
    }

    /// Between status bar fields.
    pub fn field_sep(&self) -> &'static str {
        if self.ascii {
            " | "
        } else {
            " │ "
        }
    }

    /// Tree node marks: expanded, collapsed, leaf.
    pub fn tree_marks(&self) -> (&'static str, &'static str, &'static str) {
        if self.ascii {
            ("- ", "+ ", "  ")
        } else {
            ("▾ ", "▸ ", "  ")
        }
    }

    /// The mark before a response's command line.
    pub fn response_mark(&self) -> &'static str {
        if self.ascii {
            ">"
        } else {
            "❯"
        }
    }

    /// "…"
    pub fn ellipsis(&self) -> &'static str {
        if self.ascii {
            "..."
        } else {
            "…"
        }
    }
}
