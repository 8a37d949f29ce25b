//! The engine task: the [`Session`] lives here, off the UI loop. It takes command lines
//! over a channel, runs them one after another, asks the UI to confirm destructive ones,
//! and sends back what happened as [`EngineEvent`]s. A cancel (Ctrl-C) drops the command
//! in flight, never the session.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::engine::commands;
use crate::engine::identity;
use crate::engine::index;
use crate::engine::nspath::NsPath;
use crate::engine::reader::{self, Reader};
use crate::engine::session::Marks;
use crate::engine::{complete, words, EngineError, Output, SecretAsk, Session};

/// What the UI asks of the engine task.
#[derive(Debug)]
pub enum Request {
    /// Run a command line (`;` separates commands), as typed.
    Run {
        /// The job id (Ctrl-C names it).
        id: u64,
        /// The line.
        line: String,
    },
    /// The server changed (it came back after it did not answer, or another one answers
    /// at the address): ask who it is again (the key store files keys by it), forget what
    /// completion knew, and look at the current namespace again.
    Recheck,
}

/// What the engine task tells the UI.
#[derive(Debug)]
pub enum EngineEvent {
    /// Where the session is now (after start-up and after each line).
    Prompt {
        /// The current namespace.
        cwd: NsPath,
        /// The locked namespace that covers it, if any.
        locked: Option<NsPath>,
        /// Whether it is sealed (or under a sealed one) or being deleted, as last seen.
        marks: Marks,
        /// What completion needs, for the current namespace.
        context: complete::Context,
    },
    /// A command of a line really started: its checks are done and its question, if it
    /// had one, answered yes (never sent while a question waits).
    Started {
        /// The job.
        id: u64,
        /// The command, redacted.
        command: String,
    },
    /// A destructive command's checks passed and it waits for an answer: nothing of it is
    /// running (no `Started` yet; it comes after a yes).
    Confirm {
        /// The job.
        id: u64,
        /// The question.
        question: String,
        /// Where the answer goes (dropping it means no).
        reply: oneshot::Sender<bool>,
    },
    /// A command needs a secret (`login`'s password): the UI asks it, unseen. The secret
    /// goes to `reply` and nowhere else; dropping `reply` cancels the command's login.
    Secret {
        /// What is asked (`Password (will be hidden): `).
        label: String,
        /// Where the secret goes.
        reply: oneshot::Sender<String>,
    },
    /// The session has another connection, top or home (the token was looked up,
    /// `login`): the UI's own reads (tree, status, health) go through it from now on.
    Reconnected {
        /// The session's connection (its token).
        reader: Reader,
        /// The token's namespace: the tree's top.
        top: NsPath,
        /// Home.
        home: NsPath,
    },
    /// A command finished (or was declined, or did not parse).
    Finished {
        /// The job.
        id: u64,
        /// The namespace it ran in.
        ns: String,
        /// The command, redacted.
        command: String,
        /// Its output, or the error in words.
        result: Result<Output, String>,
        /// The unlock key a lock returned.
        unlock_key: Option<String>,
        /// Whether it changed the server (the tree is listed again).
        mutating: bool,
    },
    /// The line was cancelled with Ctrl-C.
    Cancelled {
        /// The job.
        id: u64,
    },
    /// The line is done; `exit` asks the app to quit.
    Done {
        /// The job.
        id: u64,
        /// `exit` was among the commands.
        exit: bool,
        /// A command failed.
        failed: bool,
    },
    /// Something to tell outside a command (the first look at the namespace failed).
    Notice(String),
    /// A command found the server unreachable (no answer at all), with why.
    Unreachable(String),
    /// The progress line of a long walk (`None`: it ended).
    Progress(Option<String>),
}

/// The handles the UI keeps to talk to the engine task.
#[derive(Debug)]
pub struct EngineHandle {
    /// Command lines.
    pub requests: mpsc::UnboundedSender<Request>,
    /// Job ids to cancel.
    pub cancels: mpsc::UnboundedSender<u64>,
}

