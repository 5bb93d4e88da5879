-- Sync: every write to a user's tasks takes the next number of that user's
-- change sequence, in commit order (the write updates the user's row here,
-- which holds that row's lock until it commits, so one user's writes commit
-- one after the other). purged_seq is the newest change whose deletion has
-- been forgotten: a cursor older than it has expired.
CREATE TABLE users (
    user_id    text   PRIMARY KEY,
    change_seq bigint NOT NULL DEFAULT 0 CHECK (change_seq >= 0),
    purged_seq bigint NOT NULL DEFAULT 0 CHECK (purged_seq >= 0)
);
--bun:split

-- The number of each task's latest change. Existing tasks are numbered in
-- the order they last changed.
ALTER TABLE tasks ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
--bun:split
UPDATE tasks AS t SET change_seq = n.seq
FROM (SELECT user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY update_time, id) AS seq FROM tasks) AS n
WHERE t.user_id = n.user_id AND t.id = n.id;
--bun:split
INSERT INTO users (user_id, change_seq) SELECT user_id, max(change_seq) FROM tasks GROUP BY user_id;
--bun:split
ALTER TABLE tasks ALTER COLUMN change_seq DROP DEFAULT;
--bun:split
ALTER TABLE tasks ADD CONSTRAINT tasks_change_seq_check CHECK (change_seq >= 1);
--bun:split
CREATE UNIQUE INDEX tasks_user_change_seq_idx ON tasks (user_id, change_seq);
--bun:split

-- A deleted task, remembered for the change retention so that sync clients
-- learn of the deletion and a create repeating its request id is NotFound.
CREATE TABLE task_tombstones (
    user_id     text        NOT NULL,
    id          uuid        NOT NULL,
    change_seq  bigint      NOT NULL CHECK (change_seq >= 1),
    request_id  uuid,
    delete_time timestamptz NOT NULL,
    PRIMARY KEY (user_id, id)
);
--bun:split
CREATE UNIQUE INDEX task_tombstones_user_change_seq_idx ON task_tombstones (user_id, change_seq);
--bun:split
CREATE UNIQUE INDEX task_tombstones_user_request_id_idx ON task_tombstones (user_id, request_id) WHERE request_id IS NOT NULL;
--bun:split
CREATE INDEX task_tombstones_delete_time_idx ON task_tombstones (delete_time);
