//! `/Bulk` (RFC 7644 §3.7): many writes in one request.
//!
//! Each operation is an ordinary command, built, sent and answered exactly
//! as the single-resource endpoints do it ([`super::resources`]), in the
//! order of the request — a run of operations that name no `bulkId` is
//! published in that order and awaited together ([`together`]: any such
//! run with one command partition, only creates of distinct names with
//! several) — so an operation in a bulk means what it means on its own
//! (uniqueness 409s, `version` as `If-Match` 412s, 404s). The answer is 200
//! with one result per operation that ran, in the order of the request:
//! `method`, `bulkId`, `location`, `version`, `status` (a string), and for
//! a failure the SCIM error body in `response`. Successful results carry no
//! body (§3.7.3 allows leaving it out; a group's member list can be huge).
//!
//! - **Limits** (§3.7.4): more than `maxOperations` operations, or a body
//!   over `maxPayloadSize`, is a 413 for the whole request, and nothing of
//!   it runs; a body that is no `BulkRequest` at all is a 400, and so is
//!   one the strict read refuses anywhere (a member name twice, a control
//!   character, an overlong string, an integer out of range: see
//!   [`crate::body`]), as one that is not JSON. A malformed *operation*
//!   (unknown method, bad path, POST without `bulkId`, a `bulkId` used
//!   twice, `data` its endpoint would refuse: a wrong type, no `schemas`,
//!   an unregistered extension) is a 400 in that operation's place, and
//!   is never sent to the store; an unknown endpoint is the 404 the
//!   endpoint itself would answer.
//! - **Order and references** (§3.7.1, §3.7.2): see [`plan`] and [`refs`].
//!   A forward reference runs its POST first; a circular one is resolved by
//!   creating one side without the reference and PATCHing it in once the
//!   other side exists. A reference to a POST that failed is a 409 for the
//!   referring operation (§3.7.1's answer to what cannot be resolved); one
//!   to a `bulkId` no POST of the request has is a 400 `invalidValue`.
//! - **`failOnErrors`**: after that many errors nothing more runs, and what
//!   did not run is left out of the answer. A 503 (the bus is unreachable,
//!   or the store did not answer in time) stops the request too: what comes
//!   next would meet the same fate (the operations sent together with it
//!   are answered with what became of each).
//! - **`Idempotency-Key`**: every operation's command id is derived from it
//!   and the operation's index, so a retried bulk is applied once and
//!   answered with the first results.

mod apply;
mod plan;
mod refs;
mod request;
mod together;

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use scimbus_scim::{ResourceType, ScimError};
use serde_json::{Value, json};
use uuid::Uuid;

use self::plan::{Plan, Step};
use self::request::{BulkRequest, Method, Operation};
use super::{resources, respond};
use crate::body::ScimBody;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::tokens::Client;

const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

#[tracing::instrument(skip_all, fields(tenant = %client.tenant))]
pub async fn bulk(
    State(state): State<AppState>,
    Path(_tenant): Path<String>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    body: ScimBody,
) -> ApiResult<Response> {
    let req = BulkRequest::parse(&body.value, state.limits.bulk_max_operations)?;
    let key = resources::idempotency_key(&headers)?;
    let mut run = Run::new(&state, &client, key, &req);
    run.all().await;
    Ok(respond::scim_json(StatusCode::OK, &run.response()))
}

/// What a `bulkId` names.
enum Decl {
    /// One POST.
    Post,
    /// More than one operation.
    Shared,
    /// A PUT, PATCH or DELETE (or an operation without a method).
    Other,
}

/// The result of one operation.
struct Outcome {
    status: u16,
    location: Option<String>,
    version: Option<String>,
    error: Option<ScimError>,
    /// The store answered the refusal (and recorded it in the audit trail).
    recorded: bool,
}

impl Outcome {
    fn failed(error: ScimError, location: Option<String>) -> Outcome {
        Outcome {
            status: error.status,
            location,
            version: None,
            error: Some(error),
            recorded: false,
        }
    }

    fn json(&self, op: &Operation) -> Value {
        let mut o = serde_json::Map::new();
        let status = self.status.to_string();
        let fields = [
            ("method", op.method.as_deref()),
            ("bulkId", op.bulk_id.as_deref()),
            ("location", self.location.as_deref()),
            ("version", self.version.as_deref()),
            ("status", Some(status.as_str())),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                o.insert(k.into(), Value::String(v.into()));
            }
        }
        if let Some(e) = &self.error {
            o.insert("response".into(), e.to_json());
        }
        Value::Object(o)
    }
}

/// A POST created without its circular references, and the PATCH
/// operations that add them.
struct Pending<'a> {
    rt: &'a ResourceType,
    id: Uuid,
    ops: Vec<Value>,
}

/// One bulk request being processed.
struct Run<'a> {
    state: &'a AppState,
    client: &'a Client,
    key: Option<&'a str>,
    ops: &'a [Operation],
    fail_on_errors: Option<usize>,
    decl: HashMap<String, Decl>,
    plan: Plan,
    /// Per operation: it names no `bulkId`, so it can be sent beside
    /// others ([`Run::together`]).
    alone: Vec<bool>,
    results: Vec<Option<Outcome>>,
    /// The ids of the resources the POSTs created, by `bulkId`.
    created: HashMap<String, String>,
    pending: HashMap<usize, Pending<'a>>,
    errors: usize,
}

