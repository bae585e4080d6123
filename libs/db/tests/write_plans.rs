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

/// A lookup the store's session runs on every batch.
#[derive(Debug, Clone, Copy)]
enum Lookup {
    /// The idempotency record of a batch's commands.
    Recorded,
    /// A PATCH batch's users, locked.
    LockMany,
    /// One resource, locked (a PUT, a DELETE, a group's PATCH).
    Lock,
    /// Which of a group PATCH's new members exist.
    Existing,
    /// A group PATCH's members removed.
    Remove,
    /// The groups of a PATCH batch's users.
    GroupsOfMany,
}

/// The group the membership lookups read.
const GROUP: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

impl Lookup {
    fn table(self) -> &'static str {
        match self {
            Lookup::Recorded => "applied_commands",
            Lookup::LockMany | Lookup::Lock | Lookup::Existing => "resources",
            Lookup::Remove | Lookup::GroupsOfMany => "group_members",
        }
    }

    /// Fills the table with 20 000 rows the size of a user.
    fn fill(self) -> &'static str {
        match self {
            Lookup::Recorded => {
                "insert into applied_commands (tenant, command_id, result)
                 select 'acme', gen_random_uuid(), convert_to(repeat('r', 1500), 'UTF8')
                   from generate_series(1, 20000)"
            }
            Lookup::Remove | Lookup::GroupsOfMany => {
                "with g as (
                   insert into resources (tenant, id, resource_type, display_name, version, created,
                                          last_modified, doc)
                   values ('acme', '01900000-0000-7000-8000-000000000001', 'Group', 'big', 1, now(),
                           now(), '{\"displayName\": \"big\"}')
                   returning id)
                 insert into group_members (tenant, group_id, member_id, member_type)
                 select 'acme', (select id from g), gen_random_uuid(), 'User'
                   from generate_series(1, 20000)"
            }
            Lookup::LockMany | Lookup::Lock | Lookup::Existing => {
                "insert into resources (tenant, id, resource_type, user_name, version, created,
                                        last_modified, doc)
                 select 'acme', gen_random_uuid(), 'User', 'user-' || i, 1, now(), now(),
                        jsonb_build_object('userName', 'user-' || i, 'title', repeat('t', 1300))
                   from generate_series(1, 20000) i"
            }
        }
    }

    /// Some ids the table holds (after [`Lookup::fill`]).
    fn stored(self) -> &'static str {
        match self {
            Lookup::Recorded => "select command_id from applied_commands limit 3",
            Lookup::LockMany | Lookup::Lock | Lookup::Existing => {
                "select id from resources limit 3"
            }
            Lookup::Remove | Lookup::GroupsOfMany => "select member_id from group_members limit 3",
        }
    }

    /// Runs the lookup in a transaction of its own on `conn`: the rows found.
    async fn run(self, conn: &mut PgConnection, ids: &[Uuid]) -> usize {
        let mut tx = conn.begin().await.unwrap();
        let found = match self {
            Lookup::Recorded => scimbus_db::commands::recorded(&mut tx, ids)
                .await
                .unwrap()
                .len(),
            Lookup::LockMany => scimbus_db::resources::lock_many(&mut tx, "acme", "User", ids)
                .await
                .unwrap()
                .len(),
            Lookup::Lock => {
                let mut n = 0;
                for id in ids {
                    let row = scimbus_db::resources::lock(&mut tx, "acme", "User", *id);
                    n += usize::from(row.await.unwrap().is_some());
                }
                n
            }
            Lookup::Existing => scimbus_db::members::existing(&mut tx, "acme", ids)
                .await
                .unwrap()
                .len(),
            Lookup::Remove => scimbus_db::members::remove(&mut tx, "acme", GROUP, ids)
                .await
                .unwrap()
                .len(),
            Lookup::GroupsOfMany => scimbus_db::members::groups_of_many(&mut *tx, "acme", ids)
                .await
                .unwrap()
                .len(),
        };
        tx.commit().await.unwrap();
        found
    }
}

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

/// Runs `lookup` on one session while its table is empty (and, with
/// `analyzed`, known to be), fills the table, and runs it again: it must
/// find the stored rows through the index, not by reading the table.
async fn reads_its_index_after_the_table_grew(pool: PgPool, lookup: Lookup, analyzed: bool) {
    scimbus_db::tenants::ensure(&pool, &["acme".to_string()])
        .await
        .unwrap();
    let table = lookup.table();
    // No autovacuum to analyze the table while the test runs: that would
    // hide a stale plan. (One statement each: a vacuum cannot run in the
    // implicit transaction of several.)
    let mut setup = vec![format!(
        "alter table {table} set (autovacuum_enabled = false)"
    )];
    if analyzed {
        setup.push(format!("vacuum (analyze) {table}"));
    }
    for sql in setup {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }

    // Batch after batch: more than the five runs after which Postgres may
    // settle on a generic plan.
    let mut session = pool.acquire().await.unwrap().detach();
    for _ in 0..10 {
        assert_eq!(lookup.run(&mut session, &ids(15)).await, 0);
    }

    sqlx::query(lookup.fill()).execute(&pool).await.unwrap();
    let stored: Vec<Uuid> = sqlx::query_scalar(lookup.stored())
        .fetch_all(&pool)
        .await
        .unwrap();

    let before = scans(&mut session, table).await;
    let mut asked = ids(12);
    asked.extend(&stored);
    assert_eq!(lookup.run(&mut session, &asked).await, stored.len());
    let after = scans(&mut session, table).await;
    let (seq, idx) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(
        (seq, idx > 0),
        (0, true),
        "{lookup:?}: {table} was read whole {seq} times instead of through its index"
    );
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn the_idempotency_lookup_reads_its_index_after_the_table_grew_from_empty(pool: PgPool) {
    reads_its_index_after_the_table_grew(pool, Lookup::Recorded, true).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_patch_batch_locks_its_users_through_the_index_after_the_table_grew_from_empty(
    pool: PgPool,
) {
    reads_its_index_after_the_table_grew(pool, Lookup::LockMany, true).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn on_a_new_install_a_patch_batch_locks_its_users_through_the_index_once_users_arrived(
    pool: PgPool,
) {
    reads_its_index_after_the_table_grew(pool, Lookup::LockMany, false).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn one_resource_is_locked_through_the_index_after_the_table_grew_from_empty(pool: PgPool) {
    reads_its_index_after_the_table_grew(pool, Lookup::Lock, true).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_group_patch_finds_its_new_members_through_the_index_after_users_arrived(pool: PgPool) {
    reads_its_index_after_the_table_grew(pool, Lookup::Existing, false).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_group_patch_removes_members_through_the_index_after_memberships_arrived(pool: PgPool) {
    reads_its_index_after_the_table_grew(pool, Lookup::Remove, true).await;
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_patch_batchs_users_groups_are_read_through_the_index_after_memberships_arrived(
    pool: PgPool,
) {
    reads_its_index_after_the_table_grew(pool, Lookup::GroupsOfMany, true).await;
}
