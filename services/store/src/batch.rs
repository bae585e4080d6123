//! One transaction for many commands: the store's throughput comes from
//! committing a whole batch (and its changes and idempotency records) with
//! one fsync.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_db::commands;
use scimbus_db::resources::{self, Row};
use scimbus_events::Message;
use scimbus_events::v1::{Change, Command, CommandResult, command};
use scimbus_scim::Registry;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::apply::{self, Applied, Ctx, Prepared, finish_create, prepare_create};

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
    let mut i = 0;
    while i < cmds.len() {
        let (id, cmd) = cmds[i];
        if let Some(bytes) = recorded.get(&id) {
            let mut r = CommandResult::decode(bytes.as_slice()).unwrap_or_else(|_| CommandResult {
                command_id: cmd.id.clone(),
                ..Default::default()
            });
            r.replayed = true;
            results.push(r);
            i += 1;
            continue;
        }
        if let Some(&k) = seen.get(&id) {
            let mut r = results[k].clone();
            r.replayed = true;
            results.push(r);
            i += 1;
            continue;
        }
        // A run of creates is validated first and inserted in one statement.
        let mut run: Vec<(Uuid, &Command, Prepared)> = Vec::new();
        let mut j = i;
        while j < cmds.len() {
            let (rid, rcmd) = cmds[j];
            let fresh = !recorded.contains_key(&rid)
                && !seen.contains_key(&rid)
                && !run.iter().any(|(x, _, _)| *x == rid);
            if !fresh || rcmd.operation != command::Operation::Create as i32 {
                break;
            }
            match prepare_create(ctx, rcmd) {
                Prepared::Complex => break,
                p => run.push((rid, rcmd, p)),
            }
            j += 1;
        }
        if run.len() > 1 {
            let ready: Vec<(&str, &Row)> = run
                .iter()
                .filter_map(|(_, c, p)| match p {
                    Prepared::Ready(row) => Some((c.tenant.as_str(), row)),
                    _ => None,
                })
                .collect();
            let inserted: HashSet<Uuid> = resources::insert_many(&mut tx, &ready)
                .await?
                .into_iter()
                .collect();
            for (rid, rcmd, p) in run {
                let applied = match p {
                    Prepared::Ready(row) => {
                        finish_create(ctx, rcmd, &row, inserted.contains(&row.id))
                    }
                    Prepared::Refused(e) => Applied::refused(rcmd, e),
                    Prepared::Complex => continue,
                };
                records.push((rcmd.tenant.as_str(), rid, applied.result.encode_to_vec()));
                pending.extend(applied.change);
                seen.insert(rid, results.len());
                results.push(applied.result);
            }
            i = j;
            continue;
        }
        let applied = apply::apply(&mut tx, ctx, cmd).await?;
        records.push((cmd.tenant.as_str(), id, applied.result.encode_to_vec()));
        pending.extend(applied.change);
        seen.insert(id, results.len());
        results.push(applied.result);
        i += 1;
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
