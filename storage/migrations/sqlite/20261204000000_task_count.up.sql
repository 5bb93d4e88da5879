-- The quota's count: see the PostgreSQL migration of the same name. SQLite
-- does its creates and deletes as transactions (storage/tasks.go), which
-- keep the count in the same update of the user's row.
ALTER TABLE users ADD COLUMN task_count INTEGER NOT NULL DEFAULT 0;
--bun:split
UPDATE users SET task_count = c.n
FROM (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id) AS c
WHERE users.user_id = c.user_id;
