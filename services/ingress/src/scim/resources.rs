//! `/{Users|Groups}` and `/{Users|Groups}/{id}`: create, read, replace,
//! patch, delete (RFC 7644 §3.3–§3.6).

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use scimbus_db::members as db_members;
use scimbus_db::render::{self, Relations};
use scimbus_events::v1::{Command, CommandResult, command, command_result, source};
use scimbus_runtime::telemetry::propagate;
use scimbus_scim::version::Precondition;
use scimbus_scim::{AttrPath, Projection, ResourceType, ScimError, ScimType, Version};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::params::{self, ListParams};
use super::payload::{Payload, command_payload, sealed};
use super::{resource_type, respond};
use crate::body::ScimBody;
use crate::dispatch::DispatchError;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tokens::Client;

/// The projection a request asks for.
pub fn projection(
    state: &AppState,
    rt: &ResourceType,
    query: Option<&str>,
) -> ApiResult<(Projection, ListParams)> {
    let p = ListParams::from_query(query)?;
    let proj = Projection::parse(
        &state.registry,
        rt,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    )?;
    Ok((proj, p))
}

pub(super) fn parse_id(rt: &ResourceType, id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id)
        .map_err(|_| ScimError::not_found(format!("{} {id} not found", rt.name)).into())
}

/// A command id (and, for creates, a resource id) derived from an
/// `Idempotency-Key`, so a client's retry is the same command and is
/// answered with the first one's result instead of being applied again.
pub(super) fn derived_id(client: &Client, key: &str, what: &str) -> Uuid {
    let mut h = Sha256::new();
    for part in [client.tenant.as_str(), client.client_id.as_str(), key, what] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A request header as text. One that is there but not visible ASCII (no
/// entity tag or idempotency key is) is refused, not taken for absent:
/// that would turn a conditional write into an unconditional one, or a
/// keyed write into one that can be applied twice.
fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ScimError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ScimError::invalid_syntax(format!("the {name} header must be visible ASCII"))
            })
        })
        .transpose()
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ScimError> {
    Ok(header_text(headers, "idempotency-key")?
        .map(str::trim)
        .filter(|k| !k.is_empty()))
}

/// A write, as the single-resource endpoints and `/Bulk` both make them.
pub(super) struct Write<'a> {
    pub client: &'a Client,
    pub rt: &'a ResourceType,
    pub resource_id: Uuid,
    pub op: command::Operation,
    pub payload: Bytes,
    /// The password it sets, sealed for the targets that receive one.
    pub password: Option<scimbus_events::v1::SealedPassword>,
    /// The `If-Match` condition (a bulk operation's `version`).
    pub if_match: Option<&'a str>,
    /// The client's idempotency key, scoped to this write (see
    /// [`derived_id`]); without one the command gets a fresh id.
    pub key: Option<&'a str>,
}

/// The command of a write.
pub(super) fn build(w: Write<'_>) -> Command {
    let id = match w.key {
        Some(k) => derived_id(w.client, k, &format!("{:?}/{}", w.op, w.resource_id)),
        None => Uuid::now_v7(),
    };
    Command {
        id: id.to_string(),
        tenant: w.client.tenant.clone(),
        resource_type: w.rt.name.clone(),
        resource_id: w.resource_id.to_string(),
        operation: w.op as i32,
        source: Some(scimbus_events::v1::Source {
            kind: source::Kind::Scim as i32,
            client_id: w.client.client_id.clone(),
        }),
        payload: w.payload.to_vec(),
        received_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        if_match: w.if_match.unwrap_or_default().to_string(),
        client_name: w.client.name.clone(),
        client_address: w.client.address.map(|a| a.to_string()).unwrap_or_default(),
        trace_id: propagate::trace_id(&tracing::Span::current()).unwrap_or_default(),
        request_id: w.client.request_id.clone().unwrap_or_default(),
        password: w.password,
        ..Default::default()
    }
}

fn if_match(headers: &HeaderMap) -> Result<Option<&str>, ScimError> {
    header_text(headers, header::IF_MATCH.as_str())
}

/// A write of one of the single-resource endpoints, whose headers carry
/// `If-Match` and `Idempotency-Key`: built, sent, answered.
async fn submit(
    state: &AppState,
    client: &Client,
    rt: &ResourceType,
    resource_id: Uuid,
    op: command::Operation,
    payload: Payload,
    headers: &HeaderMap,
) -> ApiResult<CommandResult> {
    let password = sealed(state, client, resource_id, payload.password);
    let cmd = build(Write {
        client,
        rt,
        resource_id,
        op,
        payload: payload.bytes,
        password,
        if_match: if_match(headers)?,
        key: idempotency_key(headers)?,
    });
    send(state, &cmd).await
}

