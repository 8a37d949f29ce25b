//! The first end-to-end checks: the binary talks to a real server.
mod common;

#[test]
fn pwd_in_json_and_table() {
    let env = common::env();
    let out = env.vnsh(&["--format", "json", "-c", "pwd"]);
    assert_eq!(
        common::json_lines(&out),
        vec![serde_json::json!({"namespace": ""})]
    );
    env.bao(&["namespace", "create", "acme"]);
    let out = env.vnsh(&["-n", "acme", "-c", "pwd"]);
    assert_eq!(common::ok(&out).trim(), "acme");
}
