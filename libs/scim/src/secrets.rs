//! Values of `returned: never` attributes (`password`, RFC 7643 §4.1.1)
//! taken out of a write before it goes anywhere: the write's body is
//! rewritten with every such string replaced, so what is kept of it (the
//! command on the bus, a dead letter, the stored resource, the change) never
//! holds the value. The structure stays (a PATCH that sets only `password`
//! is still a PATCH of `password`), so the write still validates and still
//! counts as a change of that attribute.

use serde_json::{Map, Value};

use crate::AttrPath;
use crate::patch::PatchPath;
use crate::registry::{Registry, ResourceType, get_ci};
use crate::schema::{Attribute, Returned};

/// What a redacted value becomes.
pub const REDACTED: &str = "[redacted]";

/// The kind of body a write carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A whole resource (POST, PUT).
    Resource,
    /// A PATCH request.
    Patch,
}

/// What [`redact`] took out of a write.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// Whether any value was replaced (without, the caller keeps the bytes
    /// it has).
    pub any: bool,
    /// The value the write leaves the core `password` attribute with, if
    /// it sets one (a PATCH's last operation on it decides; a `remove`
    /// sets none) — for the targets configured to receive passwords.
    pub password: Option<String>,
}

/// Replaces, in place, each string under a `returned: never` attribute by
/// [`REDACTED`]. A body that is not the shape its kind needs is left to the
/// checks that refuse it.
pub fn redact(registry: &Registry, rt: &ResourceType, kind: Body, body: &mut Value) -> Redacted {
    let mut taken = Redacted::default();
    match kind {
        Body::Resource => {
            if let Some(obj) = body.as_object_mut() {
                resource(registry, rt, obj, &mut taken);
            }
        }
        Body::Patch => patch(registry, rt, body, &mut taken),
    }
    taken
}

/// Whether a resolved attribute is the core `password` (RFC 7643 §4.1.1).
fn is_password(res: &crate::registry::Resolved<'_>) -> bool {
    res.extension.is_none()
        && res.sub.is_none()
        && res.attr.returned == Returned::Never
        && res.attr.name.eq_ignore_ascii_case("password")
}

/// True when some attribute in the schemas of `rt` is never returned; a
/// write of a type without one needs no look at its body.
pub fn has_secrets(registry: &Registry, rt: &ResourceType) -> bool {
    fn any(attrs: &[Attribute]) -> bool {
        attrs
            .iter()
            .any(|a| a.returned == Returned::Never || any(&a.sub_attributes))
    }
    registry.core_schema(rt).is_some_and(|s| any(&s.attributes))
        || registry
            .extension_schemas(rt)
            .any(|(_, s)| any(&s.attributes))
}

/// A resource's top-level attributes (or a path-less PATCH value).
fn resource(
    registry: &Registry,
    rt: &ResourceType,
    obj: &mut Map<String, Value>,
    taken: &mut Redacted,
) {
    let mut changed = false;
    for (key, value) in obj.iter_mut() {
        let Ok(path) = AttrPath::parse(key) else {
            continue;
        };
        if let Some(schema) = registry.whole_extension(rt, &path) {
            if let Some(ext) = value.as_object_mut() {
                for (name, v) in ext.iter_mut() {
                    if let Some(attr) = schema.attribute(name) {
                        changed |= attribute(attr, v);
                    }
                }
            }
        } else if let Ok(res) = registry.resolve(rt, &path) {
            if is_password(&res) {
                taken.password = value.as_str().map(str::to_string);
            }
            changed |= match res.sub {
                Some(sub) => attribute(sub, value),
                None => attribute(res.attr, value),
            };
        }
    }
    taken.any |= changed;
}

/// One attribute's value: all of it if the attribute is never returned,
/// else its never-returned sub-attributes.
fn attribute(attr: &Attribute, value: &mut Value) -> bool {
    if attr.returned == Returned::Never {
        return scrub(value);
    }
    if !attr.is_complex() {
        return false;
    }
    let mut changed = false;
    let mut one = |item: &mut Value| {
        if let Some(obj) = item.as_object_mut() {
            for (name, v) in obj.iter_mut() {
                if let Some(sub) = attr.sub(name) {
                    changed |= attribute(sub, v);
                }
            }
        }
    };
    match value {
        Value::Array(items) => items.iter_mut().for_each(&mut one),
        other => one(other),
    }
    changed
}

/// Every string in a value.
fn scrub(value: &mut Value) -> bool {
    match value {
        Value::String(s) => {
            *s = REDACTED.to_string();
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, v| scrub(v) | c),
        Value::Object(obj) => obj.values_mut().fold(false, |c, v| scrub(v) | c),
        _ => false,
    }
}

fn patch(registry: &Registry, rt: &ResourceType, body: &mut Value, taken: &mut Redacted) {
    let Some(ops) = body.as_object_mut().and_then(|obj| {
        let key = crate::registry::key_ci(obj, "Operations")?;
        obj.get_mut(&key)?.as_array_mut()
    }) else {
        return;
    };
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let path = get_ci(op, "path")
            .and_then(Value::as_str)
            .map(|p| p.trim().to_string());
        let remove = get_ci(op, "op")
            .and_then(Value::as_str)
            .is_some_and(|o| o.eq_ignore_ascii_case("remove"));
        let path = path.as_deref().filter(|p| !p.is_empty());
        if remove {
            if let Some(p) = path
                && password_path(registry, rt, p)
            {
                taken.password = None;
            }
            continue;
        }
        let Some(value_key) = crate::registry::key_ci(op, "value") else {
            continue;
        };
        let Some(value) = op.get_mut(&value_key) else {
            continue;
        };
        match path {
            None => {
                if let Some(obj) = value.as_object_mut() {
                    resource(registry, rt, obj, taken);
                }
            }
            Some(p) => {
                let changed = at_path(registry, rt, p, value, taken);
                taken.any |= changed;
            }
        }
    }
}

/// Whether a PATCH path is the core `password` itself.
fn password_path(registry: &Registry, rt: &ResourceType, path: &str) -> bool {
    PatchPath::parse(path).is_ok_and(|pp| {
        pp.filter_sub.is_none()
            && registry
                .resolve(rt, &pp.attr)
                .is_ok_and(|r| is_password(&r))
    })
}

/// A PATCH value at `path`.
fn at_path(
    registry: &Registry,
    rt: &ResourceType,
    path: &str,
    value: &mut Value,
    taken: &mut Redacted,
) -> bool {
    let Ok(pp) = PatchPath::parse(path) else {
        return false;
    };
    if let Some(schema) = registry.whole_extension(rt, &pp.attr) {
        let Some(ext) = value.as_object_mut() else {
            return false;
        };
        return ext.iter_mut().fold(false, |c, (name, v)| {
            schema.attribute(name).is_some_and(|a| attribute(a, v)) | c
        });
    }
    let Ok(res) = registry.resolve(rt, &pp.attr) else {
        return false;
    };
    if pp.filter_sub.is_none() && is_password(&res) {
        taken.password = value.as_str().map(str::to_string);
    }
    if res.attr.returned == Returned::Never {
        return scrub(value);
    }
    // `emails.secret` or `emails[type eq "work"].secret`: the value is the
    // sub-attribute's.
    match res
        .sub
        .or_else(|| pp.filter_sub.as_deref().and_then(|s| res.attr.sub(s)))
    {
        Some(sub) => attribute(sub, value),
        None => attribute(res.attr, value),
    }
}

#[cfg(test)]
mod tests;
