//! One transaction for many commands: the store's throughput comes from
//! committing a whole batch (and its changes and idempotency records) with
//! one fsync.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_db::commands;
use scimbus_db::resources::{self, Row};
use scimbus_events::Message;
use scimbus_events::v1::{Command, CommandResult, command};
use scimbus_scim::Registry;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::apply::{
    self, Applied, ApplyError, Broken, Change, Cmd, Ctx, Owners, Prepared, finish_create,
    prepare_create,
};
use crate::outbox;

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
    Utc::now().trunc_subsecs(6)
}

/// Applies `cmds` in order, in one transaction, and commits. A command
/// applied before (a redelivery, a retry) is answered with its recorded
/// result and `replayed` set; nothing is applied twice. An `Err` means
/// nothing was committed.
pub async fn apply_batch(
    conn: &mut PgConnection,
    registry: &Registry,
    owners: &Owners,
    now: DateTime<Utc>,
    cmds: &[(Uuid, &Command)],
) -> Result<Committed, ApplyError> {
    let mut tx = conn.begin().await?;
    let ids: Vec<Uuid> = cmds.iter().map(|(id, _)| *id).collect();
    let recorded = commands::recorded(&mut tx, &ids).await?;
    let ctx = Ctx {
        registry,
        now,
        owners,
    };
    let mut out = Outcomes {
        now,
        ..Outcomes::default()
    };
    let mut i = 0;
    while i < cmds.len() {
        let (id, _) = cmds[i];
        if let Some(bytes) = recorded.get(&id) {
            let r = CommandResult::decode(bytes.as_slice()).map_err(|e| Broken::Record {
                id,
                reason: e.to_string(),
            })?;
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
        let mut run: Vec<(Cmd<'_>, Prepared)> = Vec::new();
        while let Some(&(rid, wire)) = cmds.get(i + run.len()) {
            let fresh = !recorded.contains_key(&rid)
                && !out.seen.contains_key(&rid)
                && !run.iter().any(|(c, _)| c.id == rid);
            if !fresh || wire.operation != command::Operation::Create as i32 {
                break;
            }
            let rcmd = Cmd { id: rid, wire };
            match prepare_create(ctx, rcmd) {
                Prepared::Complex => break,
                p => run.push((rcmd, p)),
            }
        }
        if run.is_empty() {
            // A run of PATCHes of distinct users: one read, one write.
            let users = user_patches(&cmds[i..], &recorded, &out.seen);
            if !users.is_empty() {
                i += users.len();
                let applied = apply::patch_users(&mut tx, ctx, &users).await?;
                for ((cmd, _), a) in users.into_iter().zip(applied) {
                    out.applied(cmd, a);
                }
                continue;
            }
            let cmd = Cmd {
                id,
                wire: cmds[i].1,
            };
            out.applied(cmd, apply::apply(&mut tx, ctx, cmd).await?);
            i += 1;
            continue;
        }
        let ready: Vec<(&str, &Row)> = run
            .iter()
            .filter_map(|(c, p)| match p {
                Prepared::Ready(row) => Some((c.wire.tenant.as_str(), row)),
                _ => None,
            })
            .collect();
        let inserted: HashSet<Uuid> = resources::insert_many(&mut tx, &ready)
            .await?
            .into_iter()
            .collect();
        i += run.len();
        for (rcmd, p) in run {
            let applied = match p {
                Prepared::Ready(row) => finish_create(ctx, rcmd, &row, inserted.contains(&row.id))?,
                Prepared::Refused(e) => Applied::refused(rcmd, e),
                Prepared::Complex => continue,
            };
            out.applied(rcmd, applied);
        }
    }
    commands::record(&mut tx, &out.records).await?;
    scimbus_db::audit::insert(&mut tx, &out.audit).await?;
    scimbus_db::passwords::write(&mut tx, &out.passwords).await?;
    // Last: the tenants' sequence counters stay locked from here to the
    // commit, and batches of other partitions (other replicas) of the same
    // tenant wait for them.
    let first = reserve(&mut tx, &out.pending).await?;
    let rows = number(out.pending, first)?;
    changes::insert(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(Committed {
        results: out.results,
        changes: rows,
    })
}

/// The PATCHes of users at the head of `cmds` that can be applied as one
/// run ([`apply::patch_users`]): fresh (neither recorded nor answered in
/// this batch), of one tenant, each of another user; with their users' ids.
fn user_patches<'c>(
    cmds: &[(Uuid, &'c Command)],
    recorded: &HashMap<Uuid, Vec<u8>>,
    seen: &HashMap<Uuid, usize>,
) -> Vec<(Cmd<'c>, Uuid)> {
    let mut run: Vec<(Cmd<'c>, Uuid)> = Vec::new();
    for &(id, wire) in cmds {
        let fresh = !recorded.contains_key(&id)
            && !seen.contains_key(&id)
            && !run.iter().any(|(c, _)| c.id == id);
        let same_tenant = run
            .first()
            .is_none_or(|(c, _)| c.wire.tenant == wire.tenant);
        if !fresh
            || !same_tenant
            || wire.operation != command::Operation::Patch as i32
            || wire.resource_type != "User"
        {
            break;
        }
        let Ok(user) = Uuid::parse_str(&wire.resource_id) else {
            break;
        };
        if run.iter().any(|(_, u)| *u == user) {
            break;
        }
        run.push((Cmd { id, wire }, user));
    }
    run
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
    /// Audit entries to write (a replayed command has its entry already).
    audit: Vec<scimbus_db::audit::Entry>,
    /// Pending passwords to keep or drop, in command order.
    passwords: Vec<scimbus_db::passwords::Write>,
    /// The transaction's time.
    now: DateTime<Utc>,
}

impl<'c> Outcomes<'c> {
    /// A command applied before: its recorded answer, marked replayed.
    fn replayed(&mut self, mut r: CommandResult) {
        r.replayed = true;
        self.results.push(r);
    }

    /// A command applied (or refused) now.
    fn applied(&mut self, cmd: Cmd<'c>, applied: Applied) {
        self.records.push((
            cmd.wire.tenant.as_str(),
            cmd.id,
            applied.result.encode_to_vec(),
        ));
        self.audit
            .push(crate::audit::entry(self.now, cmd, &applied));
        self.passwords
            .extend(crate::passwords::writes(cmd, &applied));
        self.pending.extend(applied.change);
        self.pending.extend(applied.others);
        self.seen.insert(cmd.id, self.results.len());
        self.results.push(applied.result);
    }
}

/// Reserves the per-tenant sequence numbers of `pending`, and returns the
/// first of each tenant's. The counters are taken last and in tenant
/// order, so batches of different partitions never wait on each other in a
/// cycle.
async fn reserve(
    conn: &mut PgConnection,
    pending: &[Change],
) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut per_tenant: BTreeMap<&str, i64> = BTreeMap::new();
    for c in pending {
        *per_tenant.entry(c.tenant.as_str()).or_default() += 1;
    }
    let mut first = BTreeMap::new();
    for (tenant, n) in per_tenant {
        first.insert(tenant.to_owned(), changes::reserve(conn, tenant, n).await?);
    }
    Ok(first)
}

/// Numbers the changes from the reserved `next` sequence of their tenant,
/// in order, as the outbox rows to write.
fn number(pending: Vec<Change>, mut next: BTreeMap<String, i64>) -> Result<Vec<ChangeRow>, Broken> {
    let mut rows = Vec::with_capacity(pending.len());
    for c in pending {
        let s = next
            .get_mut(c.tenant.as_str())
            .ok_or_else(|| Broken::Unnumbered(c.tenant.clone()))?;
        let seq = *s;
        *s += 1;
        rows.push(outbox::row(c, seq)?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Operation;
    use scimbus_events::v1;

    fn change(tenant: &str, id: Uuid, resource_id: Uuid) -> Change {
        Change {
            id,
            tenant: tenant.into(),
            resource_type: "User".into(),
            resource_id,
            operation: Operation::Created,
            version: 1,
            resource: Vec::new(),
            changed_attributes: Vec::new(),
            command_id: Uuid::now_v7(),
            source: None,
            committed_at: now(),
            members_added: Vec::new(),
            members_removed: Vec::new(),
        }
    }

    fn first(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(t, s)| (t.to_string(), *s)).collect()
    }

    #[test]
    fn changes_are_numbered_per_tenant_and_keep_their_ids() {
        let (a, b, r) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let pending = vec![change("t1", a, r), change("t2", b, r), change("t1", b, r)];
        let rows = number(pending, first(&[("t1", 7), ("t2", 1)])).unwrap();
        let got: Vec<(&str, i64, Uuid)> = rows
            .iter()
            .map(|r| (r.tenant.as_str(), r.seq, r.id))
            .collect();
        assert_eq!(got, vec![("t1", 7, a), ("t2", 1, b), ("t1", 8, b)]);
        let decoded = v1::Change::decode(rows[2].payload.as_slice()).unwrap();
        assert_eq!(decoded.sequence, 8);
        assert_eq!(decoded.id, b.to_string());
        assert_eq!(rows[0].resource_id, r);
    }

    #[test]
    fn a_change_without_a_reserved_or_with_a_negative_sequence_is_an_error() {
        let (id, r) = (Uuid::now_v7(), Uuid::now_v7());
        let e = number(vec![change("t1", id, r)], first(&[("t2", 1)])).unwrap_err();
        assert!(matches!(&e, Broken::Unnumbered(t) if t == "t1"), "{e}");
        let e = number(vec![change("t1", id, r)], first(&[("t1", -3)])).unwrap_err();
        assert!(matches!(e, Broken::Sequence(-3)), "{e}");
    }

    #[test]
    fn now_keeps_microseconds() {
        let t = now();
        assert_eq!(t.timestamp_subsec_nanos() % 1000, 0);
    }
}
