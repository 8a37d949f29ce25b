//! Long walks (`find -t`, `diff -r`, `cp -r`): the progress line they show while they run
//! (done / total, in either front end) and the interrupt that asks one to stop at a safe
//! point. A leaf: it imports nothing of the engine.
//!
//! A front end hands the session a [`ProgressSink`] (line mode draws one line on a
//! terminal's stderr, the TUI its status line) and trips the session's [`Interrupt`] on
//! Ctrl-C. A command that can stop cleanly (`cp` between two keys) [`Interrupt::listen`]s,
//! and the front end then waits for it to stop; any other command is dropped at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Where a progress line goes: `Some(line)` shows (or replaces) it, `None` clears it.
pub type ProgressSink = Arc<dyn Fn(Option<String>) + Send + Sync>;

/// No line before a walk has run this long: a quick one never flickers.
const FIRST_AFTER: Duration = Duration::from_millis(150);
/// At most one new line this often.
const EVERY: Duration = Duration::from_millis(100);

/// A progress line for one walk: `LABEL: DONE/TOTAL UNIT`, drawn at most every 100 ms,
/// cleared when the walk ends (when the meter is dropped).
pub struct Meter {
    sink: Option<ProgressSink>,
    label: String,
    unit: &'static str,
    total: usize,
    started: Instant,
    last: Option<Instant>,
}

impl Meter {
    /// A meter that draws on `sink` (none: draws nothing).
    pub fn new(sink: Option<ProgressSink>, label: &str, unit: &'static str, total: usize) -> Meter {
        Meter {
            sink,
            label: label.to_string(),
            unit,
            total,
            started: Instant::now(),
            last: None,
        }
    }

    /// `done` of the total are done.
    pub fn tick(&mut self, done: usize) {
        let Some(sink) = &self.sink else { return };
        let now = Instant::now();
        let due = match self.last {
            None => now.duration_since(self.started) >= FIRST_AFTER,
            Some(last) => now.duration_since(last) >= EVERY,
        };
        if due {
            self.last = Some(now);
            sink(Some(self.line(done)));
        }
    }

    /// The line for `done` done.
    pub fn line(&self, done: usize) -> String {
        format!(
            "{}: {done}/{} {} (Ctrl-C stops)",
            self.label, self.total, self.unit
        )
    }

    /// The total grew (a walk that finds more as it goes, such as keys in folders).
    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let (Some(sink), Some(_)) = (&self.sink, self.last) {
            sink(None);
        }
    }
}

#[derive(Default)]
struct InterruptState {
    tripped: AtomicBool,
    listeners: AtomicUsize,
    notify: Notify,
}

/// Ctrl-C, as the command in flight sees it. Cheap to clone: clones share the state.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<InterruptState>);

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("tripped", &self.is_tripped())
            .field("listening", &self.is_listened())
            .finish()
    }
}

/// While held, the command in flight stops itself when interrupted ([`Interrupt::listen`]).
pub struct Listening(Interrupt);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0 .0.listeners.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Interrupt {
    /// Ask the command in flight to stop. Returns whether it listens (and will stop at a
    /// safe point, so the front end should wait for it) or not (drop it).
    pub fn request(&self) -> bool {
        self.0.tripped.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
        self.is_listened()
    }

    /// Whether a stop was asked since the last [`Interrupt::reset`].
    pub fn is_tripped(&self) -> bool {
        self.0.tripped.load(Ordering::SeqCst)
    }

    /// Whether the command in flight stops itself when asked.
    pub fn is_listened(&self) -> bool {
        self.0.listeners.load(Ordering::SeqCst) > 0
    }

    /// Forget an earlier stop (a new command starts).
    pub fn reset(&self) {
        self.0.tripped.store(false, Ordering::SeqCst);
    }

    /// Say that the command in flight stops itself when asked, for as long as the
    /// returned guard lives.
    pub fn listen(&self) -> Listening {
        self.0.listeners.fetch_add(1, Ordering::SeqCst);
        Listening(self.clone())
    }

    /// Resolves when a stop is asked (at once if it already was).
    pub async fn tripped(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a stop between the two is not missed.
            notified.as_mut().enable();
            if self.is_tripped() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_quick_walk_draws_nothing_and_a_slow_one_draws_then_clears() {
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let sink: ProgressSink = {
            let seen = seen.clone();
            Arc::new(move |l| seen.lock().unwrap().push(l))
        };
        {
            let mut quick = Meter::new(Some(sink.clone()), "find", "namespaces", 3);
            quick.tick(1);
            quick.tick(3);
        }
        assert!(seen.lock().unwrap().is_empty());
        {
            let mut slow = Meter::new(Some(sink), "find", "namespaces", 40);
            std::thread::sleep(FIRST_AFTER);
            slow.tick(12);
            slow.tick(13);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                Some("find: 12/40 namespaces (Ctrl-C stops)".to_string()),
                None
            ]
        );
    }

    #[tokio::test]
    async fn a_stop_reaches_a_listener_and_says_whether_one_listens() {
        let i = Interrupt::default();
        assert!(!i.request(), "nobody listens");
        i.reset();
        assert!(!i.is_tripped());
        let guard = i.listen();
        let waiting = {
            let i = i.clone();
            tokio::spawn(async move { i.tripped().await })
        };
        tokio::task::yield_now().await;
        assert!(i.request());
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .expect("joined");
        drop(guard);
        assert!(!i.is_listened());
        // Already tripped: resolves at once.
        tokio::time::timeout(Duration::from_secs(1), i.tripped())
            .await
            .expect("at once");
    }
}
