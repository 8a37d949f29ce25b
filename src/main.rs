//! `vnsh`: flags, the choice of front end, and `--dev`. anyhow-style error handling lives only here.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;

use vnsh::devserver::DevServer;
use vnsh::engine::nspath::NsPath;
use vnsh::engine::store::StateDir;
use vnsh::engine::{Format, Options, Session};
use vnsh::repl;
use vnsh::vault::{Client, Config, Token};

const EXAMPLES: &str = "\
Examples:
  vnsh --dev                         try it on a throwaway OpenBao dev server with a demo tree
  vnsh                               the shell on $VAULT_ADDR with $VAULT_TOKEN or ~/.vault-token
  vnsh -n acme/payments              start in a namespace
  vnsh -c 'cd acme; ns list'         run commands and exit (status 0, 1 on failure)
  vnsh --format json -c 'ns scan'    one JSON document per command, as bao -format=json prints it
  echo 'lock team-a' | vnsh --yes    a script on stdin, one command line per line

Inside the shell, `help` lists the commands.";

/// An interactive shell for the namespaces of Vault Enterprise, HCP Vault and OpenBao.
#[derive(Debug, Parser)]
#[command(name = "vnsh", version, about, after_help = EXAMPLES)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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

async fn run(cli: Cli) -> u8 {
    let mut config = Config::from_env();
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
    let code = shell(cli, config, dev.is_some()).await;
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
        std::process::exit(143);
    });
    Ok(server)
}

async fn shell(cli: Cli, config: Config, dev: bool) -> u8 {
    let start = cli
        .namespace
        .clone()
        .unwrap_or_else(|| config.namespace.clone());
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
    let options = Options {
        format: cli.format,
        yes: cli.yes,
        read_only: cli.read_only,
        no_scan: cli.no_scan,
        stdin_is_script: cli.command.is_none() && !stdin_tty,
    };
    let mut session = Session::new(client, start, options, state);
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
    let code = if let Some(commands) = cli.command {
        repl::run_batch(&mut session, [commands], cli.keep_going).await
    } else if !stdin_tty {
        repl::run_batch(&mut session, repl::stdin_lines(), cli.keep_going).await
    } else if std::io::stdout().is_terminal()
        && !cli.line
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
    {
        let options = vnsh::tui::TuiOptions {
            ascii: std::env::var("VNSH_ASCII").is_ok_and(|v| v == "1"),
            colours: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            keys: Default::default(),
        };
        vnsh::tui::run(session, options).await
    } else {
        repl::run_interactive(&mut session, cli.keep_going).await
    };
    u8::try_from(code).unwrap_or(1)
}
