//! A push's links: what the target holds of each of our resources (its id
//! there, the version pushed, in scope or not), read from the worker's
//! [`LinkCache`] first and Postgres after, written through the cache while
//! a worker follows the stream.

use std::collections::HashSet;

use scimbus_db::links::{self, Link};
use scimbus_scim::ResourceType;
use uuid::Uuid;

use crate::client::PushError;
use crate::link_cache::Cached;
use crate::sync::Current;
use crate::target::{Target, db};

impl Target {
    pub(crate) async fn link(
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
    pub(crate) async fn link_get(&self, id: Uuid) -> Result<Option<Link>, PushError> {
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
    pub(crate) async fn links_get_many(&self, ids: &[Uuid]) -> Result<Vec<Link>, PushError> {
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
    pub(crate) async fn link_put(&self, link: Link) -> Result<(), PushError> {
        if self.link_cache.record(link.resource_id, Some(link.clone())) {
            return Ok(());
        }
        links::put(&self.links_pool, self.key(), &link)
            .await
            .map_err(db)
    }

    /// Forgets a link (the resource is gone from the target).
    pub(crate) async fn link_forget(&self, id: Uuid) -> Result<(), PushError> {
        if self.link_cache.record(id, None) {
            return Ok(());
        }
        links::delete(&self.links_pool, self.key(), id)
            .await
            .map_err(db)
    }
}
