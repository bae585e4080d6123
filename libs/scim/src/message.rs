//! The envelope of SCIM API messages (RFC 7644 §3.5.2 PatchOp, §3.7
//! BulkRequest): a JSON object whose `schemas`, when present, names the
//! message's URN. Clients often leave `schemas` out; that is accepted.

use serde_json::{Map, Value};

use crate::error::{Result, ScimError};
use crate::registry::get_ci;
use crate::resource::describe;

/// The object of a message body. `what` names the message in errors ("a
/// PATCH body"); `schema` is its URN.
pub fn object<'a>(body: &'a Value, what: &str, schema: &str) -> Result<&'a Map<String, Value>> {
    let obj = body.as_object().ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "{what} must be a JSON object, found {}",
            describe(body)
        ))
    })?;
    if let Some(schemas) = get_ci(obj, "schemas") {
        let ok = schemas.as_array().is_some_and(|l| {
            l.iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema)))
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!(
                "\"schemas\" must be [\"{schema}\"]"
            )));
        }
    }
    Ok(obj)
}
