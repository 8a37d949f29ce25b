//! The unlock-key store's file: format version 2, and the reading of version 1.
//!
//! ```json
//! {"version": 2,
//!  "keys":    [{"server": "https://vault:8200", "cluster_id": "…", "namespace": "acme/web/",
//!               "key": "…", "saved_at": "2025-01-01T00:00:00Z", "used": false, "intent": "…"}],
//!  "intents": [{"id": "…", "server": "…", "cluster_id": "…", "namespace": "acme/web/",
//!               "sent_at": "…", "pid": 1234, "state": "completed", "closed_at": "…"}]}
//! ```
//! Version 1 is the same without `intents` and without `cluster_id`/`intent` in its keys:
//! it is read as it is, and written back as version 2 with every key entry as it was.
//! The document is kept whole as JSON, so fields a newer vnsh wrote survive a rewrite.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::files::{StoreError, KEYS_VERSION};
use super::server::{ServerId, ServerMatch};

/// One saved unlock key.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedKey {
    /// The server address the namespace lives on.
    pub server: String,
    /// The cluster id of that server when the key was saved (none in version 1 stores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The full namespace path, canonical `a/b/` form.
    pub namespace: String,
    /// The unlock key itself.
    pub key: String,
    /// When it was saved, RFC 3339 UTC.
    pub saved_at: String,
    /// True once an unlock with it succeeded; the entry is never deleted.
    #[serde(default)]
    pub used: bool,
    /// The id of the lock intent this key completed, when it came through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}

impl std::fmt::Debug for SavedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedKey")
            .field("server", &self.server)
            .field("cluster_id", &self.cluster_id)
            .field("namespace", &self.namespace)
            .field("key", &"***")
            .field("saved_at", &self.saved_at)
            .field("used", &self.used)
            .field("intent", &self.intent)
            .finish()
    }
}

impl SavedKey {
    /// Whether this key was saved for that address and namespace (both compared canonical), whatever the cluster.
    pub(super) fn is_for(&self, server: &str, namespace: &str) -> bool {
        ServerId::addr_only(server)
            .classify(&self.server, None)
            .is_some()
            && canonical_ns(&self.namespace) == canonical_ns(namespace)
    }

    /// How this key's server relates to `server`; `None` when unrelated.
    pub fn matches(&self, server: &ServerId) -> Option<ServerMatch> {
        server.classify(&self.server, self.cluster_id.as_deref())
    }

    /// The server this key was saved for.
    pub fn server_id(&self) -> ServerId {
        ServerId::new(&self.server, self.cluster_id.as_deref())
    }
}

/// Where a lock intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntentState {
    /// Recorded before the request; no outcome yet (in flight, or its vnsh died).
    Open,
    /// The request went, and no answer came (timeout, reset, Ctrl-C): may be locked.
    Unanswered,
    /// The answer came and its key was saved.
    Completed,
    /// The server refused: nothing was locked.
    Refused,
    /// Closed later: the namespace was found not locked.
    FoundUnlocked,
    /// Closed later: the namespace was unlocked with a sudo token.
    UnlockedWithSudo,
    /// Closed later, for the reason recorded.
    Resolved,
    /// A state written by a newer vnsh; taken as still open (the safe side).
    #[serde(other)]
    Unknown,
}

impl IntentState {
    /// Whether the lock may have happened with its key never received.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            IntentState::Open | IntentState::Unanswered | IntentState::Unknown
        )
    }
}

/// A lock intent: "lock of NS sent at T", recorded before the request went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Unique id of this intent.
    pub id: String,
    /// The server address the lock was sent to.
    pub server: String,
    /// The cluster id of that server, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The namespace to be locked, canonical `a/b/` form.
    pub namespace: String,
    /// When the intent was recorded, just before the request went, RFC 3339 UTC.
    pub sent_at: String,
    /// The process that recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Where it stands.
    pub state: IntentState,
    /// Why it is in that state (the server's refusal, the error, the resolution's note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the current state was recorded (for any state after `open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
}

