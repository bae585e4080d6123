//! The schema enforces what SCIM needs of it, on a real Postgres
//! (`#[sqlx::test]` gives each test a fresh, migrated database).
#![allow(clippy::unwrap_used, clippy::panic)]

use sqlx::PgPool;
use uuid::Uuid;

async fn tenant(pool: &PgPool, name: &str) {
    sqlx::query("insert into tenants (name) values ($1)")
        .bind(name)
        .execute(pool)
        .await
        .unwrap();
}

async fn insert(
    pool: &PgPool,
    tenant: &str,
    rt: &str,
    user_name: Option<&str>,
    display: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into resources (tenant, id, resource_type, user_name, display_name, version, created, last_modified, doc)
         values ($1, $2, $3, $4, $5, 1, now(), now(), '{}')",
    )
    .bind(tenant)
    .bind(id)
    .bind(rt)
    .bind(user_name)
    .bind(display)
    .execute(pool)
    .await?;
    Ok(id)
}

fn constraint(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.constraint())
        .map(str::to_string)
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn user_name_is_unique_per_tenant_case_insensitively(pool: PgPool) {
    tenant(&pool, "a").await;
    tenant(&pool, "b").await;
    insert(&pool, "a", "User", Some("BJensen"), None)
        .await
        .unwrap();
    let e = insert(&pool, "a", "User", Some("bjensen"), None)
        .await
        .unwrap_err();
    assert_eq!(constraint(&e).as_deref(), Some("resources_user_name_key"));
    // Another tenant may use the same name: tenants are walls.
    insert(&pool, "b", "User", Some("bjensen"), None)
        .await
        .unwrap();
    // A group's displayName does not clash with a user's userName.
    insert(&pool, "a", "Group", None, Some("bjensen"))
        .await
        .unwrap();
    let e = insert(&pool, "a", "Group", None, Some("BJENSEN"))
        .await
        .unwrap_err();
    assert_eq!(constraint(&e).as_deref(), Some("resources_group_name_key"));
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn members_go_with_their_group(pool: PgPool) {
    tenant(&pool, "a").await;
    let g = insert(&pool, "a", "Group", None, Some("Ops"))
        .await
        .unwrap();
    let u = insert(&pool, "a", "User", Some("u"), None).await.unwrap();
    sqlx::query("insert into group_members values ('a', $1, $2, 'User')")
        .bind(g)
        .bind(u)
        .execute(&pool)
        .await
        .unwrap();
    let dup = sqlx::query("insert into group_members values ('a', $1, $2, 'User')")
        .bind(g)
        .bind(u)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(
        constraint(&dup).as_deref(),
        Some("group_members_pkey"),
        "a member is listed once"
    );
    sqlx::query("delete from resources where tenant = 'a' and id = $1")
        .bind(g)
        .execute(&pool)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("select count(*) from group_members")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn read_only_pool_refuses_writes(pool: PgPool) {
    let opts = pool.connect_options();
    let url = format!(
        "postgres://{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or_default()
    );
    // The test database's password, if any, comes from the environment.
    let url = std::env::var("DATABASE_URL")
        .ok()
        .and_then(|base| {
            base.rsplit_once('/')
                .map(|(b, _)| format!("{b}/{}", opts.get_database().unwrap_or_default()))
        })
        .unwrap_or(url);
    let ro = scimbus_db::connect_read_only(&url, 1).await.unwrap();
    let e = sqlx::query("insert into tenants (name) values ('x')")
        .execute(&ro)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
    let n: i64 = sqlx::query_scalar("select count(*) from tenants")
        .fetch_one(&ro)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// A tenant with `n` users (empty documents), and statistics taken.
async fn analyzed_users(pool: &PgPool, name: &str, n: i32) {
    tenant(pool, name).await;
    sqlx::query(
        "insert into resources (tenant, id, resource_type, user_name, version, created, last_modified, doc)
         select $1, gen_random_uuid(), 'User', 'user-' || i, 1, now(), now(), '{}'
         from generate_series(1, $2) i",
    )
    .bind(name)
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("analyze resources")
        .execute(pool)
        .await
        .unwrap();
}

/// The estimated rows of the generic plan of `sql` (a prepared statement
/// with three text parameters), from its first plan node that scans
/// `resources`.
async fn generic_estimate(pool: &PgPool, sql: &str, params: &str) -> (f64, String) {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE q AS {sql}"
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    let plan: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN EXECUTE q({params})")))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let plan = plan.join("\n");
    let line = plan
        .lines()
        .find(|l| l.contains("on resources"))
        .unwrap_or_else(|| panic!("no scan of resources in\n{plan}"));
    let rows = line
        .split("rows=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no row estimate in {line}"));
    (rows, plan)
}

// A `userName eq` lookup — what IdPs send before each write — is a prepared
// statement; Postgres reuses its generic plan only if that plan is costed
// like the custom ones, which needs statistics on lower(user_name) (the
// unique index on it is partial, and partial indexes keep none). Without
// them the generic plan expects 0.5 % of the table and every lookup is
// planned again.
#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn user_name_lookups_get_a_reusable_generic_plan(pool: PgPool) {
    analyzed_users(&pool, "a", 4000).await;
    let (rows, plan) = generic_estimate(
        &pool,
        "select r.id from resources r where r.tenant = $1 and r.resource_type = $2
           and (r.resource_type = 'User' and lower(r.user_name) = lower($3))",
        "'a', 'User', 'user-17'",
    )
    .await;
    assert!(plan.contains("resources_user_name_key"), "{plan}");
    assert!(rows <= 2.0, "the generic plan expects {rows} rows:\n{plan}");
}

// A change is marked unpublished in the transaction that writes it, and the
// mark goes (and only it) when JetStream has it.
#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn changes_are_unpublished_until_marked(pool: PgPool) {
    use scimbus_db::changes::{self, ChangeRow};
    let at =
        chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).unwrap();
    let row = |tenant: &str, seq: i64| ChangeRow {
        tenant: tenant.into(),
        seq,
        id: Uuid::now_v7(),
        resource_type: "User".into(),
        resource_id: Uuid::now_v7(),
        payload: vec![seq as u8],
        committed_at: at,
        traceparent: None,
        tracestate: None,
    };
    let rows = vec![row("a", 1), row("a", 2), row("b", 1)];
    let mut conn = pool.acquire().await.unwrap();
    changes::insert(&mut conn, &rows).await.unwrap();
    let later = at + chrono::Duration::seconds(1);
    assert_eq!(changes::unpublished(&pool, later, 100).await.unwrap(), rows);
    // Committed after `before`: left to the live publisher.
    assert!(
        changes::unpublished(&pool, at, 100)
            .await
            .unwrap()
            .is_empty()
    );
    changes::mark_published(&pool, &rows[1..2]).await.unwrap();
    assert_eq!(
        changes::unpublished(&pool, later, 100).await.unwrap(),
        vec![rows[0].clone(), rows[2].clone()]
    );
    // The change itself stays: it is the record.
    let kept: i64 = sqlx::query_scalar("select count(*) from changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 3);
}

