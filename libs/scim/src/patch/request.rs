//! The PATCH request body (RFC 7644 §3.5.2), read leniently where real
//! clients deviate: `Operations` in any case, `op` in any case (Entra ID
//! sends `Replace`, `Add`), a missing `schemas`.

use serde_json::{Map, Value};

use super::path::PatchPath;
use crate::error::{Result, ScimError};
use crate::registry::get_ci;
use crate::resource::describe;

pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// `add`, `replace` or `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A whole PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOp>,
}

impl PatchRequest {
    /// Reads a PATCH body. Errors name the operation index.
    pub fn parse(body: &Value) -> Result<PatchRequest> {
        let obj = crate::message::object(body, "a PATCH body", PATCH_OP_SCHEMA)?;
        let ops = get_ci(obj, "Operations")
            .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" is missing"))?
            .as_array()
            .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" must be a list"))?;
        if ops.is_empty() {
            return Err(ScimError::invalid_syntax("\"Operations\" is empty"));
        }
        let operations = ops
            .iter()
            .enumerate()
            .map(|(i, op)| parse_op(op).map_err(|e| e.at(format_args!("Operations[{i}]"))))
            .collect::<Result<_>>()?;
        Ok(PatchRequest { operations })
    }
}

fn parse_op(op: &Value) -> Result<PatchOp> {
    let obj: &Map<String, Value> = op
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("an operation must be an object"))?;
    let kind = match get_ci(obj, "op").and_then(Value::as_str).map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        Some(s) => {
            return Err(ScimError::invalid_syntax(format!(
                "\"op\" must be add, replace or remove, not \"{s}\""
            )));
        }
        None => return Err(ScimError::invalid_syntax("\"op\" is missing")),
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(PatchPath::parse(s)?),
        Some(other) => {
            return Err(ScimError::invalid_path(format!(
                "\"path\" must be a string, found {}",
                describe(other)
            )));
        }
    };
    let value = get_ci(obj, "value").cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => {
            Err(ScimError::no_target("a remove operation needs a \"path\""))
        }
        (OpKind::Add | OpKind::Replace, _, None) => Err(ScimError::invalid_value(
            "add and replace operations need a \"value\"",
        )),
        (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => {
            Err(ScimError::invalid_value(format!(
                "without a \"path\", \"value\" must be an object of attributes, found {}",
                describe(v)
            )))
        }
        _ => Ok(PatchOp {
            op: kind,
            path,
            value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_rfc_and_entra_style_bodies() {
        let r = PatchRequest::parse(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "2819c223"}]},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "REMOVE", "path": "emails[type eq \"work\"]"},
                {"op": "replace", "value": {"displayName": "x"}}
            ]
        }))
        .unwrap();
        let kinds: Vec<_> = r.operations.iter().map(|o| o.op).collect();
        assert_eq!(
            kinds,
            [
                OpKind::Add,
                OpKind::Replace,
                OpKind::Remove,
                OpKind::Replace
            ]
        );
        assert!(r.operations[3].path.is_none());
        assert!(
            PatchRequest::parse(&json!({"operations": [{"op": "add", "path": "x", "value": 1}]}))
                .is_ok()
        );
    }

    #[test]
    fn errors_name_the_operation() {
        let cases = [
            (json!([]), crate::ScimType::InvalidSyntax, ""),
            (
                json!({"Operations": []}),
                crate::ScimType::InvalidSyntax,
                "empty",
            ),
            (
                json!({"schemas": ["urn:x"], "Operations": [{"op": "add"}]}),
                crate::ScimType::InvalidSyntax,
                "schemas",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "a", "value": 1}, {"op": "move", "path": "a"}]}),
                crate::ScimType::InvalidSyntax,
                "Operations[1]",
            ),
            (
                json!({"Operations": [{"op": "remove"}]}),
                crate::ScimType::NoTarget,
                "Operations[0]",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "a"}]}),
                crate::ScimType::InvalidValue,
                "value",
            ),
            (
                json!({"Operations": [{"op": "replace", "value": "x"}]}),
                crate::ScimType::InvalidValue,
                "object",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "emails[", "value": 1}]}),
                crate::ScimType::InvalidPath,
                "Operations[0]",
            ),
            (
                json!({"Operations": [{"op": "add", "path": 7, "value": 1}]}),
                crate::ScimType::InvalidPath,
                "path",
            ),
        ];
        for (body, t, needle) in cases {
            let e = PatchRequest::parse(&body).unwrap_err();
            assert_eq!(e.scim_type, Some(t), "{body}: {e}");
            assert!(e.detail.contains(needle), "{body}: {e}");
        }
    }
}
