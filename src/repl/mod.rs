//! The line front end: rustyline for people, plain lines for `-c` and scripts.
//! It reads lines, asks the engine, and prints [`Output`]; it knows nothing of HTTP.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Mutex, Once, OnceLock};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{FileHistory, History};
use rustyline::validate::Validator;
use rustyline::{Config, Editor, Helper};

use crate::engine::commands;
use crate::engine::index;
use crate::engine::store::secure_file;
use crate::engine::{complete, sanitize, words, Command, EngineError, Format, Output, Session};

/// How a batch of commands ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every command succeeded.
    Ok,
    /// At least one command failed.
    Failed,
    /// `exit` was given.
    Exit,
}

/// Prints outputs and errors the way the session's format asks.
pub struct Printer {
    format: Format,
    pretty: bool,
}

impl Printer {
    /// A printer for `format`; JSON is pretty only when stdout is a terminal.
    pub fn new(format: Format) -> Printer {
        Printer {
            format,
            pretty: std::io::stdout().is_terminal(),
        }
    }

    /// Print a command's output: the document on stdout, notes on stderr. Nothing a server
    /// sent reaches the terminal raw: every text goes through [`sanitize`].
    pub fn output(&self, out: &Output) {
        let mut stderr = std::io::stderr().lock();
        for note in &out.notes {
            let _ = writeln!(stderr, "{}", sanitize::text(note));
        }
        let mut stdout = std::io::stdout().lock();
        let text = match self.format {
            // The same value, its raw C1 and DEL written as \u escapes, straight to stdout:
            // a tree of 20,000 namespaces is never also held as a string (or two).
            Format::Json => {
                if let Some(v) = &out.json {
                    let mut w = sanitize::JsonWriter::new(std::io::BufWriter::new(&mut stdout));
                    let written = if self.pretty {
                        serde_json::to_writer_pretty(&mut w, v)
                    } else {
                        serde_json::to_writer(&mut w, v)
                    };
                    if written.is_ok() {
                        if let Ok(mut buffered) = w.finish() {
                            let _ = writeln!(buffered);
                            let _ = buffered.flush();
                        }
                    }
                }
                String::new()
            }
            Format::Table => sanitize::view(&out.view).render_text(),
        };
        if !text.is_empty() {
            let _ = writeln!(stdout, "{text}");
        }
        let _ = stdout.flush();
    }

    /// Print an error on stderr: text, or `{"errors":[…]}` in JSON mode. A command that
    /// failed with a report (`diff`) prints the report as its output, then the summary.
    pub fn error(&self, e: &EngineError) {
        let message = match e {
            EngineError::Failed { summary, output } => {
                self.output(output);
                summary.clone()
            }
            other => other.to_string(),
        };
        let mut stderr = std::io::stderr().lock();
        let _ = match self.format {
            Format::Json => writeln!(
                stderr,
                "{}",
                sanitize::json(&serde_json::json!({ "errors": [message] }).to_string())
            ),
            Format::Table => writeln!(stderr, "error: {}", sanitize::text(&message)),
        };
    }
}

/// Asks whoever is at the terminal a question; true when the answer is yes.
pub type Ask<'a, 'f> = &'a mut (dyn FnMut(&str) -> bool + 'f);

/// What became of one command.
enum Ran {
    /// It ran (or was refused, or failed).
    Done(Result<Output, EngineError>),
    /// Its question was answered no: nothing was sent.
    Declined,
}

