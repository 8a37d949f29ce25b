//! Key bindings as data: each [`Action`] has a list of keys, overridable by name
//! (`history_search = "ctrl-r"`), the way gitui's key list and atuin's keymap work.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action applies. The app asks the keymap with the scopes that are live now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Anywhere (unless a dialog is open).
    Global,
    /// The completion popup, while it is open.
    Popup,
    /// The input line.
    Input,
    /// The namespace tree and the response pane: moving up and down.
    Pane,
    /// The namespace tree.
    Tree,
    /// The response pane.
    Responses,
    /// A dialog (confirmation, unlock key).
    Dialog,
}

impl Scope {
    /// The heading of this scope in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Popup => "Completion popup",
            Scope::Input => "Input line",
            Scope::Pane => "Tree and responses",
            Scope::Tree => "Namespace tree",
            Scope::Responses => "Responses",
            Scope::Dialog => "Dialogs",
        }
    }
}

macro_rules! actions {
    ($( $variant:ident : $name:literal, $scope:ident, [$($key:literal),*], $help:literal; )*) => {
        /// What a key does. The name is what a configuration file uses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(
                #[doc = $help]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in the order the help overlay lists them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name used in configuration files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// Where it applies.
            pub fn scope(self) -> Scope {
                match self { $(Action::$variant => Scope::$scope,)* }
            }

            /// One line for the help overlay.
            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help,)* }
            }

            fn default_keys(self) -> &'static [&'static str] {
                match self { $(Action::$variant => &[$($key),*],)* }
            }
        }
    };
}

