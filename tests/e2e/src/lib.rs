//! scimbus-e2e: the services started in-process on a [`TestEnv`], for the
//! services' end-to-end tests.
//!
//! Each service's config is made in one place, by a builder with test
//! defaults ([`StoreBuilder`], [`IngressBuilder`], [`OutboundBuilder`],
//! [`target`]): a new setting is added here once, not in every test's
//! struct literal, and a test says only what it changes. Next to them, what
//! the services' tests share: waiting for a condition with a deadline
//! ([`eventually`]), in-process requests to the ingress's router
//! ([`http`]), SCIM bodies ([`scim`]) and running a service's binary on an
//! environment ([`binary`]).
//!
//! For tests only (a dev-dependency of the services, never a dependency):
//! it panics, with what went wrong, where a test should fail.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

pub mod binary;
pub mod hr;
pub mod http;
mod ingress;
mod outbound;
pub mod scim;
mod store;
mod wait;

pub use ingress::{ACME_TOKEN, ADMIN_TOKEN, IngressBuilder, OTHER_TOKEN};
pub use outbound::{OutboundBuilder, target};
pub use store::StoreBuilder;
pub use wait::eventually;

pub use scimbus_testkit::TestEnv;

use std::sync::Arc;

use scimbus_scim::Registry;

/// The standard SCIM schemas, as every service is started with.
pub fn registry() -> Arc<Registry> {
    Arc::new(Registry::standard().expect("the standard schemas load"))
}

/// The number `sql` (a `select count(*) ...`) gives on `pool`.
pub async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
