-- Sync: see the PostgreSQL migration of the same name. SQLite has one
-- writer, so writes are in commit order anyway; commits are announced in
-- the process.
CREATE TABLE users (
    user_id    TEXT    NOT NULL PRIMARY KEY,
    change_seq INTEGER NOT NULL DEFAULT 0 CHECK (change_seq >= 0),
    purged_seq INTEGER NOT NULL DEFAULT 0 CHECK (purged_seq >= 0)
) STRICT, WITHOUT ROWID;
--bun:split
ALTER TABLE tasks ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
--bun:split
UPDATE tasks SET change_seq = n.seq
FROM (SELECT user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY update_time, id) AS seq FROM tasks) AS n
WHERE tasks.user_id = n.user_id AND tasks.id = n.id;
--bun:split
INSERT INTO users (user_id, change_seq) SELECT user_id, max(change_seq) FROM tasks GROUP BY user_id;
--bun:split
CREATE UNIQUE INDEX tasks_user_change_seq_idx ON tasks (user_id, change_seq);
--bun:split
CREATE TABLE task_tombstones (
    user_id     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    change_seq  INTEGER NOT NULL CHECK (change_seq >= 1),
    request_id  TEXT,
    delete_time INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
) STRICT, WITHOUT ROWID;
--bun:split
CREATE UNIQUE INDEX task_tombstones_user_change_seq_idx ON task_tombstones (user_id, change_seq);
--bun:split
CREATE UNIQUE INDEX task_tombstones_user_request_id_idx ON task_tombstones (user_id, request_id) WHERE request_id IS NOT NULL;
--bun:split
CREATE INDEX task_tombstones_delete_time_idx ON task_tombstones (delete_time);
