-- make bench: fills the bench database with :users users of tenant :'tenant',
-- written exactly as the store writes a created user (libs/db/src/resources.rs
-- `insert`, `Columns::of`; the doc is the canonical SCIM JSON without id/meta).
--   psql -v users=1000000 -v tenant=bench -v shape=<md5 of this file> -f preload.sql
-- Ids are UUIDv7 with timestamps from 2024-01-01 on (one ms per user), so
-- every user the bench creates later sorts after them and cleanup is a
-- primary-key range delete. Secondary indexes are dropped and rebuilt around
-- the insert (their definitions come from the catalog, so migrations stay the
-- only source of truth); bulk index builds are several times faster.
\set ON_ERROR_STOP on
set maintenance_work_mem = '256MB';
set synchronous_commit = off;

begin;
insert into tenants (name) values (:'tenant') on conflict do nothing;
delete from bench_preload;
-- The bench database is the bench's own: nothing else lives in it.
truncate resources, group_members, changes, applied_commands;

create temp table bench_indexes on commit drop as
select c.relname as name, pg_get_indexdef(i.indexrelid) as def
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
 where i.indrelid = 'resources'::regclass
   and not exists (select from pg_constraint k where k.conindid = i.indexrelid);

do $$
declare r record;
begin
  for r in select name from bench_indexes loop
    execute format('drop index %I', r.name);
  end loop;
end $$;

insert into resources (tenant, id, resource_type, user_name, external_id, display_name,
                       active, emails, version, created, last_modified, doc)
select :'tenant', u.id, 'User', u.user_name, u.external_id, u.display_name,
       true, array[lower(u.work_email), lower(u.home_email)], 1, u.at, u.at,
       jsonb_build_object(
         'schemas', jsonb_build_array(
             'urn:ietf:params:scim:schemas:core:2.0:User',
             'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'),
         'userName', u.user_name,
         'externalId', u.external_id,
         'name', jsonb_build_object(
             'formatted', 'Ms. ' || u.given || ' J ' || u.family || ' III',
             'familyName', u.family,
             'givenName', u.given,
             'middleName', 'Jane',
             'honorificPrefix', 'Ms.',
             'honorificSuffix', 'III'),
         'displayName', u.display_name,
         'nickName', u.given,
         'profileUrl', 'https://login.example.com/' || u.user_name,
         'title', 'Tour Guide',
         'userType', 'Employee',
         'preferredLanguage', 'en-US',
         'locale', 'en-US',
         'timezone', 'America/Los_Angeles',
         'active', true,
         'emails', jsonb_build_array(
             jsonb_build_object('value', u.work_email, 'type', 'work', 'primary', true),
             jsonb_build_object('value', u.home_email, 'type', 'home')),
         'phoneNumbers', jsonb_build_array(
             jsonb_build_object('value', '555-555-' || lpad((u.n % 10000)::text, 4, '0'), 'type', 'work'),
             jsonb_build_object('value', '555-444-' || lpad((u.n % 10000)::text, 4, '0'), 'type', 'mobile')),
         'addresses', jsonb_build_array(jsonb_build_object(
             'type', 'work',
             'streetAddress', (100 + u.n % 900) || ' Universal City Plaza',
             'locality', 'Hollywood',
             'region', 'CA',
             'postalCode', '91608',
             'country', 'USA',
             'formatted', (100 + u.n % 900) || E' Universal City Plaza\nHollywood, CA 91608 USA',
             'primary', true)),
         'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object(
             'employeeNumber', u.n::text,
             'costCenter', (4000 + u.n % 100)::text,
             'organization', 'Universal Studios',
             'division', 'Theme Park',
             'department', 'Tour Operations',
             'manager', jsonb_build_object('value', '26118915-6090-4610-87e4-49d8ca9f808d')))
  from (
    select n,
           (lpad(to_hex(1704067200000 + n), 12, '0') || '7' || lpad(to_hex(n % 4096), 3, '0')
             || '8' || lpad(to_hex(n), 15, '0'))::uuid as id,
           'bench-' || n as user_name,
           'ext-' || n as external_id,
           g.given, g.family,
           g.given || ' ' || g.family as display_name,
           'bench-' || n || '@example.com' as work_email,
           'Bench-' || n || '@Home.example.org' as home_email,
           to_timestamp((1704067200000 + n) / 1000.0) as at
      from generate_series(1, :users::bigint) as n,
      lateral (select (array['Barbara','James','Maria','Wei','Aisha','Lars','Priya','Tomás'])[1 + n % 8] as given,
                      (array['Jensen','Smith','García','Chen','Okafor','Berg','Patel','Novák'])[1 + (n / 8) % 8] as family) g
  ) u;

do $$
declare r record;
begin
  for r in select def from bench_indexes loop
    execute r.def;
  end loop;
end $$;

insert into bench_preload (tenant, users, shape, max_id)
select :'tenant', :users::bigint, :'shape', id
  from resources where tenant = :'tenant' order by id desc limit 1;
commit;

-- As a table that has lived a while: hint bits set, visibility map filled,
-- statistics current; and the load's dirty pages written out.
vacuum (analyze) resources;
checkpoint;
