//! `sortBy` / `sortOrder` as SQL: an `ORDER BY` that agrees with
//! [`SortKey::compare`], and keyset pagination over it.
//!
//! The sort key is one typed SQL expression per row, NULL where
//! `SortKey` finds no data. Ascending is `key ASC NULLS LAST, r.id ASC`;
//! descending its exact reverse, `key DESC NULLS FIRST, r.id DESC`, so the
//! `(tenant, resource_type, last_modified, id)` index serves both. Ties
//! break on `id` (where `SortKey::sort`, a stable sort, keeps the input
//! order).

use chrono::{DateTime, Utc};
use scimbus_scim::registry::{GROUP_SCHEMA, USER_SCHEMA};
use scimbus_scim::{
    AttributeType, Registry, Resolved, ResourceType, ScimError, ScimType, SortKey, SortOrder,
};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::FilterSql;
use super::datetime::parse_text;
use super::sql::{Arg, Sql};

/// The value a row sorts by, as [`Sort::read`] reads it back.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    /// No data for the key.
    Null,
    /// A string, lower-cased (by Postgres) unless the attribute is caseExact.
    Text(String),
    Instant(DateTime<Utc>),
    Integer(i64),
    Decimal(f64),
    Boolean(bool),
    Uuid(Uuid),
}

/// Where a page ends: the last row's sort value and id. Rows "after" it
/// are those that come later in the order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub value: SortValue,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Instant,
    Integer,
    Decimal,
    Boolean,
    Uuid,
}

/// A [`SortKey`] resolved for SQL over a `resources` row aliased `r`.
#[derive(Debug, Clone)]
pub struct Sort {
    key: Sql,
    kind: Kind,
    /// The key is a column that is never NULL.
    never_null: bool,
    descending: bool,
}

impl Sort {
    /// Resolves `key` for resources of type `rt`. A key that no longer
    /// resolves sorts everything equal, as `SortKey::compare` does.
    pub fn new(registry: &Registry, rt: &ResourceType, key: &SortKey) -> Sort {
        let descending = key.order == SortOrder::Descending;
        let (key, kind, never_null) = match registry.resolve(rt, &key.path) {
            Ok(res) => key_sql(rt, &res),
            Err(_) => (Sql::raw("NULL::text"), Kind::Text, false),
        };
        Sort {
            key,
            kind,
            never_null,
            descending,
        }
    }

    /// Pushes the `ORDER BY` list (without the keywords `ORDER BY`).
    pub fn push_order_by(&self, qb: &mut QueryBuilder<Postgres>) {
        let dir = if self.descending {
            " DESC NULLS FIRST, r.id DESC"
        } else {
            " ASC NULLS LAST, r.id ASC"
        };
        let mut s = self.key.paren();
        s.push(dir);
        s.emit(qb);
    }

    /// Pushes the sort key expression, to select it for [`Sort::read`].
    pub fn push_value(&self, qb: &mut QueryBuilder<Postgres>) {
        self.key.paren().emit(qb);
    }

    /// Reads the sort key selected with [`Sort::push_value`] from a row.
    pub fn read(&self, row: &PgRow, column: &str) -> Result<SortValue, sqlx::Error> {
        Ok(match self.kind {
            Kind::Text => row
                .try_get::<Option<String>, _>(column)?
                .map(SortValue::Text),
            Kind::Instant => row
                .try_get::<Option<DateTime<Utc>>, _>(column)?
                .map(SortValue::Instant),
            Kind::Integer => row
                .try_get::<Option<i64>, _>(column)?
                .map(SortValue::Integer),
            Kind::Decimal => row
                .try_get::<Option<f64>, _>(column)?
                .map(SortValue::Decimal),
            Kind::Boolean => row
                .try_get::<Option<bool>, _>(column)?
                .map(SortValue::Boolean),
            Kind::Uuid => row.try_get::<Option<Uuid>, _>(column)?.map(SortValue::Uuid),
        }
        .unwrap_or(SortValue::Null))
    }

    /// Pushes the predicate "comes after `cursor` in this order" (keyset
    /// pagination). A cursor value of the wrong type (not from this key) is
    /// `invalidCursor` (RFC 9865).
    pub fn push_after(
        &self,
        qb: &mut QueryBuilder<Postgres>,
        cursor: &Cursor,
    ) -> Result<(), ScimError> {
        self.after(cursor)?.push(qb);
        Ok(())
    }