impl Intent {
    /// How this intent's server relates to `server`; `None` when unrelated.
    pub fn matches(&self, server: &ServerId) -> Option<ServerMatch> {
        server.classify(&self.server, self.cluster_id.as_deref())
    }

    /// The server the lock was sent to.
    pub fn server_id(&self) -> ServerId {
        ServerId::new(&self.server, self.cluster_id.as_deref())
    }

    /// The report for an open intent: "NS may be locked; its key was never received: …".
    pub fn report(&self) -> String {
        let ns = if self.namespace.is_empty() {
            "/"
        } else {
            self.namespace.trim_end_matches('/')
        };
        let why = match (&self.state, &self.reason) {
            (IntentState::Unanswered, Some(r)) => format!(" (no answer: {r})"),
            (IntentState::Open, _) => " (the vnsh that sent it stopped before the answer)".into(),
            _ => String::new(),
        };
        format!(
            "{ns} may be locked; its key was never received: a sudo token can unlock it \
             (lock sent to {} at {}{why})",
            self.server, self.sent_at
        )
    }
}

/// The parsed store: the raw document (kept whole, so unknown fields survive), its keys
/// and its intents, index for index with the raw arrays.
#[derive(Debug, Clone)]
pub(super) struct Document {
    raw: Map<String, Value>,
    /// The keys, in the order of the file.
    pub keys: Vec<SavedKey>,
    /// The intents, in the order of the file.
    pub intents: Vec<Intent>,
}

impl Document {
    /// An empty store.
    pub fn new() -> Document {
        let mut raw = Map::new();
        raw.insert("version".into(), Value::from(KEYS_VERSION));
        raw.insert("keys".into(), Value::Array(Vec::new()));
        raw.insert("intents".into(), Value::Array(Vec::new()));
        Document {
            raw,
            keys: Vec::new(),
            intents: Vec::new(),
        }
    }

    /// Parse a store file's bytes; `None` when there is nothing in it (empty or blank).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Option<Document>, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // Nothing in it, so nothing to lose by writing over it.
            return Ok(None);
        }
        let raw: Value =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not valid JSON: {e}")))?;
        let Value::Object(raw) = raw else {
            return Err(corrupt("the top level is not a JSON object".into()));
        };
        match raw.get("version") {
            Some(v) if matches!(v.as_u64(), Some(1..=KEYS_VERSION)) => {}
            Some(Value::Number(n)) => {
                return Err(StoreError::UnsupportedVersion {
                    path: path.to_path_buf(),
                    version: n.to_string(),
                })
            }
            Some(other) => return Err(corrupt(format!("\"version\" is {other}"))),
            None => return Err(corrupt("no \"version\"".into())),
        }
        let keys = entries(&raw, "keys", true).map_err(corrupt)?;
        let intents = entries(&raw, "intents", false).map_err(corrupt)?;
        Ok(Some(Document { raw, keys, intents }))
    }

    /// Append a key.
    pub fn push_key(&mut self, key: SavedKey) {
        push(&mut self.raw, "keys", to_value(&key));
        self.keys.push(key);
    }

    /// Key `i` and intent `i` as written in the file, unknown fields included.
    pub fn raw_entry(&self, field: &str, i: usize) -> Option<Value> {
        self.raw
            .get(field)
            .and_then(Value::as_array)
            .and_then(|l| l.get(i))
            .cloned()
    }

    /// Append a key with its entry as written elsewhere (so its unknown fields come along).
    pub fn push_key_entry(&mut self, key: SavedKey, entry: Value) {
        push(&mut self.raw, "keys", entry);
        self.keys.push(key);
    }

    /// Append an intent with its entry as written elsewhere.
    pub fn push_intent_entry(&mut self, intent: Intent, entry: Value) {
        push(&mut self.raw, "intents", entry);
        self.intents.push(intent);
    }

    /// Mark key `i` used.
    pub fn set_used(&mut self, i: usize) {
        if let Some(k) = self.keys.get_mut(i) {
            k.used = true;
            set_field(&mut self.raw, "keys", i, "used", Value::Bool(true));
        }
    }

    /// Append an intent.
    pub fn push_intent(&mut self, intent: Intent) {
        push(&mut self.raw, "intents", to_value(&intent));
        self.intents.push(intent);
    }

    /// Put intent `i` in `state`, with its reason, now.
    pub fn set_state(&mut self, i: usize, state: IntentState, reason: Option<String>, at: String) {
        let Some(intent) = self.intents.get_mut(i) else {
            return;
        };
        intent.state = state;
        intent.reason = reason.clone();
        intent.closed_at = Some(at.clone());
        set_field(&mut self.raw, "intents", i, "state", to_value(&state));
        match reason {
            Some(r) => set_field(&mut self.raw, "intents", i, "reason", Value::String(r)),
            None => remove_field(&mut self.raw, "intents", i, "reason"),
        }
        set_field(&mut self.raw, "intents", i, "closed_at", Value::String(at));
    }

    /// The index of the intent with that id.
    pub fn intent_index(&self, id: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.id == id)
    }

    /// The file's bytes: version 2 (whatever was read), pretty JSON, a final newline.
    pub fn to_bytes(&self, path: &Path) -> Result<Vec<u8>, StoreError> {
        let mut raw = self.raw.clone();
        raw.insert("version".into(), Value::from(KEYS_VERSION));
        raw.entry("intents")
            .or_insert_with(|| Value::Array(Vec::new()));
        // Cannot fail for a JSON value; if it ever did, write nothing rather than less.
        let mut bytes =
            serde_json::to_vec_pretty(&Value::Object(raw)).map_err(|e| StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e),
            })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// The entries of the array `field`, each parsed; an error says which entry is wrong.
