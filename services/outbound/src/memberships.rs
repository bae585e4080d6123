//! Group memberships on a target: member ids translated to the target's,
//! groups created with their members, member deltas in chunks, and the
//! memberships a user brings when it enters the target's scope (or takes
//! away when it leaves by deletion).
//!
//! A membership is a relation between two resources whose changes go side
//! by side (the order is kept per resource, not between them). So that a
//! group's push and its member's entry never both miss the membership, each
//! reads the relation from Postgres and acts on the other side's link while
//! holding the member's lock ([`MemberLocks`]): whichever comes second sees
//! what the first did.

use reqwest::StatusCode;
use scimbus_db::render::{self, Relations};
use scimbus_scim::ResourceType;
use serde_json::Value;
use uuid::Uuid;

use crate::client::PushError;
use crate::requests::{add_members, member, remove_member, replace_group, with_members};
use crate::target::{Pushed, Target, db};

/// One member as a group's whole-state write must show it, whatever its
/// link says yet: a user entering (`Some`: its id there, not linked until
/// its groups are done) or leaving (`None`: left out).
#[derive(Debug, Clone, Copy)]
pub struct Presence<'a> {
    pub id: Uuid,
    pub remote: Option<&'a str>,
}

impl Target {
    /// The ids of a group's members, as Postgres has them now.
    async fn member_ids(&self, id: Uuid) -> Result<Vec<Uuid>, PushError> {
        let members = scimbus_db::members::list(&self.pool, &self.tenant, id)
            .await
            .map_err(db)?;
        Ok(members.into_iter().map(|(m, _)| m).collect())
    }

    /// Creates (or adopts) a group with its whole current member list:
    /// with PATCH, the group first and its members in chunks; without, all
    /// in one body. Linked before the members' locks are let go.
    pub(crate) async fn create_group(
        &self,
        rt: &ResourceType,
        id: Uuid,
        version: i64,
        body: &Value,
    ) -> Result<Pushed, PushError> {
        let ids = self.member_ids(id).await?;
        let _held = self.member_locks.lock(&ids).await;
        let how = if self.use_patch() {
            let (remote_id, how) = self.adopt_or_create(rt, body).await?;
            if how == Pushed::Adopted {
                // Ours is the truth: the copy is brought to our state.
                let a = self.replace_members(rt, &remote_id, body, &ids).await?;
                if !a.ok() {
                    return Err(a.into_error("update of the adopted group", None));
                }
            } else {
                self.add_members_locked(rt, &remote_id, &ids).await?;
            }
            self.link(rt, id, &remote_id, version).await?;
            how
        } else {
            let full = with_members(body, self.remote_members(&ids, None).await?);
            let (remote_id, how) = self.place(rt, &full).await?;
            self.link(rt, id, &remote_id, version).await?;
            how
        };
        Ok(how)
    }

    /// A group's whole current state onto the target's copy: one PUT
    /// without PATCH; with it, its attributes and members replaced (the
    /// members in chunks: the first replaces, the rest add).
    pub(crate) async fn replace_group(
        &self,
        rt: &ResourceType,
        id: Uuid,
        remote_id: &str,
        body: &Value,
        presence: Option<Presence<'_>>,
    ) -> Result<crate::client::Answer, PushError> {
        let ids = self.member_ids(id).await?;
        let _held = self.member_locks.lock(&ids).await;
        if !self.use_patch() {
            let full = with_members(body, self.remote_members(&ids, presence).await?);
            return self.put(rt, remote_id, &full).await;
        }
        self.replace_members(rt, remote_id, body, &ids).await
    }

    /// With PATCH: the group's attributes and its members (`ids`, their
    /// locks held) replaced.
    async fn replace_members(
        &self,
        rt: &ResourceType,
        remote_id: &str,
        body: &Value,
        ids: &[Uuid],
    ) -> Result<crate::client::Answer, PushError> {
        let remote = self.remote_members(ids, None).await?;
        let mut chunks = remote.chunks(self.cfg.member_chunk.max(1));
        let first: Vec<Value> = chunks.next().map(<[Value]>::to_vec).unwrap_or_default();
        let a = self
            .patch(rt, remote_id, replace_group(body, first))
            .await?;
        if !a.ok() {
            return Ok(a);
        }
        for part in chunks {
            let more = self
                .patch(rt, remote_id, vec![add_members(part.to_vec())])
                .await?;
            if !more.ok() {
                return Ok(more);
            }
        }
        Ok(a)
    }

