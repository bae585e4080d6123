//! Comparing SCIM values under an attribute's definition: case sensitivity
//! follows `caseExact`, dateTimes compare as instants, numbers as numbers.
//! Shared by the filter evaluator, sorting and PATCH so that all three agree.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::schema::{Attribute, AttributeType};

/// Parses an `xsd:dateTime` as SCIM uses it (RFC 3339 with an offset or `Z`;
/// a missing offset is taken as UTC, as some clients send it).
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc().fixed_offset())
    })
}

/// Folds a string for comparison under `case_exact`.
pub fn fold(s: &str, case_exact: bool) -> std::borrow::Cow<'_, str> {
    if case_exact {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.to_lowercase())
    }
}

/// Orders two values of the attribute `attr`. `None` when they cannot be
/// ordered (different JSON types, booleans, binaries, complex values,
/// unparseable dateTimes).
pub fn compare(attr: &Attribute, a: &Value, b: &Value) -> Option<Ordering> {
    match attr.kind {
        AttributeType::Boolean | AttributeType::Binary | AttributeType::Complex => None,
        AttributeType::DateTime => {
            let (a, b) = (parse_datetime(a.as_str()?)?, parse_datetime(b.as_str()?)?);
            Some(a.cmp(&b))
        }
        AttributeType::Integer | AttributeType::Decimal => compare_numbers(a, b),
        AttributeType::String | AttributeType::Reference => {
            let (a, b) = (a.as_str()?, b.as_str()?);
            Some(fold(a, attr.case_exact).cmp(&fold(b, attr.case_exact)))
        }
    }
}

/// Whether two values of `attr` are equal under its rules. Unlike
/// [`compare`], booleans and binaries have equality.
pub fn equals(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match attr.kind {
        AttributeType::Boolean => match (a.as_bool(), b.as_bool()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        AttributeType::Binary => a == b,
        AttributeType::Complex => match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter().all(|(k, va)| {
                        let vb = crate::registry::get_ci(y, k);
                        match (attr.sub(k), vb) {
                            (Some(sub), Some(vb)) => equals(sub, va, vb),
                            (None, Some(vb)) => va == vb,
                            (_, None) => false,
                        }
                    })
            }
            _ => false,
        },
        _ => compare(attr, a, b) == Some(Ordering::Equal),
    }
}

fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    let (a, b) = (a.as_number()?, b.as_number()?);
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attr(kind: AttributeType, case_exact: bool) -> Attribute {
        serde_json::from_value(json!({"name": "a", "type": kind, "caseExact": case_exact})).unwrap()
    }

    #[test]
    fn strings_follow_case_exact() {
        let ci = attr(AttributeType::String, false);
        let ce = attr(AttributeType::String, true);
        assert!(equals(&ci, &json!("BJensen"), &json!("bjensen")));
        assert!(!equals(&ce, &json!("BJensen"), &json!("bjensen")));
        assert_eq!(
            compare(&ci, &json!("b"), &json!("A")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&ce, &json!("b"), &json!("A")),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&ce, &json!("B"), &json!("a")), Some(Ordering::Less));
    }

    #[test]
    fn datetimes_compare_as_instants() {
        let dt = attr(AttributeType::DateTime, false);
        assert!(equals(
            &dt,
            &json!("2011-05-13T04:42:34Z"),
            &json!("2011-05-13T06:42:34+02:00")
        ));
        assert_eq!(
            compare(
                &dt,
                &json!("2011-05-13T04:42:34.5Z"),
                &json!("2011-05-13T04:42:34Z")
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&dt, &json!("yesterday"), &json!("2011-05-13T04:42:34Z")),
            None
        );
        assert!(parse_datetime("2011-05-13T04:42:34").is_some());
    }

    #[test]
    fn numbers_booleans_and_complex() {
        let int = attr(AttributeType::Integer, false);
        assert_eq!(
            compare(&int, &json!(10), &json!(9)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&attr(AttributeType::Decimal, false), &json!(1.5), &json!(2)),
            Some(Ordering::Less)
        );
        let b = attr(AttributeType::Boolean, false);
        assert!(equals(&b, &json!(true), &json!(true)));
        assert_eq!(compare(&b, &json!(true), &json!(false)), None);
        let email: Attribute = serde_json::from_value(json!({"name": "emails", "type": "complex",
            "subAttributes": [{"name": "value"}, {"name": "type"}]}))
        .unwrap();
        assert!(equals(
            &email,
            &json!({"value": "A@x", "type": "work"}),
            &json!({"Value": "a@x", "type": "WORK"})
        ));
        assert!(!equals(
            &email,
            &json!({"value": "a@x"}),
            &json!({"value": "a@x", "type": "work"})
        ));
    }
}
