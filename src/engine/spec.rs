//! What every command family shares: the row a command has in the table (name, usage,
//! help, its flags and what each argument is, for help and completion) and the error of a
//! command line that does not parse. A leaf: it imports nothing of the engine.

/// What kind of word an argument is: completion offers candidates of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// A namespace path, as `cd` takes it.
    Namespace,
    /// A raw API path (`read secret/data/x`).
    ApiPath,
    /// A path as `ls` and `cat` take it: inside a KV v2 mount, without `data/`.
    KvPath,
    /// An ACL policy name of the current namespace.
    Policy,
    /// A secrets engine's path in the current namespace (`secrets disable`).
    SecretsMount,
    /// An auth method's path in the current namespace, without `auth/` (`auth tune`).
    AuthMount,
    /// A token accessor of the current namespace (`token lookup -accessor`).
    Accessor,
    /// One of these words.
    Words(&'static [&'static str]),
    /// Anything (a value, a name to create): nothing to offer.
    Free,
}

/// One row of the command table: what help prints and what completion knows.
#[derive(Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The word that starts it (for a subcommand, the word after its parent's).
    pub name: &'static str,
    /// Arguments, as in a man page synopsis.
    pub usage: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
    /// The flags it takes.
    pub flags: &'static [&'static str],
    /// What its positional arguments are, in order.
    pub args: &'static [Arg],
    /// The last argument may be given more than once (`lock A B C`).
    pub variadic: bool,
    /// Its subcommands (`ns list`, `ns lookup`, …), each a row of its own.
    pub subcommands: &'static [CommandInfo],
    /// Other words that start it (`namespace` for `ns`).
    pub aliases: &'static [&'static str],
}

impl CommandInfo {
    /// A row with no flags, arguments or subcommands yet.
    pub const fn new(name: &'static str, usage: &'static str, help: &'static str) -> CommandInfo {
        CommandInfo {
            name,
            usage,
            help,
            flags: &[],
            args: &[],
            variadic: false,
            subcommands: &[],
            aliases: &[],
        }
    }

    /// With these flags.
    pub const fn flags(mut self, flags: &'static [&'static str]) -> CommandInfo {
        self.flags = flags;
        self
    }

    /// With these positional arguments.
    pub const fn args(mut self, args: &'static [Arg]) -> CommandInfo {
        self.args = args;
        self
    }

    /// The last argument repeats.
    pub const fn variadic(mut self) -> CommandInfo {
        self.variadic = true;
        self
    }

    /// With these subcommands.
    pub const fn subcommands(mut self, subs: &'static [CommandInfo]) -> CommandInfo {
        self.subcommands = subs;
        self
    }

    /// Also started by these words.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> CommandInfo {
        self.aliases = aliases;
        self
    }

    /// Whether `word` starts this command.
    pub fn is_called(&self, word: &str) -> bool {
        self.name == word || self.aliases.contains(&word)
    }

    /// The subcommand `word` names, if any.
    pub fn subcommand(&self, word: &str) -> Option<&'static CommandInfo> {
        self.subcommands.iter().find(|s| s.is_called(word))
    }

    /// What the positional argument at `index` is.
    pub fn arg(&self, index: usize) -> Arg {
        self.args
            .get(index)
            .or(self.args.last().filter(|_| self.variadic))
            .copied()
            .unwrap_or(Arg::Free)
    }
}

/// A command line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nusage: {usage}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The command's usage line.
    pub usage: String,
}

impl UsageError {
    /// What is wrong with a command whose usage is `usage`.
    pub fn new(usage: &str, message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            usage: usage.to_string(),
        }
    }
}

/// A family's parser: `None` when the word does not start one of its commands.
pub type Parsed<T> = Option<Result<T, UsageError>>;

/// A command after its family's checks (which may ask the server): the command to run —
/// refined where the checks resolved it (a pattern expanded to the namespaces it matched,
/// so what runs is what the question named) — and the question it owes, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<T> {
    /// What will run.
    pub cmd: T,
    /// The question to ask before it runs; `None`: it runs without one.
    pub question: Option<String>,
}

impl<T> Checked<T> {
    /// Runs with no question.
    pub fn run(cmd: T) -> Checked<T> {
        Checked {
            cmd,
            question: None,
        }
    }

    /// Runs only once `question` is answered yes (or `--yes` was given).
    pub fn ask(cmd: T, question: impl Into<String>) -> Checked<T> {
        Checked {
            cmd,
            question: Some(question.into()),
        }
    }

    /// The same checks, the command wrapped (a family's command into the dispatcher's).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Checked<U> {
        Checked {
            cmd: f(self.cmd),
            question: self.question,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_argument_kind_repeats_when_variadic() {
        const C: CommandInfo = CommandInfo::new("x", "x A B…", "")
            .args(&[Arg::Namespace, Arg::ApiPath])
            .variadic();
        assert_eq!(C.arg(0), Arg::Namespace);
        assert_eq!(C.arg(1), Arg::ApiPath);
        assert_eq!(C.arg(5), Arg::ApiPath);
        assert_eq!(CommandInfo::new("y", "y", "").arg(0), Arg::Free);
        const ONE: CommandInfo = CommandInfo::new("z", "z A", "").args(&[Arg::Policy]);
        assert_eq!(ONE.arg(0), Arg::Policy);
        assert_eq!(ONE.arg(1), Arg::Free);
    }
}
