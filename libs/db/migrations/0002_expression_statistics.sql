-- Statistics on lower(user_name). The unique index on it is partial (Users
-- only), and Postgres keeps no statistics for a partial index's expression;
-- without them a prepared `lower(user_name) = lower($1)` is costed as 0.5 %
-- of the table, the generic plan looks dearer than a custom one, and every
-- `userName eq` lookup (what IdPs send before each write) is planned anew.
-- With them the generic plan is costed right and reused.
create statistics resources_lower_user_name on (lower(user_name)) from resources;
analyze resources;
