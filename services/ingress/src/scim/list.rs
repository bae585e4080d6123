//! Lists and searches (RFC 7644 §3.4.2, §3.4.3): filters translated to SQL
//! (`scimbus_db::filter_sql`), sorting, index paging (`startIndex` /
//! `count`) and cursor paging (RFC 9865, keyset-based so pages stay stable
//! while others write).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use scimbus_db::list::{ListQuery, Listed, Relation};
use scimbus_db::members as db_members;
use scimbus_db::render::{self, Relations};
use scimbus_db::{Cursor, FilterSql, Sort};
use scimbus_scim::filter::{self, Filter};
use scimbus_scim::{AttrPath, ListResponse, Projection, ResourceType, ScimError, SortKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

mod cursor;

use cursor::{decode_cursor, encode_cursor};

use super::params::ListParams;
use super::{resource_type, respond};
use crate::body::ScimBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    Path((tenant, rtype)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let p = ListParams::from_query(query.as_deref())?;
    run(&state, &tenant, rt, &p).await
}

pub async fn search(
    State(state): State<AppState>,
    Path((tenant, rtype)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    let rt = resource_type(&state, &rtype)?;
    let p = ListParams::from_search(&body.value)?;
    run(&state, &tenant, rt, &p).await
}

/// `POST /.search` at the root: every resource type the filter applies
/// to, Users first, then Groups; index paging over the whole.
pub async fn search_root(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    body: ScimBody,
) -> ApiResult<Response> {
    let p = ListParams::from_search(&body.value)?;
    if p.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "cursor paging is offered per resource type (/Users/.search, /Groups/.search)",
        )
        .into());
    }
    let filter = parse_filter(&p)?;
    let (start, count) = window(&state, &p);
    let mut first_error = None;
    let mut parts = Vec::new();
    for rt in state.registry.resource_types() {
        let q = match Query::new(&state, &tenant, rt, filter.as_ref(), &p) {
            Ok(q) => q,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let total = q.total(&state).await?;
        parts.push((rt, q, total));
    }
    if parts.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            ScimError::invalid_filter("the filter applies to no resource type").into()
        }));
    }
    let total: u64 = parts.iter().map(|p| p.2).sum();
    let mut skip = start - 1;
    let mut left = count;
    let mut resources = Vec::new();
    for (rt, q, n) in &parts {
        if left == 0 {
            break;
        }
        if skip >= *n {
            skip -= n;
            continue;
        }
        let (rows, _) = q.page(&state, skip, left, None, false).await?;
        skip = 0;
        left -= rows.len() as u64;
        resources.extend(render_rows(&state, &tenant, rt, &q.projection, rows)?);
    }
    let n = resources.len() as u64;
    let body = ListResponse {
        resources,
        total_results: total,
        start_index: Some(start),
        items_per_page: Some(n),
        ..Default::default()
    };
    Ok(respond::scim_json(StatusCode::OK, &body.into_json()))
}

fn parse_filter(p: &ListParams) -> ApiResult<Option<Filter>> {
    Ok(p.filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(filter::parse)
        .transpose()?)
}

/// `startIndex` (1-based; less than 1 is 1) and `count` (negative is 0,
/// more than the maximum is the maximum), as RFC 7644 §3.4.2.4 says.
fn window(state: &AppState, p: &ListParams) -> (u64, u64) {
    let pg = &state.caps.pagination;
    let start = p.start_index.unwrap_or(1).max(1) as u64;
    let count = p
        .count
        .unwrap_or(i64::from(pg.default_page_size))
        .clamp(0, i64::from(pg.max_page_size)) as u64;
    (start, count)
}

/// A list query for one resource type.
struct Query<'a> {
    tenant: &'a str,
    rt: &'a ResourceType,
    /// The filter, translated once for the count and the page.
    filter: Option<FilterSql>,
    sort: Sort,
    projection: Projection,
    relation: Relation,
}

