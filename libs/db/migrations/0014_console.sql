-- The operator console (served by the ingress under /admin/).

-- Signed-in browsers. The cookie holds a random session id; only its
-- SHA-256 is stored, so a read of this table lets no one in. A session is
-- worth what its admin token is worth: the token's hash is kept (never the
-- token) and checked against the configured admin tokens on every request,
-- so a token taken out of the configuration ends its sessions. `csrf` is
-- the token every form of the session carries back.
create table console_sessions (
    id_hash     bytea primary key,
    token_hash  bytea not null,
    csrf        text not null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);
create index console_sessions_expires on console_sessions (expires_at);

-- A minute-by-minute record of every target's and subscription's counters,
-- for the console's charts (lag and throughput over the last hours). Taken
-- by the outbound service from target_progress and subscription_progress;
-- a replica taking the same minute again changes nothing. `kind` is
-- 'target' or 'subscription'. `pushed`, `skipped` and `failed` are running
-- totals (a chart draws their differences; a subscription's `pushed` counts
-- deliveries); `parked` and `lag` are as they were at that minute.
create table progress_samples (
    kind     text not null,
    tenant   text not null references tenants (name) on delete cascade,
    name     text not null,
    at       timestamptz not null,
    pushed   bigint not null,
    skipped  bigint not null,
    failed   bigint not null,
    parked   bigint not null,
    lag      bigint not null,
    primary key (kind, tenant, name, at)
);
create index progress_samples_at on progress_samples using brin (at);

-- When a target last got a change through (any push that counted), so that
-- "failing" can be told from "failed once, then recovered": a target whose
-- last error is newer than its last push is failing now.
alter table target_progress add column last_pushed_at timestamptz;

-- The audit trail's filters the console offers, on a trail of millions:
-- refusals (status 400 and up) and the rare actions (everything but the
-- everyday create, replace and patch) each get a partial index, newest
-- first, that only those entries enter, so an everyday write that succeeds
-- pays for neither.
create index audit_log_tenant_failures on audit_log (tenant, id desc) where status >= 400;
create index audit_log_tenant_rare_actions on audit_log (tenant, action, id desc)
    where action not in ('create', 'replace', 'patch');
