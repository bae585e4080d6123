//! Reading the operator API's query strings.

use scimbus_scim::ScimError;

use crate::error::ApiResult;

/// A listing's query string as (name, value) pairs, in order, repeats kept
/// (the listing refuses them by name).
pub(crate) fn query_pairs(query: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
        ScimError::invalid_syntax(format!("the query string does not read: {e}")).into()
    })
}

/// The query string's only parameter, `name`, a whole number from 1 to
/// `most` (`default` when absent); anything else is a 400 naming it.
pub(crate) fn only_number(
    query: Option<&str>,
    name: &str,
    most: i64,
    default: i64,
) -> ApiResult<i64> {
    let pairs = query_pairs(query)?;
    let text = match pairs.as_slice() {
        [] => return Ok(default),
        [(k, v)] if k == name => v,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "the only parameter is \"{name}\", given once"
            ))
            .into());
        }
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(ScimError::invalid_value(format!(
            "\"{name}\" must be a whole number from 1 to {most}, not {text:?}"
        ))
        .into()),
    }
}

/// `count` of a parked list (1 to 10 000, default 10 000).
pub(crate) fn parked_count(query: Option<&str>) -> ApiResult<i64> {
    only_number(query, "count", 10_000, 10_000)
}
