DROP TABLE task_tombstones;
--bun:split
DROP INDEX tasks_user_change_seq_idx;
--bun:split
ALTER TABLE tasks DROP COLUMN change_seq;
--bun:split
DROP TABLE users;
