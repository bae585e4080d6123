//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) and the
//! `returned` characteristic (RFC 7643 §7), applied to canonical resource
//! JSON: core and common attributes at the top level, extension attributes
//! inside an object keyed by the extension URN.
//!
//! Decisions the RFCs leave open:
//! - Unknown attribute names are ignored, not rejected. Clients such as Entra
//!   ID ask for attributes of schemas they assume every server has, and a 400
//!   would fail the whole read for an attribute that is simply not there. A
//!   name that is not even a valid path is still a 400 `invalidValue`.
//! - The two parameters are mutually exclusive (§3.4.2.5). When both are
//!   given, `attributes` wins and `excludedAttributes` is ignored: it is the
//!   more precise request, and answering beats refusing.
//! - Naming a whole extension (`urn:…:enterprise:2.0:User`) names every
//!   attribute in it, `returned: request` ones included.

use serde_json::{Map, Value};

use crate::error::{Result, ScimError};
use crate::path::AttrPath;
use crate::registry::{Registry, ResourceType};
use crate::schema::{self, Attribute, Returned};

/// One name from `attributes` or `excludedAttributes`, resolved to canonical
/// spelling: an attribute, a sub-attribute, or (`attr: None`) a whole
/// extension.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selector {
    extension: Option<String>,
    attr: Option<String>,
    sub: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Mode {
    /// No parameter: `returned: default` and `always` attributes.
    #[default]
    Default,
    /// `attributes`: `always` attributes plus the named ones.
    Include(Vec<Selector>),
    /// `excludedAttributes`: the default set minus the named ones.
    Exclude(Vec<Selector>),
    /// Everything except `returned: never` (see [`strip_never`]).
    StripNever,
}

/// Which sub-attributes of a kept complex attribute stay.
#[derive(Debug)]
enum Subs {
    /// All of them; `request` ones only if the attribute was named.
    All { request: bool },
    /// Only these (and `always` ones).
    Only(Vec<String>),
    /// All but these (and but `request` ones).
    Without(Vec<String>),
}

/// The attribute selection of one request. `Projection::default()` is a
/// request without either parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    mode: Mode,
}

impl Projection {
    /// Builds the projection from the raw, comma-separated query values.
    /// Empty values count as absent.
    pub fn parse(
        registry: &Registry,
        rt: &ResourceType,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection> {
        fn present(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.trim().is_empty())
        }
        let mode = match (present(attributes), present(excluded)) {
            (Some(list), _) => Mode::Include(selectors(registry, rt, list, "attributes")?),
            (None, Some(list)) => {
                Mode::Exclude(selectors(registry, rt, list, "excludedAttributes")?)
            }
            (None, None) => Mode::Default,
        };
        Ok(Projection { mode })
    }

    /// Whether the response will contain (at least part of) the attribute at
    /// `path`, so a store can skip loading what is not wanted (e.g. `members`
    /// under `excludedAttributes=members`). Unknown paths are not wanted.
    pub fn wants(&self, registry: &Registry, rt: &ResourceType, path: &AttrPath) -> bool {
        if let Some(schema) = registry.whole_extension(rt, path) {
            let ext = Some(schema.id.as_str());
            return schema
                .attributes
                .iter()
                .any(|a| self.subs(ext, a).is_some());
        }
        let Ok(res) = registry.resolve(rt, path) else {
            return false;
        };
        match (self.subs(res.extension, res.attr), res.sub) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(subs), Some(sub)) => subs.keeps(sub.returned, &sub.name),
        }
    }

    /// Applies the projection to a resource in canonical form, in place:
    /// what is kept is not copied, what is left out is dropped (attribute
    /// order kept). Extension objects left empty are dropped, and their URNs
    /// removed from `schemas`.
    pub fn project(&self, registry: &Registry, rt: &ResourceType, mut resource: Value) -> Value {
        let Some(obj) = resource.as_object_mut() else {
            return resource;
        };
        let mut dropped: Vec<String> = Vec::new();
        obj.retain(|key, value| {
            if key.eq_ignore_ascii_case("schemas") {
                return true;
            }
            if let Some(ext) = rt.extension(key) {
                return match (registry.schema(&ext.schema), value.as_object_mut()) {
                    (Some(schema), Some(inner)) => {
                        self.container(Some(&schema.id), &schema.attributes, inner);
                        if inner.is_empty() {
                            dropped.push(key.clone());
                        }
                        !inner.is_empty()
                    }
                    _ => self.keeps_unknown(),
                };
            }
            match core_attribute(registry, rt, key) {
                Some(attr) => self.attribute(None, attr, value),
                None => self.keeps_unknown(),
            }
        });
        if !dropped.is_empty() {
            remove_schema_urns(obj, &dropped);
        }
        resource
    }

    /// Keeps the attributes of one container (the resource or an extension
    /// object) that the projection selects, and drops the others.
    fn container(&self, ext: Option<&str>, attrs: &[Attribute], obj: &mut Map<String, Value>) {
        obj.retain(|key, value| match schema::find(attrs, key) {
            Some(attr) => self.attribute(ext, attr, value),
            None => self.keeps_unknown(),
        });
    }

    /// Projects one attribute's value in place; `false` if it is left out.
    fn attribute(&self, ext: Option<&str>, attr: &Attribute, value: &mut Value) -> bool {
        let Some(subs) = self.subs(ext, attr) else {
            return false;
        };
        if !attr.is_complex() {
            return true;
        }
        match value {
            Value::Object(obj) => {
                subs.filter(attr, obj);
                !obj.is_empty()
            }
            Value::Array(items) => {
                items.retain_mut(|item| match item {
                    Value::Object(obj) => {
                        subs.filter(attr, obj);
                        !obj.is_empty()
                    }
                    _ => true,
                });
                !items.is_empty()
            }
            _ => true,
        }
    }

    /// Whether the attribute is returned at all and, if so, which of its
    /// sub-attributes. `returned: always` wins over both parameters
    /// (RFC 7644 §3.9: `excludedAttributes` "SHALL have no effect" on it),
    /// and `never` over everything.
    fn subs(&self, ext: Option<&str>, attr: &Attribute) -> Option<Subs> {
        let chosen = match (&self.mode, attr.returned) {
            (_, Returned::Never) => return None,
            (Mode::StripNever, _) => Some(Subs::All { request: true }),
            (Mode::Default, Returned::Request) | (Mode::Exclude(_), Returned::Request) => None,
            (Mode::Default, _) => Some(Subs::All { request: false }),
            (Mode::Include(sels), _) => {
                let named_subs = named_subs(sels, ext, attr);
                if names_whole(sels, ext, attr) {
                    Some(Subs::All { request: true })
                } else if named_subs.is_empty() {
                    None
                } else {
                    Some(Subs::Only(named_subs))
                }
            }
            (Mode::Exclude(sels), _) => {
                if names_whole(sels, ext, attr) {
                    None
                } else {
                    Some(Subs::Without(named_subs(sels, ext, attr)))
                }
            }
        };
        match chosen {
            None if attr.returned == Returned::Always => Some(Subs::All { request: false }),
            other => other,
        }
    }

    /// Attributes the schema does not know: kept unless the client asked for
    /// a specific set.
    fn keeps_unknown(&self) -> bool {
        !matches!(self.mode, Mode::Include(_))
    }
}

