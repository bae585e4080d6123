//! Reading everything a target holds at an endpoint, page by page (for a
//! reconcile, and for the index a full sync starts from).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use crate::client::PushError;
use crate::target::Target;

/// Resources asked for per page.
const PAGE: usize = 100;

/// Every resource the target lists at an endpoint, by its id.
pub(crate) async fn read_all(
    target: &Target,
    endpoint: &str,
) -> Result<BTreeMap<String, Value>, PushError> {
    let mut out = BTreeMap::new();
    let mut start = 1usize;
    loop {
        let a = target
            .client
            .send(
                Method::GET,
                &format!("{endpoint}?startIndex={start}&count={PAGE}"),
                None,
            )
            .await?;
        if !a.ok() {
            return Err(a.into_error("listing the target's resources", None));
        }
        let (list, total) = list_page(&a.body)
            .map_err(|why| PushError::permanent(why.to_string(), a.exchange.clone()))?;
        let n = list.len();
        for r in list {
            if let Some(id) = r.get("id").and_then(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }) {
                out.insert(id, r);
            }
        }
        start += n;
        if n == 0 || total.is_some_and(|t| start > t) {
            return Ok(out);
        }
    }
}

/// The resources of one list answer and its `totalResults`. RFC 7644
/// §3.4.2 requires `Resources` whenever `totalResults` is not 0: an answer
/// without it is an error, never an empty target (a reconcile would take
/// every resource for missing there). Without `totalResults`, pages go on
/// until one is empty.
fn list_page(body: &Value) -> Result<(Vec<Value>, Option<usize>), ListError> {
    let total = body
        .get("totalResults")
        .and_then(Value::as_u64)
        .map(|t| usize::try_from(t).unwrap_or(usize::MAX));
    match body.get("Resources") {
        Some(Value::Array(list)) => Ok((list.clone(), total)),
        None if total == Some(0) => Ok((Vec::new(), total)),
        _ => Err(ListError::NoResources { total }),
    }
}

/// A list answer of the target that cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ListError {
    #[error("the target's list answer has no Resources array (totalResults {total:?})")]
    NoResources { total: Option<usize> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_answer_without_resources_is_an_error_not_an_empty_target() {
        let page = |b: Value| list_page(&b);
        assert_eq!(
            page(serde_json::json!({"totalResults": 0})).unwrap(),
            (vec![], Some(0))
        );
        assert_eq!(
            page(serde_json::json!({"totalResults": 3})).unwrap_err(),
            ListError::NoResources { total: Some(3) }
        );
        let e = page(serde_json::json!({})).unwrap_err();
        assert_eq!(e, ListError::NoResources { total: None });
        assert!(e.to_string().contains("no Resources array"), "{e}");
        let (list, total) = page(serde_json::json!({"Resources": [{"id": "1"}]})).unwrap();
        assert_eq!((list.len(), total), (1, None));
    }
}