fn entries<T: for<'de> Deserialize<'de>>(
    raw: &Map<String, Value>,
    field: &str,
    required: bool,
) -> Result<Vec<T>, String> {
    let list = match raw.get(field) {
        Some(Value::Array(list)) => list,
        None if !required => return Ok(Vec::new()),
        _ => return Err(format!("\"{field}\" is missing or not an array")),
    };
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            T::deserialize(e).map_err(|err| format!("entry {} of \"{field}\": {err}", i + 1))
        })
        .collect()
}

/// A record as JSON (these types always serialize).
fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Push onto the array `field` (created if missing).
fn push(raw: &mut Map<String, Value>, field: &str, v: Value) {
    if let Value::Array(list) = raw.entry(field).or_insert_with(|| Value::Array(Vec::new())) {
        list.push(v);
    }
}

/// Set `name` in entry `i` of the array `field`.
fn set_field(raw: &mut Map<String, Value>, field: &str, i: usize, name: &str, v: Value) {
    if let Some(Value::Object(o)) = raw
        .get_mut(field)
        .and_then(Value::as_array_mut)
        .and_then(|l| l.get_mut(i))
    {
        o.insert(name.to_string(), v);
    }
}

/// Remove `name` from entry `i` of the array `field`.
fn remove_field(raw: &mut Map<String, Value>, field: &str, i: usize, name: &str) {
    if let Some(Value::Object(o)) = raw
        .get_mut(field)
        .and_then(Value::as_array_mut)
        .and_then(|l| l.get_mut(i))
    {
        o.remove(name);
    }
}

/// A namespace path in the canonical form: `a/b/`, the root as `""`.
pub(super) fn canonical_ns(ns: &str) -> String {
    let mut out = String::new();
    for part in ns.trim().split('/').filter(|p| !p.is_empty()) {
        out.push_str(part);
        out.push('/');
    }
    out
}

