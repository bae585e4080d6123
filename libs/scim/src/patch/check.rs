//! A PATCH request checked without the resource it applies to: what the
//! ingress does before it sends the write, so that a value the store would
//! refuse never costs a command, and one it must never see never reaches it.
//!
//! Every path resolves and every value of an `add` or `replace` has the
//! type, text and range its attribute needs, exactly as [`super::apply`]
//! finds them (the same resolution and the same normalisation). What only
//! the stored resource can tell is left to the apply: a `replace` through a
//! filter that matches nothing, an immutable attribute that is already set,
//! a missing required attribute.

use serde_json::Value;

use super::apply::{Target, each_target};
use super::request::{OpKind, PatchOp, PatchRequest};
use super::unfiltered::bare_id;
use crate::error::{Result, ScimError};
use crate::registry::{Registry, ResourceType};
use crate::resource::{Leniency, describe, normalize_single, normalize_value};
use crate::schema::Mutability;

/// Checks every operation; errors name the operation (`Operations[2]: …`)
/// as [`super::apply`]'s do.
pub fn check(
    registry: &Registry,
    rt: &ResourceType,
    request: &PatchRequest,
    leniency: Leniency,
) -> Result<()> {
    for (i, op) in request.operations.iter().enumerate() {
        check_op(registry, rt, op, leniency).map_err(|e| e.at(format_args!("Operations[{i}]")))?;
    }
    Ok(())
}

fn check_op(reg: &Registry, rt: &ResourceType, op: &PatchOp, len: Leniency) -> Result<()> {
    each_target(reg, rt, op, len, |t, value| {
        check_value(op.op, &t, value, len)
    })
}

