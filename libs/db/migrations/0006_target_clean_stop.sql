-- Whether the worker that drove a target last stopped cleanly (everything
-- it pushed is in target_links). A worker that takes a target over sets it
-- to false before it pushes anything; only a clean shutdown sets it back.
-- After an unclean stop (a crash), the links in Postgres may be behind what
-- the target got, so the changes seen again are answered with the current
-- state, never with an older version than the target may have. Targets that
-- were driven before this column existed are treated as stopped uncleanly once.
alter table target_progress add column clean_stop boolean not null default false;
