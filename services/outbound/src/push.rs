//! One change, pushed to one target: scope, links, adopt-or-create,
//! update (PATCH with the changed attributes, or PUT), deprovisioning, and
//! group memberships as chunked PATCHes with member ids translated to the
//! target's.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use scimbus_db::links::{self, Link, TargetKey};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::Row;
use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use scimbus_runtime::{Deprovision, TargetConfig, UpdateStyle};
use scimbus_scim::filter::Filter;
use scimbus_scim::{Registry, ResourceType};
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::client::{Answer, Exchange, PushError, TargetClient};
use crate::link_cache::{Cached, LinkCache};
use crate::throttle::Throttle;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Everything a push needs of its target.
#[derive(Debug)]
pub struct Target {
    pub tenant: String,
    pub cfg: TargetConfig,
    pub client: TargetClient,
    /// The scoping filter, per resource type it applies to.
    pub scope: Option<Filter>,
    pub registry: Arc<Registry>,
    /// Whether the target supports PATCH, from its
    /// `/ServiceProviderConfig` (asked once, when `update = "auto"`).
    pub patch_supported: std::sync::OnceLock<bool>,
    pub pool: PgPool,
    /// For link writes: commits that do not wait for the WAL flush. A link
    /// lost in a crash costs a lookup (and adoption) or a push again, both
    /// harmless; waiting for an fsync per push is not.
    pub links_pool: PgPool,
    pub throttle: Throttle,
    /// How users are mapped (none: as they are).
    pub mapping: Option<scimbus_mapping::Mapping>,
    /// How groups are mapped (none: as they are; members never are).
    pub group_mapping: Option<scimbus_mapping::Mapping>,
    /// The resources with a parked change (their later changes park
    /// behind), known in memory: the worker driving the target is the only
    /// one that parks and replays. `None` until loaded.
    pub parked: std::sync::Mutex<Option<std::collections::HashSet<Uuid>>>,
    /// Links written and not in Postgres yet (while a worker follows the
    /// stream, and during a full sync).
    pub link_cache: LinkCache,
    /// During a full sync: what the target held when it began, so that
    /// looking for an existing copy costs no request per resource.
    pub index: std::sync::RwLock<Option<Arc<RemoteIndex>>>,
}

/// A target's resources by their identifying values (lower-cased
/// `userName` / `displayName`, and `externalId`), per resource type.
#[derive(Debug, Default)]
pub struct RemoteIndex {
    by_key: std::collections::HashMap<(String, String, String), String>,
}

impl RemoteIndex {
    /// Indexes the resources of `rt` (as the target lists them, by id).
    pub fn add(&mut self, rt: &str, resources: &std::collections::BTreeMap<String, Value>) {
        for (id, r) in resources {
            for key in identifying(rt) {
                if let Some(v) = r.get(*key).and_then(Value::as_str) {
                    self.by_key
                        .insert((rt.to_string(), key.to_string(), fold(key, v)), id.clone());
                }
            }
        }
    }

    fn get(&self, rt: &str, body: &Value) -> Option<String> {
        identifying(rt).iter().find_map(|key| {
            let v = body.get(*key).and_then(Value::as_str)?;
            self.by_key
                .get(&(rt.to_string(), key.to_string(), fold(key, v)))
                .cloned()
        })
    }
}

/// The attributes a copy is recognised by.
fn identifying(rt: &str) -> &'static [&'static str] {
    if rt == "Group" {
        &["displayName", "externalId"]
    } else {
        &["userName", "externalId"]
    }
}

/// userName and displayName compare case-insensitively; externalId exactly.
fn fold(key: &str, v: &str) -> String {
    if key == "externalId" {
        v.to_string()
    } else {
        v.to_lowercase()
    }
}

/// What a full sync would do with one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Not on the target yet: look for its copy, else create it.
    Create,
    /// On the target: push the current state.
    Update,
    /// On the target but out of scope now.
    Deprovision,
    /// Out of scope and not there.
    Skip,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Created,
    Adopted,
    Updated,
    /// Deactivated or deleted on the target (deleted here, or out of scope).
    Deprovisioned,
    /// Nothing to do, and why.
    Skipped(&'static str),
}

