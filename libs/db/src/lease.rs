//! Leases: a session-level Postgres advisory lock held by one connection
//! for as long as it lives. The store's command partitions and the outbound
//! service's targets are each driven by the one replica whose connection
//! holds the lease; when that connection dies (the process crashed, the
//! network cut it, Postgres restarted), Postgres lets the lease go and
//! another replica takes it. No home-made election.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};

/// The advisory-lock classes (first key), one per kind of lease.
pub const STORE_PARTITION: i32 = 0x5c1b_0001;
pub const OUTBOUND_TARGET: i32 = 0x5c1b_0002;
pub const NOTIFY_SUBSCRIPTION: i32 = 0x5c1b_0003;
/// A store replica's presence (second key random): how many replicas run.
pub const STORE_REPLICA: i32 = 0x5c1b_0004;

/// The second key of a lease named by a tenant and a name (a target's, a
/// subscription's): FNV-1a of both, folded to 32 bits. Fixed: replicas of
/// different versions must agree on it.
pub fn key(tenant: &str, name: &str) -> i32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tenant.bytes().chain([0]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((h >> 32) ^ h) as u32 as i32
}

/// A new connection holding the lease (`class`, `key`), if nobody holds
/// it. Keep the connection to keep the lease; drop it to let it go.
pub async fn try_take(
    pg: &PgConnectOptions,
    class: i32,
    key: i32,
) -> sqlx::Result<Option<PgConnection>> {
    let mut conn = pg.connect().await?;
    let got = try_lock(&mut conn, class, key).await?;
    Ok(got.then_some(conn))
}

/// Takes the lease (`class`, `key`) on `conn`, a connection that may hold
/// others: true if it holds it now. Taken twice on one connection, a
/// lease is held until it is let go twice: take each once.
pub async fn try_lock(conn: &mut PgConnection, class: i32, key: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_lock($1, $2)")
        .bind(class)
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Lets the lease (`class`, `key`) that `conn` holds go, keeping the
/// connection and its other leases: false if it did not hold it.
pub async fn unlock(conn: &mut PgConnection, class: i32, key: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_advisory_unlock($1, $2)")
        .bind(class)
        .bind(key)
        .fetch_one(conn)
        .await
}

/// How many leases of `class` are held in this database (by any session).
pub async fn holders(conn: &mut PgConnection, class: i32) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from pg_locks
         where locktype = 'advisory' and classid = $1::oid and objsubid = 2 and granted
           and database = (select oid from pg_database where datname = current_database())",
    )
    .bind(i64::from(class))
    .fetch_one(conn)
    .await
}

/// Commits on this connection stop waiting for the WAL flush (what it
/// writes may be lost in a crash of Postgres and is written again).
pub async fn relax_commits(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("set synchronous_commit = off")
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lease_key_is_fixed_and_keeps_tenant_and_name_apart() {
        // Pinned: a change would let two replicas of different versions
        // drive one target or subscription at once.
        // (Computed independently, in Python.)
        assert_eq!(super::key("demo", "crm"), 2_107_984_978);
        assert_ne!(super::key("ab", "c"), super::key("a", "bc"));
    }
}
