-- As on PostgreSQL (see its migration of the same name): UPDATE_TIME_DESC,
-- PRIORITY_DESC and TITLE_ASC sort one user's rows on the fly.
DROP INDEX tasks_user_update_time_idx;
--bun:split
DROP INDEX tasks_user_priority_idx;
--bun:split
DROP INDEX tasks_user_title_idx;
