//! Full sync: a target gets the tenant's current state, paged from
//! Postgres (users first, so groups find their members), pushed in
//! parallel up to the target's concurrency; then what the target holds of
//! resources deleted here is deprovisioned. A new target is synced before
//! it follows the stream, from the stream position taken before the
//! snapshot: a change after it is seen again and skipped by its version,
//! none is missed. A dry run only counts what would be done.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::OptionFuture;
use futures_util::stream::FuturesUnordered;
use scimbus_db::links::{self, SyncCounts};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};

use uuid::Uuid;

use crate::client::PushError;
use crate::link_cache::LinkCache;
use scimbus_db::links::Link;
use scimbus_scim::ResourceType;
use serde_json::Value;

use crate::lifecycle::{self, Held, Mode, Ours, Step, exit};
use crate::listing::read_all;
use crate::remote_index::RemoteIndex;
use crate::target::{Pushed, Target};

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

/// A count as the status columns keep it.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Milliseconds as the status columns keep them.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl From<&SyncReport> for SyncCounts {
    fn from(r: &SyncReport) -> Self {
        SyncCounts {
            dry_run: r.dry_run,
            created: count(r.created),
            adopted: count(r.adopted),
            updated: count(r.updated),
            deprovisioned: count(r.deprovisioned),
            skipped: count(r.skipped),
            failures: count(r.failures),
            failed: r.failed.clone(),
            took_ms: millis(r.took),
        }
    }
}

/// The summary the status shows ([`SyncCounts`]'s).
impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SyncCounts::from(self).fmt(f)
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

    fn count_plan(&mut self, s: Step) {
        match s {
            Step::Enter | Step::Return => self.created += 1,
            Step::Update { .. } => self.updated += 1,
            Step::Leave(_) | Step::Remove => self.deprovisioned += 1,
            Step::Skip(_) => self.skipped += 1,
        }
    }

    fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.failed.len() < 20 {
            self.failed.push(what);
        }
    }
}

/// Clears the target's snapshot of what it held when dropped.
struct ClearIndex<'a>(&'a Target);

impl Drop for ClearIndex<'_> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.0.index.write() {
            *slot = None;
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
    if !dry_run {
        target.link_cache.start();
    }
    let mut result = {
        // The snapshot goes with the sync, however it ends: finished, failed,
        // or dropped by a shutdown.
        let _index = ClearIndex(target);
        sync_all(target, dry_run, backoff, &mut report).await
    };
    if !dry_run {
        if result.is_ok() {
            result = write_links(target).await;
        }
        target.link_cache.stop();
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
        if dry_run {
            plan_all(target, rt, report).await?;
        } else {
            push_all(target, rt, backoff, report).await?;
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

/// One page of a resource type after `after`, each row with its link.
async fn page(
    target: &Target,
    rt: &str,
    after: Option<Uuid>,
) -> Result<Vec<(Row, Option<links::Link>)>, sqlx::Error> {
    let rows = resources::page(&target.pool, &target.tenant, rt, after, PAGE).await?;
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let mut known: HashMap<Uuid, links::Link> = links::get_many(&target.pool, target.key(), &ids)
        .await?
        .into_iter()
        .map(|l| (l.resource_id, l))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let link = known.remove(&row.id);
            (row, link)
        })
        .collect())
}

/// Counts what a sync of every resource of type `rt` would do.
async fn plan_all(target: &Target, rt: &str, report: &mut SyncReport) -> Result<(), sqlx::Error> {
    let Some(rtype) = target.registry.resource_type(rt) else {
        return Ok(());
    };
    let mut after = None;
    loop {
        let rows = page(target, rt, after).await?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = Some(last.id);
        for (row, link) in &rows {
            let resource = render::resource(row, Relations::default());
            report.count_plan(target.plan(rtype, &Current::of(row), &resource, link.as_ref()));
        }
    }
}

