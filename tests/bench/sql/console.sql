-- make bench-console: what an operator console of a big deployment sees, in
-- the bench database beside its :users preloaded users of tenant :'tenant':
-- :targets targets (app-01 …) that have run, each holding links to the
-- first :linked users, every fourth one failing with 100 parked changes of
-- the first users (request and response ~1 KB each), an hour of
-- minute-by-minute samples of each. Done once (but for the samples, which
-- are of the last hour); a later run with the same numbers reuses it.
--   psql -v tenant=bench -v targets=20 -v linked=100000 -f console.sql
\set ON_ERROR_STOP on
set synchronous_commit = off;
set maintenance_work_mem = '256MB';
create table if not exists bench_console (
    tenant text primary key, targets int not null, linked int not null, at timestamptz not null
);
select not exists (
    select from bench_console where tenant = :'tenant' and targets = :targets and linked = :linked
) as seed \gset
\if :seed
begin;
delete from target_links where tenant = :'tenant' and target like 'app-%';
delete from parked_changes where tenant = :'tenant' and target like 'app-%';
delete from target_progress where tenant = :'tenant' and target like 'app-%';
insert into target_progress (tenant, target, stream_seq, pushed, skipped, failed, lag,
                             last_pushed_at, last_error, last_error_at)
select :'tenant', 'app-' || lpad(t::text, 2, '0'), 1000000, 1000000 + t * 1000, t * 10, t * 3,
       case when t % 5 = 0 then 1200 else 0 end, now() - interval '2 minutes',
       case when t % 4 = 0 then 'POST /Users: the target answered 503: the application is down' end,
       case when t % 4 = 0 then now() - interval '1 minute' end
  from generate_series(1, :targets) t;
insert into target_links (tenant, target, resource_id, resource_type, remote_id, version, in_scope, updated_at)
select :'tenant', 'app-' || lpad(t::text, 2, '0'), u.id, 'User', 'remote-' || u.id, 1, true, now()
  from (select id from resources where tenant = :'tenant' and resource_type = 'User'
         order by id limit :linked) u,
       generate_series(1, :targets) t;
insert into parked_changes (tenant, target, seq, resource_type, resource_id, payload, reason,
                            request, response, attempts)
select :'tenant', 'app-' || lpad(t::text, 2, '0'), 2000000 + u.n, 'User', u.id, ''::bytea,
       'POST /Users: the target answered 503: the application is down (gave up after 4 attempts)',
       'POST /Users' || E'\n' || repeat('{"userName": "bench"} ', 40),
       '503 Service Unavailable' || E'\n' || repeat('{"detail": "down"} ', 40), 4
  from (select id, row_number() over (order by id) as n from resources
         where tenant = :'tenant' and resource_type = 'User' order by id limit 100) u,
       generate_series(4, :targets, 4) t;
insert into bench_console values (:'tenant', :targets, :linked, now())
    on conflict (tenant) do update set targets = excluded.targets, linked = excluded.linked, at = excluded.at;
commit;
analyze target_links;
analyze parked_changes;
\endif
-- The last hour's samples, anew each run (they are of the hour before now).
delete from progress_samples where tenant = :'tenant' and name like 'app-%';
insert into progress_samples (kind, tenant, name, at, pushed, skipped, failed, parked, lag)
select 'target', :'tenant', 'app-' || lpad(t::text, 2, '0'),
       date_trunc('minute', now()) - make_interval(mins => m),
       1000000 + t * 1000 - m * (10 + t), t * 10, t * 3 - (m / 20), case when t % 4 = 0 then 100 else 0 end,
       (m * 7 + t) % 50
  from generate_series(1, :targets) t, generate_series(1, 60) m;
