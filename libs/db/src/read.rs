//! Reads that outlive a Postgres restart.
//!
//! The read pool does not test a connection before lending it (a round trip
//! per query, for a rare event). So after Postgres restarts, or a session
//! is terminated, every connection that sat idle in the pool is dead, and
//! the first query on each fails ("expected to read 5 bytes, got 0 bytes at
//! EOF", or the server's own "terminating connection" message). Such a
//! failure says nothing about the query: [`ReadPool::read`] runs it once
//! more on a connection that is alive, so the client never sees it.

use std::future::Future;

use sqlx::{Connection, PgPool};

/// A pool for queries that only read, and so may run twice.
#[derive(Debug, Clone)]
pub struct ReadPool(PgPool);

impl ReadPool {
    pub fn new(pool: PgPool) -> ReadPool {
        ReadPool(pool)
    }

    /// Runs `query` on the pool. If it failed because its connection was
    /// dead ([`dead_connection`]), the pool's other idle connections are
    /// tested (those that sat through the same restart are dead too, and
    /// would each fail a request of their own), the dead ones are closed,
    /// and `query` runs once more — on a live or a new connection. Any other
    /// error, and an error of the second run, is returned as it is.
    ///
    /// Only for reads: `query` may run twice.
    pub async fn read<T, F, Fut>(&self, query: F) -> sqlx::Result<T>
    where
        F: Fn(PgPool) -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        match query(self.0.clone()).await {
            Err(e) if dead_connection(&e) => {
                tracing::debug!(error = %e, "a pooled connection was dead; reading again");
                close_dead_idle(&self.0).await;
                query(self.0.clone()).await
            }
            done => done,
        }
    }

    /// Whether Postgres answers a query on this pool (for readiness).
    pub async fn ping(&self) -> sqlx::Result<()> {
        self.read(|pool| async move { sqlx::query("select 1").execute(&pool).await })
            .await
            .map(drop)
    }

    /// Closes the pool (on shutdown).
    pub async fn close(&self) {
        self.0.close().await;
    }
}

/// Whether `e` says the connection is gone — its socket broke or closed, or
/// the server ended the session (restart, crash, `pg_terminate_backend`,
/// `idle_session_timeout`) — rather than anything about the query. SQL
/// errors (a syntax error, a statement timeout, a read-only violation)
/// are not: running the query again would fail the same way.
pub fn dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        // Class 08: connection exception. 57P01 admin_shutdown,
        // 57P02 crash_shutdown, 57P05 idle_session_timeout: the server
        // ended this session.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P05")),
        _ => false,
    }
}

/// Takes every idle connection out of `pool`, pings each, and closes the
/// ones that do not answer; the live ones go back.
async fn close_dead_idle(pool: &PgPool) {
    let mut idle = Vec::new();
    while let Some(conn) = pool.try_acquire() {
        idle.push(conn);
    }
    let mut dead = 0usize;
    for mut conn in idle {
        if conn.ping().await.is_err() {
            dead += 1;
            // Its socket is closed with it; the pool may open another.
            drop(conn.detach());
        }
    }
    if dead > 0 {
        tracing::debug!(dead, "closed dead idle connections");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_errors_count_as_a_dead_connection() {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "expected to read 5 bytes, got 0 bytes at EOF",
        );
        assert!(dead_connection(&sqlx::Error::Io(eof)));
        assert!(dead_connection(&sqlx::Error::Protocol("unexpected".into())));
        assert!(!dead_connection(&sqlx::Error::RowNotFound));
        assert!(!dead_connection(&sqlx::Error::PoolTimedOut));
        assert!(!dead_connection(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
