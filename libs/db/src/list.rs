//! A page of one tenant's resources of one type: filtered (a translated
//! SCIM filter), sorted, by index (`offset`) or after a cursor (keyset),
//! each row with its sort value and, if asked, its derived list (a group's
//! members, a user's groups) aggregated in the same query.

use sqlx::{PgExecutor, Postgres, QueryBuilder, Row as _};
use uuid::Uuid;

use crate::resources::Row;
use crate::{FilterSql, Sort, SortValue};

/// Which derived list a page carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    None,
    /// A group's members: (id, type).
    Members,
    /// A user's groups: (id, displayName).
    Groups,
}

/// A derived list: ids with their type (members) or display name (groups).
pub type Related = Vec<(Uuid, Option<String>)>;

/// One row of a page: the resource, its sort value, its derived list.
#[derive(Debug)]
pub struct Listed {
    pub row: Row,
    pub sort_value: SortValue,
    pub related: Option<Related>,
}

/// What a list asks.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    pub tenant: &'a str,
    pub resource_type: &'a str,
    pub filter: Option<&'a FilterSql>,
    pub sort: &'a Sort,
    pub relation: Relation,
}

impl ListQuery<'_> {
    /// How many resources match.
    pub async fn total(&self, db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
        let mut qb = QueryBuilder::new("select count(*) from resources r");
        self.push_where(&mut qb);
        qb.build_query_scalar().fetch_one(db).await
    }

    /// Rows `offset..offset+limit` in order, or the `limit` rows after
    /// `after` (a keyset condition from [`Sort::after`]) — one query. With
    /// `with_total`, also the number of matching rows (a window count;
    /// `None` when the page is empty).
    pub async fn page(
        &self,
        db: impl PgExecutor<'_>,
        offset: i64,
        limit: i64,
        after: Option<&FilterSql>,
        with_total: bool,
    ) -> sqlx::Result<(Vec<Listed>, Option<i64>)> {
        let rows = self
            .page_query(offset, limit, after, with_total)
            .build()
            .fetch_all(db)
            .await?;
        let mut total = None;
        let listed = rows
            .iter()
            .map(|r| {
                if with_total {
                    total = Some(r.try_get::<i64, _>("total")?);
                }
                let related = match self.relation {
                    Relation::None => None,
                    _ => Some(r.try_get::<sqlx::types::Json<Related>, _>("rel")?.0),
                };
                Ok(Listed {
                    row: Row {
                        id: r.try_get("id")?,
                        resource_type: r.try_get("resource_type")?,
                        version: r.try_get("version")?,
                        created: r.try_get("created")?,
                        last_modified: r.try_get("last_modified")?,
                        doc: r.try_get("doc")?,
                    },
                    sort_value: self.sort.read(r, "sort_key")?,
                    related,
                })
            })
            .collect::<sqlx::Result<Vec<Listed>>>()?;
        Ok((listed, total))
    }

    fn push_where(&self, qb: &mut QueryBuilder<Postgres>) {
        qb.push(" where r.tenant = ");
        qb.push_bind(self.tenant.to_string());
        qb.push(" and r.resource_type = ");
        qb.push_bind(self.resource_type.to_string());
        if let Some(f) = self.filter {
            qb.push(" and ");
            f.push(qb);
        }
    }

    fn page_query(
        &self,
        offset: i64,
        limit: i64,
        after: Option<&FilterSql>,
        with_total: bool,
    ) -> QueryBuilder<Postgres> {
        let mut qb = QueryBuilder::new(
            "select r.id, r.resource_type, r.version, r.created, r.last_modified, r.doc, ",
        );
        self.sort.push_value(&mut qb);
        qb.push(" as sort_key");
        if with_total {
            qb.push(", count(*) over () as total");
        }
        match self.relation {
            Relation::None => {}
            Relation::Members => {
                qb.push(
                    ", (select coalesce(json_agg(json_build_array(m.member_id, m.member_type) \
                     order by m.member_id), '[]') from group_members m \
                     where m.tenant = r.tenant and m.group_id = r.id) as rel",
                );
            }
            Relation::Groups => {
                qb.push(
                    ", (select coalesce(json_agg(json_build_array(g.id, g.display_name) \
                     order by g.id), '[]') from group_members m \
                     join resources g on g.tenant = m.tenant and g.id = m.group_id \
                     where m.tenant = r.tenant and m.member_id = r.id) as rel",
                );
            }
        }
        qb.push(" from resources r");
        self.push_where(&mut qb);
        if let Some(after) = after {
            qb.push(" and ");
            after.push(&mut qb);
        }
        qb.push(" order by ");
        self.sort.push_order_by(&mut qb);
        qb.push(" limit ");
        qb.push_bind(limit);
        if offset > 0 {
            qb.push(" offset ");
            qb.push_bind(offset);
        }
        qb
    }
}
