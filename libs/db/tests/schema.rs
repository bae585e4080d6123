//! The schema enforces what SCIM needs of it, on a real Postgres
//! (`#[sqlx::test]` gives each test a fresh, migrated database).
#![allow(clippy::unwrap_used)]

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
        .await;
    assert!(dup.is_err(), "a member is listed once");
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