/// A Postgres failure during a push: transient (tried again).
pub(crate) fn db(e: sqlx::Error) -> PushError {
    PushError::Transient {
        reason: format!("Postgres: {e}"),
        retry_after: None,
        exchange: Box::default(),
    }
}

impl Target {
    pub fn key(&self) -> TargetKey<'_> {
        TargetKey {
            tenant: &self.tenant,
            target: &self.cfg.name,
        }
    }

    /// What the target is sent of a resource: [`outgoing`], then the
    /// target's mapping of its type. A mapping that fails on this resource is
    /// a permanent error (the change parks, with the attribute named).
    pub fn body_of(&self, rt: &ResourceType, resource: &Value) -> Result<Value, PushError> {
        let body = outgoing(resource);
        match self.mapping_of(rt) {
            Some(m) => m
                .apply(resource, &body)
                .map_err(|e| PushError::permanent(e.to_string(), Exchange::default())),
            None => Ok(body),
        }
    }

    /// The mapping of a resource type, if it has one.
    fn mapping_of(&self, rt: &ResourceType) -> Option<&scimbus_mapping::Mapping> {
        match rt.name.as_str() {
            "User" => self.mapping.as_ref(),
            "Group" => self.group_mapping.as_ref(),
            _ => None,
        }
    }

    /// The changed paths a PATCH names: those that reach the target (a
    /// group's members go by themselves), and, with a mapping, every
    /// attribute it sets when anything changed (its expressions may read
    /// any attribute).
    fn changed_paths(&self, rt: &ResourceType, changed: &[String]) -> Vec<String> {
        let changed: Vec<&String> = changed
            .iter()
            .filter(|p| rt.name != "Group" || !p.starts_with("members"))
            .collect();
        match self.mapping_of(rt) {
            Some(m) if !changed.is_empty() => changed
                .into_iter()
                .filter(|p| m.sends(p))
                .cloned()
                .chain(m.set_paths().map(|p| p.text.clone()))
                .collect(),
            _ => changed.into_iter().cloned().collect(),
        }
    }

    /// A PATCH of what a change changed of `body`, if it changed anything
    /// that reaches the target.
    async fn patch_changed(
        &self,
        rt: &ResourceType,
        remote_id: &str,
        body: &Value,
        change: &Change,
    ) -> Result<Option<Answer>, PushError> {
        let paths = self.changed_paths(rt, &change.changed_attributes);
        let ops = changed_ops(&self.registry, body, &paths);
        if ops.is_empty() {
            return Ok(None);
        }
        self.patch(rt, remote_id, ops).await.map(Some)
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

    fn rt(&self, name: &str) -> Result<&ResourceType, PushError> {
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

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, PushError> {
        self.throttle.wait().await;
        let r = self.client.send(method, path, body).await;
        match &r {
            Err(e) if e.is_transient() => self.throttle.failed(),
            _ => self.throttle.succeeded(),
        }
        r
    }

    /// Pushes one change.
    pub async fn push(&self, change: &Change) -> Result<Pushed, PushError> {
        if !self.wants(&change.resource_type) {
            return Ok(Pushed::Skipped("resource type not pushed to this target"));
        }
        let rt = self.rt(&change.resource_type)?;
        let id = Uuid::parse_str(&change.resource_id).map_err(|_| {
            PushError::permanent(
                format!("resource id \"{}\" is not a UUID", change.resource_id),
                Exchange::default(),
            )
        })?;
        let link = self.link_get(id).await?;
        let version = i64::try_from(change.version).unwrap_or(i64::MAX);
        if change.operation == Operation::Deleted as i32 {
            return match link {
                None => Ok(Pushed::Skipped("never pushed")),
                Some(l) => self.deprovision(rt, &l, version, true).await,
            };
        }
        if link.as_ref().is_some_and(|l| l.version >= version) {
            return Ok(Pushed::Skipped("this version was pushed already"));
        }
        let resource: Value = serde_json::from_slice(&change.resource).map_err(|e| {
            PushError::permanent(
                format!("the change's resource is not JSON: {e}"),
                Exchange::default(),
            )
        })?;
        if !self.in_scope(rt, &resource) {
            return match link {
                Some(l) if l.in_scope => self.deprovision(rt, &l, version, false).await,
                _ => Ok(Pushed::Skipped("out of scope")),
            };
        }
        if rt.name == "Group" {
            self.push_group(rt, id, version, &resource, change, link)
                .await
        } else {
            self.push_user(rt, id, version, &resource, change, link)
                .await
        }
    }

    async fn push_user(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        resource: &Value,
        change: &Change,
        link: Option<Link>,
    ) -> Result<Pushed, PushError> {
        let body = self.body_of(rt, resource)?;
        if let Some(l) = link {
            let patchable = self.use_patch() && l.in_scope;
            let answer = if patchable {
                self.patch_changed(rt, &l.remote_id, &body, change).await?
            } else {
                Some(self.put(rt, &l.remote_id, &body).await?)
            };
            match answer {
                Some(a) if a.status == StatusCode::NOT_FOUND => {
                    // The target lost it: create it again.
                    self.link_forget(id).await?;
                }
                Some(a) if !a.ok() => return Err(a.into_error("update", None)),
                _ => {
                    self.link(rt, id, &l.remote_id, version).await?;
                    return Ok(Pushed::Updated);
                }
            }
        }
        let (remote_id, how) = self.place(rt, &body).await?;
        self.link(rt, id, &remote_id, version).await?;
        Ok(how)
    }

    async fn push_group(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        resource: &Value,
        change: &Change,
        link: Option<Link>,
    ) -> Result<Pushed, PushError> {
        let body = self.body_of(rt, resource)?;
        let added = uuids(&change.members_added);
        let removed = uuids(&change.members_removed);
        if let Some(l) = link.filter(|l| l.in_scope) {
            let a = if self.use_patch() {
                self.patch_changed(rt, &l.remote_id, &body, change).await?
            } else {
                // Without PATCH, the whole group (members too) is replaced.
                let full = self.with_all_members(id, &body).await?;
                Some(self.put(rt, &l.remote_id, &full).await?)
            };
            match a {
                Some(a) if a.status == StatusCode::NOT_FOUND => {
                    self.link_forget(id).await?;
                    return self.create_group(rt, id, version, &body).await;
                }
                Some(a) if !a.ok() => return Err(a.into_error("group update", None)),
                _ => {}
            }
            if self.use_patch() {
                self.members_delta(rt, &l.remote_id, &added, &removed)
                    .await?;
            }
            self.link(rt, id, &l.remote_id, version).await?;
            return Ok(Pushed::Updated);
        }
        self.create_group(rt, id, version, &body).await
    }

    /// Creates (or adopts) a group with its whole current member list: with
    /// PATCH, the group first and its members in chunks; without, all in
    /// one body.
    async fn create_group(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        body: &Value,
    ) -> Result<Pushed, PushError> {
        if !self.use_patch() {
            let full = self.with_all_members(id, body).await?;
            let (remote_id, how) = self.place(rt, &full).await?;
            self.link(rt, id, &remote_id, version).await?;
            return Ok(how);
        }
        let (remote_id, how) = self.adopt_or_create(rt, body).await?;
        if how == Pushed::Adopted {
            // Ours is the truth: the copy is brought to our state.
            let a = self.replace_group(rt, id, &remote_id, body).await?;
            if !a.ok() {
                return Err(a.into_error("update of the adopted group", None));
            }
        } else {
            let ids = self.member_ids(id).await?;
            self.members_delta(rt, &remote_id, &ids, &[]).await?;
        }
        self.link(rt, id, &remote_id, version).await?;
        Ok(how)
    }

    /// The ids of a group's members, as Postgres has them now.
    async fn member_ids(&self, id: Uuid) -> Result<Vec<Uuid>, PushError> {
        let members = scimbus_db::members::list(&self.pool, &self.tenant, id)
            .await
            .map_err(db)?;
        Ok(members.into_iter().map(|(m, _)| m).collect())
    }

    /// A group body with every member, translated (for a PUT).
    async fn with_all_members(&self, id: Uuid, body: &Value) -> Result<Value, PushError> {
        let ids = self.member_ids(id).await?;
        let mut full = body.clone();
        if let Some(o) = full.as_object_mut() {
            o.insert(
                "members".into(),
                Value::Array(self.remote_members(&ids).await?),
            );
        }
        Ok(full)
    }

    /// Adds and removes members in PATCHes of at most `member_chunk`.
    async fn members_delta(
        &self,
        rt: &ResourceType,
        remote_group: &str,
        added: &[Uuid],
        removed: &[Uuid],
    ) -> Result<(), PushError> {
        let chunk = self.cfg.member_chunk.max(1);
        for part in added.chunks(chunk) {
            let value = self.remote_members(part).await?;
            if value.is_empty() {
                continue;
            }
            let a = self
                .patch(
                    rt,
                    remote_group,
                    vec![json!({"op": "add", "path": "members", "value": value})],
                )
                .await?;
            if !a.ok() {
                return Err(a.into_error("adding members", None));
            }
        }
        let gone = self.links_get_many(removed).await?;
        for part in gone.chunks(chunk) {
            let ops = part
                .iter()
                .map(|l| {
                    json!({"op": "remove", "path": format!("members[value eq {}]", Value::String(l.remote_id.clone()))})
                })
                .collect();
            let a = self.patch(rt, remote_group, ops).await?;
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("removing members", None));
            }
        }
        Ok(())
    }

    /// The target's ids of our members, as `members` values. A member the
    /// target does not have yet is pushed first (if it is in scope; one
    /// out of scope is left out).
    async fn remote_members(&self, ids: &[Uuid]) -> Result<Vec<Value>, PushError> {
        let known = self.links_get_many(ids).await?;
        let mut out = Vec::with_capacity(ids.len());
        let mut have: HashSet<Uuid> = HashSet::new();
        for l in known.iter().filter(|l| l.in_scope) {
            have.insert(l.resource_id);
            out.push(json!({"value": l.remote_id}));
        }
        for id in ids.iter().filter(|i| !have.contains(i)) {
            if let Some(remote) = Box::pin(self.push_member(*id)).await? {
                out.push(json!({"value": remote}));
            }
        }
        Ok(out)
    }

    /// Pushes a member that the target does not have yet, from what
    /// Postgres holds now; its own change, when it comes, finds the link.
    async fn push_member(&self, id: Uuid) -> Result<Option<String>, PushError> {
        let get = |rt| scimbus_db::resources::get(&self.pool, &self.tenant, rt, id);
        let row = match get("User").await.map_err(db)? {
            Some(user) => user,
            None => match get("Group").await.map_err(db)? {
                Some(group) => group,
                None => return Ok(None),
            },
        };
        if !self.wants(&row.resource_type) {
            return Ok(None);
        }
        let rt = self.rt(&row.resource_type)?;
        let resource = render::resource(&row, Relations::default());
        if !self.in_scope(rt, &resource) {
            return Ok(None);
        }
        let body = self.body_of(rt, &resource)?;
        if rt.name == "Group" {
            // Only the group itself (no PUT of an adopted copy: that would
            // empty it there), linked at version 0: its own change, or its
            // own step of a full sync, is then not skipped and brings its
            // members (groups may contain each other: no recursion here).
            let (remote_id, _) = self.adopt_or_create(rt, &body).await?;
            self.link(rt, id, &remote_id, 0).await?;
            return Ok(Some(remote_id));
        }
        let (remote_id, _) = self.place(rt, &body).await?;
        self.link(rt, id, &remote_id, row.version).await?;
        Ok(Some(remote_id))
    }

    /// What a full sync does with one of our resources (as Postgres holds
    /// it now) and the link the target has of it, if any: the current state
    /// pushed whatever the recorded version says (a sync repairs drift).
    pub fn plan(&self, rt: &ResourceType, resource: &Value, link: Option<&Link>) -> Plan {
        let in_scope = self.in_scope(rt, resource);
        match (in_scope, link) {
            (true, Some(l)) if l.in_scope => Plan::Update,
            (true, _) => Plan::Create,
            (false, Some(l)) if l.in_scope => Plan::Deprovision,
            (false, _) => Plan::Skip,
        }
    }

    /// Pushes one resource's current state (a full sync's step).
    pub async fn sync_resource(&self, row: &Row, link: Option<Link>) -> Result<Pushed, PushError> {
        let resource = render::resource(row, Relations::default());
        self.sync_rendered(&Current::of(row), &resource, link).await
    }

    /// [`Self::sync_resource`] of a resource rendered already (retries
    /// render it once).
    pub async fn sync_rendered(
        &self,
        now: &Current,
        resource: &Value,
        link: Option<Link>,
    ) -> Result<Pushed, PushError> {
        if !self.wants(&now.resource_type) {
            return Ok(Pushed::Skipped("resource type not pushed to this target"));
        }
        let rt = self.rt(&now.resource_type)?;
        match self.plan(rt, resource, link.as_ref()) {
            Plan::Skip => Ok(Pushed::Skipped("out of scope")),
            Plan::Deprovision => match link {
                Some(l) => self.deprovision(rt, &l, now.version, false).await,
                None => Ok(Pushed::Skipped("never pushed")),
            },
            Plan::Create => {
                let body = self.body_of(rt, resource)?;
                self.create_current(rt, now, &body).await
            }
            Plan::Update => {
                let Some(l) = link else {
                    return Ok(Pushed::Skipped("never pushed"));
                };
                let body = self.body_of(rt, resource)?;
                let a = if rt.name == "Group" {
                    self.replace_group(rt, now.id, &l.remote_id, &body).await?
                } else {
                    self.put(rt, &l.remote_id, &body).await?
                };
                if a.status == StatusCode::NOT_FOUND {
                    // Gone there: created again.
                    self.link_forget(now.id).await?;
                    return self.create_current(rt, now, &body).await;
                }
                if !a.ok() {
                    return Err(a.into_error("sync update", None));
                }
                self.link(rt, now.id, &l.remote_id, now.version).await?;
                Ok(Pushed::Updated)
            }
        }
    }

    /// A resource the target has no copy of (that we know): a group created
    /// with its members, a user adopted or created; then linked.
    async fn create_current(
        &self,
        rt: &ResourceType,
        now: &Current,
        body: &Value,
    ) -> Result<Pushed, PushError> {
        if rt.name == "Group" {
            return self.create_group(rt, now.id, now.version, body).await;
        }
        let (remote_id, how) = self.place(rt, body).await?;
        self.link(rt, now.id, &remote_id, now.version).await?;
        Ok(how)
    }

    /// A group's whole current state onto the target's copy: one PUT
    /// without PATCH; with it, its attributes and members replaced (the
    /// members in chunks: the first replaces, the rest add).
    async fn replace_group(
        &self,
        rt: &ResourceType,
        id: Uuid,
        remote_id: &str,
        body: &Value,
    ) -> Result<Answer, PushError> {
        if !self.use_patch() {
            let full = self.with_all_members(id, body).await?;
            return self.put(rt, remote_id, &full).await;
        }
        let ids = self.member_ids(id).await?;
        let remote = self.remote_members(&ids).await?;
        let mut chunks = remote.chunks(self.cfg.member_chunk.max(1));
        let first: Vec<Value> = chunks.next().map(<[Value]>::to_vec).unwrap_or_default();
        let mut attrs = Map::new();
        for (k, v) in body.as_object().into_iter().flatten() {
            if k != "schemas" {
                attrs.insert(k.clone(), v.clone());
            }
        }
        let a = self
            .patch(
                rt,
                remote_id,
                vec![
                    json!({"op": "replace", "value": attrs}),
                    json!({"op": "replace", "path": "members", "value": first}),
                ],
            )
            .await?;
        if !a.ok() {
            return Ok(a);
        }
        for part in chunks {
            let more = self
                .patch(
                    rt,
                    remote_id,
                    vec![json!({"op": "add", "path": "members", "value": part})],
                )
                .await?;
            if !more.ok() {
                return Ok(more);
            }
        }
        Ok(a)
    }

    /// Deprovisions what the target holds of a resource deleted here (a
    /// full sync's last step).
    pub async fn sync_orphan(&self, l: &Link) -> Result<Pushed, PushError> {
        let rt = self.rt(&l.resource_type)?;
        self.deprovision(rt, l, l.version, true).await
    }

    /// Deactivates or deletes what the target holds of a resource deleted
    /// here (`gone`) or gone out of scope.
    async fn deprovision(
        &self,
        rt: &ResourceType,
        l: &Link,
        version: i64,
        gone: bool,
    ) -> Result<Pushed, PushError> {
        if !l.in_scope && !gone {
            return Ok(Pushed::Skipped("deprovisioned already"));
        }
        let id = l.resource_id;
        if rt.name == "Group" || self.cfg.deprovision == Deprovision::Delete {
            if !l.in_scope && self.cfg.deprovision == Deprovision::Delete {
                self.link_forget(id).await?;
                return Ok(Pushed::Skipped("deleted on the target already"));
            }
            let a = self
                .send(
                    Method::DELETE,
                    &format!("{}/{}", rt.endpoint, l.remote_id),
                    None,
                )
                .await?;
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("delete", None));
            }
            self.link_forget(id).await?;
            return Ok(Pushed::Deprovisioned);
        }
        if l.in_scope {
            let a = if self.use_patch() {
                self.patch(
                    rt,
                    &l.remote_id,
                    vec![json!({"op": "replace", "path": "active", "value": false})],
                )
                .await?
            } else {
                let path = format!("{}/{}", rt.endpoint, l.remote_id);
                let current = self.send(Method::GET, &path, None).await?;
                if !current.ok() {
                    return Err(current.into_error("reading before deactivating", None));
                }
                let mut body = outgoing(&current.body);
                if let Some(o) = body.as_object_mut() {
                    o.insert("active".into(), Value::Bool(false));
                }
                self.put(rt, &l.remote_id, &body).await?
            };
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("deactivate", None));
            }
        }
        let kept = Link {
            in_scope: false,
            version: version.max(l.version),
            ..l.clone()
        };
        self.link_put(kept).await?;
        Ok(Pushed::Deprovisioned)
    }

    /// [`Self::adopt_or_create`], and an adopted copy brought to our state
    /// with a PUT of `body`.
    async fn place(&self, rt: &ResourceType, body: &Value) -> Result<(String, Pushed), PushError> {
        let (remote_id, how) = self.adopt_or_create(rt, body).await?;
        if how == Pushed::Adopted {
            let a = self.put(rt, &remote_id, body).await?;
            if !a.ok() {
                return Err(a.into_error("update of the adopted copy", None));
            }
        }
        Ok((remote_id, how))
    }

    /// Finds the target's own copy (by `userName`, `externalId`, or a
    /// group's `displayName`) and adopts it, or creates one; a 409 on create
    /// leads to the same search.
    async fn adopt_or_create(
        &self,
        rt: &ResourceType,
        body: &Value,
    ) -> Result<(String, Pushed), PushError> {
        let index = self.index.read().ok().and_then(|i| i.clone());
        let existing = match &index {
            Some(ix) => ix.get(&rt.name, body),
            None => self.find(rt, body).await?,
        };
        if let Some(id) = existing {
            return Ok((id, Pushed::Adopted));
        }
        let a = self.send(Method::POST, &rt.endpoint, Some(body)).await?;
        if a.status == StatusCode::CONFLICT {
            return match self.find(rt, body).await? {
                Some(id) => Ok((id, Pushed::Adopted)),
                None => Err(a.into_error("create (409, and no match to adopt)", None)),
            };
        }
        if !a.ok() {
            return Err(a.into_error("create", None));
        }
        let id = remote_id(&a.body).ok_or_else(|| {
            PushError::permanent(
                "the target's create answer carries no id",
                a.exchange.clone(),
            )
        })?;
        Ok((id, Pushed::Created))
    }

    /// The target's id of the resource matching `body`'s identifying
    /// attributes, if it has one.
    async fn find(&self, rt: &ResourceType, body: &Value) -> Result<Option<String>, PushError> {
        // The first identifying attribute the body has (userName or a
        // group's displayName; externalId only without it): one lookup.
        let ids = identifying(&rt.name);
        let keys = if body.get(ids[0]).is_some() {
            &ids[..1]
        } else {
            &ids[1..]
        };
        for key in keys {
            let Some(v) = body.get(*key).and_then(Value::as_str) else {
                continue;
            };
            let filter = format!("{key} eq {}", Value::String(v.to_string()));
            let path = format!("{}?filter={}", rt.endpoint, percent_encode(&filter));
            let a = self.send(Method::GET, &path, None).await?;
            if !a.ok() {
                // Some targets do not filter on externalId: not fatal.
                if *key == "userName" || *key == "displayName" {
                    return Err(a.into_error("looking for an existing copy", None));
                }
                continue;
            }
            let found = a
                .body
                .get("Resources")
                .and_then(Value::as_array)
                .and_then(|l| l.iter().find_map(remote_id));
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    async fn put(
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

    async fn patch(
        &self,
        rt: &ResourceType,
        remote: &str,
        ops: Vec<Value>,
    ) -> Result<Answer, PushError> {
        let body = json!({"schemas": [PATCH_OP], "Operations": ops});
        self.send(
            Method::PATCH,
            &format!("{}/{remote}", rt.endpoint),
            Some(&body),
        )
        .await
    }

    async fn link(
        &self,
        rt: &ResourceType,
        id: Uuid,
        remote_id: &str,
        version: i64,
    ) -> Result<(), PushError> {
        let link = Link {
            resource_id: id,
            resource_type: rt.name.clone(),
            remote_id: remote_id.to_string(),
            version,
            in_scope: true,
        };
        self.link_put(link).await
    }

    /// A resource's link: what this worker wrote since its last flush, or
    /// what Postgres has.
    async fn link_get(&self, id: Uuid) -> Result<Option<Link>, PushError> {
        match self.link_cache.get(id) {
            Cached::Known(l) => Ok(l),
            Cached::Unknown => links::get(&self.pool, self.key(), id).await.map_err(db),
        }
    }

    /// A full sync's `link` of a resource read with its page a while ago,
    /// or what was written since. Only a group can have been linked by
    /// another resource's push meanwhile (as a member of a group; users are
    /// all pushed before groups), and its link may be in Postgres already:
    /// an unlinked group is looked up again.
    pub async fn fresh_link(
        &self,
        now: &Current,
        link: Option<Link>,
    ) -> Result<Option<Link>, PushError> {
        if link.is_none() && now.resource_type == "Group" {
            return self.link_get(now.id).await;
        }
        Ok(match self.link_cache.get(now.id) {
            Cached::Known(l) => l,
            Cached::Unknown => link,
        })
    }

    /// The links of several resources (those that have one), once each.
    async fn links_get_many(&self, ids: &[Uuid]) -> Result<Vec<Link>, PushError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut ask = Vec::new();
        let mut seen = HashSet::with_capacity(ids.len());
        for id in ids.iter().filter(|id| seen.insert(**id)) {
            match self.link_cache.get(*id) {
                Cached::Known(l) => out.extend(l),
                Cached::Unknown => ask.push(*id),
            }
        }
        if !ask.is_empty() {
            out.extend(
                links::get_many(&self.pool, self.key(), &ask)
                    .await
                    .map_err(db)?,
            );
        }
        Ok(out)
    }

    /// Records a link: kept until the worker's next flush while it follows
    /// the stream, else written now.
    async fn link_put(&self, link: Link) -> Result<(), PushError> {
        if self.link_cache.record(link.resource_id, Some(link.clone())) {
            return Ok(());
        }
        links::put(&self.links_pool, self.key(), &link)
            .await
            .map_err(db)
    }

    /// Forgets a link (the resource is gone from the target).
    async fn link_forget(&self, id: Uuid) -> Result<(), PushError> {
        if self.link_cache.record(id, None) {
            return Ok(());
        }
        links::delete(&self.links_pool, self.key(), id)
            .await
            .map_err(db)
    }
}

/// What identifies a resource's current state: its type, id and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub resource_type: String,
    pub id: Uuid,
    pub version: i64,
}

