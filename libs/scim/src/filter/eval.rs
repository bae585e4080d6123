//! Evaluating filters against resources held as canonical SCIM JSON.
//!
//! A filter is first resolved against the schema registry into a [`Matcher`]
//! (every path known, every operator allowed for its attribute's type);
//! evaluation itself then cannot fail. Validating up front means a filter
//! that is wrong in a branch that short-circuits is still rejected, and a
//! list endpoint pays for resolution once, not once per resource.
//!
//! The semantics are documented on the parent module (`crate::filter`).

use std::sync::LazyLock;

use serde_json::Value;

use super::ast::{CompValue, CompareOp, Filter};
use super::parser::MAX_DEPTH;
use crate::error::{Result, ScimError};
use crate::path::AttrPath;
use crate::registry::{Registry, Resolved, ResourceType};
use crate::schema::{Attribute, AttributeType, Mutability, Returned, Uniqueness};
use crate::value::{fold, parse_datetime};
use values::{differs, kind_name, present, test};

/// Checks that `f` is meaningful for resources of type `rt`.
pub fn validate(registry: &Registry, rt: &ResourceType, f: &Filter) -> Result<()> {
    Matcher::new(registry, rt, f).map(drop)
}

/// Whether `resource` matches `f`; `invalidFilter` if `f` does not validate.
pub fn matches(
    registry: &Registry,
    rt: &ResourceType,
    resource: &Value,
    f: &Filter,
) -> Result<bool> {
    Ok(Matcher::new(registry, rt, f)?.matches(resource))
}

/// Whether one element of the multi-valued complex attribute `parent`
/// matches the value filter `f` (the text inside `[…]`, whose paths are
/// sub-attribute names). `rt` is accepted for symmetry with [`matches`];
/// sub-attributes resolve through `parent` alone.
pub fn matches_element(
    registry: &Registry,
    _rt: &ResourceType,
    parent: &Resolved<'_>,
    element: &Value,
    f: &Filter,
) -> Result<bool> {
    Ok(Matcher::for_element(registry, parent, f)?.matches(element))
}

/// A filter resolved against a resource type: validate once, evaluate many.
#[derive(Debug)]
pub struct Matcher<'r> {
    root: Node<'r>,
}

impl<'r> Matcher<'r> {
    /// Resolves `f` for whole resources of type `rt`.
    pub fn new(registry: &'r Registry, rt: &'r ResourceType, f: &Filter) -> Result<Self> {
        let c = Compiler {
            registry,
            scope: Scope::Resource(rt),
        };
        Ok(Matcher {
            root: c.node(f, 0)?,
        })
    }

    /// Resolves the value filter `f` for single elements of `parent`.
    pub fn for_element(registry: &'r Registry, parent: &Resolved<'r>, f: &Filter) -> Result<Self> {
        if parent.sub.is_some() || !parent.attr.is_complex() {
            return Err(ScimError::invalid_filter(format!(
                "\"{}\" is not a complex attribute, so it has no value filter",
                parent.canonical()
            )));
        }
        let c = Compiler {
            registry,
            scope: Scope::Element(*parent),
        };
        Ok(Matcher {
            root: c.node(f, 0)?,
        })
    }

    /// Evaluates against a resource (or, from [`Self::for_element`], an
    /// element).
    pub fn matches(&self, doc: &Value) -> bool {
        self.root.eval(doc)
    }
}

