-- Whether the target's worker has seen its pause: set by the worker once
-- nothing of the target is in flight any more and its position is written
-- (from then on it pushes nothing until resumed); cleared by every pause
-- and resume. `paused` alone says what an operator asked for, not when it
-- took effect.
alter table target_progress add column pause_acknowledged boolean not null default false;
