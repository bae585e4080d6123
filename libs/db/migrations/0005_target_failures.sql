-- Failed attempts at a target's changes (each one, whether the change then
-- got through on a retry or was parked: the target's errors and timeouts,
-- and ours, such as a mapping that fails): the "failed" of a target's
-- status, next to pushed, skipped and parked.
alter table target_progress add column failed bigint not null default 0;
