//! Applying PATCH operations to a canonical resource (RFC 7644 §3.5.2).

use serde_json::{Map, Value};

use super::filtered::Ctx;
use super::path::PatchPath;
use super::request::{OpKind, PatchOp};
use super::unfiltered::unfiltered_value;
use crate::error::{Result, ScimError};
use crate::filter::Filter;
use crate::path::is_urn;
use crate::registry::{Registry, Resolved, ResourceType, key_ci};
use crate::resource::{Leniency, describe};
use crate::schema::{Attribute, Mutability, Schema};

/// What a path points at, resolved against the schemas.
pub(super) enum Target<'r> {
    /// A whole extension object (`urn:…:enterprise:2.0:User`).
    Extension(&'r Schema),
    Attr {
        resolved: Resolved<'r>,
        filter: Option<&'r Filter>,
        /// The sub-attribute the path ends at.
        sub: Option<&'r Attribute>,
    },
}

pub(super) fn target<'r>(
    reg: &'r Registry,
    rt: &'r ResourceType,
    path: &'r PatchPath,
) -> Result<Target<'r>> {
    if path.filter.is_none()
        && let Some(schema) = reg.whole_extension(rt, &path.attr)
    {
        return Ok(Target::Extension(schema));
    }
    let mut resolved = reg.resolve(rt, &path.attr)?;
    let sub = match path.filter_sub.as_deref() {
        Some(name) => Some(reg.resolve_sub(&resolved, name)?.leaf()),
        None => resolved.sub,
    };
    resolved.sub = None;
    if path.filter.is_some() && !(resolved.attr.multi_valued && resolved.attr.is_complex()) {
        return Err(ScimError::invalid_path(format!(
            "\"{path}\": a value filter needs a multi-valued complex attribute"
        )));
    }
    Ok(Target::Attr {
        resolved,
        filter: path.filter.as_ref(),
        sub,
    })
}

/// Applies one operation to `doc`.
pub(super) fn apply_op(
    reg: &Registry,
    rt: &ResourceType,
    doc: &mut Value,
    op: &PatchOp,
    len: Leniency,
) -> Result<()> {
    each_target(reg, rt, op, len, |t, value| {
        apply_target(reg, rt, doc, op.op, t, value, len)
    })
}