impl Current {
    pub fn of(row: &Row) -> Current {
        Current {
            resource_type: row.resource_type.clone(),
            id: row.id,
            version: row.version,
        }
    }
}

/// What a target is sent of a resource: no `id`, `meta`, a user's derived
/// `groups` or `password`, a group's `members` (sent separately).
pub fn outgoing(resource: &Value) -> Value {
    let mut out = Map::with_capacity(resource.as_object().map_or(0, Map::len));
    for (k, v) in resource.as_object().into_iter().flatten() {
        if !matches!(
            k.as_str(),
            "id" | "meta" | "groups" | "password" | "members"
        ) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// PATCH operations for the changed attribute paths: one `replace` (no
/// path) with every changed top-level attribute that has a value, and a
/// `remove` per changed path that has none.
pub fn changed_ops(registry: &Registry, body: &Value, changed: &[String]) -> Vec<Value> {
    let mut replace = Map::new();
    let mut removes = Vec::new();
    for path in changed {
        let (top, rest) = split_top(registry, path);
        if matches!(
            top,
            "id" | "meta" | "groups" | "password" | "members" | "schemas"
        ) {
            continue;
        }
        let Some(v) = body.get(top) else {
            removes.push(json!({"op": "remove", "path": path}));
            continue;
        };
        // A sub-attribute that went away is removed on its own (a replace
        // of a complex attribute leaves unnamed sub-attributes alone).
        if let Some(sub) = rest {
            let present = sub.split('.').try_fold(v, |node, k| node.get(k));
            if present.is_none() {
                removes.push(json!({"op": "remove", "path": path}));
                continue;
            }
        }
        replace.insert(top.to_string(), v.clone());
    }
    let mut ops = removes;
    if !replace.is_empty() {
        ops.insert(0, json!({"op": "replace", "value": replace}));
    }
    ops
}

/// The top-level key of a canonical path (an extension's URN for its
/// attributes) and the rest.
fn split_top<'p>(registry: &Registry, path: &'p str) -> (&'p str, Option<&'p str>) {
    for s in registry.schemas() {
        if let Some(rest) = path
            .strip_prefix(s.id.as_str())
            .and_then(|r| r.strip_prefix(':'))
        {
            if !registry.resource_types().iter().any(|rt| rt.schema == s.id) {
                return (&path[..s.id.len()], Some(rest));
            }
            // A core schema URN prefix: the attribute is top-level.
            return split_plain(rest);
        }
    }
    split_plain(path)
}

fn split_plain(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    }
}

