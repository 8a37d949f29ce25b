//! `vnsh`: flags, the choice of front end, and `--dev`. anyhow-style error handling lives only here.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{CommandFactory, Parser};

use vnsh::config::{self, ConfigFile};
use vnsh::devserver::DevServer;
use vnsh::engine::commands;
use vnsh::engine::nspath::NsPath;
use vnsh::engine::session::{ProfileInfo, Profiles};
use vnsh::engine::store::StateDir;
use vnsh::engine::{Format, Options, Session};
use vnsh::repl;
use vnsh::vault::{Client, Config, Token, SKIP_VERIFY_WARNING};

const EXAMPLES: &str = "\
Examples:
  vnsh --dev                         try it on a throwaway OpenBao dev server with a demo tree
  vnsh                               the shell on $VAULT_ADDR with $VAULT_TOKEN or ~/.vault-token
  vnsh -n acme/payments              start in a namespace
  vnsh -c 'cd acme; ns list'         run commands and exit (status 0, 1 on failure)
  vnsh --format json -c 'ns scan'    one JSON document per command, as bao -format=json prints it
  echo 'lock team-a' | vnsh --yes    a script on stdin, one command line per line
  vnsh --profile prod                connect with a profile of ~/.config/vnsh/config.toml
  VAULT_ADDR=https://vault:8200 VAULT_CACERT=ca.pem vnsh -c whoami
                                     TLS with your own CA; whoami shows who the token is
  vnsh -n t1 -c 'login userpass username=alice'
                                     log in inside a tenant (the password is asked unseen)
  vnsh --generate bash > /etc/bash_completion.d/vnsh; vnsh --generate man > vnsh.1

Inside the shell, `help` lists the commands.";

/// What `--help` (long) and the man page add: how to connect, the environment, the files.
const LONG_HELP: &str = "\
Examples:
  vnsh --dev             a throwaway OpenBao server with a demo tree
  vnsh                   the shell on $VAULT_ADDR with $VAULT_TOKEN
                         or ~/.vault-token
  vnsh -n acme/payments  start in a namespace
  vnsh -c 'cd acme; ns list'
                         run commands and exit (status 0, 1 on failure)
  vnsh --format json -c 'ns scan'
                         one JSON document per command, as bao
  echo 'lock team-a' | vnsh --yes
                         a script on stdin, one command line per line
  vnsh --profile prod    connect with a profile (see below)
  vnsh -p prod -c whoami who the token is: policies, TTL, namespace
  vnsh -n t1 -c 'login userpass username=alice -store'
                         log in inside tenant t1 (the password is
                         asked unseen); -store saves the token in
                         ~/.vault-token
  vnsh --generate bash > /etc/bash_completion.d/vnsh
                         (also zsh, fish, elvish, powershell)
  vnsh --generate man > /usr/local/share/man/man1/vnsh.1