/// The error of a result the store did not apply. One without an error, or
/// with a status that is not an HTTP error status, is a store that breaks
/// its contract: logged, and a 500.
fn refusal(r: CommandResult) -> ApiError {
    let Some(e) = r.error else {
        return ApiError::internal(
            "the store refused a write",
            &format!("outcome {} and no error", r.outcome),
        );
    };
    match u16::try_from(e.status) {
        Ok(status @ 400..=599) => ApiError::from(ScimError::new(
            status,
            ScimType::from_keyword(&e.scim_type),
            e.detail,
        ))
        .recorded_by_store(),
        _ => ApiError::internal(
            "the store refused a write",
            &format!("status {}: {}", e.status, e.detail),
        ),
    }
}

/// Sends a write and waits for the store's answer.
pub(super) async fn send(state: &AppState, cmd: &Command) -> ApiResult<CommandResult> {
    answer(state.dispatcher.send(cmd).await)
}

/// Sends writes in their order and waits for the store's answers to all of
/// them at once ([`crate::dispatch::Dispatcher::send_many`]).
pub(super) async fn send_many(state: &AppState, cmds: &[Command]) -> Vec<ApiResult<CommandResult>> {
    state
        .dispatcher
        .send_many(cmds)
        .await
        .into_iter()
        .map(answer)
        .collect()
}

/// What the client is told of the store's answer to a write.
fn answer(r: Result<CommandResult, DispatchError>) -> ApiResult<CommandResult> {
    match r {
        Ok(r) if r.outcome == command_result::Outcome::Applied as i32 => Ok(r),
        Ok(r) => Err(refusal(r)),
        Err(DispatchError::Timeout(_)) => Err(ApiError::unavailable(
            "the write was accepted but not applied in time; it may still be applied, and repeating the request is safe",
            1,
        )),
        Err(e) => {
            tracing::error!(error = %e, "a command could not be sent or answered");
            Err(ApiError::unavailable(
                "the command bus is not reachable; try again",
                2,
            ))
        }
    }
}

/// The resource the store answered.
pub(super) fn stored(r: &CommandResult) -> ApiResult<Value> {
    serde_json::from_slice(&r.resource)
        .map_err(|e| ApiError::internal("the store answered an unreadable resource", &e))
}

