//! Reading an attribute's values out of a document and testing one value
//! against a literal.

use std::cmp::Ordering;

use serde_json::Value;

use super::Target;
use crate::filter::CompareOp;
use crate::registry::get_ci;
use crate::schema::{Attribute, AttributeType};
use crate::value::{compare, equals, fold};

impl Target<'_> {
    /// Whether `pred` holds for any value at this target. Arrays are
    /// looked into: a multi-valued attribute offers each of its values.
    pub(super) fn any(&self, doc: &Value, mut pred: impl FnMut(&Value) -> bool) -> bool {
        let Some(obj) = doc.as_object() else {
            return false;
        };
        let top = if self.relative {
            match self.res.sub {
                Some(sub) => get_ci(obj, &sub.name),
                None => None,
            }
        } else {
            self.res.value(doc)
        };
        let Some(top) = top else {
            return false;
        };
        match (self.relative, self.res.sub) {
            (false, Some(sub)) => elements(top)
                .filter_map(Value::as_object)
                .filter_map(|o| get_ci(o, &sub.name))
                .flat_map(elements)
                .any(pred),
            _ => elements(top).any(&mut pred),
        }
    }
}

/// The values of an attribute: each element of an array, or the value
/// itself.
fn elements(v: &Value) -> std::slice::Iter<'_, Value> {
    match v {
        Value::Array(items) => items.iter(),
        other => std::slice::from_ref(other).iter(),
    }
}

/// The type keyword of RFC 7643 §2.3, with its article.
pub(super) fn kind_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => " string",
        AttributeType::Boolean => " boolean",
        AttributeType::Decimal => " decimal",
        AttributeType::Integer => "n integer",
        AttributeType::DateTime => " dateTime",
        AttributeType::Reference => " reference",
        AttributeType::Complex => " complex",
        AttributeType::Binary => " binary",
    }
}

/// `pr`: not null and not empty; an object or array counts if any member
/// does (looked at one level deep, so that `{"value": null}` is absent).
pub(super) fn present(v: &Value) -> bool {
    fn shallow(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        }
    }
    match v {
        Value::Array(a) => a.iter().any(shallow),
        Value::Object(o) => o.values().any(shallow),
        other => shallow(other),
    }
}

/// `ne` for one value: of the literal's JSON type, and not equal.
pub(super) fn differs(attr: &Attribute, a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && !equals(attr, a, b)
}

/// Every operator but `ne` for one value `a` against the literal `b`.
/// For `co sw ew`, `b` is already folded under `caseExact`.
pub(super) fn test(attr: &Attribute, op: CompareOp, a: &Value, b: &Value) -> bool {
    let ordered = |want: fn(Ordering) -> bool| compare(attr, a, b).is_some_and(want);
    let text = |f: fn(&str, &str) -> bool| match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => f(&fold(a, attr.case_exact), b),
        _ => false,
    };
    match op {
        CompareOp::Eq => equals(attr, a, b),
        CompareOp::Ne => differs(attr, a, b),
        CompareOp::Co => text(|a, b| a.contains(b)),
        CompareOp::Sw => text(|a, b| a.starts_with(b)),
        CompareOp::Ew => text(|a, b| a.ends_with(b)),
        CompareOp::Gt => ordered(Ordering::is_gt),
        CompareOp::Ge => ordered(Ordering::is_ge),
        CompareOp::Lt => ordered(Ordering::is_lt),
        CompareOp::Le => ordered(Ordering::is_le),
    }
}