    /// The predicate of [`Sort::push_after`], checked and built once, to
    /// push into a query built more than once (a read run again).
    pub fn after(&self, cursor: &Cursor) -> Result<FilterSql, ScimError> {
        let k = self.key.paren();
        let id = || {
            let mut s = Sql::new();
            s.bind(Arg::Uuid(cursor.id));
            s
        };
        let (cmp, null_side) = if self.descending {
            ("<", "IS NOT NULL")
        } else {
            (">", "IS NULL")
        };
        let mut s = Sql::raw("(");
        match self.arg(&cursor.value)? {
            // Among the rows without data: by id; then (descending) every
            // row with data.
            None => {
                s.append(&k)
                    .push(format!(" IS NULL AND r.id {cmp} "))
                    .append(&id());
                if self.descending {
                    s.push(") OR (").append(&k).push(" IS NOT NULL");
                }
            }
            Some(v) => {
                s.push("(").append(&k).push(", r.id) ");
                s.push(cmp)
                    .push(" (")
                    .bind(v)
                    .push(", ")
                    .append(&id())
                    .push(")");
                if !self.descending && !self.never_null {
                    s.push(" OR ").append(&k).push(format!(" {null_side}"));
                }
            }
        }
        s.push(")");
        Ok(FilterSql(s.paren()))
    }

    fn arg(&self, v: &SortValue) -> Result<Option<Arg>, ScimError> {
        Ok(Some(match (self.kind, v) {
            (_, SortValue::Null) => return Ok(None),
            (Kind::Text, SortValue::Text(s)) => Arg::Text(s.clone()),
            (Kind::Instant, SortValue::Instant(t)) => Arg::Instant(*t),
            (Kind::Integer, SortValue::Integer(i)) => Arg::Int(*i),
            (Kind::Decimal, SortValue::Decimal(f)) => Arg::Float(*f),
            (Kind::Boolean, SortValue::Boolean(b)) => Arg::Bool(*b),
            (Kind::Uuid, SortValue::Uuid(u)) => Arg::Uuid(*u),
            _ => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidCursor,
                    "the cursor does not belong to this sort order",
                ));
            }
        }))
    }
}

/// Pushes the `ORDER BY` list for `key` (see [`Sort`]).
pub fn push_order_by(
    qb: &mut QueryBuilder<Postgres>,
    registry: &Registry,
    rt: &ResourceType,
    key: &SortKey,
) {
    Sort::new(registry, rt, key).push_order_by(qb);
}

/// The key expression, its kind, and whether it is never NULL.
fn key_sql(rt: &ResourceType, res: &Resolved<'_>) -> (Sql, Kind, bool) {
    let leaf = res.leaf();
    let fold = |col: &str| {
        let e = if leaf.case_exact {
            col.to_string()
        } else {
            format!("lower({col})")
        };
        Sql::raw(format!("{e} COLLATE \"C\""))
    };
    let core = res.extension.is_none();
    let is = |schema: &str| rt.schema.eq_ignore_ascii_case(schema);
    let sub = res.sub.map(|s| s.name.as_str());
    let text = |col: &str| (fold(col), Kind::Text, false);
    match (res.attr.name.as_str(), sub) {
        ("id", _) if core => return (Sql::raw("r.id"), Kind::Uuid, true),
        ("externalId", _) if core => return text("r.external_id"),
        ("meta", Some("created")) if core => return (Sql::raw("r.created"), Kind::Instant, true),
        ("meta", Some("lastModified")) if core => {
            return (Sql::raw("r.last_modified"), Kind::Instant, true);
        }
        ("meta", Some("resourceType")) if core => {
            return (fold("r.resource_type"), Kind::Text, true);
        }
        ("meta", Some("version")) if core => {
            return (fold("('W/\"' || r.version || '\"')"), Kind::Text, true);
        }
        ("meta", _) if core => return (Sql::raw("NULL::text"), Kind::Text, false),
        ("userName", None) if core && is(USER_SCHEMA) => return text("r.user_name"),
        ("displayName", None) if core && (is(USER_SCHEMA) || is(GROUP_SCHEMA)) => {
            return text("r.display_name");
        }
        ("active", None) if core && is(USER_SCHEMA) => {
            return (Sql::raw("r.active"), Kind::Boolean, false);
        }
        // Derived lists: the first element, in the order the read path
        // renders them (by id).
        ("groups", _) if core && is(USER_SCHEMA) => {
            let col = match sub {
                Some("value") => "m.group_id::text",
                Some("display") => "g.display_name",
                Some("type") => "'direct'",
                _ => "NULL::text",
            };
            let mut s = Sql::raw("(SELECT ");
            s.append(&fold(col)).push(
                " FROM group_members m LEFT JOIN resources g \
                 ON g.tenant = m.tenant AND g.id = m.group_id \
                 WHERE m.tenant = r.tenant AND m.member_id = r.id \
                 ORDER BY m.group_id LIMIT 1)",
            );
            return (s, Kind::Text, false);
        }
        ("members", _) if core && is(GROUP_SCHEMA) => {
            let col = match sub {
                Some("value") => "m.member_id::text",
                Some("type") => "m.member_type",
                _ => "NULL::text",
            };
            let mut s = Sql::raw("(SELECT ");
            s.append(&fold(col)).push(
                " FROM group_members m WHERE m.tenant = r.tenant AND m.group_id = r.id \
                 ORDER BY m.member_id LIMIT 1)",
            );
            return (s, Kind::Text, false);
        }
        _ => {}
    }
    json_key(res)
}

