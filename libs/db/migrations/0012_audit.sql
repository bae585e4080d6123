-- The audit trail: every write, accepted or refused, with who made it, from
-- where, and what it touched (attribute paths, never values). The store
-- writes a write's entry in the transaction that applies it or records its
-- refusal, so an entry exists exactly when the write's effect (or its
-- refusal) does. `audit_log` was created empty in 0001 and never written.
alter table audit_log
    add column command_id      uuid,
    -- scim | hr | operator; `actor` is the client's id (an API token's id,
    -- `jwt:<subject>`, `config:<tenant>:<n>`, an HR source's name) and
    -- `actor_name` its name (a token's label, a JWT's subject).
    add column actor_kind      text not null default 'operator',
    add column actor_name      text not null default '',
    add column resource_type   text,
    add column attributes      text[] not null default '{}',
    -- the HTTP status the write got (201, 200, 204, or the error's)
    add column status          integer not null default 0,
    add column scim_type       text,
    add column client_address  text,
    add column request_id      text,
    add column trace_id        text;

-- The operator API pages newest first, by tenant and each filter.
create index audit_log_tenant_id on audit_log (tenant, id desc);
create index audit_log_tenant_actor on audit_log (tenant, actor, id desc);
create index audit_log_tenant_resource on audit_log (tenant, resource_id, id desc)
    where resource_id is not null;
-- Pruning finds old entries by time; entries are appended in time order, so
-- a BRIN index serves it at almost no cost per insert.
drop index audit_log_tenant_at;
create index audit_log_at on audit_log using brin (at);
