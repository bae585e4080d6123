//! The filter tree, walked like the evaluator's compiler
//! (`scimbus_scim::filter::eval`), producing one SQL predicate.

use scimbus_scim::filter::{CompValue, CompareOp, Filter, validate};
use scimbus_scim::{AttrPath, Registry, Resolved, ResourceType, ScimError};

use super::predicate::{Lit, compare, differs, json, non_null, present};
use super::sql::{Arg, Sql, and, not, or, two_valued};
use super::target::{Aliases, Expr, SCHEMAS, Values, exists, is_user_emails, is_user_name, top};

/// The SQL predicate for `f` over the row `r`; `invalidFilter` exactly when
/// the evaluator rejects `f`.
pub(crate) fn filter(registry: &Registry, rt: &ResourceType, f: &Filter) -> Result<Sql, ScimError> {
    validate(registry, rt, f)?;
    let mut t = Translator {
        registry,
        rt,
        aliases: Aliases::default(),
    };
    t.node(f, &Scope::Resource, false)
}

struct Translator<'r> {
    registry: &'r Registry,
    rt: &'r ResourceType,
    aliases: Aliases,
}

/// What paths are relative to.
enum Scope<'r> {
    Resource,
    /// Inside `attr[…]`: one element of `parent`, which is `item`.
    Element {
        parent: Resolved<'r>,
        item: Expr,
    },
}

/// Whether `pred` holds for any of `values`.
fn any(values: &Values, pred: impl Fn(&Expr) -> Sql) -> Sql {
    match values {
        Values::One(e) => pred(e),
        Values::Many { from, value } => exists(from, pred(value)),
    }
}

/// `and` / `or` chains as the list of their operands, in order, without
/// recursing down the (left-leaning, possibly long) chain.
fn chain(f: &Filter, want_and: bool) -> Vec<&Filter> {
    let mut rights = Vec::new();
    let mut cur = f;
    while let (Filter::And(l, r), true) | (Filter::Or(l, r), false) = (cur, want_and) {
        rights.push(&**r);
        cur = l;
    }
    let mut out = vec![cur];
    out.extend(rights.into_iter().rev());
    out
}

impl<'r> Translator<'r> {
    /// `strict`: under a `not`, where SQL NULL must not stand for false.
    fn node(&mut self, f: &Filter, scope: &Scope<'r>, strict: bool) -> Result<Sql, ScimError> {
        let wrap = |s: Sql| if strict { two_valued(&s) } else { s };
        Ok(match f {
            Filter::Present(path) => {
                let (_, values) = self.target(path, scope)?;
                wrap(any(&values, present))
            }
            Filter::Compare(path, op, value) => wrap(self.compare(path, *op, value, scope)?),
            Filter::Not(inner) => not(&self.node(inner, scope, true)?),
            Filter::And(..) | Filter::Or(..) => {
                let is_and = matches!(f, Filter::And(..));
                let mut items = Vec::new();
                for operand in chain(f, is_and) {
                    items.push(self.node(operand, scope, strict)?);
                }
                if is_and { and(items) } else { or(items) }
            }
            Filter::ValuePath(path, inner) => self.value_path(path, inner, scope, strict)?,
        })
    }

