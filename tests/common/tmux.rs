//! The one tmux driver of the terminal tests: a program in a real terminal, on a private
//! tmux server (its own socket in its own temp dir), killed on drop.
//!
//! The program runs under `sh -c`, which then writes its exit status to a file (tmux
//! itself reports a pane's status only once it has reaped the process, which can lag
//! behind), prints `vnsh-exit=STATUS`, runs the test's `then` script if any, and sleeps so
//! that the pane stays to be read.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for the screen before failing. A hang guard, not a speed check: on
/// two loaded cores (the whole suite, twice, beside the build) a real-server step inside
/// tmux was seen to pass 20 s; a passing test never waits this long.
pub const TIMEOUT: Duration = Duration::from_secs(45);

/// The session (and target) name.
const SESSION: &str = "vnsh";

/// A program running in a tmux pane.
pub struct Tmux {
    /// Holds the socket and the status file; removed on drop.
    _dir: tempfile::TempDir,
    sock: PathBuf,
    /// The session, for `-t` in commands the test sends itself.
    pub session: String,
    status: PathBuf,
    joined: bool,
}

/// How to start a program in tmux: see [`Tmux::builder`].
pub struct Start<'a> {
    cmd: &'a Command,
    size: (u16, u16),
    then: String,
    joined: bool,
}

impl<'a> Start<'a> {
    /// The pane's size (columns, rows).
    pub fn size(mut self, cols: u16, rows: u16) -> Self {
        self.size = (cols, rows);
        self
    }

    /// A sh script run after the program has exited and `vnsh-exit=STATUS` is printed.
    pub fn then(mut self, script: &str) -> Self {
        self.then = script.to_string();
        self
    }

    /// Capture the screen with wrapped lines joined (`capture-pane -J`).
    pub fn joined(mut self) -> Self {
        self.joined = true;
        self
    }

    /// Start the session, detached; panics when tmux is missing or fails.
    pub fn start(self) -> Tmux {
        let tmux = which("tmux").unwrap_or_else(|| {
            panic!("`tmux` is not installed; the terminal tests need it (apt-get install tmux)")
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("tmux.sock");
        let status = dir.path().join("vnsh.status");
        let mut line = quote(&self.cmd.get_program().to_string_lossy());
        for a in self.cmd.get_args() {
            line.push(' ');
            line.push_str(&quote(&a.to_string_lossy()));
        }
        let mut script = format!(
            "{line}; s=$?; echo $s > {}; echo \"vnsh-exit=$s\"; ",
            quote(&status.to_string_lossy())
        );
        if !self.then.is_empty() {
            script.push_str(&self.then);
            script.push_str("; ");
        }
        script.push_str("sleep 600");

        // The tmux server starts with the program's environment; `-e` sets it in the
        // session too, over what tmux sets itself (TERM).
        let mut client = Command::new(&tmux);
        client.arg("-S").arg(&sock);
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => client.env(k, v),
                None => client.env_remove(k),
            };
        }
        let (cols, rows) = (self.size.0.to_string(), self.size.1.to_string());
        client.args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &cols,
            "-y",
            &rows,
        ]);
        for (k, v) in self.cmd.get_envs() {
            if let (Some(k), Some(v)) = (k.to_str(), v.and_then(|v| v.to_str())) {
                client.arg("-e").arg(format!("{k}={v}"));
            }
        }
        client.args(["sh", "-c", &script]);
        let out = client.stdin(Stdio::null()).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux {
            _dir: dir,
            sock,
            session: SESSION.to_string(),
            status,
            joined: self.joined,
        }
    }
}

impl Tmux {
    /// `cmd` (its program, arguments and environment) in a detached 80×24 session; set
    /// the rest on the returned [`Start`], then call [`Start::start`].
    pub fn builder(cmd: &Command) -> Start<'_> {
        Start {
            cmd,
            size: (80, 24),
            then: String::new(),
            joined: false,
        }
    }

    /// `tmux ARGS` on this server, whatever its status.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    /// `tmux ARGS` on this server; panics unless it succeeds.
    pub fn ok(&self, args: &[&str]) {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        let mut args = vec!["capture-pane", "-p"];
        if self.joined {
            args.push("-J");
        }
        args.extend(["-t", &self.session]);
        String::from_utf8_lossy(&self.cmd(&args).stdout).into_owned()
    }

    /// Poll the screen until `pred` holds; panic with the last screen after the timeout.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the shell waits for a line at `prompt` (the last line shown, empty).
    /// Keys may be sent at once: line mode keeps what is typed ahead (lineio's tests), so
    /// no pause follows.
    pub fn ready(&self, prompt: &str) -> String {
        self.wait_for(&format!("the prompt {prompt:?}"), |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::trim_end)
                == Some(prompt)
        })
    }

    /// Wait until `text` is on the screen `n` times.
    pub fn wait_count(&self, text: &str, n: usize) -> String {
        self.wait_for(&format!("{n}× {text:?}"), |s| s.matches(text).count() >= n)
    }

    /// Press keys by their tmux names (Enter, Tab, C-c, C-d, C-u).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.ok(&args);
    }

    /// Type text literally.
    pub fn type_text(&self, text: &str) {
        self.ok(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Type a line and press Enter.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// The exit status of the program once it has exited, else None.
    pub fn exit_status(&self) -> Option<i32> {
        let text = fs::read_to_string(&self.status).ok()?;
        text.trim().parse().ok()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// `s` in single quotes for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
