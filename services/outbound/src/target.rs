//! A target as a push sees it: its configuration, client, scope, mapping,
//! pools and the state its worker keeps; and what a push did. The pushes
//! themselves are in the `push` module.

use std::sync::Arc;

use scimbus_runtime::TargetConfig;
use scimbus_scim::Registry;
use scimbus_scim::filter::Filter;
use sqlx::PgPool;
use uuid::Uuid;

use crate::client::{PushError, TargetClient};
use crate::link_cache::LinkCache;
use crate::member_locks::MemberLocks;
use crate::remote_index::RemoteIndex;
use crate::throttle::Throttle;

/// Everything a push needs of its target.
#[derive(Debug)]
pub struct Target {
    pub tenant: String,
    pub cfg: TargetConfig,
    pub client: TargetClient,
    /// The scoping filter, per resource type it applies to.
    pub scope: Option<Filter>,
    pub registry: Arc<Registry>,
    /// Whether the target supports PATCH, from its
    /// `/ServiceProviderConfig` (asked once, when `update = "auto"`).
    pub patch_supported: std::sync::OnceLock<bool>,
    pub pool: PgPool,
    /// For link writes: commits that do not wait for the WAL flush. A link
    /// lost in a crash costs a lookup (and adoption) or a push again, both
    /// harmless; waiting for an fsync per push is not.
    pub links_pool: PgPool,
    pub throttle: Throttle,
    /// How users are mapped (none: as they are).
    pub mapping: Option<scimbus_mapping::Mapping>,
    /// How groups are mapped (none: as they are; members never are).
    pub group_mapping: Option<scimbus_mapping::Mapping>,
    /// The resources with a parked change (their later changes park
    /// behind), known in memory: the worker driving the target is the only
    /// one that parks and replays. `None` until loaded.
    pub parked: std::sync::Mutex<Option<std::collections::HashSet<Uuid>>>,
    /// Links written and not in Postgres yet (while a worker follows the
    /// stream, and during a full sync).
    pub link_cache: LinkCache,
    /// During a full sync: what the target held when it began, so that
    /// looking for an existing copy costs no request per resource.
    pub index: std::sync::RwLock<Option<Arc<RemoteIndex>>>,
    /// Serialises a group's push and its members' entries (see
    /// [`MemberLocks`]).
    pub member_locks: MemberLocks,
    /// Its counts and lag (`/metrics`).
    pub metrics: crate::metrics::OutboundMetrics,
    /// Whether this replica drives it now (holds its lease).
    pub driving: std::sync::atomic::AtomicBool,
    /// The keys that open users' pending passwords, when the target
    /// receives them (`send_passwords`).
    pub passwords: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Created,
    Adopted,
    Updated,
    /// Deactivated or deleted on the target (deleted here, or out of scope).
    Deprovisioned,
    /// Nothing to do, and why.
    Skipped(&'static str),
}

/// A Postgres failure during a push: transient (tried again).
pub(crate) fn db(e: sqlx::Error) -> PushError {
    PushError::Transient {
        reason: format!("Postgres: {e}"),
        retry_after: None,
        exchange: Box::default(),
    }
}

/// Samples the circuit and parked resources of the targets this replica
/// drives at every read of `registry`.
pub fn watch(registry: &scimbus_runtime::metrics::Registry, targets: Vec<Arc<Target>>) {
    use std::sync::atomic::Ordering;
    registry.on_scrape(move || {
        for t in &targets {
            if !t.driving.load(Ordering::Relaxed) {
                continue;
            }
            let open = matches!(t.throttle.circuit(), crate::throttle::Circuit::Open(_));
            let parked = t
                .parked
                .lock()
                .ok()
                .and_then(|p| p.as_ref().map(|s| s.len()));
            t.metrics.state(&t.tenant, &t.cfg.name, open, parked);
        }
    });
}
