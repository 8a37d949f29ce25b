//! The parts of a Vault answer that every caller reads: `data`, `data.keys`, a mount table.

use serde_json::{Map, Value};

/// The `data` of an answer, taken out of it (Null when absent).
pub fn data(body: Option<Value>) -> Value {
    body.and_then(|mut b| b.get_mut("data").map(Value::take))
        .unwrap_or(Value::Null)
}

/// `data.keys` of a LIST answer (empty when absent).
pub fn keys(body: Option<&Value>) -> Vec<String> {
    body.and_then(|b| b.pointer("/data/keys"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The mounts of a `sys/mounts` or `sys/auth` answer: path (`x/`) → description. Newer
/// servers nest them under `data`; older ones only repeat them at the top.
pub fn mounts(body: Option<&Value>) -> Map<String, Value> {
    let Some(body) = body else {
        return Map::new();
    };
    let source = body.get("data").filter(|d| d.is_object()).unwrap_or(body);
    source
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| k.ends_with('/') && v.is_object())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A mount's type for people: `kv v2` for a KV store with a version option, else its type.
pub fn mount_kind(info: &Value) -> String {
    let kind = info.get("type").and_then(Value::as_str).unwrap_or("?");
    match info.pointer("/options/version").and_then(Value::as_str) {
        Some(v) if kind == "kv" => format!("kv v{v}"),
        _ => kind.to_string(),
    }
}

/// The mount of a mount table that `path` falls in (the longest prefix), with its description.
pub fn mount_for(mounts: &Map<String, Value>, path: &str) -> Option<(String, Value)> {
    let path = path.trim_start_matches('/');
    let with_slash = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    mounts
        .iter()
        .filter(|(m, _)| with_slash.starts_with(m.as_str()))
        .max_by_key(|(m, _)| m.len())
        .map(|(m, v)| (m.clone(), v.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_data_keys_and_mounts() {
        let list = json!({"data": {"keys": ["a/", "b"]}});
        assert_eq!(keys(Some(&list)), vec!["a/", "b"]);
        assert_eq!(data(Some(list))["keys"][1], "b");
        assert_eq!(data(None), Value::Null);
        let nested = json!({"data": {"secret/": {"type": "kv"}, "request_id": "x"}});
        assert_eq!(
            mounts(Some(&nested)).keys().collect::<Vec<_>>(),
            vec!["secret/"]
        );
        let flat = json!({"sys/": {"type": "system"}, "lease_id": ""});
        assert_eq!(mounts(Some(&flat)).keys().collect::<Vec<_>>(), vec!["sys/"]);
    }

    #[test]
    fn mount_for_takes_the_longest_prefix() {
        let mounts: Map<String, Value> =
            serde_json::from_value(json!({"secret/":{"type":"kv"},"secret/deep/":{"type":"kv"}}))
                .unwrap();
        assert_eq!(
            mount_for(&mounts, "secret/deep/x").unwrap().0,
            "secret/deep/"
        );
        assert_eq!(mount_for(&mounts, "secret").unwrap().0, "secret/");
        assert!(mount_for(&mounts, "secrets/x").is_none());
    }
}
