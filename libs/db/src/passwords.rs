//! Passwords waiting for the targets that receive them
//! (`pending_passwords`): sealed, kept only until each target named has
//! had its password or it expires.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A sealed password and the targets still to get it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    pub tenant: String,
    pub resource_id: Uuid,
    /// The command that set it.
    pub command_id: Uuid,
    /// The version of the resource that write made.
    pub version: i64,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub targets: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// What a batch does to a resource's pending password: keeps a new one,
/// or drops what there is (the user was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Keep(Pending),
    Drop { tenant: String, resource_id: Uuid },
}

impl Write {
    fn key(&self) -> (&str, Uuid) {
        match self {
            Write::Keep(p) => (&p.tenant, p.resource_id),
            Write::Drop {
                tenant,
                resource_id,
            } => (tenant, *resource_id),
        }
    }
}

/// Applies `writes` (in the order the commands were applied: the last of a
/// resource's counts) in the caller's transaction, in at most two
/// statements. A kept password replaces an older one of the same resource
/// (never a newer: a redelivered old write does not bring its password
/// back).
pub async fn write(conn: &mut PgConnection, writes: &[Write]) -> sqlx::Result<()> {
    let mut last: std::collections::HashMap<(&str, Uuid), &Write> =
        std::collections::HashMap::with_capacity(writes.len());
    for w in writes {
        last.insert(w.key(), w);
    }
    let kept: Vec<&Pending> = last
        .values()
        .filter_map(|w| match w {
            Write::Keep(p) => Some(p),
            Write::Drop { .. } => None,
        })
        .collect();
    let (drop_tenants, drop_ids): (Vec<&str>, Vec<Uuid>) = last
        .values()
        .filter_map(|w| match w {
            Write::Drop {
                tenant,
                resource_id,
            } => Some((tenant.as_str(), *resource_id)),
            Write::Keep(_) => None,
        })
        .unzip();
    if !drop_ids.is_empty() {
        sqlx::query(
            "delete from pending_passwords p
             using unnest($1::text[], $2::uuid[]) as d(tenant, resource_id)
             where p.tenant = d.tenant and p.resource_id = d.resource_id",
        )
        .bind(&drop_tenants)
        .bind(&drop_ids)
        .execute(&mut *conn)
        .await?;
    }
    if kept.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&Pending) -> String| kept.iter().map(|p| f(p)).collect::<Vec<_>>();
    let tenants = col(|p| p.tenant.clone());
    let key_ids = col(|p| p.key_id.clone());
    // Target names never hold a newline: one text per row.
    let targets = col(|p| p.targets.join("\n"));
    let ids: Vec<Uuid> = kept.iter().map(|p| p.resource_id).collect();
    let commands: Vec<Uuid> = kept.iter().map(|p| p.command_id).collect();
    let versions: Vec<i64> = kept.iter().map(|p| p.version).collect();
    let nonces: Vec<&[u8]> = kept.iter().map(|p| p.nonce.as_slice()).collect();
    let sealed: Vec<&[u8]> = kept.iter().map(|p| p.ciphertext.as_slice()).collect();
    let expiries: Vec<DateTime<Utc>> = kept.iter().map(|p| p.expires_at).collect();
    sqlx::query(
        "insert into pending_passwords (tenant, resource_id, command_id, version, key_id,
             nonce, ciphertext, targets, expires_at)
         select tenant, resource_id, command_id, version, key_id, nonce, ciphertext,
                string_to_array(targets, E'\\n'), expires_at
         from unnest($1::text[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[],
                     $6::bytea[], $7::bytea[], $8::text[], $9::timestamptz[])
              as k(tenant, resource_id, command_id, version, key_id, nonce, ciphertext,
                   targets, expires_at)
         on conflict (tenant, resource_id) do update set
             command_id = excluded.command_id, version = excluded.version,
             key_id = excluded.key_id, nonce = excluded.nonce,
             ciphertext = excluded.ciphertext, targets = excluded.targets,
             expires_at = excluded.expires_at
         where pending_passwords.version < excluded.version",
    )
    .bind(&tenants)
    .bind(&ids)
    .bind(&commands)
    .bind(&versions)
    .bind(&key_ids)
    .bind(&nonces)
    .bind(&sealed)
    .bind(&targets)
    .bind(&expiries)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The password `target` still has to get for a resource, unexpired.
pub async fn pending_for<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    resource_id: Uuid,
    target: &str,
) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "select tenant, resource_id, command_id, version, key_id, nonce, ciphertext,
                targets, expires_at
         from pending_passwords
         where tenant = $1 and resource_id = $2 and $3 = any(targets) and expires_at > now()",
    )
    .bind(tenant)
    .bind(resource_id)
    .bind(target)
    .fetch_optional(db)
    .await
}

/// `target` has the password command `command_id` set: it is taken off the
/// row, and the row deleted when no target is left. (A newer password, set
/// meanwhile, is left alone: the target has not had that one.)
pub async fn delivered(
    conn: &mut PgConnection,
    tenant: &str,
    resource_id: Uuid,
    command_id: Uuid,
    target: &str,
) -> sqlx::Result<()> {
    let left: Option<i32> = sqlx::query_scalar(
        "update pending_passwords set targets = array_remove(targets, $4)
         where tenant = $1 and resource_id = $2 and command_id = $3
         returning cardinality(targets)",
    )
    .bind(tenant)
    .bind(resource_id)
    .bind(command_id)
    .bind(target)
    .fetch_optional(&mut *conn)
    .await?;
    if left == Some(0) {
        sqlx::query(
            "delete from pending_passwords
             where tenant = $1 and resource_id = $2 and command_id = $3
               and cardinality(targets) = 0",
        )
        .bind(tenant)
        .bind(resource_id)
        .bind(command_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes up to `batch` passwords that expired before `now`; how many.
pub async fn prune<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "delete from pending_passwords where ctid in (
             select ctid from pending_passwords where expires_at <= $1 limit $2)",
    )
    .bind(now)
    .bind(batch)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