// A full sync pages through a tenant's resources by id. Each page must start
// its index scan at the previous page's last id, under the generic plan a
// prepared statement gets after its fifth run too: otherwise every page reads
// all the rows before it and a sync is quadratic in the tenant's size.
#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn pages_start_where_the_last_one_ended(pool: PgPool) {
    analyzed_users(&pool, "a", 3000).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local plan_cache_mode = force_generic_plan")
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let before = index_fetches(&mut tx, "resources").await;
        let rows = scimbus_db::resources::page(&mut *tx, "a", "User", after, 100)
            .await
            .unwrap();
        let fetched = index_fetches(&mut tx, "resources").await;
        assert!(
            fetched - before <= 101,
            "page {} after {after:?} read {} rows for {}",
            seen.len() / 100,
            fetched - before,
            rows.len()
        );
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        seen.extend(rows.iter().map(|r| r.id));
    }
    assert_eq!(seen.len(), 3000, "every row once");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order");
}

/// Rows of `table` read through index scans so far in this transaction.
async fn index_fetches(tx: &mut sqlx::PgConnection, table: &str) -> i64 {
    sqlx::query_scalar(
        "select coalesce(sum(idx_tup_fetch), 0)::bigint from pg_stat_xact_user_tables where relname = $1",
    )
    .bind(table)
    .fetch_one(tx)
    .await
    .unwrap()
}

// A new target's links are written faster than autovacuum analyzes them:
// the statistics say the target has none. Looking a page's links up must
// still probe the key per id, not read every link of the target (a full
// sync would be quadratic in its size).
#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn link_lookups_probe_per_id_despite_stale_statistics(pool: PgPool) {
    use scimbus_db::links::{self, Link, TargetKey};
    tenant(&pool, "a").await;
    let link = |i: usize| Link {
        resource_id: Uuid::now_v7(),
        resource_type: "User".into(),
        remote_id: format!("r{i}"),
        version: 1,
        in_scope: true,
    };
    let old: Vec<Link> = (0..3000).map(link).collect();
    let key = |target| TargetKey {
        tenant: "a",
        target,
    };
    links::put_many(&pool, key("old"), &old).await.unwrap();
    sqlx::query("analyze target_links")
        .execute(&pool)
        .await
        .unwrap();
    let new: Vec<Link> = (0..3000).map(link).collect();
    links::put_many(&pool, key("new"), &new).await.unwrap();
    // Half of what is asked is linked, half is not.
    let asked: Vec<Uuid> = new[2950..]
        .iter()
        .map(|l| l.resource_id)
        .chain((0..50).map(|_| Uuid::now_v7()))
        .collect();
    let mut tx = pool.begin().await.unwrap();
    let before = index_fetches(&mut tx, "target_links").await;
    let found = links::get_many(&mut *tx, key("new"), &asked).await.unwrap();
    let fetched = index_fetches(&mut tx, "target_links").await - before;
    assert_eq!(found.len(), 50);
    let mut want: Vec<&Link> = new[2950..].iter().collect();
    let mut got: Vec<&Link> = found.iter().collect();
    want.sort_by_key(|l| l.resource_id);
    got.sort_by_key(|l| l.resource_id);
    assert_eq!(got, want);
    assert!(fetched <= 100, "read {fetched} links to find 50");
}
