//! What the record of an exchange with a target (logs, parked changes,
//! reports) shows of a request or an answer that holds a password (sent to
//! a target with `send_passwords`): `[redacted]` in its place.

use serde_json::Value;

/// What the record shows instead of a password.
const REDACTED: &str = "[redacted]";

/// Whether a request body holds a password: a resource's `password`, or
/// a PATCH operation on it (path `password`, or a value naming it).
pub(crate) fn holds_password(body: &Value) -> bool {
    let named =
        |o: &serde_json::Map<String, Value>| o.keys().any(|k| k.eq_ignore_ascii_case("password"));
    let Some(o) = body.as_object() else {
        return false;
    };
    named(o)
        || o.get("Operations")
            .and_then(Value::as_array)
            .is_some_and(|ops| {
                ops.iter().any(|op| {
                    op.get("path")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.eq_ignore_ascii_case("password"))
                        || op
                            .get("value")
                            .and_then(Value::as_object)
                            .is_some_and(named)
                })
            })
}

/// `body` as the record of an exchange shows it: each password replaced
/// by `[redacted]`.
pub(crate) fn redacted(body: &Value) -> Value {
    fn scrub(o: &mut serde_json::Map<String, Value>) {
        for (k, v) in o.iter_mut() {
            if k.eq_ignore_ascii_case("password") {
                *v = Value::String(REDACTED.into());
            }
        }
    }
    let mut out = body.clone();
    if let Some(o) = out.as_object_mut() {
        scrub(o);
        if let Some(ops) = o.get_mut("Operations").and_then(Value::as_array_mut) {
            for op in ops.iter_mut().filter_map(Value::as_object_mut) {
                let on_password = op
                    .get("path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.eq_ignore_ascii_case("password"));
                match op.get_mut("value") {
                    Some(v) if on_password => *v = Value::String(REDACTED.into()),
                    Some(Value::Object(v)) => scrub(v),
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_show_no_password() {
        let user = json!({"userName": "b", "password": "Sekr1t"});
        let patch = json!({"Operations": [
            {"op": "replace", "value": {"displayName": "B", "Password": "Sekr1t"}},
            {"op": "replace", "path": "password", "value": "Sekr1t"}
        ]});
        for body in [&user, &patch] {
            assert!(holds_password(body));
            let r = redacted(body).to_string();
            assert!(!r.contains("Sekr1t"), "{r}");
            assert!(r.contains(REDACTED), "{r}");
        }
        assert_eq!(
            redacted(&patch)["Operations"][0]["value"]["displayName"],
            "B"
        );
        assert!(!holds_password(&json!({"userName": "password"})));
    }
}
