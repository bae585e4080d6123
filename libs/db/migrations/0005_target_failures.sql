-- Requests to a target that failed (each failed attempt, whether the change
-- then got through on a retry or was parked): the "failed" of a target's
-- status, next to pushed, skipped and parked.
alter table target_progress add column failed bigint not null default 0;
