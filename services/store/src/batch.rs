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
    let mut out = Outcomes::default();
    let mut i = 0;
    while i < cmds.len() {
        let (id, cmd) = cmds[i];
        if let Some(bytes) = recorded.get(&id) {
            let r = CommandResult::decode(bytes.as_slice()).unwrap_or_else(|_| CommandResult {
                command_id: cmd.id.clone(),
                ..Default::default()
            });
            out.replayed(r);
            i += 1;
            continue;
        }
        if let Some(&k) = out.seen.get(&id) {
            out.replayed(out.results[k].clone());
            i += 1;
            continue;
        }
        // A run of creates is validated first and inserted in one statement.
        let mut run: Vec<(Uuid, &Command, Prepared)> = Vec::new();
        while let Some(&(rid, rcmd)) = cmds.get(i + run.len()) {
            let fresh = !recorded.contains_key(&rid)
                && !out.seen.contains_key(&rid)
                && !run.iter().any(|(x, _, _)| *x == rid);
            if !fresh || rcmd.operation != command::Operation::Create as i32 {
                break;
            }
            match prepare_create(ctx, rcmd) {
                Prepared::Complex => break,
                p => run.push((rid, rcmd, p)),
            }
        }
        if run.is_empty() {
            out.applied(cmd, id, apply::apply(&mut tx, ctx, cmd).await?);
            i += 1;
            continue;
        }
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
        i += run.len();
        for (rid, rcmd, p) in run {
            let applied = match p {
                Prepared::Ready(row) => finish_create(ctx, rcmd, &row, inserted.contains(&row.id)),
                Prepared::Refused(e) => Applied::refused(rcmd, e),
                Prepared::Complex => continue,
            };
            out.applied(rcmd, rid, applied);
        }
    }
    let rows = number(&mut tx, out.pending, now).await?;
    changes::insert(&mut tx, &rows).await?;
    commands::record(&mut tx, &out.records).await?;
    tx.commit().await?;
    Ok(Committed {
        results: out.results,
        changes: rows,
    })
}

/// What a batch has answered so far.
#[derive(Default)]
struct Outcomes<'c> {
    /// One per command, in order.
    results: Vec<CommandResult>,
    /// Where the result of a command applied in this batch is.
    seen: HashMap<Uuid, usize>,
    /// Idempotency records to write.
    records: Vec<(&'c str, Uuid, Vec<u8>)>,
    /// Changes to number and write.
    pending: Vec<Change>,
}

impl<'c> Outcomes<'c> {
    /// A command applied before: its recorded answer, marked replayed.
    fn replayed(&mut self, mut r: CommandResult) {
        r.replayed = true;
        self.results.push(r);
    }

    /// A command applied (or refused) now.
    fn applied(&mut self, cmd: &'c Command, id: Uuid, applied: Applied) {
        self.records
            .push((cmd.tenant.as_str(), id, applied.result.encode_to_vec()));
        self.pending.extend(applied.change);
        self.pending.extend(applied.others);
        self.seen.insert(id, self.results.len());
        self.results.push(applied.result);
    }
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
