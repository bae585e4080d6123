//! Tests on one value, as SQL: the evaluator's `present`, `test` and
//! `differs` (`scimbus_scim::filter` module docs), for each place a value
//! can live ([`Expr`]).
//!
//! A predicate may be SQL NULL where the evaluator says `false` (a missing
//! value); the translator makes it two-valued where that matters (under
//! `not`).

use scimbus_scim::filter::CompareOp;
use scimbus_scim::value::fold;
use scimbus_scim::{Attribute, AttributeType};
use serde_json::Number;
use uuid::Uuid;

use super::datetime::{Literal, parse_text, render_column};
use super::sql::{Arg, Sql, and, not, two_valued};
use super::target::Expr;

/// A literal that is not `null` (the translator turns `eq null` / `ne
/// null` into presence tests first).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lit<'a> {
    Str(&'a str),
    Bool(bool),
    Number(&'a Number),
}

/// The `jsonb` of a JSON value; NULL for anything else.
pub(crate) fn json(e: &Expr) -> Sql {
    match e {
        Expr::Json { base, keys } => Expr::json_sql(base, keys),
        _ => Sql::raw("NULL::jsonb"),
    }
}

/// The value as SQL text if it is a JSON string (NULL otherwise); `None`
/// when it can never be one.
fn text(e: &Expr) -> Option<Sql> {
    match e {
        Expr::Json { .. } => {
            let j = json(e);
            let mut s = Sql::raw("(CASE WHEN jsonb_typeof(");
            s.append(&j)
                .push(") = 'string' THEN ")
                .append(&j)
                .push(" #>> '{}' END)");
            Some(s)
        }
        Expr::Text(c) => Some(Sql::raw(c.clone())),
        Expr::Uuid(c) => Some(Sql::raw(format!("({c})::text"))),
        Expr::Instant(c) => Some(render_column(c)),
        _ => None,
    }
}

/// The evaluator's `present`: not null, not empty; an object or array if
/// some member is (one level deep).
pub(crate) fn present(e: &Expr) -> Sql {
    const EMPTY: &str = "('null', '\"\"', '[]', '{}')";
    match e {
        Expr::Json { .. } => {
            let j = json(e);
            let mut s = Sql::raw("(CASE jsonb_typeof(");
            s.append(&j)
                .push(") WHEN 'object' THEN EXISTS (SELECT 1 FROM jsonb_each(")
                .append(&j)
                .push(format!(") p WHERE p.value NOT IN {EMPTY})"))
                .push(" WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(")
                .append(&j)
                .push(format!(") p(value) WHERE p.value NOT IN {EMPTY})"))
                .push(" WHEN 'string' THEN ")
                .append(&j)
                .push(" <> '\"\"' WHEN 'null' THEN false ELSE ")
                .append(&j)
                .push(" IS NOT NULL END)");
            s
        }
        Expr::Text(c) => Sql::raw(format!("coalesce({c} <> '', false)")),
        Expr::Uuid(c) | Expr::Bool(c) | Expr::Instant(c) => Sql::raw(format!("({c} IS NOT NULL)")),
        Expr::Meta | Expr::Member(_) | Expr::Group { .. } => Sql::constant(true),
        Expr::Absent => Sql::constant(false),
    }
}

/// Some value that is not null (the `ne` rule's "absent" is its negation).
pub(crate) fn non_null(e: &Expr) -> Sql {
    match e {
        Expr::Json { .. } => {
            let j = json(e);
            let mut s = j.clone();
            s.push(" IS NOT NULL AND ")
                .append(&j)
                .push(" <> 'null'::jsonb");
            s.paren()
        }
        Expr::Text(c) | Expr::Uuid(c) | Expr::Bool(c) | Expr::Instant(c) => {
            Sql::raw(format!("({c} IS NOT NULL)"))
        }
        Expr::Meta | Expr::Member(_) | Expr::Group { .. } => Sql::constant(true),
        Expr::Absent => Sql::constant(false),
    }
}

/// `ne` for one value: of the literal's JSON type and not equal to it.
pub(crate) fn differs(e: &Expr, leaf: &Attribute, lit: Lit<'_>) -> Sql {
    let same_type = match (e, lit) {
        (Expr::Json { .. }, _) => {
            let kind = match lit {
                Lit::Str(_) => "string",
                Lit::Bool(_) => "boolean",
                Lit::Number(_) => "number",
            };
            let mut s = Sql::raw("jsonb_typeof(");
            s.append(&json(e)).push(format!(") = '{kind}'"));
            s.paren()
        }
        (Expr::Text(_) | Expr::Uuid(_) | Expr::Instant(_), Lit::Str(_))
        | (Expr::Bool(_), Lit::Bool(_)) => non_null(e),
        _ => Sql::constant(false),
    };
    if same_type.as_constant() == Some(false) {
        return same_type;
    }
    and([
        same_type,
        not(&two_valued(&compare(e, leaf, CompareOp::Eq, lit))),
    ])
}

/// Every operator but `ne` for one value against a literal.
pub(crate) fn compare(e: &Expr, leaf: &Attribute, op: CompareOp, lit: Lit<'_>) -> Sql {
    let textual = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match lit {
        Lit::Str(s) if textual => match text(e) {
            Some(t) => text_compare(&t, leaf.case_exact, op, s),
            None => Sql::constant(false),
        },
        Lit::Str(s) => match (leaf.kind, e) {
            (_, Expr::Uuid(c)) if op == CompareOp::Eq => uuid_eq(c, &fold(s, leaf.case_exact)),
            (AttributeType::String | AttributeType::Reference, _) => match text(e) {
                Some(t) => text_compare(&t, leaf.case_exact, op, s),
                None => Sql::constant(false),
            },
            (AttributeType::Binary, _) => match (text(e), op) {
                (Some(t), CompareOp::Eq) => {
                    let mut sql = t;
                    sql.push(" = ").bind(Arg::Text(s.to_string()));
                    sql.paren()
                }
                _ => Sql::constant(false),
            },
            (AttributeType::DateTime, _) => datetime_compare(e, op, s),
            _ => Sql::constant(false),
        },
        _ if textual => Sql::constant(false),
        Lit::Bool(b) => match (leaf.kind, e, op) {
            (AttributeType::Boolean | AttributeType::Binary, Expr::Json { .. }, CompareOp::Eq) => {
                let mut sql = json(e);
                sql.push(" = to_jsonb(")
                    .bind(Arg::Bool(b))
                    .push("::boolean)");
                sql.paren()
            }
            (AttributeType::Boolean, Expr::Bool(c), CompareOp::Eq) => {
                let mut sql = Sql::raw(format!("{c} = "));
                sql.bind(Arg::Bool(b));
                sql.paren()
            }
            _ => Sql::constant(false),
        },
        Lit::Number(n) => match (leaf.kind, e) {
            (AttributeType::Integer | AttributeType::Decimal, Expr::Json { .. }) => {
                number_compare(&json(e), op, n)
            }
            _ => Sql::constant(false),
        },
    }
}

fn op_sql(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        // Not used for these; `text_compare` handles them.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
    }
}

