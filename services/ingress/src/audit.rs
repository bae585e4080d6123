//! The audit entries the ingress writes itself. A write that becomes a
//! command is recorded by the store, in the transaction of its effect or
//! of its refusal; what never reaches the store is recorded here:
//!
//! - a SCIM write refused at the door (a body that does not validate, a
//!   missing scope, an unknown id, a Bulk operation refused on its own):
//!   [`scim_refusals`], and `scim::bulk` operation by operation;
//! - an HR webhook that is refused after its sender proved who it is (a
//!   body that does not map, a bearer token without `hr:<source>`);
//! - every write of the operator API, done or refused: [`admin_actions`].
//!
//! Not recorded: requests that prove no identity (401), rate-limited ones
//! (429, so that a flood does not become a flood of inserts) and writes
//! that timed out waiting for the store (503: the store records them if it
//! applies them). An entry is written before the answer goes out; if
//! Postgres cannot take it, the failure is logged here and the answer
//! still goes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use scimbus_runtime::telemetry::propagate;

use crate::state::AppState;
use crate::tokens::Client;

/// On an error response: what the audit entry of a refusal needs.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub scim_type: Option<String>,
    /// The store answered it (and recorded it).
    pub recorded: bool,
}

/// Who a request turned out to be, filled in by authentication (which runs
/// inside the audit middleware and so cannot hand it back otherwise).
#[derive(Debug, Clone, Default)]
pub struct Who(Arc<OnceLock<Actor>>);

pub use scimbus_runtime::audit::{Actor, What};

/// A tenant's client (API token, JWT) as the trail names it.
pub fn scim_actor(client: &Client) -> Actor {
    Actor {
        tenant: client.tenant.clone(),
        kind: "scim",
        id: client.client_id.clone(),
        name: client.name.clone(),
        address: client.address,
        request_id: client.request_id.clone(),
    }
}

impl Who {
    /// Records who the request is (once), when the audit middleware asks
    /// (writes only: a read makes no actor).
    pub fn set_with(req: &Request, actor: impl FnOnce() -> Actor) {
        if let Some(who) = req.extensions().get::<Who>() {
            let _ = who.0.set(actor());
        }
    }
}

/// Writes one entry; a failure is logged, not answered.
pub async fn record(state: &AppState, actor: &Actor, what: What<'_>) {
    let action = what.action.to_string();
    let trace_id = propagate::trace_id(&tracing::Span::current());
    let written = scimbus_runtime::audit::record(&state.admin_db, actor, what, trace_id).await;
    if let Err(e) = written {
        tracing::error!(error = %e, tenant = %actor.tenant, action = %action, "an audit entry could not be written");
    }
}

/// The route's parameters (none when they do not read: the handler's
/// extractor answers that).
async fn path_params(req: &mut Request) -> HashMap<String, String> {
    use axum::RequestExt;
    req.extract_parts::<Path<HashMap<String, String>>>()
        .await
        .map(|Path(p)| p)
        .unwrap_or_default()
}

/// Whether a refusal with this status is recorded (see the module docs).
pub fn recorded_status(status: u16) -> bool {
    status >= 400 && !matches!(status, 401 | 429 | 503)
}

/// The action of a SCIM write request.
fn scim_action(method: &Method, route: &str) -> Option<&'static str> {
    if route.ends_with("/.search") {
        return None;
    }
    match *method {
        Method::POST if route.ends_with("/Bulk") => Some("bulk"),
        Method::POST => Some("create"),
        Method::PUT => Some("replace"),
        Method::PATCH => Some("patch"),
        Method::DELETE => Some("delete"),
        _ => None,
    }
}

/// Middleware around the SCIM routes (outside authentication): a write
/// refused before it became a command is recorded.
pub async fn scim_refusals(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let action = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| scim_action(req.method(), route.as_str()));
    let Some(action) = action else {
        return next.run(req).await;
    };
    let params = path_params(&mut req).await;
    let who = Who::default();
    req.extensions_mut().insert(who.clone());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let refusal = res.extensions().get::<Refusal>();
    if !recorded_status(status) || refusal.is_some_and(|r| r.recorded) {
        return res;
    }
    let Some(actor) = who.0.get() else {
        return res;
    };
    let resource_type = params
        .get("rtype")
        .and_then(|e| state.registry.resource_type_by_endpoint(e))
        .map(|rt| rt.name.clone());
    let what = What {
        action,
        resource_type,
        resource_id: params.get("id").and_then(|i| uuid::Uuid::parse_str(i).ok()),
        attributes: Vec::new(),
        status,
        scim_type: refusal.and_then(|r| r.scim_type.clone()),
    };
    record(&state, actor, what).await;
    res
}

/// Middleware around the operator API (outside its authentication): every
/// write, done or refused, by an admin token, is recorded under the tenant
/// it names, with the route as its resource type and the path's other
/// parameters as its attributes (`name=crm`).
pub async fn admin_actions(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    if method == Method::GET || method == Method::HEAD {
        return next.run(req).await;
    }
    let params = path_params(&mut req).await;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let who = Who::default();
    req.extensions_mut().insert(who.clone());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let (Some(actor), Some(tenant)) = (who.0.get(), params.get("tenant")) else {
        return res;
    };
    if matches!(status, 401 | 429) {
        return res;
    }
    let mut attributes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "tenant")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    attributes.sort();
    let actor = Actor {
        tenant: tenant.clone(),
        ..actor.clone()
    };
    let what = What {
        action: "admin",
        resource_type: Some(format!("{method} {route}")),
        resource_id: params.get("id").and_then(|i| uuid::Uuid::parse_str(i).ok()),
        attributes,
        status,
        scim_type: res
            .extensions()
            .get::<Refusal>()
            .and_then(|r| r.scim_type.clone()),
    };
    record(&state, &actor, what).await;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_named_and_searches_are_not_writes() {
        let cases = [
            (Method::POST, "/scim/v2/{tenant}/{rtype}", Some("create")),
            (Method::POST, "/scim/v2/{tenant}/Bulk", Some("bulk")),
            (Method::POST, "/scim/v2/{tenant}/{rtype}/.search", None),
            (Method::POST, "/scim/v2/{tenant}/.search", None),
            (
                Method::PUT,
                "/scim/v2/{tenant}/{rtype}/{id}",
                Some("replace"),
            ),
            (
                Method::PATCH,
                "/scim/v2/{tenant}/{rtype}/{id}",
                Some("patch"),
            ),
            (
                Method::DELETE,
                "/scim/v2/{tenant}/{rtype}/{id}",
                Some("delete"),
            ),
            (Method::GET, "/scim/v2/{tenant}/{rtype}/{id}", None),
        ];
        for (m, route, want) in cases {
            assert_eq!(scim_action(&m, route), want, "{m} {route}");
        }
        assert!(recorded_status(400) && recorded_status(403) && recorded_status(409));
        assert!(!recorded_status(401) && !recorded_status(429) && !recorded_status(503));
        assert!(!recorded_status(201));
    }
}