impl Subs {
    fn keeps(&self, returned: Returned, name: &str) -> bool {
        let listed = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        match (returned, self) {
            (Returned::Never, _) => false,
            (Returned::Always, _) => true,
            (Returned::Request, Subs::All { request }) => *request,
            (Returned::Request, Subs::Without(_)) => false,
            (_, Subs::All { .. }) => true,
            (_, Subs::Only(names)) => listed(names),
            (_, Subs::Without(names)) => !listed(names),
        }
    }

    /// Drops the sub-attributes of `obj` that are not kept.
    fn filter(&self, attr: &Attribute, obj: &mut Map<String, Value>) {
        obj.retain(|key, _| match attr.sub(key) {
            Some(sub) => self.keeps(sub.returned, &sub.name),
            // Not in the schema: only a named sub-attribute list drops it.
            None => !matches!(self, Subs::Only(_)),
        });
    }
}

/// Removes `returned: never` attributes (`password`) and nothing else: for
/// responses to writes, which carry no projection but must not echo secrets.
/// `returned: request` attributes stay; the caller decides which the client
/// "specified" (RFC 7643 §7).
pub fn strip_never(registry: &Registry, rt: &ResourceType, resource: Value) -> Value {
    Projection {
        mode: Mode::StripNever,
    }
    .project(registry, rt, resource)
}

fn selectors(
    registry: &Registry,
    rt: &ResourceType,
    list: &str,
    param: &str,
) -> Result<Vec<Selector>> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let path = AttrPath::parse(name)
            .map_err(|e| ScimError::invalid_value(format!("{param}: {}", e.detail)))?;
        if let Some(schema) = registry.whole_extension(rt, &path) {
            out.push(Selector {
                extension: Some(schema.id.clone()),
                attr: None,
                sub: None,
            });
        } else if let Ok(res) = registry.resolve(rt, &path) {
            out.push(Selector {
                extension: res.extension.map(str::to_string),
                attr: Some(res.attr.name.clone()),
                sub: res.sub.map(|s| s.name.clone()),
            });
        }
        // Unknown names are ignored (see the module docs).
    }
    Ok(out)
}

fn same_scope(sel: &Selector, ext: Option<&str>) -> bool {
    match (sel.extension.as_deref(), ext) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Whether the selectors name the attribute itself or its whole extension.
fn names_whole(sels: &[Selector], ext: Option<&str>, attr: &Attribute) -> bool {
    sels.iter().any(|s| {
        same_scope(s, ext)
            && s.sub.is_none()
            && s.attr
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(&attr.name))
    })
}

/// The sub-attributes of `attr` the selectors name.
fn named_subs(sels: &[Selector], ext: Option<&str>, attr: &Attribute) -> Vec<String> {
    sels.iter()
        .filter(|s| {
            same_scope(s, ext)
                && s.attr
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&attr.name))
        })
        .filter_map(|s| s.sub.clone())
        .collect()
}

/// A top-level attribute: common (`id`, `meta` …) or of the core schema.
fn core_attribute<'r>(
    registry: &'r Registry,
    rt: &ResourceType,
    key: &str,
) -> Option<&'r Attribute> {
    registry
        .common()
        .attribute(key)
        .or_else(|| registry.core_schema(rt)?.attribute(key))
}

fn remove_schema_urns(out: &mut Map<String, Value>, dropped: &[String]) {
    let schemas = out
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array_mut());
    if let Some(list) = schemas {
        list.retain(|urn| {
            !urn.as_str()
                .is_some_and(|u| dropped.iter().any(|d| d.eq_ignore_ascii_case(u)))
        });
    }
}

#[cfg(test)]
mod tests;
