//! Placing a resource on a target that has no copy we know of: its own copy
//! is found (by `userName`, a group's `displayName`, or `externalId`) and
//! adopted, or one is created; a 409 on create leads to the same search.

use reqwest::{Method, StatusCode};
use scimbus_scim::ResourceType;
use serde_json::Value;

use crate::client::{Exchange, PushError};
use crate::remote_index::identifying;
use crate::requests::{lookup, remote_id};
use crate::target::{Pushed, Target};

impl Target {
    /// [`Self::adopt_or_create`], and an adopted copy brought to our state
    /// with a PUT of `body`.
    pub(crate) async fn place(
        &self,
        rt: &ResourceType,
        body: &Value,
    ) -> Result<(String, Pushed), PushError> {
        let (remote_id, how) = self.adopt_or_create(rt, body).await?;
        if how == Pushed::Adopted {
            let a = self.put(rt, &remote_id, body).await?;
            if !a.ok() {
                return Err(a.into_error("update of the adopted copy", None));
            }
        }
        Ok((remote_id, how))
    }

    /// Finds the target's own copy and adopts it, or creates one.
    pub(crate) async fn adopt_or_create(
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
    pub(crate) async fn find(
        &self,
        rt: &ResourceType,
        body: &Value,
    ) -> Result<Option<String>, PushError> {
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
            let a = self
                .send(Method::GET, &lookup(&rt.endpoint, key, v), None)
                .await?;
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
}

/// A permanent error with no exchange (ours, not the target's).
pub(crate) fn ours(reason: impl Into<String>) -> PushError {
    PushError::permanent(reason.into(), Exchange::default())
}