actions! {
    Help: "help", Global, ["f1"], "show the keys (also ? on an empty line, or in a pane)";
    Quit: "quit", Global, ["ctrl-d"], "quit, on an empty line (also `exit`)";
    Cancel: "cancel", Global, ["ctrl-c"], "cancel the running command; else clear the line";
    FocusNext: "focus_next", Global, ["tab"], "next pane (accepts the completion when the popup is open)";
    FocusPrev: "focus_prev", Global, ["backtab"], "previous pane";
    Close: "close", Global, ["esc"], "close the popup, search, filter or dialog; back to the input";
    ToggleView: "toggle_view", Global, ["f2"], "show responses as a table or as JSON";
    Copy: "copy", Global, ["f3"], "copy with OSC 52: the selected response (a lock: its unlock key); in the tree, the namespace's path";
    ToggleTree: "toggle_tree", Global, ["f4"], "show or hide the namespace tree";
    Reveal: "reveal", Global, ["f5"], "show or mask again the secret values of the selected response";
    PageUp: "page_up", Global, ["pageup"], "scroll a page up (the responses, from the input)";
    PageDown: "page_down", Global, ["pagedown"], "scroll a page down";
    Redraw: "redraw", Global, ["ctrl-l"], "redraw the whole screen";
    CompleteAccept: "complete_accept", Popup, ["tab"], "put the selected completion in the line";
    CompleteNext: "complete_next", Popup, ["down", "ctrl-n"], "next completion";
    CompletePrev: "complete_prev", Popup, ["up", "ctrl-p"], "previous completion";
    Submit: "submit", Input, ["enter"], "run the line";
    HistoryPrev: "history_prev", Input, ["up", "ctrl-p"], "previous line from history";
    HistoryNext: "history_next", Input, ["down", "ctrl-n"], "next line from history";
    HistorySearch: "history_search", Input, ["ctrl-r"], "search the history backwards (again: older)";
    LineStart: "line_start", Input, ["ctrl-a", "home"], "cursor to the start of the line";
    LineEnd: "line_end", Input, ["ctrl-e", "end"], "cursor to the end of the line";
    CharLeft: "char_left", Input, ["left", "ctrl-b"], "cursor one character left";
    CharRight: "char_right", Input, ["right", "ctrl-f"], "cursor one character right";
    WordLeft: "word_left", Input, ["alt-b", "ctrl-left"], "cursor one word left";
    WordRight: "word_right", Input, ["alt-f", "ctrl-right"], "cursor one word right";
    DeleteBack: "delete_back", Input, ["backspace", "ctrl-h"], "delete the character before the cursor";
    DeleteForward: "delete_forward", Input, ["delete"], "delete the character under the cursor";
    KillToStart: "kill_to_start", Input, ["ctrl-u"], "cut from the start of the line to the cursor";
    KillToEnd: "kill_to_end", Input, ["ctrl-k"], "cut from the cursor to the end of the line";
    KillWord: "kill_word", Input, ["ctrl-w", "alt-backspace"], "cut the word before the cursor";
    Yank: "yank", Input, ["ctrl-y"], "paste what was cut last";
    Up: "up", Pane, ["up"], "move up";
    Down: "down", Pane, ["down"], "move down";
    Top: "top", Pane, ["home"], "go to the top";
    Bottom: "bottom", Pane, ["end"], "go to the bottom";
    Expand: "expand", Tree, ["right"], "expand the namespace (lists its children)";
    Collapse: "collapse", Tree, ["left"], "collapse, or go to the parent";
    ExpandAll: "expand_all", Tree, ["*"], "expand everything below the namespace (one listing of its subtree)";
    Filter: "filter", Tree, ["/"], "filter the whole known tree (fuzzy); Enter jumps to the match";
    CdSelected: "cd_selected", Tree, ["enter"], "cd into the namespace (the focus goes back to the input)";
    TreeLs: "tree_ls", Tree, ["f6", "alt-l"], "ls the namespace";
    TreeDescribe: "tree_describe", Tree, ["f7", "alt-d"], "describe the namespace";
    TreeLock: "tree_lock", Tree, ["f8", "alt-k"], "lock the namespace (asks first, as `lock` does)";
    TreeUnlock: "tree_unlock", Tree, ["f9", "alt-u"], "unlock the namespace (with the saved key, as `unlock` does)";
    ReloadTree: "reload_tree", Tree, ["alt-r"], "list the expanded namespaces again";
    Search: "search", Responses, ["/"], "search in the responses";
    SearchNext: "search_next", Responses, ["alt-n"], "next match";
    SearchPrev: "search_prev", Responses, ["alt-p"], "previous match";
    PrevResponse: "prev_response", Responses, ["["], "select the previous response";
    NextResponse: "next_response", Responses, ["]"], "select the next response";
    ScrollLeft: "scroll_left", Responses, ["left"], "scroll left";
    ScrollRight: "scroll_right", Responses, ["right"], "scroll right";
    Yes: "yes", Dialog, ["y"], "answer yes";
    No: "no", Dialog, ["n", "enter"], "answer no (the default); close the unlock-key dialog";
    DialogCopy: "dialog_copy", Dialog, ["alt-c"], "copy the unlock key with OSC 52 (as F3; any character closes the key's dialog and is typed)";
}

impl Action {
    /// The action with this configuration name.
    pub fn from_name(name: &str) -> Option<Action> {
        let name = name.trim().replace('-', "_");
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// One key with its modifiers, as a configuration file writes it: `ctrl-r`, `f1`, `tab`,
/// `shift-tab`, `alt-b`, `pageup`, `space`, `G`, `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (Shift is part of a character, and of `backtab`).
    pub mods: KeyModifiers,
}

impl KeySpec {
    /// Parse a key spec; the error says what was not understood.
    pub fn parse(spec: &str) -> Result<KeySpec, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err("an empty key".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        // A single character is a key even when it is `-`.
        while rest.chars().count() > 1 {
            let Some((prefix, tail)) = rest.split_once('-') else {
                break;
            };
            if tail.is_empty() {
                break;
            }
            match prefix.to_ascii_lowercase().as_str() {
                "ctrl" | "c" | "control" => mods |= KeyModifiers::CONTROL,
                "alt" | "a" | "m" | "meta" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                other => return Err(format!("unknown modifier `{other}` in `{spec}`")),
            }
            rest = tail;
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "enter" | "return" | "ret" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "backspace" | "bs" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" | "pgdown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            "minus" => KeyCode::Char('-'),
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                let n: u8 = f[1..]
                    .parse()
                    .map_err(|_| format!("bad function key `{rest}`"))?;
                if !(1..=24).contains(&n) {
                    return Err(format!("no function key `{rest}`"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        // `shift-g` is `G`; with Ctrl or Alt the letter is taken lower case,
                        // as terminals send it.
                        let c = if mods.contains(KeyModifiers::SHIFT) {
                            mods.remove(KeyModifiers::SHIFT);
                            c.to_ascii_uppercase()
                        } else if mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
                            c.to_ascii_lowercase()
                        } else {
                            c
                        };
                        KeyCode::Char(c)
                    }
                    _ => return Err(format!("unknown key `{rest}` in `{spec}`")),
                }
            }
        };
        Ok(KeySpec { code, mods })
    }