pub async fn create(
    State(state): State<AppState>,
    Path((_tenant, rtype)): Path<(String, String)>,
    Extension(client): Extension<Client>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: ScimBody,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let (proj, _) = projection(&state, rt, query.as_deref())?;
    let payload = command_payload(&state, rt, command::Operation::Create, body)?;
    let resource_id = match idempotency_key(&headers)? {
        Some(k) => derived_id(&client, k, "resource"),
        None => Uuid::now_v7(),
    };
    let r = submit(
        &state,
        &client,
        rt,
        resource_id,
        command::Operation::Create,
        payload,
        &headers,
    )
    .await?;
    Ok(respond::resource(
        &state,
        &client.tenant,
        rt,
        StatusCode::CREATED,
        stored(&r)?,
        &proj,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    Path((tenant, rtype, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let (proj, _) = projection(&state, rt, query.as_deref())?;
    let id = parse_id(rt, &id)?;
    let t = tenant.as_str();
    let row = state
        .read
        .read(|mut c| async move {
            let r = scimbus_db::resources::get(&mut c, t, &rt.name, id).await;
            (c, r)
        })
        .await?
        .ok_or_else(|| ScimError::not_found(format!("{} {id} not found", rt.name)))?;
    let version = u64::try_from(row.version)
        .map(Version)
        .map_err(|_| ApiError::internal("a stored version", &row.version))?;
    // An If-None-Match that is not text matches nothing: the resource is
    // sent, which is always a correct answer to a conditional GET.
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && Precondition::parse(inm).matches(Some(version))
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        let etag = HeaderValue::from_str(&version.to_etag())
            .map_err(|e| ApiError::internal("an ETag header", &e))?;
        res.headers_mut().insert(header::ETAG, etag);
        return Ok(res);
    }
    let resource = with_relations(&state, &tenant, rt, &row, &proj).await?;
    Ok(respond::resource(
        &state,
        &tenant,
        rt,
        StatusCode::OK,
        resource,
        &proj,
    ))
}

/// Renders a row with the members or groups the projection wants.
pub async fn with_relations(
    state: &AppState,
    tenant: &str,
    rt: &ResourceType,
    row: &scimbus_db::resources::Row,
    proj: &Projection,
) -> ApiResult<Value> {
    let wants = |attr: &str| proj.wants(&state.registry, rt, &AttrPath::new(attr, None));
    let members = if rt.name == "Group" && wants("members") {
        Some(
            state
                .read
                .read(|mut c| async move {
                    let r = db_members::list(&mut c, tenant, row.id).await;
                    (c, r)
                })
                .await?,
        )
    } else {
        None
    };
    let groups = if rt.name == "User" && wants("groups") {
        Some(
            state
                .read
                .read(|mut c| async move {
                    let r = db_members::groups_of(&mut c, tenant, row.id).await;
                    (c, r)
                })
                .await?,
        )
    } else {
        None
    };
    Ok(render::resource(
        row,
        Relations {
            members: members.as_deref(),
            groups: groups.as_deref(),
        },
    ))
}

pub async fn replace(
    State(state): State<AppState>,
    Path((_tenant, rtype, id)): Path<(String, String, String)>,
    Extension(client): Extension<Client>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: ScimBody,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let (proj, _) = projection(&state, rt, query.as_deref())?;
    let payload = command_payload(&state, rt, command::Operation::Replace, body)?;
    let id = parse_id(rt, &id)?;
    let r = submit(
        &state,
        &client,
        rt,
        id,
        command::Operation::Replace,
        payload,
        &headers,
    )
    .await?;
    if params::prefers_minimal(&headers) {
        return Ok(respond::minimal(&stored(&r)?));
    }
    Ok(respond::resource(
        &state,
        &client.tenant,
        rt,
        StatusCode::OK,
        stored(&r)?,
        &proj,
    ))
}

/// PATCH answers 200 with the resource, projected as the client asked, or
/// 204 if it prefers (`Prefer: return=minimal`).
pub async fn patch(
    State(state): State<AppState>,
    Path((_tenant, rtype, id)): Path<(String, String, String)>,
    Extension(client): Extension<Client>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: ScimBody,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let (proj, params) = projection(&state, rt, query.as_deref())?;
    let payload = command_payload(&state, rt, command::Operation::Patch, body)?;
    let id = parse_id(rt, &id)?;
    let r = submit(
        &state,
        &client,
        rt,
        id,
        command::Operation::Patch,
        payload,
        &headers,
    )
    .await?;
    let mut resource = stored(&r)?;
    if params::prefers_minimal(&headers) {
        return Ok(respond::minimal(&resource));
    }
    // The store does not load a group's members to apply a PATCH (that is
    // what keeps a member change constant-cost); the answer is the entire
    // resource (RFC 7644 §3.5.2), so they are read here — unless the client
    // excluded them (`excludedAttributes=members`), as IdPs can. A group
    // larger than `patch_answer_max_members` whose members the client did
    // not ask for by name (`attributes`) is answered 204, as §3.5.2 also
    // allows: IdPs change one member of a large group at a time, and an
    // answer listing 100 000 members for each would cost the ingress
    // hundreds of MB and the client as many.
    let wants_members = proj.wants(&state.registry, rt, &AttrPath::new("members", None));
    if rt.name == "Group" && wants_members {
        let tenant = client.tenant.as_str();
        let most = match params.attributes {
            Some(_) => i64::MAX,
            None => state.limits.patch_answer_max_members,
        };
        let members = state
            .read
            .read(|mut c| async move {
                let r = db_members::list_at_most(&mut c, tenant, id, most).await;
                (c, r)
            })
            .await?;
        let Some(members) = members else {
            return Ok(respond::no_content(&resource));
        };
        if let Some(obj) = resource.as_object_mut() {
            obj.insert("members".into(), render::members(&members));
        }
    }
    Ok(respond::resource(
        &state,
        &client.tenant,
        rt,
        StatusCode::OK,
        resource,
        &proj,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((_tenant, rtype, id)): Path<(String, String, String)>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let id = parse_id(rt, &id)?;
    submit(
        &state,
        &client,
        rt,
        id,
        command::Operation::Delete,
        Payload::empty(),
        &headers,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
