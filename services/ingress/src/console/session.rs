//! Signing in and out, and who a request is: the cookie's session, its
//! admin token (still configured?), its CSRF token.
//!
//! The cookie holds 32 random bytes (base64url); Postgres holds their
//! SHA-256, the admin token's SHA-256 and the CSRF token, for 8 hours. The
//! token itself is never kept, and never in a URL. A token removed from
//! the configuration ends its sessions at their next request.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use scimbus_db::console::{self, Session};
use sha2::{Digest, Sha256};

use super::Console;
use super::layout;

/// How long a session lasts from sign-in.
const SESSION_HOURS: i64 = 8;
/// The largest form the console takes.
pub(crate) const FORM_MAX: usize = 64 * 1024;

/// A signed-in operator.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    id_hash: [u8; 32],
    /// The hash of the admin token it signed in with.
    pub grant: [u8; 32],
    /// A read-write admin token (a read-only one sees no action buttons).
    pub writes: bool,
    /// What its forms must carry back.
    pub csrf: String,
    /// What the operator API needs to know of the client (its address
    /// behind a proxy, the request id).
    pub forwarded: Vec<(HeaderName, HeaderValue)>,
    pub peer: Option<ConnectInfo<SocketAddr>>,
}

fn cookie_name(console: &Console) -> &'static str {
    if console.secure {
        "__Host-scimbus_console"
    } else {
        "scimbus_console"
    }
}

/// The session cookie's `Set-Cookie` value (an empty `value` and no age
/// end it).
fn set_cookie(console: &Console, value: &str, max_age: i64) -> String {
    let scope = if console.secure {
        "Path=/; Secure"
    } else {
        "Path=/admin"
    };
    format!(
        "{}={value}; {scope}; HttpOnly; SameSite=Strict; Max-Age={max_age}",
        cookie_name(console)
    )
}

fn session_id(console: &Console, headers: &HeaderMap) -> Option<[u8; 32]> {
    let name = cookie_name(console);
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)?;
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    let id: [u8; 32] = bytes.try_into().ok()?;
    Some(Sha256::digest(id).into())
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let to_sign_in = || {
            let path = parts
                .extensions
                .get::<OriginalUri>()
                .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
            // Back to the page after signing in; an action's URL is no page
            // (and the action is not done).
            let next = match path.path_and_query() {
                Some(p) if parts.method == axum::http::Method::GET => p.as_str(),
                _ => "/admin/",
            };
            Redirect::to(&format!("/admin/sign-in?next={}", super::api::enc(next))).into_response()
        };
        let Some(id_hash) = session_id(console, &parts.headers) else {
            return Err(to_sign_in());
        };
        let session = match console::find_session(&console.app.admin_db, &id_hash).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_sign_in()),
            Err(e) => return Err(layout::failure(&crate::error::ApiError::from(e))),
        };
        let Ok(grant) = <[u8; 32]>::try_from(session.token_hash.as_slice()) else {
            return Err(to_sign_in());
        };
        let writes = console.app.admin_tokens.contains(&grant);
        if !writes && !console.app.admin_read_tokens.contains(&grant) {
            // The token is no longer configured: the session is over.
            return Err(to_sign_in());
        }
        let forwarded = ["x-forwarded-for", "forwarded", "x-request-id"]
            .iter()
            .filter_map(|n| {
                let name = HeaderName::from_static(n);
                let value = parts.headers.get(&name)?.clone();
                Some((name, value))
            })
            .collect();
        Ok(Signed {
            id_hash,
            grant,
            writes,
            csrf: session.csrf,
            forwarded,
            peer: parts.extensions.get::<ConnectInfo<SocketAddr>>().copied(),
        })
    }
}

