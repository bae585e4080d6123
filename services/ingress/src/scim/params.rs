//! Query parameters and `.search` bodies (RFC 7644 §3.4.2, §3.4.3, RFC 9865).

use axum::http::HeaderMap;
use scimbus_scim::ScimError;
use serde_json::Value;

/// Whether the client asked for no body in a write's answer: RFC 7240's
/// `Prefer: return=minimal` (preferences separated by commas, parameters
/// after `;`, names in any case, the value maybe quoted, in any `Prefer`
/// header). RFC 7644 §3.5.2 lets a PATCH (and so a PUT) answer 204.
pub fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|pref| {
            let token = pref.split(';').next()?;
            let (name, value) = token.split_once('=')?;
            Some((
                name.trim().to_owned(),
                value.trim().trim_matches('"').to_owned(),
            ))
        })
        .any(|(name, value)| {
            name.eq_ignore_ascii_case("return") && value.eq_ignore_ascii_case("minimal")
        })
}

/// The parameters of a list or search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListParams {
    /// From a query string; names are matched case-insensitively (clients
    /// write `startindex`, `Count`).
    pub fn from_query(query: Option<&str>) -> Result<ListParams, ScimError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ScimError::invalid_value(format!("the query string is malformed: {e}")))?;
        let mut p = ListParams::default();
        for (k, v) in pairs {
            p.set(&k, Value::String(v))?;
        }
        Ok(p)
    }

    /// From a `SearchRequest` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> Result<ListParams, ScimError> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a SearchRequest must be a JSON object"))?;
        let mut p = ListParams::default();
        for (k, v) in obj {
            if k.eq_ignore_ascii_case("schemas") {
                continue;
            }
            p.set(k, v.clone())?;
        }
        Ok(p)
    }

    fn set(&mut self, key: &str, v: Value) -> Result<(), ScimError> {
        let text = |v: &Value| -> Result<String, ScimError> {
            match v {
                Value::String(s) => Ok(s.clone()),
                // `attributes` may be a list in a SearchRequest.
                Value::Array(l) => Ok(l
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")),
                other => Err(ScimError::invalid_value(format!(
                    "\"{key}\" must be a string, not {other}"
                ))),
            }
        };
        let int = |v: &Value| -> Result<i64, ScimError> {
            match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| {
                ScimError::invalid_value(format!("\"{key}\" must be an integer, not {v}"))
            })
        };
        match key.to_ascii_lowercase().as_str() {
            "filter" => self.filter = Some(text(&v)?),
            "sortby" => self.sort_by = Some(text(&v)?),
            "sortorder" => self.sort_order = Some(text(&v)?),
            "startindex" => self.start_index = Some(int(&v)?),
            "count" => self.count = Some(int(&v)?),
            "cursor" => self.cursor = Some(text(&v)?),
            "attributes" => self.attributes = Some(text(&v)?),
            "excludedattributes" => self.excluded_attributes = Some(text(&v)?),
            // Unknown parameters are ignored, as HTTP servers do.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_and_body_forms() {
        let p = ListParams::from_query(Some(
            "filter=userName%20eq%20%22a%22&startIndex=2&Count=5&excludedAttributes=members",
        ))
        .unwrap();
        assert_eq!(p.filter.as_deref(), Some("userName eq \"a\""));
        assert_eq!((p.start_index, p.count), (Some(2), Some(5)));
        assert_eq!(p.excluded_attributes.as_deref(), Some("members"));
        let e = ListParams::from_query(Some("count=x")).unwrap_err();
        assert_eq!(e.status, 400);
        let p = ListParams::from_search(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": ["userName", "emails"], "count": 10, "cursor": ""})).unwrap();
        assert_eq!(p.attributes.as_deref(), Some("userName,emails"));
        assert_eq!((p.count, p.cursor.as_deref()), (Some(10), Some("")));
        let e = ListParams::from_search(&json!([])).unwrap_err();
        assert_eq!(e.scim_type, Some(scimbus_scim::ScimType::InvalidSyntax));
        assert_eq!(e.detail, "a SearchRequest must be a JSON object");
    }

    #[test]
    fn prefer_return_minimal() {
        let with = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("prefer", v.parse().unwrap());
            }
            prefers_minimal(&h)
        };
        assert!(with(&["return=minimal"]));
        assert!(with(&["Return = \"Minimal\""]));
        assert!(with(&["respond-async, wait=10", "return=minimal; foo=bar"]));
        assert!(with(&["wait=5, return=minimal"]));
        assert!(!with(&[]));
        assert!(!with(&["return=representation"]));
        assert!(!with(&["minimal"]));
        assert!(!with(&["handling=lenient; return=minimal"]));
    }
}