/// Run one command: its checks, its question (when someone can be asked), then the command,
/// the checks and the run each raced against Ctrl-C (an interrupt cancels the request, not
/// the shell; at the question Ctrl-C is an answer, "no"). With no one to ask, a command
/// that owes a question is refused by the engine, naming `--yes`.
async fn run_one(
    session: &mut Session,
    cmd: &Command,
    text: &str,
    ask: Option<Ask<'_, '_>>,
) -> Ran {
    let cancelled = || EngineError::Other("cancelled (Ctrl-C)".into());
    let can_ask = ask.is_some();
    let prepared = tokio::select! {
        r = commands::prepare(session, cmd, text, can_ask) => r,
        _ = tokio::signal::ctrl_c() => Err(cancelled()),
    };
    let mut prepared = match prepared {
        Ok(p) => p,
        Err(e) => return Ran::Done(Err(e)),
    };
    if let (Some(question), Some(ask)) = (prepared.question().map(str::to_string), ask) {
        if !ask(&question) {
            return Ran::Declined;
        }
        prepared.confirm();
    }
    // A command that stops itself at a safe point (`cp` between two keys) is asked to on
    // the first Ctrl-C, and reports what it did; a second Ctrl-C drops it all the same.
    let interrupt = session.interrupt().clone();
    let run = commands::execute(session, prepared);
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => return Ran::Done(r),
        _ = tokio::signal::ctrl_c() => {}
    }
    if !interrupt.request() {
        return Ran::Done(Err(cancelled()));
    }
    eprintln!("stopping at the next safe point (Ctrl-C again drops the command at once)…");
    Ran::Done(tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => Err(cancelled()),
    })
}

/// The prompt of a question: one line ends with ` [y/N] `; a question of several lines
/// (a bulk lock's list) keeps its lines and asks on a line of its own.
pub fn question_prompt(question: &str) -> String {
    let question = sanitize::text(question);
    if question.contains('\n') {
        format!("{question}\n[y/N] ")
    } else {
        format!("{question} [y/N] ")
    }
}

/// The progress line of long walks, on stderr when it is a terminal (redrawn in place).
fn progress_sink() -> Option<crate::engine::progress::ProgressSink> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(std::sync::Arc::new(|line: Option<String>| {
        let mut stderr = std::io::stderr().lock();
        let _ = match line {
            Some(l) => write!(stderr, "\r\x1b[2K{}", sanitize::line(&l)),
            None => write!(stderr, "\r\x1b[2K"),
        };
        let _ = stderr.flush();
    }))
}

/// Ask `question` on the terminal; Ctrl-C or Ctrl-D answer "no" at once. Only what is
/// typed once the question shows can answer it: keys already waiting (typed ahead, or a
/// paste meant for the next commands) are dropped first, and the user told, so that a
/// `y` meant for something else never confirms what cannot be undone. (The TUI's dialog
/// ignores keys for its first moments for the same reason.)
fn ask_on_terminal(question: &str) -> bool {
    let dropped = drop_typeahead();
    if dropped > 0 {
        eprintln!(
            "note: {dropped} byte{} typed before this question showed {} dropped: answer it now",
            if dropped == 1 { "" } else { "s" },
            if dropped == 1 { "was" } else { "were" }
        );
    }
    let config = Config::builder()
        .auto_add_history(false)
        .behavior(rustyline::Behavior::PreferTerm)
        .build();
    let mut editor: Editor<(), FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot ask on the terminal ({e}): not done");
            return false;
        }
    };
    match editor.readline(&question_prompt(question)) {
        Ok(answer) => is_yes(&answer),
        Err(_) => false,
    }
}

/// Discard what waits to be read on the terminal (standard input, else `/dev/tty`);
/// returns how many bytes that was.
fn drop_typeahead() -> usize {
    use std::os::fd::AsRawFd;
    let tty;
    let fd = if std::io::stdin().is_terminal() {
        libc::STDIN_FILENO
    } else {
        match std::fs::File::open("/dev/tty") {
            Ok(f) => {
                tty = f;
                tty.as_raw_fd()
            }
            Err(_) => return 0,
        }
    };
    let mut waiting: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `waiting`, which we own; `fd` is open.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut waiting) } != 0 {
        waiting = 0;
    }
    // SAFETY: tcflush only discards the terminal's input queue of an open fd.
    unsafe { libc::tcflush(fd, libc::TCIFLUSH) };
    usize::try_from(waiting).unwrap_or(0)
}

