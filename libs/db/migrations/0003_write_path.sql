-- Which changes JetStream has not acknowledged yet: a small row written with
-- the change and deleted once it is published. It replaces
-- changes.published_at, whose update rewrote the whole change row (payload
-- included) and, being in a partial index's predicate, every index entry of
-- it — the largest share of the store's WAL per write. `changes` is now
-- written once and never updated.
create table unpublished_changes (
    tenant        text not null,
    seq           bigint not null,
    committed_at  timestamptz not null,
    primary key (tenant, seq)
);
insert into unpublished_changes (tenant, seq, committed_at)
    select tenant, seq, committed_at from changes where published_at is null;
drop index changes_unpublished;
alter table changes drop column published_at;

-- lz4 instead of pglz for the values large enough to be compressed: several
-- times cheaper in CPU for about the same size on JSON.
alter table resources alter column doc set compression lz4;
alter table changes alter column payload set compression lz4;
alter table applied_commands alter column result set compression lz4;

-- No pending list on the emails index: with it, every few thousand writes
-- one of them merges the list into the index and waits hundreds of
-- milliseconds (the p99 of writes); without it each write pays a little.
alter index resources_emails set (fastupdate = off);