/// Pushes every resource of type `rt`, up to the target's concurrency
/// without a pause between pages: the next page is read while the last
/// resources of this one are in flight, and the links of each page's worth
/// of pushes are written alongside (one statement; readers find them in the
/// link cache until then). All are written when this returns, so groups
/// pushed after users find their members' links in Postgres too.
async fn push_all(
    target: &Target,
    rt: &str,
    backoff: Duration,
    report: &mut SyncReport,
) -> Result<(), sqlx::Error> {
    let concurrency = target.cfg.concurrency.max(1);
    let mut fetch = Some(Box::pin(page(target, rt, None)));
    let mut last_page = false;
    let mut last_seen = None;
    let mut queue: VecDeque<(Row, Option<links::Link>)> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let mut writing = None;
    let mut done = 0usize;
    let mut failed = None;
    loop {
        while in_flight.len() < concurrency
            && let Some((row, link)) = queue.pop_front()
        {
            in_flight.push(step(target, backoff, row, link));
        }
        // The next page is read while this one's last resources are pushed.
        if fetch.is_none() && !last_page && failed.is_none() && queue.len() < PAGE as usize / 4 {
            fetch = Some(Box::pin(page(target, rt, last_seen)));
        }
        // A page's worth done: its links written (one write at a time).
        if done >= PAGE as usize && writing.is_none() {
            done = 0;
            writing = Some(Box::pin(write_links(target)));
        }
        tokio::select! {
            Some(rows) = OptionFuture::from(fetch.as_mut()) => {
                fetch = None;
                match rows {
                    Ok(rows) => {
                        last_page = (rows.len() as i64) < PAGE;
                        last_seen = rows.last().map(|(r, _)| r.id).or(last_seen);
                        queue.extend(rows);
                    }
                    Err(e) => {
                        // What is in flight finishes and its links are
                        // written; nothing more starts.
                        queue.clear();
                        failed = Some(e);
                    }
                }
            }
            Some((row, o)) = in_flight.next() => {
                match o {
                    Ok(p) => report.count(p),
                    Err(e) => report.fail(format!("{} {}: {e}", row.resource_type, row.id)),
                }
                done += 1;
            }
            Some(written) = OptionFuture::from(writing.as_mut()) => {
                writing = None;
                if let Err(e) = written {
                    queue.clear();
                    failed.get_or_insert(e);
                }
            }
            else => break,
        }
    }
    let written = write_links(target).await;
    match failed {
        Some(e) => Err(e),
        None => written,
    }
}

async fn step(
    target: &Target,
    backoff: Duration,
    row: Row,
    link: Option<links::Link>,
) -> (Current, Result<Pushed, PushError>) {
    let now = Current::of(&row);
    // Read with its page, the link may have been written since (a group
    // pushed as a member of another one).
    let link = match target.fresh_link(&now, link).await {
        Ok(l) => l,
        Err(e) => return (now, Err(e)),
    };
    let resource = render::into_resource(row, Relations::default());
    let r = with_retries(target, backoff, || {
        target.sync_rendered(&now, &resource, link.clone())
    })
    .await;
    (now, r)
}

/// Writes the links kept in the link cache to Postgres (through the links
/// pool: a sync's writes are redone or adopted if lost), then lets go of
/// them.
async fn write_links(target: &Target) -> sqlx::Result<()> {
    let taken = target.link_cache.snapshot();
    if taken.is_empty() {
        return Ok(());
    }
    let mut conn = target.links_pool.acquire().await?;
    LinkCache::flush(&mut conn, target.key(), &taken).await?;
    target.link_cache.release(taken);
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
        let e = match step().await {
            Ok(p) => return Ok(p),
            Err(e) => e,
        };
        match crate::retry::retry_wait(target, backoff, &e, attempt, 0) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Err(e),
        }
        attempt += 1;
    }
}

/// What identifies a resource's current state: its type, id and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub resource_type: String,
    pub id: Uuid,
    pub version: i64,
}

impl Current {
    pub fn of(row: &Row) -> Current {
        Current {
            resource_type: row.resource_type.clone(),
            id: row.id,
            version: row.version,
        }
    }
}

/// A full sync's step for one resource.
impl Target {
    /// What a full sync does with one of our resources (as Postgres holds
    /// it now) and the link the target has of it, if any.
    pub fn plan(
        &self,
        rt: &ResourceType,
        now: &Current,
        resource: &Value,
        link: Option<&Link>,
    ) -> Step {
        let exit = exit(self.cfg.deprovision, rt.name == "Group");
        lifecycle::step(
            Held::of(link),
            self.ours(rt, resource, now.version),
            exit,
            Mode::Sync,
        )
    }

    /// Pushes one resource's current state (a full sync's step).
    pub async fn sync_resource(&self, row: &Row, link: Option<Link>) -> Result<Pushed, PushError> {
        let resource = render::resource(row, Relations::default());
        self.sync_rendered(&Current::of(row), &resource, link).await
    }

    /// [`Self::sync_resource`] of a resource rendered already (retries
    /// render it once).
    pub async fn sync_rendered(
        &self,
        now: &Current,
        resource: &Value,
        link: Option<Link>,
    ) -> Result<Pushed, PushError> {
        if !self.wants(&now.resource_type) {
            return Ok(Pushed::Skipped("resource type not pushed to this target"));
        }
        let rt = self.rt(&now.resource_type)?;
        let step = self.plan(rt, now, resource, link.as_ref());
        self.carry_out(
            rt,
            now.id,
            now.version,
            step,
            Some(resource),
            None,
            link,
            Mode::Sync,
        )
        .await
    }

    /// Deprovisions what the target holds of a resource deleted here (a
    /// full sync's last step).
    pub async fn sync_orphan(&self, l: &Link) -> Result<Pushed, PushError> {
        let rt = self.rt(&l.resource_type)?;
        let exit = exit(self.cfg.deprovision, rt.name == "Group");
        let step = lifecycle::step(Held::of(Some(l)), Ours::Deleted, exit, Mode::Sync);
        self.carry_out(
            rt,
            l.resource_id,
            l.version,
            step,
            None,
            None,
            Some(l.clone()),
            Mode::Sync,
        )
        .await
    }
}