/// Whether an answer is yes (`y`, `yes`, any case); anything else, Enter alone included, is no.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

/// Run every command of one line. `ask` asks a destructive command's question; `None`
/// where no one can be asked (standard input is not a terminal): such a command is refused.
pub async fn run_line(
    session: &mut Session,
    printer: &Printer,
    line: &str,
    keep_going: bool,
    mut ask: Option<Ask<'_, '_>>,
) -> Outcome {
    let commands = match words::split_line(line) {
        Ok(c) => c,
        Err(e) => {
            printer.error(&e.into());
            return Outcome::Failed;
        }
    };
    let mut outcome = Outcome::Ok;
    for words in commands {
        let text = words
            .iter()
            .map(|w| words::quote_word(w))
            .collect::<Vec<_>>()
            .join(" ");
        let cmd = match commands::parse(&words, session.aliases()) {
            Ok(c) => c,
            Err(e) => {
                printer.error(&e.into());
                outcome = Outcome::Failed;
                if keep_going {
                    continue;
                }
                return outcome;
            }
        };
        if cmd.is_exit() {
            return Outcome::Exit;
        }
        match run_one(session, &cmd, &text, ask.as_deref_mut()).await {
            Ran::Done(Ok(out)) => printer.output(&out),
            Ran::Done(Err(e)) => {
                printer.error(&e);
                outcome = Outcome::Failed;
                if !keep_going {
                    return outcome;
                }
            }
            // Not done is not a success (a script's status says so), yet the line goes
            // on: the next command asks its own question.
            Ran::Declined => {
                eprintln!("not done.");
                outcome = Outcome::Failed;
            }
        }
    }
    outcome
}

/// Why a line of a script could not be read. Never silent: the batch fails with it.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The line's bytes are not UTF-8.
    #[error(
        "line {line} of the script is not valid UTF-8 (at byte {byte} of the line); it was not run"
    )]
    NotUtf8 {
        /// The line's number, from 1.
        line: usize,
        /// Where in the line the first bad byte is, from 0.
        byte: usize,
    },
    /// Standard input failed.
    #[error("cannot read line {line} of the script: {source}")]
    Read {
        /// The line's number, from 1.
        line: usize,
        /// What the system said.
        source: std::io::Error,
    },
}

/// One line of a batch: a `-c` string is one, a script on stdin yields them with their errors.
pub trait BatchLine {
    /// The line, or why it could not be read.
    fn into_line(self) -> Result<String, ScriptError>;
}

impl BatchLine for String {
    fn into_line(self) -> Result<String, ScriptError> {
        Ok(self)
    }
}

impl BatchLine for Result<String, ScriptError> {
    fn into_line(self) -> Result<String, ScriptError> {
        self
    }
}

/// Run a batch (`-c` or a script on stdin): exit status 0 when all succeeded, 1 otherwise.
/// A line that cannot be read fails the batch: an invalid line is skipped only with
/// `keep_going`, a read error always stops it.
pub async fn run_batch<I>(session: &mut Session, lines: I, keep_going: bool) -> i32
where
    I: IntoIterator,
    I::Item: BatchLine,
{
    // With a terminal on stdin, a command may still take it (a password asked unseen).
    if std::io::stdin().is_terminal() {
        save_tty();
        exit_on_signals();
    }
    let printer = Printer::new(session.options().format);
    progress_on_stderr(session);
    // Whoever typed `vnsh -c …` at a terminal is asked, on the terminal (/dev/tty, so the
    // question shows when stdout is redirected); a script on stdin has no one to ask.
    let mut ask_tty = ask_on_terminal;
    let can_ask = std::io::stdin().is_terminal();
    if let Some(sink) = progress_sink() {
        session.set_progress_sink(sink);
    }
    let code = batch_lines(session, &printer, lines, keep_going, can_ask, &mut ask_tty).await;
    for note in index::finish(session).await {
        eprintln!("{note}");
    }
    code
}

