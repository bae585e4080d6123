-- make bench, before the services start: the bench's own bookkeeping and the
-- reference table, and the leftovers of earlier runs removed so every run
-- starts from the same 1 000 000 users.
--   psql -v tenant=bench -f prepare.sql
\set ON_ERROR_STOP on

-- What was preloaded (one row; its absence or another shape means: preload).
create table if not exists bench_preload (
    tenant     text primary key,
    users      bigint not null,
    shape      text not null,
    max_id     uuid not null,
    loaded_at  timestamptz not null default now()
);

-- The pgbench reference: the same row shape and unique lower(userName) key
-- as `resources`, without the store's other indexes and tables.
create table if not exists bench_ref_users (
    tenant         text not null,
    id             uuid not null,
    user_name      text not null,
    version        bigint not null,
    created        timestamptz not null,
    last_modified  timestamptz not null,
    doc            jsonb not null,
    primary key (tenant, id)
);
create unique index if not exists bench_ref_users_user_name
    on bench_ref_users (tenant, lower(user_name));
-- Emptied after every pgbench run; an autovacuum of the rows pgbench left
-- would otherwise eat into the phase after it.
alter table bench_ref_users set (autovacuum_enabled = off);
truncate bench_ref_users;

-- Users created by earlier runs sort after the preloaded ones (UUIDv7).
delete from group_members m using bench_preload p where m.tenant = p.tenant;
delete from resources r using bench_preload p
 where r.tenant = p.tenant and r.id > p.max_id;
-- The outbox and idempotency records of earlier runs: a store starting on a
-- fresh bus prefix would otherwise republish every old change.
truncate changes, applied_commands;
update tenant_sequences set last_seq = 0;

-- Every run starts from a vacuumed table, so that no autovacuum of an earlier
-- run's leftovers runs during this one (a few seconds when there is work).
vacuum (analyze) resources, changes, applied_commands, tenant_sequences;
