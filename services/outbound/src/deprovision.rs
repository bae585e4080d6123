//! A resource leaves a target: deactivated (`active: false`, kept and
//! linked out of scope) or deleted (a user leaving its groups there first,
//! the link forgotten).

use reqwest::{Method, StatusCode};
use scimbus_db::links::Link;
use scimbus_scim::ResourceType;

use crate::client::PushError;
use crate::lifecycle::Exit;
use crate::requests::{deactivate, deactivated};
use crate::target::{Pushed, Target};

impl Target {
    /// A resource in scope there leaves: deactivated (kept, linked out of
    /// scope) or deleted (a user leaving its groups there first).
    pub(crate) async fn leave(
        &self,
        rt: &ResourceType,
        l: &Link,
        version: i64,
        exit: Exit,
    ) -> Result<Pushed, PushError> {
        if exit == Exit::Delete {
            if rt.name != "Group" {
                self.leave_groups(l.resource_id, &l.remote_id).await?;
            }
            return self.delete(rt, l).await;
        }
        let a = if self.use_patch() {
            self.patch(rt, &l.remote_id, vec![deactivate()]).await?
        } else {
            let path = format!("{}/{}", rt.endpoint, l.remote_id);
            let current = self.send(Method::GET, &path, None).await?;
            if !current.ok() {
                return Err(current.into_error("reading before deactivating", None));
            }
            self.put(rt, &l.remote_id, &deactivated(&current.body))
                .await?
        };
        if !a.ok() && a.status != StatusCode::NOT_FOUND {
            return Err(a.into_error("deactivate", None));
        }
        let kept = Link {
            in_scope: false,
            version: version.max(l.version),
            ..l.clone()
        };
        self.link_put(kept).await?;
        Ok(Pushed::Deprovisioned)
    }

    /// Deletes the target's copy (gone already is as good) and forgets it.
    pub(crate) async fn delete(&self, rt: &ResourceType, l: &Link) -> Result<Pushed, PushError> {
        let path = format!("{}/{}", rt.endpoint, l.remote_id);
        let a = self.send(Method::DELETE, &path, None).await?;
        if !a.ok() && a.status != StatusCode::NOT_FOUND {
            return Err(a.into_error("delete", None));
        }
        self.link_forget(l.resource_id).await?;
        Ok(Pushed::Deprovisioned)
    }
}