/// The lines of a batch, run in order; the exit status.
async fn batch_lines<I>(
    session: &mut Session,
    printer: &Printer,
    lines: I,
    keep_going: bool,
    can_ask: bool,
    ask_tty: &mut dyn FnMut(&str) -> bool,
) -> i32
where
    I: IntoIterator,
    I::Item: BatchLine,
{
    let mut failed = false;
    for line in lines {
        let line = match line.into_line() {
            Ok(line) => line,
            Err(e) => {
                let stop = matches!(e, ScriptError::Read { .. });
                printer.error(&EngineError::Other(e.to_string()));
                if stop || !keep_going {
                    return 1;
                }
                failed = true;
                continue;
            }
        };
        let ask: Option<Ask<'_, '_>> = if can_ask { Some(&mut *ask_tty) } else { None };
        match run_line(session, printer, &line, keep_going, ask).await {
            Outcome::Ok => {}
            Outcome::Failed => {
                failed = true;
                if !keep_going {
                    return 1;
                }
            }
            Outcome::Exit => break,
        }
    }
    i32::from(failed)
}

/// The lines of a script on stdin (read lazily, one command line each), numbered for errors.
pub fn stdin_lines() -> impl Iterator<Item = Result<String, ScriptError>> {
    script_lines(std::io::stdin().lock())
}

/// The lines of `input` without their `\n` (or `\r\n`), each checked to be UTF-8; the
/// iterator ends at the end of input or after the first read error.
pub fn script_lines<R: BufRead>(mut input: R) -> impl Iterator<Item = Result<String, ScriptError>> {
    let mut number = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        number += 1;
        let mut bytes = Vec::new();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => {
                done = true;
                None
            }
            Ok(_) => {
                if bytes.ends_with(b"\n") {
                    bytes.pop();
                    if bytes.ends_with(b"\r") {
                        bytes.pop();
                    }
                }
                Some(String::from_utf8(bytes).map_err(|e| ScriptError::NotUtf8 {
                    line: number,
                    byte: e.utf8_error().valid_up_to(),
                }))
            }
            Err(source) => {
                done = true;
                Some(Err(ScriptError::Read {
                    line: number,
                    source,
                }))
            }
        }
    })
}

/// rustyline's helper: Tab asks the engine's completer. It holds a copy of the
/// session's completion context, refreshed before each prompt.
pub struct LineHelper {
    context: std::sync::Mutex<complete::Context>,
}

impl Helper for LineHelper {}
impl Highlighter for LineHelper {}
impl Validator for LineHelper {}
impl Hinter for LineHelper {
    type Hint = String;
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let line = &line[..pos];
        let start = words::last_word_start(line);
        let ctx = match self.context.lock() {
            Ok(c) => c.clone(),
            Err(_) => return Ok((start, Vec::new())),
        };
        let handle = tokio::runtime::Handle::current();
        let found = tokio::task::block_in_place(|| {
            handle.block_on(async {
                // Tab offers what is known; it waits a moment for a fill in flight,
                // never for long (line mode cannot redraw the list when data arrives).
                complete::complete_for_tab(&ctx, line, std::time::Duration::from_millis(300)).await
            })
        });
        // A word with a control character (a key a server named so) would be drawn raw
        // in the line being edited: it is not offered.
        let pairs = found
            .into_iter()
            .filter(|w| !w.chars().any(sanitize::is_control))
            .map(|w| Pair {
                display: w.clone(),
                replacement: words::quote_word(&w),
            })
            .collect();
        Ok((start, pairs))
    }
}