    fn resolve(&self, path: &AttrPath, scope: &Scope<'r>) -> Result<Resolved<'r>, ScimError> {
        let remap = |e: ScimError| ScimError::invalid_filter(e.detail);
        match scope {
            Scope::Element { parent, .. } => {
                self.registry.resolve_sub(parent, &path.attr).map_err(remap)
            }
            Scope::Resource if path.uri.is_none() && path.attr.eq_ignore_ascii_case("schemas") => {
                Ok(Resolved {
                    extension: None,
                    attr: &SCHEMAS,
                    sub: None,
                })
            }
            Scope::Resource => self.registry.resolve(self.rt, path).map_err(remap),
        }
    }

    fn values(&mut self, res: &Resolved<'r>, scope: &Scope<'r>) -> Values {
        match scope {
            Scope::Resource => top(self.rt, res, &mut self.aliases),
            Scope::Element { item, .. } => match res.sub {
                Some(sub) => item.sub(sub, &mut self.aliases),
                None => Values::One(Expr::Absent),
            },
        }
    }

    fn target(
        &mut self,
        path: &AttrPath,
        scope: &Scope<'r>,
    ) -> Result<(Resolved<'r>, Values), ScimError> {
        let res = self.resolve(path, scope)?;
        let values = self.values(&res, scope);
        Ok((res, values))
    }

    fn compare(
        &mut self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
        scope: &Scope<'r>,
    ) -> Result<Sql, ScimError> {
        let mut res = self.resolve(path, scope)?;
        let lit = match value {
            CompValue::Null => {
                let values = self.values(&res, scope);
                let there = any(&values, present);
                return match op {
                    CompareOp::Eq => Ok(not(&there)),
                    CompareOp::Ne => Ok(there),
                    // `validate` rejects the rest.
                    _ => Err(ScimError::invalid_filter(
                        "null compares only with eq or ne",
                    )),
                };
            }
            CompValue::Str(s) => Lit::Str(s),
            CompValue::Bool(b) => Lit::Bool(*b),
            CompValue::Number(n) => Lit::Number(n),
        };
        // A complex attribute compared as a whole reads its `value`.
        if res.leaf().is_complex() {
            let Some(value_sub) = res.attr.sub("value") else {
                return Err(ScimError::invalid_filter(format!(
                    "\"{path}\" is complex: compare one of its sub-attributes, or use pr"
                )));
            };
            res.sub = Some(value_sub);
        }
        let leaf = res.leaf();
        if let (Scope::Resource, CompareOp::Eq, Lit::Str(s)) = (scope, op, lit)
            && is_user_emails(self.rt, &res)
            && leaf.name == "value"
        {
            return Ok(emails_contain(s));
        }
        let values = self.values(&res, scope);
        Ok(match op {
            // Absent (no non-null value) or some value of the literal's
            // type that differs.
            CompareOp::Ne => or([
                not(&any(&values, non_null)),
                any(&values, |e| differs(e, leaf, lit)),
            ]),
            // The unique index on lower(user_name) is partial; saying so
            // lets generic plans (prepared statements) use it too. The
            // caller selects rows of type `rt` already.
            CompareOp::Eq
                if matches!(scope, Scope::Resource)
                    && is_user_name(self.rt, &res)
                    && self.rt.name == "User" =>
            {
                and([
                    Sql::raw("r.resource_type = 'User'"),
                    any(&values, |e| compare(e, leaf, op, lit)),
                ])
            }
            _ => any(&values, |e| compare(e, leaf, op, lit)),
        })
    }

    fn value_path(
        &mut self,
        path: &AttrPath,
        inner: &Filter,
        scope: &Scope<'r>,
        strict: bool,
    ) -> Result<Sql, ScimError> {
        let res = self.resolve(path, scope)?;
        match self.values(&res, scope) {
            // A single complex value: the filter holds for it if it is
            // there at all.
            Values::One(item) => {
                let there = non_missing(&item);
                let scope = Scope::Element { parent: res, item };
                Ok(and([there, self.node(inner, &scope, strict)?]))
            }
            Values::Many { from, value } => {
                let emails = matches!(scope, Scope::Resource) && is_user_emails(self.rt, &res);
                let scope = Scope::Element {
                    parent: res,
                    item: value,
                };
                let pred = self.node(inner, &scope, false)?;
                let mut index = Vec::new();
                if emails {
                    let operands = chain(inner, true);
                    index = operands.iter().filter_map(|f| value_eq(f)).collect();
                    // `emails[value eq "x"]` is the index lookup alone.
                    if operands.len() == 1 && index.len() == 1 {
                        return Ok(emails_contain(index[0]));
                    }
                }
                let mut all: Vec<Sql> = index.into_iter().map(emails_contain).collect();
                all.push(exists(&from, pred));
                Ok(and(all))
            }
        }
    }
}

/// Whether a value is there at all (even if JSON null, as the evaluator
/// looks into any value it finds).
fn non_missing(e: &Expr) -> Sql {
    match e {
        Expr::Json { .. } => {
            let mut s = json(e);
            s.push(" IS NOT NULL");
            s.paren()
        }
        Expr::Text(c) | Expr::Uuid(c) | Expr::Bool(c) | Expr::Instant(c) => {
            Sql::raw(format!("({c} IS NOT NULL)"))
        }
        Expr::Meta | Expr::Member(_) | Expr::Group { .. } => Sql::constant(true),
        Expr::Absent => Sql::constant(false),
    }
}

/// `value eq "x"` inside `emails[…]`: the string it looks for.
fn value_eq(f: &Filter) -> Option<&str> {
    match f {
        Filter::Compare(p, CompareOp::Eq, CompValue::Str(s))
            if p.uri.is_none() && p.sub_attr.is_none() && p.attr.eq_ignore_ascii_case("value") =>
        {
            Some(s)
        }
        _ => None,
    }
}

/// Some `emails[].value` equals `s` ignoring case: the `emails` column
/// holds them lower-cased by Rust ([`crate::resources::Columns`]), under
/// its GIN index.
fn emails_contain(s: &str) -> Sql {
    let mut sql = Sql::raw("r.emails @> ARRAY[");
    sql.bind(Arg::Text(s.to_lowercase())).push("]::text[]");
    sql.paren()
}