/// The time of an RFC 3339 stamp, for ordering (an unreadable one sorts first).
pub(super) fn stamp(s: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(s).unwrap_or(std::time::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_is_read_and_written_back_as_version_2_with_its_keys_whole() {
        let v1 = br#"{"version":1,"note":"hi","keys":[
            {"server":"http://a:8200","namespace":"t1/","key":"K0","saved_at":"2024-01-01T00:00:00Z","label":"x"},
            {"server":"http://a:8200","namespace":"t2/","key":"K1","saved_at":"2024-01-02T00:00:00Z","used":true}]}"#;
        let doc = Document::parse(Path::new("s"), v1).unwrap().unwrap();
        assert_eq!(doc.keys.len(), 2);
        assert_eq!(doc.keys[0].cluster_id, None);
        assert!(doc.keys[1].used);
        assert!(doc.intents.is_empty());
        let out: Value = serde_json::from_slice(&doc.to_bytes(Path::new("s")).unwrap()).unwrap();
        assert_eq!(out["version"], 2);
        assert_eq!(out["note"], "hi");
        assert_eq!(out["intents"], serde_json::json!([]));
        let before: Value = serde_json::from_slice(v1).unwrap();
        // Every key entry exactly as it was, unknown fields included.
        assert_eq!(out["keys"], before["keys"]);
        let again = Document::parse(Path::new("s"), &doc.to_bytes(Path::new("s")).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(again.keys, doc.keys);
    }

    #[test]
    fn an_unknown_intent_state_is_open_and_kept() {
        let text = br#"{"version":2,"keys":[],"intents":[
            {"id":"i1","server":"s","namespace":"a/","sent_at":"2024-01-01T00:00:00Z","state":"quarantined","extra":1}]}"#;
        let doc = Document::parse(Path::new("s"), text).unwrap().unwrap();
        assert_eq!(doc.intents[0].state, IntentState::Unknown);
        assert!(doc.intents[0].state.is_open());
        let out: Value = serde_json::from_slice(&doc.to_bytes(Path::new("s")).unwrap()).unwrap();
        assert_eq!(out["intents"][0]["state"], "quarantined");
        assert_eq!(out["intents"][0]["extra"], 1);
    }

    #[test]
    fn bad_intents_are_corrupt() {
        for bad in [
            r#"{"version":2,"keys":[],"intents":{}}"#,
            r#"{"version":2,"keys":[],"intents":[{"id":"x"}]}"#,
            r#"{"version":2,"keys":[{"server":"s","namespace":"a/","key":"K","saved_at":"t","cluster_id":7}]}"#,
        ] {
            let err = Document::parse(Path::new("s"), bad.as_bytes()).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn set_state_keeps_unknown_fields() {
        let text = br#"{"version":2,"keys":[],"intents":[
            {"id":"i1","server":"s","namespace":"a/","sent_at":"t","state":"unanswered","reason":"timeout","x":true}]}"#;
        let mut doc = Document::parse(Path::new("s"), text).unwrap().unwrap();
        doc.set_state(0, IntentState::FoundUnlocked, None, "t2".into());
        let out: Value = serde_json::from_slice(&doc.to_bytes(Path::new("s")).unwrap()).unwrap();
        let i = &out["intents"][0];
        assert_eq!(i["state"], "found-unlocked");
        assert_eq!(i["x"], true);
        assert!(i.get("reason").is_none());
        assert_eq!(i["closed_at"], "t2");
    }

    #[test]
    fn report_names_the_namespace_and_the_fix() {
        let i = Intent {
            id: "i".into(),
            server: "http://a:8200".into(),
            cluster_id: None,
            namespace: "acme/web/".into(),
            sent_at: "2025-01-01T00:00:00Z".into(),
            pid: None,
            state: IntentState::Unanswered,
            reason: Some("timed out after 30s".into()),
            closed_at: None,
        };
        let r = i.report();
        assert!(
            r.starts_with(
                "acme/web may be locked; its key was never received: a sudo token can unlock it"
            ),
            "{r}"
        );
        assert!(r.contains("timed out after 30s"), "{r}");
    }
}