/// The terminal's mode when line mode took it (stdin's), put back by [`restore_tty`].
static SAVED_TTY: OnceLock<libc::termios> = OnceLock::new();
/// Work to do before vnsh exits on a signal (stopping `--dev`'s server), each run once.
type ExitHook = Box<dyn FnOnce() + Send>;
static BEFORE_EXIT: Mutex<Vec<ExitHook>> = Mutex::new(Vec::new());
static SIGNALS: Once = Once::new();

/// Remember the terminal's mode, once per process, before anything (rustyline's raw mode, a
/// password prompt without echo) changes it. Does nothing when stdin is not a terminal.
fn save_tty() {
    if SAVED_TTY.get().is_some() || !std::io::stdin().is_terminal() {
        return;
    }
    // SAFETY: an all-zero termios is a valid value of this plain C struct, and tcgetattr
    // only writes into the one we own.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is open (it is a terminal) and `mode` is a valid place to write.
    if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut mode) } == 0 {
        let _ = SAVED_TTY.set(mode);
    }
}

/// Put the terminal back in the mode line mode found it in (cooked, with echo). Idempotent,
/// and does nothing when line mode never had the terminal; safe to call from anywhere.
pub fn restore_tty() {
    if let Some(mode) = SAVED_TTY.get() {
        // TCSANOW, not TCSADRAIN: after a hang-up there is no one to drain the output to.
        // SAFETY: `mode` came from tcgetattr on the same fd.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, mode);
        }
    }
}

/// Run `f` before line mode exits on a signal (e.g. stop `--dev`'s server): the process
/// exits from the signal task, so nothing is dropped after it.
pub fn before_signal_exit(f: impl FnOnce() + Send + 'static) {
    if let Ok(mut hooks) = BEFORE_EXIT.lock() {
        hooks.push(Box::new(f));
    }
}

