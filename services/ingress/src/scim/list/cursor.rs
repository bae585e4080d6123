//! Cursors of cursor paging (RFC 9865): the last row's sort value and id,
//! bound to the query they page (its fingerprint), hex-encoded JSON.

use scimbus_db::{Cursor, SortValue};
use scimbus_scim::{ScimError, ScimType};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};

pub(super) fn encode_cursor(c: &Cursor, fingerprint: &str) -> String {
    let v = match &c.value {
        SortValue::Null => Value::Null,
        SortValue::Text(s) => json!({"t": s}),
        SortValue::Instant(t) => json!({"d": t.to_rfc3339()}),
        SortValue::Integer(i) => json!({"n": i}),
        SortValue::Decimal(f) => json!({"f": f}),
        SortValue::Boolean(b) => json!({"b": b}),
        SortValue::Uuid(u) => json!({"u": u}),
    };
    let doc = json!({"v": v, "i": c.id, "q": fingerprint});
    doc.to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn decode_cursor(s: &str, fingerprint: &str) -> ApiResult<Cursor> {
    let bad = || -> ApiError {
        ScimError::bad_request(
            ScimType::InvalidCursor,
            format!("\"{s}\" is not a cursor this server issued for this query"),
        )
        .into()
    };
    if !s.len().is_multiple_of(2) || s.len() > 8192 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let doc: Value = bytes
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(bad)?;
    if doc.get("q").and_then(Value::as_str) != Some(fingerprint) {
        return Err(bad());
    }
    let id = doc
        .get("i")
        .and_then(Value::as_str)
        .and_then(|i| uuid::Uuid::parse_str(i).ok())
        .ok_or_else(bad)?;
    let v = doc.get("v").ok_or_else(bad)?;
    let value = match v {
        Value::Null => SortValue::Null,
        Value::Object(o) => match o.iter().next() {
            Some((k, x)) => match (k.as_str(), x) {
                ("t", Value::String(s)) => SortValue::Text(s.clone()),
                ("d", Value::String(s)) => SortValue::Instant(
                    chrono::DateTime::parse_from_rfc3339(s)
                        .map_err(|_| bad())?
                        .to_utc(),
                ),
                ("n", x) => SortValue::Integer(x.as_i64().ok_or_else(bad)?),
                ("f", x) => SortValue::Decimal(x.as_f64().ok_or_else(bad)?),
                ("b", Value::Bool(b)) => SortValue::Boolean(*b),
                ("u", Value::String(u)) => {
                    SortValue::Uuid(uuid::Uuid::parse_str(u).map_err(|_| bad())?)
                }
                _ => return Err(bad()),
            },
            None => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(Cursor { value, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_query() {
        let c = Cursor {
            value: SortValue::Text("bjensen".into()),
            id: uuid::Uuid::now_v7(),
        };
        let s = encode_cursor(&c, "abc");
        assert_eq!(decode_cursor(&s, "abc").unwrap(), c);
        let e = decode_cursor(&s, "other").unwrap_err();
        assert_eq!(e.error.scim_type, Some(ScimType::InvalidCursor));
        for bad in ["zz", ""] {
            let e = decode_cursor(bad, "abc").unwrap_err();
            assert_eq!(e.error.scim_type, Some(ScimType::InvalidCursor), "{bad:?}");
        }
        let c = Cursor {
            value: SortValue::Null,
            id: uuid::Uuid::now_v7(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c, "q"), "q").unwrap(), c);
    }
}
