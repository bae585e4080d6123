//! Applying PATCH operations to a canonical resource (RFC 7644 §3.5.2).

use serde_json::{Map, Value};

use super::path::PatchPath;
use super::request::{OpKind, PatchOp};
use crate::error::{Result, ScimError};
use crate::filter::{self, CompValue, CompareOp, Filter};
use crate::registry::{Registry, Resolved, ResourceType, get_ci, key_ci};
use crate::resource::{Leniency, describe, normalize_single, normalize_value};
use crate::schema::{Attribute, Mutability, Schema};

/// What a path points at, resolved against the schemas.
enum Target<'r> {
    /// A whole extension object (`urn:…:enterprise:2.0:User`).
    Extension(&'r Schema),
    Attr {
        resolved: Resolved<'r>,
        filter: Option<&'r Filter>,
        /// The sub-attribute the path ends at.
        sub: Option<&'r Attribute>,
    },
}

fn target<'r>(reg: &'r Registry, rt: &'r ResourceType, path: &'r PatchPath) -> Result<Target<'r>> {
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
    let Some(path) = &op.path else {
        // No path: the value is an object of attributes (RFC 7644 §3.5.2.1),
        // whose keys may themselves be paths (Entra ID: "name.givenName",
        // "urn:…:enterprise:2.0:User:manager").
        let fields = op.value.as_ref().and_then(Value::as_object);
        for (key, value) in fields.into_iter().flatten() {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let path = match PatchPath::parse(key) {
                Ok(p) => p,
                Err(e) if len.reject_unknown => return Err(e.at(format_args!("\"{key}\""))),
                Err(_) => continue,
            };
            let t = match target(reg, rt, &path) {
                Ok(t) => t,
                Err(e) if len.reject_unknown => return Err(e.at(format_args!("\"{key}\""))),
                Err(_) => continue,
            };
            match t {
                Target::Attr { resolved, sub, .. }
                    if leaf_mutability(&resolved, sub) == Mutability::ReadOnly =>
                {
                    // As in PUT, readOnly attributes in a value object are ignored.
                }
                t => apply_target(reg, rt, doc, op.op, t, Some(value), len)
                    .map_err(|e| e.at(format_args!("\"{key}\"")))?,
            }
        }
        return Ok(());
    };
    let t = target(reg, rt, path)?;
    if let Target::Attr { resolved, sub, .. } = &t
        && leaf_mutability(resolved, *sub) == Mutability::ReadOnly
    {
        return Err(ScimError::mutability(format!("\"{path}\" is readOnly")));
    }
    apply_target(reg, rt, doc, op.op, t, op.value.as_ref(), len)
}

