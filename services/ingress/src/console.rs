//! `/admin/`: the operator console — pages an operator reads in a browser,
//! server-rendered, on top of the operator API (`/admin/v1`). Every figure
//! a page shows and every action it takes goes through the operator API,
//! in-process ([`Console::api`]): the console has no data path of its own,
//! so what the API allows, refuses and audits is what the console does.
//!
//! A browser signs in with an admin token once ([`session`]); the session
//! lives in Postgres, its id in an HttpOnly, SameSite=Strict cookie (Secure
//! when the public URL is https). Every form carries the session's CSRF
//! token and must come from the console's own origin. Pages work without
//! JavaScript and load nothing but the console's stylesheet; the Content
//! Security Policy says exactly that.
//!
//! ```text
//! GET  /admin/                                         overview of every tenant
//! GET  /admin/sign-in, POST /admin/sign-in, POST /admin/sign-out
//! GET  /admin/tenants/{t}/targets/{name}               a target; POST …/{action}
//! GET  /admin/tenants/{t}/subscriptions/{name}         a subscription; POST …/{action}
//! GET  /admin/tenants/{t}/people?q=…                   search; …/people/{id} one resource
//! GET  /admin/tenants/{t}/hr-events, /admin/tenants/{t}/audit   filterable lists
//! ```

mod api;
mod chart;
mod follower;
mod layout;
mod lists;
mod overview;
mod people;
mod session;
mod subscription;
mod target;
mod view;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) use api::Console;
pub(crate) use session::Signed;

/// The console's routes, with their own state (the operator API's router
/// among it).
pub fn routes(state: AppState) -> Router {
    let console = Console::new(state);
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/") }))
        .route("/admin/", get(overview::page))
        .route("/admin/console.css", get(stylesheet))
        .route("/admin/sign-in", get(session::form).post(session::sign_in))
        .route("/admin/sign-out", post(session::sign_out))
        .route("/admin/tenants/{tenant}/targets/{name}", get(target::page))
        .route(
            "/admin/tenants/{tenant}/targets/{name}/{action}",
            post(target::act),
        )
        .route(
            "/admin/tenants/{tenant}/subscriptions/{name}",
            get(subscription::page),
        )
        .route(
            "/admin/tenants/{tenant}/subscriptions/{name}/{action}",
            post(subscription::act),
        )
        .route("/admin/tenants/{tenant}/people", get(people::search))
        .route("/admin/tenants/{tenant}/people/{id}", get(people::page))
        .route("/admin/tenants/{tenant}/hr-events", get(lists::hr_events))
        .route("/admin/tenants/{tenant}/audit", get(lists::audit))
        .layer(from_fn(security_headers))
        .with_state(console)
}

/// The policy of every console answer: nothing but the console's own
/// stylesheet and forms, no scripts, no frames, no inline styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages hold what only a signed-in operator may see.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console/console.css"),
    )
        .into_response()
}
