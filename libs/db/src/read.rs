//! Reads that outlive a Postgres restart, on connections lent without a
//! round trip of their own.
//!
//! sqlx's pool pings every connection given back to it (a `Sync` and its
//! `ReadyForQuery`): a second round trip to Postgres for every query,
//! which cost a GET a quarter of its CPU in the ingress and in Postgres.
//! [`ReadPool`] keeps its own idle connections instead, taken from the
//! pool it is made from (so with that pool's settings: read-only, the
//! replica's URL) and detached from it. A connection goes back only after
//! a query ran to its end, error or not; one whose query was dropped half
//! way (the client went away) or whose connection broke is closed, so a
//! connection in an unknown state is never lent again.
//!
//! Nothing tests a connection before lending it either (a round trip per
//! query, for a rare event). So after Postgres restarts, or a session is
//! terminated, every connection that sat idle is dead, and the first query
//! on each fails ("expected to read 5 bytes, got 0 bytes at EOF", or the
//! server's own "terminating connection" message). Such a failure says
//! nothing about the query: [`ReadPool::read`] runs it once more on a
//! connection that is alive, so the client never sees it.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection may sit idle before it is closed rather than
/// lent (Postgres or a proxy between may have given up on it).
const IDLE_FOR_AT_MOST: Duration = Duration::from_secs(600);
/// How long a read waits for a connection when all are lent.
const ACQUIRE_WITHIN: Duration = Duration::from_secs(10);

/// The connections of the ingress's read pool.
pub const INGRESS_READ_CONNECTIONS: u32 = 16;

/// A pool for queries that only read, and so may run twice.
#[derive(Debug, Clone)]
pub struct ReadPool(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Where new connections come from (and are detached from).
    pool: PgPool,
    /// One permit per connection that may be open.
    permits: Arc<Semaphore>,
    max: u32,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
}

impl ReadPool {
    /// Lends connections of `pool`'s settings, as many as its
    /// `max_connections`.
    pub fn new(pool: PgPool) -> ReadPool {
        let max = pool.options().get_max_connections().max(1);
        ReadPool(Arc::new(Inner {
            pool,
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `query` on a connection. If it failed because its connection
    /// was dead ([`dead_connection`]), the other idle connections are
    /// tested (those that sat through the same restart are dead too, and
    /// would each fail a request of their own), the dead ones are closed,
    /// and `query` runs once more — on a live or a new connection. Any other
    /// error, and an error of the second run, is returned as it is.
    ///
    /// Only for reads: `query` may run twice.
    ///
    /// `query` gets the connection and hands it back with its result (it
    /// owns it meanwhile, so its future borrows nothing of the pool's).
    pub async fn read<T, F, Fut>(&self, query: F) -> sqlx::Result<T>
    where
        F: Fn(PgConnection) -> Fut,
        Fut: Future<Output = (PgConnection, sqlx::Result<T>)>,
    {
        // Dropped with this future (the client went away half way), the
        // connection is closed and its permit freed: it is in no known state.
        let (conn, permit) = self.lend().await?;
        let (conn, first) = query(conn).await;
        match first {
            Err(e) if dead_connection(&e) => {
                drop((conn, permit));
                tracing::debug!(error = %e, "a pooled connection was dead; reading again");
                self.close_dead_idle().await;
                let (conn, _permit) = self.lend().await?;
                let (conn, again) = query(conn).await;
                self.give_back(conn, &again);
                again
            }
            done => {
                self.give_back(conn, &done);
                done
            }
        }
    }

    /// Closes the idle connections and the pool (on shutdown).
    pub async fn close(&self) {
        self.0.permits.close();
        for (conn, _) in self.take_idle() {
            let _ = conn.close().await;
        }
        self.0.pool.close().await;
    }

    /// Connections open now (lent or idle).
    pub fn size(&self) -> u32 {
        let free = self.0.permits.available_permits() as u32;
        self.0.max.saturating_sub(free) + self.num_idle() as u32
    }

    /// Idle connections now.
    pub fn num_idle(&self) -> usize {
        self.idle().len()
    }

    /// The most connections it opens.
    pub fn max(&self) -> u32 {
        self.0.max
    }

    /// A connection, idle or new, once one of the permits is free.
    async fn lend(&self) -> sqlx::Result<(PgConnection, OwnedSemaphorePermit)> {
        let permit = tokio::time::timeout(ACQUIRE_WITHIN, self.0.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let (idle, stale) = {
            let mut idle = self.idle();
            // The oldest are at the front: those idle too long go.
            let n = idle
                .iter()
                .take_while(|(_, at)| at.elapsed() > IDLE_FOR_AT_MOST)
                .count();
            let stale: Vec<_> = idle.drain(..n).collect();
            (idle.pop(), stale)
        };
        drop(stale);
        let conn = match idle {
            Some((conn, _)) => conn,
            None => self.0.pool.acquire().await?.detach(),
        };
        Ok((conn, permit))
    }

    /// After a query that ran to its end: the connection is idle again,
    /// unless the query found it dead.
    fn give_back<T>(&self, conn: PgConnection, outcome: &sqlx::Result<T>) {
        if let Err(e) = outcome
            && dead_connection(e)
        {
            return;
        }
        self.idle().push((conn, Instant::now()));
    }

    /// The idle connections (a panic elsewhere while holding the lock
    /// leaves a list that is still a list).
    fn idle(&self) -> MutexGuard<'_, Vec<(PgConnection, Instant)>> {
        self.0.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take_idle(&self) -> Vec<(PgConnection, Instant)> {
        std::mem::take(&mut *self.idle())
    }

    /// Pings every idle connection and closes the ones that do not answer;
    /// the live ones go back.
    async fn close_dead_idle(&self) {
        let mut dead = 0usize;
        for (mut conn, at) in self.take_idle() {
            if conn.ping().await.is_ok() {
                self.idle().push((conn, at));
            } else {
                // Its socket is closed with it.
                dead += 1;
            }
        }
        if dead > 0 {
            tracing::debug!(dead, "closed dead idle connections");
        }
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