fn leaf_mutability(resolved: &Resolved<'_>, sub: Option<&Attribute>) -> Mutability {
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
                None => ctx.unfiltered(op, current, sub, value)?,
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

struct Ctx<'a, 'r> {
    reg: &'a Registry,
    rt: &'a ResourceType,
    resolved: &'a Resolved<'r>,
    len: Leniency,
}

impl Ctx<'_, '_> {
    fn unfiltered(
        &self,
        op: OpKind,
        current: Option<Value>,
        sub: Option<&Attribute>,
        value: Option<&Value>,
    ) -> Result<Option<Value>> {
        unfiltered_value(op, self.resolved.attr, current, sub, value, self.len)
    }

    fn filtered(
        &self,
        op: OpKind,
        current: Option<Value>,
        f: &Filter,
        sub: Option<&Attribute>,
        value: Option<&Value>,
    ) -> Result<Option<Value>> {
        let attr = self.resolved.attr;
        let mut items = match current {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
        };
        let mut hits = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if filter::matches_element(self.reg, self.rt, self.resolved, item, f)? {
                hits.push(i);
            }
        }
        let at = format!("{}[{f}]", self.resolved.canonical());
        match (op, sub) {
            (OpKind::Remove, None) => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hits.contains(&(i - 1))
                });
            }
            (OpKind::Remove, Some(sub)) => {
                for &i in &hits {
                    if let Some(obj) = items[i].as_object_mut() {
                        take(obj, &sub.name);
                    }
                }
            }
            (OpKind::Replace, _) if hits.is_empty() => {
                return Err(ScimError::no_target(format!("{at} matches no value")));
            }
            (_, Some(sub)) => {
                let v = normalize_value(
                    sub,
                    Some(attr),
                    value.unwrap_or(&Value::Null),
                    &format!("{at}.{}", sub.name),
                    self.len,
                )?;
                if hits.is_empty() {
                    // add with a filter that matches nothing: create the value
                    // the filter describes (Entra ID's `emails[type eq "work"].value`).
                    let mut obj = synthesize(attr, f, &at)?;
                    if let Some(v) = v {
                        obj.insert(sub.name.clone(), v);
                    }
                    hits.push(items.len());
                    items.push(Value::Object(obj));
                } else {
                    for &i in &hits {
                        if let Some(obj) = items[i].as_object_mut() {
                            take(obj, &sub.name);
                            if let Some(v) = &v {
                                obj.insert(sub.name.clone(), v.clone());
                            }
                        }
                    }
                }
            }
            (op, None) => {
                let v = normalize_single(attr, None, value.unwrap_or(&Value::Null), &at, self.len)?;
                let Some(Value::Object(new)) = v else {
                    return Err(ScimError::invalid_value(format!(
                        "{at}: needs a complex value"
                    )));
                };
                if hits.is_empty() {
                    let mut obj = synthesize(attr, f, &at)?;
                    obj.extend(new);
                    hits.push(items.len());
                    items.push(Value::Object(obj));
                } else {
                    for &i in &hits {
                        match (op, items[i].as_object_mut()) {
                            (OpKind::Add, Some(obj)) => merge(obj, &new),
                            _ => items[i] = Value::Object(new.clone()),
                        }
                    }
                }
            }
        }
        demote_other_primaries(&mut items, &hits);
        Ok((!items.is_empty()).then_some(Value::Array(items)))
    }
}

