//! Where an attribute's values live in a `resources` row: a column, the
//! `doc` JSON, or the `group_members` table, and how many there can be.
//!
//! This mirrors `Target::any` of the evaluator: a multi-valued attribute
//! offers each of its values, a sub-attribute of a multi-valued complex
//! attribute each element's value. The docs are canonical
//! (`resource::normalize`): keys in their schema spelling, multi-valued
//! attributes as arrays, single-valued ones not.

use std::sync::LazyLock;

use scimbus_scim::registry::{GROUP_SCHEMA, USER_SCHEMA};
use scimbus_scim::{Attribute, AttributeType, Mutability, Resolved, ResourceType, Returned};

use super::sql::Sql;

/// One value, as SQL.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// A `jsonb` value: `base -> 'k1' -> …`; SQL NULL when missing.
    Json {
        base: String,
        keys: Vec<String>,
    },
    /// A text column; NULL when absent. Also a computed text.
    Text(String),
    /// A `uuid` column, read as its canonical (lower-case) text.
    Uuid(String),
    /// A boolean column; NULL when absent.
    Bool(String),
    /// A `timestamptz` column (never NULL), read as [`super::datetime`]
    /// renders it.
    Instant(String),
    /// A complex value put together from columns: `meta`, one member of a
    /// Group, one group of a User. Always present.
    Meta,
    Member(String),
    Group {
        m: String,
        g: String,
    },
    /// Never there (`meta.location`, `members.display`).
    Absent,
}

/// A row source inside `EXISTS (SELECT 1 FROM …)`.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The elements of a JSON value (the value itself if it is no array).
    Elements { of: Expr, alias: String },
    /// The members of the Group `r`.
    Members { m: String },
    /// The groups the User `r` is a direct member of.
    Groups { m: String, g: String },
}

/// The values at a path.
#[derive(Debug, Clone)]
pub(crate) enum Values {
    /// At most one.
    One(Expr),
    /// Any number: `value` for each row of `from`.
    Many { from: Vec<Source>, value: Expr },
}

/// Hands out table aliases that do not clash within one query.
#[derive(Debug, Default)]
pub(crate) struct Aliases(usize);

impl Aliases {
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}{}", self.0)
    }
}

/// `schemas` as the evaluator sees it: multi-valued URIs, case-insensitive.
pub(crate) static SCHEMAS: LazyLock<Attribute> = LazyLock::new(|| Attribute {
    name: "schemas".into(),
    kind: AttributeType::Reference,
    multi_valued: true,
    description: None,
    required: true,
    canonical_values: vec![],
    case_exact: false,
    mutability: Mutability::ReadWrite,
    returned: Returned::Always,
    uniqueness: Default::default(),
    reference_types: vec!["uri".into()],
    sub_attributes: vec![],
});

impl Expr {
    pub(crate) fn doc(keys: Vec<String>) -> Expr {
        Expr::Json {
            base: "r.doc".into(),
            keys,
        }
    }

    /// The SQL of a JSON value (`Expr::Json` only; other kinds have their
    /// own readers in `predicate`).
    pub(crate) fn json_sql(base: &str, keys: &[String]) -> Sql {
        let mut s = Sql::raw(base.to_string());
        for k in keys {
            s.push(" -> ").push_key(k);
        }
        s.paren()
    }

    /// The values of sub-attribute `sub` of this (complex) value.
    pub(crate) fn sub(&self, sub: &Attribute, aliases: &mut Aliases) -> Values {
        let one = |e: Expr| Values::One(e);
        match self {
            Expr::Json { base, keys } => {
                let mut keys = keys.clone();
                keys.push(sub.name.clone());
                let value = Expr::Json {
                    base: base.clone(),
                    keys,
                };
                if sub.multi_valued {
                    elements(value, aliases)
                } else {
                    one(value)
                }
            }
            Expr::Meta => one(match sub.name.as_str() {
                "resourceType" => Expr::Text("r.resource_type".into()),
                "created" => Expr::Instant("r.created".into()),
                "lastModified" => Expr::Instant("r.last_modified".into()),
                "version" => Expr::Text("('W/\"' || r.version || '\"')".into()),
                _ => Expr::Absent,
            }),
            Expr::Member(m) => one(match sub.name.as_str() {
                "value" => Expr::Uuid(format!("{m}.member_id")),
                "type" => Expr::Text(format!("{m}.member_type")),
                _ => Expr::Absent,
            }),
            Expr::Group { m, g } => one(match sub.name.as_str() {
                "value" => Expr::Uuid(format!("{m}.group_id")),
                "display" => Expr::Text(format!("{g}.display_name")),
                "type" => Expr::Text("'direct'".into()),
                _ => Expr::Absent,
            }),
            Expr::Text(_) | Expr::Uuid(_) | Expr::Bool(_) | Expr::Instant(_) | Expr::Absent => {
                one(Expr::Absent)
            }
        }
    }
}

/// Each element of a JSON value.
fn elements(of: Expr, aliases: &mut Aliases) -> Values {
    let alias = aliases.next("e");
    Values::Many {
        value: Expr::Json {
            base: format!("{alias}.v"),
            keys: vec![],
        },
        from: vec![Source::Elements { of, alias }],
    }
}

