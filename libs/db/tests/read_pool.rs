//! `ReadPool::read` on a real Postgres: a read that meets a connection the
//! server ended runs again on a live one; a wrong query runs once.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use scimbus_db::ReadPool;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Leaves `n` idle connections in the pool.
async fn warm(pool: &PgPool, n: usize) {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(pool.acquire().await.unwrap());
    }
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.num_idle() < n {
        assert!(Instant::now() < deadline, "the connections did not go back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn a_read_on_a_dead_connection_runs_again_and_a_wrong_query_does_not(test_pool: PgPool) {
    // As the services' pools: no test of a connection before it is lent.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with((*test_pool.connect_options()).clone())
        .await
        .unwrap();
    test_pool.close().await;
    let read = ReadPool::new(pool.clone());
    let runs = AtomicUsize::new(0);
    let one = || {
        read.read(|p| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { sqlx::query_scalar::<_, i32>("select 1").fetch_one(&p).await }
        })
    };

    warm(&pool, 3).await;
    let db = pool.connect_options().get_database().unwrap().to_string();
    let ended = scimbus_testkit::terminate_sessions(&db, scimbus_testkit::Sessions::All).await;
    assert_eq!(ended, 3);
    assert_eq!(one().await.unwrap(), 1);
    assert_eq!(
        runs.swap(0, Ordering::SeqCst),
        2,
        "run again after the dead one"
    );
    // The other dead idle connections were closed with it: no more retries.
    for _ in 0..3 {
        assert_eq!(one().await.unwrap(), 1);
    }
    assert_eq!(runs.swap(0, Ordering::SeqCst), 3);

    let e = read
        .read(|p| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { sqlx::query("select * from no_such_table").execute(&p).await }
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "an SQL error is not retried"
    );
    pool.close().await;
}