/// A key inside `doc`: the attribute's value, or of a multi-valued one its
/// `primary` element, else its first; then the sub-attribute; kept only
/// if it has the attribute's type (`sort::normalise`).
fn json_key(res: &Resolved<'_>) -> (Sql, Kind, bool) {
    let leaf = res.leaf();
    let mut path = Sql::raw("r.doc");
    if let Some(urn) = res.extension {
        path.push(" -> ").push_key(urn);
    }
    path.push(" -> ").push_key(&res.attr.name);
    let pick = |v: &Sql| {
        let mut v = v.clone();
        if let Some(sub) = res.sub {
            v.push(" -> ").push_key(&sub.name);
        }
        v.paren()
    };
    let (norm, kind) = normalise(leaf.kind, leaf.case_exact, &pick(&Sql::raw("e.v")));
    if res.attr.multi_valued {
        let mut s = Sql::raw("(SELECT ");
        s.append(&norm)
            .push(" FROM jsonb_path_query(")
            .append(&path)
            .push(
                ", '$[*]') WITH ORDINALITY AS e(v, i) \
                 ORDER BY (e.v -> 'primary' = 'true'::jsonb) IS TRUE DESC, e.i LIMIT 1)",
            );
        (s, kind, false)
    } else {
        let (norm, kind) = normalise(leaf.kind, leaf.case_exact, &pick(&path));
        (norm, kind, false)
    }
}

/// A `jsonb` value as a typed key, NULL unless it fits `kind`.
fn normalise(kind: AttributeType, case_exact: bool, v: &Sql) -> (Sql, Kind) {
    let when = |t: &str, then: Sql| {
        let mut s = Sql::raw("(CASE WHEN jsonb_typeof(");
        s.append(v)
            .push(format!(") = '{t}' THEN "))
            .append(&then)
            .push(" END)");
        s
    };
    let cast = |ty: &str| {
        let mut s = v.clone();
        s.push(format!("::{ty}"));
        s
    };
    let mut text = v.clone();
    text.push(" #>> '{}'");
    match kind {
        AttributeType::String | AttributeType::Reference => {
            let folded = if case_exact {
                text
            } else {
                let mut s = Sql::raw("lower(");
                s.append(&text).push(")");
                s
            };
            let mut s = when("string", folded);
            s.push(" COLLATE \"C\"");
            (s, Kind::Text)
        }
        AttributeType::DateTime => (parse_text(&when("string", text)), Kind::Instant),
        AttributeType::Integer => {
            // `as_i64`: integers written without fraction or exponent, in
            // range (Postgres keeps the scale of a JSON number).
            let mut inner = Sql::raw("CASE WHEN scale(");
            inner
                .append(&cast("numeric"))
                .push(") = 0 AND ")
                .append(&cast("numeric"))
                .push(" BETWEEN -9223372036854775808 AND 9223372036854775807 THEN ")
                .append(&cast("numeric"))
                .push("::int8 END");
            (when("number", inner), Kind::Integer)
        }
        AttributeType::Decimal => (when("number", cast("float8")), Kind::Decimal),
        AttributeType::Boolean => (when("boolean", cast("boolean")), Kind::Boolean),
        AttributeType::Binary | AttributeType::Complex => (Sql::raw("NULL::text"), Kind::Text),
    }
}
