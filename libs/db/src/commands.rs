//! Applied commands: the idempotency record. A command's result is stored
//! in the transaction that applied it, so a redelivered or retried command
//! finds it and is answered with it instead of being applied again.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

/// The recorded (encoded `CommandResult`) results of those of `ids` that
/// were applied before.
pub async fn recorded(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<u8>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(
        "select command_id, result from applied_commands where command_id = any($1)",
    )
    // Planned for the table as it is (crate docs).
    .persistent(false)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The recorded result of one command, if it was applied.
pub async fn result_of<'e>(
    db: impl sqlx::PgExecutor<'e>,
    id: Uuid,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("select result from applied_commands where command_id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Records applied commands with their results.
pub async fn record(
    conn: &mut PgConnection,
    tenant_ids_results: &[(&str, Uuid, Vec<u8>)],
) -> sqlx::Result<()> {
    if tenant_ids_results.is_empty() {
        return Ok(());
    }
    let tenants: Vec<&str> = tenant_ids_results.iter().map(|r| r.0).collect();
    let ids: Vec<Uuid> = tenant_ids_results.iter().map(|r| r.1).collect();
    let results: Vec<&[u8]> = tenant_ids_results.iter().map(|r| r.2.as_slice()).collect();
    sqlx::query(
        "insert into applied_commands (tenant, command_id, result)
         select * from unnest($1::text[], $2::uuid[], $3::bytea[])",
    )
    .bind(tenants)
    .bind(ids)
    .bind(results)
    .execute(conn)
    .await?;
    Ok(())
}
