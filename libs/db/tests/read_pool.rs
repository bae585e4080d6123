//! `ReadPool::read` on a real Postgres: a read that meets a connection the
//! server ended runs again on a live one; a wrong query runs once; a read
//! dropped half way never lends its connection again.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use scimbus_db::ReadPool;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// A read pool on the test database, as the services make theirs: no test
/// of a connection before it is lent.
async fn read_pool(test_pool: &PgPool) -> ReadPool {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with((*test_pool.connect_options()).clone())
        .await
        .unwrap();
    ReadPool::new(pool)
}

async fn select_one(read: &ReadPool, runs: &AtomicUsize) -> sqlx::Result<i32> {
    read.read(|mut c| {
        runs.fetch_add(1, Ordering::SeqCst);
        async move {
            let r = sqlx::query_scalar::<_, i32>("select 1")
                .fetch_one(&mut c)
                .await;
            (c, r)
        }
    })
    .await
}

/// Leaves three idle connections: three reads at once.
async fn warm(read: &ReadPool) {
    let slow = || async {
        read.read(|mut c| async move {
            let r = sqlx::query("select pg_sleep(0.2)").execute(&mut c).await;
            (c, r)
        })
        .await
        .unwrap();
    };
    tokio::join!(slow(), slow(), slow());
    assert_eq!(read.num_idle(), 3);
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_read_on_a_dead_connection_runs_again_and_a_wrong_query_does_not(test_pool: PgPool) {
    let read = read_pool(&test_pool).await;
    let db = test_pool
        .connect_options()
        .get_database()
        .unwrap()
        .to_string();
    test_pool.close().await;
    let runs = AtomicUsize::new(0);

    warm(&read).await;
    let ended = scimbus_testkit::terminate_sessions(&db, scimbus_testkit::Sessions::All).await;
    assert_eq!(ended, 3);
    assert_eq!(select_one(&read, &runs).await.unwrap(), 1);
    assert_eq!(
        runs.swap(0, Ordering::SeqCst),
        2,
        "run again after the dead one"
    );
    // The other dead idle connections were closed with it: no more retries.
    for _ in 0..3 {
        assert_eq!(select_one(&read, &runs).await.unwrap(), 1);
    }
    assert_eq!(runs.swap(0, Ordering::SeqCst), 3);
    assert_eq!(read.num_idle(), 1, "one connection, reused");

    let e = read
        .read(|mut c| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move {
                let r = sqlx::query("select * from no_such_table")
                    .execute(&mut c)
                    .await;
                (c, r)
            }
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "an SQL error is not retried"
    );
    // The connection of a failed query is fine, and lent again.
    assert_eq!(read.num_idle(), 1);
    assert_eq!(select_one(&read, &runs).await.unwrap(), 1);
    read.close().await;
}

/// A read whose future is dropped while Postgres still works on it (the
/// client went away) closes that connection: the next read gets its own
/// answer, never the rest of the abandoned one.
#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_read_dropped_half_way_does_not_lend_its_connection_again(test_pool: PgPool) {
    let read = read_pool(&test_pool).await;
    test_pool.close().await;
    let runs = AtomicUsize::new(0);
    assert_eq!(select_one(&read, &runs).await.unwrap(), 1);
    assert_eq!((read.num_idle(), read.size()), (1, 1));

    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        read.read(|mut c| async move {
            let r = sqlx::query_scalar::<_, i32>("select 7 from pg_sleep(2)")
                .fetch_one(&mut c)
                .await;
            (c, r)
        }),
    )
    .await;
    assert!(abandoned.is_err(), "the read was to be dropped half way");
    assert_eq!(
        (read.num_idle(), read.size()),
        (0, 0),
        "its connection was closed, not kept"
    );
    for _ in 0..3 {
        assert_eq!(select_one(&read, &runs).await.unwrap(), 1);
    }
    read.close().await;
}