impl Values {
    /// The values of `sub` in each of these values.
    pub(crate) fn then_sub(self, sub: &Attribute, aliases: &mut Aliases) -> Values {
        match self {
            Values::One(e) => e.sub(sub, aliases),
            Values::Many { mut from, value } => match value.sub(sub, aliases) {
                Values::One(v) => Values::Many { from, value: v },
                Values::Many {
                    from: more,
                    value: v,
                } => {
                    from.extend(more);
                    Values::Many { from, value: v }
                }
            },
        }
    }
}

/// The values of a resolved path at the top of a resource of type `rt`.
pub(crate) fn top(rt: &ResourceType, res: &Resolved<'_>, aliases: &mut Aliases) -> Values {
    let attr = res.attr;
    let core = res.extension.is_none();
    let is = |schema: &str| rt.schema.eq_ignore_ascii_case(schema);
    let column = match attr.name.as_str() {
        // Common attributes (`resolve` looks there first).
        "id" if core => Some(Values::One(Expr::Uuid("r.id".into()))),
        "externalId" if core => Some(Values::One(Expr::Text("r.external_id".into()))),
        "meta" if core => Some(Values::One(Expr::Meta)),
        "userName" if core && is(USER_SCHEMA) => {
            Some(Values::One(Expr::Text("r.user_name".into())))
        }
        "displayName" if core && (is(USER_SCHEMA) || is(GROUP_SCHEMA)) => {
            Some(Values::One(Expr::Text("r.display_name".into())))
        }
        "active" if core && is(USER_SCHEMA) => Some(Values::One(Expr::Bool("r.active".into()))),
        "groups" if core && is(USER_SCHEMA) => {
            let (m, g) = (aliases.next("m"), aliases.next("g"));
            Some(Values::Many {
                from: vec![Source::Groups {
                    m: m.clone(),
                    g: g.clone(),
                }],
                value: Expr::Group { m, g },
            })
        }
        "members" if core && is(GROUP_SCHEMA) => {
            let m = aliases.next("m");
            Some(Values::Many {
                from: vec![Source::Members { m: m.clone() }],
                value: Expr::Member(m),
            })
        }
        _ => None,
    };
    let values = column.unwrap_or_else(|| {
        let mut keys: Vec<String> = res.extension.map(str::to_string).into_iter().collect();
        keys.push(attr.name.clone());
        let value = Expr::doc(keys);
        if attr.multi_valued {
            elements(value, aliases)
        } else {
            Values::One(value)
        }
    });
    match res.sub {
        Some(sub) => values.then_sub(sub, aliases),
        None => values,
    }
}

/// Whether `res` is the core `emails` of Users, whose lower-cased values
/// the `emails` column indexes.
pub(crate) fn is_user_emails(rt: &ResourceType, res: &Resolved<'_>) -> bool {
    res.extension.is_none()
        && rt.schema.eq_ignore_ascii_case(USER_SCHEMA)
        && res.attr.name == "emails"
}

/// Whether `res` is the core `userName` of Users, whose unique index is
/// partial (`where resource_type = 'User'`).
pub(crate) fn is_user_name(rt: &ResourceType, res: &Resolved<'_>) -> bool {
    res.extension.is_none()
        && rt.schema.eq_ignore_ascii_case(USER_SCHEMA)
        && res.attr.name == "userName"
}

impl Source {
    /// `FROM` item text, and the conditions tying it to the row `r`.
    pub(crate) fn sql(&self) -> (Sql, Option<String>) {
        match self {
            Source::Elements { of, alias } => {
                let mut s = Sql::raw("jsonb_path_query(");
                s.append(&super::predicate::json(of))
                    .push(format!(", '$[*]') AS {alias}(v)"));
                (s, None)
            }
            Source::Members { m } => (
                Sql::raw(format!("group_members {m}")),
                Some(format!("{m}.tenant = r.tenant AND {m}.group_id = r.id")),
            ),
            Source::Groups { m, g } => (
                Sql::raw(format!(
                    "group_members {m} LEFT JOIN resources {g} \
                     ON {g}.tenant = {m}.tenant AND {g}.id = {m}.group_id"
                )),
                Some(format!("{m}.tenant = r.tenant AND {m}.member_id = r.id")),
            ),
        }
    }
}

/// `EXISTS (SELECT 1 FROM from WHERE <ties> AND pred)`; `false` when
/// `pred` is.
pub(crate) fn exists(from: &[Source], pred: Sql) -> Sql {
    if pred.as_constant() == Some(false) {
        return Sql::constant(false);
    }
    let mut s = Sql::raw("EXISTS (SELECT 1 FROM ");
    let mut ties = Vec::new();
    for (i, f) in from.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        let (item, tie) = f.sql();
        s.append(&item);
        ties.extend(tie.map(Sql::raw));
    }
    ties.push(pred);
    let cond = super::sql::and(ties);
    if cond.as_constant() != Some(true) {
        s.push(" WHERE ").append(&cond);
    }
    s.push(")");
    s
}