/// The value an `add` or `replace` writes to `t`, normalised as the apply
/// normalises it. A `remove`'s value only names what to remove.
fn check_value(op: OpKind, t: &Target<'_>, value: Option<&Value>, len: Leniency) -> Result<()> {
    if op == OpKind::Remove {
        return Ok(());
    }
    let raw = value.unwrap_or(&Value::Null);
    match t {
        Target::Extension(schema) => {
            let Value::Object(fields) = raw else {
                return Err(ScimError::invalid_value(format!(
                    "the value for {} must be an object of its attributes, found {}",
                    schema.id,
                    describe(raw)
                )));
            };
            for (key, v) in fields {
                let Some(attr) = schema.attribute(key) else {
                    if len.reject_unknown {
                        return Err(ScimError::invalid_path(format!(
                            "\"{key}\" is not an attribute of {}",
                            schema.id
                        )));
                    }
                    continue;
                };
                if attr.mutability != Mutability::ReadOnly {
                    let at = format!("{}:{}", schema.id, attr.name);
                    // A bare id for a reference (Entra ID's manager), as
                    // the apply takes it.
                    let wrapped = bare_id(attr, v);
                    normalize_value(attr, None, wrapped.as_ref().unwrap_or(v), &at, len)?;
                }
            }
        }
        Target::Attr {
            resolved,
            filter,
            sub,
        } => {
            let attr = resolved.attr;
            let at = resolved.canonical();
            match (filter, sub) {
                (None, Some(sub)) if attr.multi_valued => {
                    return Err(ScimError::invalid_path(format!(
                        "\"{at}.{}\": say which values with a filter, e.g. {}[type eq \"work\"].{}",
                        sub.name, attr.name, sub.name
                    )));
                }
                (None, Some(sub)) => {
                    normalize_value(sub, Some(attr), raw, &format!("{at}.{}", sub.name), len)?;
                }
                (None, None) => {
                    let wrapped = bare_id(attr, raw);
                    normalize_value(attr, None, wrapped.as_ref().unwrap_or(raw), &at, len)?;
                }
                (Some(f), Some(sub)) => {
                    let at = format!("{at}[{f}].{}", sub.name);
                    normalize_value(sub, Some(attr), raw, &at, len)?;
                }
                (Some(f), None) => {
                    let at = format!("{at}[{f}]");
                    if !matches!(
                        normalize_single(attr, None, raw, &at, len)?,
                        Some(Value::Object(_))
                    ) {
                        return Err(ScimError::invalid_value(format!(
                            "{at}: needs a complex value"
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn checked(ops: Value) -> Result<()> {
        let reg = Registry::standard().unwrap();
        let rt = reg.resource_type("User").unwrap();
        let req = PatchRequest::parse(&json!({ "Operations": ops }))?;
        check(&reg, rt, &req, Leniency::default())
    }

    #[test]
    fn what_real_clients_send_passes() {
        checked(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@x"},
            {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "b@x"}},
            {"op": "replace", "path": "name.givenName", "value": "B"},
            {"op": "replace", "path": format!("{ENT}:manager"), "value": "m-1"},
            {"op": "add", "path": ENT, "value": {"department": "Tours"}},
            {"op": "add", "path": ENT, "value": {"manager": "m-2"}},
            {"op": "replace", "value": {"name.familyName": "J", "meta": 1, "nosuch": 1,
                                        format!("{ENT}:department"): "T", "schemas": []}},
            {"op": "remove", "path": "emails[value eq \"a@x\"]"},
            {"op": "remove", "path": "emails", "value": [{"value": 7}]},
        ]))
        .unwrap();
    }

    #[test]
    fn values_of_the_wrong_type_or_text_are_refused_naming_attribute_and_operation() {
        let cases = [
            (
                json!({"op": "replace", "path": "userName", "value": 12345}),
                "Operations[0]: userName: expected a string",
            ),
            (
                json!({"op": "replace", "path": "active", "value": 1}),
                "active: expected a boolean",
            ),
            (
                json!({"op": "replace", "path": "name", "value": "x"}),
                "name: expected a complex value",
            ),
            (
                json!({"op": "replace", "path": "name.givenName", "value": "a\u{0}"}),
                "name.givenName: the value must not contain the control character U+0000",
            ),
            (
                json!({"op": "replace", "path": "userName", "value": "u".repeat(1025)}),
                "userName: the value is 1025 bytes long",
            ),
            (
                json!({"op": "add", "path": "emails[type eq \"work\"].value", "value": 7}),
                "emails[type eq \"work\"].value: expected a string",
            ),
            (
                json!({"op": "add", "path": "emails[type eq \"work\"]", "value": "a@x"}),
                "expected a complex value",
            ),
            (
                json!({"op": "replace", "path": ENT, "value": {"department": 5}}),
                &format!("{ENT}:department: expected a string"),
            ),
            (
                json!({"op": "replace", "path": format!("{ENT}:department"), "value": true}),
                &format!("{ENT}:department: expected a string"),
            ),
            (
                json!({"op": "replace", "value": {"displayName": false}}),
                "\"displayName\": displayName: expected a string",
            ),
        ];
        for (op, needle) in cases {
            let e = checked(json!([op])).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{op}: {e}");
            assert!(e.detail.contains(needle), "{op}: {e}");
        }
    }

    #[test]
    fn paths_are_resolved_as_the_apply_resolves_them() {
        let cases = [
            (
                json!({"op": "replace", "path": "nosuch", "value": 1}),
                ScimType::InvalidPath,
            ),
            (
                json!({"op": "replace", "path": "emails.value", "value": "a"}),
                ScimType::InvalidPath,
            ),
            (
                json!({"op": "replace", "path": "meta.created", "value": "x"}),
                ScimType::Mutability,
            ),
            (
                json!({"op": "replace", "value": {"urn:example:nobody:2.0:User:x": "1"}}),
                ScimType::InvalidPath,
            ),
        ];
        for (op, t) in cases {
            let e = checked(json!([op])).unwrap_err();
            assert_eq!(e.scim_type, Some(t), "{op}: {e}");
        }
        let e =
            checked(json!([{"op": "replace", "value": {"urn:example:nobody:2.0:User:x": "1"}}]))
                .unwrap_err();
        assert!(e.detail.contains("urn:example:nobody:2.0:User:x"), "{e}");
    }
}