/// Strings under `caseExact`: `lower()` on both sides when it is false;
/// ordering in code-point order (`COLLATE "C"`), as Rust's `str::cmp`.
fn text_compare(t: &Sql, case_exact: bool, op: CompareOp, s: &str) -> Sql {
    let fold = |x: &Sql| {
        if case_exact {
            x.clone()
        } else {
            let mut out = Sql::raw("lower(");
            out.append(x).push(")");
            out
        }
    };
    let mut lit = Sql::new();
    lit.bind(Arg::Text(s.to_string()));
    let (a, b) = (fold(t), fold(&lit));
    let mut out = Sql::new();
    match op {
        CompareOp::Co => {
            out.push("strpos(")
                .append(&a)
                .push(", ")
                .append(&b)
                .push(") > 0");
        }
        CompareOp::Sw => {
            out.push("starts_with(")
                .append(&a)
                .push(", ")
                .append(&b)
                .push(")");
        }
        CompareOp::Ew => {
            out.push("starts_with(reverse(")
                .append(&a)
                .push("), reverse(")
                .append(&b)
                .push("))");
        }
        CompareOp::Eq => {
            out.append(&a).push(" = ").append(&b);
        }
        _ => {
            out.append(&a)
                .push(format!(" COLLATE \"C\" {} ", op_sql(op)))
                .append(&b);
        }
    }
    out.paren()
}

/// A `uuid` column equals a string exactly when the string is the uuid's
/// canonical text (lower-case, hyphenated); anything else matches nothing.
fn uuid_eq(col: &str, folded: &str) -> Sql {
    match Uuid::parse_str(folded) {
        Ok(u) if u.hyphenated().to_string() == folded => {
            let mut s = Sql::raw(format!("{col} = "));
            s.bind(Arg::Uuid(u));
            s.paren()
        }
        _ => Sql::constant(false),
    }
}

fn datetime_compare(e: &Expr, op: CompareOp, s: &str) -> Sql {
    let Some(lit) = Literal::parse(s) else {
        // `validate` rejects these; a value that is no dateTime never equals.
        return Sql::constant(false);
    };
    match e {
        Expr::Instant(c) => lit.column_compare(c, op),
        Expr::Json { .. } => match text(e) {
            Some(t) => {
                let mut out = parse_text(&t);
                out.push(format!(" {} ", op_sql(op))).append(&lit.rounded());
                out.paren()
            }
            None => Sql::constant(false),
        },
        _ => Sql::constant(false),
    }
}

/// Numbers as `value::compare` orders them: as integers when both are
/// `i64`, else as `f64`. Postgres keeps a JSON number's exact decimal, so
/// integer literals compare as `numeric` (exact for stored integers, and
/// the same order as `f64` for stored floats while the literal is below
/// 2^53); other literals compare as `float8`, which is what a stored
/// number's shortest round-trip text reads back to.
fn number_compare(j: &Sql, op: CompareOp, n: &Number) -> Sql {
    let mut x = Sql::raw("(CASE WHEN jsonb_typeof(");
    x.append(j)
        .push(") = 'number' THEN (")
        .append(j)
        .push(")::numeric END)");
    let sym = op_sql(op);
    let float = |f: f64| {
        let mut s = x.clone();
        s.push(format!("::float8 {sym} ")).bind(Arg::Float(f));
        s
    };
    let out = match n.as_i64() {
        Some(i) if i.unsigned_abs() <= 1 << 53 => {
            let mut s = x.clone();
            s.push(format!(" {sym} ")).bind(Arg::Int(i));
            s
        }
        Some(i) => {
            let mut s = Sql::raw("CASE WHEN scale(");
            s.append(&x)
                .push(") = 0 AND ")
                .append(&x)
                .push(" BETWEEN -9223372036854775808 AND 9223372036854775807 THEN ")
                .append(&x)
                .push(format!(" {sym} "))
                .bind(Arg::Int(i))
                .push(" ELSE ")
                .append(&float(i as f64))
                .push(" END");
            s
        }
        None => match n.as_f64() {
            Some(f) => float(f),
            None => return Sql::constant(false),
        },
    };
    out.paren()
}
