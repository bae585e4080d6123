//! `scimbus targets …`: the operator's view of the outbound workers —
//! status (position, lag, pushed, skipped, failed, parked, circuit, last
//! error), pause and resume, the parked changes, and replaying them. The workers
//! read the same rows: a pause takes effect within a second, a replay at
//! the worker's next turn.

use std::io::Write;

use scimbus_db::links::{self, Parked, Progress, TargetKey};
use sqlx::PgPool;

use crate::error::CliError;

/// One target's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStatus {
    pub tenant: String,
    pub target: String,
    pub progress: Progress,
}

/// Every target that has run (of one tenant, if given).
pub async fn status(pool: &PgPool, tenant: Option<&str>) -> Result<Vec<TargetStatus>, CliError> {
    Ok(links::all_progress(pool, tenant)
        .await?
        .into_iter()
        .map(|(tenant, target, progress)| TargetStatus {
            tenant,
            target,
            progress,
        })
        .collect())
}

/// Pauses (or resumes) a target's worker.
pub async fn set_paused(
    pool: &PgPool,
    tenant: &str,
    target: &str,
    paused: bool,
) -> Result<(), CliError> {
    links::set_paused(pool, TargetKey { tenant, target }, paused).await?;
    Ok(())
}

/// Asks the worker for a full sync (or a dry run of one).
pub async fn request_sync(
    pool: &PgPool,
    tenant: &str,
    target: &str,
    dry_run: bool,
) -> Result<(), CliError> {
    links::request_sync(pool, TargetKey { tenant, target }, dry_run).await?;
    Ok(())
}

/// Asks the worker to reconcile the target (and, with `apply`, correct it).
pub async fn request_reconcile(
    pool: &PgPool,
    tenant: &str,
    target: &str,
    apply: bool,
) -> Result<(), CliError> {
    links::request_reconcile(pool, TargetKey { tenant, target }, apply).await?;
    Ok(())
}

/// A target's parked changes, oldest first.
pub async fn parked(pool: &PgPool, tenant: &str, target: &str) -> Result<Vec<Parked>, CliError> {
    Ok(links::parked(pool, TargetKey { tenant, target }, 10_000).await?)
}

/// Asks the worker to push parked changes again (one, or all); how many
/// were marked.
pub async fn replay(
    pool: &PgPool,
    tenant: &str,
    target: &str,
    seq: Option<i64>,
) -> Result<u64, CliError> {
    Ok(links::request_replay(pool, TargetKey { tenant, target }, seq).await?)
}

/// `targets list` as aligned columns.
pub fn write_status(out: &mut impl Write, rows: &[TargetStatus]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no targets have run yet");
    }
    let header = [
        "TENANT",
        "TARGET",
        "STATE",
        "POSITION",
        "LAG",
        "PUSHED",
        "SKIPPED",
        "FAILED",
        "PARKED",
        "CIRCUIT",
        "LAST ERROR",
    ]
    .map(String::from);
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            let p = &r.progress;
            [
                r.tenant.clone(),
                r.target.clone(),
                match (p.paused, p.pause_acknowledged) {
                    (true, true) => "paused",
                    (true, false) => "pausing",
                    (false, _) => "running",
                }
                .into(),
                p.stream_seq.to_string(),
                p.lag.to_string(),
                p.pushed.to_string(),
                p.skipped.to_string(),
                p.failed.to_string(),
                p.parked.to_string(),
                p.circuit.clone(),
                p.last_error
                    .as_deref()
                    .map_or_else(|| "-".into(), |e| e.escape_debug().to_string()),
            ]
        })
        .collect();
    crate::write_columns(out, &header, &cells)
}

/// `targets show`: one field a line.
pub fn write_one(out: &mut impl Write, r: &TargetStatus) -> std::io::Result<()> {
    let p = &r.progress;
    writeln!(out, "tenant:     {}", r.tenant)?;
    writeln!(out, "target:     {}", r.target)?;
    writeln!(
        out,
        "state:      {}",
        if p.paused { "paused" } else { "running" }
    )?;
    writeln!(out, "position:   {} (lag {})", p.stream_seq, p.lag)?;
    writeln!(out, "pushed:     {}", p.pushed)?;
    writeln!(out, "skipped:    {}", p.skipped)?;
    writeln!(out, "failed:     {} (attempts)", p.failed)?;
    writeln!(out, "parked:     {}", p.parked)?;
    writeln!(out, "circuit:    {}", p.circuit)?;
    writeln!(
        out,
        "last error: {}",
        p.last_error.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "synced at:  {}",
        p.synced_at
            .as_ref()
            .map_or_else(|| "never".into(), crate::time)
    )?;
    writeln!(out, "last sync:  {}", summary(p.last_sync.as_ref()))?;
    writeln!(
        out,
        "reconciled: {}",
        p.reconciled_at
            .as_ref()
            .map_or_else(|| "never".into(), crate::time)
    )?;
    writeln!(
        out,
        "last reconcile: {}",
        summary(p.last_reconcile.as_ref())
    )
}

/// A report's summary, built from its counts ("-": none yet).
fn summary(report: Option<&impl std::fmt::Display>) -> String {
    report.map_or_else(|| "-".into(), ToString::to_string)
}

/// `targets parked` as aligned columns (the request and answer of each
/// follow on their own lines).
pub fn write_parked(out: &mut impl Write, rows: &[Parked]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "nothing parked");
    }
    for p in rows {
        writeln!(
            out,
            "seq {}  {} {}  attempts {}  {}",
            p.seq,
            p.resource_type,
            p.resource_id,
            p.attempts,
            p.reason.escape_debug()
        )?;
        if let Some(r) = &p.request {
            writeln!(out, "  request:  {}", r.escape_debug())?;
        }
        if let Some(r) = &p.response {
            writeln!(out, "  response: {}", r.escape_debug())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use scimbus_db::links::{ReconcileCounts, SyncCounts};

    use super::*;

    #[test]
    fn show_prints_the_last_sync_and_reconcile_from_their_counts() {
        let r = TargetStatus {
            tenant: "acme".into(),
            target: "crm".into(),
            progress: Progress {
                last_sync: Some(SyncCounts {
                    created: 28,
                    adopted: 1,
                    took_ms: 2000,
                    ..SyncCounts::default()
                }),
                last_reconcile: Some(ReconcileCounts {
                    missing: 2,
                    ..ReconcileCounts::default()
                }),
                ..Progress::default()
            },
        };
        let mut out = Vec::new();
        write_one(&mut out, &r).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(
                "last sync:  sync: created 28, adopted 1, updated 0, deprovisioned 0, skipped 0, failed 0, in 2.0 s\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "last reconcile: reconcile (report only): missing 2, extra 0, different 0, in 0.0 s\n"
            ),
            "{out}"
        );
        let none = TargetStatus {
            progress: Progress::default(),
            ..r
        };
        let mut out = Vec::new();
        write_one(&mut out, &none).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("last sync:  -\n"), "{out}");
        assert!(out.contains("last reconcile: -"), "{out}");
    }
}
