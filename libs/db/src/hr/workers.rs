//! What the store knows of each person an HR source manages
//! (`hr_workers`): their user, their manager as HR said, and when each
//! attribute HR set took effect.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A person, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Worker {
    pub employee_id: String,
    pub user_id: Option<Uuid>,
    pub manager_id: Option<String>,
    /// `{"<attribute>": ["<effective RFC 3339>", "<hr event id>"]}`.
    pub attributes: Value,
    /// Attributes the identity provider wrote on the user.
    pub idp_set: Vec<String>,
}

/// `select <the columns of a Worker> from hr_workers <rest>`.
macro_rules! select_worker {
    ($rest:literal) => {
        concat!(
            "select employee_id, user_id, manager_id, attributes, idp_set from hr_workers ",
            $rest
        )
    };
}

/// Reads a person and locks the row for the rest of the transaction,
/// making it first if there is none: every event of one person is applied
/// under this lock, one after the other.
pub async fn lock(
    conn: &mut PgConnection,
    tenant: &str,
    employee_id: &str,
) -> sqlx::Result<Worker> {
    // One statement: `do update` locks the row that is there, as the
    // insert locks the row it makes.
    sqlx::query_as(
        "insert into hr_workers (tenant, employee_id) values ($1, $2)
         on conflict (tenant, employee_id) do update set employee_id = excluded.employee_id
         returning employee_id, user_id, manager_id, attributes, idp_set",
    )
    .bind(tenant)
    .bind(employee_id)
    .fetch_one(conn)
    .await
}

/// Writes a person back.
pub async fn save(conn: &mut PgConnection, tenant: &str, w: &Worker) -> sqlx::Result<()> {
    sqlx::query(
        "update hr_workers set user_id = $3, manager_id = $4, attributes = $5, idp_set = $6,
             updated_at = now()
         where tenant = $1 and employee_id = $2",
    )
    .bind(tenant)
    .bind(&w.employee_id)
    .bind(w.user_id)
    .bind(&w.manager_id)
    .bind(&w.attributes)
    .bind(&w.idp_set)
    .execute(conn)
    .await?;
    Ok(())
}

/// The person a user is (a SCIM write to an HR-managed user). Not
/// locked: HR's apply locks the person before the user, a SCIM write the
/// user first; the write only adds to `idp_set` ([`add_idp_set`]).
pub async fn by_user(
    conn: &mut PgConnection,
    tenant: &str,
    user_id: Uuid,
) -> sqlx::Result<Option<Worker>> {
    sqlx::query_as(select_worker!("where tenant = $1 and user_id = $2"))
        .bind(tenant)
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Which of these users HR manages (has a worker of).
pub async fn managed(
    conn: &mut PgConnection,
    tenant: &str,
    user_ids: &[Uuid],
) -> sqlx::Result<std::collections::HashSet<Uuid>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select user_id from hr_workers where tenant = $1 and user_id = any($2)",
    )
    .bind(tenant)
    .bind(user_ids)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().collect())
}

/// Records attributes the identity provider wrote on a person's user.
pub async fn add_idp_set(
    conn: &mut PgConnection,
    tenant: &str,
    employee_id: &str,
    attributes: &[String],
) -> sqlx::Result<()> {
    sqlx::query(
        "update hr_workers
         set idp_set = array(select distinct unnest(idp_set || $3::text[]) order by 1),
             updated_at = now()
         where tenant = $1 and employee_id = $2",
    )
    .bind(tenant)
    .bind(employee_id)
    .bind(attributes)
    .execute(conn)
    .await?;
    Ok(())
}

/// The people whose manager (as HR said) is `manager_id` and who have a
/// user: their employee ids and users.
pub async fn reports_of(
    conn: &mut PgConnection,
    tenant: &str,
    manager_id: &str,
) -> sqlx::Result<Vec<(String, Uuid)>> {
    sqlx::query_as(
        "select employee_id, user_id from hr_workers
         where tenant = $1 and manager_id = $2 and user_id is not null
         order by employee_id",
    )
    // Planned for the value at hand, never as a cached generic plan: one
    // manager with thousands of reports makes the generic estimate a
    // scan of the whole table, for the many people who have no reports.
    .persistent(false)
    .bind(tenant)
    .bind(manager_id)
    .fetch_all(conn)
    .await
}

/// The user with this externalId, when exactly one has it (the oldest
/// when several do: correlation must not flip between them).
pub async fn user_by_external_id(
    conn: &mut PgConnection,
    tenant: &str,
    external_id: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select id from resources
         where tenant = $1 and resource_type = 'User' and external_id = $2
         order by created, id limit 1",
    )
    .bind(tenant)
    .bind(external_id)
    .fetch_optional(conn)
    .await
}
