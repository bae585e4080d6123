//! The `BulkRequest` body (RFC 7644 §3.7), read leniently where real
//! clients deviate: attribute names in any case, `method` in any case, a
//! missing `schemas`. What is wrong with the request as a whole is an error
//! for the whole request; what is wrong with one operation is that
//! operation's error, answered in its place.

use std::collections::HashMap;

use scimbus_scim::ScimError;
use scimbus_scim::registry::get_ci;
use scimbus_scim::resource::describe;
use serde_json::{Map, Value};

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// The HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn parse(s: &str) -> Option<Method> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A well-formed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub method: Method,
    /// The resource type endpoint, without slashes (`Users`).
    pub endpoint: String,
    /// The resource id of a PUT, PATCH or DELETE, as written (it may be a
    /// `bulkId:` reference).
    pub id: Option<String>,
    /// `Null` for a DELETE.
    pub data: Value,
}

/// One operation of the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `method` as echoed in the response: upper case when known, else as
    /// sent.
    pub method: Option<String>,
    pub bulk_id: Option<String>,
    /// The `If-Match` version of a PUT, PATCH or DELETE.
    pub version: Option<String>,
    pub parsed: Result<Valid, ScimError>,
}

/// A whole request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    pub operations: Vec<Operation>,
    /// Stop after this many errors.
    pub fail_on_errors: Option<usize>,
}

impl BulkRequest {
    /// Reads a body; `max_operations` is checked before any operation is
    /// looked at.
    pub fn parse(body: &Value, max_operations: usize) -> Result<BulkRequest, ScimError> {
        let obj = scimbus_scim::message::object(body, "a BulkRequest", BULK_REQUEST)?;
        let fail_on_errors = match get_ci(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(positive(v).ok_or_else(|| {
                ScimError::invalid_value(format!(
                    "\"failOnErrors\" must be a positive integer, not {v}"
                ))
            })?),
        };
        let ops = get_ci(obj, "Operations")
            .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" is missing"))?
            .as_array()
            .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" must be a list"))?;
        if ops.len() > max_operations {
            return Err(ScimError::new(
                413,
                None,
                format!(
                    "the request has {} operations, more than maxOperations ({max_operations})",
                    ops.len()
                ),
            ));
        }
        let mut operations: Vec<Operation> = ops.iter().map(operation).collect();
        refuse_duplicate_bulk_ids(&mut operations);
        Ok(BulkRequest {
            operations,
            fail_on_errors,
        })
    }
}

fn positive(v: &Value) -> Option<usize> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    usize::try_from(n).ok().filter(|n| *n > 0)
}

fn text<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<Option<&'v str>, ScimError> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ScimError::invalid_value(format!(
            "\"{key}\" must be a string, not {}",
            describe(other)
        ))),
    }
}

fn operation(op: &Value) -> Operation {
    let Some(obj) = op.as_object() else {
        return Operation {
            method: None,
            bulk_id: None,
            version: None,
            parsed: Err(ScimError::invalid_syntax(format!(
                "an operation must be a JSON object, found {}",
                describe(op)
            ))),
        };
    };
    let raw_method = get_ci(obj, "method").and_then(Value::as_str);
    let method = raw_method.and_then(Method::parse);
    let bulk_id = text(obj, "bulkId");
    let version = text(obj, "version");
    Operation {
        method: method
            .map(|m| m.as_str().to_string())
            .or(raw_method.map(str::to_string)),
        bulk_id: bulk_id.clone().ok().flatten().map(str::to_string),
        version: version.clone().ok().flatten().map(str::to_string),
        parsed: valid(obj, method, raw_method, bulk_id, version),
    }
}

fn valid(
    obj: &Map<String, Value>,
    method: Option<Method>,
    raw_method: Option<&str>,
    bulk_id: Result<Option<&str>, ScimError>,
    version: Result<Option<&str>, ScimError>,
) -> Result<Valid, ScimError> {
    let method = match (method, raw_method) {
        (Some(m), _) => m,
        (None, Some(raw)) => {
            return Err(ScimError::invalid_value(format!(
                "\"method\" must be POST, PUT, PATCH or DELETE, not \"{raw}\""
            )));
        }
        (None, None) => {
            return Err(ScimError::invalid_value(
                "\"method\" (POST, PUT, PATCH or DELETE) is required",
            ));
        }
    };
    match bulk_id? {
        Some(b) if b.trim().is_empty() => {
            return Err(ScimError::invalid_value("\"bulkId\" must not be empty"));
        }
        None if method == Method::Post => {
            return Err(ScimError::invalid_value(
                "\"bulkId\" is required for a POST",
            ));
        }
        _ => {}
    }
    version?;
    let path =
        text(obj, "path")?.ok_or_else(|| ScimError::invalid_value("\"path\" is required"))?;
    let (endpoint, id) = split_path(method, path)?;
    let data = match (method, get_ci(obj, "data")) {
        (Method::Delete, _) => Value::Null,
        (_, None | Some(Value::Null)) => {
            return Err(ScimError::invalid_value(format!(
                "\"data\" is required for a {}",
                method.as_str()
            )));
        }
        (_, Some(d @ Value::Object(_))) => d.clone(),
        (_, Some(other)) => {
            return Err(ScimError::invalid_syntax(format!(
                "\"data\" must be a JSON object, found {}",
                describe(other)
            )));
        }
    };
    Ok(Valid {
        method,
        endpoint,
        id,
        data,
    })
}

