//! Running one operation of a bulk, and completing the circular
//! references of the POSTs that were sent without them.

use bytes::Bytes;
use scimbus_events::v1::{Command, CommandResult, command};
use scimbus_scim::patch::PATCH_OP_SCHEMA;
use scimbus_scim::{ResourceType, ScimError};
use serde_json::{Value, json};
use uuid::Uuid;

use super::request::{Method, Valid};
use super::{Outcome, Pending, Run, refs};
use crate::error::{ApiError, ApiResult};
use crate::scim::payload::{Payload, check_and_redact, sealed};
use crate::scim::resource_type;
use crate::scim::resources::{self, Write};

/// An operation made into its command, or already answered.
pub(super) enum Prepared<'a> {
    Done(Outcome),
    Send(Box<Sending<'a>>),
}

/// A command to send, and what its answer means.
pub(super) struct Sending<'a> {
    i: usize,
    rt: &'a ResourceType,
    pub cmd: Command,
    location: Option<String>,
    kind: Kind,
}

enum Kind {
    /// A POST: the id it gives the resource, and the references to PATCH
    /// in once the resources they name exist.
    Post {
        resource_id: Uuid,
        later: Vec<Value>,
    },
    Delete,
    /// A PUT or a PATCH.
    Update,
}

impl<'a> Run<'a> {
    /// The command key of operation `i`, when the client sent one.
    fn scoped_key(&self, i: usize) -> Option<String> {
        self.key.map(|k| format!("{k}\u{0}bulk\u{0}{i}"))
    }

