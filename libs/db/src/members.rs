//! Group membership, one row per member: adding or removing one member of a
//! 100 000-member group touches one row.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A member: its id and resource type (`User` or `Group`).
pub type Member = (Uuid, String);

/// Which of `ids` exist in the tenant, with their resource types.
pub async fn existing(
    conn: &mut PgConnection,
    tenant: &str,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as("select id, resource_type from resources where tenant = $1 and id = any($2)")
        // Planned for the table as it is (crate docs).
        .persistent(false)
        .bind(tenant)
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Adds members; returns the ids that were not members before.
pub async fn add(
    conn: &mut PgConnection,
    tenant: &str,
    group: Uuid,
    members: &[Member],
) -> sqlx::Result<Vec<Uuid>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, types): (Vec<Uuid>, Vec<String>) = members.iter().cloned().unzip();
    sqlx::query_scalar(
        "insert into group_members (tenant, group_id, member_id, member_type)
         select $1, $2, m.id, m.t from unnest($3::uuid[], $4::text[]) as m(id, t)
         on conflict do nothing
         returning member_id",
    )
    .bind(tenant)
    .bind(group)
    .bind(ids)
    .bind(types)
    .fetch_all(conn)
    .await
}

/// Removes members; returns the ids that were members.
pub async fn remove(
    conn: &mut PgConnection,
    tenant: &str,
    group: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "delete from group_members where tenant = $1 and group_id = $2 and member_id = any($3)
         returning member_id",
    )
    // Planned for the table as it is (crate docs).
    .persistent(false)
    .bind(tenant)
    .bind(group)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Removes every member; returns their ids.
pub async fn remove_all(
    conn: &mut PgConnection,
    tenant: &str,
    group: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "delete from group_members where tenant = $1 and group_id = $2 returning member_id",
    )
    .bind(tenant)
    .bind(group)
    .fetch_all(conn)
    .await
}

/// The members of a group, in id order.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    group: Uuid,
) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as(
        "select member_id, member_type from group_members
         where tenant = $1 and group_id = $2 order by member_id",
    )
    .bind(tenant)
    .bind(group)
    .fetch_all(db)
    .await
}

/// The members of a group, in id order, if it has at most `most`; `None`
/// if it has more. Postgres counts no further than one past `most`, once,
/// and rows are sent only for a group within it; no rows is an empty group
/// or one past it, which one a look at its first member tells.
pub async fn list_at_most(
    conn: &mut PgConnection,
    tenant: &str,
    group: Uuid,
    most: i64,
) -> sqlx::Result<Option<Vec<Member>>> {
    let list: Vec<Member> = sqlx::query_as(
        "select member_id, member_type from group_members
         where tenant = $1 and group_id = $2
           and not exists (select from group_members where tenant = $1 and group_id = $2 offset $3)
         order by member_id",
    )
    .bind(tenant)
    .bind(group)
    .bind(most)
    .fetch_all(&mut *conn)
    .await?;
    if !list.is_empty() {
        return Ok(Some(list));
    }
    let any: bool = sqlx::query_scalar(
        "select exists (select from group_members where tenant = $1 and group_id = $2)",
    )
    .bind(tenant)
    .bind(group)
    .fetch_one(conn)
    .await?;
    Ok((!any).then_some(list))
}

/// The groups a resource is a direct member of, with their display names.
pub async fn groups_of<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    member: Uuid,
) -> sqlx::Result<Vec<(Uuid, Option<String>)>> {
    sqlx::query_as(
        "select g.id, g.display_name from group_members m
         join resources g on g.tenant = m.tenant and g.id = m.group_id
         where m.tenant = $1 and m.member_id = $2 order by g.id",
    )
    .bind(tenant)
    .bind(member)
    .fetch_all(db)
    .await
}

/// The members of several groups, in id order per group.
pub async fn list_many<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    groups: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Vec<Member>>> {
    let rows: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "select group_id, member_id, member_type from group_members
         where tenant = $1 and group_id = any($2) order by group_id, member_id",
    )
    .bind(tenant)
    .bind(groups)
    .fetch_all(db)
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<Member>> = std::collections::HashMap::new();
    for (g, m, t) in rows {
        out.entry(g).or_default().push((m, t));
    }
    Ok(out)
}

/// The groups of several members, in id order per member.
pub async fn groups_of_many<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    members: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Vec<(Uuid, Option<String>)>>> {
    let rows: Vec<(Uuid, Uuid, Option<String>)> = sqlx::query_as(
        "select m.member_id, g.id, g.display_name from group_members m
         join resources g on g.tenant = m.tenant and g.id = m.group_id
         where m.tenant = $1 and m.member_id = any($2) order by m.member_id, g.id",
    )
    // Planned for the table as it is (crate docs).
    .persistent(false)
    .bind(tenant)
    .bind(members)
    .fetch_all(db)
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<(Uuid, Option<String>)>> =
        std::collections::HashMap::new();
    for (m, g, name) in rows {
        out.entry(m).or_default().push((g, name));
    }
    Ok(out)
}
