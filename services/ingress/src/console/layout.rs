//! The console's page chrome: the head, the navigation, the sign-out form,
//! and the pages said instead of one (sign-in, refused, failed).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::api::{Refused, enc};
use super::session::Signed;
use crate::error::ApiError;

/// Every page's head: its title and the console's one stylesheet.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · scimbus" }
            link rel="stylesheet" href="/admin/console.css";
        }
    }
}

/// A whole page: `title`, the navigation (with the tenant's pages when
/// `tenant` is given), an optional notice, then `body`.
pub(crate) fn page(
    title: &str,
    signed: &Signed,
    tenant: Option<&str>,
    notice: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top {
                    a.brand href="/admin/" { "scimbus" }
                    nav {
                        a href="/admin/" { "Overview" }
                        @if let Some(t) = tenant {
                            span.tenant { (t) }
                            a href={ "/admin/tenants/" (enc(t)) "/people" } { "People & groups" }
                            a href={ "/admin/tenants/" (enc(t)) "/hr-events" } { "HR events" }
                            a href={ "/admin/tenants/" (enc(t)) "/audit" } { "Audit trail" }
                        }
                    }
                    form.signout method="post" action="/admin/sign-out" {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        span.who { @if signed.writes { "admin" } @else { "read-only" } }
                        button type="submit" { "Sign out" }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(n) = notice {
                        p.notice role="status" { (n) }
                    }
                    (body)
                }
            }
        }
    }
}

/// The sign-in page; `problem` says why the last try failed.
pub(crate) fn sign_in(next: &str, problem: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body.signin {
                main {
                    h1 { "scimbus operator console" }
                    @if let Some(p) = problem {
                        p.problem role="alert" { (p) }
                    }
                    form method="post" action="/admin/sign-in" {
                        input type="hidden" name="next" value=(next);
                        label for="token" { "Admin token" }
                        input #token type="password" name="token" autocomplete="current-password"
                            required autofocus;
                        button type="submit" { "Sign in" }
                    }
                    p.hint {
                        "An operator API token (" code { "[admin] tokens" } " or "
                        code { "read_tokens" } " of the configuration). The browser keeps only a session cookie."
                    }
                }
            }
        }
    }
}

/// A page that only says something went wrong, with `status`.
fn bare(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                main {
                    h1 { (title) }
                    p.problem role="alert" { (detail) }
                    p { a href="/admin/" { "Back to the overview" } }
                }
            }
        }
    };
    (status, body).into_response()
}

/// What the operator API refused, as a page with its status.
pub(crate) fn refused(r: &Refused) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = match r.status {
        404 => "Not found",
        403 => "Not allowed",
        400 => "Not accepted",
        _ => "Refused",
    };
    bare(status, title, &r.detail)
}

/// A failure of the console itself (Postgres unreachable, …; logged where
/// the [`ApiError`] was made).
pub(crate) fn failure(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    bare(status, "Something went wrong", &e.error.detail)
}

/// A POST without this session's CSRF token or from another origin.
pub(crate) fn forged() -> Response {
    bare(
        StatusCode::FORBIDDEN,
        "Not done",
        "This form did not come from this console's session (its CSRF token is missing or wrong, or it was sent from another site). Nothing was changed.",
    )
}
