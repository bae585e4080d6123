//! Checks one attribute value against its definition and brings it into
//! canonical form: canonical attribute names, readOnly sub-attributes and
//! nulls dropped. A value of another JSON type than the attribute's is an
//! error naming the attribute and the type, except for the leniencies real
//! identity providers need (listed in the crate README): booleans as the
//! strings `"True"`/`"False"` (Entra ID) and a single value where a list is
//! expected. (`42.0` is the integer 42: JSON has one number type.)

use serde_json::{Map, Value};

use crate::error::{Result, ScimError};
use crate::input::{MAX_IDENTIFIER_BYTES, MAX_STRING_BYTES, check_text};
use crate::schema::{Attribute, AttributeType, Mutability};

/// How strict to be with what real clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Leniency {
    /// Reject attributes the schema does not define (otherwise they are
    /// dropped: RFC 7644 leaves it to the service provider, and IdPs add
    /// attributes of their own).
    pub reject_unknown: bool,
}

/// Normalises the value of `attr` (whose parent complex attribute is
/// `parent`, if any). `Ok(None)` means "unassigned": `null`, `[]`, or a
/// complex value with nothing left in it (RFC 7644 §3.3: unassigned and null
/// are the same).
pub fn normalize_value(
    attr: &Attribute,
    parent: Option<&Attribute>,
    value: &Value,
    at: &str,
    leniency: Leniency,
) -> Result<Option<Value>> {
    if attr.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Null => return Ok(None),
            Value::Array(items) => items.iter().collect(),
            // A single value where a list is expected: the intent is clear.
            other => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let here = format!("{at}[{i}]");
            if let Some(v) = normalize_single(attr, parent, item, &here, leniency)? {
                out.push(v);
            }
        }
        check_primary(&out, at)?;
        Ok((!out.is_empty()).then_some(Value::Array(out)))
    } else {
        match value {
            Value::Array(_) => Err(ScimError::invalid_value(format!(
                "{at}: a single value was expected, not a list"
            ))),
            other => normalize_single(attr, parent, other, at, leniency),
        }
    }
}

/// Normalises one (non-list) value of `attr`.
pub fn normalize_single(
    attr: &Attribute,
    parent: Option<&Attribute>,
    value: &Value,
    at: &str,
    leniency: Leniency,
) -> Result<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |what: &str| {
        ScimError::invalid_value(format!("{at}: expected {what}, found {}", describe(value)))
    };
    if let Value::String(s) = value {
        check_text(s, max_bytes(attr, parent))
            .map_err(|t| ScimError::invalid_value(format!("{at}: the value {t}")))?;
    }
    let out = match attr.kind {
        AttributeType::String => match value {
            Value::String(s) => Value::String(canonical(attr, parent, s, at)?),
            _ => return Err(wrong("a string")),
        },
        AttributeType::Reference => match value {
            Value::String(s) => Value::String(s.clone()),
            _ => return Err(wrong("a reference (string)")),
        },
        AttributeType::Boolean => match value {
            Value::Bool(b) => Value::Bool(*b),
            // Entra ID sends "True"/"False".
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(wrong("a boolean")),
        },
        // The store compares and sorts integers as Postgres `bigint`.
        AttributeType::Integer => match value {
            Value::Number(n) if n.is_i64() => value.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => return Err(wrong("an integer between -2^63 and 2^63-1")),
            },
            _ => return Err(wrong("an integer")),
        },
        AttributeType::Decimal => match value {
            Value::Number(_) => value.clone(),
            _ => return Err(wrong("a decimal number")),
        },
        AttributeType::DateTime => match value {
            Value::String(s) if crate::value::parse_datetime(s).is_some() => value.clone(),
            _ => {
                return Err(wrong(
                    "a dateTime (xsd:dateTime, e.g. 2011-05-13T04:42:34Z)",
                ));
            }
        },
        AttributeType::Binary => match value {
            Value::String(s) if is_base64(s) => value.clone(),
            _ => return Err(wrong("base64-encoded binary")),
        },
        AttributeType::Complex => match value {
            Value::Object(obj) => match normalize_complex(attr, obj, at, leniency)? {
                Some(v) => v,
                None => return Ok(None),
            },
            _ => return Err(wrong("a complex value (object)")),
        },
    };
    Ok(Some(out))
}

fn normalize_complex(
    attr: &Attribute,
    obj: &Map<String, Value>,
    at: &str,
    leniency: Leniency,
) -> Result<Option<Value>> {
    let mut out = Map::new();
    for (key, v) in obj {
        let Some(sub) = attr.sub(key) else {
            if leniency.reject_unknown {
                return Err(ScimError::invalid_syntax(format!(
                    "{at}: \"{key}\" is not a sub-attribute of \"{}\"",
                    attr.name
                )));
            }
            continue;
        };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if out.contains_key(&sub.name) {
            return Err(ScimError::invalid_syntax(format!(
                "{at}: \"{}\" is given twice",
                sub.name
            )));
        }
        let here = format!("{at}.{}", sub.name);
        if let Some(v) = normalize_value(sub, Some(attr), v, &here, leniency)? {
            out.insert(sub.name.clone(), v);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    // A reference list entry (members, manager) is nothing without its id.
    if attr.sub("$ref").is_some() && attr.sub("value").is_some() && !out.contains_key("value") {
        return Err(ScimError::invalid_value(format!(
            "{at}: \"value\" is required"
        )));
    }
    for sub in attr.sub_attributes.iter().filter(|s| s.required) {
        if !out.contains_key(&sub.name) && sub.mutability != Mutability::ReadOnly {
            return Err(ScimError::invalid_value(format!(
                "{at}: \"{}\" is required",
                sub.name
            )));
        }
    }
    Ok(Some(Value::Object(out)))
}

/// The most bytes a string value of `attr` may have: identifiers the store
/// keeps in an index have a tighter limit than other text.
fn max_bytes(attr: &Attribute, parent: Option<&Attribute>) -> usize {
    let indexed = match parent {
        None => ["userName", "displayName", "externalId"]
            .iter()
            .any(|n| attr.name.eq_ignore_ascii_case(n)),
        Some(p) => p.name.eq_ignore_ascii_case("emails") && attr.name.eq_ignore_ascii_case("value"),
    };
    if indexed {
        MAX_IDENTIFIER_BYTES
    } else {
        MAX_STRING_BYTES
    }
}

/// Binding canonical values are matched case-insensitively and stored in
/// their canonical spelling; advisory ones are kept as sent.
fn canonical(attr: &Attribute, parent: Option<&Attribute>, s: &str, at: &str) -> Result<String> {
    if !attr.canonical_binds(parent) {
        return Ok(s.to_string());
    }
    attr.canonical_values
        .iter()
        .find(|c| c.eq_ignore_ascii_case(s))
        .cloned()
        .ok_or_else(|| {
            ScimError::invalid_value(format!(
                "{at}: \"{s}\" is not one of {}",
                attr.canonical_values.join(", ")
            ))
        })
}

/// RFC 7643 §2.4: the primary attribute value `true` MUST appear no more
/// than once.
fn check_primary(items: &[Value], at: &str) -> Result<()> {
    let primaries = items
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "{at}: \"primary\": true appears {primaries} times; at most one value may be primary"
        )));
    }
    Ok(())
}

fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len() - body.len() <= 2
        && body.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '+' | '/' | '-' | '_')
                || c.is_ascii_whitespace()
        })
}

/// A short description of a JSON value's kind for error details.
pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
