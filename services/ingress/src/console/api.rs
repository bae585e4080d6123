//! The console's one way to data: the operator API, called in-process with
//! the signed-in session's admin token ([`crate::admin::ConsoleGrant`]).

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::session::Signed;
use crate::state::AppState;

/// What the console's handlers share.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    pub app: AppState,
    /// `/admin/v1`, as the ingress serves it (middleware, audit and all).
    api: Router,
    /// The public URL is https: the cookie is `Secure` and `__Host-`.
    pub secure: bool,
}

/// The operator API said no (or could not answer): its status and detail.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub status: u16,
    pub detail: String,
}

impl Console {
    pub fn new(app: AppState) -> Console {
        let api = Router::new()
            .nest("/admin/v1", crate::admin::routes(app.clone()))
            .with_state(app.clone());
        let secure = app.public_url.starts_with("https://");
        Console { app, api, secure }
    }

    /// Calls `method /admin/v1{path}` as the session's operator; the JSON
    /// answer of a 2xx, or what the API refused.
    pub async fn api(
        &self,
        signed: &Signed,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Refused> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/admin/v1{path}"));
        for (name, value) in &signed.forwarded {
            req = req.header(name, value);
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).map_err(|e| Refused {
            status: 400,
            detail: format!("the request cannot be made: {e}"),
        })?;
        req.extensions_mut()
            .insert(crate::admin::ConsoleGrant(signed.grant));
        if let Some(peer) = signed.peer {
            req.extensions_mut().insert(peer);
        }
        let Ok(res) = self.api.clone().oneshot(req).await;
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("the operator API refused it")
                .to_string();
            Err(Refused {
                status: status.as_u16(),
                detail,
            })
        }
    }

    /// [`Self::api`] for a GET.
    pub async fn get(&self, signed: &Signed, path: impl AsRef<str>) -> Result<Value, Refused> {
        self.api(signed, Method::GET, path.as_ref(), None).await
    }
}

/// A path segment or query value, percent-encoded.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(super::enc("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(super::enc("Az09-_.~"), "Az09-_.~");
    }
}