async fn next_signal(sig: &mut Option<tokio::signal::unix::Signal>) {
    match sig {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// On SIGTERM, SIGHUP or SIGQUIT: restore the terminal, run the exit hooks, exit 128+N. The
/// line editor holds raw mode while it waits in a blocking read that nothing else can end,
/// so the signal is handled here, in a task of its own. SIGINT from elsewhere means what
/// Ctrl-C means (a running command is cancelled by [`run_one`]); at the prompt it no longer
/// kills the shell with the terminal raw. Set up once per process.
fn exit_on_signals() {
    use tokio::signal::unix::{signal, SignalKind};
    SIGNALS.call_once(|| {
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut quit = signal(SignalKind::quit()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        tokio::spawn(async move {
            let _int = int;
            let number = tokio::select! {
                _ = next_signal(&mut term) => libc::SIGTERM,
                _ = next_signal(&mut hup) => libc::SIGHUP,
                _ = next_signal(&mut quit) => libc::SIGQUIT,
            };
            restore_tty();
            let hooks = BEFORE_EXIT
                .lock()
                .map(|mut h| std::mem::take(&mut *h))
                .unwrap_or_default();
            for hook in hooks {
                hook();
            }
            // The shell's next prompt starts on a line of its own.
            if std::io::stdout().is_terminal() {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(b"\n");
                let _ = out.flush();
            }
            std::process::exit(128 + number);
        });
    });
}

/// A waiting command's progress lines (`ns delete --wait`) go to stderr as they come.
fn progress_on_stderr(session: &mut Session) {
    session.set_progress(std::sync::Arc::new(|line: &str| {
        eprintln!("{}", sanitize::text(line));
    }));
}

/// The line-mode prompt: the session's (namespace, lock), and `[read-only]` when the
/// session refuses every mutating command, so that it is seen before anything is typed.
pub fn line_prompt(session: &Session) -> String {
    let prompt = session.prompt();
    if !session.options().read_only {
        return prompt;
    }
    match prompt.strip_suffix("> ") {
        Some(head) => format!("{head} [read-only]> "),
        None => format!("[read-only] {prompt}"),
    }
}

/// The interactive line-mode REPL. Returns the exit status.
pub async fn run_interactive(session: &mut Session, keep_going: bool) -> i32 {
    save_tty();
    exit_on_signals();
    let printer = Printer::new(session.options().format);
    progress_on_stderr(session);
    if let Some(sink) = progress_sink() {
        session.set_progress_sink(sink);
    }
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)
        .and_then(|b| b.history_ignore_space(true).max_history_size(5000))
        .map(|b| b.completion_type(rustyline::CompletionType::List).build());
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot configure the line editor: {e}");
            return 2;
        }
    };
    let mut rl: Editor<LineHelper, FileHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 2;
        }
    };
    rl.set_helper(Some(LineHelper {
        context: std::sync::Mutex::new(commands::completion_context(session)),
    }));
    let history = session.state().history_file();
    let history_ok = session
        .state()
        .ensure()
        .and_then(|_| secure_file(&history))
        .map_err(|e| eprintln!("warning: history is off: {e}"))
        .is_ok();
    if history_ok {
        let _ = rl.load_history(&history);
    }
    session.warm_cache();
    if let Err(e) = commands::look_here(session).await {
        printer.error(&e);
    }
    index::open_in_background(session);
    let mut failed = false;
    loop {
        let prompt = sanitize::line(&line_prompt(session)).into_owned();
        if let Some(helper) = rl.helper_mut() {
            helper.context = std::sync::Mutex::new(commands::completion_context(session));
        }
        let line = match rl.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        // History never holds a secret: values of password=, token=, --key … are redacted.
        let redacted = words::redact_line(&line);
        if rl.history_mut().add(&redacted).unwrap_or(false) && history_ok {
            let _ = rl.append_history(&history);
        }
        // The question has a line editor of its own: lines typed ahead stay with the
        // shell's editor, to run after it, and never answer it.
        let mut ask = ask_on_terminal;
        match run_line(session, &printer, &line, keep_going, Some(&mut ask)).await {
            Outcome::Exit => break,
            Outcome::Failed => failed = true,
            Outcome::Ok => {}
        }
    }
    for note in index::finish(session).await {
        eprintln!("{note}");
    }
    i32::from(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Result<String, String>> {
        script_lines(input)
            .map(|l| l.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn questions_and_answers() {
        assert_eq!(question_prompt("Delete x?"), "Delete x? [y/N] ");
        assert_eq!(
            question_prompt("Lock these 2?\n  a\n  b"),
            "Lock these 2?\n  a\n  b\n[y/N] "
        );
        // A server's control character never reaches the terminal raw.
        assert!(!question_prompt("Delete \u{1b}[2Jx?").contains('\u{1b}'));
        for yes in ["y", "Y", "yes", " YES "] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "n", "no", "yess", "j", "y y"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn script_lines_are_numbered_and_checked() {
        assert_eq!(
            lines(b"a\r\nb\n\nc"),
            vec![
                Ok("a".into()),
                Ok("b".into()),
                Ok("".into()),
                Ok("c".into())
            ]
        );
        assert!(lines(b"").is_empty());
        let got = lines(b"ok\nbad \xff\nafter\n");
        assert_eq!(got[0], Ok("ok".into()));
        let err = got[1].clone().unwrap_err();
        assert!(err.contains("line 2") && err.contains("byte 4"), "{err}");
        assert_eq!(got[2], Ok("after".into()));
    }

    /// A reader that fails after its first line.
    struct Failing(bool);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::other("device gone"));
            }
            buf[..3].copy_from_slice(b"ls\n");
            Ok(3)
        }
    }

    #[test]
    fn a_read_error_is_the_last_line() {
        let got = lines_of(std::io::BufReader::new(Failing(false)));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok("ls".into()));
        let err = got[1].clone().unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("device gone"),
            "{err}"
        );
    }

    fn lines_of<R: BufRead>(r: R) -> Vec<Result<String, String>> {
        script_lines(r)
            .map(|l| l.map_err(|e| e.to_string()))
            .collect()
    }
}
