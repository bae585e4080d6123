-- HR webhooks: joiner / mover / leaver events from HR systems.

-- The inbox: every HR event the ingress accepted, as received (`raw`, so a
-- mapping fixed later can be run on it again) and as mapped (`user_doc`,
-- the SCIM User the event carries). A row is written before the 202 and is
-- applied by the store at `due_at`, exactly once: the store sets `status`
-- in the transaction that applies it.
create table hr_events (
    tenant        text not null references tenants (name) on delete cascade,
    -- ours (UUIDv7), in the order events were accepted
    id            uuid not null,
    source        text not null,
    -- the HR system's id of the event (or one derived from its content)
    event_id      text not null,
    employee_id   text not null,
    -- hire | update | terminate | rehire | delete (a terminated user's
    -- deletion after the source's grace period, made by the store)
    kind          text not null,
    -- when the change takes effect (null: on receipt)
    effective_at  timestamptz,
    -- when the store applies it: the effective time, or the receipt
    due_at        timestamptz not null,
    received_at   timestamptz not null,
    raw           jsonb not null,
    user_doc      jsonb not null,
    -- the manager's HR id; `manager_said` false: the event does not say
    manager_id    text,
    manager_said  boolean not null default false,
    -- for a termination: delete the user this long after it takes effect
    delete_after  interval,
    -- the id a user this event creates gets
    new_user_id   uuid not null,
    -- received | scheduled | applied | rejected | cancelled
    status        text not null,
    -- why it was rejected or cancelled, or what applying it did
    detail        text,
    -- the SCIM error of a rejection: {"status", "scimType", "detail"}
    error         jsonb,
    -- the user it applied to, and the change it made (none when nothing
    -- changed, e.g. an event older than what is in place)
    user_id       uuid,
    change_id     uuid,
    applied_at    timestamptz,
    -- when a command to apply it was last published (null: never)
    published_at  timestamptz,
    primary key (tenant, id),
    unique (tenant, source, event_id)
);
create index hr_events_pending on hr_events (due_at)
    where status in ('received', 'scheduled');
create index hr_events_employee on hr_events (tenant, employee_id, id);
create index hr_events_status on hr_events (tenant, status, id);

-- One row per person an HR source manages: the user it is, and, for each
-- attribute HR set, the effective time and acceptance order of the value
-- in place, so that an event older than it does not overwrite it.
create table hr_workers (
    tenant       text not null references tenants (name) on delete cascade,
    employee_id  text not null,
    user_id      uuid,
    -- the manager's HR id as last said (resolved when that user exists)
    manager_id   text,
    -- {"<attribute>": ["<effective time RFC 3339>", "<hr event id>"]}
    attributes   jsonb not null default '{}',
    -- attributes the identity provider (SCIM) has written on this user
    idp_set      text[] not null default '{}',
    updated_at   timestamptz not null default now(),
    primary key (tenant, employee_id)
);
create index hr_workers_user on hr_workers (tenant, user_id);
create index hr_workers_manager on hr_workers (tenant, manager_id);
