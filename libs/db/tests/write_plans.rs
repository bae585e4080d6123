//! The store's per-batch lookups read through their indexes however small
//! the table was when the store's session first ran them (real Postgres).
//!
//! Postgres caches a generic plan for a prepared statement after a few runs
//! and keeps it until the table's statistics change. Made on a new install,
//! or after a truncate, it is a scan of a table that then grows by every
//! batch, until autovacuum next analyzes it: a minute of every batch reading
//! every row so far.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// Scans of `table` by `conn`'s session not yet reported to the
/// statistics: (sequential, index).
async fn scans(conn: &mut PgConnection, table: &str) -> (i64, i64) {
    sqlx::query_as(
        "select coalesce(sum(seq_scan), 0)::int8, coalesce(sum(idx_scan), 0)::int8
           from pg_stat_xact_user_tables where relname = $1",
    )
    .bind(table)
    .fetch_one(conn)
    .await
    .unwrap()
}

fn ids(n: usize) -> Vec<Uuid> {
    (0..n).map(|_| Uuid::now_v7()).collect()
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn the_idempotency_lookup_reads_its_index_after_the_table_grew_under_a_running_session(
    pool: PgPool,
) {
    scimbus_db::tenants::ensure(&pool, &["acme".to_string()])
        .await
        .unwrap();
    // Empty and analyzed, as on a new install or after a truncate; and no
    // autovacuum to analyze it again while the test runs (that would hide
    // a stale plan).
    // (Two statements: a vacuum cannot run in the implicit transaction of
    // several.)
    for sql in [
        "alter table applied_commands set (autovacuum_enabled = false)",
        "vacuum (analyze) applied_commands",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }

    // The store's session runs its lookup batch after batch: more than
    // the five runs after which Postgres may settle on a generic plan.
    let mut session = pool.acquire().await.unwrap().detach();
    for _ in 0..10 {
        let found = scimbus_db::commands::recorded(&mut session, &ids(15))
            .await
            .unwrap();
        assert!(found.is_empty());
    }

    // The table grows (the results are the size of a resource).
    sqlx::query(
        "insert into applied_commands (tenant, command_id, result)
         select 'acme', gen_random_uuid(), convert_to(repeat('r', 1500), 'UTF8')
           from generate_series(1, 20000)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let known = ids(3);
    let recorded: Vec<(&str, Uuid, Vec<u8>)> = known
        .iter()
        .map(|id| ("acme", *id, vec![7u8; 40]))
        .collect();
    let mut conn = pool.acquire().await.unwrap();
    scimbus_db::commands::record(&mut conn, &recorded)
        .await
        .unwrap();
    drop(conn);

    // The view counts what this session has not yet reported (earlier
    // transactions' scans too): the lookup's own are the difference.
    let mut tx = session.begin().await.unwrap();
    let before = scans(&mut tx, "applied_commands").await;
    let mut asked = ids(12);
    asked.extend(&known);
    let found = scimbus_db::commands::recorded(&mut tx, &asked)
        .await
        .unwrap();
    assert_eq!(found.len(), 3, "the recorded commands are found");
    assert!(known.iter().all(|id| found[id] == vec![7u8; 40]));
    let after = scans(&mut tx, "applied_commands").await;
    let (seq, idx) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(
        (seq, idx > 0),
        (0, true),
        "applied_commands was scanned ({seq}) instead of read through its index"
    );
    tx.rollback().await.unwrap();
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_patch_batch_locks_its_rows_through_the_index_after_the_table_grew_under_a_running_session(
    pool: PgPool,
) {
    scimbus_db::tenants::ensure(&pool, &["acme".to_string()])
        .await
        .unwrap();
    for sql in [
        "alter table resources set (autovacuum_enabled = false)",
        "vacuum (analyze) resources",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    let mut session = pool.acquire().await.unwrap().detach();
    for _ in 0..10 {
        let mut tx = session.begin().await.unwrap();
        let rows = scimbus_db::resources::lock_many(&mut tx, "acme", "User", &ids(15))
            .await
            .unwrap();
        assert!(rows.is_empty());
        tx.commit().await.unwrap();
    }
    sqlx::query(
        "insert into resources (tenant, id, resource_type, user_name, version, created, last_modified, doc)
         select 'acme', gen_random_uuid(), 'User', 'user-' || i, 1, now(), now(),
                jsonb_build_object('userName', 'user-' || i, 'title', repeat('t', 1300))
           from generate_series(1, 20000) i",
    )
    .execute(&pool)
    .await
    .unwrap();
    let some: Vec<Uuid> =
        sqlx::query_scalar("select id from resources where tenant = 'acme' limit 5")
            .fetch_all(&pool)
            .await
            .unwrap();

    let mut tx = session.begin().await.unwrap();
    let before = scans(&mut tx, "resources").await;
    let mut asked = ids(10);
    asked.extend(&some);
    let rows = scimbus_db::resources::lock_many(&mut tx, "acme", "User", &asked)
        .await
        .unwrap();
    assert_eq!(rows.len(), 5, "the stored users are found and locked");
    let after = scans(&mut tx, "resources").await;
    let (seq, idx) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(
        (seq, idx > 0),
        (0, true),
        "resources was scanned ({seq}) instead of read through its index"
    );
    tx.rollback().await.unwrap();
}
