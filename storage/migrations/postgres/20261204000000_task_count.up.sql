-- Issue 14: a quota of tasks per user (storage.Config.MaxTasksPerUser),
-- checked against a count kept in the user's row rather than a count(*)
-- per create. Every create and delete already updates that row (the next
-- number of its change sequence) before it touches the task, and holds the
-- row's lock until it commits: the same update keeps task_count, so the
-- count costs no statement of its own, and one user's creates pass the
-- check "below the limit" one after the other.
--
-- The ALTER locks users until the migration commits, after the writes in
-- flight have finished: the count below sees every task, and no write
-- slips in between.
ALTER TABLE users ADD COLUMN task_count bigint NOT NULL DEFAULT 0;
--bun:split
UPDATE users AS u SET task_count = c.n
FROM (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id) AS c
WHERE u.user_id = c.user_id;
--bun:split

-- tasks_create as before, and the count: the user's row takes a number and
-- a place for the task only while the user has fewer than p_max_tasks (0:
-- no limit). At the limit it changes nothing and returns NULL, as for a
-- repeated request id: the store then looks in a transaction of its own
-- for the task the request id made, and answers the quota otherwise
-- (storage/tasks.go: createLocked). A create that stores nothing gives its
-- place back (a rare second update: the common case is one).
--
-- p_max_tasks has a default so that a replica of the previous version,
-- still calling with thirteen arguments during a rolling deploy, keeps
-- creating (counted, with no limit) until it is replaced. Its deletions (a
-- statement, not a function) do not lower the count, nor do creates of its
-- that began before this migration committed (they waited for the ALTER's
-- lock and run the old function): counts can be off by those writes of the
-- deploy, and running the UPDATE above again makes them exact.
DROP FUNCTION tasks_create(text, uuid, text, text, boolean, smallint, text[], timestamptz, timestamptz, timestamptz, timestamptz, bigint, uuid);
--bun:split
CREATE FUNCTION tasks_create(
    p_user_id text, p_id uuid, p_title text, p_description text, p_completed boolean,
    p_priority smallint, p_tags text[], p_due_time timestamptz, p_create_time timestamptz,
    p_update_time timestamptz, p_complete_time timestamptz, p_version bigint, p_request_id uuid,
    p_max_tasks bigint DEFAULT 0
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    seq bigint;
BEGIN
    INSERT INTO users AS u (user_id, change_seq, task_count) VALUES (p_user_id, 1, 1)
    ON CONFLICT (user_id) DO UPDATE SET change_seq = u.change_seq + 1, task_count = u.task_count + 1
        WHERE p_max_tasks <= 0 OR u.task_count < p_max_tasks
    RETURNING u.change_seq INTO seq;
    IF NOT FOUND THEN
        RETURN NULL; -- at the limit (the row is locked all the same)
    END IF;

    INSERT INTO tasks (user_id, id, title, description, completed, priority, tags, due_time,
                       create_time, update_time, complete_time, version, request_id, change_seq)
    SELECT p_user_id, p_id, p_title, p_description, p_completed, p_priority, p_tags, p_due_time,
           p_create_time, p_update_time, p_complete_time, p_version, p_request_id, seq
    WHERE NOT EXISTS (SELECT 1 FROM task_tombstones AS d WHERE d.user_id = p_user_id AND d.request_id = p_request_id)
    ON CONFLICT (user_id, request_id) DO NOTHING;
    IF NOT FOUND THEN
        UPDATE users SET task_count = task_count - 1 WHERE user_id = p_user_id;
        RETURN NULL;
    END IF;
    RETURN seq;
END
$$;
--bun:split

-- DeleteTask in one call, for the count: the task with p_id (while its
-- version is p_version, when that is not 0) goes, the user's row takes the
-- next number and gives the task's place back, and a tombstone remembers
-- the deletion; it returns the number, or NULL when it deleted nothing.
-- A function, like tasks_create, so that the delete sees what committed
-- while the update waited for the user's row: were they one statement, a
-- delete racing another write of the task could lower the count and delete
-- nothing. Should that write have changed the task in between, the number
-- stays unused and the place is taken again.
CREATE FUNCTION tasks_delete(p_user_id text, p_id uuid, p_version bigint, p_delete_time timestamptz)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    seq bigint;
    rid uuid;
BEGIN
    UPDATE users AS u SET change_seq = u.change_seq + 1, task_count = u.task_count - 1
    WHERE u.user_id = p_user_id
      AND EXISTS (SELECT 1 FROM tasks AS c WHERE c.user_id = p_user_id AND c.id = p_id AND (p_version = 0 OR c.version = p_version))
    RETURNING u.change_seq INTO seq;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    DELETE FROM tasks AS t WHERE t.user_id = p_user_id AND t.id = p_id AND (p_version = 0 OR t.version = p_version)
    RETURNING t.request_id INTO rid;
    IF NOT FOUND THEN
        UPDATE users SET task_count = task_count + 1 WHERE user_id = p_user_id;
        RETURN NULL;
    END IF;

    INSERT INTO task_tombstones (user_id, id, change_seq, request_id, delete_time)
    VALUES (p_user_id, p_id, seq, rid, p_delete_time);
    RETURN seq;
END
$$;
