//! Fuzzy completion over 100,000 namespace candidates: the time to re-rank for one more
//! keystroke (goal: under 5 ms). `cargo bench --bench completion`. No server needed.

use std::time::{Duration, Instant};

use vnsh::engine::fuzzy::Ranker;

fn candidates(n: usize) -> Vec<String> {
    // A realistic shape: tenants / teams / environments, names of varied length.
    let envs = [
        "prod", "staging", "dev", "qa", "sandbox", "perf", "dr", "canary", "preview", "hotfix",
    ];
    (0..n)
        .map(|i| {
            format!(
                "tenant-{:04}/team-{:02}-{}/{}/",
                i / 100,
                (i / 10) % 10,
                ["payments", "web", "data", "identity", "search"][i % 5],
                envs[i % 10]
            )
        })
        .collect()
}

fn best<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n = 100_000;
    let all = candidates(n);
    let recent: Vec<String> = all.iter().step_by(9973).cloned().collect();
    println!("| keystrokes typed (query) | first keystroke, full pass | one more keystroke | candidates matching |");
    println!("| --- | --- | --- | --- |");
    for (before, after) in [
        ("p", "pa"),
        ("pay", "paym"),
        ("t12", "t12p"),
        ("team-0", "team-03"),
        ("sandb", "sandbo"),
    ] {
        let mut matches = 0;
        let full = best(5, || {
            let mut r = Ranker::new(all.clone(), &recent);
            let t = Instant::now();
            let _ = r.rank(before, 200);
            matches = r.matched();
            t.elapsed()
        });
        let mut total = 0;
        let next = best(20, || {
            let mut r = Ranker::new(all.clone(), &recent);
            let _ = r.rank(before, 200);
            let t = Instant::now();
            let _ = r.rank(after, 200);
            total = r.matched();
            t.elapsed()
        });
        println!(
            "| `{before}` then `{after}` | {} | {} | {matches} → {total} |",
            ms(full),
            ms(next)
        );
    }
}
