//! Operations whose path has no value filter: an attribute, a
//! sub-attribute, or (with no path) the attributes of a value object.

use serde_json::{Map, Value};

use super::apply::{merge, take};
use super::filtered::demote_other_primaries;
use super::request::OpKind;
use crate::error::{Result, ScimError};
use crate::registry::get_ci;
use crate::resource::{Leniency, normalize_value};
use crate::schema::Attribute;

/// The value an unfiltered add/replace/remove leaves behind.
pub(super) fn unfiltered_value(
    op: OpKind,
    attr: &Attribute,
    current: Option<Value>,
    sub: Option<&Attribute>,
    value: Option<&Value>,
    len: Leniency,
) -> Result<Option<Value>> {
    let raw = value.unwrap_or(&Value::Null);
    if let Some(sub) = sub {
        let at = format!("{}.{}", attr.name, sub.name);
        if attr.multi_valued {
            // `emails.type` with no filter: only a remove is unambiguous.
            if op != OpKind::Remove {
                return Err(ScimError::invalid_path(format!(
                    "\"{at}\": say which values with a filter, e.g. {}[type eq \"work\"].{}",
                    attr.name, sub.name
                )));
            }
            let mut items = match current {
                Some(Value::Array(items)) => items,
                other => return Ok(other),
            };
            for item in &mut items {
                if let Some(obj) = item.as_object_mut() {
                    take(obj, &sub.name);
                }
            }
            return Ok(Some(Value::Array(items)));
        }
        let mut obj = match current {
            Some(Value::Object(obj)) => obj,
            _ => Map::new(),
        };
        take(&mut obj, &sub.name);
        if op != OpKind::Remove
            && let Some(v) = normalize_value(sub, Some(attr), raw, &at, len)?
        {
            obj.insert(sub.name.clone(), v);
        }
        return Ok((!obj.is_empty()).then_some(Value::Object(obj)));
    }
    match op {
        OpKind::Remove if attr.multi_valued && !raw.is_null() => {
            // Entra ID and Okta remove members by listing them as the value
            // of `path: "members"`: remove just those.
            let mut items = match current {
                Some(Value::Array(items)) => items,
                other => return Ok(other),
            };
            let gone = match raw {
                Value::Array(list) => list.iter().collect::<Vec<_>>(),
                one => vec![one],
            };
            items.retain(|item| !gone.iter().any(|g| same_value(attr, item, g)));
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        OpKind::Remove => Ok(None),
        _ => {
            let wrapped = bare_id(attr, raw);
            let new =
                normalize_value(attr, None, wrapped.as_ref().unwrap_or(raw), &attr.name, len)?;
            Ok(match (op, new, current) {
                (OpKind::Add, None, current) => current,
                (_, None, _) => None,
                (OpKind::Add, Some(Value::Array(new)), Some(Value::Array(mut items))) => {
                    let start = items.len();
                    for v in new {
                        if !items.iter().any(|i| crate::value::equals(attr, i, &v)) {
                            items.push(v);
                        }
                    }
                    let added: Vec<usize> = (start..items.len()).collect();
                    demote_other_primaries(&mut items, &added);
                    Some(Value::Array(items))
                }
                (_, Some(Value::Object(new)), Some(Value::Object(mut obj)))
                    if !attr.multi_valued && !is_new_reference(attr, &new) =>
                {
                    // Complex singular: given sub-attributes replace, the rest
                    // stay (RFC 7644 §3.5.2.1 and §3.5.2.3).
                    merge(&mut obj, &new);
                    Some(Value::Object(obj))
                }
                (_, Some(new), _) => Some(new),
            })
        }
    }
}

/// A manager (or any singular complex value with a `value`) given as a bare
/// id, as the object it stands for.
pub(super) fn bare_id(attr: &Attribute, raw: &Value) -> Option<Value> {
    match raw {
        Value::String(s)
            if attr.is_complex() && !attr.multi_valued && attr.sub("value").is_some() =>
        {
            Some(Value::Object(Map::from_iter([(
                "value".to_string(),
                Value::String(s.clone()),
            )])))
        }
        _ => None,
    }
}

/// A reference (`manager`) given a new `value` is a different reference: its
/// old `$ref` and display name must not survive a merge.
fn is_new_reference(attr: &Attribute, new: &Map<String, Value>) -> bool {
    attr.sub("$ref").is_some() && new.contains_key("value")
}

/// Whether `item` is the value `given` names: by `value` when the
/// attribute has one (a member is its id; Entra ID may send the bare id),
/// otherwise by equality.
fn same_value(attr: &Attribute, item: &Value, given: &Value) -> bool {
    if let Some(sub) = attr.sub("value") {
        let wanted = match given {
            Value::Object(obj) => get_ci(obj, "value"),
            other => Some(other),
        };
        if let (Some(have), Some(wanted)) = (item.get("value"), wanted) {
            return crate::value::equals(sub, have, wanted);
        }
    }
    crate::value::equals(attr, item, given)
}