impl<'a> Run<'a> {
    fn new(
        state: &'a AppState,
        client: &'a Client,
        key: Option<&'a str>,
        req: &'a BulkRequest,
    ) -> Self {
        let ops = req.operations.as_slice();
        let mut users: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            if let Some(b) = &op.bulk_id {
                users.entry(b).or_default().push(i);
            }
        }
        let mut decl = HashMap::new();
        let mut posts = HashMap::new();
        for (b, at) in users {
            let d = match at.as_slice() {
                [i] if ops[*i].method.as_deref() == Some(Method::Post.as_str()) => {
                    posts.insert(b.to_string(), *i);
                    Decl::Post
                }
                [_] => Decl::Other,
                _ => Decl::Shared,
            };
            decl.insert(b.to_string(), d);
        }
        let refs: Vec<Vec<String>> = ops
            .iter()
            .map(|op| match &op.parsed {
                Ok(v) => refs::of(v.id.as_deref(), &v.data),
                Err(_) => Vec::new(),
            })
            .collect();
        let plan = plan::plan(&refs, &posts);
        let alone = refs
            .iter()
            .zip(&plan.deferred)
            .map(|(r, d)| r.is_empty() && d.is_empty())
            .collect();
        Run {
            state,
            client,
            key,
            ops,
            fail_on_errors: req.fail_on_errors,
            decl,
            alone,
            plan,
            results: ops.iter().map(|_| None).collect(),
            created: HashMap::new(),
            pending: HashMap::new(),
            errors: 0,
        }
    }

    /// Records an operation the ingress refused (the store records those
    /// it answers).
    async fn audit(&self, op: &Operation, outcome: &Outcome) {
        if outcome.error.is_none()
            || outcome.recorded
            || !crate::audit::recorded_status(outcome.status)
        {
            return;
        }
        let valid = op.parsed.as_ref().ok();
        let action = match valid.map(|v| v.method) {
            Some(Method::Post) => "create",
            Some(Method::Put) => "replace",
            Some(Method::Patch) => "patch",
            Some(Method::Delete) => "delete",
            None => "bulk",
        };
        let what = crate::audit::What {
            action,
            resource_type: valid
                .and_then(|v| self.state.registry.resource_type_by_endpoint(&v.endpoint))
                .map(|rt| rt.name.clone()),
            resource_id: valid
                .and_then(|v| v.id.as_deref())
                .and_then(|id| uuid::Uuid::parse_str(id).ok()),
            attributes: Vec::new(),
            status: outcome.status,
            scim_type: outcome
                .error
                .as_ref()
                .and_then(|e| e.scim_type)
                .map(|t| t.as_str().to_string()),
        };
        let actor = crate::audit::scim_actor(self.client);
        crate::audit::record(self.state, &actor, what).await;
    }

    async fn all(&mut self) {
        let steps = std::mem::take(&mut self.plan.steps);
        let mut next = 0;
        while next < steps.len() {
            // A run sent together, or the next step alone.
            let run = self.together(&steps[next..]);
            let fatal = if run.len() > 1 {
                next += run.len();
                self.send_together(&run).await
            } else {
                next += 1;
                match steps[next - 1] {
                    Step::Run(i) => self.send_together(&[i]).await,
                    Step::Complete(i) => self.complete(i).await,
                }
            };
            if fatal || self.fail_on_errors.is_some_and(|max| self.errors >= max) {
                self.abandon();
                return;
            }
        }
    }

    /// Records a result; true when nothing more should run.
    fn record(&mut self, i: usize, outcome: Outcome) -> bool {
        let fatal = outcome.status == 503;
        if outcome.error.is_some() {
            self.errors += 1;
        }
        if let Some(slot) = self.results.get_mut(i) {
            *slot = Some(outcome);
        }
        fatal
    }

    /// The id a reference stands for.
    fn lookup(&self, b: &str) -> Result<String, ScimError> {
        let r = format!("\"bulkId:{b}\"");
        match self.decl.get(b) {
            None => Err(ScimError::invalid_value(format!(
                "{r}: no POST of this request has the bulkId \"{b}\""
            ))),
            Some(Decl::Shared) => Err(ScimError::invalid_value(format!(
                "{r} is ambiguous: more than one operation of this request has that bulkId"
            ))),
            Some(Decl::Other) => Err(ScimError::invalid_value(format!(
                "{r} names an operation that is not a POST; only a POST creates a resource to refer to"
            ))),
            Some(Decl::Post) => self.created.get(b).cloned().ok_or_else(|| {
                ScimError::new(
                    409,
                    None,
                    format!("{r} cannot be resolved: the POST with that bulkId failed"),
                )
            }),
        }
    }

    /// Replaces the references in `data` by the ids they stand for.
    fn resolve(&self, data: &mut Value) -> Result<(), ScimError> {
        let mut ids = HashMap::new();
        for b in refs::of(None, data) {
            let id = self.lookup(&b)?;
            ids.insert(b, id);
        }
        refs::substitute(data, &ids);
        Ok(())
    }

    fn response(&self) -> Value {
        let ops: Vec<Value> = self
            .results
            .iter()
            .zip(self.ops)
            .filter_map(|(r, op)| r.as_ref().map(|r| r.json(op)))
            .collect();
        json!({"schemas": [BULK_RESPONSE], "Operations": ops})
    }
}
