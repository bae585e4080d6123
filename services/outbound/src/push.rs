//! One change, pushed to one target: the step from what the target holds
//! of the resource to what we hold ([`crate::lifecycle`]), carried out with
//! the target's client — adopt-or-create, PATCH of the changed attributes or
//! PUT, deactivation or deletion, group memberships ([`crate::memberships`])
//! — and the link recorded ([`crate::linking`]).

use reqwest::{Method, StatusCode};
use scimbus_db::links::{Link, TargetKey};
use scimbus_db::render::{self, Relations};
use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use scimbus_runtime::UpdateStyle;
use scimbus_scim::ResourceType;
use serde_json::Value;
use uuid::Uuid;

use crate::adopt::ours as ours_error;
use crate::client::{Answer, Exchange, PushError};
use crate::lifecycle::{Held, Mode, Ours, Step, exit, step};
use crate::requests::patch_body;
use crate::target::{Pushed, Target, db};

impl Target {
    pub fn key(&self) -> TargetKey<'_> {
        TargetKey {
            tenant: &self.tenant,
            target: &self.cfg.name,
        }
    }

    /// Whether updates go as PATCH (else PUT).
    pub fn use_patch(&self) -> bool {
        match self.cfg.update {
            UpdateStyle::Patch => true,
            UpdateStyle::Put => false,
            UpdateStyle::Auto => self.patch_supported.get().copied().unwrap_or(false),
        }
    }

    /// Asks the target whether it supports PATCH, once (for
    /// `update = "auto"`).
    pub async fn discover(&self) -> Result<(), PushError> {
        if self.cfg.update != UpdateStyle::Auto || self.patch_supported.get().is_some() {
            return Ok(());
        }
        let a = self
            .send(Method::GET, "/ServiceProviderConfig", None)
            .await?;
        let supported = a.ok()
            && a.body
                .get("patch")
                .and_then(|p| p.get("supported"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let _ = self.patch_supported.set(supported);
        Ok(())
    }

    /// Whether this target gets resources of this type at all.
    pub fn wants(&self, rt: &str) -> bool {
        self.cfg.resource_types.iter().any(|t| t == rt) && (rt != "Group" || self.cfg.groups)
    }

    pub(crate) fn rt(&self, name: &str) -> Result<&ResourceType, PushError> {
        self.registry.resource_type(name).ok_or_else(|| {
            PushError::permanent(
                format!("unknown resource type \"{name}\""),
                Exchange::default(),
            )
        })
    }

    /// Whether a resource is in the target's scope. The filter applies to
    /// the resource types whose attributes it names; for the others (a
    /// department filter and groups) everything is in scope.
    pub fn in_scope(&self, rt: &ResourceType, resource: &Value) -> bool {
        match &self.scope {
            None => true,
            Some(f) => {
                scimbus_scim::filter::matches(&self.registry, rt, resource, f).unwrap_or(true)
            }
        }
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, PushError> {
        self.throttle.wait().await;
        let r = self.client.send(method, path, body).await;
        match &r {
            Err(e) if e.is_transient() => self.throttle.failed(e.retry_after()),
            _ => self.throttle.succeeded(),
        }
        r
    }

    /// Whether a resource (as we hold it, at `version`) is in the target's
    /// scope.
    pub(crate) fn ours(&self, rt: &ResourceType, resource: &Value, version: i64) -> Ours {
        if self.in_scope(rt, resource) {
            Ours::InScope(version)
        } else {
            Ours::OutOfScope(version)
        }
    }

    /// Pushes one change: [`Mode::Change`] from the stream, or
    /// [`Mode::Recover`] for a change a driver that died may have pushed
    /// newer versions after (the current state goes instead).
    pub async fn push(&self, change: &Change, mode: Mode) -> Result<Pushed, PushError> {
        if !self.wants(&change.resource_type) {
            return Ok(Pushed::Skipped("resource type not pushed to this target"));
        }
        let rt = self.rt(&change.resource_type)?;
        let id = Uuid::parse_str(&change.resource_id).map_err(|_| {
            ours_error(format!(
                "resource id \"{}\" is not a UUID",
                change.resource_id
            ))
        })?;
        let version = i64::try_from(change.version)
            .map_err(|_| ours_error(format!("version {} is out of range", change.version)))?;
        let link = self.link_get(id).await?;
        let held = Held::of(link.as_ref());
        let exit = exit(self.cfg.deprovision, rt.name == "Group");
        let (ours, resource) = if change.operation == Operation::Deleted as i32 {
            (Ours::Deleted, None)
        } else {
            if let Held::InScope(v) | Held::OutOfScope(v) = held
                && v >= version
            {
                return Ok(Pushed::Skipped("this version was pushed already"));
            }
            let resource: Value = serde_json::from_slice(&change.resource)
                .map_err(|e| ours_error(format!("the change's resource is not JSON: {e}")))?;
            (self.ours(rt, &resource, version), Some(resource))
        };
        let step = step(held, ours, exit, mode);
        if mode == Mode::Recover && !matches!(step, Step::Skip(_)) {
            return self.push_current(rt, id, link, resource.as_ref()).await;
        }
        self.carry_out(
            rt,
            id,
            version,
            step,
            resource.as_ref(),
            Some(change),
            link,
            mode,
        )
        .await
    }

    /// Pushes the resource as Postgres holds it now (or its deletion), for
    /// a change (`seen`: its resource) the worker that died may have pushed
    /// already.
    async fn push_current(
        &self,
        rt: &ResourceType,
        id: Uuid,
        mut link: Option<Link>,
        seen: Option<&Value>,
    ) -> Result<Pushed, PushError> {
        let exit = exit(self.cfg.deprovision, rt.name == "Group");
        let row = scimbus_db::resources::get(&self.pool, &self.tenant, &rt.name, id)
            .await
            .map_err(db)?;
        let (version, current) = match row {
            None => (link.as_ref().map_or(0, |l| l.version), None),
            Some(row) => (
                row.version,
                Some(render::into_resource(row, Relations::default())),
            ),
        };
        let ours = match &current {
            None => Ours::Deleted,
            Some(r) => self.ours(rt, r, version),
        };
        if link.is_none()
            && !matches!(ours, Ours::InScope(_))
            && let Some(seen) = seen.filter(|r| self.in_scope(rt, r))
        {
            // Unlinked, gone or out of scope now, and in scope as the change
            // has it: the worker that died may have placed it (its link lost
            // with it). Its copy, found as it was sent, is deprovisioned as
            // if linked. (A resource never in scope is never looked for: the
            // target's own account of the same name is not ours to touch.)
            if let Some(remote_id) = self.find(rt, &self.body_of(rt, seen)?).await? {
                link = Some(Link {
                    resource_id: id,
                    resource_type: rt.name.clone(),
                    remote_id,
                    version: 0,
                    in_scope: true,
                });
            }
        }
        let step = step(Held::of(link.as_ref()), ours, exit, Mode::Recover);
        self.carry_out(
            rt,
            id,
            version,
            step,
            current.as_ref(),
            None,
            link,
            Mode::Recover,
        )
        .await
    }

    /// Carries a step out: the requests, then the link.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn carry_out(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        step: Step,
        resource: Option<&Value>,
        change: Option<&Change>,
        link: Option<Link>,
        mode: Mode,
    ) -> Result<Pushed, PushError> {
        // A user's password waiting for this target goes with its state.
        let password = if step.sends_state() {
            self.pending_password(rt, id).await?
        } else {
            None
        };
        let body = |r: Option<&Value>| match r {
            Some(r) => self.body_of(rt, r).map(|mut b| {
                if let Some(p) = &password {
                    p.set_in(&mut b);
                }
                b
            }),
            None => Err(ours_error("no resource to push")),
        };
        let linked = |l: Option<Link>| l.ok_or_else(|| ours_error("no link to act on"));
        // A user's creation joins no groups: any membership of it is younger
        // and comes with its group's own change (which pushes the user first
        // if need be). Saves a Postgres read per created user and target.
        let created = change.is_some_and(|c| c.operation == Operation::Created as i32);
        let join = step.joins_groups(mode) && !created;
        let pushed = match step {
            Step::Skip(why) => Ok(Pushed::Skipped(why)),
            Step::Enter => {
                self.enter(rt, id, version, &body(resource)?, None, join)
                    .await
            }
            Step::Return => {
                let l = linked(link)?;
                self.enter(rt, id, version, &body(resource)?, Some(&l), join)
                    .await
            }
            Step::Update { whole } => {
                let l = linked(link)?;
                let change = if whole { None } else { change };
                let b = body(resource)?;
                let u = Update {
                    change,
                    mode,
                    password: password.as_ref(),
                };
                self.update(rt, id, version, &b, &l, u).await
            }
            Step::Leave(exit) => self.leave(rt, &linked(link)?, version, exit).await,
            Step::Remove => self.delete(rt, &linked(link)?).await,
        }?;
        if let Some(p) = &password
            && !matches!(pushed, Pushed::Skipped(_))
        {
            self.password_delivered(id, p).await?;
        }
        Ok(pushed)
    }

    /// A resource the target has no copy of in scope: a group created with
    /// its members; a user reactivated (`returning`, its deactivated copy),
    /// or adopted or created, then (`join`) added to its groups there. The
    /// link comes last, so a failure is tried again whole.
    async fn enter(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        body: &Value,
        returning: Option<&Link>,
        join: bool,
    ) -> Result<Pushed, PushError> {
        if rt.name == "Group" {
            // A group placed as a member gets its whole state, members too.
            if let Some(l) = returning {
                let a = self.replace_group(rt, id, &l.remote_id, body, None).await?;
                if a.ok() {
                    self.link(rt, id, &l.remote_id, version).await?;
                    return Ok(Pushed::Updated);
                }
                if a.status != StatusCode::NOT_FOUND {
                    return Err(a.into_error("group update", None));
                }
            }
            return self.create_group(rt, id, version, body).await;
        }
        let mut placed = None;
        if let Some(l) = returning {
            let a = self.put(rt, &l.remote_id, body).await?;
            if a.ok() {
                placed = Some((l.remote_id.clone(), Pushed::Updated));
            } else if a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("reactivation", None));
            }
        }
        let (remote_id, how) = match placed {
            Some(p) => p,
            None => self.place(rt, body).await?,
        };
        if join {
            self.join_groups(id, &remote_id).await?;
        }
        self.link(rt, id, &remote_id, version).await?;
        Ok(how)
    }

    /// A resource in scope there and here: what the change changed (PATCH,
    /// with a group's member delta), or without a change or PATCH the whole
    /// state. A copy the target lost is created again.
    async fn update(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        body: &Value,
        l: &Link,
        u: Update<'_>,
    ) -> Result<Pushed, PushError> {
        let Update {
            change,
            mode,
            password,
        } = u;
        let is_group = rt.name == "Group";
        let answer = match change {
            Some(c) if self.use_patch() => {
                let extra = password.map(|p| p.patch_op());
                self.patch_changed(rt, &l.remote_id, body, c, extra).await?
            }
            _ if is_group => Some(self.replace_group(rt, id, &l.remote_id, body, None).await?),
            _ => Some(self.put(rt, &l.remote_id, body).await?),
        };
        match answer {
            Some(a) if a.status == StatusCode::NOT_FOUND => {
                // The target lost it: created again.
                self.link_forget(id).await?;
                let join = Step::Enter.joins_groups(mode);
                return self.enter(rt, id, version, body, None, join).await;
            }
            Some(a) if !a.ok() => {
                let what = if is_group { "group update" } else { "update" };
                return Err(a.into_error(what, None));
            }
            _ => {}
        }
        if is_group
            && self.use_patch()
            && let Some(c) = change
        {
            let (added, removed) = (uuids(&c.members_added)?, uuids(&c.members_removed)?);
            self.members_delta(rt, &l.remote_id, &added, &removed)
                .await?;
        }
        self.link(rt, id, &l.remote_id, version).await?;
        Ok(Pushed::Updated)
    }

    pub(crate) async fn put(
        &self,
        rt: &ResourceType,
        remote: &str,
        body: &Value,
    ) -> Result<Answer, PushError> {
        self.send(
            Method::PUT,
            &format!("{}/{remote}", rt.endpoint),
            Some(body),
        )
        .await
    }

    pub(crate) async fn patch(
        &self,
        rt: &ResourceType,
        remote: &str,
        ops: Vec<Value>,
    ) -> Result<Answer, PushError> {
        let body = patch_body(ops);
        self.send(
            Method::PATCH,
            &format!("{}/{remote}", rt.endpoint),
            Some(&body),
        )
        .await
    }
}

/// How an update goes: what changed (none: the whole state), why it is
/// pushed, and the password that goes with it.
struct Update<'a> {
    change: Option<&'a Change>,
    mode: Mode,
    password: Option<&'a crate::password::Password>,
}

/// Member ids of a change: a broken one is a broken change (parked), never
/// left out quietly.
fn uuids(list: &[String]) -> Result<Vec<Uuid>, PushError> {
    list.iter()
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| ours_error(format!("member id \"{s}\" is not a UUID")))
        })
        .collect()
}