    /// Operation `i` as the command to send, or its outcome when it cannot
    /// become one.
    pub(super) fn prepare(&self, i: usize, v: &Valid) -> Prepared<'a> {
        let rt = match resource_type(self.state, &v.endpoint) {
            Ok(rt) => rt,
            Err(e) => return Prepared::Done(Outcome::failed(e.error, None)),
        };
        // Each operation needs the write scope of its resource type.
        if !self.client.scopes.can_write(&rt.name) {
            let scope = scimbus_runtime::scope::Scopes::write_scope_for(&rt.name);
            return Prepared::Done(Outcome::failed(
                ApiError::insufficient_scope(&scope).error,
                None,
            ));
        }
        let id = match v.id.as_deref() {
            Some(raw) => match refs::reference(raw).map(|b| self.lookup(b)) {
                Some(Ok(id)) => Some(id),
                Some(Err(e)) => return Prepared::Done(Outcome::failed(e, None)),
                None => Some(raw.to_string()),
            },
            None => None,
        };
        let location = id.as_ref().map(|id| {
            let base = self.state.base_url(&self.client.tenant);
            format!("{base}{}/{id}", rt.endpoint.trim_end_matches('/'))
        });
        let mut data = v.data.clone();
        let later = match self.plan.deferred.get(i).filter(|d| !d.is_empty()) {
            Some(d) => match refs::defer(&mut data, d) {
                Some(ops) => ops,
                None => {
                    let detail = "a circular bulkId reference in \"schemas\" cannot be resolved";
                    return Prepared::Done(Outcome::failed(
                        ScimError::new(409, None, detail),
                        None,
                    ));
                }
            },
            None => Vec::new(),
        };
        let failed =
            |e: ScimError, location: Option<String>| Prepared::Done(Outcome::failed(e, location));
        if let Err(e) = self.resolve(&mut data) {
            return failed(e, location);
        }
        let key = self.scoped_key(i);
        let key = key.as_deref();
        let if_match = self.ops.get(i).and_then(|o| o.version.as_deref());
        let (op, kind) = match (v.method, id.as_deref()) {
            (Method::Post, _) => {
                let resource_id = match key {
                    Some(k) => resources::derived_id(self.client, k, "resource"),
                    None => Uuid::now_v7(),
                };
                let kind = Kind::Post { resource_id, later };
                (command::Operation::Create, kind)
            }
            (Method::Delete, Some(_)) => (command::Operation::Delete, Kind::Delete),
            (Method::Put, Some(_)) => (command::Operation::Replace, Kind::Update),
            (_, Some(_)) => (command::Operation::Patch, Kind::Update),
            (_, None) => {
                let e = ScimError::invalid_value("the operation names no resource");
                return failed(e, location);
            }
        };
        // The body is checked before the id, as on the single-resource
        // endpoints.
        let payload = if op == command::Operation::Delete {
            Payload::empty()
        } else {
            match check_and_redact(self.state, rt, op, &mut data) {
                Ok(taken) => Payload {
                    bytes: Bytes::from(data.to_string()),
                    password: taken.password,
                },
                Err(e) => return failed(e, location),
            }
        };
        let resource_id = match (&kind, id.as_deref()) {
            (Kind::Post { resource_id, .. }, _) => *resource_id,
            (_, Some(id)) => match resources::parse_id(rt, id) {
                Ok(r) => r,
                Err(e) => return failed(e.error, location),
            },
            (_, None) => {
                return failed(
                    ScimError::invalid_value("the operation names no resource"),
                    location,
                );
            }
        };
        let cmd = resources::build(Write {
            client: self.client,
            rt,
            resource_id,
            op,
            payload: payload.bytes,
            password: sealed(self.state, self.client, resource_id, payload.password),
            if_match: if op == command::Operation::Create {
                None
            } else {
                if_match
            },
            key,
        });
        Prepared::Send(Box::new(Sending {
            i,
            rt,
            cmd,
            location,
            kind,
        }))
    }

    /// The outcome of a sent operation, from the store's answer.
    pub(super) fn finish(&mut self, s: Box<Sending<'a>>, r: ApiResult<CommandResult>) -> Outcome {
        let Sending {
            i,
            rt,
            location,
            kind,
            ..
        } = *s;
        let done = r.and_then(|r| match kind {
            Kind::Post { resource_id, later } => {
                let resource = resources::stored(&r)?;
                let id = match resource.get("id").and_then(Value::as_str) {
                    Some(id) => id.to_string(),
                    None => resource_id.to_string(),
                };
                if let Some(b) = self.ops.get(i).and_then(|o| o.bulk_id.clone()) {
                    self.created.insert(b, id);
                }
                if !later.is_empty() {
                    let pending = Pending {
                        rt,
                        id: resource_id,
                        ops: later,
                    };
                    self.pending.insert(i, pending);
                }
                Ok(self.success(201, rt, resource))
            }
            Kind::Delete => Ok(Outcome {
                status: 204,
                location: location.clone(),
                version: None,
                error: None,
                recorded: false,
            }),
            Kind::Update => resources::stored(&r).map(|res| self.success(200, rt, res)),
        });
        done.unwrap_or_else(|e| {
            let recorded = e.recorded;
            Outcome {
                recorded,
                ..Outcome::failed(e.error, location)
            }
        })
    }

    /// PATCHes references into resource `id` (no password is among
    /// them): the stored resource.
    async fn patch_in(
        &self,
        rt: &ResourceType,
        id: Uuid,
        body: &Value,
        key: Option<&str>,
    ) -> ApiResult<Value> {
        let cmd = resources::build(Write {
            client: self.client,
            rt,
            resource_id: id,
            op: command::Operation::Patch,
            payload: Bytes::from(body.to_string()),
            password: None,
            if_match: None,
            key,
        });
        resources::stored(&resources::send(self.state, &cmd).await?)
    }

    fn success(&self, status: u16, rt: &ResourceType, mut resource: Value) -> Outcome {
        super::respond::locate(self.state, &self.client.tenant, rt, &mut resource);
        let text = |p: &str| {
            resource
                .pointer(p)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Outcome {
            status,
            location: text("/meta/location"),
            version: text("/meta/version"),
            error: None,
            recorded: false,
        }
    }

    /// PATCHes the deferred references of operation `i` in; true when
    /// nothing more should run.
    pub(super) async fn complete(&mut self, i: usize) -> bool {
        let Some(p) = self.pending.remove(&i) else {
            return false;
        };
        let mut body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": p.ops});
        let patched = match self.resolve(&mut body) {
            Ok(()) => {
                let key = self.scoped_key(i);
                self.patch_in(p.rt, p.id, &body, key.as_deref()).await
            }
            Err(e) => Err(e.into()),
        };
        match patched {
            Ok(r) => {
                let version = r.pointer("/meta/version").and_then(Value::as_str);
                if let (Some(Some(o)), Some(v)) = (self.results.get_mut(i), version) {
                    o.version = Some(v.to_string());
                }
                false
            }
            Err(e) => self.unresolved(i, p.rt, e),
        }
    }

    /// Operation `i` created its resource, but could not add a circular
    /// reference to it.
    fn unresolved(&mut self, i: usize, rt: &ResourceType, e: ApiError) -> bool {
        let location = self
            .results
            .get(i)
            .and_then(|o| o.as_ref()?.location.clone());
        let e = e.error;
        let detail = format!(
            "the {} was created, but its circular bulkId reference could not be added: {}",
            rt.name, e.detail
        );
        let error = ScimError::new(e.status, e.scim_type, detail);
        self.record(i, Outcome::failed(error, location))
    }

    /// Processing stops: the resources still waiting for a circular
    /// reference say that they did not get it.
    pub(super) fn abandon(&mut self) {
        let mut waiting: Vec<usize> = self.pending.keys().copied().collect();
        waiting.sort_unstable();
        for i in waiting {
            if let Some(p) = self.pending.remove(&i) {
                let detail = "processing stopped before the reference could be added";
                self.unresolved(i, p.rt, ScimError::new(409, None, detail).into());
            }
        }
    }
}
