-- Outbound: what each target holds of ours. A replay or a duplicate change
-- compares its version with `version` and does nothing twice.
create table target_links (
    tenant         text not null references tenants (name) on delete cascade,
    target         text not null,
    resource_id    uuid not null,
    resource_type  text not null,
    -- the target's id of the resource
    remote_id      text not null,
    -- the version last pushed
    version        bigint not null,
    -- whether the resource was in the target's scope when last pushed
    in_scope       boolean not null,
    updated_at     timestamptz not null default now(),
    primary key (tenant, target, resource_id)
);

-- Changes a target worker gave up on (a permanent error, or transient ones
-- past the attempt limit), with the request, the answer and why. While a
-- resource has one here, its later changes for that target park behind it,
-- so a replay applies them in order.
create table parked_changes (
    tenant         text not null references tenants (name) on delete cascade,
    target         text not null,
    seq            bigint not null,
    resource_type  text not null,
    resource_id    uuid not null,
    -- the encoded scimbus.v1.Change
    payload        bytea not null,
    reason         text not null,
    request        text,
    response       text,
    attempts       integer not null,
    parked_at      timestamptz not null default now(),
    -- an operator asked for it (and the resource's later parked changes) to
    -- be pushed again
    replay_requested boolean not null default false,
    primary key (tenant, target, seq)
);
create index parked_changes_resource on parked_changes (tenant, target, resource_id, seq);

-- How far each target's worker has come in the change stream (the stream
-- sequence of the last change it handled: pushed, skipped or parked), and
-- what operators look at. The worker that takes a target over starts after
-- `stream_seq`, so nothing is skipped and little is seen twice (a change
-- seen twice is skipped by its version).
create table target_progress (
    tenant      text not null references tenants (name) on delete cascade,
    target      text not null,
    stream_seq  bigint not null default 0,
    pushed      bigint not null default 0,
    skipped     bigint not null default 0,
    parked      bigint not null default 0,
    -- changes after the position when the worker last moved it
    lag         bigint not null default 0,
    circuit     text not null default 'closed',
    last_error  text,
    last_error_at timestamptz,
    paused      boolean not null default false,
    -- when the current state was last pushed whole (null: never; a new
    -- target is synced before it follows the stream)
    synced_at   timestamptz,
    -- an operator asked for a full sync (dry: only report what it would do)
    sync_requested boolean not null default false,
    sync_dry_run   boolean not null default false,
    -- what the last full sync (or dry run) did
    last_sync   text,
    -- an operator asked to compare the target with the tenant (and, with
    -- apply, to correct what differs)
    reconcile_requested boolean not null default false,
    reconcile_apply     boolean not null default false,
    reconciled_at       timestamptz,
    last_reconcile      text,
    updated_at  timestamptz not null default now(),
    primary key (tenant, target)
);
