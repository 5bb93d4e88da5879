DROP FUNCTION tasks_delete(text, uuid, bigint, timestamptz);
--bun:split
DROP FUNCTION tasks_create(text, uuid, text, text, boolean, smallint, text[], timestamptz, timestamptz, timestamptz, timestamptz, bigint, uuid, bigint);
--bun:split
-- The previous version's tasks_create (20261203000001_write_function).
CREATE FUNCTION tasks_create(
    p_user_id text, p_id uuid, p_title text, p_description text, p_completed boolean,
    p_priority smallint, p_tags text[], p_due_time timestamptz, p_create_time timestamptz,
    p_update_time timestamptz, p_complete_time timestamptz, p_version bigint, p_request_id uuid
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    seq bigint;
BEGIN
    INSERT INTO users AS u (user_id, change_seq) VALUES (p_user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET change_seq = u.change_seq + 1
    RETURNING u.change_seq INTO seq;

    INSERT INTO tasks (user_id, id, title, description, completed, priority, tags, due_time,
                       create_time, update_time, complete_time, version, request_id, change_seq)
    SELECT p_user_id, p_id, p_title, p_description, p_completed, p_priority, p_tags, p_due_time,
           p_create_time, p_update_time, p_complete_time, p_version, p_request_id, seq
    WHERE NOT EXISTS (SELECT 1 FROM task_tombstones AS d WHERE d.user_id = p_user_id AND d.request_id = p_request_id)
    ON CONFLICT (user_id, request_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN seq;
END
$$;
--bun:split
ALTER TABLE users DROP COLUMN task_count;