fn remote_id(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn uuids(list: &[String]) -> Vec<Uuid> {
    list.iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect()
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::standard().unwrap()
    }

    #[test]
    fn outgoing_drops_what_targets_must_not_get() {
        let r = json!({"schemas": ["s"], "id": "1", "meta": {}, "userName": "u",
            "groups": [{"value": "g"}], "password": "p", "externalId": "e"});
        assert_eq!(
            outgoing(&r),
            json!({"schemas": ["s"], "userName": "u", "externalId": "e"})
        );
    }

    #[test]
    fn changed_attributes_become_replace_and_remove() {
        let reg = registry();
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let body = json!({
            "userName": "u", "title": "Boss", "name": {"givenName": "B"},
            ent: {"department": "Sales"}
        });
        let changed: Vec<String> = [
            "title",
            "name.givenName",
            "name.familyName",
            "nickName",
            &format!("{ent}:department"),
            "meta.lastModified",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ops = changed_ops(&reg, &body, &changed);
        assert_eq!(
            ops,
            vec![
                json!({"op": "replace", "value": {
                    "title": "Boss", "name": {"givenName": "B"}, ent: {"department": "Sales"}}}),
                json!({"op": "remove", "path": "name.familyName"}),
                json!({"op": "remove", "path": "nickName"}),
            ]
        );
        assert!(changed_ops(&reg, &body, &["meta.version".to_string()]).is_empty());
    }

    #[test]
    fn filters_are_encoded_for_the_query() {
        assert_eq!(
            percent_encode("userName eq \"b j&n\""),
            "userName%20eq%20%22b%20j%26n%22"
        );
    }
}
