//! A tiny SQL fragment type: text and bound arguments, composed freely and
//! written into a `QueryBuilder` at the end.
//!
//! `QueryBuilder` numbers placeholders in the order they are pushed, so
//! fragments cannot be built out of order with it directly. A fragment keeps
//! its arguments next to its text instead; constant `true` / `false`
//! fragments fold away in [`and`], [`or`] and [`not`].

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// A value bound as a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Uuid(Uuid),
    Instant(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Raw(Cow<'static, str>),
    Arg(Arg),
}

/// SQL text with its bound arguments.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Sql {
    parts: Vec<Part>,
}

impl Sql {
    pub(crate) fn new() -> Sql {
        Sql::default()
    }

    /// Fixed SQL text (never client data).
    pub(crate) fn raw(s: impl Into<Cow<'static, str>>) -> Sql {
        let mut sql = Sql::new();
        sql.push(s);
        sql
    }

    pub(crate) fn constant(b: bool) -> Sql {
        Sql::raw(if b { "true" } else { "false" })
    }

    /// `Some(b)` if this fragment is the constant `b`.
    pub(crate) fn as_constant(&self) -> Option<bool> {
        match self.parts.as_slice() {
            [Part::Raw(s)] if s == "true" => Some(true),
            [Part::Raw(s)] if s == "false" => Some(false),
            _ => None,
        }
    }

    pub(crate) fn push(&mut self, s: impl Into<Cow<'static, str>>) -> &mut Self {
        self.parts.push(Part::Raw(s.into()));
        self
    }

    pub(crate) fn bind(&mut self, arg: Arg) -> &mut Self {
        self.parts.push(Part::Arg(arg));
        self
    }

    pub(crate) fn append(&mut self, other: &Sql) -> &mut Self {
        self.parts.extend(other.parts.iter().cloned());
        self
    }

    /// `(self)`.
    pub(crate) fn paren(&self) -> Sql {
        let mut out = Sql::raw("(");
        out.append(self).push(")");
        out
    }

    /// A JSON object key or a SQL string constant taken from a schema (an
    /// attribute name or a schema URN), never from a client's filter:
    /// inlined as a literal when it is plainly safe, so the SQL stays
    /// readable and expression indexes can match it; bound otherwise.
    pub(crate) fn push_key(&mut self, key: &str) -> &mut Self {
        let safe = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":._-$".contains(&b));
        if safe {
            self.push(format!("'{key}'"))
        } else {
            self.push("(")
                .bind(Arg::Text(key.to_string()))
                .push("::text)")
        }
    }

    /// Writes the fragment into `qb`, binding its arguments in order.
    pub(crate) fn emit(&self, qb: &mut QueryBuilder<Postgres>) {
        for part in &self.parts {
            match part {
                Part::Raw(s) => {
                    qb.push(s);
                }
                Part::Arg(Arg::Text(s)) => {
                    qb.push_bind(s.clone());
                }
                Part::Arg(Arg::Int(i)) => {
                    qb.push_bind(*i);
                }
                Part::Arg(Arg::Float(f)) => {
                    qb.push_bind(*f);
                }
                Part::Arg(Arg::Bool(b)) => {
                    qb.push_bind(*b);
                }
                Part::Arg(Arg::Uuid(u)) => {
                    qb.push_bind(*u);
                }
                Part::Arg(Arg::Instant(t)) => {
                    qb.push_bind(*t);
                }
            }
        }
    }
}

/// `a AND b AND …`, folding constants; `true` for no operands.
pub(crate) fn and(items: impl IntoIterator<Item = Sql>) -> Sql {
    join(items, " AND ", true)
}

/// `a OR b OR …`, folding constants; `false` for no operands.
pub(crate) fn or(items: impl IntoIterator<Item = Sql>) -> Sql {
    join(items, " OR ", false)
}

fn join(items: impl IntoIterator<Item = Sql>, sep: &'static str, neutral: bool) -> Sql {
    let mut kept = Vec::new();
    for item in items {
        match item.as_constant() {
            Some(b) if b == neutral => {}
            Some(_) => return Sql::constant(!neutral),
            None => kept.push(item),
        }
    }
    // Nothing left is the operator's neutral element; one item is itself.
    if kept.len() <= 1 {
        return kept.pop().unwrap_or_else(|| Sql::constant(neutral));
    }
    let mut out = Sql::raw("(");
    for (i, item) in kept.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.append(item);
    }
    out.push(")");
    out
}

/// `NOT (a)`, folding constants.
pub(crate) fn not(a: &Sql) -> Sql {
    match a.as_constant() {
        Some(b) => Sql::constant(!b),
        None => {
            let mut out = Sql::raw("NOT ");
            out.append(&a.paren());
            out
        }
    }
}

/// `coalesce(a, false)`: a predicate that is never SQL NULL.
pub(crate) fn two_valued(a: &Sql) -> Sql {
    match a.as_constant() {
        Some(b) => Sql::constant(b),
        None => {
            let mut out = Sql::raw("coalesce(");
            out.append(a).push(", false)");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_fold() {
        let x = Sql::raw("x");
        assert_eq!(and([Sql::constant(true), x.clone()]), x);
        assert_eq!(and([Sql::constant(false), x.clone()]), Sql::constant(false));
        assert_eq!(or([Sql::constant(true), x.clone()]), Sql::constant(true));
        assert_eq!(or(Vec::new()), Sql::constant(false));
        assert_eq!(not(&Sql::constant(true)), Sql::constant(false));
        assert_eq!(two_valued(&Sql::constant(true)), Sql::constant(true));
    }

    #[test]
    fn keys_are_inlined_only_when_plainly_safe() {
        let mut s = Sql::new();
        s.push_key("urn:ietf:params:scim:schemas:core:2.0:User");
        assert_eq!(s.parts.len(), 1);
        let mut s = Sql::new();
        s.push_key("urn:x:o'brien");
        assert!(s.parts.iter().any(|p| matches!(p, Part::Arg(_))));
    }
}
