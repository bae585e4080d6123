//! What a target is sent of a resource: the resource as it goes out
//! ([`outgoing`]), then the target's mapping of its type; and what a PATCH
//! of a change names.

use scimbus_events::v1::Change;
use scimbus_scim::ResourceType;
use serde_json::Value;

use crate::client::{Answer, Exchange, PushError};
use crate::requests::{changed_ops, outgoing};
use crate::target::Target;

impl Target {
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
    pub(crate) fn mapping_of(&self, rt: &ResourceType) -> Option<&scimbus_mapping::Mapping> {
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
    pub(crate) fn changed_paths(&self, rt: &ResourceType, changed: &[String]) -> Vec<String> {
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
    pub(crate) async fn patch_changed(
        &self,
        rt: &ResourceType,
        remote_id: &str,
        body: &Value,
        change: &Change,
        extra: Option<Value>,
    ) -> Result<Option<Answer>, PushError> {
        let paths = self.changed_paths(rt, &change.changed_attributes);
        let mut ops = changed_ops(&self.registry, body, &paths);
        ops.extend(extra);
        if ops.is_empty() {
            return Ok(None);
        }
        self.patch(rt, remote_id, ops).await.map(Some)
    }
}
