//! Running one operation of a bulk, and completing the circular
//! references of the POSTs that were sent without them.

use bytes::Bytes;
use scimbus_events::v1::command;
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

impl<'a> Run<'a> {
    /// The command key of operation `i`, when the client sent one.
    fn scoped_key(&self, i: usize) -> Option<String> {
        self.key.map(|k| format!("{k}\u{0}bulk\u{0}{i}"))
    }

    /// Runs operation `i`.
    pub(super) async fn apply(&mut self, i: usize, v: &Valid) -> Outcome {
        let rt = match resource_type(self.state, &v.endpoint) {
            Ok(rt) => rt,
            Err(e) => return Outcome::failed(e.error, None),
        };
        // Each operation needs the write scope of its resource type.
        if !self.client.scopes.can_write(&rt.name) {
            let scope = scimbus_runtime::scope::Scopes::write_scope_for(&rt.name);
            return Outcome::failed(ApiError::insufficient_scope(&scope).error, None);
        }
        let id = match v.id.as_deref() {
            Some(raw) => match refs::reference(raw).map(|b| self.lookup(b)) {
                Some(Ok(id)) => Some(id),
                Some(Err(e)) => return Outcome::failed(e, None),
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
                    return Outcome::failed(ScimError::new(409, None, detail), None);
                }
            },
            None => Vec::new(),
        };
        if let Err(e) = self.resolve(&mut data) {
            return Outcome::failed(e, location);
        }
        let key = self.scoped_key(i);
        let key = key.as_deref();
        let if_match = self.ops.get(i).and_then(|o| o.version.as_deref());
        let done = match (v.method, id.as_deref()) {
            (Method::Post, _) => {
                let op = command::Operation::Create;
                match check_and_redact(self.state, rt, op, &mut data) {
                    Ok(taken) => {
                        let payload = Payload {
                            bytes: Bytes::from(data.to_string()),
                            password: taken.password,
                        };
                        self.post(i, rt, payload, key, later).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            (Method::Delete, Some(id)) => {
                let op = command::Operation::Delete;
                let r = self
                    .write(rt, id, op, Payload::empty(), if_match, key)
                    .await;
                r.map(|_| Outcome {
                    status: 204,
                    location: location.clone(),
                    version: None,
                    error: None,
                    recorded: false,
                })
            }
            (method, Some(id)) => {
                let op = match method {
                    Method::Put => command::Operation::Replace,
                    _ => command::Operation::Patch,
                };
                match check_and_redact(self.state, rt, op, &mut data) {
                    Ok(taken) => {
                        let payload = Payload {
                            bytes: Bytes::from(data.to_string()),
                            password: taken.password,
                        };
                        self.write(rt, id, op, payload, if_match, key).await
                    }
                    Err(e) => Err(e.into()),
                }
                .map(|r| self.success(200, rt, r))
            }
            (_, None) => Err(ScimError::invalid_value("the operation names no resource").into()),
        };
        done.unwrap_or_else(|e| {
            let recorded = e.recorded;
            Outcome {
                recorded,
                ..Outcome::failed(e.error, location)
            }
        })
    }

    /// A PUT, PATCH or DELETE of resource `id`: the stored resource (`Null`
    /// after a DELETE).
    async fn write(
        &self,
        rt: &ResourceType,
        id: &str,
        op: command::Operation,
        payload: Payload,
        if_match: Option<&str>,
        key: Option<&str>,
    ) -> ApiResult<Value> {
        let resource_id = resources::parse_id(rt, id)?;
        let cmd = resources::build(Write {
            client: self.client,
            rt,
            resource_id,
            op,
            payload: payload.bytes,
            password: sealed(self.state, self.client, resource_id, payload.password),
            if_match,
            key,
        });
        let r = resources::send(self.state, &cmd).await?;
        match op {
            command::Operation::Delete => Ok(Value::Null),
            _ => resources::stored(&r),
        }
    }

    async fn post(
        &mut self,
        i: usize,
        rt: &'a ResourceType,
        payload: Payload,
        key: Option<&str>,
        later: Vec<Value>,
    ) -> ApiResult<Outcome> {
        let resource_id = match key {
            Some(k) => resources::derived_id(self.client, k, "resource"),
            None => Uuid::now_v7(),
        };
        let cmd = resources::build(Write {
            client: self.client,
            rt,
            resource_id,
            op: command::Operation::Create,
            payload: payload.bytes,
            password: sealed(self.state, self.client, resource_id, payload.password),
            if_match: None,
            key,
        });
        let r = resources::stored(&resources::send(self.state, &cmd).await?)?;
        let id = match r.get("id").and_then(Value::as_str) {
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
        Ok(self.success(201, rt, r))
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
                // References only: no password is among them.
                let payload = Payload {
                    bytes: Bytes::from(body.to_string()),
                    password: None,
                };
                let (op, id) = (command::Operation::Patch, p.id.to_string());
                self.write(p.rt, &id, op, payload, None, key.as_deref())
                    .await
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
