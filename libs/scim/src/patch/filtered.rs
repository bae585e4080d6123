//! Operations whose path has a value filter (`emails[type eq "work"].value`).

use serde_json::{Map, Value};

use super::apply::{merge, take};
use super::request::OpKind;
use crate::error::{Result, ScimError};
use crate::filter::{self, CompValue, CompareOp, Filter};
use crate::registry::{Registry, Resolved, ResourceType};
use crate::resource::{Leniency, normalize_single, normalize_value};
use crate::schema::Attribute;

pub(super) struct Ctx<'a, 'r> {
    pub reg: &'a Registry,
    pub rt: &'a ResourceType,
    pub resolved: &'a Resolved<'r>,
    pub len: Leniency,
}

impl Ctx<'_, '_> {
    pub(super) fn filtered(
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
pub(super) fn demote_other_primaries(items: &mut [Value], touched: &[usize]) {
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
