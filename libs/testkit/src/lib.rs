//! scimbus-testkit: the real NATS and Postgres that tests run against.
//!
//! `make test` starts (or reuses) a NATS server with JetStream and a
//! Postgres server and exports `SCIMBUS_NATS_URL` and
//! `SCIMBUS_DATABASE_URL`. Each [`TestEnv`] gets its own database, created
//! and migrated for it, and its own stream and subject prefix, so tests run
//! in parallel and twice in a row without seeing each other.
//!
//! A [`TestEnv`] cleans up after itself: [`TestEnv::teardown`] drops its
//! database and its streams, and so does dropping it without one (a test
//! that panics, or returns early), so a failing test leaks nothing. To
//! leave them for a look at what a failing test left behind, run with
//! `SCIMBUS_TEST_KEEP=1`: a `TestEnv` dropped without its teardown then
//! keeps its database and streams and says their names on stderr.
//!
//! This crate is for tests only: it panics with a clear message when the
//! servers are not there, which is the right failure for a test.
#![allow(clippy::panic, clippy::expect_used)]

mod cleanup;
mod nats;
mod nats_cluster;
pub mod process;
pub mod proxy;
mod sessions;

pub use nats::PrivateNats;
pub use nats_cluster::NatsCluster;
pub use sessions::{Sessions, terminate_sessions};

use async_nats::jetstream;
use scimbus_events::Subjects;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

const HINT: &str = "run the tests with `make test`, which starts NATS and Postgres \
                    (deploy/local/stack.sh) and exports SCIMBUS_NATS_URL and SCIMBUS_DATABASE_URL";

/// The NATS server of the test run.
pub fn nats_url() -> String {
    std::env::var("SCIMBUS_NATS_URL")
        .unwrap_or_else(|_| panic!("SCIMBUS_NATS_URL is not set: {HINT}"))
}

/// The Postgres server of the test run (a database tests may create
/// databases from).
pub fn admin_database_url() -> String {
    std::env::var("SCIMBUS_DATABASE_URL")
        .unwrap_or_else(|_| panic!("SCIMBUS_DATABASE_URL is not set: {HINT}"))
}

/// A fresh, migrated database and a bus prefix of one test's own; both
/// are dropped by [`TestEnv::teardown`] or, failing that, when it is
/// dropped (see the crate docs for `SCIMBUS_TEST_KEEP`).
#[derive(Debug)]
pub struct TestEnv {
    pub nats_url: String,
    pub database_url: String,
    pub database: String,
    /// Stream and subject prefix (`t0123456789`).
    pub prefix: String,
    pub subjects: Subjects,
    pub pool: PgPool,
    /// Copies of each stream (3 on a [`NatsCluster`]).
    pub stream_replicas: usize,
    /// Set by [`TestEnv::teardown`]: nothing left for `Drop` to do.
    torn_down: bool,
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        Self::with_nats(&nats_url()).await
    }

    /// As [`TestEnv::new`], on another NATS server (a [`PrivateNats`]).
    pub async fn with_nats(nats: &str) -> TestEnv {
        Self::with_nats_replicas(nats, 1).await
    }

    /// As [`TestEnv::with_nats`], with streams of `replicas` copies (a
    /// [`NatsCluster`]), for the streams it makes and the services it
    /// starts.
    pub async fn with_nats_replicas(nats: &str, replicas: usize) -> TestEnv {
        let admin = admin_database_url();
        // The last 16 hex digits of a UUIDv7 are random.
        let tag = Uuid::now_v7().simple().to_string();
        let database = format!("t_{}", &tag[16..]);
        let prefix = format!("t{}", &tag[22..]);
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {admin}: {e}; {HINT}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {database}")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let database_url = with_database(&admin, &database);
        let pool = PgPool::connect(&database_url)
            .await
            .expect("connect to the test database");
        scimbus_db::MIGRATOR
            .run(&pool)
            .await
            .expect("migrate the test database");
        TestEnv {
            nats_url: nats.to_string(),
            database_url,
            database,
            subjects: Subjects::new(&prefix).expect("a valid prefix"),
            prefix,
            pool,
            stream_replicas: replicas,
            torn_down: false,
        }
    }

    /// A NATS client and JetStream context, the streams created.
    pub async fn bus(&self) -> (async_nats::Client, jetstream::Context) {
        let (client, js) = scimbus_bus::connect(&self.nats_url, "scimbus-test")
            .await
            .unwrap_or_else(|e| panic!("{e}; {HINT}"));
        let streams = scimbus_bus::StreamSettings {
            replicas: self.stream_replicas,
            ..Default::default()
        };
        scimbus_bus::ensure_streams(&js, &self.subjects, &streams)
            .await
            .expect("create the streams");
        (client, js)
    }

    /// The settings of a service started in-process on this environment:
    /// any free port, the default drain.
    pub fn service_settings(&self) -> scimbus_runtime::ServiceSettings {
        let mut s = scimbus_runtime::ServiceSettings::local(
            self.nats_url.clone(),
            self.database_url.clone(),
            self.prefix.clone(),
        );
        s.stream_replicas = self.stream_replicas;
        s
    }

    /// Adds tenants.
    pub async fn tenants(&self, names: &[&str]) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        scimbus_db::tenants::ensure(&self.pool, &names)
            .await
            .expect("insert tenants");
    }

    /// Drops the database and the streams, waiting until they are gone.
    /// Dropping a `TestEnv` does the same (on a thread of its own, as `Drop`
    /// cannot wait here); this is the form a test that passes ends with.
    pub async fn teardown(mut self) {
        self.pool.close().await;
        cleanup::remove(&self.nats_url, &self.database, &self.subjects).await;
        self.torn_down = true;
    }
}

impl Drop for TestEnv {
    /// A test that did not reach its teardown (it panicked) still leaves
    /// nothing behind, unless `SCIMBUS_TEST_KEEP=1` asks to keep it.
    fn drop(&mut self) {
        if self.torn_down {
            return;
        }
        if cleanup::keep(std::env::var("SCIMBUS_TEST_KEEP").ok().as_deref()) {
            eprintln!(
                "SCIMBUS_TEST_KEEP: kept database {} and the streams of prefix {}",
                self.database, self.prefix
            );
            return;
        }
        cleanup::remove_blocking(&self.nats_url, &self.database, &self.subjects);
    }
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rsplit_once('/') {
        Some((b, _)) if b.contains("://") && b.len() > b.find("://").map_or(0, |i| i + 3) => b,
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_swapped() {
        assert_eq!(
            with_database("postgres://u:p@h:1/db", "t"),
            "postgres://u:p@h:1/t"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t"),
            "postgres://u@h/t?sslmode=disable"
        );
    }
}