/// `/Users` for a POST, `/Users/{id}` otherwise (the leading slash may be
/// missing; a query string is ignored, as no resource is answered).
fn split_path(method: Method, path: &str) -> Result<(String, Option<String>), ScimError> {
    let bare = path.split('?').next().unwrap_or_default().trim();
    let bare = bare.strip_prefix('/').unwrap_or(bare);
    let segments: Vec<&str> = bare.split('/').collect();
    let bad = |want: &str| {
        ScimError::invalid_value(format!(
            "\"path\" of a {} must be {want}, not \"{path}\"",
            method.as_str()
        ))
    };
    match (method, segments.as_slice()) {
        (Method::Post, [endpoint]) if !endpoint.is_empty() => Ok((endpoint.to_string(), None)),
        (Method::Post, _) => Err(bad("a resource type endpoint such as /Users")),
        (_, [endpoint, id]) if !endpoint.is_empty() && !id.trim().is_empty() => {
            Ok((endpoint.to_string(), Some(id.trim().to_string())))
        }
        _ => Err(bad("a resource such as /Users/{id}")),
    }
}

/// `bulkId`s are unique within a request: every operation using a taken
/// one fails, as a reference to it could mean any of them.
fn refuse_duplicate_bulk_ids(ops: &mut [Operation]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for op in ops.iter() {
        if let Some(b) = &op.bulk_id {
            *seen.entry(b.clone()).or_default() += 1;
        }
    }
    for op in ops.iter_mut() {
        let Some(b) = &op.bulk_id else { continue };
        let n = seen.get(b).copied().unwrap_or(0);
        if n > 1 && op.parsed.is_ok() {
            op.parsed = Err(ScimError::invalid_value(format!(
                "\"bulkId\" \"{b}\" is used by {n} operations of this request; it must be unique"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(op: Value) -> Operation {
        let r = BulkRequest::parse(&json!({"Operations": [op]}), 10).unwrap();
        r.operations.into_iter().next().unwrap()
    }

    #[test]
    fn operations_in_the_shapes_clients_send() {
        let op = one(
            json!({"Method": "post", "BULKID": "q", "path": "Users", "data": {"userName": "a"}}),
        );
        assert_eq!(op.method.as_deref(), Some("POST"));
        let v = op.parsed.unwrap();
        assert_eq!(
            (v.method, v.endpoint.as_str(), v.id),
            (Method::Post, "Users", None)
        );
        let op = one(
            json!({"method": "delete", "path": "/Groups/bulkId:q?attributes=id", "version": "W/\"1\""}),
        );
        assert_eq!(op.version.as_deref(), Some("W/\"1\""));
        let v = op.parsed.unwrap();
        assert_eq!((v.id.as_deref(), v.data), (Some("bulkId:q"), Value::Null));
        let r = BulkRequest::parse(
            &json!({"schemas": [BULK_REQUEST], "failOnErrors": "2", "Operations": []}),
            0,
        )
        .unwrap();
        assert_eq!(r.fail_on_errors, Some(2));
    }

    #[test]
    fn a_bad_request_is_refused_whole() {
        let e = |body: Value| BulkRequest::parse(&body, 2).unwrap_err();
        assert_eq!(
            e(json!([])).scim_type,
            Some(scimbus_scim::ScimType::InvalidSyntax)
        );
        assert_eq!(e(json!({})).detail, "\"Operations\" is missing");
        assert_eq!(
            e(json!({"schemas": ["urn:x"], "Operations": []})).status,
            400
        );
        assert_eq!(
            e(json!({"failOnErrors": 0, "Operations": []})).scim_type,
            Some(scimbus_scim::ScimType::InvalidValue)
        );
        let big = e(json!({"Operations": [{}, {}, {}]}));
        assert_eq!(big.status, 413);
        assert!(big.detail.contains("maxOperations (2)"), "{}", big.detail);
    }

    #[test]
    fn a_bad_operation_is_that_operations_error() {
        let err = |op: Value| one(op).parsed.unwrap_err().detail;
        assert!(err(json!("x")).contains("JSON object"));
        assert!(err(json!({"method": "GET", "path": "/Users"})).contains("not \"GET\""));
        assert!(err(json!({"path": "/Users"})).contains("is required"));
        assert!(err(json!({"method": "POST", "path": "/Users", "data": {}})).contains("bulkId"));
        assert!(
            err(json!({"method": "POST", "bulkId": "", "path": "/Users", "data": {}}))
                .contains("empty")
        );
        assert!(
            err(json!({"method": "POST", "bulkId": "q", "path": "/Users/1", "data": {}}))
                .contains("endpoint")
        );
        assert!(
            err(json!({"method": "PUT", "path": "/Users", "data": {}})).contains("/Users/{id}")
        );
        assert!(
            err(json!({"method": "PATCH", "path": "/Users/1/x", "data": {}}))
                .contains("/Users/{id}")
        );
        assert!(err(json!({"method": "PUT", "path": "/Users/1"})).contains("\"data\" is required"));
        assert!(
            err(json!({"method": "PUT", "path": "/Users/1", "data": []})).contains("JSON object")
        );
        assert!(err(json!({"method": "DELETE", "path": 3})).contains("must be a string"));
        assert!(
            err(json!({"method": "DELETE", "path": "/Users/1", "bulkId": 7}))
                .contains("must be a string")
        );
    }

    #[test]
    fn duplicate_bulk_ids_fail_every_operation_using_them() {
        let post = |b: &str| json!({"method": "POST", "bulkId": b, "path": "/Users", "data": {}});
        let r = BulkRequest::parse(
            &json!({"Operations": [post("a"), post("b"), post("a")]}),
            10,
        )
        .unwrap();
        let ok: Vec<bool> = r.operations.iter().map(|o| o.parsed.is_ok()).collect();
        assert_eq!(ok, vec![false, true, false]);
        assert_eq!(
            r.operations[0].bulk_id.as_deref(),
            Some("a"),
            "still echoed"
        );
    }
}
