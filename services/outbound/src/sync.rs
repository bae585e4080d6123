//! Full sync: a target gets the tenant's current state, paged from
//! Postgres (users first, so groups find their members), pushed in
//! parallel up to the target's concurrency; then what the target holds of
//! resources deleted here is deprovisioned. A new target is synced before
//! it follows the stream, from the stream position taken before the
//! snapshot: a change after it is seen again and skipped by its version,
//! none is missed. A dry run only counts what would be done.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use scimbus_db::links;
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};

use uuid::Uuid;

use crate::client::PushError;
use crate::push::{Plan, Pushed, RemoteIndex, Target};
use crate::reconcile::read_all;

const PAGE: i64 = 500;

/// What a full sync did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub dry_run: bool,
    pub created: u64,
    pub adopted: u64,
    pub updated: u64,
    pub deprovisioned: u64,
    pub skipped: u64,
    /// Resources that could not be pushed, with why (the first 20).
    pub failed: Vec<String>,
    pub failures: u64,
    pub took: Duration,
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would create or adopt"
        } else {
            "created"
        };
        write!(
            f,
            "{} {verb} {}",
            if self.dry_run { "dry run:" } else { "sync:" },
            self.created
        )?;
        if !self.dry_run {
            write!(f, ", adopted {}", self.adopted)?;
        }
        write!(
            f,
            ", {} {}, {} {}, skipped {}, failed {}, in {:.1} s",
            if self.dry_run {
                "would update"
            } else {
                "updated"
            },
            self.updated,
            if self.dry_run {
                "would deprovision"
            } else {
                "deprovisioned"
            },
            self.deprovisioned,
            self.skipped,
            self.failures,
            self.took.as_secs_f64()
        )?;
        for e in &self.failed {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl SyncReport {
    fn count(&mut self, p: Pushed) {
        match p {
            Pushed::Created => self.created += 1,
            Pushed::Adopted => self.adopted += 1,
            Pushed::Updated => self.updated += 1,
            Pushed::Deprovisioned => self.deprovisioned += 1,
            Pushed::Skipped(_) => self.skipped += 1,
        }
    }

    fn count_plan(&mut self, p: Plan) {
        match p {
            Plan::Create => self.created += 1,
            Plan::Update => self.updated += 1,
            Plan::Deprovision => self.deprovisioned += 1,
            Plan::Skip => self.skipped += 1,
        }
    }

    fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.failed.len() < 20 {
            self.failed.push(what);
        }
    }
}

/// Pushes (or, dry, plans) the tenant's whole current state to `target`.
pub async fn full_sync(
    target: &Target,
    dry_run: bool,
    backoff: Duration,
) -> Result<SyncReport, sqlx::Error> {
    let started = Instant::now();
    let mut report = SyncReport {
        dry_run,
        ..SyncReport::default()
    };
    if !dry_run {
        // What the target has, read once: finding a resource's copy is then
        // no request of its own.
        let mut index = RemoteIndex::default();
        for rt in ["User", "Group"] {
            if let Some(rtype) = target
                .registry
                .resource_type(rt)
                .filter(|_| target.wants(rt))
            {
                match read_all(target, &rtype.endpoint).await {
                    Ok(all) => index.add(rt, &all),
                    Err(e) => {
                        // Without the index each resource is looked up.
                        tracing::warn!(target = %target.cfg.name, error = %e, "cannot list the target; looking up resource by resource");
                        index = RemoteIndex::default();
                        break;
                    }
                }
            }
        }
        if let Ok(mut slot) = target.index.write() {
            *slot = Some(std::sync::Arc::new(index));
        }
    }
    if !dry_run && let Ok(mut d) = target.deferred.lock() {
        *d = Some(Vec::new());
    }
    let result = sync_all(target, dry_run, backoff, &mut report).await;
    if let Ok(mut slot) = target.index.write() {
        *slot = None;
    }
    let left = target.deferred.lock().ok().and_then(|mut d| d.take());
    if let Some(list) = left {
        links::put_many(&target.links_pool, target.key(), &list).await?;
    }
    result?;
    report.took = started.elapsed();
    Ok(report)
}

async fn sync_all(
    target: &Target,
    dry_run: bool,
    backoff: Duration,
    report: &mut SyncReport,
) -> Result<(), sqlx::Error> {
    for rt in ["User", "Group"] {
        if !target.wants(rt) {
            continue;
        }
        let mut after = None;
        loop {
            let rows = resources::page(&target.pool, &target.tenant, rt, after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
            let known: HashMap<Uuid, links::Link> =
                links::get_many(&target.pool, target.key(), &ids)
                    .await?
                    .into_iter()
                    .map(|l| (l.resource_id, l))
                    .collect();
            let link_of = |id| known.get(&id).cloned();
            if dry_run {
                let Some(rtype) = target.registry.resource_type(rt) else {
                    break;
                };
                for row in &rows {
                    let resource = render::resource(row, Relations::default());
                    report.count_plan(target.plan(rtype, &resource, link_of(row.id).as_ref()));
                }
                continue;
            }
            let work: Vec<(Row, Option<links::Link>)> = rows
                .into_iter()
                .map(|row| {
                    let link = link_of(row.id);
                    (row, link)
                })
                .collect();
            let steps = work.into_iter().map(|(row, link)| async move {
                let r = with_retries(target, backoff, || target.sync_resource(&row, link.clone()))
                    .await;
                (row, r)
            });
            let outcomes: Vec<(Row, Result<Pushed, PushError>)> = futures_util::stream::iter(steps)
                .buffer_unordered(target.cfg.concurrency.max(1))
                .collect()
                .await;
            for (row, o) in outcomes {
                match o {
                    Ok(p) => report.count(p),
                    Err(e) => report.fail(format!("{} {}: {e}", row.resource_type, row.id)),
                }
            }
            // The page's links, in one statement (groups after users find
            // their members' links).
            let page_links = target
                .deferred
                .lock()
                .ok()
                .and_then(|mut d| d.as_mut().map(std::mem::take))
                .unwrap_or_default();
            links::put_many(&target.links_pool, target.key(), &page_links).await?;
        }
    }
    for l in links::orphans(&target.pool, target.key()).await? {
        // One out of scope was deprovisioned already.
        if !target.wants(&l.resource_type) || !l.in_scope {
            continue;
        }
        if dry_run {
            report.deprovisioned += 1;
            continue;
        }
        match with_retries(target, backoff, || target.sync_orphan(&l)).await {
            Ok(p) => report.count(p),
            Err(e) => report.fail(format!(
                "{} {} (deleted here): {e}",
                l.resource_type, l.resource_id
            )),
        }
    }
    Ok(())
}

/// A step retried on transient failures, up to the target's attempts.
async fn with_retries<F, Fut>(
    target: &Target,
    backoff: Duration,
    mut step: F,
) -> Result<Pushed, PushError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Pushed, PushError>>,
{
    let mut attempt = 1;
    loop {
        match step().await {
            Err(PushError::Transient { retry_after, .. }) if attempt < target.cfg.max_attempts => {
                let wait =
                    retry_after.unwrap_or_else(|| crate::worker::backoff(backoff, attempt, 0));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
