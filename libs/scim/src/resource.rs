//! Resources as clients send them: checked against their schemas and brought
//! into canonical form (RFC 7643 §2–§4, RFC 7644 §3.3, §3.5.1).
//!
//! Canonical form: core and common attributes at the top level under their
//! schema spelling, extension attributes inside an object keyed by the
//! extension URN, `schemas` listing the core schema and the extensions
//! present, readOnly attributes (`id`, `meta`, `groups`) left out — the
//! store sets those.

mod coerce;

use serde_json::{Map, Value};

pub use coerce::{Leniency, describe, normalize_single, normalize_value};

use crate::error::{Result, ScimError};
use crate::path::{AttrPath, is_urn};
use crate::registry::{Registry, Resolved, ResourceType, get_ci};
use crate::schema::{Attribute, Mutability};

/// What the resource is for: a create (POST) or a replacement (PUT) of an
/// existing resource, whose immutable attributes must not change.
#[derive(Debug, Clone, Copy)]
pub enum Intent<'a> {
    Create,
    Replace {
        existing: &'a Value,
    },
    /// A replacement checked where the stored resource is not at hand (the
    /// ingress, before it sends the write): everything is checked but what
    /// depends on the stored resource — an immutable attribute may be left
    /// out, as the stored value then stays.
    ReplaceUnseen,
}

/// Checks and normalises a resource body for `rt`.
pub fn normalize(
    registry: &Registry,
    rt: &ResourceType,
    input: &Value,
    intent: Intent<'_>,
    leniency: Leniency,
) -> Result<Value> {
    let obj = input.as_object().ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "the request body must be a JSON object, found {}",
            describe(input)
        ))
    })?;
    let has_schemas = check_schemas(rt, obj)?;
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if is_urn(key) {
            if let Some(ext) = rt.extension(key) {
                normalize_extension(registry, &ext.schema, key, value, &mut out, leniency)?;
                continue;
            }
            if !rt.owns_urn(key) {
                return Err(unregistered(rt, key));
            }
        }
        let resolved = match AttrPath::parse(key).and_then(|p| {
            if p.sub_attr.is_some() {
                // `name.givenName` as a top-level key is not a resource shape.
                return Err(ScimError::invalid_path(key.clone()));
            }
            registry.resolve(rt, &p)
        }) {
            Ok(r) => r,
            Err(_) if !leniency.reject_unknown => continue,
            Err(_) => {
                return Err(ScimError::invalid_syntax(format!(
                    "\"{key}\" is not an attribute of resource type {}",
                    rt.name
                )));
            }
        };
        insert(&resolved, value, &mut out, leniency)?;
    }
    if let Intent::Replace { existing } = intent {
        keep_immutable(registry, rt, existing, &mut out)?;
    }
    let unseen = matches!(intent, Intent::ReplaceUnseen);
    check_required(registry, rt, &out, unseen)?;
    if !has_schemas {
        // Reported after the resource's own attributes: it is one more
        // required attribute.
        return Err(ScimError::invalid_value(format!(
            "\"schemas\" is required (RFC 7643 §3): list {} and the extensions the {} uses",
            rt.schema, rt.name
        )));
    }
    out.insert("schemas".into(), schemas_for(registry, rt, &out));
    Ok(Value::Object(reorder(out)))
}

/// RFC 7643 §3: `schemas` lists the core schema and extensions of the
/// resource type, and nothing else. Whether it is there at all.
fn check_schemas(rt: &ResourceType, obj: &Map<String, Value>) -> Result<bool> {
    let Some(schemas) = get_ci(obj, "schemas") else {
        return Ok(false);
    };
    let list = schemas
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must be a list of schema URIs"))?;
    let mut has_core = false;
    for s in list {
        let s = s
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must contain only strings"))?;
        if !rt.has_schema(s) {
            return Err(ScimError::invalid_value(format!(
                "\"schemas\": {s} is not a schema of resource type {}, which has {}",
                rt.name,
                rt.schema_list()
            )));
        }
        has_core |= s.eq_ignore_ascii_case(&rt.schema);
    }
    if !has_core {
        return Err(ScimError::invalid_value(format!(
            "\"schemas\" must include {} for a {} resource",
            rt.schema, rt.name
        )));
    }
    Ok(true)
}

/// A member named by the URN of a schema the resource type does not have:
/// an extension the client's administrator mapped but nobody registered
/// here. Dropping it would lose data without anyone noticing.
fn unregistered(rt: &ResourceType, key: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "\"{key}\" is in no schema of resource type {}, which has {}; \
         register the extension or stop sending it",
        rt.name,
        rt.schema_list()
    ))
}

fn normalize_extension(
    registry: &Registry,
    urn: &str,
    key: &str,
    value: &Value,
    out: &mut Map<String, Value>,
    leniency: Leniency,
) -> Result<()> {
    let schema = registry
        .schema(urn)
        .ok_or_else(|| ScimError::internal(format!("extension {urn} is not loaded")))?;
    let fields = match value {
        Value::Null => return Ok(()),
        Value::Object(fields) => fields,
        other => {
            return Err(ScimError::invalid_syntax(format!(
                "\"{key}\" must be an object of extension attributes, found {}",
                describe(other)
            )));
        }
    };
    for (name, v) in fields {
        let Some(attr) = schema.attribute(name) else {
            if leniency.reject_unknown {
                return Err(ScimError::invalid_syntax(format!(
                    "\"{name}\" is not an attribute of {}",
                    schema.id
                )));
            }
            continue;
        };
        let resolved = Resolved {
            extension: Some(schema.id.as_str()),
            attr,
            sub: None,
        };
        insert(&resolved, v, out, leniency)?;
    }
    Ok(())
}

