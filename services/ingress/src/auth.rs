//! Bearer tokens on requests: the `Authorization: Bearer …` header, and
//! the middleware that lets a request through only with a token of the
//! tenant in its URL (a token used on another tenant's URL is as good as
//! no token: 401) that has the scope the request needs (403 otherwise).
//! Who a token belongs to is in [`crate::tokens`]; the limit on failed
//! authentications per address in [`failures`].

pub mod failures;
pub mod proxies;
pub mod rate;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, Path, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use scimbus_runtime::scope::{Scope, Scopes};
use scimbus_scim::ScimError;

use crate::error::ApiError;
use crate::jwt;
use crate::state::AppState;
use crate::tokens::Client;

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
}

/// The address of the client a request came from: the connection's, or
/// behind a trusted proxy the one it forwarded for (the unspecified
/// address for a request served in-process, which has no connection).
pub fn peer(state: &AppState, req: &Request) -> IpAddr {
    let connection = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |c| c.0.ip());
    state.trusted_proxies.client(connection, req.headers())
}

/// The request's id, as the tracing layer found or made it (served
/// without that layer, as in-process tests are: the caller's header).
pub fn request_id(req: &Request) -> Option<String> {
    use scimbus_runtime::telemetry::http::{REQUEST_ID, RequestId};
    match req.extensions().get::<RequestId>() {
        Some(r) => Some(r.0.clone()),
        None => req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_string),
    }
}

/// Middleware on `/scim/v2/{tenant}/…` and the event polls: the bearer
/// token must belong to `{tenant}` and have the scope the request needs.
pub async fn require_token(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Only routes with a {tenant} segment have this middleware.
    let Some(tenant) = params.get("tenant").cloned() else {
        return Err(ApiError::internal(
            "checking a bearer token",
            &"a route without a {tenant} segment",
        ));
    };
    let client = authenticate_request(&state, &tenant, &mut req).await?;
    crate::audit::Who::set_with(&req, || crate::audit::scim_actor(&client));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if let Some(missing) = missing_scope(&state, &client, req.method(), &route, &params) {
        return Err(ApiError::insufficient_scope(&missing));
    }
    state.rates.admit(&client).map_err(ApiError::rate_limited)?;
    req.extensions_mut().insert(client);
    Ok(next.run(req).await)
}

/// [`authenticate`] of a request: its client, with where the request came
/// from and its id. (`&mut`: a shared borrow of a request, which is not
/// `Sync`, would make the future not `Send`.)
pub async fn authenticate_request(
    state: &AppState,
    tenant: &str,
    req: &mut Request,
) -> Result<Client, ApiError> {
    let addr = peer(state, req);
    let request_id = request_id(req);
    let mut client = authenticate(state, tenant, req.headers(), addr).await?;
    client.address = Some(addr);
    client.request_id = request_id;
    Ok(client)
}

/// The client of the request's bearer token (an API token, or a JWT of a
/// tenant that takes them), which must be `tenant`'s. Failures count
/// against `addr`; over its limit only a token known good without asking
/// Postgres gets through.
pub async fn authenticate(
    state: &AppState,
    tenant: &str,
    headers: &axum::http::HeaderMap,
    addr: IpAddr,
) -> Result<Client, ApiError> {
    let limited = state.failures.check(addr).err();
    let Some(token) = bearer(headers).map(str::to_string) else {
        if let Some(wait) = limited {
            return Err(ApiError::too_many_failures(wait));
        }
        state.failures.failed(addr);
        return Err(ScimError::unauthorized("a bearer token is required").into());
    };
    // A JWT of a tenant that takes them is checked without Postgres.
    let verifier = state.jwt.of(tenant).filter(|_| jwt::looks_like_jwt(&token));
    let client = if let Some(v) = verifier {
        match v.verify(tenant, &token).await {
            Ok(c) => Some(c),
            Err(why) => {
                if let Some(wait) = limited {
                    return Err(ApiError::too_many_failures(wait));
                }
                state.failures.failed(addr);
                return Err(ApiError::invalid_token(&why));
            }
        }
    } else {
        // An address over its limit is not looked up for: only a token
        // known good without asking Postgres gets through.
        match limited {
            Some(wait) => Some(
                state
                    .tokens
                    .lookup_known(&token)
                    .ok_or_else(|| ApiError::too_many_failures(wait))?,
            ),
            None => state
                .tokens
                .lookup(&token)
                .await
                .map_err(|e| ApiError::internal("looking up a token failed", &e))?,
        }
    };
    match client {
        Some(c) if c.tenant == tenant => Ok(c),
        _ => {
            state.failures.failed(addr);
            Err(ScimError::unauthorized("the bearer token is not valid for this tenant").into())
        }
    }
}

/// The scope the request lacks, if it lacks one: `route` is the matched
/// route template.
fn missing_scope(
    state: &AppState,
    client: &Client,
    method: &Method,
    route: &str,
    params: &HashMap<String, String>,
) -> Option<String> {
    let scopes = &client.scopes;
    let last = route.rsplit('/').next().unwrap_or_default();
    // Discovery: any good token of the tenant.
    let discovery = ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]
        .iter()
        .any(|d| route.contains(d));
    let need_read = || (!scopes.can_read()).then(|| Scope::ScimRead.to_string());
    if last == "poll" {
        return (!scopes.contains(Scope::EventsPoll)).then(|| Scope::EventsPoll.to_string());
    }
    if discovery {
        return None;
    }
    if *method == Method::GET || *method == Method::HEAD || last == ".search" {
        return need_read();
    }
    if last == "Bulk" {
        // Each operation is checked for its resource type.
        return (!scopes.can_write_any()).then(|| "scim:write".to_string());
    }
    // A write of /{rtype} or /{rtype}/{id}; an endpoint that does not exist
    // is the handler's 404 to give.
    let rt = params
        .get("rtype")
        .and_then(|e| state.registry.resource_type_by_endpoint(e))?;
    (!scopes.can_write(&rt.name)).then(|| Scopes::write_scope_for(&rt.name))
}