/// A form's fields, in order.
pub(crate) fn fields_of(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether a POST came from one of the console's own pages: the browser's
/// `Sec-Fetch-Site` and `Origin` (when it sends them) say same origin.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site"))
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

/// Whether a form is the signed-in operator's own: same origin, and the
/// session's CSRF token (compared in constant time).
pub(crate) fn check_form(
    signed: &Signed,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> bool {
    let given = field(fields, "csrf").unwrap_or("");
    same_origin(headers) && equal(given.as_bytes(), signed.csrf.as_bytes())
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_32() -> Option<[u8; 32]> {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(b)
}

/// Where to go after signing in: a console page, never elsewhere.
fn next_page(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.contains("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/admin/".to_string(),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

fn form_page(next: Option<&str>, problem: Option<&str>, status: StatusCode) -> Response {
    (status, layout::sign_in(&next_page(next), problem)).into_response()
}

/// `GET /admin/sign-in`.
pub(crate) async fn form(Query(q): Query<NextQuery>) -> Response {
    form_page(q.next.as_deref(), None, StatusCode::OK)
}

/// `POST /admin/sign-in` (`token`, `next`): a session for an admin token.
/// Wrong tokens count against the client's address as the operator API's
/// do (too many, and it is refused for a while).
pub(crate) async fn sign_in(
    State(console): State<Console>,
    req: axum::extract::Request,
) -> Response {
    let state = &console.app;
    let ip = crate::auth::peer(state, &req);
    let from_here = same_origin(req.headers());
    let Ok(body) = axum::body::to_bytes(req.into_body(), FORM_MAX).await else {
        return form_page(
            None,
            Some("The form is too large."),
            StatusCode::PAYLOAD_TOO_LARGE,
        );
    };
    let fields = fields_of(&body);
    let next = field(&fields, "next");
    if !from_here {
        return form_page(
            next,
            Some("This form did not come from this console."),
            StatusCode::FORBIDDEN,
        );
    }
    if state.failures.check(ip).is_err() {
        return form_page(
            next,
            Some("Too many wrong tokens from this address; try again later."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let token = field(&fields, "token").unwrap_or("").trim();
    let hash = scimbus_runtime::token_hash(token);
    if token.is_empty()
        || !(state.admin_tokens.contains(&hash) || state.admin_read_tokens.contains(&hash))
    {
        state.failures.failed(ip);
        return form_page(
            next,
            Some("That is not an admin token."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let (Some(id), Some(csrf)) = (random_32(), random_32()) else {
        return layout::failure(&crate::error::ApiError::status(
            500,
            "no random bytes for a session",
        ));
    };
    let session = Session {
        token_hash: hash.to_vec(),
        csrf: URL_SAFE_NO_PAD.encode(csrf),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS),
    };
    let id_hash: [u8; 32] = Sha256::digest(id).into();
    if let Err(e) = console::create_session(&state.admin_db, &id_hash, &session).await {
        return layout::failure(&crate::error::ApiError::from(e));
    }
    let cookie = set_cookie(&console, &URL_SAFE_NO_PAD.encode(id), SESSION_HOURS * 3600);
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, next_page(next)),
        ],
    )
        .into_response()
}

/// `POST /admin/sign-out` (`csrf`): ends the session.
pub(crate) async fn sign_out(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !check_form(&signed, &headers, &fields_of(&body)) {
        return layout::forged();
    }
    if let Err(e) = console::delete_session(&console.app.admin_db, &signed.id_hash).await {
        return layout::failure(&crate::error::ApiError::from(e));
    }
    let cookie = set_cookie(&console, "", 0);
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/admin/sign-in".to_string()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_on_only_to_console_pages() {
        assert_eq!(
            next_page(Some("/admin/tenants/a/audit?x=1")),
            "/admin/tenants/a/audit?x=1"
        );
        assert_eq!(next_page(Some("https://evil.example/")), "/admin/");
        assert_eq!(next_page(Some("/admin//evil.example")), "/admin/");
        assert_eq!(next_page(Some("/admin/\\evil")), "/admin/");
        assert_eq!(next_page(None), "/admin/");
    }

    #[test]
    fn a_cross_site_post_is_not_same_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h), "no Origin: old browsers and curl");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(equal(b"abc", b"abc"));
        assert!(!equal(b"abc", b"abd"));
        assert!(!equal(b"abc", b"ab"));
        assert!(!equal(b"", b"a"));
    }
}
