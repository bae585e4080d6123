-- make bench: Postgres' own rate for the query the ingress runs for
-- GET /Users?filter=userName eq "bench-<n>" (same text, prepared, random n
-- over the preloaded users): the database's share of a GET, without HTTP,
-- NATS or the ingress. run.sh passes -D users=N -D tenant=T -D rt=User.
\set n random(1, :users)
select r.id, r.resource_type, r.version, r.created, r.last_modified, r.doc, (r.id) as sort_key,
       count(*) over () as total,
       (select coalesce(json_agg(json_build_array(g.id, g.display_name) order by g.id), '[]')
          from group_members m join resources g on g.tenant = m.tenant and g.id = m.group_id
         where m.tenant = r.tenant and m.member_id = r.id) as rel
from resources r
where r.tenant = :tenant and r.resource_type = :rt
  and ((r.resource_type = 'User' and (lower(r.user_name) = lower('bench-' || :n::text))))
order by (r.id) asc nulls last, r.id asc limit 100;