/// The resolved tree. `and`/`or` chains are flattened into lists, so both
/// building and evaluating them loop instead of recursing.
#[derive(Debug)]
enum Node<'r> {
    Present(Target<'r>),
    Compare(Target<'r>, CompareOp, Value),
    Not(Box<Node<'r>>),
    All(Vec<Node<'r>>),
    Any(Vec<Node<'r>>),
    /// `attr[filter]`: some element of `attr` matches the inner node.
    Elements(Target<'r>, Box<Node<'r>>),
}

/// Where a path's values are found.
#[derive(Debug, Clone, Copy)]
struct Target<'r> {
    res: Resolved<'r>,
    /// Relative to an element of a complex attribute (inside `[…]`).
    relative: bool,
}

/// `schemas` as if a schema defined it (RFC 7643 §3: URIs, multi-valued).
static SCHEMAS: LazyLock<Attribute> = LazyLock::new(|| Attribute {
    name: "schemas".into(),
    kind: AttributeType::Reference,
    multi_valued: true,
    description: None,
    required: true,
    canonical_values: vec![],
    case_exact: false,
    mutability: Mutability::ReadWrite,
    returned: Returned::Always,
    uniqueness: Uniqueness::None,
    reference_types: vec!["uri".into()],
    sub_attributes: vec![],
});

struct Compiler<'r> {
    registry: &'r Registry,
    scope: Scope<'r>,
}

/// What paths are relative to.
#[derive(Clone, Copy)]
enum Scope<'r> {
    /// A whole resource of this type.
    Resource(&'r ResourceType),
    /// One element of this complex attribute: inside `[…]`.
    Element(Resolved<'r>),
}

impl<'r> Compiler<'r> {
    fn node(&self, f: &Filter, depth: usize) -> Result<Node<'r>> {
        // Parsed filters stay far below this; hand-built trees may not.
        if depth > 4 * MAX_DEPTH {
            return Err(ScimError::invalid_filter("the filter is nested too deeply"));
        }
        Ok(match f {
            Filter::Present(path) => Node::Present(self.target(path)?),
            Filter::Compare(path, op, value) => self.compare(path, *op, value)?,
            Filter::Not(inner) => Node::Not(Box::new(self.node(inner, depth + 1)?)),
            Filter::And(..) => Node::All(self.chain(f, depth, true)?),
            Filter::Or(..) => Node::Any(self.chain(f, depth, false)?),
            Filter::ValuePath(path, inner) => self.value_path(path, inner, depth)?,
        })
    }

    /// Flattens a left-leaning chain of one operator into its operands, in
    /// order.
    fn chain(&self, f: &Filter, depth: usize, and: bool) -> Result<Vec<Node<'r>>> {
        let mut rights = Vec::new();
        let mut cur = f;
        while let (Filter::And(l, r), true) | (Filter::Or(l, r), false) = (cur, and) {
            rights.push(&**r);
            cur = l;
        }
        let mut out = Vec::with_capacity(rights.len() + 1);
        out.push(self.node(cur, depth + 1)?);
        for r in rights.into_iter().rev() {
            out.push(self.node(r, depth + 1)?);
        }
        Ok(out)
    }

    fn target(&self, path: &AttrPath) -> Result<Target<'r>> {
        let remap = |e: ScimError| ScimError::invalid_filter(e.detail);
        let res = match self.scope {
            Scope::Element(parent) => {
                if path.uri.is_some() || path.sub_attr.is_some() {
                    return Err(ScimError::invalid_filter(format!(
                        "\"{path}\": inside \"{}[…]\" only sub-attribute names are allowed",
                        parent.attr.name
                    )));
                }
                self.registry
                    .resolve_sub(&parent, &path.attr)
                    .map_err(remap)?
            }
            Scope::Resource(_)
                if path.uri.is_none() && path.attr.eq_ignore_ascii_case("schemas") =>
            {
                if path.sub_attr.is_some() {
                    return Err(ScimError::invalid_filter(format!(
                        "\"{path}\": \"schemas\" has no sub-attributes"
                    )));
                }
                Resolved {
                    extension: None,
                    attr: &SCHEMAS,
                    sub: None,
                }
            }
            Scope::Resource(rt) => self.registry.resolve(rt, path).map_err(remap)?,
        };
        let relative = matches!(self.scope, Scope::Element(_));
        Ok(Target { res, relative })
    }

    fn compare(&self, path: &AttrPath, op: CompareOp, value: &CompValue) -> Result<Node<'r>> {
        let mut target = self.target(path)?;
        let literal = match value {
            CompValue::Null => {
                return match op {
                    CompareOp::Eq => Ok(Node::Not(Box::new(Node::Present(target)))),
                    CompareOp::Ne => Ok(Node::Present(target)),
                    _ => Err(ScimError::invalid_filter(format!(
                        "\"{path} {} null\": null can only be compared with eq or ne",
                        op.as_str()
                    ))),
                };
            }
            CompValue::Bool(b) => Value::Bool(*b),
            CompValue::Number(n) => Value::Number(n.clone()),
            CompValue::Str(s) => Value::String(s.clone()),
        };
        if target.res.leaf().is_complex() {
            let Some(value_sub) = target.res.attr.sub("value") else {
                return Err(ScimError::invalid_filter(format!(
                    "\"{path}\" is complex: compare one of its sub-attributes, or use pr"
                )));
            };
            target.res.sub = Some(value_sub);
        }
        let leaf = target.res.leaf();
        let bad_type = match op {
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                matches!(leaf.kind, AttributeType::Boolean | AttributeType::Binary)
            }
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => matches!(
                leaf.kind,
                AttributeType::Boolean | AttributeType::Integer | AttributeType::Decimal
            ),
            CompareOp::Eq | CompareOp::Ne => false,
        };
        if bad_type {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}\" is a{} attribute, which \"{}\" cannot compare",
                kind_name(leaf.kind),
                op.as_str()
            )));
        }
        if leaf.kind == AttributeType::DateTime
            && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
            && let Value::String(s) = &literal
            && parse_datetime(s).is_none()
        {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}\" is a dateTime, but \"{s}\" is not one (e.g. \"2011-05-13T04:42:34Z\")"
            )));
        }
        let literal = match (&literal, op) {
            (Value::String(s), CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                Value::String(fold(s, leaf.case_exact).into_owned())
            }
            _ => literal,
        };
        Ok(Node::Compare(target, op, literal))
    }

    fn value_path(&self, path: &AttrPath, inner: &Filter, depth: usize) -> Result<Node<'r>> {
        if let Scope::Element(_) = self.scope {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}[…]\": a value filter cannot contain another value filter"
            )));
        }
        let target = self.target(path)?;
        if target.res.sub.is_some() || !target.res.attr.is_complex() {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}[…]\": a value filter needs a complex attribute"
            )));
        }
        let c = Compiler {
            registry: self.registry,
            scope: Scope::Element(target.res),
        };
        Ok(Node::Elements(target, Box::new(c.node(inner, depth + 1)?)))
    }
}

impl Node<'_> {
    fn eval(&self, doc: &Value) -> bool {
        match self {
            Node::Present(t) => t.any(doc, present),
            // Absent (missing, null, `[]`) is "not equal" to anything.
            Node::Compare(t, CompareOp::Ne, b) => {
                !t.any(doc, |a| !a.is_null()) || t.any(doc, |a| differs(t.res.leaf(), a, b))
            }
            Node::Compare(t, op, b) => t.any(doc, |a| test(t.res.leaf(), *op, a, b)),
            Node::Not(inner) => !inner.eval(doc),
            Node::All(nodes) => nodes.iter().all(|n| n.eval(doc)),
            Node::Any(nodes) => nodes.iter().any(|n| n.eval(doc)),
            Node::Elements(t, inner) => t.any(doc, |e| inner.eval(e)),
        }
    }
}

mod values;

#[cfg(test)]
mod tests;
