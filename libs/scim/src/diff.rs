//! Which attributes differ between two versions of a resource. Change events
//! carry the list, and outbound builds minimal PATCHes from it.

use serde_json::Value;

use crate::registry::{Registry, Resolved, ResourceType, get_ci};
use crate::schema::{Attribute, Mutability};

/// Canonical paths of the writable attributes that differ between `before`
/// and `after`, in schema order: a singular complex attribute present in both
/// reports its sub-attributes (`name.givenName`), everything else the attribute itself
/// (`emails`, `members`, `urn:…:enterprise:2.0:User:department`). readOnly
/// attributes (`id`, `meta`, `groups`) are the server's and not reported.
pub fn changed_paths(
    registry: &Registry,
    rt: &ResourceType,
    before: &Value,
    after: &Value,
) -> Vec<String> {
    let mut containers: Vec<(Option<&str>, &[Attribute])> =
        vec![(None, &registry.common().attributes)];
    if let Some(core) = registry.core_schema(rt) {
        containers.push((None, &core.attributes));
    }
    for (_, s) in registry.extension_schemas(rt) {
        containers.push((Some(s.id.as_str()), &s.attributes));
    }
    let mut out = Vec::new();
    for (extension, attrs) in containers {
        for attr in attrs
            .iter()
            .filter(|a| a.mutability != Mutability::ReadOnly)
        {
            let r = Resolved {
                extension,
                attr,
                sub: None,
            };
            let (a, b) = (r.value(before), r.value(after));
            if a == b {
                continue;
            }
            // A singular complex attribute that changed on both sides reports
            // its sub-attributes; one that appeared or went, itself.
            if attr.is_complex() && !attr.multi_valued && a.is_some() && b.is_some() {
                for sub in &attr.sub_attributes {
                    if sub_value(a, &sub.name) != sub_value(b, &sub.name) {
                        out.push(
                            Resolved {
                                sub: Some(sub),
                                ..r
                            }
                            .canonical(),
                        );
                    }
                }
            } else {
                out.push(r.canonical());
            }
        }
    }
    out
}

fn sub_value<'v>(v: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    get_ci(v?.as_object()?, name)
}