    /// Adds and removes members in PATCHes of at most `member_chunk`.
    pub(crate) async fn members_delta(
        &self,
        rt: &ResourceType,
        remote_group: &str,
        added: &[Uuid],
        removed: &[Uuid],
    ) -> Result<(), PushError> {
        let involved: Vec<Uuid> = added.iter().chain(removed).copied().collect();
        let _held = self.member_locks.lock(&involved).await;
        self.add_members_locked(rt, remote_group, added).await?;
        let chunk = self.cfg.member_chunk.max(1);
        let gone = self.links_get_many(removed).await?;
        for part in gone.chunks(chunk) {
            let ops = part.iter().map(|l| remove_member(&l.remote_id)).collect();
            let a = self.patch(rt, remote_group, ops).await?;
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("removing members", None));
            }
        }
        Ok(())
    }

    /// Adds members (their locks held) in PATCHes of at most
    /// `member_chunk`.
    async fn add_members_locked(
        &self,
        rt: &ResourceType,
        remote_group: &str,
        added: &[Uuid],
    ) -> Result<(), PushError> {
        for part in added.chunks(self.cfg.member_chunk.max(1)) {
            let value = self.remote_members(part, None).await?;
            if value.is_empty() {
                continue;
            }
            let a = self
                .patch(rt, remote_group, vec![add_members(value)])
                .await?;
            if !a.ok() {
                return Err(a.into_error("adding members", None));
            }
        }
        Ok(())
    }

    /// A user that entered the target's scope (created, adopted or
    /// reactivated there as `remote_id`) joins the groups the target holds
    /// of its groups here.
    pub(crate) async fn join_groups(&self, id: Uuid, remote_id: &str) -> Result<(), PushError> {
        if !self.use_patch() {
            let me = Presence {
                id,
                remote: Some(remote_id),
            };
            return self.replace_groups_of(me).await;
        }
        self.each_group_of(id, "adding the user to its group", |_| {
            vec![add_members(vec![member(remote_id)])]
        })
        .await
    }

    /// A user about to be deleted on the target leaves its groups there
    /// first (targets need not drop a deleted user's memberships).
    pub(crate) async fn leave_groups(&self, id: Uuid, remote_id: &str) -> Result<(), PushError> {
        if !self.use_patch() {
            return self.replace_groups_of(Presence { id, remote: None }).await;
        }
        self.each_group_of(id, "removing the user from its group", |_| {
            vec![remove_member(remote_id)]
        })
        .await
    }

    /// Without PATCH: every group of a member the target holds in scope is
    /// replaced whole (a PUT of its current state, the member shown as
    /// `me` says). Each such write reads the group's state afresh, so no
    /// member lock is needed beyond the one it takes.
    async fn replace_groups_of(&self, me: Presence<'_>) -> Result<(), PushError> {
        if !self.wants("Group") {
            return Ok(());
        }
        let rt = self.rt("Group")?;
        for g in self.groups_held(me.id).await? {
            let row = scimbus_db::resources::get(&self.pool, &self.tenant, "Group", g.resource_id)
                .await
                .map_err(db)?;
            let Some(row) = row else { continue };
            let body = self.body_of(rt, &render::into_resource(row, Relations::default()))?;
            let a = self
                .replace_group(rt, g.resource_id, &g.remote_id, &body, Some(me))
                .await?;
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error("the user's group", None));
            }
        }
        Ok(())
    }

    /// The links (in scope) of the groups a member is in here.
    async fn groups_held(&self, id: Uuid) -> Result<Vec<scimbus_db::links::Link>, PushError> {
        let groups: Vec<Uuid> = scimbus_db::members::groups_of(&self.pool, &self.tenant, id)
            .await
            .map_err(db)?
            .into_iter()
            .map(|(g, _)| g)
            .collect();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = self.links_get_many(&groups).await?;
        held.retain(|l| l.in_scope);
        Ok(held)
    }

    /// Sends `ops` to every group of `id` the target holds in scope, with
    /// the member's lock held. A group the target lost (404) is left to
    /// its own next change.
    async fn each_group_of(
        &self,
        id: Uuid,
        what: &str,
        ops: impl Fn(&str) -> Vec<Value>,
    ) -> Result<(), PushError> {
        if !self.wants("Group") {
            return Ok(());
        }
        let _held = self.member_locks.lock(&[id]).await;
        let rt = self.rt("Group")?;
        for g in self.groups_held(id).await? {
            let a = self.patch(rt, &g.remote_id, ops(&g.remote_id)).await?;
            if !a.ok() && a.status != StatusCode::NOT_FOUND {
                return Err(a.into_error(what, None));
            }
        }
        Ok(())
    }

    /// The target's ids of our members, as `members` values (the caller
    /// holds their locks), one member shown as `presence` says. A member
    /// the target does not have yet is pushed first (if it is in scope; one
    /// out of scope is left out).
    async fn remote_members(
        &self,
        ids: &[Uuid],
        presence: Option<Presence<'_>>,
    ) -> Result<Vec<Value>, PushError> {
        let known = self.links_get_many(ids).await?;
        let mut out = Vec::with_capacity(ids.len());
        let mut have = std::collections::HashSet::new();
        if let Some(p) = presence {
            // Shown as said (or left out), whatever its link says.
            have.insert(p.id);
            if let Some(remote) = p.remote.filter(|_| ids.contains(&p.id)) {
                out.push(member(remote));
            }
        }
        let shown = presence.map(|p| p.id);
        for l in known
            .iter()
            .filter(|l| l.in_scope && Some(l.resource_id) != shown)
        {
            have.insert(l.resource_id);
            out.push(member(&l.remote_id));
        }
        for id in ids.iter().filter(|i| !have.contains(i)) {
            if let Some(remote) = self.push_member(*id).await? {
                out.push(member(&remote));
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
        // Placed, not entered: linked at version 0 (as a group above), so
        // that its own change settles it whole and joins its other groups.
        let (remote_id, _) = self.place(rt, &body).await?;
        self.link(rt, id, &remote_id, 0).await?;
        Ok(Some(remote_id))
    }
}
