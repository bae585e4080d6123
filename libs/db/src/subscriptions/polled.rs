//! Events waiting for a polling application (RFC 8936): queued by the
//! subscription's driver, handed out by the ingress's poll endpoint, and
//! gone once the application acknowledges them by `jti`.

use sqlx::PgExecutor;

use super::SubscriptionKey;

/// Queues an event (nothing if it is queued already: a change seen again).
pub async fn queue<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    jti: &str,
    change_seq: i64,
    token: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_polled (tenant, name, jti, change_seq, token)
         values ($1, $2, $3, $4, $5) on conflict (tenant, name, jti) do nothing",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(jti)
    .bind(change_seq)
    .bind(token)
    .execute(db)
    .await?;
    Ok(())
}

/// Acknowledges events (RFC 8936 `ack` and `setErrs`): they are not handed
/// out again. How many were pending.
pub async fn acknowledge<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    jtis: &[String],
) -> sqlx::Result<u64> {
    if jtis.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "delete from subscription_polled where tenant = $1 and name = $2 and jti = any($3)",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(jtis)
    .execute(db)
    .await?
    .rows_affected())
}

/// Up to `max` pending events, oldest change first, as (jti, token); and
/// whether more are pending.
pub async fn pending<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    max: i64,
) -> sqlx::Result<(Vec<(String, String)>, bool)> {
    let mut rows: Vec<(String, String)> = sqlx::query_as(
        "select jti, token from subscription_polled where tenant = $1 and name = $2
         order by change_seq limit $3",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(max.saturating_add(1))
    .fetch_all(db)
    .await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > max;
    rows.truncate(usize::try_from(max).unwrap_or(0));
    Ok((rows, more))
}