impl<'a> Query<'a> {
    fn new(
        state: &'a AppState,
        tenant: &'a str,
        rt: &'a ResourceType,
        filter: Option<&'a Filter>,
        p: &ListParams,
    ) -> ApiResult<Query<'a>> {
        let filter = filter
            .map(|f| FilterSql::new(&state.registry, rt, f))
            .transpose()?;
        let key = match p.sort_by.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => SortKey::parse(&state.registry, rt, s, p.sort_order.as_deref())?,
            None => SortKey::parse(&state.registry, rt, "id", None)?,
        };
        let projection = Projection::parse(
            &state.registry,
            rt,
            p.attributes.as_deref(),
            p.excluded_attributes.as_deref(),
        )?;
        let wants = |attr: &str| projection.wants(&state.registry, rt, &AttrPath::new(attr, None));
        let relation = if rt.name == "Group" && wants("members") {
            Relation::Members
        } else if rt.name == "User" && wants("groups") {
            Relation::Groups
        } else {
            Relation::None
        };
        Ok(Query {
            tenant,
            rt,
            filter,
            sort: Sort::new(&state.registry, rt, &key),
            projection,
            relation,
        })
    }

    /// What the list asks, as libs/db runs it.
    fn sql(&self) -> ListQuery<'_> {
        ListQuery {
            tenant: self.tenant,
            resource_type: &self.rt.name,
            filter: self.filter.as_ref(),
            sort: &self.sort,
            relation: self.relation,
        }
    }

    async fn total(&self, state: &AppState) -> ApiResult<u64> {
        let q = self.sql();
        let n = state
            .read
            .read(|mut c| async move {
                let r = q.total(&mut c).await;
                (c, r)
            })
            .await?;
        count(n)
    }

    /// Rows `offset..offset+limit` in order, or the `limit` rows after
    /// `after`; with `with_total`, also the number of matching rows.
    async fn page(
        &self,
        state: &AppState,
        offset: u64,
        limit: u64,
        after: Option<&Cursor>,
        with_total: bool,
    ) -> ApiResult<(Vec<Listed>, Option<u64>)> {
        if limit == 0 {
            return Ok((Vec::new(), None));
        }
        let after = after.map(|c| self.sort.after(c)).transpose()?;
        let after = after.as_ref();
        let limit = i64::try_from(limit).map_err(|e| ApiError::internal("a page size", &e))?;
        let offset = i64::try_from(offset).map_err(|e| ApiError::internal("a page start", &e))?;
        let q = self.sql();
        let (rows, total) = state
            .read
            .read(|mut c| async move {
                let r = q.page(&mut c, offset, limit, after, with_total).await;
                (c, r)
            })
            .await?;
        Ok((rows, total.map(count).transpose()?))
    }

    /// A fingerprint of what the query asks, carried in cursors so a cursor
    /// is not used with another query.
    fn fingerprint(&self, p: &ListParams) -> String {
        let mut h = Sha256::new();
        for part in [
            Some(self.tenant),
            Some(self.rt.name.as_str()),
            p.filter.as_deref(),
            p.sort_by.as_deref(),
            p.sort_order.as_deref(),
        ] {
            h.update(part.unwrap_or("\u{0}").as_bytes());
            h.update([0xff]);
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

async fn run(
    state: &AppState,
    tenant: &str,
    rt: &ResourceType,
    p: &ListParams,
) -> ApiResult<Response> {
    let filter = parse_filter(p)?;
    let q = Query::new(state, tenant, rt, filter.as_ref(), p)?;
    let (start, count) = window(state, p);
    let mut body = ListResponse::default();
    let rows = match &p.cursor {
        Some(c) => {
            if p.start_index.is_some() {
                return Err(ScimError::invalid_value(
                    "startIndex and cursor cannot be used together",
                )
                .into());
            }
            let fingerprint = q.fingerprint(p);
            let after = if c.is_empty() {
                None
            } else {
                Some(decode_cursor(c, &fingerprint)?)
            };
            body.total_results = q.total(state).await?;
            let (mut rows, _) = q.page(state, 0, count + 1, after.as_ref(), false).await?;
            if rows.len() as u64 > count {
                rows.truncate(count as usize);
                if let Some(last) = rows.last() {
                    body.next_cursor = Some(encode_cursor(
                        &Cursor {
                            value: last.sort_value.clone(),
                            id: last.row.id,
                        },
                        &fingerprint,
                    ));
                }
            }
            rows
        }
        None => {
            body.start_index = Some(start);
            let (rows, total) = q.page(state, start - 1, count, None, true).await?;
            body.total_results = match total {
                Some(t) => t,
                // An empty page (count=0, or past the end) has no window count.
                None => q.total(state).await?,
            };
            rows
        }
    };
    body.items_per_page = Some(rows.len() as u64);
    body.resources = render_rows(state, tenant, rt, &q.projection, rows)?;
    Ok(respond::scim_json(StatusCode::OK, &body.into_json()))
}

/// Renders rows with the derived list their query fetched.
fn render_rows(
    state: &AppState,
    tenant: &str,
    rt: &ResourceType,
    proj: &Projection,
    rows: Vec<Listed>,
) -> ApiResult<Vec<Value>> {
    let mut out = Vec::with_capacity(rows.len());
    for Listed { row, related, .. } in rows {
        let (members, groups): (Option<Vec<db_members::Member>>, _) = match related {
            None => (None, None),
            // `member_type` is `not null`.
            Some(list) if rt.name == "Group" => (
                Some(
                    list.into_iter()
                        .map(|(id, t)| {
                            t.map(|t| (id, t)).ok_or_else(|| {
                                ApiError::internal("a group member", &format!("{id} has no type"))
                            })
                        })
                        .collect::<ApiResult<_>>()?,
                ),
                None,
            ),
            Some(list) => (None, Some(list)),
        };
        let mut r = render::into_resource(
            row,
            Relations {
                members: members.as_deref(),
                groups: groups.as_deref(),
            },
        );
        respond::locate(state, tenant, rt, &mut r);
        out.push(proj.project(&state.registry, rt, r));
    }
    Ok(out)
}

/// A `count(*)` as a number of results: never negative, or Postgres
/// answered something that is not a count.
fn count(n: i64) -> ApiResult<u64> {
    u64::try_from(n).map_err(|_| ApiError::internal("Postgres counted", &format!("{n} rows")))
}
