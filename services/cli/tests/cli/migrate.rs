//! `scimbus migrate` and finding the database.

use std::process::Command;

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn migrate_applies_once_and_then_is_a_no_op() {
    // An empty database of its own: TestEnv's are migrated already.
    let admin = scimbus_testkit::admin_database_url();
    let name = format!("t_cli_{}", &Uuid::now_v7().simple().to_string()[16..]);
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = scimbus_testkit::with_database(&admin, &name);

    // Before: the commands say what is missing.
    let o = scimbus_on(&url, &["token", "list"]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("run `scimbus migrate` first"),
        "{}",
        stderr(&o)
    );

    let known = scimbus_db::MIGRATOR.iter().count();
    let first = scimbus_on(&url, &["migrate"]);
    assert_exit(&first, 0);
    let out = stdout(&first);
    assert!(
        out.starts_with(&format!("applied {known} of {known} migration")),
        "{out}"
    );
    assert!(out.contains("0001 init"), "{out}");
    let second = scimbus_on(&url, &["migrate"]);
    assert_exit(&second, 0);
    assert!(
        stdout(&second).starts_with("database is up to date"),
        "{}",
        stdout(&second)
    );

    let pool = PgPool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // The library function says the same.
    let m = scimbus_cli::migrate(&pool).await.unwrap();
    assert!(m.applied.is_empty());
    assert_eq!(m.known, known);
    pool.close().await;

    // The flag wins over the variable.
    let o = Command::new(env!("CARGO_BIN_EXE_scimbus"))
        .args(["migrate", "--database-url", &url])
        .env("SCIMBUS_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_exit(&o, 0);

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

#[test]
fn a_missing_database_url_names_the_setting() {
    let o = Command::new(env!("CARGO_BIN_EXE_scimbus"))
        .args(["token", "list"])
        .env_remove("SCIMBUS_DATABASE_URL")
        .output()
        .unwrap();
    assert_exit(&o, 1);
    let e = stderr(&o);
    assert!(
        e.contains("--database-url") && e.contains("SCIMBUS_DATABASE_URL"),
        "{e}"
    );

    let o = scimbus_on("not a url", &["migrate"]);
    assert_exit(&o, 1);
    let e = stderr(&o);
    assert!(
        e.contains("SCIMBUS_DATABASE_URL: not a Postgres URL"),
        "{e}"
    );

    // Nothing listens on port 1: the reason, not a pool timeout, and never
    // the password.
    let o = scimbus_on("postgres://u:secretpw@127.0.0.1:1/x", &["token", "list"]);
    assert_exit(&o, 1);
    let e = stderr(&o);
    assert!(
        e.contains("SCIMBUS_DATABASE_URL: cannot connect to Postgres"),
        "{e}"
    );
    assert!(!e.contains("timed out") && !e.contains("secretpw"), "{e}");
    assert_eq!(
        e.matches("cannot connect").count(),
        1,
        "each cause once: {e}"
    );
}
