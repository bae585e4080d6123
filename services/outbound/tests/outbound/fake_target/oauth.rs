//! The fake target's OAuth 2.0 token endpoint (client credentials).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

use super::Shared;
use super::handlers::{error, ok};

/// The token endpoint: client credentials in HTTP basic (RFC 6749 §2.3.1),
/// `grant_type=client_credentials` in the form.
pub(super) async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(o) = &s.oauth else {
        return error(404, None, "no OAuth here");
    };
    let want = format!(
        "Basic {}",
        base64_encode(format!("{}:{}", o.client_id, o.secret).as_bytes())
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#).into_response();
    }
    if !String::from_utf8_lossy(&body).contains("grant_type=client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#,
        )
            .into_response();
    }
    let n = {
        let mut c = o.count.lock().unwrap();
        *c += 1;
        *c
    };
    let token = format!("tok-{n}");
    o.issued
        .lock()
        .unwrap()
        .insert(token.clone(), std::time::Instant::now() + o.lifetime);
    ok(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": o.lifetime.as_secs()}),
    )
}

pub(super) fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
