-- What the last full sync (or dry run) and the last reconcile of a target
-- did, one column per count, so that the operator API, the CLI and tests
-- read numbers rather than parse the prose of `last_sync` and
-- `last_reconcile` (kept: a human summary is still written there).
--
-- A report is there when its time is: `last_sync_at` is set by every sync,
-- a dry run too (unlike `synced_at`, the time of the last real one); a
-- reconcile's time is `reconciled_at`, its counts are there once
-- `last_reconcile_applied` is set (a reconcile recorded before this
-- migration has only its prose).
alter table target_progress
    add column last_sync_at            timestamptz,
    add column last_sync_dry_run       boolean,
    add column last_sync_created       bigint,
    add column last_sync_adopted       bigint,
    add column last_sync_updated       bigint,
    add column last_sync_deprovisioned bigint,
    add column last_sync_skipped       bigint,
    add column last_sync_failures      bigint,
    -- why resources could not be pushed (the first 20 of `failures`)
    add column last_sync_failed        text[],
    add column last_sync_took_ms       bigint,
    add column last_reconcile_applied   boolean,
    add column last_reconcile_missing   bigint,
    add column last_reconcile_extra     bigint,
    add column last_reconcile_different bigint,
    add column last_reconcile_fixed     bigint,
    add column last_reconcile_failures  bigint,
    -- examples of the drift (the first 20)
    add column last_reconcile_details   text[],
    add column last_reconcile_took_ms   bigint,
    -- a reconcile that could not finish: why (its counts are then those
    -- found before it stopped, usually none)
    add column last_reconcile_error     text;
