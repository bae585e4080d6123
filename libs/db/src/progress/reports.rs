//! What a target's last full sync (or dry run) and last reconcile did, as
//! numbers in their own columns (migration 0008): the operator API, the
//! CLI and tests read the counts, never parse a sentence. Their `Display`
//! is the one human summary (logs, the CLI, the old text columns).

use std::fmt;

/// What a full sync did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub dry_run: bool,
    /// Created (dry: would create or adopt).
    pub created: i64,
    /// Copies already there, linked (0 in a dry run: counted as created).
    pub adopted: i64,
    pub updated: i64,
    pub deprovisioned: i64,
    pub skipped: i64,
    /// How many resources could not be pushed.
    pub failures: i64,
    /// Why, for the first 20 of them.
    pub failed: Vec<String>,
    pub took_ms: i64,
}

/// What a reconcile found (and, applied, fixed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileCounts {
    pub applied: bool,
    pub missing: i64,
    pub extra: i64,
    pub different: i64,
    pub fixed: i64,
    pub failures: i64,
    /// Examples of the drift, the first 20.
    pub details: Vec<String>,
    pub took_ms: i64,
    /// Why the reconcile could not finish (its counts are then 0: a
    /// reconcile that stops reports nothing it found).
    pub error: Option<String>,
}

/// Milliseconds as the summary shows them.
fn seconds(ms: i64) -> String {
    // Tenths of a second, rounded, without a float: 1249 ms is "1.2",
    // 1250 ms "1.3".
    let tenths = ms.max(0).saturating_add(50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

impl fmt::Display for SyncCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            write!(f, "dry run: would create or adopt {}", self.created)?;
            write!(
                f,
                ", would update {}, would deprovision {}",
                self.updated, self.deprovisioned
            )?;
        } else {
            write!(
                f,
                "sync: created {}, adopted {}, updated {}, deprovisioned {}",
                self.created, self.adopted, self.updated, self.deprovisioned
            )?;
        }
        write!(
            f,
            ", skipped {}, failed {}, in {} s",
            self.skipped,
            self.failures,
            seconds(self.took_ms)
        )?;
        for e in &self.failed {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ReconcileCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            return write!(f, "reconcile failed: {e}");
        }
        write!(
            f,
            "{}: missing {}, extra {}, different {}",
            if self.applied {
                "reconcile (applied)"
            } else {
                "reconcile (report only)"
            },
            self.missing,
            self.extra,
            self.different
        )?;
        if self.applied {
            write!(f, ", fixed {}, failed {}", self.fixed, self.failures)?;
        }
        write!(f, ", in {} s", seconds(self.took_ms))?;
        for d in &self.details {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

/// The report columns of `target_progress` (named in `progress_columns!`),
/// as they come: a report's columns are null until one is recorded.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ReportColumns {
    last_sync_dry_run: Option<bool>,
    last_sync_created: Option<i64>,
    last_sync_adopted: Option<i64>,
    last_sync_updated: Option<i64>,
    last_sync_deprovisioned: Option<i64>,
    last_sync_skipped: Option<i64>,
    last_sync_failures: Option<i64>,
    last_sync_failed: Option<Vec<String>>,
    last_sync_took_ms: Option<i64>,
    last_reconcile_applied: Option<bool>,
    last_reconcile_missing: Option<i64>,
    last_reconcile_extra: Option<i64>,
    last_reconcile_different: Option<i64>,
    last_reconcile_fixed: Option<i64>,
    last_reconcile_failures: Option<i64>,
    last_reconcile_details: Option<Vec<String>>,
    last_reconcile_took_ms: Option<i64>,
    last_reconcile_error: Option<String>,
}

impl ReportColumns {
    /// The last sync's counts, if one was recorded (`dry_run` is set by
    /// every record; a count missing beside it reads as 0).
    pub(super) fn sync(&self) -> Option<SyncCounts> {
        let dry_run = self.last_sync_dry_run?;
        Some(SyncCounts {
            dry_run,
            created: self.last_sync_created.unwrap_or_default(),
            adopted: self.last_sync_adopted.unwrap_or_default(),
            updated: self.last_sync_updated.unwrap_or_default(),
            deprovisioned: self.last_sync_deprovisioned.unwrap_or_default(),
            skipped: self.last_sync_skipped.unwrap_or_default(),
            failures: self.last_sync_failures.unwrap_or_default(),
            failed: self.last_sync_failed.clone().unwrap_or_default(),
            took_ms: self.last_sync_took_ms.unwrap_or_default(),
        })
    }

    /// The last reconcile's counts, if one was recorded.
    pub(super) fn reconcile(&self) -> Option<ReconcileCounts> {
        let applied = self.last_reconcile_applied?;
        Some(ReconcileCounts {
            applied,
            missing: self.last_reconcile_missing.unwrap_or_default(),
            extra: self.last_reconcile_extra.unwrap_or_default(),
            different: self.last_reconcile_different.unwrap_or_default(),
            fixed: self.last_reconcile_fixed.unwrap_or_default(),
            failures: self.last_reconcile_failures.unwrap_or_default(),
            details: self.last_reconcile_details.clone().unwrap_or_default(),
            took_ms: self.last_reconcile_took_ms.unwrap_or_default(),
            error: self.last_reconcile_error.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_read_as_the_reports_did() {
        let sync = SyncCounts {
            created: 3,
            adopted: 1,
            updated: 2,
            took_ms: 1249,
            failures: 1,
            failed: vec!["User 1: no".into()],
            ..SyncCounts::default()
        };
        assert_eq!(
            sync.to_string(),
            "sync: created 3, adopted 1, updated 2, deprovisioned 0, skipped 0, failed 1, in 1.2 s\n  User 1: no"
        );
        let dry = SyncCounts {
            dry_run: true,
            updated: 5,
            ..SyncCounts::default()
        };
        assert_eq!(
            dry.to_string(),
            "dry run: would create or adopt 0, would update 5, would deprovision 0, skipped 0, failed 0, in 0.0 s"
        );
        let rec = ReconcileCounts {
            applied: true,
            missing: 1,
            fixed: 1,
            took_ms: 1250,
            ..ReconcileCounts::default()
        };
        assert_eq!(
            rec.to_string(),
            "reconcile (applied): missing 1, extra 0, different 0, fixed 1, failed 0, in 1.3 s"
        );
        let failed = ReconcileCounts {
            error: Some("listing: 500".into()),
            ..ReconcileCounts::default()
        };
        assert_eq!(failed.to_string(), "reconcile failed: listing: 500");
    }
}