/// Start the engine task on `session`; its events go to `events` (mapped with `wrap`).
pub fn spawn<E, F>(
    mut session: Session,
    events: mpsc::UnboundedSender<E>,
    wrap: F,
) -> (EngineHandle, tokio::task::JoinHandle<()>)
where
    E: Send + 'static,
    F: Fn(EngineEvent) -> E + Send + Sync + 'static,
{
    let (req_tx, req_rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel_rx) = mpsc::unbounded_channel();
    let wrap: Wrap<E> = Arc::new(wrap);
    {
        // A secret the session needs is asked in a dialog: the keyboard is the UI's.
        let (tx, wrap) = (events.clone(), wrap.clone());
        session.set_secret_asker(Arc::new(move |ask: SecretAsk| {
            let _ = tx.send(wrap(EngineEvent::Secret {
                label: ask.label,
                reply: ask.reply,
            }));
        }));
    }
    {
        // How far a waiting command is (`ns delete --wait`), as it goes.
        let (tx, wrap) = (events.clone(), wrap.clone());
        session.set_progress(Arc::new(move |line: &str| {
            let _ = tx.send(wrap(EngineEvent::Notice(line.to_string())));
        }));
    }
    {
        // The meter of a long walk (done/total), redrawn in the status line.
        let (tx, wrap) = (events.clone(), wrap.clone());
        session.set_progress_sink(Arc::new(move |line: Option<String>| {
            let _ = tx.send(wrap(EngineEvent::Progress(line)));
        }));
    }
    let sink = Sink { tx: events, wrap };
    let task = tokio::spawn(engine_loop(session, req_rx, cancel_rx, sink));
    (
        EngineHandle {
            requests: req_tx,
            cancels: cancel_tx,
        },
        task,
    )
}

type Wrap<E> = Arc<dyn Fn(EngineEvent) -> E + Send + Sync>;

struct Sink<E> {
    tx: mpsc::UnboundedSender<E>,
    wrap: Wrap<E>,
}

impl<E> Sink<E> {
    fn send(&self, ev: EngineEvent) {
        // The UI is gone only when the app is quitting: nothing to tell then.
        let _ = self.tx.send((self.wrap)(ev));
    }

    /// Where the session is; first its client and top when they changed since `seen`.
    fn prompt_since(&self, session: &Session, seen: &mut u64) {
        if session.generation() != *seen {
            *seen = session.generation();
            self.send(EngineEvent::Reconnected {
                reader: Reader::of(session),
                top: session.top().clone(),
                home: session.home().clone(),
            });
        }
        self.prompt(session);
    }

    fn prompt(&self, session: &Session) {
        self.send(EngineEvent::Prompt {
            cwd: session.cwd().clone(),
            locked: session.locked().cloned(),
            marks: session.marks().clone(),
            context: commands::completion_context(session),
        });
    }
}

async fn engine_loop<E>(
    mut session: Session,
    mut requests: mpsc::UnboundedReceiver<Request>,
    mut cancels: mpsc::UnboundedReceiver<u64>,
    sink: Sink<E>,
) {
    session.warm_cache();
    let mut seen = session.generation();
    sink.prompt(&session);
    // The first look at the namespace (its lock state). A slow server must not hold the
    // first command hostage: a Ctrl-C meanwhile ends the look and cancels that command.
    let mut cancelled_early = Vec::new();
    tokio::select! {
        r = commands::look_here(&mut session) => {
            if let Err(e) = r {
                sink.send(EngineEvent::Notice(e.to_string()));
            }
        }
        Some(id) = cancels.recv() => cancelled_early.push(id),
    }
    for note in commands::state_report(&mut session).await {
        sink.send(EngineEvent::Notice(note));
    }
    index::open_in_background(&session);
    sink.prompt_since(&session, &mut seen);
    while let Some(request) = requests.recv().await {
        let (id, line) = match request {
            Request::Run { id, line } => (id, line),
            Request::Recheck => {
                recheck(&mut session, &sink).await;
                sink.prompt_since(&session, &mut seen);
                continue;
            }
        };
        if cancelled_early.contains(&id) {
            sink.send(EngineEvent::Cancelled { id });
            sink.send(EngineEvent::Done {
                id,
                exit: false,
                failed: true,
            });
            continue;
        }
        let interrupt = session.interrupt().clone();
        let outcome = {
            let run = run_line(&mut session, id, &line, &sink);
            tokio::pin!(run);
            let first = tokio::select! {
                o = &mut run => Some(o),
                _ = cancelled(&mut cancels, id) => None,
            };
            match first {
                // A command that stops itself at a safe point (`cp` between two keys) is
                // asked to, and reports what it did; a second Ctrl-C drops it.
                None if interrupt.request() => tokio::select! {
                    o = &mut run => Some(o),
                    _ = cancelled(&mut cancels, id) => None,
                },
                other => other,
            }
        };
        let (exit, failed) = match outcome {
            Some(o) => o,
            None => {
                sink.send(EngineEvent::Cancelled { id });
                (false, true)
            }
        };
        sink.prompt_since(&session, &mut seen);
        sink.send(EngineEvent::Done { id, exit, failed });
    }
    // The UI is gone: what was learnt goes to the index (nowhere to say a failure).
    let _ = index::finish(&mut session).await;
}

