//! Event and employee ids: what makes one usable, and the id of an event
//! whose source sends none.

use ring::digest;
use serde_json::{Map, Value};

/// The longest id kept (the inbox's key, a log line's field).
pub const MAX_ID_CHARS: usize = 256;

/// Why `id` cannot be an id, if it cannot.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".into());
    }
    let n = id.chars().count();
    if n > MAX_ID_CHARS {
        return Err(format!("is {n} characters long, over {MAX_ID_CHARS}"));
    }
    if id.chars().any(char::is_control) {
        return Err("has a control character".into());
    }
    Ok(())
}

/// `sha256:` + the hex SHA-256 of the event's canonical JSON (object keys
/// sorted at every level, no spaces), so that the same event sent again,
/// whatever the order of its keys, has the same id.
pub fn derived_id(raw: &Value) -> String {
    let canonical = sorted(raw).to_string();
    let hash = digest::digest(&digest::SHA256, canonical.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `v` with every object's keys in order (serde_json keeps insertion order
/// in this workspace).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let mut m = Map::new();
            for k in keys {
                if let Some(x) = o.get(k) {
                    m.insert(k.clone(), sorted(x));
                }
            }
            Value::Object(m)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_printable_and_not_empty() {
        assert_eq!(check_id("wd-evt-1"), Ok(()));
        assert_eq!(check_id(&"é".repeat(256)), Ok(()));
        assert_eq!(check_id(""), Err("is empty".into()));
        assert_eq!(
            check_id(&"a".repeat(257)),
            Err("is 257 characters long, over 256".into())
        );
        assert_eq!(check_id("a\nb"), Err("has a control character".into()));
    }

    #[test]
    fn the_derived_id_is_the_hash_of_the_sorted_json() {
        let v: Value = serde_json::from_str(r#"{"b": [ {"y": 1, "x": 2} ], "a": "é"}"#).unwrap();
        let canonical = r#"{"a":"é","b":[{"x":2,"y":1}]}"#;
        assert_eq!(sorted(&v).to_string(), canonical);
        // `printf '%s' '{"a":"é","b":[{"x":2,"y":1}]}' | sha256sum`
        assert_eq!(
            derived_id(&v),
            "sha256:acb79933e0e377c4aad9973618ef7fedb5eaa4e904940c1a3caa40c00369c561"
        );
    }
}