/// The value an unfiltered add/replace/remove leaves behind.
fn unfiltered_value(
    op: OpKind,
    attr: &Attribute,
    current: Option<Value>,
    sub: Option<&Attribute>,
    value: Option<&Value>,
    len: Leniency,
) -> Result<Option<Value>> {
    let raw = value.unwrap_or(&Value::Null);
    if let Some(sub) = sub {
        let at = format!("{}.{}", attr.name, sub.name);
        if attr.multi_valued {
            // `emails.type` with no filter: only a remove is unambiguous.
            if op != OpKind::Remove {
                return Err(ScimError::invalid_path(format!(
                    "\"{at}\": say which values with a filter, e.g. {}[type eq \"work\"].{}",
                    attr.name, sub.name
                )));
            }
            let mut items = match current {
                Some(Value::Array(items)) => items,
                other => return Ok(other),
            };
            for item in &mut items {
                if let Some(obj) = item.as_object_mut() {
                    take(obj, &sub.name);
                }
            }
            return Ok(Some(Value::Array(items)));
        }
        let mut obj = match current {
            Some(Value::Object(obj)) => obj,
            _ => Map::new(),
        };
        take(&mut obj, &sub.name);
        if op != OpKind::Remove
            && let Some(v) = normalize_value(sub, Some(attr), raw, &at, len)?
        {
            obj.insert(sub.name.clone(), v);
        }
        return Ok((!obj.is_empty()).then_some(Value::Object(obj)));
    }
    match op {
        OpKind::Remove if attr.multi_valued && !raw.is_null() => {
            // Entra ID and Okta remove members by listing them as the value
            // of `path: "members"`: remove just those.
            let mut items = match current {
                Some(Value::Array(items)) => items,
                other => return Ok(other),
            };
            let gone = match raw {
                Value::Array(list) => list.iter().collect::<Vec<_>>(),
                one => vec![one],
            };
            items.retain(|item| !gone.iter().any(|g| same_value(attr, item, g)));
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        OpKind::Remove => Ok(None),
        _ => {
            // A manager (or any complex value with a `value`) given as a bare id.
            let wrapped;
            let raw = match raw {
                Value::String(s)
                    if attr.is_complex() && !attr.multi_valued && attr.sub("value").is_some() =>
                {
                    wrapped = Value::Object(Map::from_iter([(
                        "value".to_string(),
                        Value::String(s.clone()),
                    )]));
                    &wrapped
                }
                other => other,
            };
            let new = normalize_value(attr, None, raw, &attr.name, len)?;
            Ok(match (op, new, current) {
                (OpKind::Add, None, current) => current,
                (_, None, _) => None,
                (OpKind::Add, Some(Value::Array(new)), Some(Value::Array(mut items))) => {
                    let start = items.len();
                    for v in new {
                        if !items.iter().any(|i| crate::value::equals(attr, i, &v)) {
                            items.push(v);
                        }
                    }
                    let added: Vec<usize> = (start..items.len()).collect();
                    demote_other_primaries(&mut items, &added);
                    Some(Value::Array(items))
                }
                (_, Some(Value::Object(new)), Some(Value::Object(mut obj)))
                    if !attr.multi_valued && !is_new_reference(attr, &new) =>
                {
                    // Complex singular: given sub-attributes replace, the rest
                    // stay (RFC 7644 §3.5.2.1 and §3.5.2.3).
                    merge(&mut obj, &new);
                    Some(Value::Object(obj))
                }
                (_, Some(new), _) => Some(new),
            })
        }
    }
}

/// A reference (`manager`) given a new `value` is a different reference: its
/// old `$ref` and display name must not survive a merge.
fn is_new_reference(attr: &Attribute, new: &Map<String, Value>) -> bool {
    attr.sub("$ref").is_some() && new.contains_key("value")
}

/// Whether `item` is the value `given` names: by `value` when the
/// attribute has one (a member is its id; Entra ID may send the bare id),
/// otherwise by equality.
fn same_value(attr: &Attribute, item: &Value, given: &Value) -> bool {
    if let Some(sub) = attr.sub("value") {
        let wanted = match given {
            Value::Object(obj) => get_ci(obj, "value"),
            other => Some(other),
        };
        if let (Some(have), Some(wanted)) = (item.get("value"), wanted) {
            return crate::value::equals(sub, have, wanted);
        }
    }
    crate::value::equals(attr, item, given)
}

/// The value a filter of `eq` comparisons joined by `and` describes, for an
/// add whose filter matched nothing.
fn synthesize(attr: &Attribute, f: &Filter, at: &str) -> Result<Map<String, Value>> {
    let mut obj = Map::new();
    let mut stack = vec![f];
    while let Some(f) = stack.pop() {
        match f {
            Filter::And(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Filter::Compare(p, CompareOp::Eq, v) if p.uri.is_none() && p.sub_attr.is_none() => {
                let sub = attr.sub(&p.attr).ok_or_else(|| {
                    ScimError::no_target(format!("{at}: no sub-attribute \"{}\"", p.attr))
                })?;
                let json = match v {
                    CompValue::Null => continue,
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Str(s) => Value::String(s.clone()),
                };
                obj.insert(sub.name.clone(), json);
            }
            _ => {
                return Err(ScimError::no_target(format!(
                    "{at} matches no value, and only a filter of \"eq\" comparisons joined by \"and\" describes one to add"
                )));
            }
        }
    }
    Ok(obj)
}

/// RFC 7644 §3.5.2: setting `primary` true on one value sets it false on
/// the others.
fn demote_other_primaries(items: &mut [Value], touched: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let Some(&keep) = touched
        .iter()
        .rev()
        .find(|&&i| items.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(obj) = item.as_object_mut()
        {
            obj.insert("primary".into(), Value::Bool(false));
        }
    }
}

fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        take(into, k);
        into.insert(k.clone(), v.clone());
    }
}

/// Removes a key, matched case-insensitively.
fn take(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let k = key_ci(obj, key)?;
    obj.shift_remove(&k)
}
