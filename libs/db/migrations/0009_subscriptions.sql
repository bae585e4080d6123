-- Change notifications: applications subscribe to a tenant's changes and
-- the notifier (in the outbound service) delivers them by webhook, to the
-- public events stream on NATS, or into a queue the application polls.

-- Subscriptions made through the operator API (those of the configuration
-- file are not stored here). `spec` is the subscription as written, without
-- its secrets; `secrets` are the webhook secrets (`whsec_…`) or references
-- to them (`env:`/`file:`), newest first. Neither is ever shown back.
create table subscriptions (
    tenant      text not null references tenants (name) on delete cascade,
    name        text not null,
    spec        jsonb not null,
    secrets     text[] not null default '{}',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (tenant, name)
);

-- How far each subscription's driver has come, its counters, and what
-- operators asked of it. A new subscription has no position yet
-- (`stream_seq` null): its driver starts with the changes published from
-- `started_at` on.
create table subscription_progress (
    tenant        text not null references tenants (name) on delete cascade,
    name          text not null,
    -- the change stream's sequence below which everything is handled
    stream_seq    bigint,
    -- the tenant's change sequence handled at `stream_seq` (0: none yet):
    -- the next one expected, so that a gap is seen and healed
    change_seq    bigint not null default 0,
    started_at    timestamptz not null default now(),
    delivered     bigint not null default 0,
    -- events that did not match what the subscription asked for
    skipped       bigint not null default 0,
    -- failed attempts (each one: a retry that then got through counts too)
    failed        bigint not null default 0,
    lag           bigint not null default 0,
    last_error    text,
    last_error_at timestamptz,
    last_success_at timestamptz,
    paused        boolean not null default false,
    pause_acknowledged boolean not null default false,
    -- set by the driver when the receiver answered 410 Gone (or the
    -- subscription cannot work); cleared by a resume
    disabled_reason text,
    disabled_at   timestamptz,
    -- an operator asked for the events from this change sequence, or from
    -- this time, to be delivered again
    replay_from_seq bigint,
    replay_since  timestamptz,
    updated_at    timestamptz not null default now(),
    primary key (tenant, name)
);

-- Events a subscription gave up on (a permanent refusal, or transient
-- failures past the retry budget). While a resource has one, its later
-- events park behind it, so a replay delivers them in order.
create table subscription_parked (
    tenant        text not null references tenants (name) on delete cascade,
    name          text not null,
    change_seq    bigint not null,
    resource_type text not null,
    resource_id   uuid not null,
    -- the encoded scimbus.v1.Change
    payload       bytea not null,
    reason        text not null,
    -- the receiver's status and the start of its answer (bounded)
    response      text,
    attempts      integer not null,
    parked_at     timestamptz not null default now(),
    replay_requested boolean not null default false,
    primary key (tenant, name, change_seq)
);
create index subscription_parked_resource
    on subscription_parked (tenant, name, resource_id, change_seq);

-- When a resource entered or left a subscription's filter, as the events
-- delivered said (one row per transition, at the resource version that
-- made it): a resource that stops matching gets one last event. Kept as a
-- history, so that a replayed change is judged as of its own version, not
-- as of today.
create table subscription_scope (
    tenant       text not null references tenants (name) on delete cascade,
    name         text not null,
    resource_id  uuid not null,
    version      bigint not null,
    inside       boolean not null,
    primary key (tenant, name, resource_id, version)
);

-- Events waiting for a polling application (RFC 8936), until it
-- acknowledges them by `jti`.
create table subscription_polled (
    tenant      text not null references tenants (name) on delete cascade,
    name        text not null,
    jti         text not null,
    change_seq  bigint not null,
    -- the signed Security Event Token
    token       text not null,
    queued_at   timestamptz not null default now(),
    primary key (tenant, name, jti)
);
create index subscription_polled_order on subscription_polled (tenant, name, change_seq);
