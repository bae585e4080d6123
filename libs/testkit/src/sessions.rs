//! Ending Postgres sessions of a test's database from an admin connection,
//! as a restart or a network cut would, and waiting until they are gone.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

/// Which sessions of a database to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// Every one (a restart).
    All,
    /// Those holding an advisory lock (partition and target leases).
    LockHolders,
}

/// Ends the sessions of `database` that `which` names and waits (up to 10
/// s, else panics) until they are gone; how many there were.
pub async fn terminate_sessions(database: &str, which: Sessions) -> usize {
    let mut admin = PgConnection::connect(&crate::admin_database_url())
        .await
        .unwrap_or_else(|e| panic!("admin connection: {e}"));
    let sql = match which {
        Sessions::All => {
            "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()"
        }
        Sessions::LockHolders => {
            "select distinct l.pid from pg_locks l join pg_database d on d.oid = l.database
             where l.locktype = 'advisory' and d.datname = $1"
        }
    };
    let pids: Vec<i32> = sqlx::query_scalar(sql)
        .bind(database)
        .fetch_all(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("listing sessions: {e}"));
    for pid in &pids {
        sqlx::query("select pg_terminate_backend($1)")
            .bind(pid)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("terminating {pid}: {e}"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 =
            sqlx::query_scalar("select count(*) from pg_stat_activity where pid = any($1)")
                .bind(&pids)
                .fetch_one(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("counting sessions: {e}"));
        if left == 0 {
            return pids.len();
        }
        assert!(Instant::now() < deadline, "the sessions did not end");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