    /// The spec of a key event as it arrives from the terminal, normalised the same way.
    pub fn from_event(ev: &KeyEvent) -> KeySpec {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            other => other,
        };
        if code == KeyCode::BackTab {
            mods.remove(KeyModifiers::SHIFT);
        }
        KeySpec { code, mods }
    }
}

/// The characters a pane may take as keys: no command starts with one of them (an
/// alias that does is typed from the command line).
pub const PANE_CHARS: &str = "/ * ? [ ]";

impl KeySpec {
    /// Whether the key types text in the command line: a character without Ctrl or Alt
    /// that is not one of [`PANE_CHARS`]. Such a key never acts in a pane.
    pub fn types_text(&self) -> bool {
        match self.code {
            KeyCode::Char(c) => {
                !self
                    .mods
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                    && !PANE_CHARS.split(' ').any(|p| p.starts_with(c))
            }
            _ => false,
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl KeySpec {
    /// As [`Display`](fmt::Display), with ASCII names for the arrows.
    pub fn label(&self, ascii: bool) -> String {
        let s = self.to_string();
        if !ascii {
            return s;
        }
        s.replace('↑', "Up")
            .replace('↓', "Down")
            .replace('←', "Left")
            .replace('→', "Right")
    }
}

/// The key bindings: for each action, its keys.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<KeySpec>>,
    /// (scope, key) → the first action of the scope bound to it: every key typed is
    /// looked up here (a paste of 100,000 characters is 100,000 look-ups).
    index: HashMap<(Scope, KeySpec), Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

impl Keymap {
    /// The default bindings (readline, k9s and gitui habits).
    pub fn defaults() -> Keymap {
        let bindings = Action::ALL
            .iter()
            .map(|a| {
                let keys = a
                    .default_keys()
                    .iter()
                    .filter_map(|k| KeySpec::parse(k).ok())
                    .collect();
                (*a, keys)
            })
            .collect();
        Keymap::indexed(bindings)
    }

    fn indexed(bindings: BTreeMap<Action, Vec<KeySpec>>) -> Keymap {
        let mut index = HashMap::new();
        // In the order of Action::ALL, so that the first action of a scope wins.
        for a in Action::ALL {
            for k in bindings.get(a).map(Vec::as_slice).unwrap_or(&[]) {
                index.entry((a.scope(), *k)).or_insert(*a);
            }
        }
        Keymap { bindings, index }
    }

    /// The defaults with `overrides` (action name → keys, several separated by commas or
    /// spaces; an empty value unbinds). Bad entries keep their defaults and are returned
    /// as problems, one line each.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> (Keymap, Vec<String>) {
        let mut map = Keymap::defaults();
        let mut problems = Vec::new();
        for (name, spec) in overrides {
            let Some(action) = Action::from_name(name) else {
                problems.push(format!("keys: no action named `{name}`"));
                continue;
            };
            let parsed: Result<Vec<KeySpec>, String> = spec
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(KeySpec::parse)
                .collect();
            match parsed {
                Ok(keys) => match keys.iter().find(|k| k.types_text()) {
                    Some(k) if action.scope() != Scope::Dialog => problems.push(format!(
                        "keys: {name}: `{}` types text (every character goes to the command line); bind a key with Ctrl or Alt, a function key or one of {}",
                        k.label(true),
                        PANE_CHARS
                    )),
                    _ => {
                        map.bindings.insert(action, keys);
                    }
                },
                Err(e) => problems.push(format!("keys: {name}: {e}")),
            }
        }
        (Keymap::indexed(map.bindings), problems)
    }

    /// The keys of an action.
    pub fn keys(&self, action: Action) -> &[KeySpec] {
        self.bindings.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first key of an action, for hints ("" when unbound).
    pub fn first_key(&self, action: Action, ascii: bool) -> String {
        self.keys(action)
            .first()
            .map(|k| k.label(ascii))
            .unwrap_or_default()
    }

    /// All keys of an action for the help overlay: `Ctrl-A, Home`.
    pub fn describe(&self, action: Action, ascii: bool) -> String {
        let keys: Vec<String> = self.keys(action).iter().map(|k| k.label(ascii)).collect();
        if keys.is_empty() {
            "(unbound)".into()
        } else {
            keys.join(", ")
        }
    }

    /// The bindings as a Markdown table (scope, action name, keys, what it does), for the docs.
    pub fn key_table(&self) -> String {
        let mut out = String::from(
            "| where | action (config name) | keys | what it does |\n| --- | --- | --- | --- |\n",
        );
        for a in Action::ALL {
            let keys: Vec<String> = self
                .keys(*a)
                .iter()
                .map(|k| format!("`{}`", k.label(false)))
                .collect();
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                a.scope().title(),
                a.name(),
                keys.join(" "),
                a.help().replace('|', "\\|")
            ));
        }
        out
    }

    /// The action bound to `key` in the first of `scopes` that has one.
    pub fn action(&self, scopes: &[Scope], key: &KeyEvent) -> Option<Action> {
        let spec = KeySpec::from_event(key);
        scopes
            .iter()
            .find_map(|scope| self.index.get(&(*scope, spec)).copied())
    }

    /// Whether `key` is bound to `action`.
    pub fn is(&self, action: Action, key: &KeyEvent) -> bool {
        self.keys(action).contains(&KeySpec::from_event(key))
    }
}

/// One line of the help overlay, as plain text (the drawing styles it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    /// A line of introduction.
    Intro(&'static str),
    /// An empty line.
    Blank,
    /// A scope's heading.
    Title(&'static str),
    /// A key and what it does.
    Key {
        /// The keys, described.
        keys: String,
        /// What the action does.
        help: &'static str,
    },
}

/// The help overlay: every action of every scope with its keys.
pub fn help_rows(keymap: &Keymap, ascii: bool) -> Vec<HelpRow> {
    let mut rows = vec![
        HelpRow::Intro("Commands are those of line mode: `help` lists them."),
        HelpRow::Intro("Every character typed goes to the command line, wherever the focus is; panes take arrows, Enter, function keys, Alt- and Ctrl- keys, and / * ? [ ] (which no command starts with)."),
        HelpRow::Intro("? on an empty line (or in a pane) opens this help."),
    ];
    let scopes = [
        Scope::Global,
        Scope::Input,
        Scope::Popup,
        Scope::Pane,
        Scope::Tree,
        Scope::Responses,
        Scope::Dialog,
    ];
    for scope in scopes {
        rows.push(HelpRow::Blank);
        rows.push(HelpRow::Title(scope.title()));
        for a in Action::ALL.iter().filter(|a| a.scope() == scope) {
            rows.push(HelpRow::Key {
                keys: keymap.describe(*a, ascii),
                help: a.help(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn parses_specs() {
        let p = |s| KeySpec::parse(s).unwrap();
        assert_eq!(p("ctrl-r").code, KeyCode::Char('r'));
        assert_eq!(p("ctrl-r").mods, KeyModifiers::CONTROL);
        assert_eq!(p("C-R"), p("ctrl-r"));
        assert_eq!(p("f1").code, KeyCode::F(1));
        assert_eq!(p("shift-tab"), p("backtab"));
        assert_eq!(p("shift-g"), p("G"));
        assert_eq!(p("-").code, KeyCode::Char('-'));
        assert_eq!(p("alt-backspace").mods, KeyModifiers::ALT);
        assert!(KeySpec::parse("hyper-x").is_err());
        assert!(KeySpec::parse("f99").is_err());
        assert!(KeySpec::parse("nope").is_err());
    }

    #[test]
    fn every_default_parses_and_displays() {
        for a in Action::ALL {
            assert_eq!(
                a.default_keys().len(),
                Keymap::defaults().keys(*a).len(),
                "{}",
                a.name()
            );
            assert_eq!(Action::from_name(a.name()), Some(*a));
        }
        assert_eq!(KeySpec::parse("ctrl-r").unwrap().to_string(), "Ctrl-R");
        assert_eq!(KeySpec::parse("backtab").unwrap().to_string(), "Shift-Tab");
    }

    #[test]
    fn lookup_by_scope() {
        let map = Keymap::defaults();
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.action(&[Scope::Global, Scope::Input], &j), None);
        assert_eq!(
            map.action(&[Scope::Global, Scope::Pane], &j),
            None,
            "j types"
        );
        let down = key(KeyCode::Down, KeyModifiers::NONE);
        assert_eq!(
            map.action(&[Scope::Global, Scope::Pane], &down),
            Some(Action::Down)
        );
        let up = key(KeyCode::Up, KeyModifiers::NONE);
        assert_eq!(
            map.action(&[Scope::Popup, Scope::Global, Scope::Input], &up),
            Some(Action::CompletePrev)
        );
        assert_eq!(
            map.action(&[Scope::Global, Scope::Input], &up),
            Some(Action::HistoryPrev)
        );
        let star = key(KeyCode::Char('*'), KeyModifiers::NONE);
        assert_eq!(map.action(&[Scope::Tree], &star), Some(Action::ExpandAll));
        let alt_k = key(KeyCode::Char('k'), KeyModifiers::ALT);
        assert_eq!(map.action(&[Scope::Tree], &alt_k), Some(Action::TreeLock));
        let backtab = key(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            map.action(&[Scope::Global], &backtab),
            Some(Action::FocusPrev)
        );
    }

    /// The input model: outside dialogs no key that types text is bound, so every
    /// character typed anywhere reaches the command line.
    #[test]
    fn no_default_key_outside_dialogs_types_text() {
        let map = Keymap::defaults();
        for a in Action::ALL.iter().filter(|a| a.scope() != Scope::Dialog) {
            for k in map.keys(*a) {
                assert!(!k.types_text(), "{} is bound to {k}", a.name());
            }
        }
        let mut o = BTreeMap::new();
        o.insert("tree_lock".to_string(), "L".to_string());
        o.insert("filter".to_string(), "ctrl-f".to_string());
        let (map, problems) = Keymap::with_overrides(&o);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("types text"), "{problems:?}");
        assert_eq!(
            map.keys(Action::TreeLock),
            Keymap::defaults().keys(Action::TreeLock)
        );
        assert_eq!(map.keys(Action::Filter).len(), 1);
    }

    #[test]
    fn overrides_replace_and_report() {
        let mut o = BTreeMap::new();
        o.insert("history-search".to_string(), "ctrl-s, f5".to_string());
        o.insert("help".to_string(), "".to_string());
        o.insert("nope".to_string(), "x".to_string());
        o.insert("quit".to_string(), "ctrl-nope-x".to_string());
        let (map, problems) = Keymap::with_overrides(&o);
        assert_eq!(map.keys(Action::HistorySearch).len(), 2);
        assert!(map.is(
            Action::HistorySearch,
            &key(KeyCode::F(5), KeyModifiers::NONE)
        ));
        assert!(map.keys(Action::Help).is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(map.keys(Action::Quit).len(), 1);
    }
}
