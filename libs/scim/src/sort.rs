//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3): which value of a resource to
//! sort on, and how two such values order.
//!
//! Values compare with [`crate::value::compare`], so sorting agrees with the
//! filter evaluator on case (`caseExact`), dateTimes (as instants) and
//! numbers. The comparison is a total order — Rust's sort may panic on one
//! that is not — so values that do not fit the attribute's type count as
//! "no data" rather than as incomparable.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::error::{Result, ScimError};
use crate::path::AttrPath;
use crate::registry::{Registry, Resolved, ResourceType, get_ci};
use crate::schema::{Attribute, AttributeType, Mutability, Returned};
use crate::value::{compare, parse_datetime};

/// `sortOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// The default when `sortBy` is given without `sortOrder`.
    #[default]
    Ascending,
    Descending,
}

impl SortOrder {
    /// Parses `sortOrder`, case-insensitively; absent or empty means
    /// ascending. The RFC allows only "ascending" and "descending" and names
    /// no error for other values; we answer 400 `invalidValue`, the keyword
    /// RFC 7644 Table 9 lists for bad query values.
    pub fn parse(s: Option<&str>) -> Result<SortOrder> {
        match s.map(str::trim).unwrap_or_default() {
            "" => Ok(SortOrder::Ascending),
            s if s.eq_ignore_ascii_case("ascending") => Ok(SortOrder::Ascending),
            s if s.eq_ignore_ascii_case("descending") => Ok(SortOrder::Descending),
            s => Err(ScimError::invalid_value(format!(
                "sortOrder \"{s}\" is neither \"ascending\" nor \"descending\""
            ))),
        }
    }
}

/// A parsed `sortBy` with its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The canonical path sorted on; always ends at a simple attribute.
    pub path: AttrPath,
    pub order: SortOrder,
}

impl SortKey {
    /// Parses `sortBy` and `sortOrder` for a resource type.
    ///
    /// A complex attribute without a sub-attribute (`emails`, `manager`)
    /// sorts on its `value` sub-attribute. Unlike `attributes`, an unknown
    /// name is an error (400 `invalidValue`): silently ignoring it would
    /// return an order the client did not ask for. So is sorting on
    /// `returned: never` or `writeOnly` attributes (the order would leak the
    /// hidden values), on a binary, or on a complex attribute without
    /// `value`.
    pub fn parse(
        registry: &Registry,
        rt: &ResourceType,
        sort_by: &str,
        sort_order: Option<&str>,
    ) -> Result<SortKey> {
        let order = SortOrder::parse(sort_order)?;
        let bad = |why: &str| ScimError::invalid_value(format!("sortBy \"{sort_by}\" {why}"));
        let path =
            AttrPath::parse(sort_by).map_err(|e| bad(&format!("is malformed: {}", e.detail)))?;
        let res = registry
            .resolve(rt, &path)
            .map_err(|_| bad(&format!("is not an attribute of {}", rt.name)))?;
        let res = match (res.sub, res.attr.sub("value")) {
            (None, Some(_)) if res.attr.is_complex() => registry.resolve_sub(&res, "value")?,
            _ => res,
        };
        let leaf = res.leaf();
        if [res.attr, leaf].iter().any(|a| hidden(a)) {
            return Err(bad(
                "is write-only or never returned, so it cannot be sorted on",
            ));
        }
        match leaf.kind {
            AttributeType::Complex => Err(bad("is complex; name one of its sub-attributes")),
            AttributeType::Binary => Err(bad("is binary and has no order")),
            _ => Ok(SortKey {
                path: canonical_path(&res),
                order,
            }),
        }
    }

    /// Orders two resources. Resources with no data for the key come last
    /// when ascending and first when descending — RFC 7644 §3.4.2.3: "if
    /// there is no data for the specified "sortBy" value, they are sorted via
    /// the "sortOrder" parameter, i.e., they are ordered last if ascending
    /// and first if descending". Descending is thus the exact reverse of
    /// ascending. Equal keys compare `Equal`: use a stable sort to keep ties
    /// in their original order.
    pub fn compare(
        &self,
        registry: &Registry,
        rt: &ResourceType,
        a: &Value,
        b: &Value,
    ) -> Ordering {
        let Ok(res) = registry.resolve(rt, &self.path) else {
            return Ordering::Equal;
        };
        let leaf = res.leaf();
        self.directed(
            leaf,
            sort_value(&res, a).as_ref(),
            sort_value(&res, b).as_ref(),
        )
    }

    /// Sorts resources in place, stably, extracting each sort value once.
    pub fn sort(&self, registry: &Registry, rt: &ResourceType, resources: &mut Vec<Value>) {
        let Ok(res) = registry.resolve(rt, &self.path) else {
            return;
        };
        let leaf = res.leaf();
        let mut keyed: Vec<(Option<Value>, Value)> = resources
            .drain(..)
            .map(|r| (sort_value(&res, &r), r))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| self.directed(leaf, a.as_ref(), b.as_ref()));
        resources.extend(keyed.into_iter().map(|(_, r)| r));
    }

    fn directed(&self, leaf: &Attribute, a: Option<&Value>, b: Option<&Value>) -> Ordering {
        let ascending = match (a, b) {
            (Some(a), Some(b)) => order_values(leaf, a, b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        match self.order {
            SortOrder::Ascending => ascending,
            SortOrder::Descending => ascending.reverse(),
        }
    }
}

fn hidden(attr: &Attribute) -> bool {
    attr.returned == Returned::Never || attr.mutability == Mutability::WriteOnly
}

fn canonical_path(res: &Resolved<'_>) -> AttrPath {
    AttrPath {
        uri: res.extension.map(str::to_string),
        attr: res.attr.name.clone(),
        sub_attr: res.sub.map(|s| s.name.clone()),
    }
}

/// The value a resource sorts by, normalised so that any two compare. A
/// multi-valued attribute contributes its `primary` value, else its first
/// (RFC 7644 §3.4.2.3).
fn sort_value(res: &Resolved<'_>, resource: &Value) -> Option<Value> {
    let value = res.value(resource)?;
    let chosen = match value {
        Value::Array(items) => items
            .iter()
            .find(|v| is_primary(v))
            .or_else(|| items.first())?,
        v => v,
    };
    let leaf_value = match res.sub {
        Some(sub) => get_ci(chosen.as_object()?, &sub.name)?,
        None => chosen,
    };
    normalise(res.leaf(), leaf_value)
}

fn is_primary(v: &Value) -> bool {
    v.as_object()
        .and_then(|o| get_ci(o, "primary"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Keeps a value only if it fits the attribute's type. Decimals become
/// floats throughout, because mixing integer and float comparison of the
/// same attribute is not transitive beyond 2^53.
fn normalise(attr: &Attribute, v: &Value) -> Option<Value> {
    match attr.kind {
        AttributeType::String | AttributeType::Reference => v.is_string().then(|| v.clone()),
        AttributeType::DateTime => parse_datetime(v.as_str()?).map(|_| v.clone()),
        AttributeType::Integer => v.as_i64().map(Value::from),
        AttributeType::Decimal => Number::from_f64(v.as_f64()?).map(Value::Number),
        AttributeType::Boolean => v.is_boolean().then(|| v.clone()),
        AttributeType::Binary | AttributeType::Complex => None,
    }
}

/// Orders two normalised values; booleans, which have no order in filters,
/// sort `false` before `true`.
fn order_values(attr: &Attribute, a: &Value, b: &Value) -> Ordering {
    match (a.as_bool(), b.as_bool()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => compare(attr, a, b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests;