/// Calls `each` with every target an operation writes and the value it
/// writes there, in order; an error of `each` for a key of a no-path value
/// is named by that key. With a path: its one target (readOnly is an
/// error). Without (RFC 7644 §3.5.2.1): the value is an object of
/// attributes whose keys may themselves be paths (Entra ID:
/// "name.givenName", "urn:…:enterprise:2.0:User:manager"); readOnly ones
/// are ignored, as in PUT, and so are unknown ones unless refused.
pub(super) fn each_target(
    reg: &Registry,
    rt: &ResourceType,
    op: &PatchOp,
    len: Leniency,
    mut each: impl FnMut(Target<'_>, Option<&Value>) -> Result<()>,
) -> Result<()> {
    let Some(path) = &op.path else {
        let fields = op.value.as_ref().and_then(Value::as_object);
        for (key, value) in fields.into_iter().flatten() {
            let Some(path) = value_key(rt, key, len)? else {
                continue;
            };
            let t = match target(reg, rt, &path) {
                Ok(t) => t,
                Err(e) if len.reject_unknown => return Err(e.at(format_args!("\"{key}\""))),
                Err(_) => continue,
            };
            if let Target::Attr { resolved, sub, .. } = &t
                && leaf_mutability(resolved, *sub) == Mutability::ReadOnly
            {
                continue;
            }
            each(t, Some(value)).map_err(|e| e.at(format_args!("\"{key}\"")))?;
        }
        return Ok(());
    };
    let t = target(reg, rt, path)?;
    if let Target::Attr { resolved, sub, .. } = &t
        && leaf_mutability(resolved, *sub) == Mutability::ReadOnly
    {
        return Err(ScimError::mutability(format!("\"{path}\" is readOnly")));
    }
    each(t, op.value.as_ref())
}

/// The path a key of a no-path value object stands for; `None` for one
/// to skip (`schemas`, or no path at all, unless unknown names are
/// refused). A name under the URN of a schema the resource type does not
/// have is an error: an extension nobody registered, whose data would be
/// lost without anyone noticing.
pub(super) fn value_key(rt: &ResourceType, key: &str, len: Leniency) -> Result<Option<PatchPath>> {
    if key.eq_ignore_ascii_case("schemas") {
        return Ok(None);
    }
    if is_urn(key) && !rt.owns_urn(key) {
        return Err(ScimError::invalid_path(format!(
            "\"{key}\" is in no schema of resource type {}, which has {}; \
             register the extension or stop sending it",
            rt.name,
            rt.schema_list()
        )));
    }
    match PatchPath::parse(key) {
        Ok(p) => Ok(Some(p)),
        Err(e) if len.reject_unknown => Err(e.at(format_args!("\"{key}\""))),
        Err(_) => Ok(None),
    }
}

pub(super) fn leaf_mutability(resolved: &Resolved<'_>, sub: Option<&Attribute>) -> Mutability {
    match (resolved.attr.mutability, sub) {
        (Mutability::ReadOnly, _) => Mutability::ReadOnly,
        (_, Some(s)) => s.mutability,
        (m, None) => m,
    }
}

fn apply_target(
    reg: &Registry,
    rt: &ResourceType,
    doc: &mut Value,
    op: OpKind,
    t: Target<'_>,
    value: Option<&Value>,
    len: Leniency,
) -> Result<()> {
    match t {
        Target::Extension(schema) => apply_extension(reg, rt, doc, op, schema, value, len),
        Target::Attr {
            resolved,
            filter,
            sub,
        } => {
            let Some(container) = resolved.container_mut(doc, op != OpKind::Remove) else {
                return match op {
                    OpKind::Remove => Ok(()),
                    _ => Err(ScimError::invalid_syntax(
                        "the resource is not a JSON object",
                    )),
                };
            };
            let attr = resolved.attr;
            let current = take(container, &attr.name);
            let ctx = Ctx {
                reg,
                rt,
                resolved: &resolved,
                len,
            };
            let new = match filter {
                None => unfiltered_value(op, attr, current, sub, value, len)?,
                Some(f) => ctx.filtered(op, current, f, sub, value)?,
            };
            if let Some(v) = new {
                container.insert(attr.name.clone(), v);
            }
            Ok(())
        }
    }
}

fn apply_extension(
    reg: &Registry,
    rt: &ResourceType,
    doc: &mut Value,
    op: OpKind,
    schema: &Schema,
    value: Option<&Value>,
    len: Leniency,
) -> Result<()> {
    let Some(obj) = doc.as_object_mut() else {
        return Err(ScimError::invalid_syntax(
            "the resource is not a JSON object",
        ));
    };
    if op == OpKind::Remove {
        take(obj, &schema.id);
        return Ok(());
    }
    let fields = match value {
        Some(Value::Object(f)) => f,
        other => {
            return Err(ScimError::invalid_value(format!(
                "the value for {} must be an object of its attributes, found {}",
                schema.id,
                other.map(describe).unwrap_or("nothing")
            )));
        }
    };
    for (key, v) in fields {
        let Some(attr) = schema.attribute(key) else {
            if len.reject_unknown {
                return Err(ScimError::invalid_path(format!(
                    "\"{key}\" is not an attribute of {}",
                    schema.id
                )));
            }
            continue;
        };
        if attr.mutability == Mutability::ReadOnly {
            continue;
        }
        let t = Target::Attr {
            resolved: Resolved {
                extension: Some(schema.id.as_str()),
                attr,
                sub: None,
            },
            filter: None,
            sub: None,
        };
        apply_target(reg, rt, doc, op, t, Some(v), len)?;
    }
    Ok(())
}

pub(super) fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        take(into, k);
        into.insert(k.clone(), v.clone());
    }
}

/// Removes a key, matched case-insensitively.
pub(super) fn take(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let k = key_ci(obj, key)?;
    obj.shift_remove(&k)
}
