//! One transaction for many commands: the store's throughput comes from
//! committing a whole batch (and its changes and idempotency records) with
//! one fsync.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_db::commands;
use scimbus_events::Message;
use scimbus_events::v1::{Change, Command, CommandResult};
use scimbus_scim::Registry;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::apply::{self, Ctx};

/// What a committed batch produced.
#[derive(Debug, Default)]
pub struct Committed {
    /// One result per command, in order.
    pub results: Vec<CommandResult>,
    /// The change rows written, to publish.
    pub changes: Vec<ChangeRow>,
}

/// The time a transaction stamps on what it writes, at the precision
/// Postgres keeps.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Applies `cmds` in order, in one transaction, and commits. A command
/// applied before (a redelivery, a retry) is answered with its recorded
/// result and `replayed` set; nothing is applied twice. An `Err` means
/// nothing was committed.
pub async fn apply_batch(
    conn: &mut PgConnection,
    registry: &Registry,
    now: DateTime<Utc>,
    cmds: &[(Uuid, &Command)],
) -> sqlx::Result<Committed> {
    let mut tx = conn.begin().await?;
    let ids: Vec<Uuid> = cmds.iter().map(|(id, _)| *id).collect();
    let recorded = commands::recorded(&mut tx, &ids).await?;
    let ctx = Ctx { registry, now };
    let mut results: Vec<CommandResult> = Vec::with_capacity(cmds.len());
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    let mut records: Vec<(&str, Uuid, Vec<u8>)> = Vec::new();
    let mut pending: Vec<Change> = Vec::new();
    for (id, cmd) in cmds {
        if let Some(bytes) = recorded.get(id) {
            let mut r = CommandResult::decode(bytes.as_slice()).unwrap_or_else(|_| CommandResult {
                command_id: cmd.id.clone(),
                ..Default::default()
            });
            r.replayed = true;
            results.push(r);
            continue;
        }
        if let Some(&i) = seen.get(id) {
            let mut r = results[i].clone();
            r.replayed = true;
            results.push(r);
            continue;
        }
        let applied = apply::apply(&mut tx, ctx, cmd).await?;
        records.push((cmd.tenant.as_str(), *id, applied.result.encode_to_vec()));
        pending.extend(applied.change);
        seen.insert(*id, results.len());
        results.push(applied.result);
    }
    let rows = number(&mut tx, pending, now).await?;
    changes::insert(&mut tx, &rows).await?;
    commands::record(&mut tx, &records).await?;
    tx.commit().await?;
    Ok(Committed {
        results,
        changes: rows,
    })
}

/// Gives the changes their per-tenant sequence numbers. The counters are
/// taken last and in tenant order, so batches of different partitions never
/// wait on each other in a cycle.
async fn number(
    conn: &mut PgConnection,
    pending: Vec<Change>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ChangeRow>> {
    let mut per_tenant: BTreeMap<String, i64> = BTreeMap::new();
    for c in &pending {
        *per_tenant.entry(c.tenant.clone()).or_default() += 1;
    }
    let mut next: BTreeMap<String, i64> = BTreeMap::new();
    for (tenant, n) in per_tenant {
        let first = changes::reserve(conn, &tenant, n).await?;
        next.insert(tenant, first);
    }
    let mut rows = Vec::with_capacity(pending.len());
    for mut c in pending {
        let seq = next.get_mut(&c.tenant).map_or(0, |s| {
            *s += 1;
            *s - 1
        });
        c.sequence = u64::try_from(seq).unwrap_or(0);
        rows.push(ChangeRow {
            tenant: c.tenant.clone(),
            seq,
            id: Uuid::parse_str(&c.id).unwrap_or_else(|_| Uuid::now_v7()),
            resource_type: c.resource_type.clone(),
            resource_id: Uuid::parse_str(&c.resource_id).unwrap_or_default(),
            payload: c.encode_to_vec(),
            committed_at: now,
        });
    }
    Ok(rows)
}
