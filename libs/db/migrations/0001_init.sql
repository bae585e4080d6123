-- scimbus: the system of record.
-- Migrations are append-only once landed: change the schema with a new file.

create table tenants (
    name        text primary key,
    created_at  timestamptz not null default now()
);

-- Bearer tokens, bound to one tenant; only a SHA-256 of the token is kept.
create table api_tokens (
    id          uuid primary key,
    tenant      text not null references tenants (name) on delete cascade,
    token_hash  bytea not null unique,
    label       text not null default '',
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);

-- Users and Groups as canonical SCIM JSON (without id, meta, members and the
-- derived groups), plus the columns that filters, sorting and uniqueness use.
create table resources (
    tenant         text not null references tenants (name) on delete cascade,
    id             uuid not null,
    resource_type  text not null,
    user_name      text,
    external_id    text,
    display_name   text,
    active         boolean,
    -- lower-cased emails.value, so `emails.value eq "x"` is an index lookup
    emails         text[] not null default '{}',
    version        bigint not null,
    created        timestamptz not null,
    last_modified  timestamptz not null,
    doc            jsonb not null,
    primary key (tenant, id)
);

create unique index resources_user_name_key
    on resources (tenant, lower(user_name)) where resource_type = 'User';
create unique index resources_group_name_key
    on resources (tenant, lower(display_name)) where resource_type = 'Group';
create index resources_external_id on resources (tenant, resource_type, external_id);
create index resources_display_name on resources (tenant, resource_type, lower(display_name));
create index resources_last_modified on resources (tenant, resource_type, last_modified, id);
create index resources_active on resources (tenant, resource_type, active);
create index resources_emails on resources using gin (emails);

-- Group membership: one row per member, so a 100 000-member group changes
-- one row when one member comes or goes.
create table group_members (
    tenant       text not null,
    group_id     uuid not null,
    member_id    uuid not null,
    member_type  text not null,
    primary key (tenant, group_id, member_id),
    foreign key (tenant, group_id) references resources (tenant, id) on delete cascade
);
create index group_members_member on group_members (tenant, member_id);

-- Idempotency: every applied command, with the result it produced, recorded
-- in the transaction that applied it.
create table applied_commands (
    command_id  uuid primary key,
    tenant      text not null,
    result      bytea not null,
    applied_at  timestamptz not null default now()
);

-- The outbox: every committed change with its per-tenant sequence.
create table tenant_sequences (
    tenant    text primary key references tenants (name) on delete cascade,
    last_seq  bigint not null default 0
);

create table changes (
    tenant         text not null,
    seq            bigint not null,
    id             uuid not null unique,
    resource_type  text not null,
    resource_id    uuid not null,
    -- the encoded scimbus.v1.Change
    payload        bytea not null,
    committed_at   timestamptz not null,
    published_at   timestamptz,
    primary key (tenant, seq)
);
create index changes_unpublished on changes (tenant, seq) where published_at is null;
create index changes_resource on changes (tenant, resource_id, seq);

-- Operator-visible record of who changed what.
create table audit_log (
    id           bigint generated always as identity primary key,
    tenant       text not null,
    at           timestamptz not null default now(),
    actor        text not null,
    action       text not null,
    resource_id  uuid,
    detail       jsonb not null default '{}'
);
create index audit_log_tenant_at on audit_log (tenant, at);
