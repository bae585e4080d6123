//! HR events that are due: the rows the store's sweep takes to publish
//! their commands, and the id each such command carries.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A pending event that is due: what the store needs to publish its command.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Due {
    pub tenant: String,
    pub id: Uuid,
    pub source: String,
    pub employee_id: String,
    pub due_at: DateTime<Utc>,
}

/// Takes up to `limit` pending events that are due at `now` and whose
/// command was never published or not within `republish_after` seconds,
/// marks them published, in due order. Replicas running this together
/// take different rows (`skip locked`); the caller publishes after its
/// transaction commits, and a publish lost then is taken up again later.
pub async fn take_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    republish_after_secs: f64,
    limit: i64,
) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        "with due as (
             select tenant, id from hr_events
             where status in ('received', 'scheduled') and due_at <= $1
               and (published_at is null
                    or published_at < $1 - make_interval(secs => $2))
             order by due_at, id
             limit $3
             for update skip locked
         )
         update hr_events e set published_at = $1
         from due d where e.tenant = d.tenant and e.id = d.id
         returning e.tenant, e.id, e.source, e.employee_id, e.due_at",
    )
    .bind(now)
    .bind(republish_after_secs)
    .bind(limit)
    .fetch_all(conn)
    .await
}