/// Puts the normalised value of a resolved attribute into the output, in its
/// container; readOnly attributes are ignored (RFC 7644 §3.5.1).
fn insert(
    resolved: &Resolved<'_>,
    value: &Value,
    out: &mut Map<String, Value>,
    leniency: Leniency,
) -> Result<()> {
    let attr = resolved.attr;
    if attr.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    let at = resolved.canonical();
    let Some(v) = normalize_value(attr, None, value, &at, leniency)? else {
        return Ok(());
    };
    let container = match resolved.extension {
        None => &mut *out,
        Some(urn) => out
            .entry(urn.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| ScimError::internal("extension container is not an object"))?,
    };
    if container.insert(attr.name.clone(), v).is_some() {
        return Err(ScimError::invalid_syntax(format!(
            "\"{at}\" is given twice"
        )));
    }
    Ok(())
}

/// RFC 7644 §3.5.1: an immutable attribute that already has a value must
/// keep it; left out of a PUT, it keeps its stored value.
fn keep_immutable(
    registry: &Registry,
    rt: &ResourceType,
    existing: &Value,
    out: &mut Map<String, Value>,
) -> Result<()> {
    let mut containers: Vec<(Option<&str>, &[Attribute])> = Vec::new();
    if let Some(core) = registry.core_schema(rt) {
        containers.push((None, &core.attributes));
    }
    for (_, s) in registry.extension_schemas(rt) {
        containers.push((Some(s.id.as_str()), &s.attributes));
    }
    for (extension, attrs) in containers {
        for attr in attrs
            .iter()
            .filter(|a| a.mutability == Mutability::Immutable)
        {
            let resolved = Resolved {
                extension,
                attr,
                sub: None,
            };
            let Some(old) = resolved.value(existing) else {
                continue;
            };
            let holder = match extension {
                None => &mut *out,
                Some(urn) => match out
                    .entry(urn.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                {
                    Some(m) => m,
                    None => continue,
                },
            };
            match holder.get(&attr.name) {
                None => {
                    holder.insert(attr.name.clone(), old.clone());
                }
                Some(new) if !crate::value::equals(attr, old, new) => {
                    return Err(ScimError::mutability(format!(
                        "\"{}\" is immutable and already set",
                        resolved.canonical()
                    )));
                }
                Some(_) => {}
            }
        }
    }
    out.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
    Ok(())
}

/// Required attributes are present; with `unseen` (a PUT checked without
/// the stored resource) immutable ones may be missing.
fn check_required(
    registry: &Registry,
    rt: &ResourceType,
    out: &Map<String, Value>,
    unseen: bool,
) -> Result<()> {
    let missing = |extension: Option<&str>, attrs: &[Attribute]| -> Result<()> {
        let container = match extension {
            None => Some(out),
            Some(urn) => out.get(urn).and_then(Value::as_object),
        };
        for a in attrs.iter().filter(|a| {
            a.required
                && a.mutability != Mutability::ReadOnly
                && !(unseen && a.mutability == Mutability::Immutable)
        }) {
            let present = container
                .and_then(|c| c.get(&a.name))
                .is_some_and(|v| match v {
                    Value::String(s) => !s.trim().is_empty(),
                    _ => true,
                });
            if !present {
                return Err(ScimError::invalid_value(format!(
                    "\"{}\" is required and must not be empty",
                    a.name
                )));
            }
        }
        Ok(())
    };
    if let Some(core) = registry.core_schema(rt) {
        missing(None, &core.attributes)?;
    }
    for (ext, schema) in registry.extension_schemas(rt) {
        let present = out.contains_key(&schema.id);
        if ext.required && !present && !unseen {
            return Err(ScimError::invalid_value(format!(
                "the extension {} is required for {} resources",
                schema.id, rt.name
            )));
        }
        if present {
            missing(Some(schema.id.as_str()), &schema.attributes)?;
        }
    }
    Ok(())
}

/// `schemas` as it should be: the core schema and each extension present.
pub fn schemas_for(registry: &Registry, rt: &ResourceType, out: &Map<String, Value>) -> Value {
    let mut list = vec![Value::String(rt.schema.clone())];
    for (_, s) in registry.extension_schemas(rt) {
        if out
            .get(&s.id)
            .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            list.push(Value::String(s.id.clone()));
        }
    }
    Value::Array(list)
}

/// `schemas` first, then `id`, `externalId`, the rest in input order, and
/// extension objects last: easier to read, same JSON.
fn reorder(mut out: Map<String, Value>) -> Map<String, Value> {
    let mut sorted = Map::with_capacity(out.len());
    for key in ["schemas", "id", "externalId", "meta"] {
        if let Some(v) = out.shift_remove(key) {
            sorted.insert(key.into(), v);
        }
    }
    let (ext, core): (Vec<_>, Vec<_>) = out.into_iter().partition(|(k, _)| is_urn(k));
    sorted.extend(core);
    sorted.extend(ext);
    sorted
}