/// The server changed: who it is is asked again (a lock files its key under it), what
/// completion knew is dropped, and the current namespace is looked at again.
async fn recheck<E>(session: &mut Session, sink: &Sink<E>) {
    let id = identity::ask(session.client()).await;
    if id.cluster_id.is_some() {
        session.set_server(id);
    }
    session.cache().forget_server();
    session.warm_cache();
    if let Err(e) = commands::look_here(session).await {
        sink.send(EngineEvent::Notice(e.to_string()));
    }
    index::open_in_background(session);
}

/// Tell the UI when a command found the server unreachable (it asks health at once).
fn report_unreachable<E>(result: &Result<Output, EngineError>, sink: &Sink<E>) {
    if let Err(e) = result {
        if reader::engine_unreachable(e) {
            sink.send(EngineEvent::Unreachable(e.to_string()));
        }
    }
}

/// Resolves when job `id` is cancelled; stale cancels (of jobs already done) are skipped.
async fn cancelled(cancels: &mut mpsc::UnboundedReceiver<u64>, id: u64) {
    loop {
        match cancels.recv().await {
            Some(c) if c == id => return,
            Some(_) => continue,
            None => std::future::pending::<()>().await,
        }
    }
}

/// Run the commands of one line; stop at the first failure (as line mode does).
/// Returns (exit asked, a command failed).
async fn run_line<E>(session: &mut Session, id: u64, line: &str, sink: &Sink<E>) -> (bool, bool) {
    let shown = words::redact_line(line.trim());
    let commands = match words::split_line(line) {
        Ok(c) => c,
        Err(e) => {
            sink.send(EngineEvent::Finished {
                id,
                ns: session.cwd().display(),
                command: shown,
                result: Err(EngineError::from(e).to_string()),
                unlock_key: None,
                mutating: false,
            });
            return (false, true);
        }
    };
    for words_of in commands {
        let text = words_of
            .iter()
            .map(|w| words::quote_word(w))
            .collect::<Vec<_>>()
            .join(" ");
        let command = words::redact_line(&text);
        let ns = session.cwd().display();
        let finish = |result: Result<Output, String>, unlock_key, mutating| {
            sink.send(EngineEvent::Finished {
                id,
                ns: ns.clone(),
                command: command.clone(),
                result,
                unlock_key,
                mutating,
            })
        };
        let cmd = match commands::parse(&words_of, session.aliases()) {
            Ok(c) => c,
            Err(e) => {
                finish(Err(EngineError::from(e).to_string()), None, false);
                return (false, true);
            }
        };
        if cmd.is_exit() {
            return (true, false);
        }
        if cmd.reads_stdin() {
            finish(
                Err("in the TUI the keyboard is standard input: `-` cannot read a value; use k=@FILE".into()),
                None,
                false,
            );
            return (false, true);
        }
        // The checks come first (read-only, names, what the server would refuse): a
        // command they refuse asks nothing.
        let mut prepared = match commands::prepare(session, &cmd, &text, true).await {
            Ok(p) => p,
            Err(e) => {
                finish(Err(e.to_string()), None, false);
                return (false, true);
            }
        };
        if let Some(question) = prepared.question().map(str::to_string) {
            let (reply, answer) = oneshot::channel();
            sink.send(EngineEvent::Confirm {
                id,
                question,
                reply,
            });
            if !answer.await.unwrap_or(false) {
                finish(Ok(Output::default().with_note("not done.")), None, false);
                continue;
            }
            prepared.confirm();
        }
        sink.send(EngineEvent::Started {
            id,
            command: command.clone(),
        });
        let result = commands::execute(session, prepared).await;
        report_unreachable(&result, sink);
        let unlock_key = match &result {
            Ok(out) if cmd.is_lock() => out
                .json
                .as_ref()
                .and_then(|j| j.get("unlock_key"))
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        };
        let failed = result.is_err();
        finish(
            result.map_err(|e| e.to_string()),
            unlock_key,
            cmd.is_mutating(),
        );
        if failed {
            return (false, true);
        }
    }
    (false, false)
}