Connecting to a TLS server with a profile:
  Write ~/.config/vnsh/config.toml ($XDG_CONFIG_HOME/vnsh/config.toml):

    [profiles.prod]
    addr = \"https://vault.example.com:8200\"
    namespace = \"admin\"             # where to start (HCP: admin)
    ca_cert = \"/etc/vault/ca.pem\"   # or ca_path = \"DIR\"
    token_file = \"~/.vault-token-prod\"
    # or token_env = \"PROD_TOKEN\"; never a token in this file
    # client_cert = \"me.pem\", client_key = \"me-key.pem\": mutual TLS
    # tls_server_name = \"vault.internal\": the certificate's name
    # skip_verify = true: no checks (warned about on every start)

  then run `vnsh --profile prod`, or `connect prod` in the shell
  (`connect` alone lists the profiles). A profile replaces the
  address, namespace and TLS settings of the environment; without
  token_file or token_env it uses VAULT_TOKEN or ~/.vault-token.
  The file also holds [aliases] (ll = \"ns list -detailed\"),
  [theme] (ascii, colours) and [keys] (action = \"ctrl-r\").

Environment (BAO_* wins over VAULT_*):
  VAULT_ADDR, VAULT_TOKEN     the server and the token
  VAULT_NAMESPACE             where to start
  VAULT_CACERT, VAULT_CAPATH  a CA file or directory to trust
  VAULT_CLIENT_CERT, VAULT_CLIENT_KEY
                              a client certificate and key
  VAULT_TLS_SERVER_NAME       the name on the server's certificate
  VAULT_SKIP_VERIFY           no certificate checks (warned about)
  VAULT_CLIENT_TIMEOUT        how long one request may take
  VNSH_PROFILE, VNSH_CONFIG   as --profile and --config
  VNSH_NO_SCAN, VNSH_ASCII    no SCAN; ASCII only
  NO_COLOR                    no colours
  XDG_STATE_HOME              state: history, unlock keys, action log
  XDG_CONFIG_HOME             the configuration file

Files:
  ~/.vault-token              the token of the vault and bao CLIs
  $XDG_CONFIG_HOME/vnsh/config.toml
                              profiles, aliases, theme, keys
  $XDG_STATE_HOME/vnsh/       history (0600, secrets redacted),
                              unlock-keys.json, the action log

The token's namespace is home and top: the shell starts there,
`cd /` goes there, and nothing is sent above it except root-only
paths. vnsh never prints or stores a token, except in
~/.vault-token by `login -store`. In the shell, `help` lists the
commands.";

/// What `--generate` writes to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Generate {
    /// The man page (roff): `vnsh --generate man > vnsh.1`.
    Man,
    /// bash completion.
    Bash,
    /// zsh completion.
    Zsh,
    /// fish completion.
    Fish,
    /// elvish completion.
    Elvish,
    /// PowerShell completion.
    Powershell,
}

/// An interactive shell for the namespaces of Vault Enterprise, HCP Vault and OpenBao.
#[derive(Debug, Parser)]
#[command(name = "vnsh", version, about, after_help = EXAMPLES, after_long_help = LONG_HELP)]
struct Cli {
    /// Run these commands (`;` separates them) and exit.
    #[arg(short = 'c', value_name = "COMMANDS")]
    command: Option<String>,
    /// Use the line-mode REPL even on a full terminal.
    #[arg(long)]
    line: bool,
    /// Start a throwaway `bao server -dev`, seed a demo tree, and open the shell on it.
    #[arg(long)]
    dev: bool,
    /// Start in this namespace (default: $VAULT_NAMESPACE / $BAO_NAMESPACE, else the root).
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Do not ask before destructive commands.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Refuse every command that changes the server.
    #[arg(long)]
    read_only: bool,
    /// In -c and script mode, go on after a failed command (the exit status is still 1).
    #[arg(long)]
    keep_going: bool,
    /// Never send SCAN: list the tree level by level, as on Vault Enterprise.
    /// VNSH_NO_SCAN=1 does the same (empty, 0, false, no or off: it does not).
    #[arg(long, env = "VNSH_NO_SCAN", value_parser = clap::builder::FalseyValueParser::new())]
    no_scan: bool,
    /// Connect with this profile of the configuration file (address, namespace, TLS,
    /// where the token is). Default: the file's default_profile when VAULT_ADDR is unset.
    #[arg(short = 'p', long, env = "VNSH_PROFILE", value_name = "NAME")]
    profile: Option<String>,
    /// The configuration file (default: $XDG_CONFIG_HOME/vnsh/config.toml).
    #[arg(long, env = "VNSH_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Print the man page or a shell completion script, and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    generate: Option<Generate>,
}

/// Write the man page or a completion script to stdout.
fn generate(what: Generate) -> ExitCode {
    use clap_complete::Shell;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match what {
        Generate::Man => {
            return match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Generate::Bash => Shell::Bash,
        Generate::Zsh => Shell::Zsh,
        Generate::Fish => Shell::Fish,
        Generate::Elvish => Shell::Elvish,
        Generate::Powershell => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut cmd, "vnsh", &mut out);
    ExitCode::SUCCESS
}

/// One malloc arena for the whole process. glibc gives each thread that allocates its
/// own arena, and what a finished request freed in one is not reused by the next
/// request on another thread: a session that loaded 10,000 namespaces (tree, then the
/// completion cache) peaked at 44 MB with the default and 27 MB with one arena. vnsh's
/// threads rarely allocate at the same time, so the shared lock costs nothing visible.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    one_malloc_arena();
    let cli = Cli::parse();
    if let Some(what) = cli.generate {
        return generate(what);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run(cli));
    ExitCode::from(code)
}

/// The configuration file, and the connection: a profile's, or the environment's.
fn configure(cli: &Cli) -> Result<(ConfigFile, Config), String> {
    config::set_path(cli.config.clone().or_else(config::default_path));
    let file = config::load_current(cli.config.is_some()).map_err(|e| e.to_string())?;
    let addr_set = ["VAULT_ADDR", "BAO_ADDR"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    let profile = cli.profile.clone().filter(|p| !p.is_empty()).or_else(|| {
        file.default_profile
            .clone()
            .filter(|_| !addr_set && !cli.dev)
    });
    let config = match profile {
        Some(name) => file
            .vault_config(&name, |k| std::env::var(k).ok())
            .map_err(|e| e.to_string())?,
        None => Config::try_from_env().map_err(|e| e.to_string())?,
    };
    Ok((file, config))
}

async fn run(cli: Cli) -> u8 {
    let (file, mut config) = match configure(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let dev = if cli.dev {
        match start_dev().await {
            Ok(server) => {
                if let Ok(s) = server.lock() {
                    config.addr = s.addr().to_string();
                    config.token = Some(Token::new(s.token()));
                    config.namespace = String::new();
                }
                Some(server)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let code = shell(cli, config, file, dev.is_some()).await;
    if let Some(server) = dev {
        if let Ok(mut s) = server.lock() {
            s.stop();
        }
    }
    code
}

/// Start the dev server, and stop it on SIGTERM or SIGHUP (Ctrl-C is the shell's).
async fn start_dev() -> Result<Arc<Mutex<DevServer>>, String> {
    eprintln!("starting bao server -dev …");
    let server = tokio::task::spawn_blocking(DevServer::start)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    eprintln!(
        "OpenBao dev server at {} (stopped when vnsh exits)",
        server.addr()
    );
    let server = Arc::new(Mutex::new(server));
    // Line mode exits from its own signal task: it stops the server first.
    let hooked = server.clone();
    repl::before_signal_exit(move || {
        if let Ok(mut s) = hooked.lock() {
            s.stop();
        }
    });
    let watched = server.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        if let Ok(mut s) = watched.lock() {
            s.stop();
        }
        vnsh::tui::restore_terminal();
        repl::restore_tty();
        std::process::exit(143);
    });
    Ok(server)
}

async fn shell(cli: Cli, config: Config, file: ConfigFile, dev: bool) -> u8 {
    // Started somewhere on purpose (-n, VAULT_NAMESPACE, a profile's namespace), or at
    // the token's own namespace.
    let start_given = cli.namespace.is_some() || !config.namespace.is_empty();
    let start = cli
        .namespace
        .clone()
        .unwrap_or_else(|| config.namespace.clone());
    if let Err(e) = vnsh::engine::nspath::check_typed_path(&start) {
        eprintln!("error: bad namespace {start:?}: {e}");
        return 2;
    }
    let start = match NsPath::parse(&start) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: bad namespace {start:?}: {e}");
            return 2;
        }
    };
    let client = match Client::new(&config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let state = match StateDir::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if client.token().is_none() {
        eprintln!("warning: no token: set VAULT_TOKEN (or BAO_TOKEN), or log in with `bao login` to write ~/.vault-token");
    }
    let stdin_tty = std::io::stdin().is_terminal();
    let tui = cli.command.is_none()
        && stdin_tty
        && std::io::stdout().is_terminal()
        && !cli.line
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    if client.skips_verify() && !tui {
        // Every start says it; the TUI keeps it in its status bar instead.
        eprintln!("{SKIP_VERIFY_WARNING}");
    }
    let options = Options {
        format: cli.format,
        yes: cli.yes,
        read_only: cli.read_only,
        no_scan: cli.no_scan,
        stdin_is_script: cli.command.is_none() && !stdin_tty,
        prompt: stdin_tty && !tui,
        fullscreen: tui,
    };
    let aliases = match commands::aliases(&file.aliases) {
        Ok(a) => a,
        Err(e) => {
            let where_ = config::path().map_or_else(
                || "the configuration file".to_string(),
                |p| p.display().to_string(),
            );
            eprintln!("error: {where_}: {e}");
            return 2;
        }
    };
    let mut session = Session::new(client, start, options, state);
    session.set_aliases(aliases);
    session.set_profiles(Arc::new(FileProfiles { file: file.clone() }));
    // The token's namespace is the top (and home unless started below it): looked up by
    // the first look at the namespace (a prompt), or when a command needs it (`-c`).
    session.adopt_later(start_given);
    if dev {
        let seeded = tokio::select! {
            r = vnsh::demo::seed(&mut session) => r,
            _ = tokio::signal::ctrl_c() => Err(vnsh::engine::EngineError::Other("interrupted".into())),
        };
        if let Err(e) = seeded {
            eprintln!("error: seeding the demo failed: {e}");
            return 1;
        }
        eprintln!(
            "demo: tenants acme, globex, initech; {} is locked (its key is saved: try `cd /initech; unlock legacy`)",
            vnsh::demo::LOCKED
        );
    }
    // A shell told where to start (-n, VAULT_NAMESPACE, a profile) opens there or not at
    // all: no prompt shows a namespace the session is not in. `-c` and scripts check it
    // before their first command that sends anything (a command refused by its name
    // sends nothing, not even this check).
    let interactive = cli.command.is_none() && stdin_tty;
    if interactive && start_given && !dev {
        let checked = tokio::select! {
            r = commands::enter_start(&mut session) => r,
            _ = tokio::signal::ctrl_c() => Err(vnsh::engine::EngineError::Other("interrupted".into())),
        };
        if let Err(e) = checked {
            eprintln!("error: {e}");
            return 1;
        }
    }
    // Keys recovered from a write cut short, locks whose key never came: said at start.
    if !tui {
        for note in commands::state_report(&mut session).await {
            eprintln!("{note}");
        }
    }
    let code = if let Some(commands) = cli.command {
        let code = repl::run_batch(&mut session, [commands], cli.keep_going).await;
        // The process ends now: the system takes its memory back faster than freeing what
        // the session learnt (thousands of namespaces) piece by piece would.
        std::mem::forget(session);
        code
    } else if !stdin_tty {
        repl::run_batch(&mut session, repl::stdin_lines(), cli.keep_going).await
    } else if tui {
        let options = vnsh::tui::TuiOptions {
            ascii: std::env::var("VNSH_ASCII").is_ok_and(|v| v == "1")
                || file.theme.ascii.unwrap_or(false),
            colours: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && file.theme.colours.unwrap_or(true),
            keys: file.keys.clone(),
            show_secrets: !file.tui.mask_secrets.unwrap_or(true),
        };
        vnsh::tui::run(session, options).await
    } else {
        repl::run_interactive(&mut session, cli.keep_going).await
    };
    u8::try_from(code).unwrap_or(1)
}

/// The profiles of the configuration file, for `connect` (the engine reads no file of
/// ours: it is handed this).
struct FileProfiles {
    file: ConfigFile,
}

impl Profiles for FileProfiles {
    fn location(&self) -> String {
        config::path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "$XDG_CONFIG_HOME/vnsh/config.toml".into())
    }

    fn list(&self) -> Result<Vec<ProfileInfo>, String> {
        Ok(self
            .file
            .profiles
            .iter()
            .map(|(name, p)| {
                let tls = if p.skip_verify {
                    "NOT VERIFIED".to_string()
                } else if p.ca_cert.is_some() || p.ca_path.is_some() {
                    "own CA".to_string()
                } else {
                    String::new()
                };
                let token_from = match (&p.token_env, &p.token_file) {
                    (Some(e), _) => format!("${e}"),
                    (None, Some(f)) => f.clone(),
                    (None, None) => "VAULT_TOKEN or ~/.vault-token".into(),
                };
                ProfileInfo {
                    name: name.clone(),
                    addr: p.addr.clone().unwrap_or_default(),
                    namespace: p.namespace.clone().unwrap_or_default(),
                    tls,
                    token_from,
                    json: serde_json::json!({
                        "addr": p.addr, "namespace": p.namespace, "skip_verify": p.skip_verify,
                        "ca_cert": p.ca_cert, "ca_path": p.ca_path, "tls_server_name": p.tls_server_name,
                        "token_env": p.token_env, "token_file": p.token_file,
                    }),
                }
            })
            .collect())
    }

    fn connection(&self, name: &str) -> Result<Config, String> {
        self.file
            .vault_config(name, |k| std::env::var(k).ok())
            .map_err(|e| e.0)
    }
}
