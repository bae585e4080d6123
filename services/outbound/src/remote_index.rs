//! What a target held when a full sync began, indexed by the values a copy
//! is recognised by, so that looking for an existing copy costs no request
//! per resource.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// A target's resources by their identifying values (lower-cased
/// `userName` / `displayName`, and `externalId`), per resource type.
#[derive(Debug, Default)]
pub struct RemoteIndex {
    by_key: HashMap<(String, String, String), String>,
}

impl RemoteIndex {
    /// Indexes the resources of `rt` (as the target lists them, by id).
    pub fn add(&mut self, rt: &str, resources: &BTreeMap<String, Value>) {
        for (id, r) in resources {
            for key in identifying(rt) {
                if let Some(v) = r.get(*key).and_then(Value::as_str) {
                    self.by_key
                        .insert((rt.to_string(), key.to_string(), fold(key, v)), id.clone());
                }
            }
        }
    }

    pub fn get(&self, rt: &str, body: &Value) -> Option<String> {
        identifying(rt).iter().find_map(|key| {
            let v = body.get(*key).and_then(Value::as_str)?;
            self.by_key
                .get(&(rt.to_string(), key.to_string(), fold(key, v)))
                .cloned()
        })
    }
}

/// The attributes a copy is recognised by.
pub fn identifying(rt: &str) -> &'static [&'static str] {
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
