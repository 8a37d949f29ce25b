//! The parts of a Vault answer that every caller reads: `data`, `data.keys`, a mount table.
//!
//! The lenient readers (`data`, `keys`, `mounts`) give an empty value for a missing
//! part; the strict ones (`data_object`, `list_keys`, `mount_table`) return an error
//! naming the request when the answer is not of the shape the API promises, so a
//! `{"data":null}` is never shown as an empty list.

use serde_json::{Map, Value};

use super::error::{RequestInfo, VaultError};

/// What a JSON value is, for a message ("null", "a string", …).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn bad(req: &RequestInfo, what: String) -> VaultError {
    VaultError::BadShape {
        req: req.clone(),
        what,
    }
}

/// The `data` object of an answer, or an error naming `req` when there is no answer,
/// no `data`, or `data` is not an object (`{"data":null}`).
pub fn data_object(
    body: Option<Value>,
    req: &RequestInfo,
) -> Result<Map<String, Value>, VaultError> {
    let Some(mut body) = body else {
        return Err(bad(
            req,
            "the answer is empty (expected an object with data)".into(),
        ));
    };
    match body.get_mut("data").map(Value::take) {
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(bad(
            req,
            format!("data is {} (expected an object)", kind(&other)),
        )),
        None => Err(bad(
            req,
            "the answer has no data (expected an object)".into(),
        )),
    }
}

/// `data.keys` of a LIST answer, or an error naming `req` when there is no answer, no
/// `data.keys`, or it is not a list of strings.
pub fn list_keys(body: Option<&Value>, req: &RequestInfo) -> Result<Vec<String>, VaultError> {
    let Some(body) = body else {
        return Err(bad(
            req,
            "the answer is empty (expected data.keys, a list of strings)".into(),
        ));
    };
    let data = match body.get("data") {
        Some(Value::Object(d)) => d,
        Some(other) => {
            return Err(bad(
                req,
                format!(
                    "data is {} (expected an object with keys, a list of strings)",
                    kind(other)
                ),
            ))
        }
        None => {
            return Err(bad(
                req,
                "the answer has no data (expected data.keys, a list of strings)".into(),
            ))
        }
    };
    let keys = match data.get("keys") {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(bad(
                req,
                format!("data.keys is {} (expected a list of strings)", kind(other)),
            ))
        }
        None => {
            return Err(bad(
                req,
                "data has no keys (expected a list of strings)".into(),
            ))
        }
    };
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            k.as_str().map(str::to_string).ok_or_else(|| {
                bad(
                    req,
                    format!("data.keys[{i}] is {} (expected a string)", kind(k)),
                )
            })
        })
        .collect()
}

/// The mounts of a `sys/mounts` or `sys/auth` answer, as [`mounts`], or an error naming
/// `req` when the answer is not an object or a mount's description is not one.
pub fn mount_table(
    body: Option<&Value>,
    req: &RequestInfo,
) -> Result<Map<String, Value>, VaultError> {
    let Some(body) = body else {
        return Err(bad(
            req,
            "the answer is empty (expected a table of mounts)".into(),
        ));
    };
    let source = match body.get("data") {
        Some(d @ Value::Object(_)) => d,
        Some(Value::Null) | None => body,
        Some(other) => {
            return Err(bad(
                req,
                format!("data is {} (expected a table of mounts)", kind(other)),
            ))
        }
    };
    let Some(table) = source.as_object() else {
        return Err(bad(
            req,
            format!(
                "the answer is {} (expected a table of mounts)",
                kind(source)
            ),
        ));
    };
    let mut out = Map::new();
    for (k, v) in table.iter().filter(|(k, _)| k.ends_with('/')) {
        if !v.is_object() {
            return Err(bad(
                req,
                format!("mount {k} is described by {} (expected an object)", kind(v)),
            ));
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

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

    fn req() -> RequestInfo {
        RequestInfo::new(
            crate::vault::method::Method::List,
            "t1/",
            "secret/metadata/",
        )
    }

    #[test]
    fn strict_readers_name_the_path_of_a_wrong_shape() {
        assert_eq!(
            list_keys(Some(&json!({"data": {"keys": ["a/", "b"]}})), &req()).unwrap(),
            vec!["a/", "b"]
        );
        let cases = [
            (
                json!({"data": null}),
                "data is null (expected an object with keys, a list of strings)",
            ),
            (
                json!({"data": {}}),
                "data has no keys (expected a list of strings)",
            ),
            (
                json!({"data": {"keys": "a"}}),
                "data.keys is a string (expected a list of strings)",
            ),
            (
                json!({"data": {"keys": {"a": 1}}}),
                "data.keys is an object (expected a list of strings)",
            ),
            (
                json!({"data": {"keys": ["a", 7]}}),
                "data.keys[1] is a number (expected a string)",
            ),
            (
                json!({"errors": []}),
                "the answer has no data (expected data.keys, a list of strings)",
            ),
        ];
        for (body, what) in cases {
            let err = list_keys(Some(&body), &req()).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("the server's answer to LIST secret/metadata/ in namespace t1 is not what the API promises: {what}"),
                "{body}"
            );
        }
        assert!(list_keys(None, &req()).is_err());
        assert_eq!(
            data_object(Some(json!({"data": {"a": 1}})), &req()).unwrap()["a"],
            1
        );
        for body in [json!({"data": null}), json!({"data": [1]}), json!({})] {
            let err = data_object(Some(body.clone()), &req()).unwrap_err();
            assert!(
                err.to_string()
                    .contains("LIST secret/metadata/ in namespace t1"),
                "{body}: {err}"
            );
        }
        assert!(data_object(None, &req()).is_err());
        assert_eq!(
            mount_table(Some(&json!({"data": {"secret/": {"type": "kv"}}})), &req())
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            mount_table(
                Some(&json!({"sys/": {"type": "system"}, "data": null})),
                &req()
            )
            .unwrap()
            .len(),
            1
        );
        assert!(mount_table(Some(&json!({"data": {"secret/": "kv"}})), &req()).is_err());
        assert!(mount_table(Some(&json!({"data": 3})), &req()).is_err());
        assert!(mount_table(Some(&json!([1])), &req()).is_err());
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
